/**
 * armor-alerts: the alert source. Tails the manager's alerts.json (src/source/tail.ts) and parses
 * alerts arriving on its input (src/source/lines.ts): one message per alert, msg.payload = the
 * alert, msg.topic = rule.id. With `start: resume` the read position is kept in the
 * Node-RED user directory (src/source/checkpoint.ts) and survives restarts.
 */
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { MAX_DEPTH, MAX_LINE_BYTES, parseAlertPayload, valueDeeperThan } from '../src/source/lines';
import { CHECKPOINT_SAFE_AFTER_MS, CheckpointStore, checkpointFile } from '../src/source/checkpoint';
import { TailReader, type StartMode, type TailWarning } from '../src/source/tail';
import type { Alert } from '../src/types';
import { migrateNode, versioned } from './lib/migrate';
import { brief, joinStatus, setStatus, statusTicker, type Done, type Send } from './lib/node-kit';
import { migrations } from './migrations/armor-alerts';

interface AlertsDef extends NodeDef {
  version?: number;
  path?: string;
  start?: StartMode;
  maxLineBytes?: number | string;
  pollMs?: number | string;
}

/** How often the file is looked at, in ms, when pollMs is not set. */
const DEFAULT_POLL_MS = 250;
/** Read size: four times the reader's default, so that reading a backlog costs a quarter of the reads. */
const READ_BYTES = 256 * 1024;
/** At most this many warnings a minute reach the log; the rest are counted in the status. */
const WARNINGS_PER_MINUTE = 20;

function positiveInt(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function alertMessage(alert: Alert, base?: NodeMessage): NodeMessage {
  const topic = typeof alert.rule?.id === 'string' ? alert.rule.id : String(alert.rule?.id ?? '');
  return base === undefined ? { payload: alert, topic } : { ...base, payload: alert, topic };
}

export = (RED: NodeAPI) => {
  function ArmorAlertsNode(this: Node, given: AlertsDef) {
    RED.nodes.createNode(this, given);
    const node = this;
    const def = migrateNode(RED, node, given, migrations);
    const maxLineBytes = positiveInt(def.maxLineBytes, MAX_LINE_BYTES);
    const file = (def.path ?? '').trim();
    const start: StartMode = def.start === 'end' || def.start === 'beginning' ? def.start : 'resume';
    let sent = 0;
    let skipped = 0;
    let state: 'waiting' | 'reading' | 'error' | 'input' = file ? 'waiting' : 'input';
    let stateText = '';
    let warnedThisMinute = 0;
    let minute = 0;

    const render = () => {
      const counts = joinStatus(
        RED._('armor-alerts.status.alerts', { count: sent }),
        skipped ? RED._('armor-alerts.status.skipped', { count: skipped }) : '',
      );
      if (state === 'input') setStatus(node, 'grey', 'dot', counts);
      else if (state === 'reading') setStatus(node, 'green', 'dot', joinStatus(brief(path.basename(file)), counts));
      else setStatus(node, state === 'error' ? 'red' : 'yellow', 'ring', joinStatus(stateText, counts));
    };
    const ticker = statusTicker(render, 500);
    render();

    /** Logs a warning unless too many came this minute (they stay counted in the status). */
    const warn = (text: string) => {
      const now = Math.floor(Date.now() / 60000);
      if (now !== minute) [minute, warnedThisMinute] = [now, 0];
      if (++warnedThisMinute <= WARNINGS_PER_MINUTE) node.warn(text);
      else if (warnedThisMinute === WARNINGS_PER_MINUTE + 1) node.warn(RED._('armor-alerts.warnings.flood', { max: WARNINGS_PER_MINUTE }));
    };

    // ---- the file
    let reader: TailReader | undefined;
    let saveTimer: NodeJS.Timeout | undefined;
    const checkpoints = new CheckpointStore(checkpointFile(RED.settings.userDir, node.id));
    const save = (now: number) => {
      try {
        checkpoints.save(now, reader?.checkpoint());
      } catch (e) {
        warn(RED._('armor-alerts.warnings.checkpoint', { reason: (e as Error).message }));
      }
    };
    if (file) {
      reader = new TailReader({
        path: file,
        start,
        checkpoint: start === 'resume' ? checkpoints.load() : undefined,
        maxLineBytes,
        pollMs: positiveInt(def.pollMs, DEFAULT_POLL_MS),
        chunkBytes: READ_BYTES,
        onAlert(alert, info) {
          sent++;
          checkpoints.handedOut(Date.now(), info.offset, info.checkpoint);
          node.send(alertMessage(alert));
          ticker.poke();
        },
        onWarning(w: TailWarning) {
          if (w.code !== 'resume-reset') skipped++;
          warn(w.message);
          ticker.poke();
        },
        onStatus(s) {
          state = s.state;
          stateText = s.state === 'waiting' ? RED._('armor-alerts.status.waiting') : brief(s.message);
          if (s.state === 'error') node.error(s.message);
          render();
        },
      });
      reader.start();
      if (start === 'resume') saveTimer = setInterval(() => save(Date.now()), CHECKPOINT_SAFE_AFTER_MS / 4);
    }

    // ---- the input: alerts from any upstream (MQTT, UDP, HTTP in, ...)
    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const { alerts, errors } = parseAlertPayload(msg.payload, maxLineBytes);
      for (const alert of alerts) send(alertMessage(alert, msg));
      sent += alerts.length;
      skipped += errors.length;
      ticker.poke();
      if (errors.length === 0) {
        done();
        return;
      }
      const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : '';
      // Node-RED clones the message for each Catch node: a payload object too deep to clone stays here
      const p = msg.payload;
      if (typeof p === 'object' && p !== null && !(p instanceof Uint8Array) && valueDeeperThan(p, MAX_DEPTH)) delete msg.payload;
      done(new Error(RED._('armor-alerts.errors.input', { count: errors.length, first: errors[0] + more })));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      ticker.stop();
      clearInterval(saveTimer);
      const closing = reader ? reader.close() : Promise.resolve();
      closing.then(
        () => {
          if (start === 'resume') save(Date.now());
          done();
        },
        () => done(),
      );
    });
  }

  RED.nodes.registerType('armor-alerts', ArmorAlertsNode, {
    settings: {
      ...versioned(RED, 'armor-alerts', migrations),
      // an empty field means these (the editor shows them as placeholders)
      armorAlertsDefaults: { value: { maxLineBytes: MAX_LINE_BYTES, pollMs: DEFAULT_POLL_MS }, exportable: true },
    },
  });
};

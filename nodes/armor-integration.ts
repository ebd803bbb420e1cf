/**
 * armor-integration: the manager's <integration> filters as a Node-RED node. One output per
 * integration; an alert goes to every output whose filters pass (SEMANTICS 3). Decisions
 * live in src/config.ts (what a config means) and src/filter.ts (which alerts pass).
 */
import fs from 'node:fs';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { locateIntegrations, parseIntegrations, type BlockSpan } from '../src/config/parse';
import { ConfigFileError, parseConfigFile } from '../src/config/file';
import { compileFilter, compileRouter, type AlertRouter } from '../src/filter';
import { ENV_REFERENCE, unsetEnvReference } from '../src/config/env';
import { isAlert } from '../src/source/lines';
import { rowsToXml, type IntegrationRow } from '../src/config/form';
import type { Integration, IntegrationInfo, ParseResult } from '../src/types';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_S } from './lib/delivery-node';
import { integrationEditorApi } from './lib/editor-api';
import { migrateNode, versioned } from './lib/migrate';
import { brief, setStatus, statusTicker, type Done, type Send } from './lib/node-kit';
import { migrations } from './migrations/armor-integration';

interface IntegrationNodeDef extends NodeDef {
  version?: number;
  mode?: 'form' | 'xml' | 'file';
  rules?: IntegrationRow[];
  xml?: string;
  file?: string;
  outputs?: number;
}

/** A config in force, compiled once: per message, routing allocates nothing but the copies for extra outputs. */
interface Active {
  integrations: Integration[];
  route: AlertRouter;
  infos: IntegrationInfo[];
  /** Positions of the integrations an alert goes to (router.into writes them). */
  hits: Int32Array;
  /** The send() argument, reused: null but for the outputs of the current message. */
  out: Array<NodeMessage | null>;
}

function infoOf(i: Integration): IntegrationInfo {
  return Object.freeze({
    index: i.index,
    name: i.name,
    options: i.options,
    maxLog: i.maxLog,
    timeout: i.timeout,
    retries: i.retries,
    alertFormat: i.alertFormat,
  });
}

/** The config text of a form or XML node definition, and where it comes from (for messages). */
function configText(def: IntegrationNodeDef): { text: string; origin: string } {
  if (def.mode === 'xml') return { text: def.xml ?? '', origin: 'XML' };
  return { text: rowsToXml(def.rules ?? []), origin: 'form' };
}

/**
 * The parsed config a node definition stands for; a file is read asynchronously (src/config-file).
 * For pasted XML, also where each block and secret is in the text (the editor edits it there).
 */
function parsedConfig(def: IntegrationNodeDef): Promise<ParseResult & { blocks?: BlockSpan[] }> {
  if (def.mode === 'file') return parseConfigFile(def.file);
  try {
    return Promise.resolve(def.mode === 'xml' ? locateIntegrations(def.xml ?? '') : parseIntegrations(configText(def).text));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function summary(result: ParseResult): string {
  return result.errors.map((e) => e.message).join('; ');
}

export = (RED: NodeAPI) => {
  function ArmorIntegrationNode(this: Node, given: IntegrationNodeDef) {
    RED.nodes.createNode(this, given);
    const node = this;
    const def = migrateNode(RED, node, given, migrations);
    const outputs = Math.max(0, Number(def.outputs) || 0);
    let active: Active | null = null;
    let received = 0;
    let routed = 0;
    let warnedNotAlert = false;

    const render = () => {
      if (!active) return;
      setStatus(node, 'green', 'dot', RED._('armor-integration.status.active', { count: active.integrations.length, received, routed }));
    };
    const ticker = statusTicker(render);

    let closed = false;
    /** Bumped by each read of the file: only the latest read's outcome is applied. */
    let reading = 0;

    /** Reads the config file (never blocking: src/config-file) and applies it, or keeps the one in force and says why. */
    async function loadFile(): Promise<void> {
      const mine = ++reading;
      let result: ParseResult;
      try {
        result = await parseConfigFile(def.file);
      } catch (e) {
        if (mine === reading && !closed) refused(e);
        return;
      }
      if (mine === reading && !closed) apply(result, def.file ?? '');
    }

    /** A config that could not be read: the one in force stays; the status says why. */
    function refused(e: unknown): void {
      const known = e instanceof ConfigFileError;
      const reason = known ? e.reason : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
      node.error(RED._('armor-integration.errors.file', { file: def.file ?? '', reason }));
      setStatus(node, 'red', 'ring', RED._('armor-integration.status.file', { reason: brief(known ? e.brief : reason) }));
    }

    /** Applies a parsed config, or keeps the one in force and says why. */
    function apply(result: ParseResult, origin: string): void {
      for (const w of result.warnings) node.warn(RED._('armor-integration.warnings.config', { origin, message: w.message }));
      for (const i of result.integrations) {
        for (const [tag, value] of [
          ['hook_url', i.hookUrl],
          ['api_key', i.apiKey],
        ] as const) {
          if (value !== undefined && unsetEnvReference(value) === undefined) {
            node.warn(RED._('armor-integration.warnings.secret', { block: i.index + 1, name: i.name, tag }));
          }
        }
      }
      let problem = result.errors.length > 0 ? summary(result) : undefined;
      if (!problem && result.integrations.length !== outputs) {
        problem = RED._('armor-integration.errors.outputs', { count: result.integrations.length, outputs });
      }
      if (problem) {
        node.error(RED._('armor-integration.errors.config', { origin, problem }));
        setStatus(node, 'red', 'ring', active ? RED._('armor-integration.status.kept') : RED._('armor-integration.status.invalid'));
        return;
      }
      active = {
        integrations: result.integrations,
        route: compileRouter(result.integrations),
        infos: result.integrations.map(infoOf),
        hits: new Int32Array(outputs),
        out: new Array<NodeMessage | null>(outputs).fill(null),
      };
      render();
    }

    // Messages that arrive while the file is first read wait for it (in order), as they would
    // have waited for a synchronous read.
    let firstRead: Promise<void> | null = null;
    if (def.mode === 'file') {
      firstRead = loadFile().finally(() => {
        firstRead = null;
      });
    } else {
      let config: { text: string; origin: string } | undefined;
      try {
        config = configText(def);
      } catch (e) {
        refused(e);
      }
      if (config) apply(parseIntegrations(config.text), config.origin);
    }
    const watched = def.mode === 'file' && def.file ? def.file : undefined;
    const onFileChange = (cur: fs.Stats, prev: fs.Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino || cur.mode !== prev.mode) void loadFile();
    };
    if (watched) fs.watchFile(watched, { interval: 1000, persistent: false }, onFileChange);

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      if (firstRead) {
        firstRead.then(() => route(msg, send, done)).catch((e: Error) => done(e));
        return;
      }
      route(msg, send, done);
    });

    function route(msg: NodeMessageInFlow, send: Send, done: Done): void {
      const config = active;
      if (!config) {
        done(new Error(RED._('armor-integration.errors.noConfig')));
        return;
      }
      received++;
      const alert = msg.payload;
      if (!isAlert(alert)) {
        if (!warnedNotAlert) {
          warnedNotAlert = true;
          node.warn(RED._('armor-integration.errors.notAlert'));
        }
        ticker.poke();
        done();
        return;
      }
      // The first output gets msg itself; Node-RED deep-clones every later one (a message sent
      // twice must not be shared), so each later output gets its own shallow copy to clone.
      const { route, hits, out, infos } = config;
      const count = route.into(alert, hits);
      for (let j = 0; j < count; j++) {
        const k = hits[j];
        if (j > 0) out[k] = { ...msg, integration: infos[k] };
        else {
          (msg as NodeMessage & { integration?: IntegrationInfo }).integration = infos[k];
          out[k] = msg;
        }
      }
      routed += count;
      ticker.poke();
      if (count > 0) {
        // send() reads the array before it delivers anything and keeps no reference to it
        try {
          send(out);
        } finally {
          out.fill(null);
        }
      }
      done();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      ticker.stop();
      if (watched) fs.unwatchFile(watched, onFileChange);
      done();
    });
  }

  RED.nodes.registerType('armor-integration', ArmorIntegrationNode, {
    settings: {
      ...versioned(RED, 'armor-integration', migrations),
      // what an integration without <timeout> / <retries> gets (the form's placeholders)
      armorIntegrationDefaults: { value: { timeout: DEFAULT_TIMEOUT_S, retries: DEFAULT_RETRIES }, exportable: true },
      // the `${NAME}` references the editor leaves in place when it moves secrets
      armorIntegrationEnvReference: { value: ENV_REFERENCE.source, exportable: true },
    },
  });

  // The editor validates with this same library, so it shows the runtime's own messages; for
  // pasted XML (mode 'xml') the answer also says where its blocks and their secrets are
  // (`blocks`: offsets, names, no values), so that the editor never reads XML itself.
  RED.httpAdmin.post('/armor-integration/check', RED.auth.needsPermission('armor-integration.write'), (req, res) => {
    const body = (req.body ?? {}) as IntegrationNodeDef & { alert?: unknown };
    parsedConfig(body)
      .then(
        (result) => {
          const verdicts = body.alert === undefined ? undefined : result.integrations.map((i) => compileFilter(i).explain(body.alert));
          // secrets stay out of the answer: the editor only needs to know one was given
          const integrations = result.integrations.map(({ hookUrl, apiKey, ...rest }) => ({
            ...rest,
            hasHookUrl: hookUrl !== undefined,
            hasApiKey: apiKey !== undefined,
          }));
          res.json({ integrations, errors: result.errors, warnings: result.warnings, verdicts, blocks: result.blocks });
        },
        (e: Error) => res.json({ integrations: [], errors: [{ block: -1, message: e.message }], warnings: [] }),
      )
      .catch((e: Error) => {
        if (!res.headersSent) res.status(500).json({ error: e.message });
      });
  });
  integrationEditorApi(RED); // import, sample alerts
};

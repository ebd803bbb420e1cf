/**
 * The behaviour armor-slack and armor-pagerduty share: take a message, queue it durably at
 * the config node's endpoint (src/delivery/endpoint.ts), and report each outcome: output 1 =
 * delivered (msg.delivery), output 2 = failed (msg.error, also to Catch nodes). `done()` is
 * called once the message is safely in the outbox (or refused), so thousands of waiting alerts
 * hold no message objects in memory; later failures reach Catch through node.error(err, msg).
 * A shared endpoint (on Redis) accepts asynchronously: `done()` (or the refusal) then waits
 * until Redis holds the parcel; the local endpoint's synchronous path is unchanged.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { DedupWindow, defaultDedupKey } from '../../src/delivery/dedup';
import type { FailInfo } from '../../src/delivery/queue';
import type { DeliveryService } from '../../src/delivery/service';
import { isAlert } from '../../src/source/lines';
import type { IntegrationInfo } from '../../src/types';
import type { DiskProblem, Outcome, Parcel, Refusal } from '../../src/delivery/endpoint';
import type { EndpointConfigNode } from './endpoint-config';
import { brief, fail, joinStatus, setStatus, statusTicker, type Done, type Send } from './node-kit';

export type Msg = NodeMessageInFlow & {
  integration?: IntegrationInfo;
  slack?: unknown;
  event_action?: unknown;
  dedup_key?: unknown;
};

export interface DeliverySpec {
  service: DeliveryService;
  /** The selected config node, if any. */
  config(): EndpointConfigNode | null;
  /** A reason the message cannot be sent, checked first. */
  check?(msg: Msg): string | undefined;
  /** Whether the message is complete without an alert in msg.payload (msg.slack, resolve...). */
  custom(msg: Msg): boolean;
  /** How this node wants its messages rendered (kept in the outbox with each alert). */
  render?: { layout?: string };
  /** Hold back repeats of a key within this many seconds (0: off). */
  dedupWindowS?: number;
}

/** Per-attempt timeout and retries of an integration that sets none (the editor shows them as placeholders). */
export const DEFAULT_TIMEOUT_S = 10;
export const DEFAULT_RETRIES = 3;

/** Per-attempt timeout in seconds: the integration's `timeout`; 0 or absent = 10 s. */
function timeoutOf(msg: Msg): number {
  const t = Number(msg.integration?.timeout);
  return Number.isFinite(t) && t > 0 ? Math.min(t, 3600) : DEFAULT_TIMEOUT_S;
}

function retriesOf(msg: Msg): number {
  const r = Number(msg.integration?.retries);
  return Number.isInteger(r) && r >= 0 ? r : DEFAULT_RETRIES;
}

/**
 * A status-sized reason for a failure (the full one is in msg.error and reaches Catch): the
 * service's name for it (`<type>.reason.*` of the node's catalogue), forbidden / rate limited,
 * else the failure's own words (the sender's, secrets masked).
 */
export function shortReason(
  RED: NodeAPI,
  type: string,
  service: DeliveryService,
  info: { status?: number; error?: string; kind: string },
): string {
  const named = service.reason?.(info);
  if (named) return RED._(`${type}.reason.${named}`);
  if (info.status === 403) return RED._('armor-delivery.reason.forbidden');
  if (info.status === 429) return RED._('armor-delivery.reason.rateLimited');
  return brief(info.error ?? info.kind);
}

/** The message a parcel stands for, as the flow sees it again after queueing. */
function messageOf(parcel: Parcel): NodeMessage & Record<string, unknown> {
  const out: NodeMessage & Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parcel.msg)) if (v !== undefined) out[k] = v;
  return out;
}

export function deliveryNode(RED: NodeAPI, node: Node, spec: DeliverySpec): void {
  const service = spec.service.label;
  // failed: queued, then not delivered; refused: never queued
  const counts = { queued: 0, sent: 0, failed: 0, refused: 0, held: 0 };
  let lastFailure = '';
  const dedup = spec.dedupWindowS && spec.dedupWindowS > 0 ? new DedupWindow(spec.dedupWindowS * 1000) : undefined;

  /** The counters as the status shows them: `sent 3 · waiting 2 · failed 1 · held 4` (zeros left out but sent). */
  const text = () => {
    const waiting = counts.queued - counts.sent - counts.failed;
    const failed = counts.failed + counts.refused;
    return joinStatus(
      RED._('armor-delivery.status.sent', { count: counts.sent }),
      waiting > 0 ? RED._('armor-delivery.status.waiting', { count: waiting }) : '',
      failed ? RED._('armor-delivery.status.failed', { count: failed }) : '',
      counts.held ? RED._('armor-delivery.status.held', { count: counts.held }) : '',
    );
  };
  /** The disk's problem as the status says it ("disk full", "disk error (EIO)"), from the catalogue. */
  const diskText = (disk: DiskProblem) =>
    disk.full ? RED._('armor-delivery.status.diskFull') : RED._('armor-delivery.status.diskError', { code: disk.code });
  let diskShort = '';
  const render = () => {
    if (diskShort) setStatus(node, 'red', 'ring', joinStatus(diskShort, text()));
    else if (lastFailure) setStatus(node, 'red', 'ring', joinStatus(lastFailure, text()));
    else if (counts.queued > counts.sent + counts.failed) setStatus(node, 'blue', 'ring', text());
    else setStatus(node, 'green', 'dot', text());
  };
  const ticker = statusTicker(render, 500);

  const config = spec.config();
  const runtime = config?.runtime;
  /** Text about the endpoint, its secrets masked (failures from the endpoint come masked already). */
  const clean = (t: string) => (runtime ? runtime.clean(t) : t);
  const onDelivered = (parcel: Parcel, outcome: Outcome) => {
    counts.sent++;
    lastFailure = '';
    const msg = messageOf(parcel);
    msg.delivery = {
      service: spec.service.id,
      status: outcome.status,
      attempts: outcome.attempts,
      ...(outcome.batch > 1 ? { digest: outcome.batch } : {}),
    };
    node.send([msg, null]);
    ticker.poke();
  };
  const onFailed = (parcel: Parcel, info: FailInfo) => {
    counts.failed++;
    lastFailure = shortReason(RED, node.type, spec.service, info);
    const msg = messageOf(parcel);
    const error = new Error(`${service}: ${info.error}`);
    msg.error = {
      message: error.message,
      service: spec.service.id,
      kind: info.kind,
      status: info.status,
      answer: info.answer,
      attempts: info.attempts,
    };
    node.send([null, msg]);
    node.error(error, msg);
    render();
  };
  const onDisk = (disk: DiskProblem | undefined) => {
    if (!disk && lastFailure === diskShort) lastFailure = '';
    diskShort = disk ? diskText(disk) : '';
    render();
  };
  runtime?.on(`delivered:${node.id}`, onDelivered);
  runtime?.on(`failed:${node.id}`, onFailed);
  runtime?.on('disk', onDisk);
  const diskError = runtime && 'diskError' in runtime ? runtime.diskError : undefined;
  if (diskError) {
    diskShort = diskText(diskError);
    render();
  }

  /** Queues one parcel; returns why not, if it could not be. */
  const accept = (msg: Msg, render: Parcel['render']): Refusal | undefined | Promise<Refusal | undefined> =>
    runtime!.accept({
      node: node.id,
      retries: retriesOf(msg),
      queuedAt: Date.now(),
      timeout: timeoutOf(msg),
      render,
      msg: {
        _msgid: msg._msgid,
        topic: msg.topic,
        payload: msg.payload,
        integration: msg.integration,
        slack: msg.slack,
        event_action: msg.event_action,
        dedup_key: msg.dedup_key,
      },
    });

  // windows that ended with repeats held back get a summary message
  const sweeper = dedup
    ? setInterval(() => {
        for (const held of dedup.sweep(Date.now())) {
          const settle = (refusal: Refusal | undefined) => {
            if (refusal)
              node.error(clean(RED._('armor-delivery.errors.summary', { service, count: held.similar, reason: refusal.reason })));
            else counts.queued++;
          };
          const result = accept(
            { payload: held.last, _msgid: '' },
            { ...spec.render, similar: held.similar, since: held.since, summary: true },
          );
          if (result instanceof Promise) void result.then(settle, (e: Error) => settle({ reason: e.message }));
          else settle(result);
        }
      }, 1000)
    : undefined;
  sweeper?.unref?.();

  node.on('input', (msg: Msg, send: Send, done: Done) => {
    const refuse = (reason: string, short: string) => {
      counts.refused++;
      lastFailure = clean(short);
      fail(node, msg, send, done, new Error(clean(`${service}: ${reason}`)), joinStatus(lastFailure, text()), {
        index: 1,
        outputs: 2,
        detail: { service: spec.service.id, kind: 'refused', attempts: 0 },
      });
    };
    if (!config) return refuse(RED._('armor-delivery.errors.noConfig'), RED._('armor-delivery.status.notConfigured'));
    const target = config.endpoint();
    if ('problem' in target) return refuse(target.problem, brief(target.problem));
    if (!runtime) return refuse(RED._('armor-delivery.errors.noOutbox'), RED._('armor-delivery.status.noOutbox'));
    if (!spec.custom(msg) && !isAlert(msg.payload))
      return refuse(RED._('armor-delivery.errors.notAlert'), RED._('armor-delivery.status.notAlert'));
    const problem = spec.check?.(msg);
    if (problem) return refuse(problem, RED._('armor-delivery.status.badMessage'));

    let note: Parcel['render'] = spec.render;
    if (dedup && isAlert(msg.payload)) {
      const key = typeof msg.dedup_key === 'string' ? msg.dedup_key : defaultDedupKey(msg.payload);
      const admitted = dedup.admit(key, msg.payload, Date.now());
      if (!admitted) {
        counts.held++;
        ticker.poke();
        done();
        return;
      }
      if (admitted.similar > 0) note = { ...spec.render, similar: admitted.similar, since: admitted.since };
    }
    const refusal = accept(msg, note);
    if (refusal instanceof Promise) {
      // the shared outbox: done() once Redis holds the parcel, or the refusal
      void refusal.then(
        (r) => {
          if (r) return refuse(r.reason, r.full ? RED._('armor-delivery.status.outboxFull') : RED._('armor-delivery.status.notQueued'));
          counts.queued++;
          ticker.poke();
          done();
        },
        (e: Error) => refuse(e.message, RED._('armor-delivery.status.notQueued')),
      );
      return;
    }
    if (refusal) {
      const { reason, disk, full } = refusal;
      return refuse(
        reason,
        disk ? diskText(disk) : full ? RED._('armor-delivery.status.outboxFull') : RED._('armor-delivery.status.notQueued'),
      );
    }
    counts.queued++;
    ticker.poke();
    done();
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    ticker.stop();
    if (sweeper) clearInterval(sweeper);
    runtime?.off(`delivered:${node.id}`, onDelivered);
    runtime?.off(`failed:${node.id}`, onFailed);
    runtime?.off('disk', onDisk);
    done();
  });
}

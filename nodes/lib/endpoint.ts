/**
 * One delivery endpoint (a Slack webhook or a PagerDuty routing key) as a config node runs it:
 * the outbox on disk (src/outbox.ts), the queue (src/delivery-queue.ts) and the sender
 * (src/http-sender.ts). Delivery nodes hand it parcels and listen for outcomes; it
 * outlives them across partial redeploys, and what it has not delivered when it stops stays
 * in the outbox for the next start (SIGKILL included).
 */
import { EventEmitter } from 'node:events';
import { DeliveryQueue, type FailInfo, type Job, type QueuePolicy } from '../../src/delivery-queue';
import { postJson, type SendResult, type Service } from '../../src/http-sender';
import { Outbox, type OutboxLimits } from '../../src/outbox';
import type { IntegrationInfo } from '../../src/types';

/** What a delivery node's message becomes in the outbox: enough to rebuild the request, never a secret. */
export interface Parcel {
  /** The delivery node that accepted it. */
  node: string;
  retries: number;
  queuedAt: number;
  /** Seconds per attempt. */
  timeout: number;
  /** Slack layout, dedup note... : how the node wants it rendered. */
  render?: { layout?: string; similar?: number; since?: number; summary?: boolean };
  msg: {
    _msgid?: string;
    topic?: unknown;
    payload: unknown;
    integration?: IntegrationInfo;
    slack?: unknown;
    event_action?: unknown;
    dedup_key?: unknown;
  };
}

export interface Target {
  url: string;
  /** PagerDuty's routing key; for Slack the URL is the secret. */
  routingKey?: string;
}

export interface Outcome {
  status?: number;
  attempts: number;
  /** How many alerts the post carried (more than 1: a digest). */
  batch: number;
}

export interface EndpointOptions {
  service: Service;
  dir: string;
  policy: QueuePolicy;
  limits: Partial<OutboxLimits>;
  target(): Target | { problem: string };
  /** The body of one alert's message. */
  build(parcel: Parcel, secret: string): unknown;
  /** The body of a digest of several (only when the policy digests). */
  digest?(parcels: Parcel[]): unknown;
  log: { info?(text: string): void; warn(text: string): void; error(text: string): void };
}

/**
 * Events: `delivered` (parcel, Outcome) and `failed` (parcel, FailInfo), each once per parcel.
 * A parcel whose node is gone is reported through `log`.
 */
export class Endpoint extends EventEmitter {
  readonly queue: DeliveryQueue;
  private readonly outbox: Outbox<Parcel>;
  /**
   * The parcel of the one-alert post in flight (there is one post at a time), by seq, read once
   * from the outbox. Dropped as soon as the post's outcome is applied (the queue's `settled`):
   * a job that waits for a retry keeps nothing in memory (its parcel is read again for the
   * next attempt). A digest keeps none (see send).
   */
  private readonly inFlight = new Map<number, Parcel>();
  private closed = false;
  private recovering?: NodeJS.Timeout;
  /** Until recovery has walked the whole outbox, it queues new entries too (once, in order). */
  private recovered = false;

  constructor(private readonly opts: EndpointOptions) {
    super();
    const target = opts.target();
    const secrets = 'problem' in target ? [] : [target.url, ...(target.routingKey ? [target.routingKey] : [])];
    this.outbox = Outbox.open<Parcel>(opts.dir, { ...opts.limits, forbid: secrets });
    if (this.outbox.unreadable > 0) opts.log.warn(`outbox: ${this.outbox.unreadable} unreadable journal line(s) skipped`);
    this.queue = new DeliveryQueue(opts.policy, (jobs, signal) => this.send(jobs, signal), {
      delivered: (jobs, result) => this.settle(jobs, (p, j) => this.report('delivered', p, outcome(j, result, jobs.length))),
      failed: (job, info) => this.settle([job], (p) => this.report('failed', p, info)),
      settled: () => this.inFlight.clear(),
      changed: () => this.emit('changed'),
    });
    // Recovered alerts go first, once the flow's nodes had a chance to subscribe.
    this.recovering = setTimeout(() => this.recover(0), 50);
  }

  /** Queues a message; returns why it cannot be queued (outbox full, a secret in it), or undefined. */
  accept(parcel: Parcel): string | undefined {
    if (this.closed) return 'the endpoint is closing';
    let entry;
    try {
      entry = this.outbox.add(parcel);
    } catch (e) {
      return (e as Error).message;
    }
    if ('full' in entry) return entry.reason;
    if (this.recovered) this.queue.push({ id: entry.seq, retries: parcel.retries, queuedAt: parcel.queuedAt, attempts: 0, notBefore: 0 });
    return undefined;
  }

  get pending(): number {
    return this.outbox.size.entries;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.recovering);
    this.queue.close();
    this.outbox.close();
    this.removeAllListeners();
  }

  /** Pushes what the outbox held at start, in order, a batch at a time. */
  private recover(afterSeq: number): void {
    if (this.closed) return;
    const batch = this.outbox.next(1000, afterSeq);
    for (const e of batch) {
      this.queue.push({ id: e.seq, retries: e.data.retries, queuedAt: e.data.queuedAt, attempts: 0, notBefore: 0 });
    }
    if (batch.length === 1000) this.recovering = setTimeout(() => this.recover(batch[batch.length - 1].seq), 0);
    else this.recovered = true;
  }

  private async send(jobs: readonly Job[], signal: AbortSignal): Promise<SendResult> {
    const target = this.opts.target();
    if ('problem' in target) return { kind: 'permanent', error: target.problem };
    const parcels: Parcel[] = [];
    for (const parcel of this.outbox.read(jobs.map((job) => job.id))) if (parcel) parcels.push(parcel);
    if (parcels.length === 0) return { kind: 'permanent', error: 'the alerts are no longer in the outbox' };
    let body: unknown;
    try {
      body =
        parcels.length > 1 && this.opts.digest
          ? this.opts.digest(parcels)
          : this.opts.build(parcels[0], target.routingKey ?? target.url);
    } catch (e) {
      return { kind: 'permanent', error: `cannot build the message: ${(e as Error).message}` };
    }
    const timeout = Math.max(...parcels.map((p) => p.timeout));
    // Only a one-alert post keeps its parcel for the report. A digest's alerts are read again,
    // in one batch, if its outcome is reported: they die young instead of living through the
    // post (a digest a second with a dead webhook would otherwise push thousands of parsed
    // alerts into the old heap each time).
    if (jobs.length === 1) this.inFlight.set(jobs[0].id, parcels[0]);
    return postJson(this.opts.service, target.url, body, { timeoutMs: timeout * 1000, signal });
  }

  private settle(jobs: readonly Job[], each: (parcel: Parcel, job: Job) => void): void {
    if (this.closed) return;
    const seqs = jobs.map((j) => j.id);
    const missing = seqs.filter((seq) => !this.inFlight.has(seq));
    const fromDisk = new Map<number, Parcel | undefined>();
    if (missing.length > 0) this.outbox.read(missing).forEach((parcel, k) => fromDisk.set(missing[k], parcel));
    for (const job of jobs) {
      const parcel = this.inFlight.get(job.id) ?? fromDisk.get(job.id);
      this.inFlight.delete(job.id);
      if (parcel) each(parcel, job);
    }
    this.outbox.done(seqs);
  }

  private report(event: 'delivered' | 'failed', parcel: Parcel, detail: Outcome | FailInfo): void {
    if (this.listeners(`${event}:${parcel.node}`).length > 0) {
      this.emit(`${event}:${parcel.node}`, parcel, detail);
      return;
    }
    // the node that accepted it is gone (deleted, or not deployed any more): the log is its only report
    const alert = describeAlert(parcel.msg.payload);
    if (event === 'failed') this.opts.log.error(`an alert queued by a node that no longer exists was not delivered${alert}: ${(detail as FailInfo).error}`);
    else this.opts.log.info?.(`an alert queued by a node that no longer exists was delivered${alert} (HTTP ${(detail as Outcome).status}, attempts ${detail.attempts})`);
  }
}

/** ` (alert <id>, rule <rule.id>)` for a log line, from what the parcel holds; empty when it holds no alert id. */
function describeAlert(payload: unknown): string {
  const p = payload as { id?: unknown; rule?: { id?: unknown } } | null;
  if (!p || typeof p !== 'object' || (typeof p.id !== 'string' && typeof p.id !== 'number')) return '';
  const rule = p.rule && (typeof p.rule.id === 'string' || typeof p.rule.id === 'number') ? `, rule ${p.rule.id}` : '';
  return ` (alert ${String(p.id).slice(0, 40)}${rule.slice(0, 40)})`;
}

function outcome(job: Job, result: SendResult, batch: number): Outcome {
  return { status: result.status, attempts: job.attempts, batch };
}

/**
 * One delivery endpoint (a Slack webhook or a PagerDuty routing key) as a config node runs it:
 * the outbox on disk (./outbox.ts), the queue (./queue.ts) and the sender
 * (./sender.ts). Delivery nodes hand it parcels and listen for outcomes; it
 * outlives them across partial redeploys, and what it has not delivered when it stops stays
 * in the outbox for the next start (SIGKILL included).
 *
 * A disk that cannot be written (full, read-only, failing) never takes the runtime down: an
 * alert that cannot be journaled is refused (the node sends it to its failed output), done
 * marks wait in memory (./outbox.ts), an outbox that cannot be opened is opened later, and
 * the journal is tried again every `journalRetryMs` until a write succeeds; delivery of what
 * was accepted goes on meanwhile. `diskError` says what is wrong; `disk` events say when it changes.
 */
import { EventEmitter } from 'node:events';
import { DeliveryQueue, type FailInfo, type Job, type QueuePolicy } from './queue';
import { postJson, type SendResult } from './sender';
import { buildPost, type DeliveryService, type Target, type TargetProblem } from './service';
import { Outbox, OutboxDiskError, type OutboxLimits } from './outbox';
import { endpointSecrets, redact } from '../secrets';
import type { IntegrationInfo } from '../types';

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

export interface Outcome {
  status?: number;
  attempts: number;
  /** How many alerts the post carried (more than 1: a digest). */
  batch: number;
}

export interface EndpointOptions {
  /** The service's description: default policy (adjusted in `policy`), how to build its messages and read its answers. */
  service: DeliveryService;
  dir: string;
  policy: QueuePolicy;
  limits: Partial<OutboxLimits>;
  target(): Target | TargetProblem;
  log: { info?(text: string): void; warn(text: string): void; error(text: string): void };
  /** While the disk cannot be written: how often to try the journal again (default 2 s). */
  journalRetryMs?: number;
}

/** Why a message was not queued; `disk` is set when it is the disk (then `disk.full` for ENOSPC/EDQUOT). */
export interface Refusal {
  reason: string;
  disk?: DiskProblem;
  /** Set when the outbox holds its limit (entries or bytes). */
  full?: true;
}

export interface DiskProblem {
  /** The errno name: ENOSPC, EDQUOT, EIO, EROFS, ... */
  code: string;
  /** ENOSPC or EDQUOT. */
  full: boolean;
  message: string;
}

const JOURNAL_RETRY_MS = 2000;
/** A disk problem is logged at most this often (its status shows every change). */
const DISK_LOG_EVERY_MS = 60_000;

/**
 * Events: `delivered` (parcel, Outcome) and `failed` (parcel, FailInfo), each once per parcel;
 * `disk` (DiskProblem | undefined) when the disk starts or stops failing. A parcel whose node
 * is gone is reported through `log`.
 */
export class Endpoint extends EventEmitter {
  readonly queue: DeliveryQueue;
  /** Undefined while it cannot be opened (a disk error; tried again every journalRetryMs). */
  private outbox: Outbox<Parcel> | undefined;
  private openError: OutboxDiskError | undefined;
  /** What the outbox refuses to store (the target's secrets as configured). */
  private readonly forbid: string[];
  /** What `disk` last said (its code), to tell changes. */
  private diskShown: string | undefined;
  /** When the disk's problem was last logged, and whether its end is still to be logged (a nearly full disk can flap). */
  private diskLoggedAt = -Infinity;
  private diskLogged = false;
  private retrying?: NodeJS.Timeout;
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
  /** What of the target must not show in any text this endpoint emits (see src/secrets.ts). */
  private readonly secrets: readonly string[];

  constructor(private readonly opts: EndpointOptions) {
    super();
    const target = opts.target();
    this.setMaxListeners(0); // every delivery node on the config node listens for `disk`
    this.forbid = 'problem' in target ? [] : [target.url, ...(target.routingKey ? [target.routingKey] : [])];
    this.secrets = 'problem' in target ? [] : endpointSecrets(target.url, target.routingKey);
    this.queue = new DeliveryQueue(opts.policy, (jobs, signal) => this.send(jobs, signal), {
      delivered: (jobs, result) => this.settle(jobs, (p, j) => this.report('delivered', p, outcome(j, result, jobs.length))),
      failed: (job, info) => this.settle([job], (p) => this.report('failed', p, info)),
      settled: () => this.inFlight.clear(),
      changed: () => this.emit('changed'),
    });
    // a disk error is waited out; anything else (a journal of another version...) is the caller's
    if (this.openOutbox()) {
      // Recovered alerts go first, once the flow's nodes had a chance to subscribe.
      this.recovering = setTimeout(() => this.recover(0), 50);
    }
    this.checkDisk();
  }

  /** What keeps the journal from being written, while it lasts. */
  get diskError(): DiskProblem | undefined {
    const e = this.outbox ? this.outbox.writeError : this.openError;
    return e && { code: e.code, full: e.full, message: e.message };
  }

  /** Queues a message; returns why it cannot be queued (outbox full, disk error, a secret in it), or undefined. */
  accept(parcel: Parcel): Refusal | undefined {
    if (this.closed) return { reason: 'the endpoint is closing' };
    if (!this.outbox) return this.diskRefusal();
    let entry;
    try {
      entry = this.outbox.add(parcel);
    } catch (e) {
      if (!(e instanceof OutboxDiskError)) return { reason: (e as Error).message };
      this.checkDisk();
      return this.diskRefusal();
    }
    this.checkDisk();
    if ('full' in entry) return { reason: entry.reason, full: true };
    if (this.recovered) this.queue.push({ id: entry.seq, retries: parcel.retries, queuedAt: parcel.queuedAt, attempts: 0, notBefore: 0 });
    return undefined;
  }

  /** `text` with every secret of the target masked: for anything shown about this endpoint. */
  clean(text: string): string {
    return redact(text, this.secrets);
  }

  get pending(): number {
    return this.outbox?.size.entries ?? 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.recovering);
    clearTimeout(this.retrying);
    this.queue.close();
    this.outbox?.close();
    this.removeAllListeners();
  }

  private diskRefusal(): Refusal {
    const disk = this.diskError;
    return { reason: `cannot ${this.outbox ? 'write the outbox journal' : 'open the outbox'}: ${disk?.message ?? 'unknown error'}`, disk };
  }

  /** Opens the outbox; false on a disk error (kept in openError), other errors are thrown. */
  private openOutbox(): boolean {
    try {
      this.outbox = Outbox.open<Parcel>(this.opts.dir, { ...this.opts.limits, forbid: this.forbid });
    } catch (e) {
      if (!(e instanceof OutboxDiskError)) throw e;
      this.openError = e;
      return false;
    }
    this.openError = undefined;
    if (this.outbox.unreadable > 0) this.logWarn(`outbox: ${this.outbox.unreadable} unreadable journal line(s) skipped`);
    return true;
  }

  /** Reports a change of the disk's state (log, `disk` event) and keeps the retry timer running while it fails. */
  private checkDisk(): void {
    if (this.closed) return;
    const disk = this.diskError;
    if (disk?.code !== this.diskShown) {
      this.diskShown = disk?.code;
      if (disk && Date.now() - this.diskLoggedAt >= DISK_LOG_EVERY_MS) {
        const every = Math.round((this.opts.journalRetryMs ?? JOURNAL_RETRY_MS) / 100) / 10;
        this.logError(
          `outbox: ${this.outbox ? 'cannot write the journal' : 'cannot open the outbox'} (${disk.message}); ` +
            `new alerts are refused and delivery goes on, trying again every ${every} s`,
        );
        this.diskLoggedAt = Date.now();
        this.diskLogged = true;
      } else if (!disk && this.diskLogged) {
        this.logWarn('outbox: the journal can be written again');
        this.diskLogged = false;
      }
      this.emit('disk', disk);
      this.emit('changed');
    }
    if (disk && !this.retrying) {
      this.retrying = setTimeout(() => {
        this.retrying = undefined;
        this.retryJournal();
      }, this.opts.journalRetryMs ?? JOURNAL_RETRY_MS);
      this.retrying.unref?.();
    }
  }

  /** One more try at the journal: open it, or write what it owes. */
  private retryJournal(): void {
    if (this.closed) return;
    try {
      if (!this.outbox) {
        if (this.openOutbox()) this.recover(0);
      } else this.outbox.flush();
    } catch (e) {
      this.logError(`outbox: ${(e as Error).message}`);
    }
    this.checkDisk();
  }

  /** Pushes what the outbox held at start, in order, a batch at a time. */
  private recover(afterSeq: number): void {
    if (this.closed || !this.outbox) return;
    let batch;
    try {
      batch = this.outbox.next(1000, afterSeq);
    } catch (e) {
      // a read error: try again a little later, from where it stopped
      this.logError(`outbox: cannot read the journal: ${(e as Error).message}`);
      this.recovering = setTimeout(() => this.recover(afterSeq), this.opts.journalRetryMs ?? JOURNAL_RETRY_MS);
      return;
    }
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
    // a read error rejects: the queue retries it as a transient error
    for (const parcel of this.outbox!.read(jobs.map((job) => job.id))) if (parcel) parcels.push(parcel);
    if (parcels.length === 0) return { kind: 'permanent', error: 'the alerts are no longer in the outbox' };
    const post = buildPost(this.opts.service, parcels, target);
    if ('error' in post) return { kind: 'permanent', error: post.error };
    // Only a one-alert post keeps its parcel for the report. A digest's alerts are read again,
    // in one batch, if its outcome is reported: they die young instead of living through the
    // post (a digest a second with a dead webhook would otherwise push thousands of parsed
    // alerts into the old heap each time).
    if (jobs.length === 1) this.inFlight.set(jobs[0].id, parcels[0]);
    return postJson(this.opts.service, target.url, post.body, { timeoutMs: post.timeoutMs, signal });
  }

  /**
   * Reports the outcome of `jobs` and marks them done. Called from the queue's promise chain, so
   * nothing may throw out of it: a disk error only delays the done record (./outbox.ts).
   */
  private settle(jobs: readonly Job[], each: (parcel: Parcel, job: Job) => void): void {
    if (this.closed || !this.outbox) return;
    const seqs = jobs.map((j) => j.id);
    const missing = seqs.filter((seq) => !this.inFlight.has(seq));
    const fromDisk = new Map<number, Parcel | undefined>();
    try {
      if (missing.length > 0) this.outbox.read(missing).forEach((parcel, k) => fromDisk.set(missing[k], parcel));
    } catch (e) {
      this.logError(`outbox: cannot read back ${missing.length} alert(s) to report their outcome: ${(e as Error).message}`);
    }
    for (const job of jobs) {
      const parcel = this.inFlight.get(job.id) ?? fromDisk.get(job.id);
      this.inFlight.delete(job.id);
      if (!parcel) continue;
      try {
        each(parcel, job);
      } catch (e) {
        this.logError(`an alert's outcome could not be reported: ${(e as Error).message}`);
      }
    }
    try {
      this.outbox.done(seqs);
    } catch (e) {
      this.logError(`outbox: ${(e as Error).message}`);
    }
    this.checkDisk();
  }

  private masked(info: FailInfo): FailInfo {
    return { ...info, error: this.clean(info.error), ...(info.answer === undefined ? {} : { answer: this.clean(info.answer) }) };
  }

  private logWarn(text: string): void {
    this.opts.log.warn(this.clean(text));
  }

  private logError(text: string): void {
    this.opts.log.error(this.clean(text));
  }

  private report(event: 'delivered' | 'failed', parcel: Parcel, detail: Outcome | FailInfo): void {
    // a failure's text may quote the service, an exception or the queue: masked once, here
    if (event === 'failed') detail = this.masked(detail as FailInfo);
    if (this.listeners(`${event}:${parcel.node}`).length > 0) {
      this.emit(`${event}:${parcel.node}`, parcel, detail);
      return;
    }
    // the node that accepted it is gone (deleted, or not deployed any more): the log is its only report
    const alert = describeAlert(parcel.msg.payload);
    if (event === 'failed')
      this.logError(`an alert queued by a node that no longer exists was not delivered${alert}: ${(detail as FailInfo).error}`);
    else
      this.opts.log.info?.(
        this.clean(
          `an alert queued by a node that no longer exists was delivered${alert} (HTTP ${(detail as Outcome).status}, attempts ${detail.attempts})`,
        ),
      );
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

/**
 * One endpoint (a Slack webhook, a PagerDuty routing key) shared by several Node-RED instances
 * through one Redis (issue 12): the counterpart of the local `Endpoint` (../endpoint.ts).
 *
 * - accept() resolves once Redis holds the parcel (the shared outbox, ./stream-outbox.ts), the
 *   parcel marked with the accepting instance's id (`instance`). It refuses as Endpoint does: a
 *   full outbox (`full`), a secret in the parcel. When Redis cannot be reached: with `spoolDir`,
 *   the parcel goes to a local journal there (the crash-safe `Outbox` of ../outbox.ts, as local
 *   delivery keeps alerts) and accept() resolves as accepted; without it, it refuses ("shared
 *   outbox unreachable: ..."). See ./spool.ts: while anything is spooled new accepts are spooled
 *   too (order), and a mover, woken when the client is ready again and every `spoolRetryMs`,
 *   moves the entries to the Stream in order (add, then local done). With `spoolDir`, accepts
 *   are applied one at a time in call order (so an add that fails cannot be overtaken by a later
 *   one that succeeds). `spooled` and the `spool` event ({ spooled, reason }) are for statuses.
 *   A crash (or an uncertain add: a deadline that ran out after the command was sent) between
 *   the Redis add and the local done duplicates that one entry: at least once, never dropped.
 * - One sender at a time: every instance contends for the endpoint's lease (./lease.ts). The
 *   holder runs a DeliveryQueue with the service's policy (pace, 429 pauses, retries, digests)
 *   fed from the Stream: on acquiring it first claims what a dead holder left in flight
 *   (pending entries idle for `claimIdleMs`, by default the lease's time to live; again every
 *   `claimEveryMs` while it holds the lease, for entries that were not idle long enough yet), then takes new entries in a loop (a blocking read of `blockMs`). At most `maxTaken`
 *   taken entries are kept in memory (the parcels of the jobs in the queue); the rest wait in
 *   Redis. A digest is built from what the holder took: the shared backlog up to `maxTaken`.
 *   When the lease is lost the queue is closed at once (a post in flight is aborted, none
 *   starts after it) and what was taken stays pending in the Stream for the next holder: at
 *   least once, a duplicate only when a post in flight reached the service before the abort.
 * - Outcomes: the sender marks entries done (XACK + XDEL) and publishes each outcome on
 *   `${endpoint}:outcomes` as `{ instance, node, event, detail, parcel }` (the parcel holds no
 *   secret: the outbox refuses any); every SharedEndpoint subscribes (on a duplicate of the
 *   client) and emits `delivered:<node>` / `failed:<node>` only for its own instance's parcels.
 *   Pub/sub is at most once: an outcome published while the accepting instance is
 *   disconnected from Redis is not reported by it (the sender's `stats` count it).
 *
 * The client: a connected node-redis client made by `redisClient` (./client.ts: no offline
 * queue, reconnects by itself); the caller closes it after close(). This class opens and
 * closes its own duplicates (blocking reads, subscription).
 *
 * Not here yet: WAIT for replicas (StreamOutbox has
 * `waitReplicas`; not exposed), the shared dedup window, the node wiring.
 */
import { EventEmitter } from 'node:events';
import { DeliveryQueue, type FailInfo, type Job, type QueuePolicy } from '../queue';
import { postJson, type SendResult } from '../sender';
import { buildPost, type DeliveryService, type Target, type TargetProblem } from '../service';
import type { Outcome, Parcel, Refusal } from '../endpoint';
import { endpointSecrets, redact } from '../../secrets';
import { Lease } from './lease';
import { leaseKey, streamKey } from './keys';
import { StreamOutbox, StreamOutboxError, type StreamClient, type StreamEntry } from './stream-outbox';
import { Spool } from './spool';

export type { SpoolEvent } from './spool';

/** A parcel in the shared outbox: the local parcel and the id of the instance that accepted it. */
export interface SharedParcel extends Parcel {
  instance: string;
}

/** What the sender publishes on `${endpoint}:outcomes`, one message per parcel. */
export interface OutcomeMessage {
  instance: string;
  node: string;
  event: 'delivered' | 'failed';
  detail: Outcome | FailInfo;
  parcel: SharedParcel;
}

export interface SharedEndpointOptions {
  service: DeliveryService;
  /** Connected; not closed by this class. */
  client: StreamClient;
  /** The endpoint's key (`endpointKey(prefix, service.id, secret)`): names its Stream, lease and channel. */
  endpoint: string;
  /** This instance's id: its consumer name, its lease holder id, the `instance` of what it accepts. Unique per instance. */
  instance: string;
  policy: QueuePolicy;
  limits: { maxEntries: number; maxBytes?: number };
  target(): Target | TargetProblem;
  log: { info?(text: string): void; warn(text: string): void; error(text: string): void };
  /** The sender lease: time to live (default 5000 ms) and renewal period (default ttl / 3). */
  lease?: { ttlMs?: number; renewEveryMs?: number };
  /**
   * Pending entries idle this long are claimed (default: the lease's time to live, 5 s by
   * default: by the time this instance acquired the lease, a holder silent that long is gone).
   */
  claimIdleMs?: number;
  /** How often the holder claims again (default 1000 ms). */
  claimEveryMs?: number;
  /** Blocking read of new entries (default 250 ms). */
  blockMs?: number;
  /** Most taken entries kept in memory for the queue (default max(100, min(digestMax, 5000))). */
  maxTaken?: number;
  /** Deadline of each Redis command (default 5000 ms). */
  commandTimeoutMs?: number;
  /**
   * A local journal directory (one per endpoint and instance, never shared by two endpoints):
   * while Redis is unreachable accepted parcels are kept there and moved to Redis, in order,
   * once it is back (see ./spool.ts). Without it, accept() refuses while Redis is unreachable.
   */
  spoolDir?: string;
  /** Limits of the local journal (default: `limits`). */
  spoolLimits?: { maxEntries: number; maxBytes?: number };
  /** How often the mover tries again while Redis is away or refuses (default 1000 ms). */
  spoolRetryMs?: number;
}

export interface SharedStats {
  /** Whether this instance is the sender now. */
  sending: boolean;
  /** How many times it acquired the lease. */
  acquired: number;
  /** Requests it posted to the service (a digest is one). */
  posts: number;
  /** Parcels it delivered / finally failed, all instances' together, and of those, other instances'. */
  delivered: number;
  failed: number;
  deliveredForOthers: number;
  failedForOthers: number;
  /** Entries it took over from a dead holder (claim). */
  claimed: number;
}

/** After a Redis error the take loop waits this long before trying again. */
const RETRY_MS = 500;
/** How many entries one read takes at most. */
const TAKE_BATCH = 500;

/** A taken entry, for the job the queue holds for it. */
interface Taken {
  id: string;
  parcel: SharedParcel;
}

/**
 * Events: `delivered:<node>` (parcel, Outcome) and `failed:<node>` (parcel, FailInfo) for the
 * parcels this instance accepted, whichever instance delivered them; `changed` for statuses;
 * `spool` (SpoolEvent) whenever the count of parcels kept in the local journal changes.
 */
export class SharedEndpoint extends EventEmitter {
  /** Resolves once the consumer group exists and the outcomes are subscribed to (never rejects: retried). */
  readonly ready: Promise<void>;
  readonly instance: string;
  private readonly outbox: StreamOutbox<SharedParcel>;
  private readonly lease: Lease;
  private readonly channel: string;
  private readonly secrets: readonly string[];
  private readonly maxTaken: number;
  private subscriber: StreamClient | undefined;
  /** The sender's queue while the lease is held. */
  private current: DeliveryQueue | undefined;
  /** Increased on every acquisition and loss: a loop of an older term stops. */
  private term = 0;
  /** Taken entries by job id, and job id by entry id (an entry taken twice is queued once). */
  private readonly taken = new Map<number, Taken>();
  private readonly jobOf = new Map<string, number>();
  private nextJob = 1;
  /** Entries delivered or failed whose done() has not reached Redis yet. */
  private undone: string[] = [];
  /**
   * Ids of the entries settled (delivered or failed) until their done() reached Redis: still
   * pending there, a claim of this holder returns them, and they must not be queued again.
   */
  private readonly settledIds = new Set<string>();
  /** Outcomes are applied one post at a time, in order. */
  private settling: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private lastProblem: string | undefined;
  private readonly spool: Spool<SharedParcel> | undefined;
  private accepting: Promise<unknown> = Promise.resolve();
  private readonly counts = { acquired: 0, posts: 0, delivered: 0, failed: 0, deliveredForOthers: 0, failedForOthers: 0, claimed: 0 };

  constructor(private readonly opts: SharedEndpointOptions) {
    super();
    this.setMaxListeners(0);
    if (!opts.instance) throw new TypeError('shared endpoint: an instance id is required');
    this.instance = opts.instance;
    const target = opts.target();
    const forbid = 'problem' in target ? [] : [target.url, ...(target.routingKey ? [target.routingKey] : [])];
    this.secrets = 'problem' in target ? [] : endpointSecrets(target.url, target.routingKey);
    this.channel = `${opts.endpoint}:outcomes`;
    this.maxTaken = opts.maxTaken ?? Math.max(100, Math.min(opts.policy.digestMax, 5000));
    this.outbox = new StreamOutbox<SharedParcel>(opts.client, streamKey(opts.endpoint), {
      consumer: opts.instance,
      maxEntries: opts.limits.maxEntries,
      maxBytes: opts.limits.maxBytes,
      forbid,
      commandTimeoutMs: opts.commandTimeoutMs,
    });
    this.lease = new Lease(opts.client, leaseKey(opts.endpoint), { holder: opts.instance, ...opts.lease });
    this.lease.on('acquired', () => this.startSending());
    this.lease.on('lost', () => this.stopSending());
    if (opts.spoolDir) {
      const limits = opts.spoolLimits ?? opts.limits;
      this.spool = new Spool<SharedParcel>({
        dir: opts.spoolDir,
        client: opts.client,
        outbox: this.outbox,
        limits: { maxEntries: limits.maxEntries, ...(limits.maxBytes === undefined ? {} : { maxBytes: limits.maxBytes }) },
        forbid,
        retryMs: opts.spoolRetryMs ?? 1000,
        clean: (text) => this.clean(text),
        log: opts.log,
        changed: (e) => {
          this.emit('spool', e);
          this.emit('changed');
        },
      });
    }
    this.ready = this.open();
  }

  /** Parcels kept in the local journal, waiting for Redis (0 without `spoolDir`). */
  get spooled(): number {
    return this.spool?.spooled ?? 0;
  }

  /**
   * Stores the parcel in the shared outbox; resolves once Redis holds it (or, with `spoolDir`
   * while Redis is unreachable, once the local journal holds it), or with why it cannot.
   */
  accept(parcel: Parcel): Promise<Refusal | undefined> {
    if (this.closed) return Promise.resolve({ reason: 'the endpoint is closing' });
    const shared: SharedParcel = { ...parcel, instance: this.instance };
    const spool = this.spool;
    if (!spool) return this.addShared(shared);
    // one at a time, in call order: a later add cannot reach Redis before an earlier one spooled
    const result = this.accepting.then(() => this.acceptSpooling(shared, spool));
    this.accepting = result;
    return result;
  }

  private async acceptSpooling(shared: SharedParcel, spool: Spool<SharedParcel>): Promise<Refusal | undefined> {
    if (this.closed) return { reason: 'the endpoint is closing' };
    if (spool.spooled > 0) return spool.keep(shared); // behind what waits already
    if (!this.opts.client.isReady) return spool.keep(shared, 'Redis unreachable (not connected)');
    try {
      const added = await this.outbox.add(shared);
      if ('full' in added) return { reason: added.reason, full: true };
      return undefined;
    } catch (e) {
      if (e instanceof StreamOutboxError) return spool.keep(shared, this.clean(e.message));
      return { reason: this.clean((e as Error).message) };
    }
  }

  private async addShared(shared: SharedParcel): Promise<Refusal | undefined> {
    let added;
    try {
      added = await this.outbox.add(shared);
    } catch (e) {
      if (e instanceof StreamOutboxError) return { reason: this.clean(`shared outbox unreachable: ${e.message}`) };
      return { reason: this.clean((e as Error).message) };
    }
    if ('full' in added) return { reason: added.reason, full: true };
    return undefined;
  }

  /** The sender's queue while this instance holds the lease. */
  get queue(): DeliveryQueue | undefined {
    return this.current;
  }

  get stats(): SharedStats {
    return { sending: this.current !== undefined, ...this.counts };
  }

  /** `text` with every secret of the target masked. */
  clean(text: string): string {
    return redact(text, this.secrets);
  }

  /** Stops sending, releases the lease, unsubscribes. Resolves within about a second. */
  close(): Promise<void> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<void> {
    this.closed = true;
    this.stopSending();
    // the outcomes of the last post are marked done (else the next holder posts them again)
    const settled = Promise.race([this.settling, sleep(1000)]);
    await Promise.all([this.lease.stop(), settled, Promise.race([this.accepting, sleep(1000)]).then(() => this.spool?.close())]);
    this.outbox.close();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) {
      try {
        await withDeadline(sub.unsubscribe(this.channel), 500);
      } catch {
        // closing anyway
      }
      sub.destroy();
    }
    this.removeAllListeners();
  }

  /** Creates the group, subscribes, then contends for the lease; retried until it works or the endpoint closes. */
  private async open(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      try {
        await this.outbox.init();
        if (!this.subscriber) {
          const sub = this.opts.client.duplicate();
          sub.on('error', () => undefined); // it reconnects (and resubscribes) by itself
          await sub.connect();
          if (this.closed) {
            sub.destroy();
            return;
          }
          this.subscriber = sub;
          await sub.subscribe(this.channel, (message) => this.heard(message));
        }
        break;
      } catch (e) {
        this.problem(`shared outbox: cannot open: ${(e as Error).message}`);
        await sleep(RETRY_MS);
      }
    }
    if (this.closed) return;
    this.problem(undefined);
    this.lease.start();
  }

  /** An outcome published by the sender (this instance or another). */
  private heard(message: string): void {
    let m: OutcomeMessage;
    try {
      m = JSON.parse(message) as OutcomeMessage;
    } catch {
      return;
    }
    if (m.instance !== this.instance || (m.event !== 'delivered' && m.event !== 'failed')) return;
    const event = `${m.event}:${m.node}`;
    if (this.listenerCount(event) > 0) {
      this.emit(event, m.parcel, m.detail);
      return;
    }
    // the node that accepted it is gone: the log is its only report
    if (m.event === 'failed')
      this.opts.log.error(this.clean(`an alert queued by a node that no longer exists was not delivered: ${(m.detail as FailInfo).error}`));
    else this.opts.log.info?.(`an alert queued by a node that no longer exists was delivered (HTTP ${(m.detail as Outcome).status})`);
  }

  private startSending(): void {
    if (this.closed) return;
    this.stopSending();
    const term = ++this.term;
    this.counts.acquired++;
    const queue: DeliveryQueue = new DeliveryQueue(this.opts.policy, (jobs, signal) => this.send(jobs, signal, queue), {
      delivered: (jobs, result) =>
        this.settle(jobs, 'delivered', (job) => ({ status: result.status, attempts: job.attempts, batch: jobs.length })),
      failed: (job, info) =>
        this.settle([job], 'failed', () => ({
          ...info,
          error: this.clean(info.error),
          ...(info.answer === undefined ? {} : { answer: this.clean(info.answer) }),
        })),
      changed: () => this.emit('changed'),
    });
    this.current = queue;
    this.emit('changed');
    void this.feed(term);
  }

  private stopSending(): void {
    if (!this.current) return;
    this.term++;
    this.current.close();
    this.current = undefined;
    clearTimeout(this.claimTimer);
    this.claimTimer = undefined;
    this.taken.clear();
    this.jobOf.clear();
    this.wake?.();
    this.emit('changed');
  }

  private live(term: number): boolean {
    return !this.closed && this.term === term && this.current !== undefined && this.lease.held;
  }

  /** The holder's loop: claim a dead holder's entries, take our own pending ones, then new ones. */
  private async feed(term: number): Promise<void> {
    await this.ready;
    let after = '0';
    let claimAt = 0;
    while (this.live(term)) {
      try {
        if (Date.now() >= claimAt) {
          const claimed = await this.outbox.claim(this.opts.claimIdleMs ?? this.lease.ttlMs, this.maxTaken);
          if (!this.live(term)) return;
          const fresh = this.push(claimed);
          this.counts.claimed += fresh;
          claimAt = Date.now() + (this.opts.claimEveryMs ?? 1000);
        }
        const room = this.maxTaken - this.taken.size;
        if (room <= 0) {
          await this.pause(Math.max(0, claimAt - Date.now()));
          continue;
        }
        const blockMs = Math.max(1, Math.min(this.opts.blockMs ?? 250, claimAt - Date.now()));
        const got = await this.outbox.take(Math.min(room, TAKE_BATCH), blockMs, after);
        if (!this.live(term)) return; // what was taken stays pending for the next holder
        if (got.length > 0) after = got[got.length - 1].id;
        this.push(got);
        this.problem(undefined);
      } catch (e) {
        if (!this.live(term)) return;
        this.problem(`shared outbox: ${(e as Error).message}`);
        await this.pause(RETRY_MS);
      }
    }
  }

  /** Queues the entries not queued yet; returns how many. */
  private push(entries: readonly StreamEntry<SharedParcel>[]): number {
    const queue = this.current;
    if (!queue) return 0;
    let n = 0;
    for (const e of entries) {
      if (this.jobOf.has(e.id) || this.settledIds.has(e.id)) continue;
      const id = this.nextJob++;
      this.taken.set(id, { id: e.id, parcel: e.data });
      this.jobOf.set(e.id, id);
      queue.push({ id, retries: e.data.retries, queuedAt: e.data.queuedAt, attempts: 0, notBefore: 0 });
      n++;
    }
    return n;
  }

  /** Waits `ms`, or until a settled post makes room. */
  private pause(ms: number): Promise<void> {
    this.wake?.();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async send(jobs: readonly Job[], signal: AbortSignal, queue: DeliveryQueue): Promise<SendResult> {
    // no post from a queue of an older term, nor once the lease may have passed to another instance
    if (queue !== this.current || !this.lease.held) return { kind: 'aborted' };
    const target = this.opts.target();
    if ('problem' in target) return { kind: 'permanent', error: target.problem };
    const parcels = jobs.map((j) => this.taken.get(j.id)?.parcel).filter((p): p is SharedParcel => p !== undefined);
    if (parcels.length === 0) return { kind: 'permanent', error: 'the alerts are no longer in the outbox' };
    const post = buildPost(this.opts.service, parcels, target);
    if ('error' in post) return { kind: 'permanent', error: post.error };
    this.counts.posts++;
    return postJson(this.opts.service, target.url, post.body, { timeoutMs: post.timeoutMs, signal });
  }

  /**
   * Marks the jobs' entries done and publishes their outcomes, after those of the posts before
   * (a chain: called from the queue's hooks, which must not throw).
   */
  private settle(jobs: readonly Job[], event: 'delivered' | 'failed', detailOf: (job: Job) => Outcome | FailInfo): void {
    const messages: OutcomeMessage[] = [];
    const ids: string[] = [];
    for (const job of jobs) {
      const t = this.taken.get(job.id);
      if (!t) continue;
      this.taken.delete(job.id);
      this.jobOf.delete(t.id);
      ids.push(t.id);
      this.settledIds.add(t.id);
      messages.push({ instance: t.parcel.instance, node: t.parcel.node, event, detail: detailOf(job), parcel: t.parcel });
      const other = t.parcel.instance !== this.instance;
      if (event === 'delivered') {
        this.counts.delivered++;
        if (other) this.counts.deliveredForOthers++;
      } else {
        this.counts.failed++;
        if (other) this.counts.failedForOthers++;
      }
    }
    this.wake?.();
    if (ids.length === 0) return;
    this.settling = this.settling.then(async () => {
      const todo = this.undone.concat(ids);
      this.undone = [];
      try {
        await this.outbox.done(todo);
        for (const id of todo) this.settledIds.delete(id);
      } catch (e) {
        // kept: marked done with the next outcome (if this instance loses the lease first, the
        // next holder delivers them again: at least once)
        this.undone = todo;
        this.opts.log.warn(this.clean(`shared outbox: cannot mark ${todo.length} alert(s) done yet: ${(e as Error).message}`));
      }
      try {
        const multi = this.opts.client.multi();
        for (const m of messages) multi.publish(this.channel, JSON.stringify(m));
        await withDeadline(multi.exec(), this.opts.commandTimeoutMs ?? 5000);
      } catch (e) {
        this.opts.log.warn(this.clean(`shared outbox: ${messages.length} outcome(s) could not be published: ${(e as Error).message}`));
      }
    });
  }

  /** Logs a problem once (and its end). */
  private problem(text: string | undefined): void {
    if (text === this.lastProblem) return;
    if (text) this.opts.log.warn(this.clean(text));
    else if (this.lastProblem) this.opts.log.info?.('shared outbox: reachable again');
    this.lastProblem = text;
    this.emit('changed');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withDeadline<R>(p: Promise<R>, ms: number): Promise<R> {
  let t: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

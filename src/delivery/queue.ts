/**
 * One endpoint's delivery queue (a Slack webhook, a PagerDuty routing key): pacing, 429
 * pauses, retries with capped exponential backoff and jitter, a delivery deadline, and
 * Slack digests. Pure scheduling: it holds only small job records (the alerts stay in the
 * outbox on disk); sending and reporting are the caller's, through `Transport` and `Hooks`.
 *
 * Rules (SEMANTICS 4, issue "delivery that loses nothing"):
 * - at most `ratePerSec` posts per second sustained, `burst` at once (token bucket); one
 *   request in flight at a time, so the order of first attempts is the order of arrival; time
 *   spent waiting for an answer earns no tokens, so the service never sees two posts closer
 *   than 1 / rate apart, whatever the latency;
 * - `rate-limited` (429): no post to this endpoint before `retryAfterMs` plus jitter; the
 *   jobs go back unchanged (a 429 is not the alert's fault and costs no attempt);
 * - `transient` (5xx, 408, network, timeout): the job retries after min(maxBackoff, base * 2^n)
 *   jittered over its upper half and at least the answer's `Retry-After` (`retryDelay`), until
 *   its `retries` are spent or its deadline passes, then fails;
 * - `permanent` (Slack 400/403/404/410, PagerDuty 400, ...): fails at once, no retry;
 * - digests: when more than `digestAbove` jobs are ready, the next post carries all of them
 *   (up to `digestMax`) in one message; its outcome applies to each.
 * Every job ends in exactly one of `delivered` or `failed`, unless the queue is closed first
 * (then it stays in the outbox for the next start).
 *
 * Cost: a waiting job is a slot of typed arrays (56 bytes, no JS object) plus 12 bytes: its
 * last error's reference and its entries in two of three heaps of slot numbers (the ready jobs
 * by queue order, the jobs in backoff by time, all by deadline; each slot knows its place in
 * them). Pushing a job is O(1) amortized (the newest goes last), a pump is O(log n) for each
 * job it takes or that expires; nothing scans or splices the whole queue. Only the jobs of the
 * post in flight are objects. Jobs past their deadline fail oldest first.
 */
import type { SendResult } from './sender';
import { JobSlots, SlotHeap } from './slots';

export interface Job {
  /** The outbox seq (a safe integer). */
  id: number;
  /** The integration's `retries`: attempts after the first. */
  retries: number;
  /** When the job was first queued (ms since epoch): the deadline counts from here. */
  queuedAt: number;
  attempts: number;
  /** Not before this time (backoff). */
  notBefore: number;
  lastError?: string;
}

export interface QueuePolicy {
  ratePerSec: number;
  burst: number;
  /** How long a job may wait for delivery, from `queuedAt`. */
  deadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Digest when more than this many jobs are ready; Infinity = never. */
  digestAbove: number;
  digestMax: number;
  /** Upper bound of the random delay added to a 429 pause. */
  jitterMs: number;
}

/**
 * How long a job waits before its next attempt after a transient failure of attempt number
 * `attempts` (1 = the first): capped exponential backoff, `cap` = min(backoffMaxMs,
 * backoffBaseMs * 2^(attempts - 1)), jittered over its upper half (uniform in [cap / 2, cap),
 * so the wait still grows with each attempt), and never less than what the service asked for
 * (a 5xx's `Retry-After`). `random` returns a number in [0, 1).
 */
export function retryDelay(
  policy: Pick<QueuePolicy, 'backoffBaseMs' | 'backoffMaxMs'>,
  attempts: number,
  random: () => number,
  retryAfterMs = 0,
): number {
  const { backoffBaseMs, backoffMaxMs } = policy;
  const cap = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.max(retryAfterMs, cap / 2 + (random() * cap) / 2);
}

/** Posts one message for `jobs` (one job: its own message; several: a digest). */
export type Transport = (jobs: readonly Job[], signal: AbortSignal) => Promise<SendResult>;

export interface FailInfo {
  /** `permanent`, `transient` (retries or deadline spent), or `refused` (nothing could be sent). */
  kind: SendResult['kind'] | 'refused';
  status?: number;
  error: string;
  answer?: string;
  attempts: number;
}

export interface Hooks {
  delivered(jobs: readonly Job[], result: SendResult): void;
  failed(job: Job, info: FailInfo): void;
  /**
   * A post's outcome has been applied to its jobs: each was reported above or waits again (then
   * the queue keeps what it needs itself, so whatever the caller kept for the post can go).
   */
  settled?(jobs: readonly Job[]): void;
  /** Something changed (for status displays). */
  changed?(): void;
}

export interface QueueStats {
  waiting: number;
  inFlight: number;
  delivered: number;
  failed: number;
  rateLimited: number;
  retried: number;
  digests: number;
  pausedUntil: number;
}

export class DeliveryQueue {
  /** The waiting jobs (not the post in flight), one slot each. */
  private readonly slots = new JobSlots();
  /** Waiting jobs that may go now, by queue order (`order`): the first is the next to go. */
  private readonly ready: SlotHeap;
  /** Waiting jobs in backoff (`notBefore` still ahead), soonest first. */
  private readonly later: SlotHeap;
  /** Every waiting job by deadline (= `queuedAt`, the deadline is the same for all), oldest first. */
  private readonly deadlines: SlotHeap;
  /** Queue order of the next job added at the back; `front` - 1 is the order of one put back in front. */
  private back = 0;
  private front = 0;
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private inFlight: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  /** Set while pump() reports expired jobs: a hook that pushes a job must not start a second post. */
  private pumping = false;
  private readonly counts = { delivered: 0, failed: 0, rateLimited: 0, retried: 0, digests: 0 };

  constructor(
    private readonly policy: QueuePolicy,
    private readonly transport: Transport,
    private readonly hooks: Hooks,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.tokens = policy.burst;
    this.lastRefill = now();
    const s = this.slots;
    this.ready = new SlotHeap(
      (a, b) => s.order(a) < s.order(b),
      (slot, pos) => s.setQueuePos(slot, pos),
    );
    this.later = new SlotHeap(
      (a, b) => s.notBefore(a) < s.notBefore(b) || (s.notBefore(a) === s.notBefore(b) && s.order(a) < s.order(b)),
      (slot, pos) => s.setQueuePos(slot, ~pos),
    );
    this.deadlines = new SlotHeap(
      (a, b) => s.queuedAt(a) < s.queuedAt(b) || (s.queuedAt(a) === s.queuedAt(b) && s.order(a) < s.order(b)),
      (slot, pos) => s.setDeadlinePos(slot, pos),
    );
  }

  /** Queues a job (its alert is already in the outbox). */
  push(job: Job): void {
    if (this.closed) return;
    this.enqueue(job, this.back++, this.now());
    this.pump();
  }

  get stats(): QueueStats {
    return { waiting: this.slots.used, inFlight: this.inFlight ? 1 : 0, pausedUntil: this.pausedUntil, ...this.counts };
  }

  /** Stops: cancels the request in flight and the timer. Unfinished jobs stay in the outbox. */
  close(): void {
    this.closed = true;
    this.inFlight?.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refill(now: number): void {
    const { ratePerSec, burst } = this.policy;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * ratePerSec);
    this.lastRefill = now;
  }

  /** Sends what can be sent now, or sets the timer for when something can. O(log n) a job taken. */
  private pump(): void {
    if (this.closed || this.inFlight || this.pumping) return;
    const now = this.now();
    if (this.slots.used === 0) return;
    this.refill(now);
    const wakeAt = Math.max(this.pausedUntil, now + (this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.policy.ratePerSec) * 1000));
    // paused or out of tokens: nothing can go now, whatever is ready (pushes stay O(1))
    if (wakeAt > now) return this.wakeAt(wakeAt);
    this.pumping = true;
    try {
      this.expire(now);
    } finally {
      this.pumping = false;
    }
    if (this.closed) return;
    // backoffs that ended: those jobs take their place in the queue order again
    const { slots, ready, later } = this;
    while (later.size > 0 && slots.notBefore(later.top) <= now) ready.push(later.pop());
    if (ready.size === 0) {
      if (later.size > 0) this.wakeAt(slots.notBefore(later.top));
      return;
    }

    const n = ready.size > this.policy.digestAbove ? Math.min(ready.size, this.policy.digestMax) : 1;
    const batch: Job[] = new Array<Job>(n);
    for (let k = 0; k < n; k++) batch[k] = this.take(ready.pop());
    this.tokens -= 1;
    if (batch.length > 1) this.counts.digests++;
    for (const job of batch) job.attempts++;
    const controller = new AbortController();
    this.inFlight = controller;
    this.hooks.changed?.();
    // nothing awaits the send: a transport failure becomes a result in the .catch just below
    void this.transport(batch, controller.signal)
      .catch((e: unknown): SendResult => ({ kind: 'transient', error: `internal error: ${(e as Error).message}` }))
      .then((result) => {
        this.inFlight = undefined;
        // The service counts arrivals; ours are unknown between send and answer, so the time in
        // flight earns no tokens: the gap between two arrivals is then at least 1 / rate.
        this.lastRefill = Math.max(this.lastRefill, this.now());
        if (!this.closed) {
          this.settle(batch, result);
          this.hooks.settled?.(batch);
        }
        this.pump();
      });
  }

  private settle(batch: Job[], result: SendResult): void {
    const now = this.now();
    switch (result.kind) {
      case 'ok':
        this.counts.delivered += batch.length;
        this.hooks.delivered(batch, result);
        break;
      case 'aborted':
        break;
      case 'rate-limited': {
        this.counts.rateLimited++;
        this.pausedUntil = now + (result.retryAfterMs ?? 1000) + this.random() * this.policy.jitterMs;
        // back in front of the queue, in their order (a 429 costs the alert no attempt)
        this.front -= batch.length;
        batch.forEach((job, k) => {
          job.attempts--;
          this.enqueue(job, this.front + k, now);
        });
        break;
      }
      case 'transient':
        for (const job of batch) {
          job.lastError = result.error;
          const backoff = this.backoff(job.attempts, result.retryAfterMs);
          if (job.attempts > job.retries || now + backoff > job.queuedAt + this.policy.deadlineMs) this.fail(job, result);
          else {
            this.counts.retried++;
            job.notBefore = now + backoff;
            this.enqueue(job, this.back++, now);
          }
        }
        break;
      default:
        for (const job of batch) this.fail(job, result);
    }
    this.hooks.changed?.();
  }

  private backoff(attempts: number, retryAfterMs?: number): number {
    return retryDelay(this.policy, attempts, this.random, retryAfterMs);
  }

  private fail(job: Job, result: SendResult | FailInfo): void {
    this.counts.failed++;
    this.hooks.failed(job, {
      kind: result.kind,
      status: result.status,
      error: result.error ?? result.kind,
      answer: 'answer' in result ? result.answer : 'body' in result ? result.body : undefined,
      attempts: job.attempts,
    });
  }

  /** Jobs past their deadline fail without another attempt, oldest first. */
  private expire(now: number): void {
    const { slots, deadlines, ready, later } = this;
    const { deadlineMs } = this.policy;
    while (deadlines.size > 0 && now > slots.queuedAt(deadlines.top) + deadlineMs) {
      const slot = deadlines.top;
      const pos = slots.queuePos(slot);
      if (pos >= 0) ready.removeAt(pos);
      else later.removeAt(~pos);
      const job = this.take(slot);
      this.fail(job, {
        kind: 'transient',
        error: `not delivered within ${Math.round(deadlineMs / 1000)} s${job.lastError ? ` (last error: ${job.lastError})` : ''}`,
        attempts: job.attempts,
      });
    }
  }

  /** Adds a waiting job at queue position `order`. */
  private enqueue(job: Job, order: number, now: number): void {
    const slot = this.slots.add(job, order);
    this.deadlines.push(slot);
    if (job.notBefore <= now) this.ready.push(slot);
    else this.later.push(slot);
  }

  /** A waiting job as an object, its slot freed (the caller took it out of `ready` or `later`). */
  private take(slot: number): Job {
    this.deadlines.removeAt(this.slots.deadlinePos(slot));
    const job = this.slots.job(slot);
    this.slots.free(slot);
    if (this.slots.used === 0) {
      // all drained: give back the memory a backlog took
      this.slots.reset();
      this.ready.reset();
      this.later.reset();
      this.deadlines.reset();
    }
    return job;
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, Math.min(at - this.now(), 2 ** 31 - 1)),
    );
    this.timer.unref?.();
  }
}

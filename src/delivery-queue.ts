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
 * - `transient` (5xx, network, timeout): the job retries after min(maxBackoff, base * 2^n)
 *   with full jitter, until its `retries` are spent or its deadline passes, then fails;
 * - `permanent` (Slack 400/403/404/410, PagerDuty 400, ...): fails at once, no retry;
 * - digests: when more than `digestAbove` jobs are ready, the next post carries all of them
 *   (up to `digestMax`) in one message; its outcome applies to each.
 * Every job ends in exactly one of `delivered` or `failed`, unless the queue is closed first
 * (then it stays in the outbox for the next start).
 */
import type { SendResult } from './http-sender';

export interface Job {
  /** The outbox id. */
  id: string;
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

export const SLACK_POLICY: QueuePolicy = {
  ratePerSec: 1,
  burst: 3,
  deadlineMs: 60 * 60 * 1000,
  backoffBaseMs: 1000,
  backoffMaxMs: 5 * 60 * 1000,
  digestAbove: 5,
  digestMax: 5000,
  jitterMs: 250,
};

export const PAGERDUTY_POLICY: QueuePolicy = {
  ratePerSec: 2, // 120 events per minute per routing key
  burst: 10,
  deadlineMs: 24 * 60 * 60 * 1000,
  backoffBaseMs: 1000,
  backoffMaxMs: 5 * 60 * 1000,
  digestAbove: Infinity,
  digestMax: 1,
  jitterMs: 250,
};

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
  private readonly jobs: Job[] = [];
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private inFlight: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
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
  }

  /** Queues a job (its alert is already in the outbox). */
  push(job: Job): void {
    if (this.closed) return;
    this.jobs.push(job);
    this.pump();
  }

  get stats(): QueueStats {
    return { waiting: this.jobs.length, inFlight: this.inFlight ? 1 : 0, pausedUntil: this.pausedUntil, ...this.counts };
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

  /** Sends what can be sent now, or sets the timer for when something can. */
  private pump(): void {
    if (this.closed || this.inFlight) return;
    const now = this.now();
    if (this.jobs.length === 0) return;
    this.refill(now);
    let wakeAt = Math.max(this.pausedUntil, now + (this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.policy.ratePerSec) * 1000));
    // paused or out of tokens: nothing can go now, whatever is ready (no scan: pushes stay O(1))
    if (wakeAt > now) return this.wakeAt(wakeAt);
    this.expire(now);
    const ready: number[] = [];
    let soonest = Infinity;
    for (let i = 0; i < this.jobs.length; i++) {
      const at = this.jobs[i].notBefore;
      if (at <= now) ready.push(i);
      else soonest = Math.min(soonest, at);
    }
    if (ready.length === 0) wakeAt = Math.max(wakeAt, soonest);
    if (wakeAt > now) return this.wakeAt(wakeAt);

    const take = ready.length > this.policy.digestAbove ? ready.slice(0, this.policy.digestMax) : ready.slice(0, 1);
    const batch = take.map((i) => this.jobs[i]);
    for (let k = take.length - 1; k >= 0; k--) this.jobs.splice(take[k], 1);
    this.tokens -= 1;
    if (batch.length > 1) this.counts.digests++;
    for (const job of batch) job.attempts++;
    const controller = new AbortController();
    this.inFlight = controller;
    this.hooks.changed?.();
    this.transport(batch, controller.signal)
      .catch((e: unknown): SendResult => ({ kind: 'transient', error: `internal error: ${(e as Error).message}` }))
      .then((result) => {
        this.inFlight = undefined;
        // The service counts arrivals; ours are unknown between send and answer, so the time in
        // flight earns no tokens: the gap between two arrivals is then at least 1 / rate.
        this.lastRefill = Math.max(this.lastRefill, this.now());
        if (!this.closed) this.settle(batch, result);
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
      case 'rate-limited':
        this.counts.rateLimited++;
        this.pausedUntil = now + (result.retryAfterMs ?? 1000) + this.random() * this.policy.jitterMs;
        for (const job of batch) job.attempts--; // a 429 costs the alert no attempt
        this.jobs.unshift(...batch);
        break;
      case 'transient':
        for (const job of batch) {
          job.lastError = result.error;
          const backoff = this.backoff(job.attempts, result.retryAfterMs);
          if (job.attempts > job.retries || now + backoff > job.queuedAt + this.policy.deadlineMs) this.fail(job, result);
          else {
            this.counts.retried++;
            job.notBefore = now + backoff;
            this.jobs.push(job);
          }
        }
        break;
      default:
        for (const job of batch) this.fail(job, result);
    }
    this.hooks.changed?.();
  }

  /** Capped exponential backoff with full jitter; at least what the service asked for. */
  private backoff(attempts: number, retryAfterMs = 0): number {
    const { backoffBaseMs, backoffMaxMs } = this.policy;
    const cap = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.max(retryAfterMs, cap / 2 + (this.random() * cap) / 2);
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

  /** Jobs past their deadline fail without another attempt. */
  private expire(now: number): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const job = this.jobs[i];
      if (now <= job.queuedAt + this.policy.deadlineMs) continue;
      this.jobs.splice(i, 1);
      this.fail(job, {
        kind: 'transient',
        error: `not delivered within ${Math.round(this.policy.deadlineMs / 1000)} s${job.lastError ? ` (last error: ${job.lastError})` : ''}`,
        attempts: job.attempts,
      });
    }
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, Math.min(at - this.now(), 2 ** 31 - 1)));
    this.timer.unref?.();
  }
}

/**
 * One sender at a time per endpoint, across every instance that shares a Redis: a lease.
 *
 * The lease is a Redis key whose value is its holder's id and which expires `ttlMs` after it
 * was last set or renewed. Every `renewEveryMs` each contender either tries to take it
 * (set if absent) or, while it holds it, renews it with a compare-and-pexpire script, so a
 * holder that lost it (a paused process, an expired key) never extends somebody else's lease.
 * When a holder dies its key runs out and the next contender's attempt takes it: a takeover
 * within `ttlMs + renewEveryMs`.
 *
 * Held is decided locally and conservatively: a success counts from the moment its command
 * was sent (the server set the expiry later than that), minus a margin for clock rates
 * (`ttlMs / 100 + 2` ms), on a monotonic clock (`performance.now()`). When no renewal has
 * succeeded within that time, `held` turns false and `lost` is emitted, whatever Redis is
 * doing (down, slow, unreachable): by then the key may have expired and another instance may
 * hold it. Each acquisition increments `<key>:token` in the same script; the new value is the
 * fencing token, so a write made under an old lease can be told from one made under the
 * current lease.
 *
 * Commands go through the client the caller passes (node-redis), with a timeout so that none
 * waits in its offline queue past the next attempt; at most one command is in flight per
 * lease. Errors never escape: they are kept in `lastError` and the next tick retries.
 */

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

/** What a lease needs from a node-redis client (`createClient` from 'redis'). */
export interface LeaseClient {
  withCommandOptions(options: { timeout: number; rejectInFlight: boolean }): {
    eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  };
}

export interface LeaseOptions {
  /** Who holds it: unique per contender (e.g. `hostname:pid:random`); stored as the key's value. */
  holder: string;
  /** How long the key lives after each acquisition or renewal (default 5000 ms). */
  ttlMs?: number;
  /** How often to try to acquire, or to renew while held (default `ttlMs / 3`). */
  renewEveryMs?: number;
}

/**
 * Why a held lease ended: `expired` (no renewal confirmed within the time to live), `taken`
 * (Redis no longer holds our value: it expired there, or somebody else has it), `stopped`.
 */
export type LostReason = 'expired' | 'taken' | 'stopped';

/** Sets the lease if absent, or takes back one that still bears our value; returns the new token or 0. */
const ACQUIRE = `local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
elseif v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  return 0
end
return redis.call('INCR', KEYS[2])`;

/** Extends the lease only if it still bears our value: 1, else 0. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** Deletes the lease only if it still bears our value: 1, else 0. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** How long `stop()` waits for its release at most. */
const RELEASE_TIMEOUT_MS = 1000;

/**
 * Events: `acquired` (the fencing token, a number) when the lease is taken; `lost` (a
 * `LostReason`) when a held lease ends, including by `stop()`.
 */
export class Lease extends EventEmitter {
  readonly key: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  /** The last error of a Redis command, cleared by the next success (for a status line). */
  lastError: Error | undefined;

  readonly #client: LeaseClient;
  readonly #margin: number;
  #held = false;
  #token = 0;
  /** `performance.now()` value until which the lease is surely ours. */
  #validUntil = 0;
  #inFlight = false;
  #started = false;
  #stopped = false;
  #ticker: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(client: LeaseClient, key: string, options: LeaseOptions) {
    super();
    const ttlMs = options.ttlMs ?? 5000;
    const renewEveryMs = options.renewEveryMs ?? Math.floor(ttlMs / 3);
    if (!options.holder) throw new Error('a lease needs a holder id');
    if (!(Number.isFinite(ttlMs) && ttlMs >= 10)) throw new Error('the lease time to live must be at least 10 ms');
    if (!(Number.isFinite(renewEveryMs) && renewEveryMs > 0 && renewEveryMs < ttlMs)) {
      throw new Error('the lease must be renewed more often than its time to live');
    }
    this.#client = client;
    this.key = key;
    this.holder = options.holder;
    this.ttlMs = ttlMs;
    this.renewEveryMs = renewEveryMs;
    this.#margin = Math.floor(ttlMs / 100) + 2;
  }

  /** Whether this contender surely holds the lease now. */
  get held(): boolean {
    return this.#held && performance.now() < this.#validUntil;
  }

  /** The fencing token of the latest acquisition (0 before the first). */
  get token(): number {
    return this.#token;
  }

  /** Milliseconds the lease is surely ours from now without a further renewal (0 when not held). */
  get remainingMs(): number {
    return this.held ? Math.max(0, this.#validUntil - performance.now()) : 0;
  }

  /** Tries to acquire now and every `renewEveryMs`; renews while held. */
  start(): void {
    if (this.#stopped) throw new Error('a stopped lease does not start again; make a new one');
    if (this.#started) return;
    this.#started = true;
    this.#ticker = setInterval(() => this.#run(), this.renewEveryMs);
    this.#run();
  }

  /** Stops the timers and releases the lease if it bears our value. Never rejects. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ticker);
    clearTimeout(this.#expiry);
    const wasHeld = this.#held;
    this.#held = false;
    try {
      if (wasHeld) this.emit('lost', 'stopped' satisfies LostReason);
    } catch {
      // a listener's error must not keep the lease from being released
    }
    if (!this.#started) return;
    // also when not held: an acquisition may be in flight; this command follows it on the connection
    try {
      await this.#eval(RELEASE, [this.key], [this.holder], Math.min(this.ttlMs, RELEASE_TIMEOUT_MS));
    } catch (err) {
      this.lastError = asError(err);
    }
  }

  #run(): void {
    if (this.#inFlight || this.#stopped) return;
    this.#inFlight = true;
    this.#attempt()
      .catch((err: unknown) => {
        // only a listener can throw here: report it as Node reports a throwing listener of a timer
        process.nextTick(() => {
          throw err;
        });
      })
      .finally(() => {
        this.#inFlight = false;
      });
  }

  async #attempt(): Promise<void> {
    // a timer held back by a busy event loop: say so before anything else
    if (this.#held && performance.now() >= this.#validUntil) this.#lose('expired');
    const sentAt = performance.now();
    const renewing = this.#held;
    let reply: unknown;
    try {
      reply = renewing
        ? await this.#eval(RENEW, [this.key], [this.holder, String(this.ttlMs)], this.renewEveryMs)
        : await this.#eval(ACQUIRE, [this.key, this.key + ':token'], [this.holder, String(this.ttlMs)], this.renewEveryMs);
      this.lastError = undefined;
    } catch (err) {
      this.lastError = asError(err);
      return;
    }
    if (this.#stopped) return;
    const until = sentAt + this.ttlMs - this.#margin;
    if (renewing) {
      // the expiry timer may have ended the lease while the renewal was in flight: then the
      // next attempt takes it back (with a new token) if it still bears our value
      if (!this.#held) return;
      if (reply === 1) this.#extend(until);
      else this.#lose('taken');
      return;
    }
    const token = Number(reply);
    // an answer that came back after the time it would have been valid for counts for nothing;
    // the next attempt takes the key back if it still bears our value
    if (!(token > 0) || performance.now() >= until) return;
    this.#held = true;
    this.#token = token;
    this.#extend(until);
    this.emit('acquired', token);
  }

  #extend(until: number): void {
    this.#validUntil = until;
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#expire(), Math.max(0, until - performance.now()));
  }

  #expire(): void {
    if (!this.#held || this.#stopped) return;
    const left = this.#validUntil - performance.now();
    if (left > 0) {
      this.#expiry = setTimeout(() => this.#expire(), left);
      return;
    }
    this.#lose('expired');
  }

  #lose(reason: LostReason): void {
    this.#held = false;
    clearTimeout(this.#expiry);
    this.emit('lost', reason);
  }

  #eval(script: string, keys: string[], args: string[], timeout: number): Promise<unknown> {
    return this.#client.withCommandOptions({ timeout, rejectInFlight: true }).eval(script, { keys, arguments: args });
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

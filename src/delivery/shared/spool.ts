/**
 * The local fallback of a SharedEndpoint (./endpoint.ts) while Redis is unreachable (issue 12):
 * parcels are kept in a local crash-safe journal (the `Outbox` of ../outbox.ts, the same one local
 * delivery keeps its alerts in) and moved to the shared outbox (the Redis Stream) once Redis is
 * back, in order.
 *
 * - keep(): appends the parcel to the journal before returning (it survives a crash of the
 *   process, as a locally accepted alert does); refuses when the journal is at a limit or the
 *   disk fails (nothing is written then).
 * - While anything is spooled the endpoint spools new parcels too (so that none overtakes one
 *   that waits); the endpoint applies accepts one at a time, in call order.
 * - The mover: woken when the client is ready again (its `ready` event) and every `retryMs`
 *   (never a busy loop), it reads the oldest entries and moves them one at a time: the Redis add,
 *   then the local done. A refusal of Redis (the shared outbox full) or a failed add stops the
 *   pass; the entry stays first in the journal and the next pass starts with it. Nothing is
 *   dropped and the order is kept. A crash of the process between the Redis add and the local
 *   done, or an add whose answer was lost (`StreamOutboxError.uncertain`), moves that one entry
 *   again after the restart / on the next pass: one duplicate at most, at least once.
 * - `changed({ spooled, reason })` on every change of the count: `reason` says why parcels are
 *   kept locally (the last Redis failure), undefined once the journal is empty again.
 * An entry left in the journal by a previous run (the process stopped while Redis was away) is
 * moved after the next start: the mover starts at once when the journal is not empty.
 */
import { Outbox, OutboxDiskError } from '../outbox';
import type { Refusal } from '../endpoint';
import type { StreamClient, StreamOutbox } from './stream-outbox';

/** What a SharedEndpoint emits as `spool`. */
export interface SpoolEvent {
  /** Parcels waiting in the local journal. */
  spooled: number;
  /** Why they are kept locally; undefined when `spooled` is 0. */
  reason: string | undefined;
}

export interface SpoolOptions<T> {
  /** The journal's directory (one Outbox per directory in a process). */
  dir: string;
  /** The endpoint's client: its `ready` event wakes the mover; `isReady` says whether to try. */
  client: StreamClient;
  /** The shared outbox the entries are moved to. */
  outbox: StreamOutbox<T>;
  limits: { maxEntries: number; maxBytes?: number };
  /** Secrets that must never reach the disk. */
  forbid: string[];
  /** Pause between passes while Redis is away or refuses. */
  retryMs: number;
  /** Masks the target's secrets in a text. */
  clean(text: string): string;
  log: { info?(text: string): void; warn(text: string): void };
  changed(e: SpoolEvent): void;
}

/** Entries read from the journal per pass of the mover. */
const MOVE_BATCH = 100;

export class Spool<T> {
  private readonly journal: Outbox<T>;
  private reason: string | undefined;
  private moving: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly onReady = () => this.wake?.();
  /** Entries moved since the journal was last empty (for the log). */
  private moved = 0;

  constructor(private readonly opts: SpoolOptions<T>) {
    this.journal = Outbox.open<T>(opts.dir, {
      maxEntries: opts.limits.maxEntries,
      ...(opts.limits.maxBytes === undefined ? {} : { maxBytes: opts.limits.maxBytes }),
      forbid: opts.forbid,
    });
    opts.client.on('ready', this.onReady);
    if (this.spooled > 0) {
      this.reason = 'kept from a previous run';
      opts.log.warn(`shared outbox: ${this.spooled} alert(s) in the local journal from a previous run, moving them to Redis`);
      this.startMoving();
    }
  }

  /** Parcels waiting in the local journal. */
  get spooled(): number {
    return this.journal.size.entries;
  }

  /**
   * Appends `data` to the journal (written before it returns); `reason`: why (a Redis failure),
   * when Redis was just tried. Resolves undefined when kept, else with the refusal.
   */
  keep(data: T, reason?: string): Refusal | undefined {
    if (this.closed) return { reason: 'the endpoint is closing' };
    let added;
    try {
      added = this.journal.add(data);
    } catch (e) {
      const text =
        e instanceof OutboxDiskError ? `shared outbox unreachable and local journal failing: ${e.message}` : (e as Error).message;
      return { reason: this.opts.clean(text) };
    }
    if ('full' in added) return { reason: `shared outbox unreachable and local journal ${added.reason}`, full: true };
    if (reason !== undefined) {
      if (this.reason === undefined) this.opts.log.warn(`shared outbox unreachable, keeping alerts in the local journal: ${reason}`);
      this.reason = reason;
    }
    this.reason ??= 'Redis unreachable';
    this.tell();
    this.startMoving();
    return undefined;
  }

  /** Stops the mover (waits up to `ms` for a move in flight), writes what the journal owes and closes it. */
  async close(ms = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.client.off('ready', this.onReady);
    this.wake?.();
    if (this.moving) await Promise.race([this.moving, new Promise((resolve) => setTimeout(resolve, ms))]);
    this.journal.flush();
    this.journal.close();
  }

  private tell(): void {
    this.opts.changed({ spooled: this.spooled, reason: this.spooled > 0 ? this.reason : undefined });
  }

  private startMoving(): void {
    if (this.moving || this.closed) return;
    this.moving = this.move().finally(() => {
      this.moving = undefined;
      // an entry kept while the last pass was ending
      if (!this.closed && this.spooled > 0) this.startMoving();
    });
  }

  /** Passes until the journal is empty or the spool closes. */
  private async move(): Promise<void> {
    while (!this.closed && this.spooled > 0) {
      if (!this.opts.client.isReady || !(await this.pass())) {
        await this.pause(this.opts.retryMs);
        continue;
      }
    }
    if (!this.closed && this.spooled === 0 && this.reason !== undefined) {
      this.opts.log.info?.(`shared outbox: reachable again, ${this.moved} alert(s) moved from the local journal to Redis`);
      this.reason = undefined;
      this.moved = 0;
      this.tell();
    }
  }

  /** Moves up to MOVE_BATCH entries in order; false when one could not be moved (wait, then again). */
  private async pass(): Promise<boolean> {
    for (const entry of this.journal.next(MOVE_BATCH)) {
      if (this.closed) return true;
      try {
        const added = await this.opts.outbox.add(entry.data);
        if ('full' in added) {
          this.note(`the shared outbox refuses: ${added.reason}`);
          return false;
        }
      } catch (e) {
        this.note(this.opts.clean((e as Error).message));
        return false;
      }
      // closed meanwhile: not marked done, moved again after the restart (one duplicate)
      if (this.closed) return true;
      this.journal.done([entry.id]);
      this.moved++;
      this.tell();
    }
    return true;
  }

  private note(reason: string): void {
    if (reason !== this.reason) this.opts.log.warn(`shared outbox: cannot move the local journal to Redis yet: ${reason}`);
    this.reason = reason;
  }

  /** Waits `ms`, or until the client is ready again or the spool closes. */
  private pause(ms: number): Promise<void> {
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
}

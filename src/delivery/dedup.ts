/**
 * Dedup window (optional, per integration): repeats of the same key (default
 * `<rule.id>/<agent.id>`) within a window are held back and counted; the next message for
 * that key carries "+N similar since HH:MM", and a window that ends with repeats still
 * counted yields a summary, so every held-back alert is represented in some message.
 */

import { show } from '../show';

export interface Admitted {
  /** Repeats held back since the previous message for this key. */
  similar: number;
  /** When the first of them arrived (ms since epoch); absent when `similar` is 0. */
  since?: number;
}

export interface Expired extends Admitted {
  key: string;
  /** The last alert held back, to describe the summary. */
  last: unknown;
}

interface Entry {
  until: number;
  similar: number;
  since?: number;
  last?: unknown;
}

export class DedupWindow {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError('dedup window must be a positive number of ms');
  }

  /** `Admitted` when the alert goes out now, or null when it is held back (and counted). */
  admit(key: string, alert: unknown, now: number): Admitted | null {
    const entry = this.entries.get(key);
    if (entry && now < entry.until) {
      entry.similar++;
      entry.since ??= now;
      entry.last = alert;
      return null;
    }
    this.entries.set(key, { until: now + this.windowMs, similar: 0 });
    return entry && entry.similar > 0 ? { similar: entry.similar, since: entry.since } : { similar: 0 };
  }

  /** Windows that ended with repeats still counted: each needs a summary message. Forgets ended windows. */
  sweep(now: number): Expired[] {
    const out: Expired[] = [];
    for (const [key, entry] of this.entries) {
      if (now < entry.until) continue;
      this.entries.delete(key);
      if (entry.similar > 0) out.push({ key, similar: entry.similar, since: entry.since, last: entry.last });
    }
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The default dedup key of an alert: `<rule.id>/<agent.id>`. */
export function defaultDedupKey(alert: unknown): string {
  const a = (typeof alert === 'object' && alert !== null ? alert : {}) as { rule?: { id?: unknown }; agent?: { id?: unknown } };
  return `${keyPart(a.rule?.id)}/${keyPart(a.agent?.id)}`;
}

/** One part of the default key: nothing for a missing one; an object or array as JSON (`show`), so that two different ones do not share a window (String() made them all `[object Object]`). */
function keyPart(id: unknown): string {
  if (id === undefined || id === null) return '';
  return typeof id === 'string' || typeof id === 'number' ? String(id) : show(id);
}

/** "+N similar since HH:MM" (UTC), or '' when there were none. */
export function similarNote(similar: number, since?: number): string {
  if (similar <= 0) return '';
  const at = since === undefined ? '' : ` since ${new Date(since).toISOString().slice(11, 16)} UTC`;
  return `+${similar} similar${at}`;
}

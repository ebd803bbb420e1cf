/**
 * Alert lines (SEMANTICS 1): a byte stream of JSON lines, split on the byte 0x0A (safe in
 * UTF-8: it never occurs inside a multi-byte character) and decoded one whole line at a time,
 * so a character split across two chunks is never decoded in halves. Each line is parsed and
 * sorted into alerts, not-alerts (JSON objects without a `rule` object: counted, skipped),
 * invalid lines (not JSON, JSON but not an object, or nested deeper than MAX_DEPTH) and
 * oversize lines. Pure: no I/O.
 *
 * Used by the tail reader (chunks of a file) and by `parseAlertPayload` (a message payload).
 * A line within a chunk is decoded straight from the chunk; only a line spanning chunks is
 * copied, into one reused buffer. An oversize line is never held: its bytes are counted and
 * dropped until its newline.
 */
import type { Alert } from '../types';
import { asObject } from '../alert-fields';

/** Default longest line, in bytes without its newline: 1 MiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Deepest nesting of objects and arrays in an alert (the alert object itself is level 1; the
 * manager's alerts nest 4 or 5 levels). Deeper values are refused: Node-RED's message clone
 * and JSON.stringify recurse once per level (with Node.js 20's default stack the clone
 * overflows between 1,000 and 2,000 levels, JSON.stringify before 5,000).
 */
export const MAX_DEPTH = 64;

export interface LineWarning {
  code: 'invalid-json' | 'oversize' | 'not-an-object' | 'too-deep';
  /** Byte offset of the line's first byte in the stream (the file, or the payload). */
  offset: number;
  /** Length of the line in bytes, without its newline. */
  bytes: number;
  message: string;
}

/** Non-blank lines, sorted: `lines = alerts + notAlerts + invalid + oversize`. */
export interface LineCounts {
  lines: number;
  alerts: number;
  /** JSON objects without a `rule` object (SEMANTICS 1: not alerts). */
  notAlerts: number;
  /** Not JSON, JSON but not an object, or nested deeper than MAX_DEPTH. */
  invalid: number;
  oversize: number;
}

export interface LineHandlers {
  /** A line holding an alert; `next` is the offset just after the line (and its newline). */
  alert(alert: Alert, offset: number, next: number): void;
  warning(warning: LineWarning): void;
}

/** SEMANTICS 1: an alert is a JSON object with a `rule` object. */
export function isAlert(value: unknown): value is Alert {
  return asObject(asObject(value)?.rule) !== undefined;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * Whether JSON text nests objects and arrays deeper than `max`. Cheap for the usual line: it
 * counts `{` and `[` with indexOf and stops there when there are at most `max` of them (no
 * deeper nesting is then possible); only a text with more is scanned character by character,
 * brackets inside strings not counted. Text that is not JSON gets some answer; JSON.parse
 * refuses it anyway.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let opens = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++opens > max) return scanDepth(text, max);
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++opens > max) return scanDepth(text, max);
  return false;
}

function scanDepth(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Whether a value nests objects and arrays deeper than `max` (a cycle counts as too deep).
 * Walks level by level, each object once per level, so shared objects cost no more than
 * `max` visits and nothing recurses.
 */
export function valueDeeperThan(value: unknown, max: number): boolean {
  let level: object[] = typeof value === 'object' && value !== null ? [value] : [];
  for (let depth = 1; level.length > 0; depth++) {
    if (depth > max) return true;
    const next = new Set<object>();
    for (const v of level) {
      if (ArrayBuffer.isView(v)) continue; // a Buffer or typed array is copied whole, not walked
      for (const child of (Array.isArray(v) ? v : Object.values(v)) as unknown[])
        if (typeof child === 'object' && child !== null) next.add(child);
    }
    level = [...next];
  }
  return false;
}

/** Splits pushed bytes into lines and sorts them; see the file comment. */
export class AlertLines {
  readonly counts: LineCounts = { lines: 0, alerts: 0, notAlerts: 0, invalid: 0, oversize: 0 };
  /** Stream offset of the next byte to push. */
  position: number;
  /** Stream offset just after the last finished line (handed out, skipped or reported). */
  committed: number;
  /** The start of a line that spans pushes (`held` bytes); reused. */
  private carry = Buffer.alloc(0);
  private held = 0;
  /** Bytes of the oversize line being dropped, or -1. */
  private dropped = -1;
  private halted = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly on: LineHandlers,
    position = 0,
  ) {
    this.position = this.committed = position;
  }

  /** Bytes `buf[start, end)`, which follow the bytes pushed before. */
  push(buf: Buffer, start = 0, end = buf.length): void {
    const base = this.position - start; // stream offset of buf[0]
    this.position += end - start;
    let pos = start;
    while (pos < end && !this.halted) {
      let nl = buf.indexOf(10, pos);
      if (nl >= end) nl = -1; // bytes past `end` are stale
      const stop = nl < 0 ? end : nl;
      if (this.dropped >= 0) this.dropped += stop - pos;
      else if (this.held + stop - pos > this.maxLineBytes) {
        this.dropped = this.held + stop - pos;
        this.held = 0;
      } else if (nl >= 0 && this.held === 0) {
        this.line(buf, pos, stop, base + nl + 1); // the common case: a whole line in this chunk
        pos = nl + 1;
        continue;
      } else this.hold(buf, pos, stop);
      if (nl < 0) return;
      this.finish(base + nl + 1);
      pos = nl + 1;
    }
  }

  /** End of stream: a held last line without its newline is finished as it is. */
  flush(): void {
    if (this.held > 0 || this.dropped >= 0) this.finish(this.position);
  }

  /** Forgets any held line and goes on at `position` (a new file, or a truncated one). */
  reset(position: number): void {
    this.held = 0;
    this.dropped = -1;
    this.position = this.committed = position;
  }

  /** No more callbacks, even for the rest of a chunk being pushed. */
  halt(): void {
    this.halted = true;
  }

  private hold(buf: Buffer, start: number, end: number): void {
    const need = this.held + end - start; // <= maxLineBytes
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(need, 2 * this.carry.length, 1024)));
      this.carry.copy(grown, 0, 0, this.held);
      this.carry = grown;
    }
    buf.copy(this.carry, this.held, start, end);
    this.held = need;
  }

  /** Finishes the held or dropped line, which ends just before `next`. */
  private finish(next: number): void {
    if (this.dropped < 0) {
      const bytes = this.held;
      this.held = 0;
      this.line(this.carry, 0, bytes, next);
      return;
    }
    const offset = this.committed;
    const bytes = this.dropped;
    this.dropped = -1;
    this.committed = next;
    this.counts.lines++;
    this.counts.oversize++;
    this.on.warning({
      code: 'oversize',
      offset,
      bytes,
      message: `line at byte ${offset} is ${bytes} bytes, over the limit of ${this.maxLineBytes}: skipped`,
    });
  }

  private line(buf: Buffer, start: number, end: number, next: number): void {
    const offset = this.committed;
    this.committed = next;
    if (start === end) return;
    const text = buf.toString('utf8', start, end);
    if (nestedDeeperThan(text, MAX_DEPTH)) {
      this.invalid('too-deep', offset, end - start, `nests objects and arrays deeper than ${MAX_DEPTH} levels`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (text.trim() !== '') this.invalid('invalid-json', offset, end - start, `is not valid JSON (${(err as Error).message})`);
      return; // blank lines are ignored
    }
    if (isAlert(value)) {
      this.counts.lines++;
      this.counts.alerts++;
      this.on.alert(value, offset, next);
    } else if (asObject(value) !== undefined) {
      this.counts.lines++;
      this.counts.notAlerts++;
    } else this.invalid('not-an-object', offset, end - start, `is ${kindOf(value)}, not a JSON object`);
  }

  private invalid(code: LineWarning['code'], offset: number, bytes: number, what: string): void {
    this.counts.lines++;
    this.counts.invalid++;
    this.on.warning({ code, offset, bytes, message: `line at byte ${offset} ${what}: skipped` });
  }
}

export interface AlertPayload {
  alerts: Alert[];
  /** JSON objects without a `rule` object: not alerts (SEMANTICS 1), skipped without an error. */
  notAlerts: number;
  /** One message per invalid or oversize line, or for a payload of the wrong type. */
  errors: string[];
}

/**
 * The alerts of a message payload: an alert object; a string or Buffer holding one JSON
 * document (one alert, possibly pretty-printed); or a string or Buffer of JSON lines (blank
 * lines ignored), with the tail reader's rules for invalid and oversize lines. An alert
 * nested deeper than MAX_DEPTH is refused in every form. Never throws.
 */
export function parseAlertPayload(payload: unknown, maxLineBytes = MAX_LINE_BYTES): AlertPayload {
  const out: AlertPayload = { alerts: [], notAlerts: 0, errors: [] };
  const take = (value: unknown, what: string): AlertPayload => {
    if (isAlert(value)) out.alerts.push(value);
    else if (asObject(value) !== undefined) out.notAlerts++;
    else out.errors.push(`payload is ${what}${kindOf(value)}, not an alert object, JSON text or Buffer`);
    return out;
  };
  const tooDeep = (what: string): AlertPayload => {
    out.errors.push(`payload is ${what} nesting objects and arrays deeper than ${MAX_DEPTH} levels: skipped`);
    return out;
  };
  let bytes: Buffer;
  if (typeof payload === 'string') bytes = Buffer.from(payload, 'utf8');
  else if (payload instanceof Uint8Array) bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  else return isAlert(payload) && valueDeeperThan(payload, MAX_DEPTH) ? tooDeep('an alert object') : take(payload, '');
  if (bytes.length <= maxLineBytes) {
    const text = bytes.toString('utf8');
    const deep = nestedDeeperThan(text, MAX_DEPTH);
    let value: unknown;
    let parsed = false;
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      // not one JSON document (or too deep for JSON.parse): JSON lines
    }
    if (parsed && !deep) return take(value, 'JSON text of ');
    // a one-line document too deep goes on as a line, reported with its offset as in a file
    if (parsed && /[\r\n]/.test(text.trim())) return tooDeep('one JSON document');
  }
  const lines = new AlertLines(maxLineBytes, {
    alert: (alert) => out.alerts.push(alert),
    warning: (w) => out.errors.push(w.message),
  });
  lines.push(bytes);
  lines.flush();
  out.notAlerts = lines.counts.notAlerts;
  return out;
}

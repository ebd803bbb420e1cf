/**
 * OS_Regex, step 1: the pattern compiled into alternatives of bytes, with the manager's
 * compile errors (see ./index.ts for the dialect and how the scanners use it).
 */
import { PATTERN_MAX_BYTES, lowerByte, toByteString } from '../bytes';

export const BACKSLASH = 92;
export const PAREN = 40; // '(' and ')' are the same token after compilation
export const PLUS = 43;
export const STAR = 42;
export const OR = 124;
export const CARET = 94;
export const DOLLAR = 36;
export const RETRY_SLOTS = 4;

/** Escape letters, in the manager's code order (code = index + 1). */
export const ESCAPES = 'dwsp()\\DWS.t$|<';

/** Byte classes by escape code. */
export const CLASSES: Uint8Array[] = (() => {
  const table: Uint8Array[] = [new Uint8Array(256)];
  const make = (pred: (c: number) => boolean): Uint8Array => {
    const row = new Uint8Array(256);
    for (let c = 0; c < 256; c++) row[c] = pred(c) ? 1 : 0;
    return row;
  };
  const digit = (c: number) => c >= 48 && c <= 57;
  const word = (c: number) => digit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 64 || c === 95;
  const punct = (c: number) => '!"#$%&\'()*+,-.:;<=>?[]{|}'.includes(String.fromCharCode(c));
  table.push(
    make(digit), // 1 \d
    make(word), // 2 \w
    make((c) => c === 32), // 3 \s
    make(punct), // 4 \p
    make((c) => c === 40), // 5 \(
    make((c) => c === 41), // 6 \)
    make((c) => c === 92), // 7 \\
    make((c) => !digit(c)), // 8 \D
    make((c) => !word(c)), // 9 \W
    make((c) => c !== 32), // 10 \S
    make(() => true), // 11 \.
    make((c) => c === 9), // 12 \t
    make((c) => c === 36), // 13 \$
    make((c) => c === 124), // 14 \|
    make((c) => c === 60), // 15 \<
  );
  return table;
})();

export function inClass(code: number, c: number): boolean {
  const row = CLASSES[code];
  return row !== undefined && row[c] === 1;
}

export function isQuantifier(c: number): boolean {
  return c === PLUS || c === STAR;
}

/** One alternative, compiled: bytes with escapes as (92, code), a zero terminator and padding. */
export interface Alternative {
  p: Uint8Array;
  begin: boolean;
  end: boolean;
  /** For each pattern position holding a paren, its capture slot; -1 elsewhere. */
  slotAt: Int16Array | null;
  slots: number;
  /** The reference scanner's capture positions (when slotAt), reused by every run. */
  caps: Int32Array | null;
  /**
   * With `^`, the byte the input must start with when the pattern starts with a plain byte
   * (lowered; -1 otherwise): the scanner's first step compares it with the input's first
   * byte and, anchored, gives up on a difference. Lets `test` reject most inputs unread.
   */
  first: number;
}

/** An OS_Regex compile error: what is wrong, and where (0-based byte offset in the pattern). */
export class OsRegexError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'OsRegexError';
  }
}

export function compile(pattern: string, substrings: boolean): Alternative[] {
  const src = toByteString(pattern);
  if (src.length > PATTERN_MAX_BYTES) {
    throw new OsRegexError(
      `OS_Regex pattern is ${src.length} bytes long; the manager refuses patterns over ${PATTERN_MAX_BYTES} bytes`,
      PATTERN_MAX_BYTES,
    );
  }
  const bytes: number[] = [];
  let depth = 0;
  let parens = 0;
  for (let i = 0; i < src.length; i++) {
    let c = src.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = src[i + 1];
      const code = next === undefined ? -1 : ESCAPES.indexOf(next);
      if (code < 0) {
        throw new OsRegexError(
          next === undefined
            ? `pattern ends with a lone backslash (position ${i + 1})`
            : `unknown escape "\\${next}" at position ${i + 1}; OS_Regex knows \\w \\d \\s \\t \\p \\W \\D \\S \\. \\\\ \\( \\) \\$ \\| \\<`,
          i,
        );
      }
      bytes.push(BACKSLASH, code + 1);
      i++;
      continue;
    }
    if (c === 40) depth++;
    else if (c === 41) {
      depth--;
      parens++;
      c = PAREN;
    }
    if (depth < 0) throw new OsRegexError(`")" at position ${i + 1} closes no "("`, i);
    if (depth > 1) throw new OsRegexError(`nested "(" at position ${i + 1}: OS_Regex allows one level of parentheses`, i);
    if (c === OR && depth !== 0) {
      throw new OsRegexError(`"|" at position ${i + 1} is inside parentheses; OS_Regex allows "|" only between whole alternatives`, i);
    }
    bytes.push(lowerByte(c));
  }
  if (depth !== 0) throw new OsRegexError(`"(" is never closed (pattern ends at position ${src.length})`, src.length);

  const alternatives: Alternative[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== OR) continue; // an escaped | is code 14, not OR
    let part = bytes.slice(start, i);
    start = i + 1;
    const begin = part[0] === CARET;
    if (begin) part = part.slice(1);
    const end = part.length > 0 && part[part.length - 1] === DOLLAR; // an escaped $ is code 13
    if (end) part = part.slice(0, -1);
    const p = new Uint8Array(part.length + 4); // terminator + padding read by look-aheads
    p.set(part);
    let slotAt: Int16Array | null = null;
    let slots = 0;
    if (parens > 0 && substrings) {
      slotAt = new Int16Array(p.length).fill(-1);
      for (let k = 0; k < part.length; k++) {
        if (part[k] === BACKSLASH) k++;
        else if (part[k] === PAREN) slotAt[k] = slots++;
      }
    }
    const first = begin && p[0] !== 0 && p[0] !== BACKSLASH && p[0] !== PAREN ? p[0] : -1;
    alternatives.push({ p, begin, end, slotAt, slots, caps: slotAt ? new Int32Array(slots) : null, first });
  }
  return alternatives;
}

/**
 * OS_Match ("sregex"): the manager's simple matcher. Written from its documented and
 * observed behaviour (see ../shared/vectors): no escapes, no wildcards; `|` separates
 * alternatives; per alternative `^` = starts with, `$` = ends with, both = equals,
 * neither = contains; ASCII case-insensitive; a leading `!` negates the whole expression.
 * Quirks kept on purpose, so that a config behaves as on the manager:
 * - an empty alternative matches everything (`syscheck|` matches any text);
 * - in a "contains" alternative a non-ASCII byte never matches (the C code compares a
 *   signed `char` with an unsigned byte), unless the pattern holds the byte 0xE3
 *   anywhere, in which case "contains" alternatives become a case-sensitive search;
 * - input ends at its first NUL, as a C string does.
 * Every alternative runs in time linear in the input (String.prototype.indexOf/startsWith).
 */
import { Pattern } from '../types';
import { PATTERN_MAX_BYTES, lowerAscii, lowerByte, toByteString } from './bytes';

type Kind = 'all' | 'equals' | 'starts' | 'ends' | 'contains' | 'never';

interface Alternative {
  kind: Kind;
  /** ASCII-lowered byte string. */
  text: string;
}

export class OsMatchPattern implements Pattern {
  readonly syntax = 'os_match' as const;
  private readonly alternatives: Alternative[];
  private readonly negate: boolean;
  /** "contains" alternatives search the raw input (pattern had the byte 0xE3). */
  private readonly rawContains: boolean;
  /**
   * When every alternative is anchored at the start (`^...`, not negated) or never matches:
   * for each ASCII byte, 1 if some alternative starts with it (lowered). Else null.
   */
  private readonly firstBytes: Uint8Array | null;

  constructor(readonly source: string) {
    if (typeof source !== 'string') throw new TypeError('OS_Match pattern must be a string');
    let body = source;
    this.negate = body.startsWith('!');
    if (this.negate) body = body.slice(1);
    const bytes = lowerAscii(toByteString(body));
    if (bytes.length > PATTERN_MAX_BYTES) {
      throw new Error(`OS_Match pattern is ${bytes.length} bytes long; the manager refuses patterns over ${PATTERN_MAX_BYTES} bytes`);
    }
    this.rawContains = bytes.includes('\xe3');
    this.alternatives = bytes.split('|').map((alt) => classify(alt, this.rawContains));
    const anchored = (alt: Alternative) =>
      alt.kind === 'never' || ((alt.kind === 'starts' || alt.kind === 'equals') && alt.text.length > 0);
    let firstBytes: Uint8Array | null = null;
    if (!this.negate && this.alternatives.every(anchored)) {
      firstBytes = new Uint8Array(128);
      for (const alt of this.alternatives) if (alt.kind !== 'never' && alt.text.charCodeAt(0) < 128) firstBytes[alt.text.charCodeAt(0)] = 1;
    }
    this.firstBytes = firstBytes;
  }

  test(input: string): boolean {
    if (typeof input !== 'string') return false;
    return this.negate !== this.matches(toByteString(input));
  }

  /**
   * Whether no input whose first character has code `code` can match: true only when not
   * negated and every alternative is an anchored one (`^...`) starting with another ASCII
   * character, or one that never matches. Lets a caller skip building an input.
   */
  rejectsFirst(code: number): boolean {
    return this.firstBytes !== null && code > 0 && code < 128 && this.firstBytes[lowerByte(code)] === 0;
  }

  private matches(raw: string): boolean {
    let lowered: string | undefined;
    for (const alt of this.alternatives) {
      if (alt.kind === 'all') return true;
      if (alt.kind === 'never') continue;
      if (alt.kind === 'contains' && this.rawContains) {
        if (raw.includes(alt.text)) return true;
        continue;
      }
      if (lowered === undefined) lowered = lowerAscii(raw);
      switch (alt.kind) {
        case 'equals':
          if (lowered === alt.text) return true;
          break;
        case 'starts':
          if (lowered.startsWith(alt.text)) return true;
          break;
        case 'ends':
          if (lowered.endsWith(alt.text)) return true;
          break;
        case 'contains':
          if (lowered.includes(alt.text)) return true;
          break;
      }
    }
    return false;
  }
}

function classify(alt: string, rawContains: boolean): Alternative {
  const starts = alt.startsWith('^');
  const ends = alt.length > (starts ? 1 : 0) && alt.endsWith('$');
  if (starts && ends) return { kind: 'equals', text: alt.slice(1, -1) };
  if (alt.length === 0) return { kind: 'all', text: '' };
  if (ends) return { kind: 'ends', text: alt.slice(0, -1) };
  if (starts) return { kind: 'starts', text: alt.slice(1) };
  // A non-ASCII pattern byte never equals an input byte in the manager's comparison.
  // eslint-disable-next-line no-control-regex
  if (!rawContains && /[^\x00-\x7f]/.test(alt)) return { kind: 'never', text: alt };
  return { kind: 'contains', text: alt };
}

/** Compile an OS_Match pattern. Throws on a pattern the manager would refuse. */
export function osMatch(pattern: string): OsMatchPattern {
  return new OsMatchPattern(pattern);
}

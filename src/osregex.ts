/**
 * OS_Regex: the manager's own regular-expression dialect, reimplemented from its documented
 * and observed behaviour (../shared/vectors holds the real engine's verdicts).
 *
 * Syntax: `\w \d \s \t \p \W \D \S \.` classes, `\\ \( \) \$ \| \<` literals, `+`/`*` only
 * after a class, `^`/`$` anchoring an alternative, `|` between alternatives, one level of
 * `( )`. Case-insensitive (ASCII). Everything else is a literal byte.
 *
 * Matching is NOT a textbook regex: the manager scans left to right, lets `\x+` hand over
 * to the next token as soon as that token matches, keeps at most four "retry" points, and
 * on failure restarts one byte after where the failed attempt began. The quirks are part of
 * the contract (a config must behave here as on the manager), so this module reproduces
 * that scanner exactly, as a state machine over bytes:
 *
 *   state = (pt: position in the compiled pattern, st: position in the input,
 *            greedy: whether a `\x+`/`\x*` loop is running, hasResult, retry stack)
 *
 * A literal step-by-step run of that machine can take time quadratic in the input
 * (each restart rescans). We avoid it by memoising *segments*: the run from a state until
 * the retry stack drops below its starting depth (or the attempt fails) depends only on
 * (pt, st, greedy, hasResult, free retry slots), never on the entries below, so each such
 * key is computed once. Keys are bounded by patternLength x inputLength x 20, which makes a
 * test linear in the input for a given pattern. `execReference` keeps the plain step-by-step
 * machine; tests check both agree.
 */
import { Pattern } from './types';
import { PATTERN_MAX_BYTES, lowerByte, toByteString } from './bytes';

const BACKSLASH = 92;
const PAREN = 40; // '(' and ')' are the same token after compilation
const PLUS = 43;
const STAR = 42;
const OR = 124;
const CARET = 94;
const DOLLAR = 36;
const RETRY_SLOTS = 4;

/** Escape letters, in the manager's code order (code = index + 1). */
const ESCAPES = 'dwsp()\\DWS.t$|<';

/** Byte classes by escape code. */
const CLASSES: Uint8Array[] = (() => {
  const table: Uint8Array[] = [new Uint8Array(256)];
  const make = (pred: (c: number) => boolean): Uint8Array => {
    const row = new Uint8Array(256);
    for (let c = 0; c < 256; c++) row[c] = pred(c) ? 1 : 0;
    return row;
  };
  const digit = (c: number) => c >= 48 && c <= 57;
  const word = (c: number) =>
    digit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 64 || c === 95;
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

function inClass(code: number, c: number): boolean {
  const row = CLASSES[code];
  return row !== undefined && row[c] === 1;
}

function isQuantifier(c: number): boolean {
  return c === PLUS || c === STAR;
}

/** One alternative, compiled: bytes with escapes as (92, code), a zero terminator and padding. */
interface Alternative {
  p: Uint8Array;
  begin: boolean;
  end: boolean;
  /** For each pattern position holding a paren, its capture slot; -1 elsewhere. */
  slotAt: Int16Array | null;
  slots: number;
}

/** An OS_Regex compile error: what is wrong, and where (0-based byte offset in the pattern). */
export class OsRegexError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'OsRegexError';
  }
}

function compile(pattern: string, substrings: boolean): Alternative[] {
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
    alternatives.push({ p, begin, end, slotAt, slots });
  }
  return alternatives;
}

/** Whether the capture positions recorded by a successful run are usable (the manager copies
 * each (open, close) pair; a pair that closes before it opens makes it report no match). */
function capturesOk(caps: Int32Array | null): boolean {
  if (caps === null) return true;
  for (let j = 0; j + 1 < caps.length; j += 2) {
    if (caps[j] < 0 || caps[j + 1] < 0) break;
    if (caps[j + 1] < caps[j]) return false;
  }
  return true;
}

/** Result of running one alternative: no match, match, or "the whole regex fails". */
const enum Outcome {
  NoMatch = 0,
  Match = 1,
  Abort = 2,
  /** The step budget ran out (reference scanner only). */
  OverBudget = 3,
}

/** The scanner's registers. */
interface Machine {
  pt: number;
  st: number;
  greedy: boolean;
  hasResult: boolean;
  /** Set by `step`: where this step consumed a byte outside a loop, else -1. */
  hit: number;
  /** Set by `step` on Step.Push: the pattern position to go on at. */
  next: number;
  /** Capture positions (substring mode with parentheses), else null. */
  caps: Int32Array | null;
}

const enum Step {
  /** Go on at st + 1. */
  Next,
  /** A loop handed over to the next token: save (pt, st) as a retry point, go on at `next`. */
  Push,
  /** This position failed: retry or restart. */
  Fail,
  /** The alternative ended here; the result is `hasResult`. */
  Return,
}

function setCap(alt: Alternative, m: Machine, at: number, value: number): void {
  if (m.caps !== null && alt.slotAt![at] >= 0) m.caps[alt.slotAt![at]] = value;
}

/** One turn of the manager's scanning loop at input position m.st (< n). */
function step(alt: Alternative, s: string, n: number, m: Machine): Step {
  const { p, end } = alt;
  m.hit = -1;
  if (p[m.pt] === 0) {
    if (!end) return Step.Return;
  } else if (p[m.pt] === PAREN) {
    setCap(alt, m, m.pt, m.st);
    m.pt++;
    if (p[m.pt] === 0 && !end) return Step.Return;
  }
  const pt = m.pt;
  const c = s.charCodeAt(m.st);
  if (p[pt] !== BACKSLASH) {
    if (p[pt] < 128 && p[pt] === lowerByte(c)) {
      m.pt++;
      m.hit = m.st;
      m.hasResult = true;
      return Step.Next;
    }
    return Step.Fail;
  }
  if (inClass(p[pt + 1], c)) {
    let next = pt + 2;
    if (!isQuantifier(p[next])) {
      m.hasResult = true;
      m.pt = next;
      m.hit = m.st;
      return Step.Next;
    }
    if (p[next] === STAR) m.greedy = true;
    if (!m.greedy) {
      // first byte of a `\x+`: from now on, look ahead at the next token
      if (p[next + 1] === PAREN) setCap(alt, m, next + 1, m.st + 1 >= n ? m.st + 1 : m.st);
      m.greedy = true;
      m.hasResult = true;
      return Step.Next;
    }
    next++;
    if (p[next] === PAREN) next++;
    const t = p[next];
    let skip = -1;
    if (t === 0) skip = 1;
    else if (t === BACKSLASH) {
      if (inClass(p[next + 1], c)) skip = isQuantifier(p[next + 2]) ? 0 : 2;
    } else if (t < 128 && t === lowerByte(c)) {
      m.greedy = false;
      skip = 1;
    }
    if (skip >= 0) {
      if (p[next - 1] === PAREN) setCap(alt, m, next - 1, m.greedy && skip === 1 ? m.st + 1 : m.st);
      // at the end of the pattern the loop goes on, and the result position stays
      if (t === 0) return Step.Next;
    }
    m.hasResult = true;
    if (skip < 0) return Step.Next;
    m.next = next + skip;
    return Step.Push;
  }
  if ((p[pt + 2] === 0 || p[pt + 3] === 0) && m.greedy && m.hasResult) {
    if (!end) return Step.Return;
  } else if (p[pt + 2] === PLUS && m.greedy) {
    m.pt += 3;
    m.st--;
    m.greedy = false;
    return Step.Next;
  } else if (p[pt + 2] === STAR) {
    m.pt += 3;
    m.st--;
    m.hasResult = true;
    m.greedy = false;
    return Step.Next;
  }
  m.greedy = false;
  return Step.Fail;
}

function newMachine(alt: Alternative): Machine {
  return {
    pt: 0,
    st: 0,
    greedy: false,
    hasResult: true,
    hit: -1,
    next: 0,
    caps: alt.slotAt ? new Int32Array(alt.slots).fill(-1) : null,
  };
}

function returned(m: Machine): Outcome {
  if (!m.hasResult) return Outcome.NoMatch;
  return capturesOk(m.caps) ? Outcome.Match : Outcome.Abort;
}

/**
 * The manager's scanner, turn by turn, with its four retry points: the reference, whose
 * worst case is quadratic. Gives up with OverBudget after `budget` turns.
 */
function runReference(alt: Alternative, s: string, budget = Infinity): Outcome {
  const n = s.length;
  const m = newMachine(alt);
  const retryPt: number[] = [];
  const retrySt: number[] = [];
  let firstHit = -1; // where the current attempt first consumed a byte outside a loop
  for (; m.st < n; m.st++) {
    if (--budget < 0) return Outcome.OverBudget;
    const r = step(alt, s, n, m);
    if (m.hit >= 0 && firstHit < 0) firstHit = m.hit;
    if (r === Step.Next) continue;
    if (r === Step.Return) return returned(m);
    if (r === Step.Push) {
      if (retryPt.length < RETRY_SLOTS) {
        retryPt.push(m.pt);
        retrySt.push(m.st);
      }
      m.pt = m.next;
      continue;
    }
    // Fail: back to the last retry point, else restart one byte after the attempt's first.
    if (retryPt.length > 0) {
      m.pt = retryPt.pop()!;
      m.st = retrySt.pop()!;
      continue;
    }
    if (alt.begin) return Outcome.NoMatch;
    if (firstHit >= 0) m.st = firstHit;
    firstHit = -1;
    m.pt = 0;
    m.hasResult = false;
  }
  return finish(alt, m);
}

/** Result of a segment, packed in one number (see runLinear). */
const FINAL_BASE = 4;

/**
 * The same scanner in time linear in the input. A "segment" runs from a state until an
 * error that its own retry points cannot absorb (Fail) or until the alternative ends
 * (Final). Pushing a retry point runs the rest as a nested segment with one slot fewer:
 * if that fails, the pop resumes here. A segment's result depends only on
 * (pt, st, greedy, hasResult, free slots), and so does the result from any state it
 * passes through, so every state is computed at most once.
 * Capture positions are not tracked here (the order check is the reference's job).
 */
function runLinear(alt: Alternative, s: string): Outcome {
  const n = s.length;
  const width = alt.p.length;
  // memo value: result * (n + 2) + (first hit + 1); result = FINAL_BASE + outcome for Final,
  // or the packed Fail state (st, greedy, hasResult) below FINAL_BASE * ... (kept apart by sign).
  const memo = new Map<number, number>();
  const keyOf = (pt: number, st: number, greedy: boolean, hasResult: boolean, free: number): number =>
    (((st * width + pt) * 2 + (greedy ? 1 : 0)) * 2 + (hasResult ? 1 : 0)) * (RETRY_SLOTS + 1) + free;
  const m = newMachine(alt);
  m.caps = alt.slotAt ? new Int32Array(0) : null; // finish() needs to know captures exist

  // A result: >= 0 is a Fail at packed (st, greedy, hasResult); < 0 is Final(-1 - outcome).
  let resultHit = -1;
  const segment = (pt: number, st: number, greedy: boolean, hasResult: boolean, free: number): number => {
    const keys: number[] = [];
    const hits: number[] = [];
    let result = 0;
    let tailHit = -1;
    m.pt = pt;
    m.st = st;
    m.greedy = greedy;
    m.hasResult = hasResult;
    for (;;) {
      if (m.st >= n) {
        result = -1 - finish(alt, m);
        break;
      }
      const key = keyOf(m.pt, m.st, m.greedy, m.hasResult, free);
      const known = memo.get(key);
      if (known !== undefined) {
        const packed = Math.floor(known / (n + 2));
        tailHit = (known % (n + 2)) - 1;
        result = packed - FINAL_BASE;
        break;
      }
      keys.push(key);
      const r = step(alt, s, n, m);
      hits.push(m.hit);
      if (r === Step.Next) {
        m.st++;
        continue;
      }
      if (r === Step.Return) {
        result = -1 - returned(m);
        break;
      }
      if (r === Step.Fail) {
        result = (m.st * 2 + (m.greedy ? 1 : 0)) * 2 + (m.hasResult ? 1 : 0);
        break;
      }
      // Push
      if (free === 0) {
        m.pt = m.next;
        m.st++;
        continue;
      }
      const atPt = m.pt;
      const atSt = m.st;
      const sub = segment(m.next, atSt + 1, m.greedy, m.hasResult, free - 1);
      if (resultHit >= 0) hits[hits.length - 1] = resultHit;
      if (sub < 0) {
        result = sub;
        break;
      }
      // the nested part failed: pop our retry point
      m.pt = atPt;
      m.st = atSt + 1;
      m.greedy = (sub & 2) !== 0;
      m.hasResult = (sub & 1) !== 0;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      if (hits[i] >= 0) tailHit = hits[i];
      memo.set(keys[i], (result + FINAL_BASE) * (n + 2) + tailHit + 1);
    }
    resultHit = tailHit;
    return result;
  };

  let st = 0;
  let greedy = false;
  let hasResult = true;
  for (;;) {
    if (st >= n) {
      m.pt = 0;
      m.st = st;
      m.greedy = greedy;
      m.hasResult = hasResult;
      return finish(alt, m);
    }
    const r = segment(0, st, greedy, hasResult, RETRY_SLOTS);
    if (r < 0) return (-1 - r) as Outcome;
    if (alt.begin) return Outcome.NoMatch;
    // restart one byte after the attempt's first consumed byte, or after the failure
    st = (resultHit >= 0 ? resultHit : r >> 2) + 1;
    greedy = (r & 2) !== 0;
    hasResult = false;
  }
}

/** What the manager checks once the input is used up: is the rest of the pattern optional? */
function finish(alt: Alternative, m: Machine): Outcome {
  const p = alt.p;
  const { greedy, hasResult, caps } = m;
  const n = m.st;
  let pt = m.pt;
  if (caps) {
    // a last ")" may stand after loops that can match nothing
    while (p[pt] !== PAREN && p[pt] !== 0 && p[pt] === BACKSLASH && p[pt + 2] === STAR) pt += 3;
    if (p[pt] === PAREN) setCap(alt, m, pt, n);
  }
  // The manager's end test moves its pattern pointer as it goes; so does this one.
  const atEnd = (): boolean => {
    if (p[pt] === PAREN) pt++;
    return p[pt] === 0;
  };
  let ok = atEnd();
  if (!ok && p[pt] === BACKSLASH && greedy) {
    pt += 2;
    if (isQuantifier(p[pt])) {
      pt++;
      ok = atEnd();
      if (!ok && p[pt] === BACKSLASH) {
        pt += 2;
        if (p[pt] === STAR) {
          pt++;
          ok = atEnd();
        }
      }
    }
  }
  if (!ok && p[pt] === BACKSLASH) {
    pt += 2;
    if (p[pt] === STAR) {
      pt++;
      ok = atEnd();
    }
  }
  if (!ok || !hasResult) return Outcome.NoMatch;
  return capturesOk(caps) ? Outcome.Match : Outcome.Abort;
}

function execute(alts: Alternative[], input: string, run: (alt: Alternative, s: string) => Outcome): boolean {
  if (typeof input !== 'string') return false;
  const s = toByteString(input);
  for (const alt of alts) {
    const o = run(alt, s);
    if (o !== Outcome.NoMatch) return o === Outcome.Match;
  }
  return false;
}

/** The step-by-step scanner while it is cheap, the linear one when it would not be. */
function runHybrid(alt: Alternative, s: string): Outcome {
  const r = runReference(alt, s, 8 * s.length + 4 * alt.p.length + 256);
  return r === Outcome.OverBudget ? runLinear(alt, s) : r;
}

export interface OsRegexOptions {
  /**
   * Behave as the manager's engine compiled with OS_RETURN_SUBSTRING (as its decoders and
   * rules use it): parentheses record captures, which changes a few verdicts at the end of
   * the input. Default true. `false` is the plain `OS_Regex()` wrapper.
   */
  substrings?: boolean;
}

/** A compiled OS_Regex pattern. */
export class OsRegexPattern implements Pattern {
  readonly syntax = 'os_regex' as const;
  private readonly alternatives: Alternative[];

  constructor(readonly source: string, options: OsRegexOptions = {}) {
    if (typeof source !== 'string') throw new TypeError('OS_Regex pattern must be a string');
    this.alternatives = compile(source, options.substrings !== false);
  }

  /** Whether the pattern matches `input` (as the manager's engine decides). */
  test(input: string): boolean {
    return execute(this.alternatives, input, runHybrid);
  }

  /** The plain step-by-step scanner only (quadratic worst case): for tests and benchmarks. */
  testReference(input: string): boolean {
    return execute(this.alternatives, input, runReference);
  }

  /** The linear scanner only: for tests and benchmarks. */
  testLinear(input: string): boolean {
    return execute(this.alternatives, input, runLinear);
  }
}

/** Compile an OS_Regex pattern. Throws OsRegexError (message and position) on a bad pattern. */
export function osRegex(pattern: string, options?: OsRegexOptions): OsRegexPattern {
  return new OsRegexPattern(pattern, options);
}

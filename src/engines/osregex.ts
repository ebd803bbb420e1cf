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
 * test linear in the input for a given pattern. Capture positions (which depend on the whole
 * run, not on the state) travel with the memo as the last value each state's run writes to
 * each slot, so the capture-order check stays exact. `testReference` keeps the plain
 * step-by-step machine; tests check all three scanners agree.
 *
 * `test` runs each attempt (from a restart to the next) step by step, and hands an attempt
 * that runs long to the memoised machine, whose memo then also shortens the later attempts
 * (see runReference): ordinary input stays step by step, with no memo and no allocation.
 * Two shortcuts keep it cheap without changing a verdict: an anchored alternative starting
 * with a plain byte rejects an input starting with another one unread, and text is scanned
 * as it is (no UTF-8 copy) unless the scan meets a character that is NUL or not ASCII.
 */
import { Pattern } from '../types';
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
    const first = begin && p[0] !== 0 && p[0] !== BACKSLASH && p[0] !== PAREN ? p[0] : -1;
    alternatives.push({ p, begin, end, slotAt, slots, caps: slotAt ? new Int32Array(slots) : null, first });
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
  /** A scan of text as it is met a character that is not an ASCII byte: scan the bytes instead. */
  NotBytes = 3,
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
  /**
   * The memoised scanner's: capture writes are logged here as (slot, value) pairs, `logN`
   * ints so far, instead of going to `caps` (which is then NO_CAPS); null: write to `caps`.
   */
  log: Int32Array | null;
  logN: number;
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
  if (m.caps === null) return;
  const slot = alt.slotAt![at];
  if (slot < 0) return;
  if (m.log === null) m.caps[slot] = value;
  else {
    m.log[m.logN++] = slot;
    m.log[m.logN++] = value;
  }
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
    log: null,
    logN: 0,
  };
}

function returned(m: Machine): Outcome {
  if (!m.hasResult) return Outcome.NoMatch;
  return capturesOk(m.caps) ? Outcome.Match : Outcome.Abort;
}

/**
 * The captures of the memoised scanner's machine: they exist (so `finish` looks for a last
 * ")"), but their writes go to the log, and the order check is left to the caller, who holds
 * the run's real positions (a verdict Match from the memoised scanner means "returned with a
 * result": see applyCaps).
 */
const NO_CAPS = new Int32Array(0);

/** In a memo entry or a segment's result: this slot is not written. */
const UNWRITTEN = -2;

/** Applies the last writes `from[at..at + caps.length)` (UNWRITTEN: none) to `caps`. */
function applyCaps(caps: Int32Array, from: Int32Array, at: number): void {
  for (let j = 0; j < caps.length; j++) {
    const v = from[at + j];
    if (v !== UNWRITTEN) caps[j] = v;
  }
}

/** The outcome of a Final from the memoised scanner, once the run's captures are known. */
function resolve(outcome: Outcome, caps: Int32Array | null): Outcome {
  return outcome === Outcome.Match && !capturesOk(caps) ? Outcome.Abort : outcome;
}

/** The reference scanner's registers and retry stack, reused by every run (a run never re-enters). */
const ref = {
  machine: { pt: 0, st: 0, greedy: false, hasResult: true, hit: -1, next: 0, caps: null, log: null, logN: 0 } as Machine,
  retryPt: new Int32Array(RETRY_SLOTS),
  retrySt: new Int32Array(RETRY_SLOTS),
};

/** Steps one attempt may take turn by turn before the memoised scanner takes it over (see runReference). */
const ATTEMPT_STEPS = 32;

/** The memo key of a scanner state, apart from its input position (see Linear). */
function localState(m: Machine, free: number): number {
  return ((m.pt * 2 + (m.greedy ? 1 : 0)) * 2 + (m.hasResult ? 1 : 0)) * (RETRY_SLOTS + 1) + free;
}

/**
 * The manager's scanner, turn by turn, with its four retry points: the reference, whose
 * worst case is quadratic. Allocates nothing (the capture positions live in the alternative)
 * unless an attempt is handed over.
 *
 * `asText`: `s` is the caller's string, not yet converted to bytes; the run gives up with
 * NotBytes on reaching a character that is NUL or not ASCII. The scan reaches every position
 * below the furthest one it reads, so a run that did not give up read only characters that are
 * their own bytes, and decided as it would have on the bytes: it either read the whole string
 * (then the lengths agree too) or stopped short of its last character, where the length plays
 * no part. Ordinary text is then never copied, nor even read past where the verdict falls.
 *
 * `attemptSteps` (for `test`): an attempt (from a restart to the next) still running after
 * that many turns is handed to the memoised scanner (Linear), which runs it from its start to
 * the same end and remembers the outcome of every state it went through; the scan goes on
 * from the same restart, and from then on takes any state it reaches that the memo knows
 * straight to its outcome, as Linear does. An attempt is handed over only after that many
 * turns among states the memo did not know, which the handover then adds to it: the turns
 * wasted are at most the states stored, so the run stays linear in the input; and the choice
 * depends on what the input holds, not on its length. The capture positions stay exact: a
 * handed-over attempt and a state taken from the memo bring the last value they write to each
 * slot (see Linear), applied in the run's order. Ordinary text never gets there: no memo, no
 * allocation.
 */
function runReference(alt: Alternative, s: string, asText = false, attemptSteps = Infinity): Outcome {
  const n = s.length;
  const m = ref.machine;
  const { retryPt, retrySt } = ref;
  m.pt = 0;
  m.st = 0;
  m.greedy = false;
  m.hasResult = true;
  m.caps = alt.caps === null ? null : alt.caps.fill(-1);
  let retries = 0;
  let firstHit = -1; // where the current attempt first consumed a byte outside a loop
  let steps = 0; // turns of the current attempt, which started at (pt 0, startSt, startGreedy, startHasResult)
  let startSt = 0;
  let startGreedy = false;
  let startHasResult = true;
  let linear: Linear | undefined;
  for (; m.st < n; m.st++) {
    if (++steps > attemptSteps) {
      if (linear === undefined) {
        if (asText && bytesOf(s) !== s) return Outcome.NotBytes; // the memoised scanner reads bytes only
        linear = new Linear(alt, s);
      }
      const r = linear.segment(0, startSt, startGreedy, startHasResult, RETRY_SLOTS);
      // the attempt's capture writes, replayed from its start (the same writes in the same order)
      if (m.caps !== null) applyCaps(m.caps, linear.resultCaps, 0);
      if (r < 0) return resolve((-1 - r) as Outcome, m.caps);
      if (alt.begin) return Outcome.NoMatch;
      // the attempt failed: restart as below (the loop adds one)
      m.st = linear.resultHit >= 0 ? linear.resultHit : r >> 2;
      m.greedy = (r & 2) !== 0;
      m.pt = 0;
      m.hasResult = false;
      retries = 0;
      firstHit = -1;
      steps = 0;
      startSt = m.st + 1;
      startGreedy = m.greedy;
      startHasResult = false;
      continue;
    }
    let r: Step;
    if (linear !== undefined && (m.st & SAMPLE_MASK) === 0 && linear.memo.get(m.st, localState(m, RETRY_SLOTS - retries))) {
      // the memo knows how the run goes on from here, up to its failure (a Final ends the run)
      const known = linear.memo.result;
      if (firstHit < 0) firstHit = linear.memo.hit;
      if (m.caps !== null) applyCaps(m.caps, linear.memo.caps, linear.memo.capsAt);
      if (known < 0) return resolve((-1 - known) as Outcome, m.caps);
      m.st = known >> 2;
      m.greedy = (known & 2) !== 0;
      m.hasResult = (known & 1) !== 0;
      r = Step.Fail;
    } else {
      if (asText && linear === undefined) {
        const c = s.charCodeAt(m.st);
        if (c === 0 || c > 127) return Outcome.NotBytes;
      }
      r = step(alt, s, n, m);
      if (m.hit >= 0 && firstHit < 0) firstHit = m.hit;
    }
    if (r === Step.Next) continue;
    if (r === Step.Return) return returned(m);
    if (r === Step.Push) {
      if (retries < RETRY_SLOTS) {
        retryPt[retries] = m.pt;
        retrySt[retries++] = m.st;
      }
      m.pt = m.next;
      continue;
    }
    // Fail: back to the last retry point, else restart one byte after the attempt's first.
    if (retries > 0) {
      m.pt = retryPt[--retries];
      m.st = retrySt[retries];
      continue;
    }
    if (alt.begin) return Outcome.NoMatch;
    if (firstHit >= 0) m.st = firstHit;
    firstHit = -1;
    m.pt = 0;
    m.hasResult = false;
    steps = 0;
    startSt = m.st + 1;
    startGreedy = m.greedy;
    startHasResult = false;
  }
  return finish(alt, m);
}

/** Slots of a position's block in the memo: 2 ** BLOCK_BITS. */
const BLOCK_BITS = 3;
const BLOCK = 1 << BLOCK_BITS;

/**
 * The memo keeps the states of one input position in 2 ** SAMPLE_BITS (see Linear): a run
 * that reaches a state some earlier run went through follows that run's path, so it meets a
 * kept state within that many positions, having redone at most that many positions' steps.
 */
const SAMPLE_BITS = 1;
const SAMPLE_MASK = (1 << SAMPLE_BITS) - 1;

/**
 * Memo of the linear scanner: (st, local state) -> (result, first hit, capture writes), an
 * open-addressing hash table in one typed array, sized by the states stored (fourfold when
 * 3/4 full) so a run costs memory, page faults included, in proportion to the work done. A
 * state goes to a slot of the block of its input position (probing within it), or, when that
 * block is full, anywhere (double hashing). The scan moves along the input, so the states it
 * reads and writes sit side by side in memory; a position with more states than its block
 * (the end of the input, in some attacks) cannot lengthen its neighbours' probes.
 * With captures, each slot also has `slots` ints in `caps`: the last value the run from that
 * state writes to each capture slot (UNWRITTEN: none).
 */
class Memo {
  private mask: number;
  private count = 0;
  /** 4 ints a slot: local state + 1 (0: empty), position, result, first hit. */
  private slots: Int32Array;
  /** Capture writes, `width` ints a slot. */
  caps: Int32Array;
  /** Set by `get` on a hit. */
  result = 0;
  hit = -1;
  /** Set by `get` on a hit: where the state's capture writes start in `caps`. */
  capsAt = 0;
  /** The furthest position of a stored state: a state past it is known not to be stored. */
  furthest = -1;

  /** Starts with room for about one state per kept position (2 slots each, at most 64 Ki slots at first). */
  constructor(bytes: number, private readonly width: number) {
    let size = 1024;
    while (size < 2 * (bytes >> SAMPLE_BITS) && size < 1 << 16) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * 4);
    this.caps = new Int32Array(size * width);
  }

  /** Slot of (st, local), or -1 - the free slot where it goes. */
  private find(st: number, local: number): number {
    const { slots, mask } = this;
    const key = local + 1;
    const block = ((st >> SAMPLE_BITS) * BLOCK) & mask;
    const h = Math.imul(key, 0x9e3779b1) >>> (32 - BLOCK_BITS);
    for (let k = 0; k < BLOCK; k++) {
      const i = block + ((h + k) & (BLOCK - 1));
      const at = slots[i * 4];
      if (at === 0) return -1 - i;
      if (at === key && slots[i * 4 + 1] === st) return i;
    }
    let g = Math.imul(st ^ Math.imul(key, 0x85ebca6b), 0x2c1b3c6d);
    g ^= g >>> 15;
    const stride = (g >>> 7) | 1;
    for (let i = g & mask; ; i = (i + stride) & mask) {
      const at = slots[i * 4];
      if (at === 0) return -1 - i;
      if (at === key && slots[i * 4 + 1] === st) return i;
    }
  }

  /** Whether (st, local) is known; if so its value is in `result`, `hit` and `caps` at `capsAt`. */
  get(st: number, local: number): boolean {
    if (st > this.furthest) return false;
    const i = this.find(st, local);
    if (i < 0) return false;
    this.result = this.slots[i * 4 + 2];
    this.hit = this.slots[i * 4 + 3];
    this.capsAt = i * this.width;
    return true;
  }

  /** Stores (st, local) -> (result, hit, `caps` from `at`). */
  set(st: number, local: number, result: number, hit: number, caps: Int32Array, at: number): void {
    if (st > this.furthest) this.furthest = st;
    let i = this.find(st, local);
    if (i < 0) {
      if (4 * (this.count + 1) > 3 * (this.mask + 1)) {
        this.grow();
        i = this.find(st, local);
      }
      i = -1 - i;
      this.count++;
      this.slots[i * 4] = local + 1;
      this.slots[i * 4 + 1] = st;
    }
    this.slots[i * 4 + 2] = result;
    this.slots[i * 4 + 3] = hit;
    const w = this.width;
    for (let j = 0; j < w; j++) this.caps[i * w + j] = caps[at + j];
  }

  private grow(): void {
    const old = this.slots;
    const oldCaps = this.caps;
    this.mask = this.mask * 4 + 3;
    this.slots = new Int32Array((this.mask + 1) * 4);
    this.caps = new Int32Array((this.mask + 1) * this.width);
    this.count = 0;
    for (let i = 0; i < old.length; i += 4) {
      if (old[i] !== 0) this.set(old[i + 1], old[i] - 1, old[i + 2], old[i + 3], oldCaps, (i / 4) * this.width);
    }
  }
}

/**
 * A growable stack of what the segments of one run went through, nested segments on top of
 * their parents: states (local >= 0), hits, and capture writes (local = -2 - slot, st = value).
 */
class Trail {
  top = 0;
  st = new Int32Array(64);
  local = new Int32Array(64);
  hit = new Int32Array(64);

  push(st: number, local: number, hit: number): void {
    if (this.top === this.st.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.st = grow(this.st);
      this.local = grow(this.local);
      this.hit = grow(this.hit);
    }
    this.st[this.top] = st;
    this.local[this.top] = local;
    this.hit[this.top++] = hit;
  }
}

/**
 * The same scanner in time linear in the input. A "segment" runs from a state until an
 * error that its own retry points cannot absorb (Fail) or until the alternative ends
 * (Final). Pushing a retry point runs the rest as a nested segment with one slot fewer:
 * if that fails, the pop resumes here. A segment's result depends only on
 * (pt, st, greedy, hasResult, free slots), and so does the result from any state it
 * passes through, so every state is computed at most once.
 * Only the states of positions that are multiples of 2 ** SAMPLE_BITS are looked up and
 * stored: a run that reaches a state an earlier run went through then follows the same path
 * (the scanner is deterministic) until it meets a kept state, a few positions on.
 * Capture positions depend on the whole run, not on the state: what the memo keeps of them is
 * the last value that the run from a state writes to each slot (as do segments' results:
 * `resultCaps`); the caller applies them to its own positions, in the run's order, and does
 * the order check of a Final Match itself (see resolve).
 */
class Linear {
  private readonly n: number;
  readonly memo: Memo;
  private readonly trail = new Trail();
  private readonly m: Machine;
  /** First hit of the run of the segment that just returned (its tail from its start), or -1. */
  resultHit = -1;
  /** Capture writes of the segment that just returned (from its start), UNWRITTEN: none. */
  readonly resultCaps: Int32Array;
  /** Working copy of the capture writes while a segment walks its trail back. */
  private readonly tailCaps: Int32Array;

  constructor(private readonly alt: Alternative, private readonly s: string) {
    this.n = s.length;
    this.memo = new Memo(this.n, alt.slots);
    this.m = newMachine(alt);
    if (alt.slotAt) {
      this.m.caps = NO_CAPS; // finish() needs to know captures exist
      this.m.log = new Int32Array(16);
    }
    this.resultCaps = new Int32Array(alt.slotAt ? alt.slots : 0);
    this.tailCaps = new Int32Array(this.resultCaps.length);
  }

  /** Moves the capture writes logged by the last step (or finish) onto the trail, in order. */
  private flushLog(): void {
    const m = this.m;
    for (let k = 0; k < m.logN; k += 2) this.trail.push(m.log![k + 1], -2 - m.log![k], -1);
    m.logN = 0;
  }

  /** A result: >= 0 is a Fail at packed (st, greedy, hasResult); < 0 is Final(-1 - outcome). */
  segment(pt: number, st: number, greedy: boolean, hasResult: boolean, free: number): number {
    const { alt, s, n, m, memo, trail, tailCaps } = this;
    const base = trail.top;
    let result = 0;
    let tailHit = -1;
    let fromMemo = false;
    m.pt = pt;
    m.st = st;
    m.greedy = greedy;
    m.hasResult = hasResult;
    for (;;) {
      if (m.st >= n) {
        result = -1 - finish(alt, m);
        if (m.log !== null) this.flushLog();
        break;
      }
      // only states at kept positions are looked up and stored; a step elsewhere goes on the
      // trail only when it carries a hit or pushes (see below), with local -1
      const local = (m.st & SAMPLE_MASK) === 0 ? localState(m, free) : -1;
      if (local >= 0 && memo.get(m.st, local)) {
        tailHit = memo.hit;
        result = memo.result;
        fromMemo = true;
        break;
      }
      const at = m.st;
      const r = step(alt, s, n, m);
      const entry = trail.top; // this step's entry (a push has one), before its capture writes
      if (local >= 0 || m.hit >= 0 || r === Step.Push) trail.push(at, local, m.hit);
      if (m.log !== null && m.logN > 0) this.flushLog();
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
      const sub = this.segment(m.next, atSt + 1, m.greedy, m.hasResult, free - 1);
      if (this.resultHit >= 0) trail.hit[entry] = this.resultHit;
      // the nested segment's capture writes, after the push and before what follows
      for (let j = 0; j < this.resultCaps.length; j++) if (this.resultCaps[j] !== UNWRITTEN) trail.push(this.resultCaps[j], -2 - j, -1);
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
    // the capture writes from the end back: the known state's, else none (tailCaps is shared
    // with the nested segments, which are over by now)
    for (let j = 0; j < tailCaps.length; j++) tailCaps[j] = fromMemo ? memo.caps[memo.capsAt + j] : UNWRITTEN;
    for (let i = trail.top - 1; i >= base; i--) {
      const local = trail.local[i];
      if (local <= -2) {
        if (tailCaps[-2 - local] === UNWRITTEN) tailCaps[-2 - local] = trail.st[i];
        continue;
      }
      if (trail.hit[i] >= 0) tailHit = trail.hit[i];
      if (local >= 0) memo.set(trail.st[i], local, result, tailHit, tailCaps, 0);
    }
    trail.top = base;
    this.resultHit = tailHit;
    this.resultCaps.set(tailCaps);
    return result;
  }

  run(): Outcome {
    const { alt, n } = this;
    const caps = alt.slotAt ? new Int32Array(alt.slots).fill(-1) : null;
    let st = 0;
    let greedy = false;
    let hasResult = true;
    for (;;) {
      if (st >= n) {
        const m: Machine = { pt: 0, st, greedy, hasResult, hit: -1, next: 0, caps, log: null, logN: 0 };
        return finish(alt, m);
      }
      const r = this.segment(0, st, greedy, hasResult, RETRY_SLOTS);
      if (caps !== null) applyCaps(caps, this.resultCaps, 0);
      if (r < 0) return resolve((-1 - r) as Outcome, caps);
      if (alt.begin) return Outcome.NoMatch;
      // restart one byte after the attempt's first consumed byte, or after the failure
      st = (this.resultHit >= 0 ? this.resultHit : r >> 2) + 1;
      greedy = (r & 2) !== 0;
      hasResult = false;
    }
  }
}

function runLinear(alt: Alternative, s: string): Outcome {
  return new Linear(alt, s).run();
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

/**
 * `input` as the manager's engine reads it: the string itself when it is ASCII without NUL
 * (the usual case, checked without a regex call), else its UTF-8 bytes up to the first NUL.
 */
function bytesOf(input: string): string {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0 || c > 127) return toByteString(input);
  }
  return input;
}

function execute(alts: Alternative[], input: string, run: (alt: Alternative, s: string) => Outcome): boolean {
  if (typeof input !== 'string') return false;
  const s = bytesOf(input);
  for (const alt of alts) {
    const o = run(alt, s);
    if (o !== Outcome.NoMatch) return o === Outcome.Match;
  }
  return false;
}

/**
 * Whether no alternative can match an input whose first character is `code` (see
 * Alternative.first): a character that is ASCII and not NUL is the first byte; any other
 * non-NUL character starts with a byte over 127, which the scanner never takes for a plain
 * pattern byte (it compares bytes below 128 only). NUL ends the input: it decides nothing.
 */
function rejects(alts: readonly Alternative[], code: number): boolean {
  if (code === 0) return false;
  const b = code < 128 ? lowerByte(code) : -1;
  for (let i = 0; i < alts.length; i++) if (alts[i].first < 0 || alts[i].first === b) return false;
  return true;
}

/**
 * The step-by-step scanner for short attempts, the memoised one for long ones (see
 * runReference). An anchored alternative whose first byte differs from the input's fails
 * without a scan. `asText`: see runReference.
 */
function runHybrid(alt: Alternative, s: string, asText = false): Outcome {
  if (alt.first >= 0 && s.length > 0 && lowerByte(s.charCodeAt(0)) !== alt.first) return Outcome.NoMatch;
  return runReference(alt, s, asText, ATTEMPT_STEPS);
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
    if (typeof input !== 'string') return false;
    const alts = this.alternatives;
    if (input.length > 0 && rejects(alts, input.charCodeAt(0))) return false;
    // the text as it is while it reads as bytes (see runReference), else its bytes
    let s = input;
    let asText = true;
    for (let i = 0; i < alts.length; i++) {
      let o = runHybrid(alts[i], s, asText);
      if (o === Outcome.NotBytes) {
        s = bytesOf(input);
        asText = false;
        o = runHybrid(alts[i], s);
      }
      if (o !== Outcome.NoMatch) return o === Outcome.Match;
    }
    return false;
  }

  /**
   * Whether no input whose first character has code `code` can match: true only for an
   * anchored pattern whose every alternative starts with another plain character. Lets a
   * caller skip building an input that would be rejected unread.
   */
  rejectsFirst(code: number): boolean {
    return rejects(this.alternatives, code);
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

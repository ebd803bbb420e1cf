/**
 * OS_Regex, step 2: the manager's scanner as a state machine over bytes, one turn at a time
 * (`step`), its registers, the end-of-input check (`finish`) and the capture bookkeeping that
 * both scanners (./reference.ts, ./linear.ts) share.
 */
import { BACKSLASH, PAREN, PLUS, STAR, RETRY_SLOTS, inClass, isQuantifier, type Alternative } from './compile';
import { lowerByte } from '../bytes';

/** Whether the capture positions recorded by a successful run are usable (the manager copies
 * each (open, close) pair; a pair that closes before it opens makes it report no match). */
export function capturesOk(caps: Int32Array | null): boolean {
  if (caps === null) return true;
  for (let j = 0; j + 1 < caps.length; j += 2) {
    if (caps[j] < 0 || caps[j + 1] < 0) break;
    if (caps[j + 1] < caps[j]) return false;
  }
  return true;
}

/** Result of running one alternative: no match, match, or "the whole regex fails". */
export const enum Outcome {
  NoMatch = 0,
  Match = 1,
  Abort = 2,
  /** A scan of text as it is met a character that is not an ASCII byte: scan the bytes instead. */
  NotBytes = 3,
}

/** The scanner's registers. */
export interface Machine {
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

export const enum Step {
  /** Go on at st + 1. */
  Next,
  /** A loop handed over to the next token: save (pt, st) as a retry point, go on at `next`. */
  Push,
  /** This position failed: retry or restart. */
  Fail,
  /** The alternative ended here; the result is `hasResult`. */
  Return,
}

export function setCap(alt: Alternative, m: Machine, at: number, value: number): void {
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
export function step(alt: Alternative, s: string, n: number, m: Machine): Step {
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

export function newMachine(alt: Alternative): Machine {
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

export function returned(m: Machine): Outcome {
  if (!m.hasResult) return Outcome.NoMatch;
  return capturesOk(m.caps) ? Outcome.Match : Outcome.Abort;
}

/**
 * The captures of the memoised scanner's machine: they exist (so `finish` looks for a last
 * ")"), but their writes go to the log, and the order check is left to the caller, who holds
 * the run's real positions (a verdict Match from the memoised scanner means "returned with a
 * result": see applyCaps).
 */
export const NO_CAPS = new Int32Array(0);

/** In a memo entry or a segment's result: this slot is not written. */
export const UNWRITTEN = -2;

/** Applies the last writes `from[at..at + caps.length)` (UNWRITTEN: none) to `caps`. */
export function applyCaps(caps: Int32Array, from: Int32Array, at: number): void {
  for (let j = 0; j < caps.length; j++) {
    const v = from[at + j];
    if (v !== UNWRITTEN) caps[j] = v;
  }
}

/** The outcome of a Final from the memoised scanner, once the run's captures are known. */
export function resolve(outcome: Outcome, caps: Int32Array | null): Outcome {
  return outcome === Outcome.Match && !capturesOk(caps) ? Outcome.Abort : outcome;
}

/** The memo key of a scanner state, apart from its input position (see Linear). */
export function localState(m: Machine, free: number): number {
  return ((m.pt * 2 + (m.greedy ? 1 : 0)) * 2 + (m.hasResult ? 1 : 0)) * (RETRY_SLOTS + 1) + free;
}

/** What the manager checks once the input is used up: is the rest of the pattern optional? */
export function finish(alt: Alternative, m: Machine): Outcome {
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

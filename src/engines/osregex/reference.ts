/**
 * OS_Regex, step 3a: the manager's scanner turn by turn (the reference), which hands an
 * attempt that runs long to the memoised scanner (./linear.ts).
 */
import { bytesOf } from '../bytes';
import { RETRY_SLOTS, type Alternative } from './compile';
import { Linear, SAMPLE_MASK } from './linear';
import { Outcome, Step, applyCaps, finish, localState, resolve, returned, step, type Machine } from './machine';

/** The reference scanner's registers and retry stack, reused by every run (a run never re-enters). */
const ref = {
  machine: { pt: 0, st: 0, greedy: false, hasResult: true, hit: -1, next: 0, caps: null, log: null, logN: 0 } as Machine,
  retryPt: new Int32Array(RETRY_SLOTS),
  retrySt: new Int32Array(RETRY_SLOTS),
};

/** Steps one attempt may take turn by turn before the memoised scanner takes it over (see runReference). */
export const ATTEMPT_STEPS = 32;

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
export function runReference(alt: Alternative, s: string, asText = false, attemptSteps = Infinity): Outcome {
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
      if (r < 0) return resolve(-1 - r, m.caps);
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
      if (known < 0) return resolve(-1 - known, m.caps);
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

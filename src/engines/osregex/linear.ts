/**
 * OS_Regex, step 3b: the memoised scanner, linear in the input (see the class comment).
 */
import { RETRY_SLOTS, type Alternative } from './compile';
import {
  Outcome,
  Step,
  UNWRITTEN,
  NO_CAPS,
  applyCaps,
  finish,
  localState,
  newMachine,
  resolve,
  returned,
  step,
  type Machine,
} from './machine';

/** Slots of a position's block in the memo: 2 ** BLOCK_BITS. */
export const BLOCK_BITS = 3;
export const BLOCK = 1 << BLOCK_BITS;

/**
 * The memo keeps the states of one input position in 2 ** SAMPLE_BITS (see Linear): a run
 * that reaches a state some earlier run went through follows that run's path, so it meets a
 * kept state within that many positions, having redone at most that many positions' steps.
 */
export const SAMPLE_BITS = 1;
export const SAMPLE_MASK = (1 << SAMPLE_BITS) - 1;

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
export class Memo {
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
  constructor(
    bytes: number,
    private readonly width: number,
  ) {
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
export class Trail {
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
export class Linear {
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

  constructor(
    private readonly alt: Alternative,
    private readonly s: string,
  ) {
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
    let result: number;
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
      if (r < 0) return resolve(-1 - r, caps);
      if (alt.begin) return Outcome.NoMatch;
      // restart one byte after the attempt's first consumed byte, or after the failure
      st = (this.resultHit >= 0 ? this.resultHit : r >> 2) + 1;
      greedy = (r & 2) !== 0;
      hasResult = false;
    }
  }
}

export function runLinear(alt: Alternative, s: string): Outcome {
  return new Linear(alt, s).run();
}

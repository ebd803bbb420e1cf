/**
 * The delivery queue's bookkeeping (./queue.ts): the waiting jobs in column storage
 * (./columns.ts), and the heaps of slot numbers that order them (ready jobs by queue order,
 * jobs in backoff by time, all by deadline).
 */
import { Column } from './columns';
import type { Job } from './queue';

/** Slots in one chunk of `JobSlots`: 2 ** CHUNK_BITS. */
const CHUNK_BITS = 10;
/** The numbers of a slot in `JobSlots.nums`. */
const ID = 0;
const RETRIES = 1;
const QUEUED_AT = 2;
const NOT_BEFORE = 3;
const ORDER = 4;
const ATTEMPTS = 5;
const NUMS = 6;
/** The positions of a slot in `JobSlots.links`. */
const DEADLINE_POS = 0;
const QUEUE_POS = 1;
const LINKS = 2;
/** Initial capacity of a heap. */
const INITIAL_HEAP = 64;

/**
 * The waiting jobs, one slot each, in chunks of typed arrays: 56 bytes a job outside the JS
 * heap (no object per job, nothing for the GC to walk; growing never copies), plus its last
 * error in a plain array (the same string for the jobs of one post). Free slots are reused
 * (a list through their DEADLINE_POS); all chunks are let go when the queue is empty.
 */
export class JobSlots {
  used = 0;
  private nums = new Column((n) => new Float64Array(n), NUMS, CHUNK_BITS);
  private links = new Column((n) => new Int32Array(n), LINKS, CHUNK_BITS);
  private errors: Array<string | undefined> = [];
  /** Slots ever handed out since the last reset; the free ones are in the free list. */
  private high = 0;
  private freeList = -1;

  queuedAt(slot: number): number {
    return this.nums.get(slot, QUEUED_AT);
  }

  notBefore(slot: number): number {
    return this.nums.get(slot, NOT_BEFORE);
  }

  /** Queue order: the smaller goes first among the ready jobs. */
  order(slot: number): number {
    return this.nums.get(slot, ORDER);
  }

  /** Position in the deadline heap. */
  deadlinePos(slot: number): number {
    return this.links.get(slot, DEADLINE_POS);
  }

  setDeadlinePos(slot: number, pos: number): void {
    this.links.set(slot, DEADLINE_POS, pos);
  }

  /** >= 0: position in the ready heap; < 0: ~position in the backoff heap. */
  queuePos(slot: number): number {
    return this.links.get(slot, QUEUE_POS);
  }

  setQueuePos(slot: number, pos: number): void {
    this.links.set(slot, QUEUE_POS, pos);
  }

  add(job: Job, order: number): number {
    let slot = this.freeList;
    if (slot >= 0) this.freeList = this.deadlinePos(slot);
    else {
      slot = this.high++;
      this.nums.grow(slot);
      this.links.grow(slot);
    }
    this.used++;
    const [nums, at] = this.nums.at(slot);
    nums[at + ID] = job.id;
    nums[at + RETRIES] = job.retries;
    nums[at + QUEUED_AT] = job.queuedAt;
    nums[at + NOT_BEFORE] = job.notBefore;
    nums[at + ORDER] = order;
    nums[at + ATTEMPTS] = job.attempts;
    this.errors[slot] = job.lastError; // a new slot is the next index: the array stays dense
    return slot;
  }

  job(slot: number): Job {
    const [nums, at] = this.nums.at(slot);
    return {
      id: nums[at + ID],
      retries: nums[at + RETRIES],
      queuedAt: nums[at + QUEUED_AT],
      attempts: nums[at + ATTEMPTS],
      notBefore: nums[at + NOT_BEFORE],
      lastError: this.errors[slot],
    };
  }

  free(slot: number): void {
    this.errors[slot] = undefined;
    this.setDeadlinePos(slot, this.freeList);
    this.freeList = slot;
    this.used--;
  }

  /** Lets all memory go (only when no slot is used). */
  reset(): void {
    this.nums = new Column((n) => new Float64Array(n), NUMS, CHUNK_BITS);
    this.links = new Column((n) => new Int32Array(n), LINKS, CHUNK_BITS);
    this.errors = [];
    this.high = 0;
    this.freeList = -1;
  }
}

/**
 * A binary min-heap of slot numbers, ordered by `before`, that tells each slot where it is
 * (`place`), so that any slot can be removed in O(log n).
 */
export class SlotHeap {
  private items = new Int32Array(INITIAL_HEAP);
  size = 0;

  constructor(
    private readonly before: (a: number, b: number) => boolean,
    private readonly place: (slot: number, pos: number) => void,
  ) {}

  /** The first slot (the heap must not be empty). */
  get top(): number {
    return this.items[0];
  }

  push(slot: number): void {
    if (this.size === this.items.length) {
      const bigger = new Int32Array(this.size * 2);
      bigger.set(this.items);
      this.items = bigger;
    }
    this.up(this.size++, slot);
  }

  pop(): number {
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }

  removeAt(pos: number): void {
    const last = this.items[--this.size];
    if (pos === this.size) return;
    // the last item takes the hole: it may belong above it or below it
    if (pos > 0 && this.before(last, this.items[(pos - 1) >> 1])) this.up(pos, last);
    else this.down(pos, last);
  }

  reset(): void {
    this.size = 0;
    if (this.items.length > INITIAL_HEAP) this.items = new Int32Array(INITIAL_HEAP);
  }

  /** Puts `slot` at the hole `pos`, moving it up as far as it goes. */
  private up(pos: number, slot: number): void {
    const items = this.items;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const p = items[parent];
      if (!this.before(slot, p)) break;
      items[pos] = p;
      this.place(p, pos);
      pos = parent;
    }
    items[pos] = slot;
    this.place(slot, pos);
  }

  /** Puts `slot` at the hole `pos`, moving it down as far as it goes. */
  private down(pos: number, slot: number): void {
    const items = this.items;
    const n = this.size;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1], items[child])) child++;
      const c = items[child];
      if (!this.before(c, slot)) break;
      items[pos] = c;
      this.place(c, pos);
      pos = child;
    }
    items[pos] = slot;
    this.place(slot, pos);
  }
}

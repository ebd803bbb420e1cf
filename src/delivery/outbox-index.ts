/**
 * The outbox journal's index (./outbox.ts): one slot per `add` record, in seq order (slot i:
 * seq, add time, offset and length of the record, the newline included, and whether it is
 * done), in column storage (./columns.ts): 29 bytes a slot outside the JS heap.
 */
import { Column } from './columns';

/** Slots in one chunk of the index: 2 ** CHUNK_BITS. */
const CHUNK_BITS = 12;
/** Numbers of a slot in `nums`: seq, add time, offset. */
const SEQ = 0;
const AT = 1;
const OFFSET = 2;

export class Index {
  /** Slots used. */
  count = 0;
  private readonly nums = new Column((n) => new Float64Array(n), 3, CHUNK_BITS);
  private readonly lens = new Column((n) => new Uint32Array(n), 1, CHUNK_BITS);
  private readonly dones = new Column((n) => new Uint8Array(n), 1, CHUNK_BITS);

  seq(i: number): number {
    return this.nums.get(i, SEQ);
  }

  at(i: number): number {
    return this.nums.get(i, AT);
  }

  offset(i: number): number {
    return this.nums.get(i, OFFSET);
  }

  setOffset(i: number, offset: number): void {
    this.nums.set(i, OFFSET, offset);
  }

  bytes(i: number): number {
    return this.lens.get(i);
  }

  done(i: number): boolean {
    return this.dones.get(i) !== 0;
  }

  markDone(i: number): void {
    this.dones.set(i, 0, 1);
  }

  push(seq: number, at: number, offset: number, bytes: number): void {
    const i = this.count;
    this.nums.grow(i);
    this.lens.grow(i);
    this.dones.grow(i);
    this.put(i, seq, at, offset, bytes);
    this.count = i + 1;
  }

  /** The first slot with a seq above `seq` (binary search: slots are in seq order), or `count`. */
  after(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq(mid) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The slot of `seq` (done or not), or -1. */
  find(seq: number): number {
    const i = this.after(seq - 1);
    return i < this.count && this.seq(i) === seq ? i : -1;
  }

  /** Removes the done slots, keeping the order, and frees the chunks no longer needed. */
  dropDone(): void {
    let k = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.done(i)) continue;
      if (k !== i) this.put(k, this.seq(i), this.at(i), this.offset(i), this.bytes(i));
      k++;
    }
    this.count = k;
    this.nums.shrink(k);
    this.lens.shrink(k);
    this.dones.shrink(k);
  }

  private put(i: number, seq: number, at: number, offset: number, bytes: number): void {
    const [nums, start] = this.nums.at(i);
    nums[start + SEQ] = seq;
    nums[start + AT] = at;
    nums[start + OFFSET] = offset;
    this.lens.set(i, 0, bytes);
    this.dones.set(i, 0, 0);
  }
}

/**
 * Column storage for many small records without a JS object each (the outbox index, the
 * queue's job slots): a column holds `width` numbers per slot in typed-array chunks of
 * 2^bits slots, outside the JS heap, with nothing for the GC to walk; growing adds a chunk
 * and never copies (a doubling array would leave its old copies in memory until a full GC).
 */
type TypedArray = Float64Array | Int32Array | Uint32Array | Uint8Array;

export class Column<A extends TypedArray> {
  private chunks: A[] = [];
  private readonly mask: number;

  constructor(
    private readonly make: (length: number) => A,
    /** Numbers per slot. */
    readonly width: number,
    /** Slots per chunk: 2 ** bits. */
    private readonly bits: number,
  ) {
    this.mask = (1 << bits) - 1;
  }

  get(slot: number, field = 0): number {
    return this.chunks[slot >>> this.bits][(slot & this.mask) * this.width + field];
  }

  set(slot: number, field: number, value: number): void {
    this.chunks[slot >>> this.bits][(slot & this.mask) * this.width + field] = value;
  }

  /** The chunk holding `slot` and where the slot's numbers start in it (to read or write several at once). */
  at(slot: number): [chunk: A, start: number] {
    return [this.chunks[slot >>> this.bits], (slot & this.mask) * this.width];
  }

  /** Makes room for slots up to `slot` (slots are taken in order: at most one chunk is added). */
  grow(slot: number): void {
    while (slot >>> this.bits >= this.chunks.length) this.chunks.push(this.make((1 << this.bits) * this.width));
  }

  /** Keeps the chunks that `slots` slots need and lets the others go. */
  shrink(slots: number): void {
    this.chunks.length = (slots + this.mask) >>> this.bits;
  }
}

/**
 * Persistent outbox: the deliveries queued or being retried for one endpoint (one Slack webhook,
 * one PagerDuty routing key), kept in a journal on disk so that they survive a redeploy, a
 * restart and a crash. The caller delivers; the outbox only remembers, in add order.
 *
 * NEVER put a secret in it: the journal must never contain webhook URLs or routing keys (store
 * the alert and the message fields needed to rebuild the request; look the secret up from the
 * credentials when sending). Pass the secrets as `forbid` and `add()` throws instead of writing.
 *
 * On disk: one directory per endpoint (the caller picks it, e.g. `<userDir>/armor-integrations/
 * outbox/<config-node-id>/`) holding one append-only file, `journal.jsonl`, one JSON record a line:
 *   {"op":"meta","v":1,"next":N}                    first line: format version, next seq to use
 *   {"op":"add","seq":S,"at":MS,"data":<json>}      an entry (its id is the decimal seq)
 *   {"op":"done","seqs":[S,...]}                    entries delivered or finally failed
 * Opening replays the file. A last line without its newline (a crash in the middle of an append)
 * is cut off and counted in `unreadable`, like any other line that is not a valid record; its
 * add()/done() had not returned, so nothing that was acknowledged is lost.
 *
 * Compaction rewrites the journal with only the pending entries: `journal.jsonl.tmp` is written,
 * fsynced, then renamed over `journal.jsonl` (atomic), and the directory is fsynced. A crash at
 * any point leaves either the old or the new journal whole; a leftover `.tmp` is deleted on open.
 * It runs by itself when obsolete records dominate (more than 1000 of them and more than half
 * of the file), so the file stays under about twice the pending bytes and copying is amortized.
 *
 * Memory: only an index is kept, in typed arrays (seq, time, offset, length, done: 29 bytes an
 * entry outside the JS heap, no object per entry); the data stays on disk and `next()` and
 * `read()` read it back (entries next to each other in the journal with one read). Limits on
 * count and bytes refuse new entries (never unbounded memory or disk). A journal found over
 * the limits (limits lowered) is kept whole.
 *
 * Write errors (a full disk: ENOSPC or EDQUOT; EIO, EROFS, ...) never leave the outbox
 * inconsistent and never throw out of done() or a compaction: add() refuses the entry (it throws
 * an `OutboxDiskError`, nothing of it is kept); done() marks the entries done in memory at once
 * (next() and read() no longer return them) and keeps the record to write; a compaction that
 * fails leaves the old journal whole and is tried again later. From then on `writeError` is set
 * and nothing is written (add() refuses at once, done() only keeps its marks) until `flush()`,
 * which the caller calls now and then, writes the marks kept. Done marks that were never written are lost if
 * the process stops before a write succeeds: those entries are pending again after a restart.
 *
 * Durability: every add()/done() is written with one write(2) to the journal before it returns.
 * That survives a crash of the process (SIGKILL included: the bytes are in the kernel's page
 * cache). It does not survive a power loss or kernel crash unless `fsync: 'always'` (an fsync
 * after every write, much slower). Delivery built on it is at-least-once: an entry delivered but
 * not yet marked done when the process dies is delivered again after the restart.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Index } from './outbox-index';
import {
  OutboxDiskError,
  VERSION,
  closeQuietly,
  diskError,
  doneRecord,
  isSeq,
  makeDir,
  meta,
  readAll,
  removeQuietly,
  syncDir,
  writeAll,
} from './journal';

export { OutboxDiskError } from './journal';

export interface OutboxEntry<T = unknown> {
  /** The decimal `seq`; unique for the life of the directory. */
  id: string;
  /** Increasing in add order. */
  seq: number;
  /** `Date.now()` when added. */
  addedAt: number;
  /** Size of the entry's record in the journal: what counts against `maxBytes`. */
  bytes: number;
  /** As added (read back from disk: `JSON.parse(JSON.stringify(data))`). */
  data: T;
}

/** What `add()` returns when a limit refuses the entry. `reason` starts with "outbox full". */
export interface OutboxFull {
  full: true;
  reason: string;
}

export interface OutboxLimits {
  maxEntries: number;
  maxBytes: number;
}

export interface OutboxOptions extends Partial<OutboxLimits> {
  /** `always`: fsync after every write (survives power loss). Default `never`. */
  fsync?: 'always' | 'never';
  /** Secrets (webhook URLs, routing keys) that must never reach the disk: add() throws if the data contains one. */
  forbid?: string[];
}

export const OUTBOX_DEFAULT_LIMITS: Readonly<OutboxLimits> = { maxEntries: 100_000, maxBytes: 256 * 1024 * 1024 };
export const OUTBOX_JOURNAL = 'journal.jsonl';

const TEMP = `${OUTBOX_JOURNAL}.tmp`;
const CHUNK = 1024 * 1024;
/** Compaction and index clean-up wait for at least this many obsolete records. */
const MIN_OBSOLETE = 1000;
/** Directories open in this process: two outboxes on one journal would corrupt it. */
const openDirs = new Set<string>();

/** The scratch buffer for one record: its size at first, and the most that is kept. */
const SCRATCH_MIN = 64 * 1024;
const SCRATCH_MAX = 1024 * 1024;
export class Outbox<T = unknown> {
  /** Lines skipped when the journal was opened (not valid records, or a torn last line). */
  readonly unreadable: number;
  /** Path of the journal file. */
  readonly file: string;

  private readonly dir: string;
  private readonly limits: OutboxLimits;
  private readonly fsyncAlways: boolean;
  /** The secrets not to store, raw and JSON-escaped. */
  private readonly forbid: string[];
  private fd: number;
  private fileSize = 0;
  private nextSeq = 1;
  /** Index in seq order; entries marked done stay until the next clean-up. */
  private readonly index = new Index();
  /** Reused for encoding and reading records (see scratchOf). */
  private scratch = Buffer.allocUnsafe(SCRATCH_MIN);
  private liveCount = 0;
  private liveBytes = 0;
  private deadSlots = 0;
  /** Records in the file that compaction would drop (done adds, done records, unreadable lines). */
  private obsolete = 0;
  private closed = false;
  /** Set while the last write failed; cleared by the next write that succeeds. */
  private failure: OutboxDiskError | undefined;
  /** Seqs marked done in memory whose done record is not in the journal yet. */
  private unsavedDone: number[] = [];
  /** A meta record is owed (a new journal whose first line could not be written, or a probe). */
  private metaUnsaved = false;
  /** A failed append could not cut what it had partly written: cut it before the next one. */
  private dirtyTail = false;
  /** After a failed compaction, the next one waits until `obsolete` reaches this. */
  private compactRetryAt = 0;

  /** Opens (creating the directory and journal if needed) and replays the journal. */
  static open<T = unknown>(dir: string, options: OutboxOptions = {}): Outbox<T> {
    return new Outbox<T>(dir, options);
  }

  private constructor(dir: string, options: OutboxOptions) {
    this.dir = path.resolve(dir);
    if (openDirs.has(this.dir)) throw new Error(`outbox already open in this process: ${this.dir}`);
    this.limits = {
      maxEntries: options.maxEntries ?? OUTBOX_DEFAULT_LIMITS.maxEntries,
      maxBytes: options.maxBytes ?? OUTBOX_DEFAULT_LIMITS.maxBytes,
    };
    this.fsyncAlways = options.fsync === 'always';
    const secrets = (options.forbid ?? []).filter((s) => s !== '');
    this.forbid = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
    this.file = path.join(this.dir, OUTBOX_JOURNAL);

    let created: boolean;
    try {
      makeDir(this.dir);
      removeQuietly(path.join(this.dir, TEMP));
      created = !fs.existsSync(this.file);
      this.fd = fs.openSync(this.file, 'a+', 0o600);
    } catch (err) {
      throw diskError(err);
    }
    let unreadable = 0;
    try {
      if (created) {
        // if it cannot be written now (a full disk), it goes with the first record that can
        this.metaUnsaved = true;
        this.tryAppend(Buffer.alloc(0));
        syncDir(this.dir);
      } else {
        unreadable = this.replay();
      }
      this.compactIfWorth();
    } catch (err) {
      closeQuietly(this.fd);
      throw diskError(err);
    }
    this.unreadable = unreadable;
    openDirs.add(this.dir);
  }

  /**
   * The last write error while the journal is behind (done marks not written yet, or the last
   * add refused for it); undefined once a write succeeds again (see flush()).
   */
  get writeError(): OutboxDiskError | undefined {
    return this.failure;
  }

  /**
   * Writes what the journal owes (done marks kept in memory after a failed write) or, when it
   * owes nothing but the last write failed, a small record to see whether writing works again;
   * then compacts if that is due. Never throws for a disk error. Returns true when the journal
   * is up to date and the last write succeeded.
   */
  flush(): boolean {
    this.assertOpen();
    if (this.failure === undefined && !this.owes()) return true;
    if (!this.owes()) this.metaUnsaved = true; // the probe: a meta record is harmless anywhere
    if (this.tryAppend(Buffer.alloc(0))) {
      this.compactRetryAt = 0; // a compaction put off by a failure may go now
      this.compactIfWorth();
    }
    return this.failure === undefined;
  }

  /** Pending entries and their bytes. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.liveCount, bytes: this.liveBytes };
  }

  /**
   * Appends `data` to the journal before returning, or refuses it when it would take the outbox
   * past a limit. Throws if the data contains a `forbid` string (nothing is written) or, on a
   * write error or while `writeError` is set, an `OutboxDiskError` (nothing of the entry is kept).
   */
  add(data: T): OutboxEntry<T> | OutboxFull {
    this.assertOpen();
    const { maxEntries, maxBytes } = this.limits;
    const json = JSON.stringify(data);
    if (json === undefined) throw new TypeError('outbox: data is not JSON');
    this.assertNoSecret(json);
    // while the journal is behind, only flush() writes (a storm on a full disk costs no write each)
    if (this.failure) throw this.failure;
    if (this.liveCount >= maxEntries) return full(`${this.liveCount} entries, limit ${maxEntries}`);
    const seq = this.nextSeq;
    const at = Date.now();
    const line = this.encode(`{"op":"add","seq":${seq},"at":${at},"data":`, json, '}\n');
    const bytes = line.length;
    if (bytes > maxBytes) return full(`an entry of ${bytes} bytes exceeds the limit of ${maxBytes} bytes`);
    if (this.liveBytes + bytes > maxBytes) {
      return full(`${this.liveBytes} + ${bytes} bytes would exceed the limit of ${maxBytes} bytes`);
    }
    const offset = this.append(line);
    this.nextSeq = seq + 1;
    this.index.push(seq, at, offset, bytes);
    this.liveCount++;
    this.liveBytes += bytes;
    return { id: String(seq), seq, addedAt: at, bytes, data };
  }

  /**
   * Marks entries delivered (or finally failed): appends one `done` record before returning.
   * Takes ids (the decimal seq) or seqs. Ids that are not pending are ignored. Returns how many
   * entries were removed. A write error does not throw: the entries are done in memory and
   * their record is kept for `flush()` (see `writeError`).
   */
  done(ids: Iterable<string | number>): number {
    this.assertOpen();
    const found = new Set<number>(); // slot indices
    for (const id of ids) {
      const seq = Number(id);
      if (typeof id === 'string' ? String(seq) !== id : !isSeq(seq)) continue;
      const i = this.index.find(seq);
      if (i >= 0 && !this.index.done(i)) found.add(i);
    }
    if (found.size === 0) return 0;
    const seqs: number[] = [];
    for (const i of found) seqs.push(this.index.seq(i));
    for (const i of found) this.retire(i);
    this.cleanIndexIfWorth();
    this.obsolete++;
    if (this.failure || !this.tryAppend(doneRecord(seqs))) for (const seq of seqs) this.unsavedDone.push(seq);
    this.compactIfWorth();
    return found.size;
  }

  /** Up to `n` pending entries with a seq above `afterSeq`, in add order, their data read from disk. */
  next(n: number, afterSeq = 0): OutboxEntry<T>[] {
    this.assertOpen();
    const index = this.index;
    const slots: number[] = [];
    for (let i = index.after(afterSeq); i < index.count && slots.length < n; i++) {
      if (!index.done(i)) slots.push(i);
    }
    const out: OutboxEntry<T>[] = new Array<OutboxEntry<T>>(slots.length);
    this.load(slots, (k, i, data) => {
      out[k] = { id: String(index.seq(i)), seq: index.seq(i), addedAt: index.at(i), bytes: index.bytes(i), data };
    });
    return out;
  }

  /**
   * The data of the entries with these seqs, in the order given: undefined for those not
   * pending. Entries that follow each other in the journal are read together (one read(2)).
   */
  read(seqs: readonly number[]): Array<T | undefined> {
    this.assertOpen();
    const index = this.index;
    const out: Array<T | undefined> = new Array<T | undefined>(seqs.length).fill(undefined);
    const slots: number[] = [];
    const at: number[] = [];
    let last = -1;
    for (let k = 0; k < seqs.length; k++) {
      const seq = seqs[k];
      // in queue order, the next seq is often in the next slot: no search then
      const i = last + 1 < index.count && index.seq(last + 1) === seq ? last + 1 : index.find(seq);
      if (i < 0 || index.done(i)) continue;
      slots.push(i);
      at.push(k);
      last = i;
    }
    this.load(slots, (k, _i, data) => (out[at[k]] = data));
    return out;
  }

  /**
   * Rewrites the journal with only the pending entries (see the file comment for crash safety).
   * Done marks not written yet are in it (their entries are left out). On a write error it
   * throws an `OutboxDiskError` and the old journal stays as it was.
   */
  compact(): void {
    this.assertOpen();
    const tempPath = path.join(this.dir, TEMP);
    const index = this.index;
    let size: number;
    let head: number;
    let temp: number;
    try {
      // appending, as the journal: the new file becomes the journal's descriptor as it is
      temp = fs.openSync(tempPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND, 0o600);
    } catch (err) {
      throw diskError(err);
    }
    try {
      const first = Buffer.from(meta(this.nextSeq));
      writeAll(temp, first);
      size = head = first.length;
      let batch = Buffer.allocUnsafe(CHUNK);
      let fill = 0;
      for (let i = 0; i < index.count; i++) {
        if (index.done(i)) continue;
        const bytes = index.bytes(i);
        if (fill + bytes > batch.length) {
          writeAll(temp, batch.subarray(0, fill));
          fill = 0;
          if (bytes > batch.length) batch = Buffer.allocUnsafe(bytes);
        }
        readAll(this.fd, batch.subarray(fill, fill + bytes), index.offset(i));
        fill += bytes;
        size += bytes;
      }
      writeAll(temp, batch.subarray(0, fill));
      fs.fsyncSync(temp);
    } catch (err) {
      closeQuietly(temp);
      removeQuietly(tempPath);
      throw diskError(err);
    }
    // closed before the rename (some platforms cannot rename over an open file)
    closeQuietly(this.fd);
    try {
      fs.renameSync(tempPath, this.file);
    } catch (err) {
      closeQuietly(temp);
      removeQuietly(tempPath);
      try {
        this.fd = fs.openSync(this.file, 'a+', 0o600);
      } catch (again) {
        this.closed = true; // no journal to go on with: the next call says so
        openDirs.delete(this.dir);
        throw diskError(again);
      }
      throw diskError(err);
    }
    this.fd = temp;
    syncDir(this.dir);
    // the index changes only now that the new journal is in place: same entries, same order
    index.dropDone();
    for (let i = 0, offset = head; i < index.count; offset += index.bytes(i), i++) index.setOffset(i, offset);
    this.fileSize = size;
    this.deadSlots = 0;
    this.obsolete = 0;
    this.compactRetryAt = 0;
    // the new journal has the meta record and no trace of the done entries
    this.unsavedDone = [];
    this.metaUnsaved = false;
    this.dirtyTail = false;
    this.failure = undefined;
  }

  /**
   * Closes the journal. The outbox can be opened again (here or after a restart). Done marks
   * still owed are tried once more; if that fails too, their entries are pending at the next open.
   */
  close(): void {
    if (this.closed) return;
    if (this.owes()) this.tryAppend(Buffer.alloc(0));
    this.closed = true;
    closeQuietly(this.fd);
    openDirs.delete(this.dir);
  }

  /** Reads the journal into the index; cuts a torn last line. Returns the unreadable line count. */
  private replay(): number {
    const total = fs.fstatSync(this.fd).size;
    let unreadable = 0;
    let buf = Buffer.allocUnsafe(CHUNK);
    let bufOffset = 0; // file offset of buf[0]
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = fs.readSync(this.fd, buf, len, buf.length - len, bufOffset + len);
      len += n;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < len; nl = buf.indexOf(10, start)) {
        if (!this.replayLine(buf.toString('utf8', start, nl), bufOffset + start, nl + 1 - start)) {
          unreadable++;
          this.obsolete++;
        }
        start = nl + 1;
      }
      buf.copy(buf, 0, start, len);
      bufOffset += start;
      len -= start;
      if (n === 0 || bufOffset + len >= total) break;
    }
    if (len > 0) {
      unreadable++;
      try {
        fs.ftruncateSync(this.fd, bufOffset);
      } catch {
        this.dirtyTail = true; // cut before the next append
      }
    }
    this.fileSize = bufOffset;
    return unreadable;
  }

  /** Applies one journal line; false when it is not a valid record. */
  private replayLine(text: string, offset: number, bytes: number): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return false;
    }
    if (parsed === null || typeof parsed !== 'object') return false;
    const rec: { op?: unknown; seq?: unknown; at?: unknown; seqs?: unknown; v?: unknown; next?: unknown } = parsed;
    const last = this.index.count > 0 ? this.index.seq(this.index.count - 1) : 0;
    switch (rec.op) {
      case 'meta':
        if (rec.v !== VERSION) throw new Error(`outbox journal ${this.file} has unsupported version ${String(rec.v)}`);
        if (!isSeq(rec.next)) return false;
        this.nextSeq = Math.max(this.nextSeq, rec.next);
        this.obsolete++;
        return true;
      case 'add':
        if (!isSeq(rec.seq) || rec.seq <= last || typeof rec.at !== 'number' || !('data' in rec)) return false;
        this.index.push(rec.seq, rec.at, offset, bytes);
        this.liveCount++;
        this.liveBytes += bytes;
        this.nextSeq = Math.max(this.nextSeq, rec.seq + 1);
        return true;
      case 'done':
        if (!Array.isArray(rec.seqs) || !rec.seqs.every(isSeq)) return false;
        for (const seq of rec.seqs) {
          const i = this.index.find(seq);
          if (i >= 0 && !this.index.done(i)) this.retire(i);
        }
        this.cleanIndexIfWorth();
        this.obsolete++;
        return true;
      default:
        return false;
    }
  }

  /** Marks slot `i` done (the caller runs `cleanIndexIfWorth()` once it is done with slot indices). */
  private retire(i: number): void {
    this.index.markDone(i);
    this.liveCount--;
    this.liveBytes -= this.index.bytes(i);
    this.deadSlots++;
    this.obsolete++;
  }

  /** Drops the done slots from the index once they outnumber the pending ones (amortized O(1)). */
  private cleanIndexIfWorth(): void {
    if (this.deadSlots > MIN_OBSOLETE && this.deadSlots > this.liveCount) {
      this.index.dropDone();
      this.deadSlots = 0;
    }
  }

  /** Compacts when obsolete records dominate; a failure waits for MIN_OBSOLETE more (or a flush) to try again. */
  private compactIfWorth(): void {
    if (
      this.failure ||
      this.obsolete <= MIN_OBSOLETE ||
      this.obsolete < this.compactRetryAt ||
      this.fileSize - this.liveBytes <= this.liveBytes
    )
      return;
    try {
      this.compact();
    } catch (err) {
      if (this.closed) return;
      this.compactRetryAt = this.obsolete + MIN_OBSOLETE;
      if (!(err instanceof OutboxDiskError)) throw err;
    }
  }

  /** Whether records are owed to the journal (done marks, a meta record) or a torn tail must be cut. */
  private owes(): boolean {
    return this.unsavedDone.length > 0 || this.metaUnsaved || this.dirtyTail;
  }

  /** append() that reports a disk error in `writeError` instead of throwing; true if written. */
  private tryAppend(record: string | Buffer): boolean {
    try {
      this.append(record);
      return true;
    } catch (err) {
      if (err instanceof OutboxDiskError) return false;
      throw err;
    }
  }

  /**
   * Reads the records of `slots` (pending ones) and hands each one's data to `each` (its place
   * in `slots`, the slot, the data). A run of slots whose records lie one after the other in
   * the journal is read with one read(2), up to SCRATCH_MAX bytes at a time.
   */
  private load(slots: readonly number[], each: (k: number, slot: number, data: T) => void): void {
    const index = this.index;
    for (let k = 0; k < slots.length;) {
      const start = index.offset(slots[k]);
      let end = start + index.bytes(slots[k]);
      let m = k + 1;
      while (m < slots.length && index.offset(slots[m]) === end && end + index.bytes(slots[m]) - start <= SCRATCH_MAX) {
        end += index.bytes(slots[m++]);
      }
      const buf = this.scratchOf(end - start);
      readAll(this.fd, buf.subarray(0, end - start), start);
      for (; k < m; k++) {
        const i = slots[k];
        const from = index.offset(i) - start;
        let rec: unknown;
        try {
          rec = JSON.parse(buf.toString('utf8', from, from + index.bytes(i) - 1));
        } catch {
          rec = undefined;
        }
        if (!isRecordOf(rec, index.seq(i))) throw new Error(`outbox journal ${this.file} was changed on disk (entry ${index.seq(i)})`);
        each(k, i, rec.data as T);
      }
    }
  }

  /**
   * Appends one record (an empty one: only what is owed), after the records the journal owes
   * (a meta record, the done marks of failed writes), in one write(2); returns the record's
   * offset. On failure it cuts what was partly written, so the next record starts on a new line,
   * keeps what was owed, and throws an `OutboxDiskError` (also kept in `writeError`).
   */
  private append(record: string | Buffer): number {
    const body = typeof record === 'string' ? Buffer.from(record) : record;
    let owed = this.metaUnsaved ? meta(this.nextSeq) : '';
    if (this.unsavedDone.length > 0) owed += doneRecord(this.unsavedDone);
    const buf = owed === '' ? body : Buffer.concat([Buffer.from(owed), body]);
    const start = this.fileSize;
    try {
      if (this.dirtyTail) {
        fs.ftruncateSync(this.fd, start);
        this.dirtyTail = false;
      }
      writeAll(this.fd, buf);
      if (this.fsyncAlways) fs.fsyncSync(this.fd);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, start);
      } catch {
        this.dirtyTail = true; // cut before the next append
      }
      const e = diskError(err);
      if (e instanceof OutboxDiskError) this.failure = e;
      throw e;
    }
    this.fileSize += buf.length;
    this.unsavedDone = [];
    this.metaUnsaved = false;
    this.failure = undefined;
    return start + buf.length - body.length;
  }

  /**
   * `head` + `json` + `tail` as UTF-8 in the scratch buffer (valid until the next use of it):
   * no concatenated string and no buffer per record.
   */
  private encode(head: string, json: string, tail: string): Buffer {
    const buf = this.scratchOf(3 * (head.length + json.length + tail.length)); // UTF-8: at most 3 bytes a UTF-16 unit
    let n = buf.write(head, 0);
    n += buf.write(json, n);
    n += buf.write(tail, n);
    return buf.subarray(0, n);
  }

  /** A buffer of at least `n` bytes, reused from call to call (up to SCRATCH_MAX kept). */
  private scratchOf(n: number): Buffer {
    if (this.scratch.length >= n) return this.scratch;
    const buf = Buffer.allocUnsafe(Math.max(n, 2 * this.scratch.length));
    if (buf.length <= SCRATCH_MAX) this.scratch = buf;
    return buf;
  }

  private assertNoSecret(json: string): void {
    for (const secret of this.forbid) {
      if (json.includes(secret)) {
        throw new Error('outbox: refusing to store data that contains a secret (webhook URL or routing key)');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`outbox closed: ${this.dir}`);
  }
}

function full(why: string): OutboxFull {
  return { full: true, reason: `outbox full: ${why}` };
}

/** Whether `rec`, read back from the journal, is a record of entry `seq`. */
function isRecordOf(rec: unknown, seq: number): rec is { seq: number; data?: unknown } {
  return typeof rec === 'object' && rec !== null && (rec as { seq?: unknown }).seq === seq;
}

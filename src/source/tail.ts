/**
 * Tail reader of the manager's `alerts.json` (one JSON alert per line), for `armor-alerts`.
 * Polls (no fs.watch: polling alone works everywhere, NFS and bind mounts included), reads in
 * chunks into one reused Buffer, and hands out parsed alerts in file order (see `./lines` for
 * how lines are split, decoded and sorted).
 *
 * Guarantees:
 * - Never half a line: a line written in pieces is handed out once, whole; a last line without
 *   its newline is held until the newline comes. When the file is abandoned (rotated away or
 *   truncated), held bytes are parsed as they are (a complete JSON object is handed out, a
 *   fragment is reported as invalid JSON).
 * - Within one reader, every line is handed out at most once and in order, across rotation by
 *   rename+create or hard-link swap (the old file is read to its end, then the new one from 0)
 *   and truncation/copytruncate (read again from 0).
 * - Across restarts, with `start: 'resume'` and the last `checkpoint()` persisted by the caller:
 *   at least once. What can repeat: the lines handed out after the persisted checkpoint.
 *   A checkpoint points just after a line that was handed out, never past one that was not.
 *
 * What can be missed (inherent to tailing, documented for operators):
 * - Lines the writer adds to the old file after the new file at the path already has data.
 * - With copytruncate: lines written between our last read and the truncation. A file
 *   truncated then regrown past our offset between two polls (or while no reader ran) looks
 *   merely appended to: reading goes on from the old offset (a first fragment is reported as
 *   invalid JSON).
 * - Across a restart: the unread end of a file that was rotated away while no reader ran
 *   (the checkpoint no longer matches the file at the path, so the new file is read from 0).
 *   A checkpoint whose file identity (dev, inode) differs, or whose offset is past the end of
 *   the file, restarts at 0 of the current file with a `resume-reset` warning.
 *
 * Start modes: `end` (default; like the manager's daemon) skips the complete lines present at
 * start (a partial last line is read whole once it ends); `beginning` reads from 0; `resume`
 * continues from `checkpoint`, and without one behaves like `end` (first deployment). A file
 * that is missing or unreadable at start is waited for and read from 0 when it appears.
 */
import { promises as fsp, type BigIntStats } from 'fs';
import type { FileHandle } from 'fs/promises';
import { AlertLines, MAX_LINE_BYTES, type LineCounts, type LineWarning } from './lines';
import type { Alert } from '../types';

export type StartMode = 'end' | 'beginning' | 'resume';

/** Where to resume: a file identity and the byte offset just after the last line handed out. JSON-safe. */
export interface Checkpoint {
  dev: string;
  ino: string;
  offset: number;
}

export interface AlertInfo {
  /** Byte offset of the alert's line in its file. */
  offset: number;
  /** The checkpoint just after this alert's line: persist it once the alert is delivered. */
  checkpoint: Checkpoint;
}

export type TailWarning =
  | LineWarning
  | {
      /** `resume-reset`: the checkpoint does not fit the file; `handler-error`: `onAlert` threw. */
      code: 'resume-reset' | 'handler-error';
      offset: number;
      message: string;
    };

export interface TailStatus {
  state: 'waiting' | 'reading' | 'error';
  message: string;
}

export interface TailStats extends LineCounts {
  /** Bytes read from files (including re-reads after truncation). */
  bytes: number;
  rotations: number;
  truncations: number;
}

export interface TailOptions {
  path: string;
  /** Default `end`. */
  start?: StartMode;
  /** Used with `start: 'resume'`. */
  checkpoint?: Checkpoint;
  /** Longest line in bytes, newline excluded; longer lines are skipped. Default 1 MiB. */
  maxLineBytes?: number;
  /** Poll interval, ms. Default 250. */
  pollMs?: number;
  /** Read size, bytes. Default 64 KiB. */
  chunkBytes?: number;
  /** Must not throw; if it does, a `handler-error` warning says so and reading goes on. */
  onAlert(alert: Alert, info: AlertInfo): void;
  onWarning?(warning: TailWarning): void;
  /** Called when the state or its message changes. */
  onStatus?(status: TailStatus): void;
}

interface Identity {
  dev: string;
  ino: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class TailReader {
  private readonly path: string;
  private readonly pollMs: number;
  private readonly maxLineBytes: number;
  private readonly buf: Buffer;
  private readonly lines: AlertLines;
  /** What the first open does: consumed by the first attempt (`end`, `beginning`) or success (a checkpoint). */
  private startAt: 'end' | 'beginning' | Checkpoint | undefined;
  private fh?: FileHandle;
  /** The file being read (or last read); kept after close for `checkpoint()`. */
  private id?: Identity;
  private rotations = 0;
  private truncations = 0;
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private started = false;
  private closed = false;
  private closing?: Promise<void>;
  private lastStatus = '';

  constructor(private readonly opts: TailOptions) {
    this.path = opts.path;
    this.pollMs = opts.pollMs ?? 250;
    this.maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    const chunkBytes = opts.chunkBytes ?? 64 * 1024;
    for (const [name, value] of Object.entries({ pollMs: this.pollMs, maxLineBytes: this.maxLineBytes, chunkBytes })) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`TailReader: ${name} must be a positive integer`);
    }
    const start = opts.start ?? 'end';
    this.startAt = start !== 'resume' ? start : opts.checkpoint ?? 'end';
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.lines = new AlertLines(this.maxLineBytes, {
      alert: (alert, offset, next) => {
        if (this.closed) return;
        const { dev, ino } = this.id!;
        try {
          this.opts.onAlert(alert, { offset, checkpoint: { dev, ino, offset: next } });
        } catch (err) {
          this.warn({ code: 'handler-error', offset, message: `onAlert failed on the line at byte ${offset}: ${errorText(err)}` });
        }
      },
      warning: (w) => this.warn({ ...w, message: `${this.path}: ${w.message}` }),
    });
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.loop();
  }

  /** Stops polling and closes the file; no callback runs once this is called. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.lines.halt();
    clearTimeout(this.timer);
    await this.running;
    await this.closeFile();
  }

  /** Where a new reader should resume; undefined before any file was opened (and no checkpoint given). */
  checkpoint(): Checkpoint | undefined {
    if (this.id) return { ...this.id, offset: this.lines.committed };
    return typeof this.startAt === 'object' ? { ...this.startAt } : undefined;
  }

  get stats(): TailStats {
    return { ...this.lines.counts, bytes: this.bytes, rotations: this.rotations, truncations: this.truncations };
  }

  private loop(): void {
    this.running = this.tick()
      .catch((err) => this.status('error', `cannot read ${this.path}: ${errorText(err)}`))
      .finally(() => {
        this.running = undefined;
        if (!this.closed) this.timer = setTimeout(() => this.loop(), this.pollMs);
      });
  }

  /** One poll: open if needed, read to the end, follow a truncation or rotation. */
  private async tick(): Promise<void> {
    if (!this.fh && !(await this.open())) return;
    for (;;) {
      await this.drain();
      if (this.closed) return;
      this.status('reading', `reading ${this.path}`); // again, after a read error
      const change = await this.change();
      if (this.closed || change === 'none') return;
      if (change === 'truncated') {
        this.lines.flush();
        this.lines.reset(0);
        this.truncations++;
        continue;
      }
      await this.drain(); // what the writer added to the old file before we looked
      if (this.closed) return;
      this.lines.flush();
      this.rotations++;
      await this.closeFile();
      if (!(await this.open())) return;
    }
  }

  /** Opens the file at the path and positions it; false (with a status) when it cannot. */
  private async open(): Promise<boolean> {
    const startAt = this.startAt;
    if (typeof startAt !== 'object') this.startAt = undefined; // `end` applies to a file present at start only
    let fh: FileHandle | undefined;
    let st: BigIntStats;
    try {
      if (!(await fsp.stat(this.path)).isFile()) {
        this.status('error', `cannot read ${this.path}: not a regular file`);
        return false;
      }
      fh = await fsp.open(this.path, 'r');
      st = await fh.stat({ bigint: true });
    } catch (err) {
      await fh?.close().catch(() => undefined);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing) this.status('waiting', `waiting for ${this.path}: it does not exist yet`);
      else this.status('error', `cannot read ${this.path}: ${errorText(err)}`);
      return false;
    }
    this.fh = fh;
    const id: Identity = { dev: String(st.dev), ino: String(st.ino) };
    const size = Number(st.size);
    this.startAt = undefined;
    let position = 0;
    if (startAt === 'end') position = await this.lastLineEnd(fh, size).catch(() => size);
    else if (typeof startAt === 'object') {
      const { dev, ino, offset } = startAt;
      if (dev === id.dev && ino === id.ino && Number.isSafeInteger(offset) && offset >= 0 && offset <= size) position = offset;
      else {
        this.warn({
          code: 'resume-reset',
          offset: 0,
          message:
            `${this.path}: checkpoint (dev ${dev}, inode ${ino}, offset ${offset}) does not fit ` +
            `the file (dev ${id.dev}, inode ${id.ino}, ${size} bytes): reading it from the start`,
        });
      }
    }
    this.id = id;
    this.lines.reset(position);
    this.status('reading', `reading ${this.path}`);
    return true;
  }

  /** Offset just after the last newline before `size` (so that a partial last line is read whole). */
  private async lastLineEnd(fh: FileHandle, size: number): Promise<number> {
    const floor = Math.max(0, size - this.maxLineBytes - 1);
    for (let end = size; end > floor; ) {
      const start = Math.max(floor, end - this.buf.length);
      const { bytesRead } = await fh.read(this.buf, 0, end - start, start);
      if (bytesRead === 0) return size;
      const nl = this.buf.lastIndexOf(10, bytesRead - 1);
      if (nl >= 0) return start + nl + 1;
      end = start;
    }
    return floor === 0 ? 0 : size; // no newline: a lone partial line, or an oversize one (start after it)
  }

  /** Reads the open file to its end. */
  private async drain(): Promise<void> {
    for (;;) {
      const { bytesRead } = await this.fh!.read(this.buf, 0, this.buf.length, this.lines.position);
      if (bytesRead === 0 || this.closed) return;
      this.bytes += bytesRead;
      this.lines.push(this.buf, 0, bytesRead);
    }
  }

  /**
   * After reading to the end: has the file shrunk below our offset, or does the path now name
   * another file that has data? (An empty new file is not switched to yet: the writer may still
   * be adding to the old one. A path that names nothing keeps us on the old file.)
   */
  private async change(): Promise<'none' | 'truncated' | 'rotated'> {
    if ((await this.fh!.stat()).size < this.lines.position) return 'truncated';
    let st;
    try {
      st = await fsp.stat(this.path, { bigint: true });
    } catch {
      return 'none';
    }
    const same = String(st.dev) === this.id!.dev && String(st.ino) === this.id!.ino;
    return same || st.size === 0n ? 'none' : 'rotated';
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private warn(warning: TailWarning): void {
    if (this.closed) return;
    try {
      this.opts.onWarning?.(warning);
    } catch {
      // a throwing warning handler must not stop reading
    }
  }

  private status(state: TailStatus['state'], message: string): void {
    const key = `${state} ${message}`;
    if (this.closed || key === this.lastStatus) return;
    this.lastStatus = key;
    try {
      this.opts.onStatus?.({ state, message });
    } catch {
      // as for warnings
    }
  }
}

/**
 * Tail reader of the manager's `alerts.json` (one JSON alert per line), for `armor-alerts`.
 * Polls (no fs.watch: polling alone works everywhere, NFS and bind mounts included), reads in
 * chunks into one reused Buffer, and hands out parsed alerts in file order (see `./lines` for
 * how lines are split, decoded and sorted).
 *
 * A file is known by its identity (dev, inode) and by its head: the first bytes read from it
 * (up to HEAD_BYTES), kept as its fingerprint. A rotated file is looked for in the path's
 * directory: by identity (rename rotation), or, for a copy, by a name starting with the path's
 * base name (`alerts.json.1`, `alerts.json-20261204`), a size at least our offset and the same
 * head (copytruncate).
 *
 * Guarantees:
 * - Never half a line: a line written in pieces is handed out once, whole; a last line without
 *   its newline is held until the newline comes. When the file is abandoned (rotated away or
 *   truncated with no copy found), held bytes are parsed as they are (a complete JSON object is
 *   handed out, a fragment is reported as invalid JSON).
 * - Within one reader, every line is handed out at most once and in order, across rotation by
 *   rename+create or hard-link swap (the old file is read to its end, then the new one from 0)
 *   and copytruncate: when the file shrinks below our offset, its rotated copy is read from our
 *   offset to its end (the lines written just before the copy), then the file at the path from
 *   0. With no copy to be found, the truncated file is read again from 0.
 * - Across restarts, with `start: 'resume'` and the last `checkpoint()` persisted (by ./checkpoint.ts for armor-alerts):
 *   at least once. What can repeat: the lines handed out after the persisted checkpoint.
 *   A checkpoint points just after a line that was handed out, never past one that was not,
 *   and names its file by identity and head. When the path now names another file (rotated
 *   while no reader ran), the checkpoint's file is found by identity in the same directory and
 *   read from the checkpoint to its end, then the new file from 0. When the path names the
 *   same file but it is shorter than the checkpoint or begins with other bytes (copytruncate
 *   while no reader ran), its copy is found by head and read likewise. A checkpoint of an
 *   older version (no head) is found by identity only.
 *
 * What can be missed (inherent to tailing, documented for operators):
 * - A rotated file deleted, or compressed (gzip replaces `alerts.json.1` by `.1.gz`), before
 *   its end was read: with logrotate's `compress`, use `delaycompress`. Only the one rotated
 *   file that holds our position is read: a file rotated twice before we look loses the whole
 *   middle file.
 * - Lines the writer adds to the old file after the new file at the path already has data.
 * - With copytruncate: lines written between logrotate's copy and its truncation (in neither
 *   file), and lines written before we first read the file (no head to recognise its copy by).
 *   A file truncated then regrown past our offset between two polls looks merely appended to:
 *   reading goes on from the old offset (a first fragment is reported as invalid JSON).
 * - Across a restart: a checkpoint whose file is found neither at the path nor in its
 *   directory, or whose offset is past the end of every candidate, restarts at 0 of the
 *   current file with a `resume-reset` warning.
 *
 * Start modes: `end` (default; like the manager's daemon) skips the complete lines present at
 * start (a partial last line is read whole once it ends); `beginning` reads from 0; `resume`
 * continues from `checkpoint`, and without one behaves like `end` (first deployment). A file
 * that is missing or unreadable at start is waited for and read from 0 when it appears.
 */
import { createHash } from 'crypto';
import { promises as fsp, type BigIntStats } from 'fs';
import type { FileHandle } from 'fs/promises';
import path from 'path';
import { AlertLines, MAX_LINE_BYTES, type LineCounts, type LineWarning } from './lines';
import type { Alert } from '../types';

export type StartMode = 'end' | 'beginning' | 'resume';

/** The head of a file kept as its fingerprint, in bytes: enough to hold the first alert's timestamp and id. */
export const HEAD_BYTES = 1024;

/**
 * Where to resume: a file identity, the byte offset just after the last line handed out, and
 * the file's head fingerprint (absent in checkpoints of earlier versions, which still load,
 * and while nothing was read from the file). JSON-safe.
 */
export interface Checkpoint {
  dev: string;
  ino: string;
  offset: number;
  /** How many bytes at the start of the file `headSha256` covers: 1 to HEAD_BYTES. */
  headBytes?: number;
  /** SHA-256 (hex) of the file's first `headBytes` bytes: finds the file's copy after a copytruncate. */
  headSha256?: string;
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
  /** Moves to the file now at the path: after a rename rotation, or after reading a truncated file's copy. */
  rotations: number;
  /** Times the file shrank below our offset (copytruncate). */
  truncations: number;
  /** Rotated files read because they held our position: copies found after a truncation, files found on resume. */
  recovered: number;
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

interface Head {
  headBytes: number;
  headSha256: string;
}

/** What a rotated file must match: its identity, or (a copy) its head; and hold at least `offset` bytes. */
interface Wanted {
  id?: Identity;
  head?: Head;
  offset: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sameId = (a: Identity, b: Identity): boolean => a.dev === b.dev && a.ino === b.ino;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A checkpoint's head, if well formed. */
function headOf(c: Checkpoint): Head | undefined {
  const { headBytes, headSha256 } = c;
  if (!Number.isInteger(headBytes) || headBytes! < 1 || headBytes! > HEAD_BYTES) return undefined;
  return typeof headSha256 === 'string' && /^[0-9a-f]{64}$/.test(headSha256) ? { headBytes: headBytes!, headSha256 } : undefined;
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
  /** The first bytes read from the current file (`headLen` of them), its fingerprint. */
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private headLen = 0;
  /** The fingerprint as checkpoints carry it; undefined until computed after the head changed. */
  private mark?: Head;
  private rotations = 0;
  private truncations = 0;
  private recovered = 0;
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
    this.startAt = start !== 'resume' ? start : (opts.checkpoint ?? 'end');
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.lines = new AlertLines(this.maxLineBytes, {
      alert: (alert, offset, next) => {
        if (this.closed) return;
        try {
          this.opts.onAlert(alert, { offset, checkpoint: this.checkpointAt(next) });
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
    if (this.id) return this.checkpointAt(this.lines.committed);
    return typeof this.startAt === 'object' ? { ...this.startAt } : undefined;
  }

  get stats(): TailStats {
    const { bytes, rotations, truncations, recovered } = this;
    return { ...this.lines.counts, bytes, rotations, truncations, recovered };
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
        this.truncations++;
        // copytruncate: the lines written since our last read are in the copy, after our offset
        const head = this.headMark();
        const copy = head ? await this.findRotated({ head, offset: this.lines.position }, this.id!) : undefined;
        if (this.closed) {
          await copy?.fh.close();
          return;
        }
        if (copy) {
          // read on in the copy (a held partial line included), then the file at the path from 0
          await this.closeFile();
          [this.fh, this.id] = [copy.fh, copy.id];
          this.recovered++;
          continue;
        }
        this.lines.flush();
        this.lines.reset(0);
        await this.setHead(0);
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
    let id: Identity = { dev: String(st.dev), ino: String(st.ino) };
    const size = Number(st.size);
    this.startAt = undefined;
    let position = 0;
    if (startAt === 'end') position = await this.lastLineEnd(fh, size).catch(() => size);
    else if (typeof startAt === 'object') {
      const found = await this.resumeIn(startAt, fh, id, size).catch(() => undefined);
      if (found && found.fh !== fh) {
        // the rotated file that holds our position: read it to its end, then the path's file from 0
        if (this.closed) await found.fh.close();
        else {
          this.fh = found.fh;
          await fh.close().catch(() => undefined);
          id = found.id;
          this.recovered++;
        }
      }
      if (found) position = startAt.offset;
      else {
        const { dev, ino, offset } = startAt;
        this.warn({
          code: 'resume-reset',
          offset: 0,
          message:
            `${this.path}: checkpoint (dev ${dev}, inode ${ino}, offset ${offset}) does not fit ` +
            `the file (dev ${id.dev}, inode ${id.ino}, ${size} bytes) and no rotated file in its directory holds it: ` +
            `reading it from the start`,
        });
      }
    }
    this.id = id;
    this.lines.reset(position);
    await this.setHead(position).catch(() => undefined);
    this.status('reading', `reading ${this.path}`);
    return true;
  }

  /**
   * The file in which a checkpoint goes on, opened: the path's file (`fh`) when it is the
   * checkpoint's file, at least as long and with the same head; else a rotated file of the
   * directory (found by identity, or by head for a copy). Undefined when none fits.
   */
  private async resumeIn(c: Checkpoint, fh: FileHandle, id: Identity, size: number): Promise<{ fh: FileHandle; id: Identity } | undefined> {
    if (!Number.isSafeInteger(c.offset) || c.offset < 0 || typeof c.dev !== 'string' || typeof c.ino !== 'string') return undefined;
    const head = headOf(c);
    const wanted: Wanted = { id: { dev: c.dev, ino: c.ino }, head, offset: c.offset };
    if (sameId(wanted.id!, id) && (await this.holds(fh, size, wanted))) return { fh, id };
    return this.findRotated(wanted, id);
  }

  /** Does a file of `size` bytes hold what `wanted` needs: `offset` bytes, beginning with its head (if any)? */
  private async holds(fh: FileHandle, size: number, wanted: Wanted): Promise<boolean> {
    const head = wanted.head;
    if (size < Math.max(wanted.offset, head?.headBytes ?? 0)) return false;
    if (!head) return true;
    const bytes = Buffer.allocUnsafe(head.headBytes);
    const { bytesRead } = await fh.read(bytes, 0, head.headBytes, 0);
    return bytesRead === head.headBytes && sha256(bytes) === head.headSha256;
  }

  /**
   * A rotated file in the path's directory that holds `wanted` (see `holds`), opened: the file
   * with its identity (a rename rotation), or one whose name starts with the path's base name
   * and whose head is `wanted.head` (a copy). Never the file at the path or `not`.
   */
  private async findRotated(wanted: Wanted, not: Identity): Promise<{ fh: FileHandle; id: Identity } | undefined> {
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return undefined;
    }
    const candidates: Array<{ file: string; byId: boolean }> = [];
    for (const name of names) {
      const byName = name !== base && name.startsWith(base) && wanted.head !== undefined;
      if (name === base || (!byName && !wanted.id)) continue;
      const file = path.join(dir, name);
      const st = await fsp.stat(file, { bigint: true }).catch(() => undefined);
      if (!st?.isFile()) continue;
      const id = { dev: String(st.dev), ino: String(st.ino) };
      const byId = wanted.id !== undefined && sameId(id, wanted.id);
      if ((byId || byName) && !sameId(id, not)) candidates.push({ file, byId });
    }
    candidates.sort((a, b) => Number(b.byId) - Number(a.byId)); // the file itself before a copy of it
    for (const { file } of candidates) {
      let fh: FileHandle | undefined;
      try {
        fh = await fsp.open(file, 'r');
        const st = await fh.stat({ bigint: true });
        const id = { dev: String(st.dev), ino: String(st.ino) };
        const byId = wanted.id !== undefined && sameId(id, wanted.id);
        if ((byId || wanted.head) && !sameId(id, not) && (await this.holds(fh, Number(st.size), wanted))) return { fh, id };
      } catch {
        // gone meanwhile (compressed, deleted): try the next
      }
      await fh?.close().catch(() => undefined);
    }
    return undefined;
  }

  /** The head of the current file: its first `min(HEAD_BYTES, upTo)` bytes (bytes already read). */
  private async setHead(upTo: number): Promise<void> {
    this.headLen = 0;
    this.mark = undefined;
    const want = Math.min(HEAD_BYTES, upTo);
    if (want === 0 || !this.fh) return;
    const { bytesRead } = await this.fh.read(this.head, 0, want, 0);
    this.headLen = bytesRead;
  }

  /** Bytes `buf[0, n)` just read at `at` of the current file: the part within the head is kept. */
  private noteHead(buf: Buffer, n: number, at: number): void {
    if (at > this.headLen || this.headLen === HEAD_BYTES) return;
    const end = Math.min(HEAD_BYTES, at + n);
    if (end <= this.headLen) return;
    buf.copy(this.head, this.headLen, this.headLen - at, end - at);
    this.headLen = end;
    this.mark = undefined;
  }

  /** The head fingerprint of the current file; undefined while no byte of it was read. */
  private headMark(): Head | undefined {
    if (this.headLen === 0) return undefined;
    return (this.mark ??= { headBytes: this.headLen, headSha256: sha256(this.head.subarray(0, this.headLen)) });
  }

  /** A checkpoint at `offset` of the current file. */
  private checkpointAt(offset: number): Checkpoint {
    const { dev, ino } = this.id!;
    const head = this.headMark();
    return head ? { dev, ino, offset, headBytes: head.headBytes, headSha256: head.headSha256 } : { dev, ino, offset };
  }

  /** Offset just after the last newline before `size` (so that a partial last line is read whole). */
  private async lastLineEnd(fh: FileHandle, size: number): Promise<number> {
    const floor = Math.max(0, size - this.maxLineBytes - 1);
    for (let end = size; end > floor;) {
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
      const at = this.lines.position;
      const { bytesRead } = await this.fh!.read(this.buf, 0, this.buf.length, at);
      if (bytesRead === 0 || this.closed) return;
      this.bytes += bytesRead;
      this.noteHead(this.buf, bytesRead, at);
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

/**
 * The outbox journal's format and its file-system calls (./outbox.ts): one JSON record a line,
 *   {"op":"meta","v":1,"next":N}                    first line: format version, next seq to use
 *   {"op":"add","seq":S,"at":MS,"data":<json>}      an entry (its id is the decimal seq)
 *   {"op":"done","seqs":[S,...]}                    entries delivered or finally failed
 * and the errors of the disk under it, as `OutboxDiskError`.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The journal's format version (its meta record). */
export const VERSION = 1;

/**
 * An I/O error from the journal's file system (opening, writing, truncating, renaming): `code`
 * is the errno name (ENOSPC and EDQUOT: the disk is full). The message is the system's, without
 * the data.
 */
export class OutboxDiskError extends Error {
  readonly code: string;

  constructor(cause: unknown) {
    const err = cause as NodeJS.ErrnoException;
    super(err?.message ?? String(cause));
    this.name = 'OutboxDiskError';
    this.code = typeof err?.code === 'string' ? err.code : 'EIO';
  }

  /** Whether the disk (or the user's quota) is full. */
  get full(): boolean {
    return this.code === 'ENOSPC' || this.code === 'EDQUOT';
  }
}

/** A file system error as an OutboxDiskError; anything else (a bug, a bad journal) as it is. */
export function diskError(err: unknown): unknown {
  if (err instanceof OutboxDiskError) return err;
  return typeof (err as NodeJS.ErrnoException)?.code === 'string' ? new OutboxDiskError(err) : err;
}

export function doneRecord(seqs: readonly number[]): string {
  return `{"op":"done","seqs":[${seqs.join(',')}]}\n`;
}

export function meta(next: number): string {
  return `{"op":"meta","v":${VERSION},"next":${next}}\n`;
}

export function isSeq(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) > 0;
}

export function writeAll(fd: number, buf: Buffer): void {
  for (let done = 0; done < buf.length;) done += fs.writeSync(fd, buf, done, buf.length - done);
}

export function readAll(fd: number, buf: Buffer, position: number): void {
  for (let done = 0; done < buf.length;) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('outbox journal ended early');
    done += n;
  }
}

/**
 * mkdir -p. Node's recursive mkdir says ENOENT when a parent cannot be made (a read-only or full
 * disk): the first missing directory is then made alone, to throw the real reason (EROFS, ENOSPC).
 */
export function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    let missing = dir;
    while (!fs.existsSync(path.dirname(missing)) && path.dirname(missing) !== missing) missing = path.dirname(missing);
    fs.mkdirSync(missing, { mode: 0o700 });
    throw err;
  }
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EIO on close: nothing more can be done with it
  }
}

export function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // a leftover temp file is removed at the next open
  }
}

/** Makes a rename or a new file in `dir` durable; not every platform can fsync a directory. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // e.g. Windows: directories cannot be opened for fsync
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

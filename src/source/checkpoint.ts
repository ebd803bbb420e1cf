/**
 * Where `armor-alerts` keeps its read position, and when it saves it: the checkpoint store.
 *
 * A position is saved only once the alert just before it was handed to the flow at least
 * `safeAfterMs` ago (by then that alert has crossed the flow into an outbox), so a crash or a
 * redeploy re-reads the last second or two rather than skipping anything. On the first save of
 * a run with nothing that old yet, the position where reading began is saved. The file is
 * written whole and renamed over the old one; a position saved by an older version (without the
 * file's head fingerprint) still loads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Checkpoint } from './tail';

/** A read position is saved once the alert before it was handed to the flow this long ago. */
export const CHECKPOINT_SAFE_AFTER_MS = 1000;

/** Where a node's read position is kept: <userDir>/armor-integrations/checkpoints/<id>.json. */
export function checkpointFile(userDir: string | undefined, id: string): string {
  return path.join(
    userDir ?? path.join(os.homedir(), '.node-red'),
    'armor-integrations',
    'checkpoints',
    `${id.replace(/[^\w.-]/g, '_')}.json`,
  );
}

/** A saved checkpoint: `{ dev, ino, offset }` and the file's head fingerprint (a checkpoint saved before the fingerprint existed loads without it). */
export function readCheckpoint(file: string): Checkpoint | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Checkpoint;
    if (typeof c.dev !== 'string' || typeof c.ino !== 'string' || !Number.isInteger(c.offset)) return undefined;
    const { dev, ino, offset, headBytes, headSha256 } = c;
    return Number.isInteger(headBytes) && typeof headSha256 === 'string'
      ? { dev, ino, offset, headBytes, headSha256 }
      : { dev, ino, offset };
  } catch {
    return undefined;
  }
}

export function writeCheckpoint(file: string, c: Checkpoint): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(c));
  fs.renameSync(tmp, file);
}

export class CheckpointStore {
  /** Checkpoints of alerts handed to the flow, newest last, one per millisecond at most. */
  private readonly recent: Array<{ at: number; checkpoint: Checkpoint }> = [];
  private saved = '';
  /** The position just before the first alert handed out in this run. */
  private first: Checkpoint | undefined;

  constructor(
    readonly file: string,
    private readonly safeAfterMs = CHECKPOINT_SAFE_AFTER_MS,
  ) {}

  /** The position saved last (by this run or an earlier one), if any. */
  load(): Checkpoint | undefined {
    return readCheckpoint(this.file);
  }

  /** An alert at `offset` was handed to the flow at `now`; `after` is the position just after it. */
  handedOut(now: number, offset: number, after: Checkpoint): void {
    this.first ??= { ...after, offset };
    const last = this.recent[this.recent.length - 1];
    if (last && last.at === now) last.checkpoint = after;
    else this.recent.push({ at: now, checkpoint: after });
  }

  /**
   * Saves the newest position that is safe at `now` (see the module comment); `current` is the
   * reader's position, saved on a first save when nothing was handed out yet. Throws what the
   * file system throws; nothing is lost then (the next save tries again).
   */
  save(now: number, current?: Checkpoint): void {
    let safe: Checkpoint | undefined;
    while (this.recent.length > 0 && this.recent[0].at <= now - this.safeAfterMs) safe = this.recent.shift()!.checkpoint;
    // first save of this run: where reading started, so that a restart re-reads rather than skips
    if (!safe && this.saved === '') safe = this.first ?? current;
    if (!safe) return;
    const text = JSON.stringify(safe);
    if (text === this.saved) return;
    writeCheckpoint(this.file, safe);
    this.saved = text;
  }
}

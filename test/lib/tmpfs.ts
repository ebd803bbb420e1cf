/**
 * A real small file system to fill up: a tmpfs mounted on a directory (needs root). Filling it
 * leaves no free page, so any write that needs one more page fails with ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** tmpfs allocates whole pages: a write that stays within a file's last page needs no space. */
export const PAGE = 4096;

/**
 * Mounts a tmpfs of `sizeMb` MiB on `dir` (created if needed). Returns undefined, or why it is not
 * permitted here (not root, no CAP_SYS_ADMIN in a container): only that case may skip a test.
 */
export function mountTmpfs(dir: string, sizeMb = 8): string | undefined {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    const text = `${String((e as { stderr?: Buffer }).stderr ?? '')} ${(e as Error).message}`;
    if (/permission denied|must be superuser|operation not permitted|EPERM/i.test(text)) {
      return `mounting a tmpfs is not permitted here (${text.trim().split('\n')[0]})`;
    }
    throw e;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

/** Writes `file` until the file system is full (ENOSPC); returns the bytes written. */
export function fill(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  let written = 0;
  try {
    for (;;) written += fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

/** Free bytes on the file system of `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(path.resolve(dir));
  return s.bavail * s.bsize;
}

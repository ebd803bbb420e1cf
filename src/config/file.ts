/**
 * Reads a config file (an ossec.conf, or any file said to hold `<integration>` blocks) for the
 * armor-integration node's file mode and the editor's check, without ever blocking the event
 * loop: only a regular file is opened (checked by `stat` before and by `fstat` after a
 * non-blocking open, so a FIFO or device swapped in between cannot hang the read), its size
 * is checked before anything is read, and the whole read gives up after a deadline.
 *
 * Messages name the path and what is wrong (missing, not a regular file, too large,
 * unreadable with its errno code, timed out); they never quote the file. A file without any
 * `<integration` element is not an integration config: it is reported as such and not parsed,
 * so that no parser message can quote its text.
 */
import fs from 'node:fs';
import { MAX_CONFIG_BYTES, parseIntegrations } from './parse';
import type { ParseResult } from '../types';

/** How long a read may take, stat to last byte, before it is abandoned. */
export const CONFIG_READ_TIMEOUT_MS = 5000;

export type ConfigFileProblem = 'no-path' | 'missing' | 'not-a-file' | 'too-large' | 'unreadable' | 'timeout';

/** Why a config file could not be read; `message` is `cannot read <path>: <reason>`. */
export class ConfigFileError extends Error {
  constructor(
    readonly problem: ConfigFileProblem,
    readonly file: string,
    /** What is wrong, in words, without the path. */
    readonly reason: string,
    /** A few words for a node status. */
    readonly brief: string,
    /** The errno code, when the system gave one. */
    readonly code?: string,
  ) {
    super(`cannot read ${file}: ${reason}`);
    this.name = 'ConfigFileError';
  }
}

export interface ReadConfigOptions {
  /** Deadline of the whole read in ms (default CONFIG_READ_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Non-blocking open: opening a FIFO for reading would otherwise wait for a writer. */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** An `<integration>` element's start tag (also `<integration/>`); what makes a file a config. */
const INTEGRATION_ELEMENT = /<integration[\s/>]/;

function kindOf(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function systemError(file: string, e: unknown): ConfigFileError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ConfigFileError('missing', file, 'no such file (ENOENT)', 'no such file (ENOENT)', code);
  const what = code ?? (e as Error).message;
  return new ConfigFileError('unreadable', file, `unreadable (${what})`, `unreadable (${what})`, code);
}

function tooLarge(file: string, size: string): ConfigFileError {
  return new ConfigFileError(
    'too-large',
    file,
    `the file is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB); nothing was read`,
    `too large (${size} bytes; limit 1 MiB)`,
  );
}

/** Throws unless `stats` are those of a regular file of at most MAX_CONFIG_BYTES. */
function mustBeSmallRegularFile(file: string, stats: fs.Stats): void {
  if (!stats.isFile()) {
    const kind = kindOf(stats);
    throw new ConfigFileError('not-a-file', file, `not a regular file (${kind})`, `not a regular file (${kind})`);
  }
  if (stats.size > MAX_CONFIG_BYTES) throw tooLarge(file, String(stats.size));
}

/**
 * Opens `file` without blocking and checks the opened handle (`fstat`): a regular file of at
 * most 1 MiB, else the handle is closed and the reason thrown. With `stat` before it, this
 * closes the window where something else is put at the path between the check and the open.
 */
export async function openConfigFile(file: string): Promise<{ handle: fs.promises.FileHandle; size: number }> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, OPEN_FLAGS);
  } catch (e) {
    throw systemError(file, e);
  }
  try {
    const stats = await handle.stat();
    mustBeSmallRegularFile(file, stats);
    return { handle, size: stats.size };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e instanceof ConfigFileError ? e : systemError(file, e);
  }
}

/** The read itself; `gaveUp()` turns true when the deadline has passed (the result is then unused). */
async function readSmallRegularFile(file: string, gaveUp: () => boolean): Promise<string> {
  let stats: fs.Stats;
  try {
    stats = await fs.promises.stat(file);
  } catch (e) {
    throw systemError(file, e);
  }
  mustBeSmallRegularFile(file, stats);
  if (gaveUp()) return '';
  const { handle, size } = await openConfigFile(file);
  try {
    // One byte more than the file's size, to see it grow; never more than the limit plus one.
    let buffer = Buffer.allocUnsafe(Math.min(size, MAX_CONFIG_BYTES) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > MAX_CONFIG_BYTES) throw tooLarge(file, `more than ${MAX_CONFIG_BYTES}`);
        const bigger = Buffer.allocUnsafe(MAX_CONFIG_BYTES + 1);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, length, buffer.length - length, length));
      } catch (e) {
        throw systemError(file, e);
      }
      if (bytesRead === 0 || gaveUp()) break;
      length += bytesRead;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The text of config file `file` (UTF-8), read asynchronously: a regular file of at most
 * 1 MiB (MAX_CONFIG_BYTES), within `timeoutMs`. Rejects with a ConfigFileError otherwise.
 */
export function readConfigFile(file: unknown, options: ReadConfigOptions = {}): Promise<string> {
  if (typeof file !== 'string' || file.trim() === '') {
    return Promise.reject(new ConfigFileError('no-path', '', 'no file path is given', 'no file path is given'));
  }
  const timeoutMs = options.timeoutMs ?? CONFIG_READ_TIMEOUT_MS;
  let expired = false;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      expired = true;
      const seconds = `${timeoutMs / 1000} s`;
      reject(
        new ConfigFileError('timeout', file, `no answer from the file system within ${seconds}; gave up`, `timed out after ${seconds}`),
      );
    }, timeoutMs);
    readSmallRegularFile(file, () => expired).then(
      (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * `parseIntegrations` of config file `file`, read by readConfigFile (which rejects on a file
 * that cannot be read). A file without any `<integration` element is not parsed: the result
 * is one warning, `config: no <integration> block found in <path>`, and nothing quoted from
 * the file. A file with one gets the usual errors and warnings, which may quote its text.
 */
export async function parseConfigFile(file: unknown, options: ReadConfigOptions = {}): Promise<ParseResult> {
  const text = await readConfigFile(file, options);
  if (!INTEGRATION_ELEMENT.test(text)) {
    return { integrations: [], errors: [], warnings: [{ block: -1, message: `config: no <integration> block found in ${String(file)}` }] };
  }
  return parseIntegrations(text);
}

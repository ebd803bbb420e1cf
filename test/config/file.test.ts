import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MAX_CONFIG_BYTES } from '../../src/config/parse';
import { ConfigFileError, openConfigFile, parseConfigFile, readConfigFile } from '../../src/config/file';

/** The ConfigFileError `p` rejects with (fails when it resolves or rejects otherwise). */
async function refusal(p: Promise<unknown>): Promise<ConfigFileError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConfigFileError, `not a ConfigFileError: ${String(e)}`);
    return e;
  }
  assert.fail('it was read');
}

describe('config file reader', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-cfgread-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string | Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('reads a regular file of exactly 1 MiB, and refuses one byte more by its size', async () => {
    const block = '<integration><name>slack</name></integration>\n';
    const exact = write('exact.conf', block + ' '.repeat(MAX_CONFIG_BYTES - block.length));
    assert.equal((await readConfigFile(exact)).length, MAX_CONFIG_BYTES);
    assert.equal((await parseConfigFile(exact)).integrations.length, 1);
    const over = write('over.conf', block + ' '.repeat(MAX_CONFIG_BYTES - block.length + 1));
    const e = await refusal(readConfigFile(over));
    assert.equal(e.problem, 'too-large');
    assert.equal(e.message, `cannot read ${over}: the file is 1048577 bytes; the limit is 1048576 bytes (1 MiB); nothing was read`);
    assert.equal(e.brief, 'too large (1048577 bytes; limit 1 MiB)');
  });

  it('refuses a directory, a FIFO, a character device and a socket before opening them', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const socket = path.join(dir, 'sock');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      for (const [file, kind] of [
        [dir, 'a directory'],
        [fifo, 'a FIFO'],
        ['/dev/zero', 'a character device'],
        [socket, 'a socket'],
      ]) {
        const e = await refusal(readConfigFile(file));
        assert.equal(e.problem, 'not-a-file');
        assert.equal(e.message, `cannot read ${file}: not a regular file (${kind})`);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('checks the opened handle too: a FIFO or device opened in place of a file neither blocks nor is read', async () => {
    // what a file swapped for a FIFO between the stat and the open would meet
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.equal((await refusal(openConfigFile(fifo))).message, `cannot read ${fifo}: not a regular file (a FIFO)`);
    assert.equal((await refusal(openConfigFile('/dev/zero'))).message, 'cannot read /dev/zero: not a regular file (a character device)');
    const { handle, size } = await openConfigFile(write('ok.conf', 'abc'));
    assert.equal(size, 3);
    await handle.close();
  });

  it('says a file is missing or unreadable, with the path and errno code', async () => {
    const missing = path.join(dir, 'nope.conf');
    const gone = await refusal(readConfigFile(missing));
    assert.deepEqual([gone.problem, gone.code, gone.message], ['missing', 'ENOENT', `cannot read ${missing}: no such file (ENOENT)`]);
    const under = path.join(write('plain', 'x'), 'ossec.conf'); // a path through a file
    const bad = await refusal(readConfigFile(under));
    assert.deepEqual([bad.problem, bad.code, bad.message], ['unreadable', 'ENOTDIR', `cannot read ${under}: unreadable (ENOTDIR)`]);
    const none = await refusal(readConfigFile(''));
    assert.deepEqual([none.problem, none.message], ['no-path', 'cannot read : no file path is given']);
  });

  it('gives up after its deadline when the file system does not answer', async function () {
    // Every thread of libuv's pool (4 unless UV_THREADPOOL_SIZE says otherwise) blocked in a
    // plain open of a FIFO that waits for a writer: the reader's stat cannot even start, as on
    // a hung network mount. Opening each FIFO for writing on this thread releases them.
    const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    const fifos = Array.from({ length: threads }, (_, k) => path.join(dir, `stuck-${k}`));
    for (const f of fifos) execFileSync('mkfifo', [f]);
    const stuck = fifos.map((f) => fs.promises.open(f, 'r'));
    const file = write('ossec.conf', '<integration><name>slack</name></integration>');
    try {
      const t0 = Date.now();
      const e = await refusal(readConfigFile(file, { timeoutMs: 300 }));
      const ms = Date.now() - t0;
      assert.equal(e.problem, 'timeout');
      assert.equal(e.message, `cannot read ${file}: no answer from the file system within 0.3 s; gave up`);
      assert.ok(ms >= 290 && ms < 3000, `gave up after ${ms} ms`);
    } finally {
      const writers = fifos.map((f) => fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      for (const handle of await Promise.all(stuck)) await handle.close();
      for (const fd of writers) fs.closeSync(fd);
    }
    // the pool is free again: the same file reads at once
    assert.match(await readConfigFile(file, { timeoutMs: 2000 }), /<name>slack</);
  });

  it('parses a file with an <integration> element, and quotes nothing of a file without one', async () => {
    const conf = write(
      'ossec.conf',
      '<ossec_config>\n<integration>\n<name>slack</name>\n<level>high</level>\n</integration>\n</ossec_config>\n',
    );
    assert.deepEqual(
      (await parseConfigFile(conf)).errors.map((e) => e.message),
      ['integration #1 (slack): <level> must be an integer from 0 to 16, got "high"'],
    );
    const other = write('app.xml', '<settings>\n<password>hunter2<SECRET</password>\n<!-- integration -->\n</settings>\n');
    assert.deepEqual(await parseConfigFile(other), {
      integrations: [],
      errors: [],
      warnings: [{ block: -1, message: `config: no <integration> block found in ${other}` }],
    });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlertLines, parseAlertPayload, type LineWarning } from '../../src/source/lines';
import { HEAD_BYTES, TailReader, type AlertInfo, type TailOptions, type TailStatus, type TailWarning } from '../../src/source/tail';
import type { Alert } from '../../src/types';

const SHARED = path.join(__dirname, '..', '..', '..', 'shared');
/** The 24 sample lines; line 16 (index 15) has no `rule`: not an alert. */
const SAMPLES = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l !== '');
const idOf = (line: string): string => JSON.parse(line).id;
const ALERT_IDS = SAMPLES.filter((_, i) => i !== 15).map(idOf);
const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');
/** A small alert whose `full_log` is `log`. */
const alertLine = (id: string, log = 'x'): string => JSON.stringify({ id, rule: { id: '1', level: 3 }, full_log: log });
/** An alert line whose `data` is `arrays` arrays nested in one another: nesting depth `arrays + 1`. */
const deepLine = (id: string, arrays: number): string =>
  `{"id":"${id}","rule":{"id":"1","level":3},"data":${'['.repeat(arrays)}${']'.repeat(arrays)}}`;

interface Run {
  reader: TailReader;
  alerts: { alert: Alert; info: AlertInfo }[];
  warnings: TailWarning[];
  statuses: TailStatus[];
  ids(): (string | undefined)[];
}

describe('tail reader (alerts.json)', () => {
  let dir: string;
  let file: string;
  let runs: Run[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-tail-'));
    file = path.join(dir, 'alerts.json');
    runs = [];
  });

  afterEach(async () => {
    await Promise.all(runs.map((r) => r.reader.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function tail(opts: Partial<TailOptions> = {}): Run {
    const run: Run = {
      alerts: [],
      warnings: [],
      statuses: [],
      ids: () => run.alerts.map((a) => a.alert.id),
      reader: new TailReader({
        path: file,
        pollMs: 20,
        onAlert: (alert, info) => run.alerts.push({ alert, info }),
        onWarning: (w) => run.warnings.push(w),
        onStatus: (s) => run.statuses.push(s),
        ...opts,
      }),
    };
    runs.push(run);
    run.reader.start();
    return run;
  }

  /** Waits (polling) until `cond` holds; fails with `what` after 5 s. */
  async function until(cond: () => boolean, what: string): Promise<void> {
    for (let waited = 0; !cond(); waited += 5) {
      if (waited > 5000) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  const append = (data: string | Buffer, to = file) => fs.appendFileSync(to, data);
  /** A few poll rounds, for asserting that nothing more happens. */
  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('hands out a line written in two pieces once, whole, and only after its newline', async () => {
    const line = alertLine('split');
    fs.writeFileSync(file, '');
    const run = tail();
    append(line.slice(0, 20));
    await until(() => run.reader.stats.bytes === 20, 'the first piece to be read');
    append(line.slice(20));
    await until(() => run.reader.stats.bytes === line.length, 'the second piece to be read');
    assert.equal(run.alerts.length, 0); // no newline yet: held
    append('\n');
    await until(() => run.alerts.length === 1, 'the alert');
    await settle();
    assert.deepEqual(run.ids(), ['split']);
    assert.deepEqual(run.alerts[0].info, { offset: 0, checkpoint: { ...run.reader.checkpoint()!, offset: line.length + 1 } });
    assert.deepEqual(run.warnings, []);
  });

  it('skips an invalid JSON line, reports its byte offset, and reads the lines after it', async () => {
    const first = alertLine('one', 'café ☕'); // multi-byte: offsets are in bytes
    const bad = '{"rule": {"id": "1"}, oops}';
    fs.writeFileSync(file, '');
    const run = tail({ start: 'beginning' });
    append(text([first, bad, alertLine('two')]));
    await until(() => run.alerts.length === 2, 'two alerts');
    const offset = Buffer.byteLength(first) + 1;
    assert.deepEqual(run.ids(), ['one', 'two']);
    assert.equal(run.warnings.length, 1);
    assert.equal(run.warnings[0].code, 'invalid-json');
    assert.equal(run.warnings[0].offset, offset);
    assert.match(run.warnings[0].message, new RegExp(`^${file}: line at byte ${offset} is not valid JSON \\(.+\\): skipped$`));
    assert.equal(run.reader.stats.invalid, 1);
  });

  it('skips a JSON line that is not an object with a not-an-object warning, and counts an object without rule as not an alert', async () => {
    fs.writeFileSync(file, '');
    const run = tail({ start: 'beginning' });
    append(text(['[1,2]', SAMPLES[15], '', '  ', alertLine('after')]));
    await until(() => run.alerts.length === 1, 'the alert');
    assert.deepEqual(run.ids(), ['after']);
    assert.deepEqual(
      run.warnings.map((w) => [w.code, w.offset]),
      [['not-an-object', 0]],
    );
    const { lines, alerts, notAlerts, invalid, oversize } = run.reader.stats;
    assert.deepEqual({ lines, alerts, notAlerts, invalid, oversize }, { lines: 3, alerts: 1, notAlerts: 1, invalid: 1, oversize: 0 });
  });

  it('skips a line nested 100,000 arrays deep with a too-deep warning naming its byte offset, and reads the alert after it', async () => {
    const first = alertLine('one');
    const deep = deepLine('deep', 100_000);
    fs.writeFileSync(file, '');
    const run = tail({ start: 'beginning' });
    append(text([first, deep, alertLine('after')]));
    await until(() => run.alerts.length >= 2, 'two alerts');
    await settle();
    const offset = first.length + 1;
    assert.deepEqual(run.ids(), ['one', 'after']);
    assert.deepEqual(run.warnings, [
      {
        code: 'too-deep',
        offset,
        bytes: deep.length,
        message: `${file}: line at byte ${offset} nests objects and arrays deeper than 64 levels: skipped`,
      },
    ]);
    const { lines, alerts, invalid } = run.reader.stats;
    assert.deepEqual({ lines, alerts, invalid }, { lines: 3, alerts: 2, invalid: 1 });
    assert.equal(run.reader.checkpoint()!.offset, fs.statSync(file).size);
  });

  it('accepts a line of exactly maxLineBytes and skips a longer one, read in small chunks, then reads the next line', async () => {
    const max = 300;
    const exact = alertLine('exact', 'a'.repeat(max - alertLine('exact', '').length));
    const over = alertLine('over', 'b'.repeat(5000));
    assert.equal(Buffer.byteLength(exact), max);
    fs.writeFileSync(file, '');
    const run = tail({ start: 'beginning', maxLineBytes: max, chunkBytes: 64 });
    append(text([exact, over, alertLine('next')]));
    await until(() => run.alerts.length === 2, 'two alerts');
    assert.deepEqual(run.ids(), ['exact', 'next']);
    assert.deepEqual(run.warnings, [
      {
        code: 'oversize',
        offset: max + 1,
        bytes: over.length,
        message: `${file}: line at byte ${max + 1} is ${over.length} bytes, over the limit of ${max}: skipped`,
      },
    ]);
    assert.equal(run.reader.stats.oversize, 1);
    assert.equal(run.reader.checkpoint()!.offset, fs.statSync(file).size);
  });

  it('start=end skips the lines already there and reads the ones appended', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 5)));
    const run = tail({ start: 'end' });
    await until(() => run.reader.checkpoint() !== undefined, 'the file to be opened');
    append(text(SAMPLES.slice(5, 8)));
    await until(() => run.alerts.length === 3, 'three alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(5, 8).map(idOf));
    assert.equal(run.alerts[0].info.offset, Buffer.byteLength(text(SAMPLES.slice(0, 5))));
  });

  it('start=end reads a partial last line whole once it ends', async () => {
    const partial = SAMPLES[1];
    fs.writeFileSync(file, text([SAMPLES[0]]) + partial.slice(0, 100));
    const run = tail({ start: 'end', chunkBytes: 16 }); // looks back for the last newline in several reads
    await until(() => run.reader.checkpoint() !== undefined, 'the file to be opened');
    assert.equal(run.reader.checkpoint()!.offset, SAMPLES[0].length + 1);
    append(`${partial.slice(100)}\n`);
    await until(() => run.alerts.length === 1, 'the alert');
    assert.deepEqual(run.ids(), [idOf(partial)]);
    assert.deepEqual(run.warnings, []);
  });

  it('start=beginning reads every sample line: 23 alerts and 1 object without rule', async () => {
    fs.writeFileSync(file, text(SAMPLES));
    const run = tail({ start: 'beginning' });
    await until(() => run.reader.stats.lines === 24, '24 lines');
    assert.deepEqual(run.ids(), ALERT_IDS);
    assert.deepEqual(run.reader.stats, {
      lines: 24,
      alerts: 23,
      notAlerts: 1,
      invalid: 0,
      oversize: 0,
      bytes: Buffer.byteLength(text(SAMPLES)),
      rotations: 0,
      truncations: 0,
      recovered: 0,
    });
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(run.statuses, [{ state: 'reading', message: `reading ${file}` }]);
  });

  it('resumes from a checkpoint taken mid-way without repeating or skipping a line', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 12)));
    const first = tail({
      start: 'beginning',
      onAlert: (alert, info) => {
        first.alerts.push({ alert, info });
        if (first.alerts.length === 5) void first.reader.close(); // stop in the middle of a chunk
      },
    });
    await until(() => first.alerts.length === 5, 'five alerts');
    await first.reader.close();
    const checkpoint = first.reader.checkpoint()!;
    assert.equal(checkpoint.offset, Buffer.byteLength(text(SAMPLES.slice(0, 5))));
    assert.deepEqual(checkpoint, first.alerts[4].info.checkpoint);
    append(text(SAMPLES.slice(12)));
    const second = tail({ start: 'resume', checkpoint });
    await until(() => second.reader.stats.lines === 19, 'the 19 remaining lines');
    await settle();
    assert.deepEqual([...first.ids(), ...second.ids()], ALERT_IDS);
    assert.deepEqual(first.ids(), ALERT_IDS.slice(0, 5));
    assert.deepEqual(second.warnings, []);
  });

  it('resume starts at 0 of the current file when the checkpoint names another file or is past its end', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 2)));
    const { dev, ino, size } = fs.statSync(file, { bigint: true });
    const cases = [
      { dev: String(dev), ino: String(ino + 1n), offset: 10 }, // another inode
      { dev: String(dev), ino: String(ino), offset: Number(size) + 1 }, // past the end
    ];
    for (const checkpoint of cases) {
      const run = tail({ start: 'resume', checkpoint });
      await until(() => run.alerts.length === 2, 'both alerts');
      assert.deepEqual(run.ids(), SAMPLES.slice(0, 2).map(idOf));
      assert.deepEqual(
        run.warnings.map((w) => [w.code, w.offset]),
        [['resume-reset', 0]],
      );
      await run.reader.close();
    }
  });

  it('resume without a checkpoint starts at the end, like start=end', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 2)));
    const run = tail({ start: 'resume' });
    await until(() => run.reader.checkpoint() !== undefined, 'the file to be opened');
    append(text([SAMPLES[2]]));
    await until(() => run.alerts.length === 1, 'the alert');
    await settle();
    assert.deepEqual(run.ids(), [idOf(SAMPLES[2])]);
  });

  it('follows a rename+create rotation: the old file is read to its end (lines added after the rename included), then the new one from 0', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 3, 'three alerts');
    const old = `${file}.1`;
    fs.renameSync(file, old);
    append(text(SAMPLES.slice(3, 5)), old); // the writer still holds the old file
    fs.writeFileSync(file, ''); // the new file exists, empty
    await until(() => run.alerts.length === 5, 'the lines added to the old file');
    await settle(); // polls that see the new file empty
    append(text(SAMPLES.slice(5, 7)), old);
    await until(() => run.alerts.length === 7, 'the old file read to its end');
    append(text(SAMPLES.slice(7, 10))); // the writer switched
    await until(() => run.alerts.length === 10, 'ten alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 10).map(idOf));
    assert.equal(run.reader.stats.rotations, 1);
    const newHead = Buffer.from(text(SAMPLES.slice(7, 10))).subarray(0, HEAD_BYTES);
    assert.deepEqual(run.alerts[7].info.checkpoint, {
      dev: String(fs.statSync(file, { bigint: true }).dev),
      ino: String(fs.statSync(file, { bigint: true }).ino),
      offset: Buffer.byteLength(SAMPLES[7]) + 1,
      headBytes: newHead.length,
      headSha256: createHash('sha256').update(newHead).digest('hex'),
    });
    assert.equal(run.alerts[7].info.offset, 0);
  });

  it('reads the old file to its end when the new file already has lines at the first look', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 2)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 2, 'two alerts');
    const old = `${file}.1`;
    fs.renameSync(file, old);
    append(text(SAMPLES.slice(2, 4)), old);
    fs.writeFileSync(file, text(SAMPLES.slice(4, 6)));
    await until(() => run.alerts.length === 6, 'six alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 6).map(idOf));
    assert.equal(run.reader.stats.rotations, 1);
  });

  it('hands out the last line of a rotated file that has no newline, when the new file gets lines', async () => {
    fs.writeFileSync(file, `${SAMPLES[0]}\n${SAMPLES[1]}`);
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 1, 'the first alert');
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, text([SAMPLES[2]]));
    await until(() => run.alerts.length === 3, 'three alerts');
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 3).map(idOf));
    assert.deepEqual(run.warnings, []);
  });

  it('follows a hard-link swap rotation (a new inode renamed over the path)', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 3, 'three alerts');
    fs.linkSync(file, `${file}.1`); // the archive name keeps the old inode
    append(text(SAMPLES.slice(3, 5)), `${file}.1`);
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, text(SAMPLES.slice(5, 8)));
    fs.renameSync(tmp, file);
    await until(() => run.alerts.length === 8, 'eight alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 8).map(idOf));
    assert.equal(run.reader.stats.rotations, 1);
  });

  it('follows copytruncate: the file shrinks below our offset and is read again from 0', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 4)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 4, 'four alerts');
    fs.copyFileSync(file, `${file}.1`);
    fs.truncateSync(file, 0);
    append(text(SAMPLES.slice(4, 6)));
    await until(() => run.alerts.length === 6, 'six alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 6).map(idOf));
    assert.equal(run.reader.stats.truncations, 1);
    assert.equal(run.reader.checkpoint()!.offset, Buffer.byteLength(text(SAMPLES.slice(4, 6))));
  });

  it('copytruncate: the lines written just before the copy and not yet read are read from the copy (a dateext name), then the file from 0', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 4)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 4, 'four alerts');
    // all at once, between two polls: two lines and half of a third appended, copied, truncated
    append(text(SAMPLES.slice(4, 6)) + SAMPLES[6].slice(0, 50));
    fs.writeFileSync(`${file}-20261203`, text(SAMPLES.slice(20, 23))); // an older rotation: another head
    fs.copyFileSync(file, `${file}-20261204`);
    fs.truncateSync(file, 0);
    append(text(SAMPLES.slice(7, 9)));
    await until(() => run.alerts.length === 8, 'eight alerts');
    await settle();
    // the third line is cut: its start is in the copy, its end went with the truncation
    assert.deepEqual(run.ids(), [...SAMPLES.slice(0, 6), ...SAMPLES.slice(7, 9)].map(idOf));
    assert.deepEqual(
      run.warnings.map((w) => [w.code, w.offset]),
      [['invalid-json', Buffer.byteLength(text(SAMPLES.slice(0, 6)))]],
    );
    assert.deepEqual([run.reader.stats.truncations, run.reader.stats.recovered], [1, 1]);
  });

  it('a truncated file whose copy is gone (compressed, deleted) is read again from 0; a rotated file with another head is not read', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 4)));
    const run = tail({ start: 'beginning' });
    await until(() => run.alerts.length === 4, 'four alerts');
    fs.writeFileSync(`${file}.2`, text(SAMPLES.slice(10, 20))); // long enough, but begins otherwise
    fs.truncateSync(file, 0);
    append(text(SAMPLES.slice(4, 6)));
    await until(() => run.alerts.length === 6, 'six alerts');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 6).map(idOf));
    assert.deepEqual([run.reader.stats.truncations, run.reader.stats.recovered], [1, 0]);
  });

  it('resume after a copytruncate while no reader ran, the file regrown past the checkpoint: the copy is found by its head and read from the checkpoint', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    const first = tail({ start: 'beginning' });
    await until(() => first.alerts.length === 3, 'three alerts');
    await first.reader.close();
    const checkpoint = first.reader.checkpoint()!;
    assert.equal(checkpoint.headBytes, Math.min(HEAD_BYTES, checkpoint.offset));
    append(text(SAMPLES.slice(3, 5)));
    fs.copyFileSync(file, `${file}.1`);
    fs.truncateSync(file, 0);
    append(text(SAMPLES.slice(5, 12))); // more bytes than the checkpoint's offset: looks appended to
    assert.ok(fs.statSync(file).size > checkpoint.offset);
    const second = tail({ start: 'resume', checkpoint: JSON.parse(JSON.stringify(checkpoint)) });
    await until(() => second.alerts.length === 9, 'nine alerts');
    await settle();
    assert.deepEqual(second.ids(), SAMPLES.slice(3, 12).map(idOf));
    assert.deepEqual(second.warnings, []);
  });

  it('resume from a checkpoint without head (an earlier version) after a rename rotation: the old file is found by inode and read to its end first', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    const first = tail({ start: 'beginning' });
    await until(() => first.alerts.length === 3, 'three alerts');
    await first.reader.close();
    const { dev, ino, offset } = first.reader.checkpoint()!;
    append(text(SAMPLES.slice(3, 5)));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, text(SAMPLES.slice(5, 7)));
    const second = tail({ start: 'resume', checkpoint: { dev, ino, offset } });
    await until(() => second.alerts.length === 4, 'four alerts');
    await settle();
    assert.deepEqual(second.ids(), SAMPLES.slice(3, 7).map(idOf));
    assert.deepEqual(second.warnings, []);
    assert.deepEqual([second.reader.stats.recovered, second.reader.stats.rotations], [1, 1]);
  });

  it('waits for a file missing at start and reads it from 0 when it appears, even with start=end', async () => {
    const run = tail({ start: 'end' });
    await until(() => run.statuses.length === 1, 'a status');
    assert.equal(run.reader.checkpoint(), undefined);
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    await until(() => run.alerts.length === 3, 'three alerts');
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 3).map(idOf));
    assert.deepEqual(run.statuses, [
      { state: 'waiting', message: `waiting for ${file}: it does not exist yet` },
      { state: 'reading', message: `reading ${file}` },
    ]);
  });

  it('reports an error status while the path is not a readable file, and reads the file once it is', async () => {
    fs.mkdirSync(file);
    const run = tail({ start: 'beginning' });
    await until(() => run.statuses.length === 1, 'a status');
    fs.rmdirSync(file);
    fs.writeFileSync(file, text([SAMPLES[0]]));
    await until(() => run.alerts.length === 1, 'the alert');
    assert.deepEqual(run.statuses, [
      { state: 'error', message: `cannot read ${file}: not a regular file` },
      { state: 'reading', message: `reading ${file}` },
    ]);
  });

  it('decodes UTF-8 characters split across chunk boundaries, at every chunk size from 1 to 9', async () => {
    const logs = ['é', '日本語のログ', 'alarm 🚨 on host ✓', 'ß'.repeat(50)];
    fs.writeFileSync(file, text(logs.map((log, i) => alertLine(String(i), log))));
    for (let chunkBytes = 1; chunkBytes <= 9; chunkBytes++) {
      const run = tail({ start: 'beginning', chunkBytes });
      await until(() => run.alerts.length === logs.length, `${logs.length} alerts`);
      assert.deepEqual(
        run.alerts.map((a) => a.alert.full_log),
        logs,
        `chunkBytes ${chunkBytes}`,
      );
      assert.deepEqual(run.warnings, []);
      await run.reader.close();
    }
  });

  it('makes no callback after close(), even for the rest of a chunk or for lines appended later', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 10)));
    let closed: Promise<void> | undefined;
    const run = tail({
      start: 'beginning',
      onAlert: (alert, info) => {
        run.alerts.push({ alert, info });
        if (run.alerts.length === 2) closed = run.reader.close();
      },
    });
    await until(() => closed !== undefined, 'close to be called');
    await closed;
    append(text(SAMPLES.slice(10, 12)) + '{not json\n');
    await settle();
    assert.deepEqual(run.ids(), SAMPLES.slice(0, 2).map(idOf));
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(run.statuses, [{ state: 'reading', message: `reading ${file}` }]);
    assert.equal(run.reader.checkpoint()!.offset, Buffer.byteLength(text(SAMPLES.slice(0, 2))));
  });

  it('close() while waiting for a missing file resolves and stops polling', async () => {
    const run = tail();
    await until(() => run.statuses.length === 1, 'a status');
    await run.reader.close();
    fs.writeFileSync(file, text([SAMPLES[0]]));
    await settle();
    assert.deepEqual(run.alerts, []);
    assert.equal(run.statuses.length, 1);
  });

  it('reports an onAlert that throws as a handler-error warning and goes on reading', async () => {
    fs.writeFileSync(file, text(SAMPLES.slice(0, 3)));
    const run = tail({
      start: 'beginning',
      onAlert: (alert, info) => {
        run.alerts.push({ alert, info });
        if (run.alerts.length === 1) throw new Error('boom');
      },
    });
    await until(() => run.alerts.length === 3, 'three alerts');
    assert.deepEqual(run.warnings, [{ code: 'handler-error', offset: 0, message: 'onAlert failed on the line at byte 0: boom' }]);
  });
});

describe('alert lines (splitting, whatever the chunk boundaries)', () => {
  it('sorts the sample file identically when pushed in chunks of any size from 1 to 64 bytes', () => {
    const bytes = Buffer.from(text(SAMPLES));
    for (let size = 1; size <= 64; size++) {
      const ids: string[] = [];
      const lines = new AlertLines(4096, { alert: (a) => ids.push(a.id!), warning: (w) => assert.fail(w.message) });
      for (let i = 0; i < bytes.length; i += size) lines.push(bytes, i, Math.min(bytes.length, i + size));
      assert.deepEqual(ids, ALERT_IDS, `chunk size ${size}`);
      assert.equal(lines.committed, bytes.length);
      assert.deepEqual(lines.counts, { lines: 24, alerts: 23, notAlerts: 1, invalid: 0, oversize: 0 });
    }
  });

  it('accepts nesting 64 levels deep and refuses 65, counting only brackets outside strings, whatever the chunk boundaries', () => {
    const braces = alertLine('braces', `${'{['.repeat(500)}\\"${']}'.repeat(10)}`); // many brackets, all inside a string
    const objects = (n: number) => `{"id":"objects","rule":{"id":"1"},"x":${'{"a":'.repeat(n - 1)}1${'}'.repeat(n - 1)}}`; // depth n
    const lines = [deepLine('64', 63), deepLine('65', 64), braces, objects(64), objects(65), `${deepLine('bad', 100)} oops`];
    const bytes = Buffer.from(text(lines));
    for (const size of [1, 7, 64, bytes.length]) {
      const ids: string[] = [];
      const warnings: LineWarning[] = [];
      const split = new AlertLines(4096, { alert: (a) => ids.push(a.id!), warning: (w) => warnings.push(w) });
      for (let i = 0; i < bytes.length; i += size) split.push(bytes, i, Math.min(bytes.length, i + size));
      assert.deepEqual(ids, ['64', 'braces', 'objects'], `chunk size ${size}`);
      const at = (i: number) => Buffer.byteLength(text(lines.slice(0, i)));
      assert.deepEqual(
        warnings.map((w) => [w.code, w.offset]),
        [
          ['too-deep', at(1)],
          ['too-deep', at(4)],
          ['too-deep', at(5)],
        ],
      );
      assert.deepEqual(split.counts, { lines: 6, alerts: 3, notAlerts: 0, invalid: 3, oversize: 0 });
    }
  });

  it('drops an oversize line without holding it: the held buffer never grows past the limit', () => {
    const warnings: LineWarning[] = [];
    const lines = new AlertLines(1000, { alert: () => assert.fail('no alert expected'), warning: (w) => warnings.push(w) });
    const chunk = Buffer.alloc(100, 'x');
    for (let i = 0; i < 1000; i++) lines.push(chunk); // 100 kB without a newline
    assert.ok((lines as unknown as { carry: Buffer }).carry.length <= 1000);
    lines.push(Buffer.from('\n'));
    assert.deepEqual(
      warnings.map((w) => [w.code, w.offset, w.bytes]),
      [['oversize', 0, 100_000]],
    );
  });
});

describe('parseAlertPayload', () => {
  const [a, b, c] = [SAMPLES[0], SAMPLES[1], SAMPLES[2]];

  it('takes an alert object as it is', () => {
    const alert = JSON.parse(a);
    const out = parseAlertPayload(alert);
    assert.equal(out.alerts[0], alert);
    assert.deepEqual(out, { alerts: [alert], notAlerts: 0, errors: [] });
  });

  it('parses a JSON string of one alert, compact or pretty-printed', () => {
    const alert = JSON.parse(a);
    assert.deepEqual(parseAlertPayload(a), { alerts: [alert], notAlerts: 0, errors: [] });
    assert.deepEqual(parseAlertPayload(JSON.stringify(alert, null, 2)), { alerts: [alert], notAlerts: 0, errors: [] });
  });

  it('parses a Buffer of JSON lines, ignoring blank lines and CRLF endings, reporting invalid lines by byte offset', () => {
    const payload = Buffer.from(`${a}\r\n\n${SAMPLES[15]}\n{bad\n   \n${b}\n${c}`); // last line without newline
    const bad = Buffer.byteLength(`${a}\r\n\n${SAMPLES[15]}\n`);
    const out = parseAlertPayload(payload);
    assert.deepEqual(
      out.alerts.map((x) => x.id),
      [a, b, c].map(idOf),
    );
    assert.equal(out.notAlerts, 1);
    assert.equal(out.errors.length, 1);
    assert.match(out.errors[0], new RegExp(`^line at byte ${bad} is not valid JSON \\(.+\\): skipped$`));
  });

  it('skips an oversize line of a payload and keeps the others', () => {
    const long = alertLine('long', 'z'.repeat(3000));
    const out = parseAlertPayload(`${a}\n${long}\n${b}\n`, 2100);
    assert.deepEqual(
      out.alerts.map((x) => x.id),
      [a, b].map(idOf),
    );
    assert.deepEqual(out.errors, [`line at byte ${a.length + 1} is ${long.length} bytes, over the limit of 2100: skipped`]);
  });

  it('refuses an alert nested 100,000 levels deep as an object, as one line (with its offset) or pretty-printed, and keeps the others', () => {
    // alerts by id: a deep alert is never handed to deepEqual, whose diff would recurse
    const brief = (out: ReturnType<typeof parseAlertPayload>) => ({
      ids: out.alerts.map((x) => x.id),
      notAlerts: out.notAlerts,
      errors: out.errors,
    });
    const deep = deepLine('deep', 100_000);
    const tooDeep = 'nests objects and arrays deeper than 64 levels: skipped';
    assert.deepEqual(brief(parseAlertPayload(deep)), { ids: [], notAlerts: 0, errors: [`line at byte 0 ${tooDeep}`] });
    assert.deepEqual(brief(parseAlertPayload(Buffer.from(`${a}\n${deep}\n${b}\n`))), {
      ids: [idOf(a), idOf(b)],
      notAlerts: 0,
      errors: [`line at byte ${Buffer.byteLength(a) + 1} ${tooDeep}`],
    });
    const pretty = `{\n  "id": "pretty",\n  "rule": {"id": "1"},\n  "data": ${'[\n'.repeat(1000)}${']\n'.repeat(1000)}}\n`;
    assert.deepEqual(brief(parseAlertPayload(pretty)), {
      ids: [],
      notAlerts: 0,
      errors: [`payload is one JSON document ${tooDeep.replace('nests', 'nesting')}`],
    });
    // an object payload (from a JSON node upstream, say)
    assert.deepEqual(brief(parseAlertPayload(JSON.parse(deep))), {
      ids: [],
      notAlerts: 0,
      errors: [`payload is an alert object ${tooDeep.replace('nests', 'nesting')}`],
    });
    const cyclic: Record<string, unknown> = { id: 'cyclic', rule: { id: '1' } };
    cyclic.self = cyclic;
    assert.equal(parseAlertPayload(cyclic).errors.length, 1, 'a cycle is deeper than any limit');
    const shallow = JSON.parse(deepLine('ok', 63));
    assert.deepEqual(parseAlertPayload(shallow), { alerts: [shallow], notAlerts: 0, errors: [] });
  });

  it('counts an object without rule as not an alert, and reports payloads of other types without throwing', () => {
    assert.deepEqual(parseAlertPayload({ hello: 1 }), { alerts: [], notAlerts: 1, errors: [] });
    assert.deepEqual(parseAlertPayload(SAMPLES[15]), { alerts: [], notAlerts: 1, errors: [] });
    const wrong: [unknown, string][] = [
      [42, 'payload is a number, not an alert object, JSON text or Buffer'],
      [null, 'payload is null, not an alert object, JSON text or Buffer'],
      [undefined, 'payload is undefined, not an alert object, JSON text or Buffer'],
      [[JSON.parse(a)], 'payload is an array, not an alert object, JSON text or Buffer'],
      ['"text"', 'payload is JSON text of a string, not an alert object, JSON text or Buffer'],
    ];
    for (const [payload, error] of wrong) assert.deepEqual(parseAlertPayload(payload), { alerts: [], notAlerts: 0, errors: [error] });
    assert.deepEqual(parseAlertPayload(''), { alerts: [], notAlerts: 0, errors: [] });
  });
});

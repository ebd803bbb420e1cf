import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Outbox, OutboxDiskError, OUTBOX_JOURNAL, type OutboxEntry, type OutboxFull, type OutboxOptions } from '../../src/delivery/outbox';
import { fill, mountTmpfs, PAGE, unmount } from '../lib/tmpfs';

interface Item {
  i: number;
  text?: string;
}

const ROOT = path.join(__dirname, '..', '..');

/** A node process running `code` with ts-node (so it can require src/*.ts); stderr is kept for messages. */
function spawnTs(code: string, nodeArgs: string[] = []): ChildProcess & { err(): string } {
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'ts-node/register/transpile-only', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return Object.assign(child, { err: () => err });
}

/** The exit code, or the signal that ended the process. */
function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
}

const isFull = (r: OutboxEntry<Item> | OutboxFull): r is OutboxFull => 'full' in r;

describe('persistent outbox', () => {
  let dir: string;
  let open: Outbox<Item>[];

  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'armor-outbox-')), 'outbox', 'cfg1');
    open = [];
  });

  afterEach(() => {
    open.forEach((o) => o.close());
    fs.rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true });
  });

  function outbox(options?: OutboxOptions): Outbox<Item> {
    const o = Outbox.open<Item>(dir, options);
    open.push(o);
    return o;
  }
  function reopen(o: Outbox<Item>, options?: OutboxOptions): Outbox<Item> {
    o.close();
    return outbox(options);
  }
  function added(o: Outbox<Item>, data: Item): OutboxEntry<Item> {
    const r = o.add(data);
    assert.ok(!isFull(r), 'add was refused');
    return r;
  }
  const items = (o: Outbox<Item>): number[] => o.next(Infinity).map((e) => e.data.i);
  const journal = (): string => fs.readFileSync(path.join(dir, OUTBOX_JOURNAL), 'utf8');
  const journalSize = (): number => fs.statSync(path.join(dir, OUTBOX_JOURNAL)).size;

  it('creates the directory and keeps pending entries in add order, without those marked done', () => {
    const o = outbox();
    const entries = [1, 2, 3, 4, 5].map((i) => added(o, { i }));
    assert.deepEqual(
      entries.map((e) => [e.id, e.seq]),
      [
        ['1', 1],
        ['2', 2],
        ['3', 3],
        ['4', 4],
        ['5', 5],
      ],
    );
    assert.equal(o.done(['2', '4']), 2);
    assert.deepEqual(items(o), [1, 3, 5]);
    assert.deepEqual(o.size, { entries: 3, bytes: entries[0].bytes + entries[2].bytes + entries[4].bytes });
    assert.equal(fs.statSync(dir).isDirectory(), true);
  });

  it('ignores done() for ids that are not pending, and counts each id once', () => {
    const o = outbox();
    added(o, { i: 1 });
    added(o, { i: 2 });
    const before = journalSize();
    assert.equal(o.done(['9', 'x', '01', '']), 0);
    assert.equal(journalSize(), before, 'nothing written for unknown ids');
    assert.equal(o.done(['1', '1', '7']), 1);
    assert.equal(o.done(['1']), 0);
    assert.deepEqual(items(o), [2]);
  });

  it('hands out pending entries in batches after a seq cursor', () => {
    const o = outbox();
    for (let i = 1; i <= 10; i++) added(o, { i });
    o.done(['3', '4']);
    const first = o.next(3);
    assert.deepEqual(
      first.map((e) => e.data.i),
      [1, 2, 5],
    );
    assert.deepEqual(
      o.next(3, first[2].seq).map((e) => e.data.i),
      [6, 7, 8],
    );
    assert.deepEqual(
      o.next(100, 8).map((e) => e.data.i),
      [9, 10],
    );
    assert.deepEqual(o.next(100, 10), []);
  });

  it('reads the data of the given seqs in the order given, undefined for those not pending, entries of any size', () => {
    const o = outbox({ maxEntries: 1e6, maxBytes: 2 ** 30 });
    for (let i = 1; i <= 20; i++) added(o, { i });
    added(o, { i: 21, text: 'x'.repeat(1536 * 1024) }); // more than the reused read buffer
    added(o, { i: 22 });
    o.done(['5', '6']);
    const read = o.read([3, 4, 5, 7, 21, 22, 1, 999, 0, 2, 3]);
    assert.deepEqual(
      read.map((d) => d?.i),
      [3, 4, undefined, 7, 21, 22, 1, undefined, undefined, 2, 3],
    );
    assert.equal(read[4]?.text?.length, 1536 * 1024);
    // thousands in a row: read in pieces of at most the read buffer, same data as next()
    const from = 23;
    for (let i = from; i < from + 3000; i++) added(o, { i, text: 'y'.repeat(500 + (i % 300)) });
    const seqs = Array.from({ length: 3000 }, (_, k) => from + k);
    o.done([from + 10, from + 11, from + 2500]);
    assert.deepEqual(
      o.read(seqs),
      seqs.map((seq) =>
        seq === from + 10 || seq === from + 11 || seq === from + 2500 ? undefined : { i: seq, text: 'y'.repeat(500 + (seq % 300)) },
      ),
    );
    assert.deepEqual(
      o.read([...seqs].reverse()).map((d) => d?.i),
      [...seqs].reverse().map((seq) => ([from + 10, from + 11, from + 2500].includes(seq) ? undefined : seq)),
    );
    assert.deepEqual(
      o.next(Infinity, from - 1).map((e) => e.data),
      o.read(seqs).filter((d) => d !== undefined),
    );
  });

  it('shows the same pending entries, data and times after close and reopen', () => {
    let o = outbox();
    const a = added(o, { i: 1, text: 'première ligne\n"quoted"' });
    added(o, { i: 2 });
    const c = added(o, { i: 3, text: 'x'.repeat(5000) });
    o.done(['2']);
    o = reopen(o);
    assert.equal(o.unreadable, 0);
    assert.deepEqual(o.next(Infinity), [a, c]);
    assert.deepEqual(o.size, { entries: 2, bytes: a.bytes + c.bytes });
    assert.equal(added(o, { i: 4 }).id, '4', 'seq continues after reopen');
  });

  it('never reuses an id, even after all entries were done and the journal compacted', () => {
    let o = outbox();
    added(o, { i: 1 });
    added(o, { i: 2 });
    o.done(['1', '2']);
    o.compact();
    o = reopen(o);
    assert.deepEqual(o.size, { entries: 0, bytes: 0 });
    assert.equal(added(o, { i: 3 }).id, '3');
  });

  it('loses no acknowledged add or done when the process is killed with SIGKILL mid-storm', async function () {
    this.timeout(30000);
    // The child records each acknowledged id in a file (page cache: it survives the SIGKILL too).
    const acks = path.join(path.dirname(dir), 'acks.txt');
    const child = spawnTs(
      `const fs = require('fs');
       const { Outbox } = require(${JSON.stringify(path.join(ROOT, 'src', 'delivery', 'outbox.ts'))});
       const o = Outbox.open(${JSON.stringify(dir)}, { maxEntries: 1e9, maxBytes: 2 ** 40 });
       const acks = fs.openSync(${JSON.stringify(acks)}, 'a');
       const ids = [];
       for (let i = 1; i <= 300000; i++) {
         const e = o.add({ i, text: 'y'.repeat((i * 37) % 600) });
         if (e.full) throw new Error(e.reason);
         ids.push(e.id);
         fs.writeSync(acks, '+' + e.id + '\\n');
         if (i % 10 === 0) { o.done([ids[i - 6]]); fs.writeSync(acks, '-' + ids[i - 6] + '\\n'); }
       }`,
    );
    const poll = setInterval(() => {
      if (fs.existsSync(acks) && fs.statSync(acks).size > 30000) child.kill('SIGKILL');
    }, 5);
    const exit = await exitOf(child);
    clearInterval(poll);
    assert.equal(exit, 'SIGKILL', `child did not run until killed: ${child.err()}`);

    const out = fs.readFileSync(acks, 'utf8');
    const lines = out.split('\n').slice(0, -1); // the last piece may be a torn line
    const addedIds = lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1));
    const doneIds = new Set(lines.filter((l) => l.startsWith('-')).map((l) => l.slice(1)));
    assert.ok(addedIds.length >= 3000, `only ${addedIds.length} adds acknowledged`);

    const o = outbox();
    const pending = new Map(o.next(Infinity).map((e) => [e.id, e]));
    const missing = addedIds.filter((id) => !doneIds.has(id) && !pending.has(id));
    assert.deepEqual(missing, [], 'acknowledged adds lost');
    assert.deepEqual(
      [...doneIds].filter((id) => pending.has(id)),
      [],
      'acknowledged dones lost',
    );
    for (const id of addedIds.filter((x) => !doneIds.has(x))) assert.equal(pending.get(id)?.data.i, Number(id));
    assert.ok(o.unreadable <= 1, `${o.unreadable} unreadable lines`);
  });

  it('cuts a torn last line (a crash mid-append), counts it, and appends cleanly after it', () => {
    let o = outbox();
    added(o, { i: 1 });
    added(o, { i: 2 });
    o.close();
    const whole = journalSize();
    fs.appendFileSync(path.join(dir, OUTBOX_JOURNAL), '{"op":"add","seq":3,"at":1700000000000,"da');
    o = outbox();
    assert.equal(o.unreadable, 1);
    assert.equal(journalSize(), whole, 'torn bytes cut off');
    assert.deepEqual(items(o), [1, 2]);
    assert.equal(added(o, { i: 3 }).id, '3');
    o = reopen(o);
    assert.equal(o.unreadable, 0);
    assert.deepEqual(items(o), [1, 2, 3]);
  });

  it('skips and counts unreadable lines in the middle of the journal, keeping the records around them', () => {
    let o = outbox();
    added(o, { i: 1 });
    o.close();
    fs.appendFileSync(path.join(dir, OUTBOX_JOURNAL), 'not json\n{"op":"what"}\n{"op":"add","seq":1,"at":1,"data":{}}\n');
    o = outbox();
    added(o, { i: 2 });
    o = reopen(o);
    assert.equal(o.unreadable, 3, 'garbage, unknown op, repeated seq');
    assert.deepEqual(items(o), [1, 2]);
  });

  it('refuses to open a journal of an unknown format version', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, OUTBOX_JOURNAL), '{"op":"meta","v":2,"next":1}\n');
    assert.throws(() => outbox(), /unsupported version 2/);
  });

  it('refuses a second open of the same directory in one process, and use after close', () => {
    const o = outbox();
    assert.throws(() => Outbox.open(dir), /outbox already open/);
    o.close();
    assert.throws(() => o.add({ i: 1 }), /outbox closed/);
  });

  it('refuses with "outbox full" at maxEntries, writes nothing, and accepts again after done()', () => {
    const o = outbox({ maxEntries: 3 });
    [1, 2, 3].forEach((i) => added(o, { i }));
    const before = journalSize();
    assert.deepEqual(o.add({ i: 4 }), { full: true, reason: 'outbox full: 3 entries, limit 3' });
    assert.equal(journalSize(), before);
    o.done(['1']);
    assert.equal(added(o, { i: 4 }).id, '4');
    assert.deepEqual(items(o), [2, 3, 4]);
  });

  it('refuses with "outbox full" at maxBytes, and accepts again after done()', () => {
    const probe = outbox();
    const size = added(probe, { i: 1 }).bytes; // every { i: <one digit> } record has this size
    probe.done(['1']);
    probe.close();
    open = [];
    fs.rmSync(dir, { recursive: true });

    const o = outbox({ maxBytes: size * 2 + 10 });
    added(o, { i: 1 });
    added(o, { i: 2 });
    const before = journalSize();
    assert.deepEqual(o.add({ i: 3 }), {
      full: true,
      reason: `outbox full: ${size * 2} + ${size} bytes would exceed the limit of ${size * 2 + 10} bytes`,
    });
    const huge = o.add({ i: 4, text: 'z'.repeat(size * 3) });
    assert.ok(isFull(huge) && /^outbox full: an entry of \d+ bytes exceeds the limit of \d+ bytes$/.test(huge.reason));
    assert.equal(journalSize(), before);
    o.done(['2']);
    added(o, { i: 3 });
    assert.deepEqual(items(o), [1, 3]);
    assert.deepEqual(o.size, { entries: 2, bytes: size * 2 });
  });

  it('keeps a journal found over lowered limits whole, refusing new entries until it drains', () => {
    let o = outbox();
    [1, 2, 3].forEach((i) => added(o, { i }));
    o = reopen(o, { maxEntries: 2 });
    assert.deepEqual(items(o), [1, 2, 3]);
    assert.ok(isFull(o.add({ i: 4 })));
    o.done(['1', '2']);
    added(o, { i: 4 });
  });

  it('throws when data contains a forbidden secret, raw or JSON-escaped, and writes nothing', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const key = 'R0UTING"KEY\\32';
    const o = outbox({ forbid: [url, key, ''] });
    const before = journalSize();
    for (const text of [`see ${url}`, `key=${key}`]) {
      assert.throws(
        () => o.add({ i: 1, text }),
        (e: Error) => /refusing to store data that contains a secret/.test(e.message) && !e.message.includes('SECRET'),
      );
    }
    assert.equal(journalSize(), before);
    assert.deepEqual(o.size, { entries: 0, bytes: 0 });
    added(o, { i: 2, text: 'https://hooks.slack.com/services/other' });
    assert.ok(!journal().includes('XXXXSECRET'));
  });

  it('compaction keeps exactly the pending entries and shrinks the file', () => {
    let o = outbox();
    for (let i = 1; i <= 10; i++) added(o, { i, text: 'w'.repeat(200) });
    o.done(['1', '2', '3', '5', '8', '9']);
    const pendingBefore = o.next(Infinity);
    const before = journalSize();
    o.compact();
    assert.ok(journalSize() < before / 2, `${journalSize()} not < ${before} / 2`);
    assert.deepEqual(o.next(Infinity), pendingBefore);
    assert.deepEqual(
      journal()
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l).op),
      ['meta', 'add', 'add', 'add', 'add'],
    );
    added(o, { i: 11 });
    o.done(['4']);
    o = reopen(o);
    assert.equal(o.unreadable, 0);
    assert.deepEqual(items(o), [6, 7, 10, 11]);
  });

  it('compacts by itself when done records dominate the journal', () => {
    let o = outbox();
    for (let i = 1; i <= 2000; i++) added(o, { i });
    for (let i = 1; i <= 1990; i++) o.done([String(i)]);
    const lines = journal().split('\n').length - 1;
    assert.ok(lines < 2100, `${lines} lines: no compaction (3991 without)`);
    o = reopen(o);
    assert.deepEqual(items(o), [1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000]);
  });

  it('keeps the index right over thousands of entries: done in a scattered pattern, index clean-up, compaction, reopen, seq ids', () => {
    let o = outbox({ maxEntries: 1e6 });
    const N = 12_000; // several chunks of the index
    for (let i = 1; i <= N; i++) added(o, { i, text: 'v'.repeat(i % 50) });
    const kept = (i: number) => i % 7 === 0 || (i > 8000 && i % 3 === 0);
    const done: number[] = [];
    for (let i = 1; i <= N; i++) if (!kept(i)) done.push(i);
    // in pieces, some as seqs and some as ids, so that index clean-ups happen between them
    for (let k = 0; k < done.length; k += 500) {
      const piece = done.slice(k, k + 500);
      assert.equal(o.done(k % 1000 === 0 ? piece : piece.map(String)), piece.length);
    }
    const expected = Array.from({ length: N }, (_, k) => k + 1).filter(kept);
    assert.deepEqual(items(o), expected);
    assert.equal(o.size.entries, expected.length);
    assert.deepEqual(
      o.next(3, 7000).map((e) => e.seq),
      expected.filter((i) => i > 7000).slice(0, 3),
    );
    assert.equal(o.done([0, -1, 1.5, 7, 7, 14]), 2, 'a non-seq is ignored, a seq counted once');
    const rest = expected.filter((i) => i !== 7 && i !== 14);
    o.compact();
    assert.deepEqual(items(o), rest);
    const sizes = o.next(Infinity).map((e) => [e.seq, e.bytes, e.addedAt]);
    o = reopen(o);
    assert.equal(o.unreadable, 0);
    assert.deepEqual(
      o.next(Infinity).map((e) => [e.seq, e.bytes, e.addedAt]),
      sizes,
    );
    assert.equal(added(o, { i: N + 1 }).id, String(N + 1));
    assert.equal(o.done(rest.map(String)), rest.length);
    assert.deepEqual(items(o), [N + 1]);
  });

  it('survives a crash between writing the compacted temp file and the rename: the temp file is deleted', () => {
    let o = outbox();
    for (let i = 1; i <= 5; i++) added(o, { i });
    o.done(['2']);
    o.close();
    const temp = path.join(dir, `${OUTBOX_JOURNAL}.tmp`);
    fs.writeFileSync(temp, '{"op":"meta","v":1,"next":6}\n{"op":"add","seq":1,"at":1,"data":{"i":1}}\n{"op":"ad');
    o = outbox();
    assert.equal(fs.existsSync(temp), false);
    assert.equal(o.unreadable, 0);
    assert.deepEqual(items(o), [1, 3, 4, 5]);
  });

  it('adds 200,000 alert-sized entries and reads them back in order with live heap growth under 100 MB', async function () {
    this.timeout(60000);
    // In a child with --expose-gc, so that the samples measure live memory, not garbage not yet collected.
    const child = spawnTs(
      `const { Outbox } = require(${JSON.stringify(path.join(ROOT, 'src', 'delivery', 'outbox.ts'))});
       const N = 200000;
       const o = Outbox.open(${JSON.stringify(dir)}, { maxEntries: N, maxBytes: 2 ** 30 });
       const log = 'Oct 14 10:00:00 host sshd[123]: Failed password for invalid user admin from 10.0.0.1 port 22 ssh2 '.repeat(14);
       const heap = () => (gc(), process.memoryUsage().heapUsed);
       const base = heap();
       let peak = 0;
       for (let i = 1; i <= N; i++) {
         if (o.add({ i, text: i + ' ' + log }).full) throw new Error('refused');
         if (i % 20000 === 0) peak = Math.max(peak, heap() - base);
       }
       let expected = 1;
       for (let b = o.next(1000); b.length > 0; b = o.next(1000, b[b.length - 1].seq)) {
         for (const e of b) if (e.data.i !== expected++) throw new Error('out of order at ' + e.seq);
         if (expected % 20000 === 1) peak = Math.max(peak, heap() - base);
       }
       process.stdout.write(JSON.stringify({ read: expected - 1, size: o.size, peak }));`,
      ['--expose-gc'],
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    assert.equal(await exitOf(child), 0, child.err());
    const result = JSON.parse(out) as { read: number; size: { entries: number; bytes: number }; peak: number };
    assert.equal(result.read, 200_000);
    assert.equal(result.size.entries, 200_000);
    assert.ok(result.size.bytes > 1400 * 200_000, 'entries are alert-sized');
    assert.ok(result.peak < 100 * 1024 * 1024, `live heap grew by ${Math.round(result.peak / 1048576)} MB`);
  });
});

describe('persistent outbox on a full disk (a real 8 MiB tmpfs)', () => {
  let mnt = '';
  let dir = '';
  let filler = '';
  let open: Outbox<Item>[];

  before(function () {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-outbox-full-'));
    const why = mountTmpfs(mnt);
    if (why) {
      console.log(`      skipped: ${why}`);
      fs.rmdirSync(mnt);
      mnt = '';
      this.skip();
    }
  });

  after(() => {
    if (!mnt) return;
    unmount(mnt);
    fs.rmdirSync(mnt);
  });

  beforeEach(() => {
    dir = path.join(mnt, 'outbox', 'cfg1');
    filler = path.join(mnt, 'filler');
    open = [];
  });

  afterEach(() => {
    open.forEach((o) => o.close());
    fs.rmSync(path.join(mnt, 'outbox'), { recursive: true, force: true });
    fs.rmSync(filler, { force: true });
  });

  function outbox(options?: OutboxOptions): Outbox<Item> {
    const o = Outbox.open<Item>(dir, options);
    open.push(o);
    return o;
  }
  function reopen(o: Outbox<Item>): Outbox<Item> {
    o.close();
    open.splice(open.indexOf(o), 1);
    return outbox();
  }
  const items = (o: Outbox<Item>) => o.next(100_000).map((e) => e.data.i);
  const journal = () => fs.readFileSync(path.join(dir, OUTBOX_JOURNAL), 'utf8');
  const isDiskFull = (e: unknown) => e instanceof OutboxDiskError && e.code === 'ENOSPC' && e.full;

  /**
   * Adds entry `i` sized so that the journal ends on a page boundary: filled up then, the disk
   * has no room left for any append (tmpfs would otherwise take small records into the slack of
   * the journal's last page).
   */
  function padToPage(o: Outbox<Item>, i: number, seq: number): void {
    const size = fs.statSync(o.file).size;
    const overhead = Buffer.byteLength(`{"op":"add","seq":${seq},"at":${Date.now()},"data":${JSON.stringify({ i, text: '' })}}\n`);
    let need = (PAGE - (size % PAGE)) % PAGE;
    if (need <= overhead) need += PAGE;
    const r = o.add({ i, text: 'p'.repeat(need - overhead) });
    assert.ok(!isFull(r));
    assert.equal(fs.statSync(o.file).size % PAGE, 0, 'the journal ends on a page boundary');
  }

  it('keeps done marks in memory when they cannot be written, refuses adds with ENOSPC, and flush() writes the marks once space returns', () => {
    const o = outbox();
    for (let i = 1; i <= 3; i++) o.add({ i });
    padToPage(o, 4, 4);
    const before = journal();
    fill(filler);

    assert.equal(o.done(['1', '2']), 2); // does not throw
    assert.ok(isDiskFull(o.writeError), String(o.writeError));
    assert.deepEqual(items(o), [3, 4], 'done in memory: not handed out again');
    assert.throws(() => o.add({ i: 5 }), isDiskFull);
    assert.equal(o.flush(), false, 'still full');
    assert.equal(journal(), before, 'nothing partly written is left in the journal');

    fs.unlinkSync(filler);
    assert.equal(o.flush(), true);
    assert.equal(o.writeError, undefined);
    assert.match(journal(), /\{"op":"done","seqs":\[1,2\]\}\n$/);
    assert.ok(!isFull(o.add({ i: 5 })));
    assert.deepEqual(items(reopen(o)), [3, 4, 5]);
  });

  it('finds the entries whose done mark never reached the disk pending again after a restart (delivered once more)', () => {
    const o = outbox();
    for (let i = 1; i <= 2; i++) o.add({ i });
    padToPage(o, 3, 3);
    fill(filler);
    o.done(['1']);
    assert.deepEqual(items(o), [2, 3]);
    o.close(); // tries the mark once more: still full
    open.splice(open.indexOf(o), 1);
    fs.unlinkSync(filler);
    assert.deepEqual(items(outbox()), [1, 2, 3]);
  });

  it('opens a new journal on a full disk, refuses adds until flush() finds space again, then writes its meta record first', () => {
    fill(filler);
    const o = outbox(); // does not throw
    assert.ok(isDiskFull(o.writeError), String(o.writeError));
    assert.throws(() => o.add({ i: 1 }), isDiskFull);
    fs.unlinkSync(filler);
    assert.throws(() => o.add({ i: 1 }), isDiskFull, 'refused until flush() finds the disk writable');
    assert.equal(o.flush(), true);
    assert.ok(!isFull(o.add({ i: 1 })));
    assert.equal(o.writeError, undefined);
    assert.match(journal(), /^\{"op":"meta","v":1,"next":1\}\n\{"op":"add","seq":1,/);
    assert.deepEqual(items(reopen(o)), [1]);
  });

  it('on a full disk, a compaction fails cleanly and done() puts it off: the journal stays whole and compacts once space returns', () => {
    const o = outbox();
    for (let i = 1; i <= 2500; i++) o.add({ i });
    for (let i = 1; i <= 900; i++) o.done([i]);
    assert.match(journal(), /"seq":1,/, 'not compacted yet');
    padToPage(o, 2501, 2501);
    const before = journal();
    fill(filler);

    assert.throws(() => o.compact(), isDiskFull);
    assert.equal(journal(), before, 'the old journal is whole');
    assert.deepEqual(fs.readdirSync(dir), [OUTBOX_JOURNAL], 'no temp file left');
    assert.equal(o.next(1, 900)[0].data.i, 901, 'and still read');
    // the last 1600: obsolete records now dominate, so done() would compact, which needs space
    assert.equal(o.done(Array.from({ length: 1601 }, (_, k) => 901 + k)), 1601);
    assert.ok(isDiskFull(o.writeError), String(o.writeError));
    assert.equal(journal(), before, 'the old journal is whole');
    assert.deepEqual(fs.readdirSync(dir), [OUTBOX_JOURNAL], 'no temp file left');
    assert.deepEqual(items(o), []);

    fs.unlinkSync(filler);
    assert.equal(o.flush(), true);
    assert.equal(journal(), '{"op":"meta","v":1,"next":2502}\n', 'compacted');
    assert.deepEqual(items(reopen(o)), []);
  });
});

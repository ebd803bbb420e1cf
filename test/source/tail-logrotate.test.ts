/**
 * The tail reader against Debian's real `logrotate` (installed by .ci/run) and a writer appending
 * numbered alerts at 200 a second, as the manager does: `copytruncate`, `copytruncate` with
 * `compress` + `delaycompress`, and `create` (the writer keeps writing the renamed file for a
 * while, as a daemon does until it reopens its log). Then the same with a real Node-RED (the
 * package from `npm pack`) SIGKILLed around a rotation and started again.
 *
 * What is asserted: every alert present in the files once the run is over (the current file and
 * the rotated ones, gzipped or not, oldest first) is emitted, in that order, exactly once by one
 * reader, and at least once across a SIGKILL. The only alerts allowed not to be in the files are
 * those copytruncate itself drops (written between logrotate's copy and its truncation): the
 * count written, in the files and emitted is printed for each run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { TailReader, type Checkpoint } from '../../src/source/tail';
import { launcher, type RedProcess } from '../lib/launcher';
import { until } from '../lib/red';

/** Debian's logrotate; LOGROTATE overrides the path. */
const LOGROTATE =
  process.env.LOGROTATE ?? ['/usr/sbin/logrotate', '/sbin/logrotate', '/usr/bin/logrotate'].find((p) => fs.existsSync(p)) ?? 'logrotate';
const RATE = 200;

/** Alert number `n` as the manager writes it (one line, about 400 bytes). */
function alertLine(n: number): string {
  const timestamp = new Date(Date.UTC(2026, 11, 4, 10, 0, 0, 0) + n * 5).toISOString().replace('Z', '+0000');
  return `${JSON.stringify({
    timestamp,
    rule: { level: 5, description: 'sshd: authentication failed.', id: '5716', groups: ['syslog', 'sshd', 'authentication_failed'] },
    agent: { id: '001', name: 'web-01' },
    manager: { name: 'armor-manager' },
    id: `1764842400.${n}`,
    n,
    full_log: `Dec  4 10:00:00 web-01 sshd[${1000 + (n % 9000)}]: Failed password for invalid user admin${n} from 203.0.113.${n % 250} port ${20000 + (n % 40000)} ssh2`,
    location: '/var/log/auth.log',
  })}\n`;
}

/** Appends numbered alerts at RATE a second through one open descriptor, like a daemon's log. */
class Writer {
  written = 0;
  private fd: number;
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = Date.now();

  constructor(private readonly file: string) {
    this.fd = fs.openSync(file, 'a');
    this.timer = setInterval(() => this.write(), 5);
  }

  private write(): void {
    const due = Math.floor(((Date.now() - this.t0) * RATE) / 1000);
    let chunk = '';
    while (this.written < due) chunk += alertLine(++this.written);
    if (chunk) fs.writeSync(this.fd, chunk);
  }

  /** Goes on in the file now at the path (a daemon told to reopen its log). */
  reopen(): void {
    this.write();
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
  }

  /** Waits until `n` more alerts were written. */
  async more(n: number): Promise<void> {
    const target = this.written + n;
    await until(() => this.written >= target, `${n} more alerts written`, 10_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.write();
    fs.closeSync(this.fd);
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`)) : resolve(),
    ),
  );
}

/** A logrotate config for `file` with `directives`, and the command that forces a rotation. */
function logrotate(dir: string, file: string, directives: string[]): () => Promise<void> {
  const conf = path.join(dir, 'logrotate.conf');
  fs.writeFileSync(conf, `${file} {\n  rotate 20\n  missingok\n${directives.map((d) => `  ${d}\n`).join('')}}\n`, { mode: 0o644 });
  return () => run(LOGROTATE, ['-f', '-s', path.join(dir, 'logrotate.state'), conf]);
}

/** The alert numbers in `file` and its rotated files, oldest first (`.N` before `.1` before the file; gzip read). */
function numbersInFiles(file: string): number[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const rotated = fs
    .readdirSync(dir)
    .map((name) => ({ name, k: /^\.(\d+)(\.gz)?$/.exec(name.slice(base.length)) }))
    .filter(({ name, k }) => name.startsWith(base) && k)
    .sort((a, b) => Number(b.k![1]) - Number(a.k![1]));
  const out: number[] = [];
  for (const name of [...rotated.map((r) => r.name), base]) {
    const raw = fs.readFileSync(path.join(dir, name));
    for (const line of (name.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8').split('\n')) {
      try {
        out.push(JSON.parse(line).n);
      } catch {
        // a line cut by copytruncate (or the empty end)
      }
    }
  }
  return out;
}

function tally(numbers: number[], written: number): { missing: number[]; twice: number[] } {
  const seen = new Map<number, number>();
  for (const n of numbers) seen.set(n, (seen.get(n) ?? 0) + 1);
  const missing: number[] = [];
  for (let n = 1; n <= written; n++) if (!seen.has(n)) missing.push(n);
  return { missing, twice: [...seen].filter(([, c]) => c > 1).map(([n]) => n) };
}

/** `numbers` with runs of consecutive ones shortened, for messages: 1-3, 7, 9-12. */
function ranges(numbers: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    out.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return out.join(', ') || 'none';
}

describe('tail reader against real logrotate, a writer at 200 alerts/s', function () {
  this.timeout(30_000);

  let dir = '';
  let file = '';
  let writer: Writer | undefined;
  let readers: TailReader[] = [];
  let emitted: number[] = [];

  before(function () {
    try {
      fs.accessSync(LOGROTATE, fs.constants.X_OK);
    } catch {
      throw new Error(`logrotate not found at ${LOGROTATE}: install Debian's logrotate package (.ci/run does) or set LOGROTATE`);
    }
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-logrotate-'));
    file = path.join(dir, 'alerts.json');
    fs.writeFileSync(file, '');
    readers = [];
    emitted = [];
  });

  afterEach(async () => {
    writer?.stop();
    writer = undefined;
    await Promise.all(readers.map((r) => r.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A reader with the node's defaults (250 ms polls), emitting alert numbers. */
  function reader(start: 'beginning' | 'resume', checkpoint?: Checkpoint): TailReader {
    const r = new TailReader({ path: file, start, checkpoint, onAlert: (alert) => emitted.push((alert as { n: number }).n) });
    readers.push(r);
    r.start();
    return r;
  }

  /** Stops the writer, waits for its last alert to be emitted, and checks `emitted` against the files. */
  async function finish(kind: string, rotations: number): Promise<void> {
    writer!.stop();
    const written = writer!.written;
    writer = undefined;
    await until(() => emitted.includes(written), `alert #${written} (the last written) to be emitted`, 10_000);
    const inFiles = numbersInFiles(file);
    const { missing, twice } = tally(emitted, written);
    const notInFiles = tally(inFiles, written).missing;
    const unread = missing.filter((n) => !notInFiles.includes(n));
    const window = kind.startsWith('copytruncate')
      ? `; ${notInFiles.length} in no file (${ranges(notInFiles)}: written between logrotate's copy and its truncation), of which ${notInFiles.filter((n) => !missing.includes(n)).length} emitted`
      : '';
    console.log(
      `      ${kind}: ${rotations} rotations, ${written} alerts written, ${inFiles.length} in the files, ${emitted.length} emitted, ` +
        `${unread.length} in the files but not emitted (${ranges(unread)}), ${twice.length} twice${window}`,
    );
    assert.deepEqual(ranges(unread), 'none', 'every alert in the files is emitted');
    assert.deepEqual(twice, [], 'none emitted twice');
    assert.ok(
      emitted.every((n, i) => i === 0 || n > emitted[i - 1]),
      'emitted in the order written',
    );
    if (!window) assert.deepEqual(ranges(notInFiles), 'none', 'every alert written is in the files');
  }

  for (const { kind, directives } of [
    { kind: 'copytruncate', directives: ['copytruncate'] },
    { kind: 'copytruncate + compress + delaycompress', directives: ['copytruncate', 'compress', 'delaycompress'] },
  ]) {
    it(`${kind}: every alert in the files is emitted exactly once and in order, those written just before each truncation read from the copy`, async () => {
      const rotate = logrotate(dir, file, directives);
      const r = reader('beginning');
      writer = new Writer(file);
      for (let k = 0; k < 3; k++) {
        await writer.more(150);
        await rotate();
      }
      await writer.more(150);
      if (directives.includes('compress'))
        assert.ok(fs.existsSync(`${file}.2.gz`) && fs.existsSync(`${file}.1`), '.1 kept as it is, .2 compressed');
      await finish(kind, 3);
      assert.equal(r.stats.truncations, 3);
    });
  }

  it('create: every alert is emitted exactly once and in order, with one rotation while reading and one with the reader restarted from its checkpoint just after it', async () => {
    const rotate = logrotate(dir, file, ['create']);
    const r = reader('beginning');
    writer = new Writer(file);
    await writer.more(150);
    await rotate(); // while reading
    await writer.more(60); // still into the renamed file
    writer.reopen();
    await writer.more(150);
    await r.close(); // a stop just before the rotation
    const checkpoint = JSON.parse(JSON.stringify(r.checkpoint())) as Checkpoint;
    await rotate();
    await writer.more(60); // into the renamed file, while no reader runs
    writer.reopen();
    await writer.more(60);
    reader('resume', checkpoint);
    await writer.more(150);
    await finish('create', 2);
  });
});

describe('armor-alerts against real logrotate and SIGKILL (real Node-RED, package from npm pack)', function () {
  this.timeout(60_000); // a guard against hanging: each run takes about 15 s

  const IDS = { tab: 'c0a6000000000001', alerts: 'c0a6000000000002', file: 'c0a6000000000003' };
  let tmp = '';
  let dir = '';
  let userDir = '';
  let file = '';
  let out = '';
  let base = '';
  let red: RedProcess | undefined;
  let writer: Writer | undefined;

  before(async function () {
    this.timeout(120_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-logrotate-red-'));
    userDir = path.join(tmp, 'node-red');
    await launcher.installPackage(userDir, await launcher.packPackage(path.join(tmp, 'pack')));
    const port = await launcher.freePort();
    launcher.writeSettings(userDir, { port, credentialSecret: 'armor-logrotate-credential-secret' });
    base = `http://127.0.0.1:${port}`;
  });

  beforeEach(() => {
    // each run: no flow, no checkpoint, a new alerts.json
    for (const stale of ['flows.json', 'flows_cred.json', 'armor-integrations'])
      fs.rmSync(path.join(userDir, stale), { recursive: true, force: true });
    dir = fs.mkdtempSync(path.join(tmp, 'run-'));
    file = path.join(dir, 'logs', 'alerts.json');
    out = path.join(dir, 'emitted.jsonl');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && red) console.log(`Node-RED's output:\n${red.output()}`);
    writer?.stop();
    writer = undefined;
    if (red) await launcher.stopNodeRed(red);
    red = undefined;
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** alerts.json tailed from where it stopped (default 250 ms polls) → each alert as a JSON line in `out`. */
  function flow(): unknown[] {
    return [
      { id: IDS.tab, type: 'tab', label: 'logrotate' },
      { id: IDS.alerts, z: IDS.tab, type: 'armor-alerts', version: 1, path: file, start: 'resume', wires: [[IDS.file]] },
      {
        id: IDS.file,
        z: IDS.tab,
        type: 'file',
        filename: out,
        filenameType: 'str',
        appendNewline: true,
        createDir: true,
        overwriteFile: 'false',
        encoding: 'none',
        wires: [[]],
      },
    ];
  }

  /** The alert numbers in `out`, in order (a line cut by the SIGKILL is skipped: its alerts come again). */
  function emitted(): number[] {
    const numbers: number[] = [];
    const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    for (const line of text.split('\n')) {
      try {
        numbers.push(JSON.parse(line).n);
      } catch {
        // the empty end, or a line cut by the SIGKILL
      }
    }
    return numbers;
  }

  /** Waits until `cond` holds, checking it every 100 ms (it reads a file); fails after `ms`. */
  async function untilSlow(cond: () => boolean, what: string, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function startRed(): Promise<RedProcess> {
    const r = launcher.startNodeRed(userDir);
    await launcher.waitForAdmin(base, r);
    return r;
  }

  /** Node-RED up with the flow, the checkpoint saved, the writer started and its first alerts emitted. */
  async function begin(): Promise<void> {
    red = await startRed();
    await launcher.deployFlows(base, flow());
    const checkpoint = path.join(userDir, 'armor-integrations', 'checkpoints', `${IDS.alerts}.json`);
    await until(() => fs.existsSync(checkpoint), 'the first checkpoint of armor-alerts', 20_000);
    writer = new Writer(file);
    await untilSlow(() => emitted().length >= 300, '300 alerts emitted', 20_000);
  }

  async function sigkill(): Promise<void> {
    red!.child.kill('SIGKILL');
    await red!.exited;
  }

  /** Restarts Node-RED (the flow from flows.json), stops the writer later and checks that no alert in the files is missing. */
  async function restartAndCheck(kind: string, atKill: number): Promise<void> {
    red = await startRed();
    await writer!.more(100);
    writer!.stop();
    const written = writer!.written;
    writer = undefined;
    await untilSlow(() => emitted().includes(written), `alert #${written} (the last written) to be emitted`, 20_000);
    const got = emitted();
    const { missing, twice } = tally(got, written);
    const lostByRotation = tally(numbersInFiles(file), written).missing;
    console.log(
      `      ${kind}: ${written} alerts written, ${atKill} emitted before the SIGKILL, ${got.length} in all;` +
        ` not emitted: ${missing.length} (${ranges(missing)}; in no file: ${ranges(lostByRotation)}), emitted twice: ${twice.length} (${ranges(twice)})`,
    );
    assert.equal(ranges(missing), ranges(lostByRotation), 'every alert in the files is emitted');
    assert.doesNotMatch(red.output(), /does not fit/, 'the checkpoint was resumed in the rotated file, not reset');
    assert.doesNotMatch(red.output(), /\[error\]/);
  }

  it('create: SIGKILL just after the rotation, the writer still in the renamed file: after the restart the renamed file is read on from the checkpoint, no alert lost', async () => {
    const rotate = logrotate(dir, file, ['create']);
    await begin();
    await rotate();
    await sigkill();
    const atKill = emitted().length;
    await writer!.more(100); // into alerts.json.1, while Node-RED is down
    writer!.reopen();
    await writer!.more(100);
    await restartAndCheck('create, SIGKILL after the rotation', atKill);
  });

  it('copytruncate: SIGKILL, then the rotation while Node-RED is down: after the restart the copy is found by its head and read on from the checkpoint, no alert lost', async () => {
    const rotate = logrotate(dir, file, ['copytruncate', 'compress', 'delaycompress']);
    await begin();
    await sigkill();
    const atKill = emitted().length;
    await writer!.more(100); // lines only the copy will hold
    await rotate();
    await writer!.more(100);
    await restartAndCheck('copytruncate, SIGKILL then the rotation', atKill);
  });
});

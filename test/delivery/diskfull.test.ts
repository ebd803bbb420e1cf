/**
 * The outbox on a full disk: Node-RED's own CLI with the package installed from `npm pack`, its
 * outboxes on a real 8 MiB tmpfs that the test fills up while a Slack stand-in on 127.0.0.1
 * answers 200. Node-RED must stay up, say "disk full", send the alerts it cannot journal to the
 * failed output and to Catch, deliver what it had accepted, and go on by itself once the filler
 * is deleted, posting every accepted alert (none twice: the done marks waited in memory).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launcher, type RedProcess } from '../lib/launcher';
import { collect, helper, nodeModule, sampleAlerts, statuses, until, untilStatus } from '../lib/red';
import { alertsIn, stormAlert, tallyDeliveries } from '../lib/storm';
import { json, startStub, type Stub } from '../lib/stub-server';
import { fill, mountTmpfs, unmount } from '../lib/tmpfs';

/** Accepted before the disk fills up (one post each: enough done records to use up any slack of the journal's last page). */
const BEFORE = 200;
/** Sent while the disk is full: refused. */
const WHILE_FULL = 20;
/** Sent after the filler is deleted. */
const AFTER = 20;
const SLACK_PATH = '/services/T000/B000/DISKFULL';
const IDS = {
  tab: 'd15c000000000001',
  alerts: 'd15c000000000002',
  integration: 'd15c000000000003',
  slack: 'd15c000000000004',
  webhook: 'd15c000000000005',
  catch: 'd15c000000000006',
  status: 'd15c000000000007',
};

/** A function node that reduces a message to `body` and an http request node that POSTs it to `url`. */
function reporter(id: string, url: string, body: string): unknown[] {
  return [
    { id: `${id}f`, z: IDS.tab, type: 'function', func: `return { payload: ${body} };`, outputs: 1, wires: [[`${id}h`]] },
    {
      id: `${id}h`,
      z: IDS.tab,
      type: 'http request',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url,
      tls: '',
      persist: false,
      proxy: '',
      authType: '',
      wires: [[]],
    },
  ];
}

const NUMBER = 'Number(/#(\\d+)$/.exec(msg.payload.rule.description)[1])';

describe('a full disk under the outbox (real Node-RED from npm pack, real 8 MiB tmpfs)', function () {
  this.timeout(180_000); // a guard against hanging: the run takes about 30 s

  let tmp = '';
  let userDir = '';
  let outboxes = '';
  let mounted = false;
  let alertsFile = '';
  let base = '';
  let red: RedProcess | undefined;
  let exit: number | string | undefined;
  let stub: Stub | undefined;
  /** The storm numbers of the Slack posts, in arrival order. */
  const posted: number[] = [];
  const reports: Record<'delivered' | 'failed' | 'caught' | 'status', any[]> = { delivered: [], failed: [], caught: [], status: [] };
  /** While set, Slack posts wait for it. */
  let held: Promise<void> | undefined;

  function flow(): unknown[] {
    const report = (kind: string) => `${stub!.base}/report/${kind}`;
    return [
      { id: IDS.tab, type: 'tab', label: 'disk full' },
      {
        id: IDS.alerts,
        z: IDS.tab,
        type: 'armor-alerts',
        version: 1,
        path: alertsFile,
        start: 'resume',
        pollMs: 50,
        wires: [[IDS.integration]],
      },
      {
        id: IDS.integration,
        z: IDS.tab,
        type: 'armor-integration',
        version: 1,
        mode: 'xml',
        xml: '<integration><name>slack</name></integration>',
        outputs: 1,
        wires: [[IDS.slack]],
      },
      { id: IDS.slack, z: IDS.tab, type: 'armor-slack', version: 1, webhook: IDS.webhook, wires: [[`${IDS.slack}df`], [`${IDS.slack}ff`]] },
      {
        id: IDS.webhook,
        type: 'armor-slack-webhook',
        version: 1,
        rate: 100,
        burst: 10,
        digestAbove: 1000000,
        credentials: { url: `${stub!.base}${SLACK_PATH}` },
      },
      ...reporter(`${IDS.slack}d`, report('delivered'), `{ n: ${NUMBER} }`),
      ...reporter(`${IDS.slack}f`, report('failed'), `{ n: ${NUMBER}, error: msg.error }`),
      { id: IDS.catch, z: IDS.tab, type: 'catch', scope: [IDS.slack], uncaught: false, wires: [[`${IDS.catch}f`]] },
      ...reporter(IDS.catch, report('caught'), `{ n: ${NUMBER}, message: msg.error.message }`),
      { id: IDS.status, z: IDS.tab, type: 'status', scope: [IDS.slack], wires: [[`${IDS.status}f`]] },
      ...reporter(IDS.status, report('status'), '{ text: msg.status.text, fill: msg.status.fill }'),
    ];
  }

  const append = (from: number, count: number) =>
    fs.appendFileSync(alertsFile, Array.from({ length: count }, (_, k) => `${JSON.stringify(stormAlert(from + k))}\n`).join(''));
  /** Waits for `pred`, failing at once if Node-RED has exited. */
  const waitFor = (pred: () => boolean, what: string, ms = 30_000) =>
    until(
      () => {
        if (exit !== undefined) throw new Error(`Node-RED exited (${exit}) while waiting for ${what}:\n${red?.output()}`);
        return pred();
      },
      what,
      ms,
    );
  const journal = () => path.join(outboxes, IDS.webhook, 'journal.jsonl');
  /** The seqs the journal on disk still holds as pending (what a restart would post again). */
  const pendingOnDisk = () => {
    const pending = new Set<number>();
    for (const line of fs.readFileSync(journal(), 'utf8').split('\n')) {
      if (!line) continue;
      const rec = JSON.parse(line);
      if (rec.op === 'add') pending.add(rec.seq);
      if (rec.op === 'done') for (const s of rec.seqs) pending.delete(s);
    }
    return pending;
  };
  const lastStatus = () => reports.status.at(-1) as { text: string; fill: string } | undefined;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-diskfull-'));
    userDir = path.join(tmp, 'node-red');
    outboxes = path.join(userDir, 'armor-integrations', 'outbox');
    const why = mountTmpfs(outboxes, 8);
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    mounted = true;
    alertsFile = path.join(tmp, 'alerts.json');
    fs.writeFileSync(alertsFile, '');
    await launcher.installPackage(userDir, await launcher.packPackage(path.join(tmp, 'pack')));
    stub = await startStub((req, res, body) => {
      const url = req.url ?? '';
      if (url === SLACK_PATH) {
        posted.push(...alertsIn(JSON.parse(body)));
        void Promise.resolve(held).then(() => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok')); // held never rejects
        return;
      }
      const kind = /^\/report\/(\w+)$/.exec(url)?.[1] as keyof typeof reports | undefined;
      if (kind && kind in reports) reports[kind].push(JSON.parse(body));
      res.writeHead(200).end();
    });
    const port = await launcher.freePort();
    launcher.writeSettings(userDir, { port, credentialSecret: 'armor-diskfull-credential-secret' });
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && red) console.log(`Node-RED's output:\n${red.output()}`);
  });

  after(async () => {
    if (red) await launcher.stopNodeRed(red);
    await stub?.close();
    if (mounted) unmount(outboxes);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('stays up, says "disk full", refuses new alerts to output 2 and Catch, and delivers every accepted alert once space returns', async () => {
    const started = Date.now();
    red = launcher.startNodeRed(userDir);
    void red.exited.then((code) => (exit = code)); // exited never rejects: it resolves with the exit code or signal
    await launcher.waitForAdmin(base, red);
    await launcher.deployFlows(base, flow());
    const checkpoint = path.join(userDir, 'armor-integrations', 'checkpoints', `${IDS.alerts}.json`);
    await waitFor(() => fs.existsSync(checkpoint), 'the first checkpoint of armor-alerts');

    // 1. accepted while there is space; the first post is held so that all of them are still to be marked done
    let release = () => {};
    held = new Promise<void>((resolve) => (release = resolve));
    append(1, BEFORE);
    await waitFor(() => fs.existsSync(journal()) && pendingOnDisk().size === BEFORE, `the ${BEFORE} alerts in the journal`);

    // 2. the disk fills up; Slack answers 200 from now on: the done marks cannot be written
    const filler = path.join(outboxes, 'filler');
    const filled = fill(filler);
    held = undefined;
    release();
    await waitFor(() => new Set(posted).size === BEFORE, `the ${BEFORE} accepted alerts to be posted`);
    await waitFor(() => reports.delivered.length === BEFORE, `the ${BEFORE} deliveries on output 1`);
    const unrecorded = pendingOnDisk().size;

    // 3. new alerts while the disk is full: refused, to output 2 and to Catch, with the reason
    append(BEFORE + 1, WHILE_FULL);
    await waitFor(() => reports.failed.length === WHILE_FULL && reports.caught.length === WHILE_FULL, `the ${WHILE_FULL} refusals`);
    await waitFor(() => /^disk full/.test(lastStatus()?.text ?? ''), 'the status to say "disk full"', 5000);
    const fullStatus = lastStatus()!;
    assert.equal(exit, undefined, 'Node-RED is running');
    assert.equal((await fetch(`${base}/flows`, { headers: { 'Node-RED-API-Version': 'v1' } })).status, 200, 'and answers');

    // 4. space again: delivery resumes by itself, without a redeploy
    fs.unlinkSync(filler);
    const freed = Date.now();
    await waitFor(() => !/^disk full/.test(lastStatus()?.text ?? ''), 'the status to stop saying "disk full"', 15_000);
    const clearedAfter = Date.now() - freed;
    const clearedStatus = lastStatus()!;
    append(BEFORE + WHILE_FULL + 1, AFTER);
    await waitFor(() => reports.delivered.length === BEFORE + AFTER, `the ${AFTER} alerts sent after space returned`);
    await waitFor(() => pendingOnDisk().size === 0, 'every done mark on disk');
    const postsAtEnd = posted.length;

    console.log(
      `      filler ${Math.round(filled / 1024)} KiB; ${BEFORE} accepted alerts posted on the full disk, ${unrecorded} of them without a done mark on disk;` +
        ` ${WHILE_FULL} refused ("${reports.failed[0].error.message}"), status "${fullStatus.text}";` +
        ` ${clearedAfter} ms after the filler was deleted the status was "${clearedStatus.text}", ${AFTER} more were delivered,` +
        ` ${postsAtEnd} posts in all, journal with 0 pending; ${Math.round((Date.now() - started) / 1000)} s in all`,
    );
    assert.ok(unrecorded > 0, 'some done marks could not be written while the disk was full');
    assert.deepEqual({ fill: fullStatus.fill }, { fill: 'red' });
    for (const f of reports.failed) {
      assert.equal(f.error.kind, 'refused');
      assert.match(f.error.message, /^Slack: cannot write the outbox journal: ENOSPC: no space left on device/);
    }
    for (const c of reports.caught) assert.match(c.message, /ENOSPC: no space left on device/);
    const refused = Array.from({ length: WHILE_FULL }, (_, k) => BEFORE + 1 + k);
    assert.deepEqual(
      reports.failed.map((f) => f.n).sort((a, b) => a - b),
      refused,
    );
    assert.deepEqual(
      reports.caught.map((c) => c.n).sort((a, b) => a - b),
      refused,
    );

    // every accepted alert posted exactly once; the refused ones never
    const accepted = posted.filter((n) => !refused.includes(n));
    assert.equal(accepted.length, posted.length, 'no refused alert was posted');
    const { twice } = tallyDeliveries(posted, 0);
    assert.deepEqual(twice, [], 'no alert posted twice');
    assert.deepEqual(
      [...new Set(posted)].sort((a, b) => a - b),
      [...Array.from({ length: BEFORE }, (_, k) => k + 1), ...Array.from({ length: AFTER }, (_, k) => BEFORE + WHILE_FULL + 1 + k)],
    );
    assert.equal(clearedStatus.fill, 'green');
    const log = red.output();
    assert.doesNotMatch(log, /uncaught/i);
    assert.equal(log.match(/outbox: cannot write the journal \(ENOSPC: no space left on device, write\)/g)?.length, 1, 'logged once');
    assert.equal(log.match(/outbox: the journal can be written again/g)?.length, 1, 'and its end once');
    assert.equal(exit, undefined, 'Node-RED is still running');
  });
});

describe('an outbox on a read-only file system (in-process Node-RED, real tmpfs remounted read-only)', () => {
  let mnt = '';
  let stub: Stub | undefined;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  beforeEach(function () {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-rofs-'));
    const why = mountTmpfs(mnt, 8);
    if (why) {
      console.log(`      skipped: ${why}`);
      fs.rmdirSync(mnt);
      mnt = '';
      this.skip();
    }
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    helper.settings({ userDir: mnt });
  });

  afterEach(async () => {
    await helper.unload();
    await stub?.close();
    helper.settings({});
    if (mnt) {
      unmount(mnt);
      fs.rmdirSync(mnt);
    }
  });

  it('refuses alerts with the reason (EROFS) while the outbox cannot be opened, and opens it by itself once the disk is writable', async () => {
    const [first, second] = sampleAlerts().filter((a) => a.rule);
    stub = await startStub(json(202, { status: 'success', message: 'Event processed' }));
    const flow = [
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'p1', type: 'armor-pagerduty-service', name: 'SOC', region: 'custom', url: `${stub.base}/v2/enqueue`, rate: 1000, burst: 1000 },
      { id: 'd1', z: 'f1', type: 'armor-pagerduty', service: 'p1', wires: [['sent'], ['failed']] },
      { id: 'sent', z: 'f1', type: 'helper' },
      { id: 'failed', z: 'f1', type: 'helper' },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    const catchNode = require('@node-red/nodes/core/common/25-catch.js');
    await helper.load([nodeModule('armor-pagerduty'), nodeModule('armor-pagerduty-service'), catchNode], flow, {
      p1: { routingKey: 'R0UT1NGKEYSECRET0123456789abcdef' },
    });
    const sent = collect('sent');
    const failed = collect('failed');
    const caught = collect('caught');
    const d1 = helper.getNode('d1');

    d1.receive({ payload: first });
    const [refused] = await failed.waitFor(1);
    assert.equal(refused.error.kind, 'refused');
    assert.match(refused.error.message, /^PagerDuty: cannot open the outbox: EROFS: read-only file system/);
    const [c] = await caught.waitFor(1);
    assert.match(c.error.message, /EROFS/);
    // the test helper's RED._ returns the catalogue key
    await untilStatus('d1', {
      fill: 'red',
      shape: 'ring',
      text: 'armor-delivery.status.diskError(code=EROFS) · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
    });

    execFileSync('mount', ['-o', 'remount,rw', mnt]);
    await until(() => statuses('d1').at(-1)?.fill === 'green', 'the status to clear once the disk is writable', 10_000);
    d1.receive({ payload: second });
    const [delivered] = await sent.waitFor(1, 5000);
    assert.equal(delivered.payload.id, second.id);
    assert.equal(stub.seen.length, 1);
    assert.equal(failed.msgs.length, 1);
    assert.ok(fs.existsSync(path.join(mnt, 'armor-integrations', 'outbox', 'p1', 'journal.jsonl')));
  });
});

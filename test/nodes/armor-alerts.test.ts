import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calls, collect, helper, nodeModule, SHARED, settlesWithin, sleep, statuses, until } from '../lib/red';

const alertsNode = nodeModule('armor-alerts');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

/** The sample file's lines as written (24 lines: 23 alerts, line 16 is not an alert). */
const LINES = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l));
const alertsOf = (lines: string[]) => parsed(lines).filter((a) => a.rule);
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
/** A few polls of the flows below (pollMs 20): long enough for the node to have read what is there. */
const SETTLE_MS = 200;

function flow(props: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'a1', z: 'f1', type: 'armor-alerts', pollMs: 20, wires: [['out']], ...props },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** The flow above with a second node wired to the output, so that Node-RED clones each message. */
function twoOutputs(props: Record<string, unknown>) {
  const nodes: Array<Record<string, unknown>> = flow(props);
  nodes[1] = { ...nodes[1], wires: [['out', 'out2']] };
  return [...nodes, { id: 'out2', z: 'f1', type: 'helper' }];
}

const lastStatus = (id: string) => statuses(id).at(-1);
const untilStatus = (id: string, want: { fill: string; shape: string; text: string }) =>
  until(
    () => JSON.stringify(lastStatus(id)) === JSON.stringify(want),
    `status ${JSON.stringify(want)}, last ${JSON.stringify(lastStatus(id))}`,
  );

describe('armor-alerts node', () => {
  // The resume checkpoint lives under RED.settings.userDir; the test helper leaves it undefined
  // (the node would use ~/.node-red), so every test here runs with a temporary user directory.
  let userDir: string;
  let dir: string;
  let file: string;
  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-alerts-userdir-'));
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(r));
  });
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    helper.settings({ userDir: undefined });
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-alerts-'));
    file = path.join(dir, 'alerts.json');
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Loads the flow and waits until the node has the file open (so `end` means "from now"). */
  async function loadTailing(props: Record<string, unknown>) {
    await helper.load([alertsNode, catchNode], flow({ path: file, ...props }));
    await until(() => lastStatus('a1')?.fill === 'green', 'the node to open the file');
  }

  describe('tailing a file', () => {
    it('reads the sample file from the beginning: one message per alert, payload the alert, topic the rule id', async () => {
      fs.writeFileSync(file, text(LINES));
      await helper.load([alertsNode, catchNode], flow({ path: file, start: 'beginning' }));
      const out = collect('out');
      await out.waitFor(23);
      await sleep(SETTLE_MS);
      assert.equal(out.msgs.length, 23, 'line 16 (no rule) is not an alert');
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf(LINES),
      );
      assert.deepEqual(
        out.msgs.map((m) => m.topic),
        alertsOf(LINES).map((a) => a.rule.id),
      );
      await untilStatus('a1', { fill: 'green', shape: 'dot', text: 'alerts.json · armor-alerts.status.alerts(count=23)' });
      assert.equal(calls('a1', 'warn').length, 0);
    });

    it('with start "end", skips the alerts already in the file and emits only those appended', async () => {
      fs.writeFileSync(file, text(LINES.slice(0, 10)));
      await loadTailing({ start: 'end' });
      const out = collect('out');
      await sleep(SETTLE_MS);
      assert.equal(out.msgs.length, 0);
      fs.appendFileSync(file, text(LINES.slice(10, 12)));
      await out.waitFor(2);
      await sleep(SETTLE_MS);
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf(LINES.slice(10, 12)),
      );
    });

    it('emits a line appended in two writes once, whole', async () => {
      fs.writeFileSync(file, '');
      await loadTailing({ start: 'end' });
      const out = collect('out');
      const line = LINES[1];
      const cut = Math.floor(line.length / 2);
      fs.appendFileSync(file, line.slice(0, cut));
      await sleep(SETTLE_MS);
      assert.equal(out.msgs.length, 0, 'half a line is held, not emitted');
      fs.appendFileSync(file, `${line.slice(cut)}\n`);
      await out.waitFor(1);
      await sleep(SETTLE_MS);
      assert.equal(out.msgs.length, 1);
      assert.deepEqual(out.msgs[0].payload, JSON.parse(line));
      assert.equal(calls('a1', 'warn').length, 0);
    });

    it('skips an invalid line, warns with its byte offset, and emits the lines after it', async () => {
      const invalid = '{"rule": {"id": "5712", broken';
      fs.writeFileSync(file, text([LINES[0], invalid, LINES[1], LINES[2]]));
      await helper.load([alertsNode, catchNode], flow({ path: file, start: 'beginning' }));
      const out = collect('out');
      await out.waitFor(3);
      await sleep(SETTLE_MS);
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf([LINES[0], LINES[1], LINES[2]]),
      );
      const offset = Buffer.byteLength(LINES[0]) + 1;
      const warnings = calls('a1', 'warn').map((args) => String(args[0]));
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0],
        new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}: line at byte ${offset} is not valid JSON \\(.*\\): skipped$`),
      );
      await untilStatus('a1', {
        fill: 'green',
        shape: 'dot',
        text: 'alerts.json · armor-alerts.status.alerts(count=3) · armor-alerts.status.skipped(count=1)',
      });
    });

    it('skips a line nested 100,000 arrays deep with a warning naming its byte offset; the next alert reaches every wired node', async () => {
      const deep = `{"id":"deep","rule":{"id":"1","level":3},"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      fs.writeFileSync(file, text([LINES[0], deep, LINES[1]]));
      await helper.load([alertsNode, catchNode], twoOutputs({ path: file, start: 'beginning' }));
      const [out, out2] = [collect('out'), collect('out2')];
      await until(() => out.msgs.length >= 2 && out2.msgs.length >= 2, 'two alerts at both wired nodes');
      await sleep(SETTLE_MS);
      for (const o of [out, out2])
        assert.deepEqual(
          o.msgs.map((m) => m.payload.id),
          alertsOf([LINES[0], LINES[1]]).map((a) => a.id),
        );
      const offset = Buffer.byteLength(LINES[0]) + 1;
      const warnings = calls('a1', 'warn').map((args) => String(args[0]));
      assert.deepEqual(warnings, [`${file}: line at byte ${offset} nests objects and arrays deeper than 64 levels: skipped`]);
      assert.equal(calls('a1', 'error').length, 0);
      await untilStatus('a1', {
        fill: 'green',
        shape: 'dot',
        text: 'alerts.json · armor-alerts.status.alerts(count=2) · armor-alerts.status.skipped(count=1)',
      });
    });

    it('with start "resume", continues after the flow is closed and loaded again, without repeating or skipping', async () => {
      fs.writeFileSync(file, '');
      await loadTailing({ start: 'resume' });
      let out = collect('out');
      fs.appendFileSync(file, text(LINES.slice(0, 12)));
      await out.waitFor(12);
      const first = out.msgs.slice();
      // a position is saved once its alert was handed to the flow a second ago
      await sleep(1100);
      await helper.unload();

      // the read position was saved in the user directory, just after line 12
      const checkpoint = JSON.parse(fs.readFileSync(path.join(userDir, 'armor-integrations', 'checkpoints', 'a1.json'), 'utf8'));
      assert.equal(checkpoint.offset, Buffer.byteLength(text(LINES.slice(0, 12))));
      fs.appendFileSync(file, text(LINES.slice(12))); // written while no flow runs

      await helper.load([alertsNode, catchNode], flow({ path: file, start: 'resume' }));
      out = collect('out');
      await out.waitFor(11);
      await sleep(SETTLE_MS);
      assert.equal(out.msgs.length, 11, 'lines 13-24 hold 11 alerts (line 16 is none)');
      assert.deepEqual(
        [...first, ...out.msgs].map((m) => m.payload),
        alertsOf(LINES),
      );
      assert.equal(calls('a1', 'warn').length, 0, 'the checkpoint fitted the file');
    });

    it('with start "resume", saves no position younger than a second: closing at once repeats those alerts, skips none', async () => {
      fs.writeFileSync(file, '');
      await loadTailing({ start: 'resume' });
      let out = collect('out');
      fs.appendFileSync(file, text(LINES.slice(0, 5)));
      await out.waitFor(5);
      await helper.unload(); // at once: these alerts may not have crossed the flow yet
      await helper.load([alertsNode, catchNode], flow({ path: file, start: 'resume' }));
      out = collect('out');
      fs.appendFileSync(file, text(LINES.slice(5, 8)));
      await out.waitFor(8);
      await sleep(SETTLE_MS);
      // only where reading started was saved: the second run reads the five again, then the new three
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf(LINES.slice(0, 8)),
      );
    });

    it('waits for a file that does not exist yet, says so, and reads it from the start when it appears', async () => {
      await helper.load([alertsNode, catchNode], flow({ path: file, start: 'end' }));
      const out = collect('out');
      await untilStatus('a1', { fill: 'yellow', shape: 'ring', text: 'armor-alerts.status.waiting · armor-alerts.status.alerts(count=0)' });
      fs.writeFileSync(file, text(LINES.slice(0, 3)));
      await out.waitFor(3);
      await sleep(SETTLE_MS);
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf(LINES.slice(0, 3)),
      );
      await untilStatus('a1', { fill: 'green', shape: 'dot', text: 'alerts.json · armor-alerts.status.alerts(count=3)' });
    });

    it('closes promptly while tailing a file and while waiting for one', async () => {
      fs.writeFileSync(file, text(LINES));
      const missing = path.join(dir, 'not-yet.json');
      await helper.load(
        [alertsNode, catchNode],
        [...flow({ path: file, start: 'resume' }), { id: 'a2', z: 'f1', type: 'armor-alerts', path: missing, pollMs: 20, wires: [[]] }],
      );
      await until(() => lastStatus('a1')?.fill === 'green' && lastStatus('a2')?.fill === 'yellow', 'both nodes to start');
      await settlesWithin(helper.unload(), 5000, 'closing the flow');
    });
  });

  describe('alerts arriving on the input', () => {
    it('parses an alert object, a JSON string and a Buffer of JSON lines into one message per alert', async () => {
      await helper.load([alertsNode, catchNode], flow({ path: '' }));
      const out = collect('out');
      const caught = collect('caught');
      const a1 = helper.getNode('a1');
      const [first, second, ...rest] = alertsOf(LINES);
      a1.receive({ payload: first, source: 'mqtt' });
      a1.receive({ payload: JSON.stringify(second, null, 2) });
      a1.receive({ payload: Buffer.from(text(LINES.slice(2, 5))) });
      await out.waitFor(5);
      await sleep(50);
      assert.equal(out.msgs.length, 5);
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        [first, second, ...rest.slice(0, 3)],
      );
      assert.deepEqual(
        out.msgs.map((m) => m.topic),
        [first, second, ...rest.slice(0, 3)].map((a) => a.rule.id),
      );
      assert.equal(out.msgs[0].source, 'mqtt', 'other message properties are kept');
      assert.equal(caught.msgs.length, 0);
      await untilStatus('a1', { fill: 'grey', shape: 'dot', text: 'armor-alerts.status.alerts(count=5)' });
    });

    it('sends the valid alerts of a payload with junk lines, and reports the junk to Catch', async () => {
      await helper.load([alertsNode, catchNode], flow({ path: '' }));
      const out = collect('out');
      const caught = collect('caught');
      const payload = [LINES[0], 'not json', '{"no": "rule"}', LINES[1], '[1, 2]', ''].join('\n');
      helper.getNode('a1').receive({ payload });
      const [err] = await caught.waitFor(1);
      await out.waitFor(2);
      await sleep(50);
      assert.deepEqual(
        out.msgs.map((m) => m.payload),
        alertsOf([LINES[0], LINES[1]]),
      );
      assert.equal(caught.msgs.length, 1);
      // RED._ gives the message key and its parameters in these tests (test/lib/red.ts keyed): it stands for
      // "2 line(s) of the input were not alerts and were skipped: ..."
      assert.equal(
        err.error.message,
        `Error: armor-alerts.errors.input(count=2, first=line at byte ${Buffer.byteLength(`${LINES[0]}\n`)} is not valid JSON (Unexpected token 'o', "not json" is not valid JSON): skipped (+1 more))`,
      );
      assert.equal(err.error.source.id, 'a1');
      assert.equal(err.payload, payload);
      // the object without a rule is not an alert, but not junk either: only the 2 junk lines count
      await untilStatus('a1', {
        fill: 'grey',
        shape: 'dot',
        text: 'armor-alerts.status.alerts(count=2) · armor-alerts.status.skipped(count=2)',
      });
    });

    it('refuses an alert nested 100,000 arrays deep (a line, with its offset, or an object) and sends the others to every wired node', async () => {
      await helper.load([alertsNode, catchNode], twoOutputs({ path: '' }));
      const [out, out2, caught] = [collect('out'), collect('out2'), collect('caught')];
      const deep = `{"id":"deep","rule":{"id":"1","level":3},"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const a1 = helper.getNode('a1');
      a1.receive({ payload: text([LINES[0], deep, LINES[1]]) });
      await until(
        () => caught.msgs.length >= 1 && out.msgs.length >= 2 && out2.msgs.length >= 2,
        'two alerts at both wired nodes and an error',
      );
      a1.receive({ payload: JSON.parse(deep) });
      a1.receive({ payload: LINES[2] });
      await until(() => caught.msgs.length >= 2 && out.msgs.length >= 3 && out2.msgs.length >= 3, 'the third alert and a second error');
      await sleep(50);
      const ids = alertsOf(LINES.slice(0, 3)).map((a) => a.id);
      for (const o of [out, out2])
        assert.deepEqual(
          o.msgs.map((m) => m.payload.id),
          ids,
        );
      // the catalogue key with its parameters (test/lib/red.ts): "... were skipped: <first>"
      assert.deepEqual(
        caught.msgs.map((m) => m.error.message),
        [
          `Error: armor-alerts.errors.input(count=1, first=line at byte ${Buffer.byteLength(LINES[0]) + 1} nests objects and arrays deeper than 64 levels: skipped)`,
          'Error: armor-alerts.errors.input(count=1, first=payload is an alert object nesting objects and arrays deeper than 64 levels: skipped)',
        ],
      );
      assert.equal(caught.msgs[0].payload, text([LINES[0], deep, LINES[1]]));
      assert.equal('payload' in caught.msgs[1], false, 'an object too deep to clone is not handed to Catch');
      assert.equal(calls('a1', 'error').length, 2);
      await untilStatus('a1', {
        fill: 'grey',
        shape: 'dot',
        text: 'armor-alerts.status.alerts(count=3) · armor-alerts.status.skipped(count=2)',
      });
    });
  });
});

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, helper, nodeModule, reportedText, sampleAlerts, statuses, until, useTempUserDir } from '../lib/red';

const integrationNode = nodeModule('armor-integration');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const SEED_XML = `<integration>
  <name>slack</name>
  <hook_url>\${SLACK_URL}</hook_url>
  <level>10</level>
  <group>multiple_drops,|authentication_failures,</group>
</integration>
<integration>
  <name>pagerduty</name>
  <rule_id>550, 005712</rule_id>
</integration>`;

function flow(props: Record<string, unknown>, outputs: number) {
  const wires = Array.from({ length: outputs }, (_, k) => [`out${k}`]);
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'n1', z: 'f1', type: 'armor-integration', outputs, wires, ...props },
    ...wires.map(([id]) => ({ id, z: 'f1', type: 'helper' })),
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('armor-integration node', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(() => helper.unload());
  useTempUserDir();

  const alerts = sampleAlerts();
  const byRule = (id: string) => alerts.find((a) => a.rule?.id === id)!;
  /** The sample alerts each integration of SEED_XML passes, worked out by hand from its filters. */
  const expectedForSeed = () => {
    const wantSlack = alerts.filter(
      (a) =>
        (a.rule?.level ?? 0) >= 10 && (a.rule?.groups ?? []).some((g: string) => g === 'multiple_drops' || g === 'authentication_failures'),
    );
    const wantPd = alerts.filter((a) => a.rule && [550, 5712].includes(Number(a.rule.id)));
    assert.ok(wantSlack.length > 0 && wantPd.length > 0);
    return { wantSlack, wantPd };
  };

  it('routes each alert to every integration whose filters pass, with msg.integration', async () => {
    await helper.load([integrationNode, catchNode], flow({ mode: 'xml', xml: SEED_XML }, 2));
    const out0 = collect('out0');
    const out1 = collect('out1');
    const n1 = helper.getNode('n1');
    for (const alert of alerts) n1.receive({ payload: alert });
    const { wantSlack, wantPd } = expectedForSeed();
    await out0.waitFor(wantSlack.length);
    await out1.waitFor(wantPd.length);
    assert.deepEqual(
      out0.msgs.map((m) => m.payload.id),
      wantSlack.map((a) => a.id),
    );
    assert.deepEqual(
      out1.msgs.map((m) => m.payload.id),
      wantPd.map((a) => a.id),
    );
    assert.deepEqual(out0.msgs[0].integration, {
      index: 0,
      name: 'slack',
      options: undefined,
      maxLog: 165,
      timeout: 10,
      retries: 3,
      alertFormat: 'json',
    });
    assert.equal(out1.msgs[0].integration.name, 'pagerduty');
    // an alert passing both integrations leaves by both outputs, each with its own msg.integration
    const both = byRule('5712');
    assert.ok(out0.msgs.some((m) => m.payload.id === both.id && m.integration.index === 0));
    assert.ok(out1.msgs.some((m) => m.payload.id === both.id && m.integration.index === 1));
    assert.equal(JSON.stringify(out0.msgs).includes('SLACK_URL'), false, 'no hook_url in messages');
  });

  it('is configured by form rows as by XML, through the same validation', async () => {
    const rows = [
      { name: 'slack', level: '10', group: 'multiple_drops,|authentication_failures,' },
      { name: 'pagerduty', rule_id: '550, 005712' },
    ];
    await helper.load([integrationNode, catchNode], flow({ mode: 'form', rules: rows }, 2));
    const out0 = collect('out0');
    const out1 = collect('out1');
    for (const alert of alerts) helper.getNode('n1').receive({ payload: alert });
    const { wantSlack, wantPd } = expectedForSeed();
    await out0.waitFor(wantSlack.length);
    await out1.waitFor(wantPd.length);
    // the group filter of the row counts: the level alone would let more through
    assert.ok(alerts.filter((a) => (a.rule?.level ?? 0) >= 10).length > wantSlack.length);
    assert.deepEqual(
      out0.msgs.map((m) => m.payload.id),
      wantSlack.map((a) => a.id),
    );
    assert.deepEqual(
      out1.msgs.map((m) => m.payload.id),
      wantPd.map((a) => a.id),
    );
  });

  it('refuses an invalid config, names the block and tag, and lets Catch see the messages it cannot route', async () => {
    const bad = '<integration><name>slack</name><level>high</level></integration>';
    await helper.load([integrationNode, catchNode], flow({ mode: 'xml', xml: bad }, 1));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.ok(
      n1.error.args.some((a: unknown[]) => /integration #1 \(slack\).*<level>/.test(String(a[0]))),
      'error names block and tag',
    );
    n1.receive({ payload: byRule('5712') });
    const [msg] = await caught.waitFor(1);
    assert.match(msg.error.message, /armor-integration.errors.noConfig/);
    assert.equal(msg.payload.rule.id, '5712');
  });

  it('counts and skips objects without a rule, warning once', async () => {
    await helper.load([integrationNode, catchNode], flow({ mode: 'xml', xml: '<integration><name>slack</name></integration>' }, 1));
    const n1 = helper.getNode('n1');
    const out0 = collect('out0');
    const notAlert = alerts.find((a) => !a.rule)!;
    n1.receive({ payload: notAlert });
    n1.receive({ payload: 'text' });
    n1.receive({ payload: byRule('550') });
    n1.receive({ payload: byRule('5712') }); // messages keep their order: once this one is out, the others are settled
    await out0.waitFor(2);
    assert.deepEqual(
      out0.msgs.map((m) => m.payload.id),
      [byRule('550').id, byRule('5712').id],
    );
    assert.equal(n1.warn.args.filter((a: unknown[]) => a[0] === 'armor-integration.errors.notAlert').length, 1);
  });

  it('re-reads an ossec.conf file when it changes, and keeps the old config when the new one is invalid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-int-'));
    const file = path.join(dir, 'ossec.conf');
    const conf = (level: string) => `<ossec_config><global><jsonout_output>yes</jsonout_output></global>
      <integration><name>slack</name><level>${level}</level></integration></ossec_config>`;
    fs.writeFileSync(file, conf('12'));
    try {
      await helper.load([integrationNode, catchNode], flow({ mode: 'file', file }, 1));
      const n1 = helper.getNode('n1');
      const out0 = collect('out0');
      const lvl10 = byRule('5712'); // level 10
      const lvl12 = alerts.find((a) => (a.rule?.level ?? 0) >= 12)!;
      n1.receive({ payload: lvl10 });
      n1.receive({ payload: lvl12 }); // in order: once it is out, the level 10 one was settled
      await out0.waitFor(1);
      assert.deepEqual(
        out0.msgs.map((m) => m.payload.id),
        [lvl12.id],
        'level 12 config drops a level 10 alert',
      );
      fs.writeFileSync(file, conf('10') + '\n<!-- now level 10 -->');
      await until(
        () => {
          n1.receive({ payload: lvl10 });
          return out0.msgs.length > 1;
        },
        'the file change to apply',
        8000,
      );
      fs.writeFileSync(file, conf('eleven'));
      await until(() => n1.error.args.some((a: unknown[]) => /<level>/.test(String(a[0]))), 'the invalid file to be reported', 8000);
      const before = out0.msgs.length;
      n1.receive({ payload: lvl10 });
      await out0.waitFor(before + 1);
      assert.equal(out0.msgs.at(-1).payload.id, lvl10.id, 'the previous (level 10) config is still in force');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('file mode on what is not a config', () => {
    let dir = '';
    let rescuer: ChildProcess | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-int-'));
    });
    afterEach(() => {
      rescuer?.kill('SIGKILL');
      rescuer = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const CONF = '<ossec_config><integration><name>slack</name><level>10</level></integration></ossec_config>';

    it('refuses a FIFO with a red status without blocking the runtime, and reads a regular file put in its place', async () => {
      const file = path.join(dir, 'ossec.conf');
      execFileSync('mkfifo', [file]);
      // another process writes into the FIFO after 4 s: a runtime blocked reading it is released (and the test fails, not hangs)
      rescuer = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(file)}, 'x\\n'), 4000)`], {
        stdio: 'ignore',
      });
      const t0 = Date.now();
      await helper.load([integrationNode, catchNode], flow({ mode: 'file', file }, 1));
      const n1 = helper.getNode('n1');
      await until(() => statuses('n1').length > 0, 'a status', 2000);
      await helper.request().get('/armor-integrations/samples').expect(200);
      const ms = Date.now() - t0;
      assert.ok(ms < 2000, `deployed and answered after ${ms} ms`);
      assert.deepEqual(statuses('n1').at(-1), {
        fill: 'red',
        shape: 'ring',
        text: 'armor-integration.status.file(reason=not a regular file (a FIFO))',
      });
      assert.deepEqual(
        n1.error.args.map((a: unknown[]) => a[0]),
        [`armor-integration.errors.file(file=${file}, reason=not a regular file (a FIFO))`],
      );
      const caught = collect('caught');
      n1.receive({ payload: byRule('5712') });
      await caught.waitFor(1);
      // the FIFO replaced by an ossec.conf: read at the next poll of the path
      rescuer.kill('SIGKILL');
      fs.rmSync(file);
      fs.writeFileSync(file, CONF);
      await until(() => statuses('n1').at(-1)?.fill === 'green', 'the regular file to be applied', 8000);
      const out0 = collect('out0');
      n1.receive({ payload: byRule('5712') });
      await out0.waitFor(1);
    });

    it('says a file holds no <integration> block without quoting it', async () => {
      const file = path.join(dir, 'settings.xml');
      fs.writeFileSync(file, '<settings>\n  <password>hunter2<SECRET-ONE</password>\n</settings>\n');
      await helper.load([integrationNode, catchNode], flow({ mode: 'file', file }, 1));
      const n1 = helper.getNode('n1');
      await until(() => statuses('n1').length > 0, 'a status', 2000);
      assert.ok(!/hunter2|SECRET/.test(reportedText('n1')), reportedText('n1'));
      assert.deepEqual(
        n1.warn.args.map((a: unknown[]) => a[0]),
        [`armor-integration.warnings.config(origin=${file}, message=config: no <integration> block found in ${file})`],
      );
      assert.deepEqual(statuses('n1').at(-1), { fill: 'red', shape: 'ring', text: 'armor-integration.status.invalid' });
    });
  });

  it("answers the editor with the runtime's own validation and verdicts, without secrets", async () => {
    await helper.load(
      [integrationNode],
      [{ id: 'n1', type: 'armor-integration', mode: 'xml', xml: SEED_XML, outputs: 2, wires: [[], []] }],
    );
    const res = await helper
      .request()
      .post('/armor-integration/check')
      .send({ mode: 'xml', xml: SEED_XML.replace('${SLACK_URL}', 'https://hooks.example/services/SECRET'), alert: byRule('5712') })
      .expect(200);
    assert.equal(res.body.integrations.length, 2);
    assert.equal(res.body.integrations[0].hasHookUrl, true);
    assert.equal(JSON.stringify(res.body).includes('SECRET'), false);
    assert.deepEqual(
      res.body.verdicts.map((v: { pass: boolean }) => v.pass),
      [true, true],
    );
    const bad = await helper
      .request()
      .post('/armor-integration/check')
      .send({ mode: 'form', rules: [{ name: 'slack', rule_id: '5710,abc' }] })
      .expect(200);
    assert.equal(bad.body.errors.length, 1);
    assert.match(bad.body.errors[0].message, /rule_id/);
  });
});

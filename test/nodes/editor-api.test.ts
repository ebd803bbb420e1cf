import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPagerDutyEvent } from '../../src/services/pagerduty/event';
import { buildSlackMessage } from '../../src/services/slack/message';
import { collect, helper, nodeModule, reportedText, sleep, useTempUserDir } from '../lib/red';
import { answer, echoSecrets, json, startStub, type Handler, type Stub } from '../lib/stub-server';

const integrationNode = nodeModule('armor-integration');
const slackNode = nodeModule('armor-slack');
const webhookNode = nodeModule('armor-slack-webhook');
const pagerdutyNode = nodeModule('armor-pagerduty');
const serviceNode = nodeModule('armor-pagerduty-service');

const SECRET_PATH = '/services/T000/B000/SECRETXYZ0123456789abcdef';
const SECRET = 'SECRETXYZ0123456789abcdef';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

interface Sample {
  id: string;
  label: string;
  alert: Record<string, any>;
}

function flow(pagerdutyUrl = 'http://127.0.0.1:9/v2/enqueue') {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'w1', type: 'armor-slack-webhook', name: '#soc' },
    { id: 's1', z: 'f1', type: 'armor-slack', webhook: 'w1', layout: 'blocks', wires: [['sent'], ['failed']] },
    { id: 'p1', type: 'armor-pagerduty-service', name: 'SOC', region: 'custom', url: pagerdutyUrl },
    { id: 'd1', z: 'f1', type: 'armor-pagerduty', service: 'p1', wires: [['sent'], ['failed']] },
    { id: 'lonely', z: 'f1', type: 'armor-slack', wires: [[], []] },
    { id: 'sent', z: 'f1', type: 'helper' },
    { id: 'failed', z: 'f1', type: 'helper' },
  ];
}

describe('editor admin endpoints', () => {
  let stub: Stub | undefined;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await stub?.close();
    stub = undefined;
  });
  useTempUserDir();

  /** The four nodes loaded, the Slack webhook and PagerDuty service pointing at one stub answering `handler`. */
  async function start(handler: Handler) {
    stub = await startStub(handler);
    await helper.load([integrationNode, slackNode, webhookNode, pagerdutyNode, serviceNode], flow(`${stub.base}/v2/enqueue`), {
      w1: { url: stub.base + SECRET_PATH },
      p1: { routingKey: ROUTING_KEY },
    });
    return stub;
  }

  async function samples(): Promise<Sample[]> {
    return (await helper.request().get('/armor-integrations/samples').expect(200)).body;
  }

  function assertNoSecret(text: string) {
    for (const secret of [SECRET, SECRET_PATH, 'T000/B000', ROUTING_KEY]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }

  describe('sample alerts', () => {
    it('serves six synthetic alerts with distinct ids, each an alert with a rule', async () => {
      await start(answer(200, 'ok'));
      const list = await samples();
      assert.equal(list.length, 6);
      assert.equal(new Set(list.map((s) => s.id)).size, 6);
      for (const s of list) {
        assert.match(s.label, /\S/);
        assert.equal(typeof s.alert.rule, 'object');
        assert.match(s.alert.rule.id, /^\d+$/);
      }
      // enough variety to show each Slack colour and PagerDuty's critical severity
      const levels = list.map((s) => s.alert.rule.level);
      assert.ok(levels.some((l) => l <= 4 || (l >= 5 && l <= 7)) && levels.some((l) => l >= 8) && levels.some((l) => l >= 12));
      assert.ok(
        list.some((s) => s.alert.agent.id === '000' && s.alert.agent.ip === undefined),
        'one alert of the manager itself',
      );
    });
  });

  describe('import of a manager config', () => {
    const XML = `<ossec_config>
  <integration>
    <name>slack</name>
    <hook_url>https://hooks.slack.com${SECRET_PATH}</hook_url>
    <level>10</level>
    <group>multiple_drops,|authentication_failures,</group>
    <options>{"channel":"#soc"}</options>
  </integration>
  <!-- <integration><name>commented-out</name></integration> -->
  <integration>
    <name>pagerdty</name>
    <api_key>${ROUTING_KEY}</api_key>
    <event_location type="osmatch">^web-</event_location>
    <max_log>300</max_log>
  </integration>
  <integration>
    <name>slack</name>
    <rule_id>5710,abc</rule_id>
  </integration>
  <integration>
    <name>virustotal</name>
    <api_key>\${VT_KEY}</api_key>
    <group>syscheck</group>
    <timeout>10</timeout>
  </integration>
</ossec_config>`;

    it('answers form rows without secrets or defaults, and every error and warning with block and tag', async () => {
      await start(answer(200, 'ok'));
      const res = await helper.request().post('/armor-integration/import').send({ xml: XML }).expect(200);
      assertNoSecret(JSON.stringify(res.body));
      assert.deepEqual(res.body.rows, [
        {
          index: 0,
          name: 'slack',
          hasHookUrl: true,
          hasApiKey: false,
          row: { name: 'slack', level: '10', group: 'multiple_drops,authentication_failures', options: '{"channel":"#soc"}' },
        },
        {
          index: 1,
          name: 'pagerduty',
          hasHookUrl: false,
          hasApiKey: true,
          row: { name: 'pagerduty', location_syntax: 'os_match', event_location: '^web-', max_log: '300' },
        },
        { index: 3, name: 'virustotal', hasHookUrl: false, hasApiKey: true, row: { name: 'virustotal', group: 'syscheck' } },
      ]);
      assert.deepEqual(
        res.body.errors.map((e: { block: number; tag: string }) => [e.block, e.tag]),
        [[2, 'rule_id']],
      );
      assert.match(res.body.errors[0].message, /^integration #3 \(slack\): <rule_id> .*"abc"/);
      assert.deepEqual(
        res.body.warnings.map((w: { block: number; tag: string }) => [w.block, w.tag]),
        [
          [1, 'name'],
          [2, 'hook_url'],
        ],
      );
    });

    it('answers where each block and its secrets are in the text sent (offsets, no values), the commented-out block left out', async () => {
      await start(answer(200, 'ok'));
      const res = await helper.request().post('/armor-integration/import').send({ xml: XML }).expect(200);
      const blocks = res.body.blocks as Array<{
        index: number;
        name: string;
        start: number;
        end: number;
        hook_url?: { start: number; end: number; reference: boolean };
        api_key?: { start: number; end: number; reference: boolean };
      }>;
      assert.deepEqual(
        blocks.map((b) => [b.index, b.name, XML.slice(b.start, b.start + 13), XML.slice(b.end - 14, b.end)]),
        [
          [0, 'slack', '<integration>', '</integration>'],
          [1, 'pagerduty', '<integration>', '</integration>'],
          [2, 'slack', '<integration>', '</integration>'],
          [3, 'virustotal', '<integration>', '</integration>'],
        ],
      );
      assert.equal(
        XML.slice(blocks[0].hook_url!.start, blocks[0].hook_url!.end),
        `<hook_url>https://hooks.slack.com${SECRET_PATH}</hook_url>`,
      );
      assert.equal(XML.slice(blocks[1].api_key!.start, blocks[1].api_key!.end), `<api_key>${ROUTING_KEY}</api_key>`);
      assert.deepEqual([blocks[0].hook_url!.reference, blocks[1].api_key!.reference, blocks[3].api_key!.reference], [false, false, true]);
      assert.deepEqual([blocks[2].hook_url, blocks[2].api_key], [undefined, undefined]);
      assertNoSecret(JSON.stringify(blocks));
      // the check endpoint answers the same for pasted XML, and no positions for a form
      const checked = await helper.request().post('/armor-integration/check').send({ mode: 'xml', xml: XML }).expect(200);
      assert.deepEqual(checked.body.blocks, blocks);
      const form = await helper
        .request()
        .post('/armor-integration/check')
        .send({ mode: 'form', rules: [{ name: 'slack' }] })
        .expect(200);
      assert.equal(form.body.blocks, undefined);
    });

    it('answers a document error with block -1 and no rows', async () => {
      await start(answer(200, 'ok'));
      const res = await helper.request().post('/armor-integration/import').send({ xml: '<!DOCTYPE x><integration>' }).expect(200);
      assert.deepEqual([res.body.rows, res.body.blocks], [[], []]);
      assert.equal(res.body.errors.length, 1);
      assert.equal(res.body.errors[0].block, -1);
      assert.match(res.body.errors[0].message, /DOCTYPE/);
    });
  });

  describe('preview', () => {
    it('renders the Slack message of a sample alert with the chosen layout, as the library builds it', async () => {
      await start(answer(200, 'ok'));
      const [first, , , hostile] = await samples();
      const blocks = await helper.request().post('/armor-slack/preview').send({ layout: 'blocks', sample: hostile.id }).expect(200);
      assert.deepEqual(blocks.body.message, buildSlackMessage(hostile.alert, { layout: 'blocks' }));
      assert.ok(!JSON.stringify(blocks.body).includes('<!channel>'), 'alert text is escaped');
      const plain = await helper.request().post('/armor-slack/preview').send({}).expect(200);
      assert.deepEqual(plain.body.message, buildSlackMessage(first.alert));
      assert.equal(plain.body.message.attachments[0].color, 'danger');
    });

    it('renders a pasted alert (JSON text) as a PagerDuty event with the routing key left to the config node', async () => {
      await start(answer(200, 'ok'));
      const alert = {
        rule: { id: '5716', level: 5, description: 'sshd: authentication failed.', groups: ['sshd'] },
        agent: { id: '004', name: 'web-02' },
      };
      const res = await helper
        .request()
        .post('/armor-pagerduty/preview')
        .send({ alert: JSON.stringify(alert) })
        .expect(200);
      assert.deepEqual(res.body.event, buildPagerDutyEvent(alert, { routingKey: '(from the config node)' }));
      assert.equal(res.body.event.routing_key, '(from the config node)');
      assert.equal(res.body.event.payload.severity, 'warning');
      assert.equal(res.body.event.dedup_key, '5716/004');
    });

    it('refuses what is not an alert, and an unknown sample, with the reason', async () => {
      await start(answer(200, 'ok'));
      const notJson = await helper.request().post('/armor-slack/preview').send({ alert: '{"rule":' }).expect(400);
      assert.match(notJson.body.error, /^armor-delivery\.errors\.alertNotJson\(error=.+\)$/);
      const noRule = await helper
        .request()
        .post('/armor-pagerduty/preview')
        .send({ alert: { full_log: 'x' } })
        .expect(400);
      assert.equal(noRule.body.error, 'armor-delivery.errors.notAnAlert');
      const unknown = await helper.request().post('/armor-slack/preview').send({ sample: 'nope' }).expect(400);
      assert.equal(unknown.body.error, 'armor-delivery.errors.noSample(sample="nope")');
    });
  });

  describe('send test', () => {
    it("posts one marked sample alert to the deployed Slack node's webhook and answers with the service's reply", async () => {
      const stub = await start(answer(200, 'ok'));
      const sent = collect('sent');
      const [, second] = await samples();
      const res = await helper.request().post('/armor-slack/s1/test').send({ sample: second.id }).expect(200);
      assert.deepEqual(res.body, { ok: true, kind: 'ok', status: 200, answer: 'ok' });
      assert.equal(stub.seen.length, 1);
      assert.equal(stub.seen[0].url, SECRET_PATH);
      const marked = {
        ...second.alert,
        rule: { ...second.alert.rule, description: `[test from Node-RED] ${second.alert.rule.description}` },
      };
      assert.deepEqual(
        JSON.parse(stub.seen[0].body),
        buildSlackMessage(marked, { layout: 'blocks' }),
        "the node's layout, as a delivery renders it",
      );
      await sleep(50);
      assert.equal(sent.msgs.length, 0, "a test does not leave by the node's outputs");
    });

    it("answers a refusal with the service's text, the webhook path redacted", async () => {
      await start(answer(404, `no_service: ${SECRET_PATH} is not a webhook`));
      const res = await helper.request().post('/armor-slack/s1/test').send({}).expect(200);
      assertNoSecret(JSON.stringify(res.body) + reportedText('s1'));
      assert.equal(res.body.ok, false);
      assert.equal(res.body.kind, 'permanent');
      assert.equal(res.body.status, 404);
      assert.match(res.body.error, /^HTTP 404 no_service: \*\*\* is not a webhook$/);
    });

    it("posts a PagerDuty event with the service's key and a test dedup key, and redacts the key from the answer", async () => {
      const stub = await start(
        json(400, { status: 'invalid event', message: 'Event object is invalid', errors: [`routing_key ${ROUTING_KEY} is archived`] }),
      );
      const list = await samples();
      const trojan = list.find((s) => s.alert.rule.level >= 12)!;
      const res = await helper.request().post('/armor-pagerduty/d1/test').send({ sample: trojan.id }).expect(200);
      const event = JSON.parse(stub.seen[0].body);
      assert.equal(stub.seen[0].url, '/v2/enqueue');
      assert.equal(event.routing_key, ROUTING_KEY);
      assert.equal(event.dedup_key, `node-red-test/${trojan.id}`);
      assert.equal(event.payload.severity, 'critical');
      assert.equal(event.payload.summary, `[test from Node-RED] ${trojan.alert.rule.description}`);
      assertNoSecret(JSON.stringify(res.body) + reportedText('d1'));
      assert.equal(res.body.ok, false);
      assert.equal(res.body.status, 400);
      assert.equal(res.body.error, 'HTTP 400 Event object is invalid: routing_key *** is archived');
    });

    it("masks a webhook's only path segment, query token, fragment and user info in the answer and the log when the service quotes them back", async () => {
      const parts = ['S3CRETSEGMENT0123', 'T0K3N0123456789', 'FRAGS3CRET0123', 'hookuser', 'P%40ssw0rd!', 'P@ssw0rd!'];
      let url = '';
      stub = await startStub((req, res, body) => echoSecrets(500, [url, ...parts])(req, res, body));
      url = `http://hookuser:P%40ssw0rd!@127.0.0.1:${stub.port}/S3CRETSEGMENT0123?token=T0K3N0123456789#FRAGS3CRET0123`;
      await helper.load([integrationNode, slackNode, webhookNode, pagerdutyNode, serviceNode], flow(), {
        w1: { url },
        p1: { routingKey: ROUTING_KEY },
      });
      const res = await helper.request().post('/armor-slack/s1/test').send({}).expect(200);
      assert.equal(stub.seen.length, 1);
      assert.equal(res.body.status, 500);
      assert.match(res.body.error, new RegExp(`^HTTP 500 host 127\\.0\\.0\\.1:${stub.port} said no to \\*\\*\\* `));
      assert.match(res.body.answer, /said no to \*\*\* /);
      const shown = JSON.stringify(res.body) + reportedText('s1');
      for (const secret of [url, stub.seen[0].url, ...parts]) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
    });

    it("masks a custom events URL's path and ?sig= and the routing key in the answer when a 400 page and its reason phrase quote them back", async () => {
      const parts = ['pdproxy', 'S1Gab%2Bcd%2Fef%3D', 'S1Gab+cd/ef=', ROUTING_KEY];
      let url = '';
      stub = await startStub((req, res, body) => echoSecrets(400, [url, ...parts], true)(req, res, body));
      url = `${stub.base}/pdproxy/v2/enqueue?sv=1.0&sig=S1Gab%2Bcd%2Fef%3D`;
      await helper.load([integrationNode, slackNode, webhookNode, pagerdutyNode, serviceNode], flow(url), {
        w1: { url: stub.base + SECRET_PATH },
        p1: { routingKey: ROUTING_KEY },
      });
      const res = await helper.request().post('/armor-pagerduty/d1/test').send({}).expect(200);
      assert.equal(stub.seen[0].url, '/pdproxy/v2/enqueue?sv=1.0&sig=S1Gab%2Bcd%2Fef%3D');
      assert.equal(res.body.status, 400);
      assert.match(res.body.error, /^HTTP 400 rejected \*\*\* /);
      const shown = JSON.stringify(res.body) + reportedText('d1');
      for (const secret of [url, stub.seen[0].url, ...parts]) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
    });

    it("sends the PagerDuty service's client_url with a test event, as deliveries do", async () => {
      const receiver = await startStub(json(202, { status: 'success', message: 'Event processed', dedup_key: 'node-red-test/x' }));
      stub = receiver;
      const nodes = flow(`${receiver.base}/v2/enqueue`).map((n) => (n.id === 'p1' ? { ...n, client_url: 'https://siem.example.com/' } : n));
      await helper.load([integrationNode, slackNode, webhookNode, pagerdutyNode, serviceNode], nodes, {
        w1: { url: receiver.base + SECRET_PATH },
        p1: { routingKey: ROUTING_KEY },
      });
      const res = await helper.request().post('/armor-pagerduty/d1/test').send({}).expect(200);
      assert.equal(res.body.ok, true);
      assert.equal(JSON.parse(receiver.seen[0].body).client_url, 'https://siem.example.com/');
    });

    it('answers 202 from PagerDuty as delivered', async () => {
      await start(json(202, { status: 'success', message: 'Event processed', dedup_key: 'node-red-test/x' }));
      const res = await helper.request().post('/armor-pagerduty/d1/test').send({}).expect(200);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.status, 202);
    });

    it('says why nothing was sent when the node has no config node, and 404 for a node that is not deployed', async () => {
      const stub = await start(answer(200, 'ok'));
      const res = await helper.request().post('/armor-slack/lonely/test').send({}).expect(200);
      assert.deepEqual(res.body, { ok: false, kind: 'refused', error: 'armor-delivery.errors.noConfig' });
      await helper.request().post('/armor-slack/nope/test').send({}).expect(404);
      await helper.request().post('/armor-pagerduty/s1/test').send({}).expect(404); // a Slack node is not a PagerDuty node
      assert.equal(stub.seen.length, 0);
    });
  });

  describe('config check of a file', () => {
    let dir = '';
    let rescuer: ChildProcess | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-cfgfile-'));
    });
    afterEach(() => {
      rescuer?.kill('SIGKILL');
      rescuer = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /**
     * A FIFO, and another process that writes a line into it after 4 s: code that blocks
     * reading it (and with it the whole runtime and this test) is released, so the test fails
     * instead of hanging.
     */
    function fifo(name: string): string {
      const file = path.join(dir, name);
      execFileSync('mkfifo', [file]);
      rescuer = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(file)}, 'x\\n'), 4000)`], {
        stdio: 'ignore',
      });
      return file;
    }
    const check = (file: string) => helper.request().post('/armor-integration/check').send({ mode: 'file', file }).expect(200);
    const refusal = (message: string) => ({ integrations: [], errors: [{ block: -1, message }], warnings: [] });

    it('refuses a FIFO at once, and the runtime answers another request meanwhile', async () => {
      await start(answer(200, 'ok'));
      const file = fifo('ossec.conf');
      const t0 = Date.now();
      const timed = (p: PromiseLike<any>) => Promise.resolve(p).then((r: any) => ({ r, ms: Date.now() - t0 }));
      const [checked, other] = await Promise.all([
        timed(check(file)),
        timed(helper.request().get('/armor-integrations/samples').expect(200)),
      ]);
      assert.ok(checked.ms < 2000, `the check answered after ${checked.ms} ms`);
      assert.ok(other.ms < 2000, `the other request was answered after ${other.ms} ms`);
      assert.deepEqual(checked.r.body, refusal(`cannot read ${file}: not a regular file (a FIFO)`));
      assert.equal(other.r.body.length, 6);
    });

    it('refuses a 400 MB (sparse) file by its size, reading none of it', async () => {
      await start(answer(200, 'ok'));
      const file = path.join(dir, 'ossec.conf');
      fs.writeFileSync(file, '<integration><name>slack</name></integration>\n');
      fs.truncateSync(file, 400 * 1024 * 1024); // the rest is a hole: no disk used
      const rss = process.memoryUsage().rss;
      const t0 = Date.now();
      const res = await check(file);
      const ms = Date.now() - t0;
      const grew = process.memoryUsage().rss - rss;
      assert.ok(grew < 50 * 1024 * 1024 && ms < 2000, `RSS grew by ${(grew / 1048576).toFixed(0)} MB; answered after ${ms} ms`);
      assert.deepEqual(
        res.body,
        refusal(`cannot read ${file}: the file is 419430400 bytes; the limit is 1048576 bytes (1 MiB); nothing was read`),
      );
    });

    it('says a path is missing or a directory, with the path', async () => {
      await start(answer(200, 'ok'));
      const missing = path.join(dir, 'nope.conf');
      assert.deepEqual((await check(missing)).body, refusal(`cannot read ${missing}: no such file (ENOENT)`));
      assert.deepEqual((await check(dir)).body, refusal(`cannot read ${dir}: not a regular file (a directory)`));
      assert.deepEqual((await check('')).body, refusal('cannot read : no file path is given'));
    });

    it('quotes nothing of a file without <integration> blocks, but keeps the block and tag errors of a real config', async () => {
      await start(answer(200, 'ok'));
      const files = {
        // a value holding "<" and a bare word in a tag: the XML parser's messages would quote both
        'app.xml': '<settings>\n  <password>hunter2<SECRET-ONE</password>\n</settings>\n',
        'db.xml': '<db>\n  <password hunter2-SECRET-TWO>x</password>\n</db>\n',
        'tomcat-users.xml': '<tomcat-users>\n  <user username="admin" password="hunter2-SECRET-THREE"/>\n</tomcat-users>\n',
      };
      for (const [name, text] of Object.entries(files)) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        const res = await check(file);
        assert.ok(!/hunter2|SECRET/.test(JSON.stringify(res.body)), `${name}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, {
          integrations: [],
          errors: [],
          warnings: [{ block: -1, message: `config: no <integration> block found in ${file}` }],
        });
      }
      const conf = path.join(dir, 'ossec.conf');
      fs.writeFileSync(
        conf,
        '<ossec_config>\n  <integration>\n    <name>slack</name>\n    <level>high</level>\n  </integration>\n</ossec_config>\n',
      );
      const res = await check(conf);
      assert.deepEqual(
        res.body.errors.map((e: { message: string }) => e.message),
        ['integration #1 (slack): <level> must be an integer from 0 to 16, got "high"'],
      );
    });
  });
});

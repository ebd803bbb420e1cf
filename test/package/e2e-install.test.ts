/**
 * End to end, the way an operator meets the package: `npm pack`, `npm install <tarball>` into a
 * Node-RED user directory, Node-RED's own CLI, a flow deployed through the admin API, the
 * manager's sample alerts appended to a real file, and real HTTP servers on 127.0.0.1 standing
 * in for Slack and PagerDuty.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launcher, type RedProcess } from '../lib/launcher';
import { enqueueValidator } from '../lib/pagerduty-schema';
import { SHARED, sleep, until } from '../lib/red';
import { answer, json, startStub, type Stub } from '../lib/stub-server';

/** The library as the tarball ships it (npm test builds first). */
const lib: typeof import('../../src/index') = require('../../dist/src/index.js');

const ROOT = path.join(__dirname, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const OUR_TYPES = Object.keys(PKG['node-red'].nodes).sort();

const SLACK_PATH = '/services/T000/B000/XXXX';
const ROUTING_KEY = 'e2e0r0ut1ng0key00000000000000042';
const CREDENTIAL_SECRET = 'armor-e2e-credential-secret';

/** Slack: the two authentication groups and virustotal; PagerDuty: five rule ids. */
const XML = `<ossec_config>
  <integration>
    <name>slack</name>
    <group>authentication_failures,authentication_failed,virustotal</group>
  </integration>
  <integration>
    <name>pagerduty</name>
    <rule_id>550, 5712, 510, 87105, 502</rule_id>
  </integration>
</ossec_config>`;

/** An alert whose log and description try to ping the channel and inject markup. */
const SYNTHETIC = {
  timestamp: '2026-11-28T09:15:00.000+0000',
  rule: { level: 12, description: 'Web login abuse: <script> & <!here>', id: '31151', groups: ['web', 'authentication_failures'] },
  agent: { id: '005', name: 'web-01', ip: '192.0.2.15' },
  manager: { name: 'jellyfish' },
  id: '1764321300.4242',
  full_log: '<!channel> POST /login?user=admin&next=<a href=x> & retry',
  location: '/var/log/nginx/access.log',
};

const SAMPLE_LINES = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');

/** The manager's colours, by hand: good up to level 4, warning 5-7, danger from 8. */
const handColor = (level: number) => (level <= 4 ? 'good' : level <= 7 ? 'warning' : 'danger');
/** SEMANTICS 4, by hand: info 0-4, warning 5-7, error 8-11, critical 12-16. */
const handSeverity = (level: number) => (level <= 4 ? 'info' : level <= 7 ? 'warning' : level <= 11 ? 'error' : 'critical');

const byJson = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
const tally = (values: string[]) => values.reduce<Record<string, number>>((t, v) => ({ ...t, [v]: (t[v] ?? 0) + 1 }), {});

describe('the package installed from npm pack into a real Node-RED', function () {
  this.timeout(60_000);

  let tmp = '';
  let userDir = '';
  let alertsFile = '';
  let base = '';
  let red: RedProcess | undefined;
  let slack: Stub | undefined;
  let pagerduty: Stub | undefined;
  let nodesAtStart: Array<Record<string, any>> = [];

  function flow(): unknown[] {
    return [
      { id: 'e2e0000000000001', type: 'tab', label: 'e2e' },
      {
        id: 'e2e0000000000002',
        z: 'e2e0000000000001',
        type: 'armor-alerts',
        version: 1,
        path: alertsFile,
        start: 'beginning',
        maxLineBytes: 1048576,
        pollMs: 50,
        wires: [['e2e0000000000003']],
      },
      {
        id: 'e2e0000000000003',
        z: 'e2e0000000000001',
        type: 'armor-integration',
        version: 1,
        mode: 'xml',
        xml: XML,
        rules: [],
        file: '',
        outputs: 2,
        wires: [['e2e0000000000004'], ['e2e0000000000005']],
      },
      {
        id: 'e2e0000000000004',
        z: 'e2e0000000000001',
        type: 'armor-slack',
        version: 1,
        webhook: 'e2e0000000000006',
        layout: 'attachment',
        wires: [[], []],
      },
      { id: 'e2e0000000000005', z: 'e2e0000000000001', type: 'armor-pagerduty', version: 1, service: 'e2e0000000000007', wires: [[], []] },
      // pacing opened wide and no digests: each alert is its own post, checked body by body
      {
        id: 'e2e0000000000006',
        type: 'armor-slack-webhook',
        name: 'e2e slack',
        version: 1,
        rate: 100,
        burst: 100,
        digestAbove: 1000,
        credentials: { url: `${slack!.base}${SLACK_PATH}` },
      },
      {
        id: 'e2e0000000000007',
        type: 'armor-pagerduty-service',
        name: 'e2e pagerduty',
        version: 1,
        region: 'custom',
        url: `${pagerduty!.base}/v2/enqueue`,
        rate: 100,
        burst: 100,
        credentials: { routingKey: ROUTING_KEY },
      },
    ];
  }

  const get = (route: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${route}`, { headers: { Accept: 'application/json', ...headers } });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-e2e-'));
    userDir = path.join(tmp, 'node-red');
    alertsFile = path.join(tmp, 'alerts.json');
    fs.writeFileSync(alertsFile, '');
    const tarball = await launcher.packPackage(path.join(tmp, 'pack'));
    await launcher.installPackage(userDir, tarball);
    slack = await startStub(answer(200, 'ok'));
    pagerduty = await startStub(json(202, { status: 'success', message: 'Event processed' }));
    const port = await launcher.freePort();
    launcher.writeSettings(userDir, { port, credentialSecret: CREDENTIAL_SECRET });
    base = `http://127.0.0.1:${port}`;
    red = launcher.startNodeRed(userDir);
    nodesAtStart = await launcher.waitForAdmin(base, red);
    await launcher.deployFlows(base, flow());
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && red) console.log(`Node-RED's output:\n${red.output()}`);
  });

  after(async () => {
    if (red) await launcher.stopNodeRed(red);
    await slack?.close();
    await pagerduty?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is installed as a real directory and registers the six node types with no load error', async () => {
    const installed = path.join(userDir, 'node_modules', ...PKG.name.split('/'));
    assert.equal(fs.lstatSync(installed).isSymbolicLink(), false);
    assert.equal(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version, PKG.version);
    const ours = nodesAtStart.filter((n) => n.module === launcher.PACKAGE_NAME);
    assert.deepEqual(ours.flatMap((n) => n.types).sort(), OUR_TYPES);
    for (const n of ours) {
      assert.equal(n.err, undefined, `${n.id}: ${n.err}`);
      assert.equal(n.enabled, true, n.id);
      assert.equal(n.version, PKG.version, n.id);
    }
  });

  it('serves every node icon as SVG and lists the example flows under Import > Examples', async () => {
    for (const icon of fs.readdirSync(path.join(ROOT, 'icons'))) {
      const res = await get(`/icons/${PKG.name}/${icon}`);
      assert.equal(res.status, 200, icon);
      assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/, icon);
    }
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    const listed = (await (await get(`/library/examples/flows/${PKG.name}`)).json()) as Array<{ fn: string }>;
    assert.deepEqual(listed.map((e) => e.fn).sort(), files.map((f) => f.replace(/\.json$/, '')).sort());
    const demo = await get(`/library/examples/flows/${PKG.name}/demo-local-receivers`);
    assert.deepEqual(await demo.json(), JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'demo-local-receivers.json'), 'utf8')));
  });

  it('delivers the sample alerts as the imported XML filters them: 12 to Slack, 8 to PagerDuty, bodies as specified', async () => {
    fs.appendFileSync(alertsFile, `${SAMPLE_LINES.join('\n')}\n`);
    fs.appendFileSync(alertsFile, `${JSON.stringify(SYNTHETIC)}\n`);

    // what should arrive, decided by the shipped library on the same XML and alerts
    const [toSlack, toPagerDuty] = lib.parseIntegrations(XML).integrations;
    const alerts = [...SAMPLE_LINES.map((l) => JSON.parse(l)), SYNTHETIC];
    const wantSlack = alerts.filter(lib.compileFilter(toSlack));
    const wantPagerDuty = alerts.filter(lib.compileFilter(toPagerDuty));
    assert.deepEqual([wantSlack.length, wantPagerDuty.length], [12, 8]); // counted by hand on the samples

    // a guard against hanging, not a speed check
    await until(() => slack!.seen.length >= 12 && pagerduty!.seen.length >= 8, 'the deliveries', 45_000);
    await sleep(300); // nothing more may arrive
    assert.equal(slack!.seen.length, 12);
    assert.equal(pagerduty!.seen.length, 8);

    // Slack: the manager's attachment for each alert, coloured by level, alert text escaped
    for (const req of slack!.seen) {
      assert.deepEqual([req.method, req.url], ['POST', SLACK_PATH]);
      assert.match(String(req.headers['content-type']), /^application\/json/);
    }
    const slackBodies = slack!.seen.map((r) => JSON.parse(r.body));
    const expectedSlack = wantSlack.map((a) => lib.buildSlackMessage(a, { maxLog: toSlack.maxLog, options: toSlack.options }));
    assert.deepEqual(byJson(slackBodies), byJson(expectedSlack));
    const colors = slackBodies.map((b) => {
      const attachment = b.attachments[0];
      const level = Number(/_\(Level (\d+)\)_$/.exec(attachment.fields.find((f: any) => f.title === 'Rule ID').value)![1]);
      assert.equal(attachment.color, handColor(level), attachment.title);
      return attachment.color as string;
    });
    assert.deepEqual(tally(colors), { good: 4, warning: 4, danger: 4 });
    const injected = slackBodies.find((b) => b.attachments[0].fields.some((f: any) => f.value.startsWith('31151 ')))!.attachments[0];
    assert.equal(injected.title, 'Web login abuse: &lt;script&gt; &amp; &lt;!here&gt;');
    assert.equal(injected.text, '&lt;!channel&gt; POST /login?user=admin&amp;next=&lt;a href=x&gt; &amp; retry');
    assert.equal(injected.color, 'danger');
    for (const req of slack!.seen) assert.doesNotMatch(req.body, /<!channel>|<!here>|<script>/);

    // PagerDuty: valid Events API v2 bodies, severity by level, dedup_key <rule.id>/<agent.id>
    const validate = enqueueValidator();
    for (const req of pagerduty!.seen) assert.deepEqual([req.method, req.url], ['POST', '/v2/enqueue']);
    const events: Array<Record<string, any>> = pagerduty!.seen.map((r) => JSON.parse(r.body));
    for (const event of events) {
      assert.ok(validate(event), JSON.stringify(validate.errors));
      const alert = event.payload.custom_details;
      assert.equal(event.routing_key, ROUTING_KEY);
      assert.equal(event.event_action, 'trigger');
      assert.equal(event.payload.severity, handSeverity(alert.rule.level));
      assert.equal(event.dedup_key, `${alert.rule.id}/${alert.agent.id}`);
    }
    const expectedEvents = wantPagerDuty.map((a) => lib.buildPagerDutyEvent(a, { routingKey: ROUTING_KEY, options: toPagerDuty.options }));
    assert.deepEqual(byJson(events), byJson(expectedEvents));
    assert.deepEqual(tally(events.map((e) => e.payload.severity)), { info: 1, warning: 5, error: 1, critical: 1 });
    assert.deepEqual(events.map((e) => e.dedup_key).sort(), [
      '502/000',
      '510/000',
      '510/001',
      '510/009',
      '550/000',
      '550/000',
      '5712/000',
      '87105/010',
    ]);
  });

  it('keeps the webhook URL and routing key out of the exported flow and the log, and encrypts them on disk', async () => {
    const exported = await (await get('/flows', { 'Node-RED-API-Version': 'v1' })).text();
    const types = (JSON.parse(exported) as Array<{ type: string }>).map((n) => n.type);
    assert.ok(types.includes('armor-slack-webhook') && types.includes('armor-pagerduty-service'), exported);
    for (const secret of ['B000/XXXX', ROUTING_KEY]) {
      assert.ok(!exported.includes(secret), `the exported flow contains ${secret}`);
      assert.ok(!red!.output().includes(secret), `the Node-RED log contains ${secret}`);
    }
    // the editor learns only that a credential is set
    assert.deepEqual(await (await get('/credentials/armor-slack-webhook/e2e0000000000006')).json(), { has_url: true });
    assert.deepEqual(await (await get('/credentials/armor-pagerduty-service/e2e0000000000007')).json(), { has_routingKey: true });

    const stored = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    assert.deepEqual(Object.keys(JSON.parse(stored)), ['$']); // encrypted with credentialSecret
    for (const secret of ['B000/XXXX', ROUTING_KEY, '127.0.0.1']) assert.ok(!stored.includes(secret), `flows_cred.json contains ${secret}`);
    assert.doesNotMatch(red!.output(), /\[error\]/);
  });

  it('stops on SIGINT with exit code 0, every node closed without an error', async () => {
    await launcher.stopNodeRed(red!);
    assert.equal(await red!.exited, 0);
    assert.doesNotMatch(red!.output(), /\[error\]|timed out/i);
  });
});

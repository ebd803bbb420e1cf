import assert from 'node:assert/strict';
import { collect, helper, nodeModule, reportedText, sampleAlerts, statuses, until, untilStatus, useTempUserDir } from '../lib/red';
import { enqueueValidator } from '../lib/pagerduty-schema';
import { echoSecrets, json, startStub, type Handler, type Stub } from '../lib/stub-server';

const pagerDutyNode = nodeModule('armor-pagerduty');
const serviceNode = nodeModule('armor-pagerduty-service');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const ROUTING_KEY = 'R0UT1NGKEYSECRET0123456789abcdef';
const ALERTS = sampleAlerts().filter((a) => a.rule);
const ACCEPTED = json(202, { status: 'success', message: 'Event processed' });
const validateEvent = enqueueValidator();

/** SEMANTICS 4: level 0-4 info, 5-7 warning, 8-11 error, 12-16 critical. */
const severity = (level = 0) => (level <= 4 ? 'info' : level <= 7 ? 'warning' : level <= 11 ? 'error' : 'critical');
const dedupKey = (alert: Record<string, any>) => `${alert.rule.id}/${alert.agent.id}`;

function flow(pagerduty: Record<string, unknown>, url: string, service: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    // pacing opened wide: these tests are about each event and its outcome (pacing: delivery-faults.test.ts)
    { id: 'p1', type: 'armor-pagerduty-service', name: 'SOC', region: 'custom', url, rate: 1000, burst: 1000, ...service },
    { id: 'd1', z: 'f1', type: 'armor-pagerduty', wires: [['sent'], ['failed']], ...pagerduty },
    { id: 'sent', z: 'f1', type: 'helper' },
    { id: 'failed', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const posted = (stub: Stub): Array<Record<string, any>> => stub.seen.map((s) => JSON.parse(s.body));
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('armor-pagerduty node', () => {
  let stub: Stub | undefined;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await stub?.close();
    stub = undefined;
  });
  useTempUserDir();

  /** A stub Events API answering with `handler`, and the flow posting to it. */
  async function start(
    handler: Handler,
    pagerduty: Record<string, unknown> = { service: 'p1' },
    routingKey = ROUTING_KEY,
    service: Record<string, unknown> = {},
  ) {
    stub = await startStub(handler);
    await helper.load([pagerDutyNode, serviceNode, catchNode], flow(pagerduty, `${stub.base}/v2/enqueue`, service), { p1: { routingKey } });
    return { stub, sent: collect('sent'), failed: collect('failed'), caught: collect('caught'), d1: helper.getNode('d1') };
  }

  function assertNoKey(...msgs: unknown[]) {
    const shown = JSON.stringify(msgs) + reportedText('d1');
    assert.ok(!shown.includes(ROUTING_KEY), `the routing key leaked: ${shown}`);
  }

  it('triggers one event per sample alert, valid against the Events API v2 schema, severity by level, dedup key rule/agent', async () => {
    const { stub, sent, failed, d1 } = await start(ACCEPTED);
    for (const [k, alert] of ALERTS.entries()) {
      d1.receive({ payload: alert });
      await sent.waitFor(k + 1);
    }
    assert.equal(stub.seen.length, 23);
    assert.ok(stub.seen.every((s) => s.method === 'POST' && s.url === '/v2/enqueue'));
    for (const [k, event] of posted(stub).entries()) {
      const alert = ALERTS[k];
      assert.ok(validateEvent(event), `alert ${alert.id}: ${JSON.stringify(validateEvent.errors)}`);
      assert.equal(event.routing_key, ROUTING_KEY);
      assert.equal(event.event_action, 'trigger');
      assert.equal(event.dedup_key, dedupKey(alert));
      assert.equal(event.payload.severity, severity(alert.rule.level), `alert ${alert.id} level ${alert.rule.level}`);
      assert.equal(event.payload.summary, alert.rule.description);
      assert.equal(event.payload.source, alert.agent.id === '000' ? alert.manager.name : alert.agent.name);
      assert.deepEqual(event.payload.custom_details, alert);
    }
    assert.deepEqual(new Set(posted(stub).map((e) => e.payload.severity)), new Set(['info', 'warning', 'error', 'critical']));
    assert.deepEqual(sent.msgs[0].delivery, { service: 'pagerduty', status: 202, attempts: 1 });
    assert.equal(failed.msgs.length, 0);
    await untilStatus('d1', { fill: 'green', shape: 'dot', text: 'armor-delivery.status.sent(count=23)' });
    assertNoKey(...sent.msgs.map((m) => m.delivery));
  });

  it('acknowledges and resolves with msg.event_action, under the same dedup key as the trigger', async () => {
    const { stub, sent, d1 } = await start(ACCEPTED);
    const alert = ALERTS[1];
    d1.receive({ payload: alert });
    await sent.waitFor(1);
    d1.receive({ payload: alert, event_action: 'acknowledge' });
    await sent.waitFor(2);
    d1.receive({ payload: alert, event_action: 'resolve' });
    await sent.waitFor(3);
    const [trigger, acknowledge, resolve] = posted(stub);
    assert.equal(trigger.dedup_key, '5712/000');
    assert.deepEqual(acknowledge, { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: '5712/000' });
    assert.deepEqual(resolve, { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: '5712/000' });
    for (const event of [trigger, acknowledge, resolve]) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
  });

  it('refuses an unknown msg.event_action without posting', async () => {
    const { stub, sent, failed, caught, d1 } = await start(ACCEPTED);
    d1.receive({ payload: ALERTS[0], event_action: 'close' });
    const [out] = await failed.waitFor(1);
    const [err] = await caught.waitFor(1);
    const reason = 'PagerDuty: armor-pagerduty.errors.eventAction(action="close")';
    assert.deepEqual(plain(out.error), { message: reason, service: 'pagerduty', kind: 'refused', attempts: 0 });
    assert.equal(err.error.message, `Error: ${reason}`);
    await untilStatus('d1', {
      fill: 'red',
      shape: 'ring',
      text: 'armor-delivery.status.badMessage · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
    });
    assert.equal(stub.seen.length, 0);
    assert.equal(sent.msgs.length, 0);
  });

  it('reports 400 invalid event as permanent, on output 2 and to Catch, with the routing key redacted', async () => {
    const invalid = json(400, {
      status: 'invalid event',
      message: 'Event object is invalid',
      errors: [`routing_key ${ROUTING_KEY} is not a known integration key`],
    });
    const { stub, sent, failed, caught, d1 } = await start(invalid);
    d1.receive({ payload: ALERTS[0] });
    const [out] = await failed.waitFor(1);
    const [err] = await caught.waitFor(1);
    assert.equal(stub.seen.length, 1);
    assert.equal(sent.msgs.length, 0);
    const reason = 'PagerDuty: HTTP 400 Event object is invalid: routing_key *** is not a known integration key';
    assert.deepEqual(plain(out.error), {
      message: reason,
      service: 'pagerduty',
      kind: 'permanent',
      status: 400,
      answer: JSON.stringify({
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['routing_key *** is not a known integration key'],
      }),
      attempts: 1,
    });
    assert.equal(err.error.message, `Error: ${reason}`);
    assert.equal(err.error.source.id, 'd1');
    assert.equal(err.payload.id, ALERTS[0].id);
    // a status is cut at 60 characters
    await untilStatus('d1', {
      fill: 'red',
      shape: 'ring',
      text: 'HTTP 400 Event object is invalid: routing_key *** is not a … · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
    });
    assertNoKey(out, err);
  });

  it('refuses to send when the service has no routing key', async () => {
    const { stub, failed, caught, d1 } = await start(ACCEPTED, { service: 'p1' }, '');
    d1.receive({ payload: ALERTS[0] });
    const [out] = await failed.waitFor(1);
    await caught.waitFor(1);
    assert.deepEqual(plain(out.error), {
      message: 'PagerDuty: no routing key is set in the config node',
      service: 'pagerduty',
      kind: 'refused',
      attempts: 0,
    });
    await untilStatus('d1', {
      fill: 'red',
      shape: 'ring',
      text: 'no routing key is set in the config node · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
    });
    assert.equal(stub.seen.length, 0);
  });

  it("masks a custom events URL's path and ?code= and the routing key in output 2, Catch, statuses and logs when a 400 and its reason phrase quote them back", async () => {
    const parts = ['pdproxy', 'C0DE0123456789', ROUTING_KEY];
    let url = '';
    stub = await startStub((req, res, body) => echoSecrets(400, [url, ...parts], true)(req, res, body));
    url = `${stub.base}/pdproxy/v2/enqueue?code=C0DE0123456789`;
    await helper.load([pagerDutyNode, serviceNode, catchNode], flow({ service: 'p1' }, url), { p1: { routingKey: ROUTING_KEY } });
    const failed = collect('failed');
    const caught = collect('caught');
    helper.getNode('d1').receive({ payload: ALERTS[0] });
    const [out] = await failed.waitFor(1);
    const [err] = await caught.waitFor(1);
    assert.equal(stub.seen[0].url, '/pdproxy/v2/enqueue?code=C0DE0123456789');
    assert.equal(out.error.kind, 'permanent');
    assert.match(out.error.message, /^PagerDuty: HTTP 400 rejected \*\*\* /);
    assert.equal(err.error.message, `Error: ${out.error.message}`);
    await until(() => statuses('d1').some((st) => st.fill === 'red'), 'the failure in the status');
    assert.match(reportedText('d1'), /rejected \*\*\* /, 'the failure was logged, masked');
    const shown = JSON.stringify([out, err, statuses('d1'), statuses('p1')]) + reportedText('d1');
    for (const secret of [url, stub.seen[0].url, ...parts]) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
  });

  it("sends the service's client_url with trigger events only; none when it is empty or absent (a flow saved before the setting)", async () => {
    const CLIENT_URL = 'https://siem.example.com/app/alerts?tab=overview';
    /** The trigger and the resolve posted by a flow whose service has `service`'s properties. */
    const run = async (service: Record<string, unknown>) => {
      const { stub: receiver, sent, d1 } = await start(ACCEPTED, { service: 'p1' }, ROUTING_KEY, service);
      d1.receive({ payload: ALERTS[0] });
      await sent.waitFor(1);
      d1.receive({ payload: ALERTS[0], event_action: 'resolve' });
      await sent.waitFor(2);
      const events = posted(receiver);
      for (const event of events) assert.ok(validateEvent(event), JSON.stringify(validateEvent.errors));
      await helper.unload();
      await receiver.close();
      stub = undefined;
      return events;
    };
    const [trigger, resolve] = await run({ client_url: `  ${CLIENT_URL} ` });
    assert.equal(trigger.client_url, CLIENT_URL);
    assert.equal(trigger.client, 'Armor Monitoring Service');
    assert.deepEqual(resolve, { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: dedupKey(ALERTS[0]) });
    for (const service of [{ client_url: '' }, {}]) {
      const [plainTrigger] = await run(service);
      assert.equal('client_url' in plainTrigger, false, JSON.stringify(service));
      assert.equal(plainTrigger.client, 'Armor Monitoring Service');
    }
  });

  it('refuses to send when the client URL is not an http(s) URL, saying so', async () => {
    const { stub, sent, failed, caught, d1 } = await start(ACCEPTED, { service: 'p1' }, ROUTING_KEY, {
      client_url: 'ftp://siem.example.com/',
    });
    d1.receive({ payload: ALERTS[0] });
    const [out] = await failed.waitFor(1);
    await caught.waitFor(1);
    assert.deepEqual(plain(out.error), {
      message: 'PagerDuty: the client URL must be http(s), not ftp:',
      service: 'pagerduty',
      kind: 'refused',
      attempts: 0,
    });
    await untilStatus('d1', {
      fill: 'red',
      shape: 'ring',
      text: 'the client URL must be http(s), not ftp: · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
    });
    assert.equal(stub.seen.length, 0);
    assert.equal(sent.msgs.length, 0);
  });
});

/**
 * armor-redis and the `shared` property of armor-slack-webhook, in a real Node-RED runtime
 * (node-red-node-test-helper) with a real redis-server and a Slack stand-in: alerts go through
 * the shared outbox (a Redis Stream) and come back on output 1 once each; unusable settings
 * are said in words that name what is wrong and never the password; a webhook without
 * `shared` keeps its local outbox journal, as before.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { endpointKey, streamKey } from '../../src/delivery/shared/keys';
import { calls, collect, helper, nodeModule, reportedText, sampleAlerts, sleep, until, useTempUserDir } from '../lib/red';
import { startRedis, type RedisServer } from '../lib/redis-server';
import { answer, json, startStub, type Stub } from '../lib/stub-server';

const slackNode = nodeModule('armor-slack');
const pagerDutyNode = nodeModule('armor-pagerduty');
const serviceNode = nodeModule('armor-pagerduty-service');
const webhookNode = nodeModule('armor-slack-webhook');
const redisNode = nodeModule('armor-redis');

const SECRET_PATH = '/services/T000/B000/SECRETXYZ0123456789abcdef';
const PASSWORD = 'hunter2-redis-Pa55';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const ALERTS = sampleAlerts().filter((a) => a.rule);
/** Each alert its own post, at once: these tests count posts. */
const ONE_POST_PER_ALERT = { rate: 1000, burst: 1000, digestAbove: 1000000 };

function flow(webhook: Record<string, unknown>, redis: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'r1', type: 'armor-redis', name: 'shared', ...redis },
    { id: 'w1', type: 'armor-slack-webhook', name: '#soc', ...ONE_POST_PER_ALERT, ...webhook },
    { id: 's1', z: 'f1', type: 'armor-slack', webhook: 'w1', wires: [['sent'], ['failed']] },
    { id: 'sent', z: 'f1', type: 'helper' },
    { id: 'failed', z: 'f1', type: 'helper' },
  ];
}

describe('armor-redis: a Slack webhook shared through Redis', function () {
  this.timeout(15_000);
  let redis: RedisServer | undefined;
  let stub: Stub | undefined;
  const userDir = useTempUserDir();
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await stub?.close();
    await redis?.close();
    stub = undefined;
    redis = undefined;
  });

  it('delivers every alert once through the Redis Stream, reports each once on output 1, and leaves the Stream empty', async () => {
    redis = await startRedis();
    stub = await startStub(answer(200, 'ok'));
    const url = stub.base + SECRET_PATH;
    await helper.load([slackNode, webhookNode, redisNode], flow({ shared: 'r1' }, { url: redis.url, prefix: 'test:' }), {
      w1: { url },
      r1: {},
    });
    const sent = collect('sent');
    const failed = collect('failed');
    const s1 = helper.getNode('s1');
    // until the local-journal fallback lands, an alert accepted before the client is ready is refused
    await until(() => calls('r1', 'log').some((a) => String(a[0]).startsWith('armor-redis.log.ready')), 'the client ready');
    await helper.getNode('w1').runtime.ready;
    for (const alert of ALERTS) s1.receive({ payload: alert });
    const msgs = await sent.waitFor(ALERTS.length, 10_000);

    assert.equal(msgs.length, ALERTS.length);
    assert.equal(new Set(msgs.map((m) => m._msgid)).size, ALERTS.length, 'each alert reported once');
    assert.deepEqual(msgs.map((m) => m.payload.id).sort(), ALERTS.map((a) => a.id).sort());
    for (const m of msgs) assert.deepEqual(m.delivery, { service: 'slack', status: 200, attempts: 1 });
    assert.equal(failed.msgs.length, 0);
    assert.equal(stub.seen.length, ALERTS.length);

    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const key = streamKey(endpointKey('test:', 'slack', url));
      assert.equal(await client.exists(key), 1, 'the endpoint has its Stream under the prefix');
      // entries are deleted once their outcome is published: wait for the last XDEL
      let left = await client.xLen(key);
      for (const end = Date.now() + 5000; left > 0 && Date.now() < end; left = await client.xLen(key)) await sleep(20);
      assert.equal(left, 0);
      const keys = await client.keys('*');
      for (const k of keys) assert.ok(!k.includes('SECRETXYZ'), k);
    } finally {
      client.destroy();
    }
    assert.ok(!fs.existsSync(path.join(userDir(), 'armor-integrations', 'outbox', 'w1')), 'no local outbox when shared');
    assert.match(reportedText('s1'), /armor-redis\.log\.ready\(where=redis:\/\/127\.0\.0\.1:\d+\)/);
  });

  it('keeps alerts in a local journal while Redis is away and delivers each once, reported once on output 1, when it is back', async () => {
    redis = await startRedis();
    stub = await startStub(answer(200, 'ok'));
    await helper.load([slackNode, webhookNode, redisNode], flow({ shared: 'r1' }, { url: redis.url, prefix: 'test:' }), {
      w1: { url: stub.base + SECRET_PATH },
      r1: {},
    });
    const sent = collect('sent');
    const failed = collect('failed');
    await until(() => calls('r1', 'log').some((a) => String(a[0]).startsWith('armor-redis.log.ready')), 'the client ready');
    const runtime = helper.getNode('w1').runtime;
    await runtime.ready;
    await redis.stop();
    await until(() => calls('r1', 'warn').some((a) => String(a[0]).startsWith('armor-redis.log.down')), 'the client to see Redis go');
    const s1 = helper.getNode('s1');
    for (const alert of ALERTS.slice(0, 5)) s1.receive({ payload: alert });
    await until(() => runtime.spooled === 5, 'five alerts in the local journal');
    assert.equal(stub.seen.length, 0, 'nothing posted while Redis is away');
    assert.equal(failed.msgs.length, 0, 'nothing refused');
    assert.ok(fs.existsSync(path.join(userDir(), 'armor-integrations', 'spool', 'w1')), 'the journal is in the user directory');
    await redis.start();
    const msgs = await sent.waitFor(5, 15_000);
    assert.deepEqual(
      msgs.map((m) => m.payload.id),
      ALERTS.slice(0, 5).map((a) => a.id),
    );
    assert.equal(stub.seen.length, 5);
    assert.equal(failed.msgs.length, 0);
    await until(() => runtime.spooled === 0, 'the journal drained');
  });

  it('delivers PagerDuty events through the Redis Stream of the routing key, each reported once', async () => {
    redis = await startRedis();
    stub = await startStub(json(202, { status: 'success', message: 'Event processed' }));
    const service = {
      id: 'p1',
      type: 'armor-pagerduty-service',
      region: 'custom',
      url: `${stub.base}/v2/enqueue`,
      rate: 1000,
      burst: 1000,
      shared: 'r1',
    };
    await helper.load(
      [pagerDutyNode, serviceNode, redisNode],
      [
        { id: 'f1', type: 'tab', label: 'test' },
        { id: 'r1', type: 'armor-redis', url: redis.url },
        service,
        { id: 'd1', z: 'f1', type: 'armor-pagerduty', service: 'p1', wires: [['sent'], ['failed']] },
        { id: 'sent', z: 'f1', type: 'helper' },
        { id: 'failed', z: 'f1', type: 'helper' },
      ],
      { p1: { routingKey: ROUTING_KEY }, r1: {} },
    );
    const sent = collect('sent');
    await until(() => calls('r1', 'log').some((a) => String(a[0]).startsWith('armor-redis.log.ready')), 'the client ready');
    await helper.getNode('p1').runtime.ready;
    const alerts = ALERTS.slice(0, 5);
    for (const alert of alerts) helper.getNode('d1').receive({ payload: alert });
    const msgs = await sent.waitFor(alerts.length, 10_000);
    assert.equal(new Set(msgs.map((m) => m._msgid)).size, alerts.length);
    for (const m of msgs) assert.deepEqual(m.delivery, { service: 'pagerduty', status: 202, attempts: 1 });
    assert.equal(stub.seen.length, alerts.length);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const key = streamKey(endpointKey('armor:', 'pagerduty', ROUTING_KEY));
      let left = await client.xLen(key);
      for (const end = Date.now() + 5000; left > 0 && Date.now() < end; left = await client.xLen(key)) await sleep(20);
      assert.equal(left, 0);
      assert.equal(await client.exists(key), 1);
    } finally {
      client.destroy();
    }
  });

  for (const [title, url, reason] of [
    ['a URL that is not redis://', 'http://127.0.0.1:6379', 'the Redis URL must be redis:// or rediss://, not http://'],
    [
      'a password in the URL',
      `redis://:${PASSWORD}@127.0.0.1:6379`,
      'the Redis URL holds a user name or password: put them in the node credentials instead',
    ],
  ] as const) {
    it(`says what is wrong with ${title}, never the password, and refuses the alerts`, async () => {
      stub = await startStub(answer(200, 'ok'));
      await helper.load([slackNode, webhookNode, redisNode], flow({ shared: 'r1' }, { url }), {
        w1: { url: stub.base + SECRET_PATH },
        r1: {},
      });
      assert.deepEqual(calls('r1', 'error'), [[`armor-redis.errors.settings(reason=${reason})`]]);
      assert.deepEqual(calls('w1', 'error'), [[`armor-slack-webhook.errors.shared(reason=${reason})`]]);
      const failed = collect('failed');
      helper.getNode('s1').receive({ payload: ALERTS[0] });
      const [msg] = await failed.waitFor(1);
      assert.equal(msg.error.kind, 'refused');
      assert.equal(stub.seen.length, 0);
      assert.ok(!reportedText('s1').includes(PASSWORD));
      assert.ok(!reportedText('s1').includes('SECRETXYZ'));
    });
  }

  it('says the server refused the password, without it, when the credential is wrong', async () => {
    redis = await startRedis({ password: 'the-right-one-9876' });
    stub = await startStub(answer(200, 'ok'));
    await helper.load([slackNode, webhookNode, redisNode], flow({ shared: 'r1' }, { url: redis.url }), {
      w1: { url: stub.base + SECRET_PATH },
      r1: { password: PASSWORD },
    });
    await until(() => calls('r1', 'warn').some((a) => /WRONGPASS|invalid password/i.test(String(a[0]))), 'a warning about the password');
    const warning = String(calls('r1', 'warn').find((a) => /WRONGPASS|invalid password/i.test(String(a[0])))![0]);
    assert.match(warning, new RegExp(`^armor-redis\\.log\\.down\\(where=redis://127\\.0\\.0\\.1:${redis.port}, reason=`));
    assert.ok(!reportedText('s1').includes(PASSWORD));
  });

  it('keeps the local outbox journal for a webhook without `shared`, as before', async () => {
    stub = await startStub(answer(200, 'ok'));
    await helper.load([slackNode, webhookNode, redisNode], flow({}), { w1: { url: stub.base + SECRET_PATH }, r1: {} });
    const sent = collect('sent');
    helper.getNode('s1').receive({ payload: ALERTS[0] });
    const [msg] = await sent.waitFor(1);
    assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: 1 });
    assert.ok(fs.existsSync(path.join(userDir(), 'armor-integrations', 'outbox', 'w1', 'journal.jsonl')));
  });
});

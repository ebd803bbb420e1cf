/**
 * What the README's "Delivery guarantees" promise and no single fault shows: the defaults a
 * config node deployed without pacing properties really runs with, one queue shared by every
 * delivery node of a config node, the log line for an alert whose node was deleted, 408 retried,
 * and a removed config node that stops posting. Real Node-RED, real HTTP servers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { pagerduty, slack } from '../../src/services';
import { OUTBOX_DEFAULT_LIMITS } from '../../src/delivery/outbox';
import { calls, collect, helper, nodeModule, sleep, until, useTempUserDir } from '../lib/red';
import { alertsIn, stormAlert } from '../lib/storm';
import { answer, startStub, type Handler, type Stub } from '../lib/stub-server';

const NODES = ['armor-slack', 'armor-slack-webhook', 'armor-pagerduty', 'armor-pagerduty-service'].map(nodeModule);
const SLACK_PATH = '/services/T000/B000/GUARANTEESECRET0123456789';
const ROUTING_KEY = 'GUARANTEER0UT1NGKEY0123456789ab';

type Props = Record<string, unknown>;

/** The config node's endpoint (outbox and queue) as the runtime runs it. */
const endpointOf = (id: string) => helper.getNode(id).runtime;
/** The number of the storm alert a one-alert Slack post carries. */
const numberIn = (body: string): number => alertsIn(JSON.parse(body))[0];
const numbersOf = (msgs: any[]): number[] => msgs.map((m) => Number(/#(\d+)$/.exec(m.payload.rule.description)![1]));

describe('delivery guarantees (real Node-RED, real local servers)', () => {
  const stubs: Stub[] = [];
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await Promise.all(stubs.splice(0).map((s) => s.close()));
  });
  useTempUserDir();

  /** A stand-in that records when each request arrived. */
  async function stubFor(handler: Handler): Promise<Stub & { times: number[] }> {
    const times: number[] = [];
    const stub = await startStub((req, res, body) => {
      times.push(Date.now());
      handler(req, res, body);
    });
    stubs.push(stub);
    return Object.assign(stub, { times });
  }

  /** Tab, config node `config`, and one delivery node per entry of `deliveries`, each wired to `<id>-sent` and `<id>-failed`. */
  function flow(config: Props, deliveries: Array<Props & { id: string }>) {
    return [
      { id: 'f1', type: 'tab', label: 'guarantees' },
      config,
      ...deliveries.flatMap((d) => [
        { z: 'f1', wires: [[`${d.id}-sent`], [`${d.id}-failed`]], ...d },
        { id: `${d.id}-sent`, z: 'f1', type: 'helper' },
        { id: `${d.id}-failed`, z: 'f1', type: 'helper' },
      ]),
    ];
  }

  describe('a config node deployed without pacing or limit properties', () => {
    it('Slack: runs at 1 post/s with a burst of 3, a 1 h deadline, an outbox of 100,000 alerts or 256 MiB: 4 alerts at once go out 3 at once, then 1 s later', async () => {
      assert.deepEqual(
        {
          rate: slack.policy.ratePerSec,
          burst: slack.policy.burst,
          deadlineMs: slack.policy.deadlineMs,
          digestAbove: slack.policy.digestAbove,
        },
        { rate: 1, burst: 3, deadlineMs: 3_600_000, digestAbove: 5 },
      );
      assert.deepEqual(OUTBOX_DEFAULT_LIMITS, { maxEntries: 100_000, maxBytes: 256 * 1024 * 1024 });
      const stub = await stubFor(answer(200, 'ok'));
      await helper.load(
        NODES,
        flow({ id: 'w1', type: 'armor-slack-webhook', name: '#soc' }, [{ id: 'd1', type: 'armor-slack', webhook: 'w1' }]),
        {
          w1: { url: stub.base + SLACK_PATH },
        },
      );
      assert.deepEqual(endpointOf('w1').queue.policy, slack.policy, 'the policy the queue runs with');
      assert.deepEqual(endpointOf('w1').outbox.limits, OUTBOX_DEFAULT_LIMITS, 'the limits the outbox enforces');

      const sent = collect('d1-sent');
      for (let n = 1; n <= 4; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await sent.waitFor(4, 5000);
      const t = stub.times;
      assert.deepEqual(
        stub.seen.map((s) => numberIn(s.body)),
        [1, 2, 3, 4],
        'one post each, no digest',
      );
      assert.ok(t[2] - t[0] < 400, `the burst of 3 took ${t[2] - t[0]} ms`);
      assert.ok(t[3] - t[2] >= 950 && t[3] - t[2] < 1600, `the 4th came ${t[3] - t[2]} ms after the 3rd (1 post/s)`);
    });

    it('PagerDuty: runs at 2 events/s with a burst of 10, a 24 h deadline, the same outbox limits: 11 events at once go out 10 at once, then 0.5 s later', async () => {
      assert.deepEqual(
        {
          rate: pagerduty.policy.ratePerSec,
          burst: pagerduty.policy.burst,
          deadlineMs: pagerduty.policy.deadlineMs,
          digestAbove: pagerduty.policy.digestAbove,
        },
        { rate: 2, burst: 10, deadlineMs: 86_400_000, digestAbove: Infinity },
      );
      const stub = await stubFor((req, res) =>
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"success","message":"Event processed"}'),
      );
      const service = { id: 'p1', type: 'armor-pagerduty-service', name: 'SOC', region: 'custom', url: `${stub.base}/v2/enqueue` };
      await helper.load(NODES, flow(service, [{ id: 'd1', type: 'armor-pagerduty', service: 'p1' }]), { p1: { routingKey: ROUTING_KEY } });
      assert.deepEqual(endpointOf('p1').queue.policy, pagerduty.policy);
      assert.deepEqual(endpointOf('p1').outbox.limits, OUTBOX_DEFAULT_LIMITS);

      const sent = collect('d1-sent');
      for (let n = 1; n <= 11; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await sent.waitFor(11, 5000);
      const t = stub.times;
      assert.equal(stub.seen.length, 11);
      assert.ok(t[9] - t[0] < 500, `the burst of 10 took ${t[9] - t[0]} ms`);
      assert.ok(t[10] - t[9] >= 450 && t[10] - t[9] < 1100, `the 11th came ${t[10] - t[9]} ms after the 10th (2 events/s)`);
    });
  });

  describe('two armor-slack nodes on one webhook', () => {
    it('share one queue and its pace (posts in order of arrival, never closer than 1 / rate), and each node reports only its own alerts', async () => {
      const stub = await stubFor((req, res, body) =>
        (numberIn(body) === 6 ? answer(404, 'no_service') : answer(200, 'ok'))(req, res, body),
      );
      const webhook = { id: 'w1', type: 'armor-slack-webhook', name: '#soc', rate: 5, burst: 1, digestAbove: 1000000 };
      await helper.load(
        NODES,
        flow(webhook, [
          { id: 'a', type: 'armor-slack', webhook: 'w1' },
          { id: 'b', type: 'armor-slack', webhook: 'w1' },
        ]),
        {
          w1: { url: stub.base + SLACK_PATH },
        },
      );
      const out = { aSent: collect('a-sent'), aFailed: collect('a-failed'), bSent: collect('b-sent'), bFailed: collect('b-failed') };
      for (let n = 1; n <= 6; n++) helper.getNode(n % 2 === 1 ? 'a' : 'b').receive({ payload: stormAlert(n) });
      await out.bFailed.waitFor(1, 5000);
      await out.aSent.waitFor(3, 5000);
      await out.bSent.waitFor(2, 5000);

      assert.deepEqual(
        stub.seen.map((s) => numberIn(s.body)),
        [1, 2, 3, 4, 5, 6],
        'one queue, in order of arrival',
      );
      const gaps = stub.times.slice(1).map((t, k) => t - stub.times[k]);
      assert.ok(
        gaps.every((g) => g >= 190),
        `posts closer than 200 ms (5/s): ${gaps}`,
      );
      assert.deepEqual(numbersOf(out.aSent.msgs), [1, 3, 5]);
      assert.deepEqual(numbersOf(out.bSent.msgs), [2, 4]);
      assert.deepEqual(numbersOf(out.bFailed.msgs), [6]);
      assert.equal(out.bFailed.msgs[0].error.status, 404);
      assert.equal(out.aFailed.msgs.length, 0);
      assert.equal(endpointOf('w1').queue.stats.delivered, 5);
    });
  });

  describe('a delivery node deleted while its alerts wait', () => {
    it("logs each alert's outcome on the config node when it arrives: delivered as info, failed as an error, naming the alert and never the webhook", async () => {
      let answering = false;
      const stub = await stubFor((req, res, body) => {
        if (!answering) return; // hangs: both alerts wait in the outbox
        (numberIn(body) === 1 ? answer(200, 'ok') : answer(404, 'no_service'))(req, res, body);
      });
      const webhook = { id: 'w1', type: 'armor-slack-webhook', name: '#soc', rate: 1000, burst: 1000, digestAbove: 1000000 };
      const credentials = { w1: { url: stub.base + SLACK_PATH } };
      await helper.load(NODES, flow(webhook, [{ id: 'd1', type: 'armor-slack', webhook: 'w1' }]), credentials);
      for (const n of [1, 2])
        helper.getNode('d1').receive({ payload: stormAlert(n), integration: { index: 0, name: 'slack', retries: 0 } });
      await until(() => stub.seen.length === 1, 'the first post to hang');

      answering = true;
      await helper.setFlows(flow(webhook, []), 'full', credentials); // d1 deleted, the webhook kept
      await until(() => endpointOf('w1')?.pending === 0, 'both alerts to reach an outcome');
      const logged = calls('w1', 'log').map((args) => String(args[0]));
      const errors = calls('w1', 'error').map((args) => String(args[0]));
      assert.deepEqual(logged, [
        `an alert queued by a node that no longer exists was delivered (alert ${stormAlert(1).id}, rule ${stormAlert(1).rule.id}) (HTTP 200, attempts 1)`,
      ]);
      assert.deepEqual(errors, [
        `an alert queued by a node that no longer exists was not delivered (alert ${stormAlert(2).id}, rule ${stormAlert(2).rule.id}): HTTP 404 no_service`,
      ]);
      assert.ok(!JSON.stringify([logged, errors]).includes('GUARANTEESECRET'));
    });
  });

  describe('Slack answering 408 Request Timeout', () => {
    it('retries it like a 5xx (a passing failure, unlike the other 4xx) and delivers on the next attempt', async () => {
      let calls408 = 0;
      const stub = await stubFor((req, res, body) =>
        (calls408++ === 0 ? answer(408, 'Request Timeout') : answer(200, 'ok'))(req, res, body),
      );
      const webhook = { id: 'w1', type: 'armor-slack-webhook', name: '#soc', rate: 1000, burst: 1000, digestAbove: 1000000 };
      await helper.load(NODES, flow(webhook, [{ id: 'd1', type: 'armor-slack', webhook: 'w1' }]), { w1: { url: stub.base + SLACK_PATH } });
      const [sent, failed] = [collect('d1-sent'), collect('d1-failed')];
      helper.getNode('d1').receive({ payload: stormAlert(1), integration: { index: 0, name: 'slack', retries: 3 } });
      const [msg] = await sent.waitFor(1, 5000);
      assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: 2 });
      assert.equal(stub.seen.length, 2);
      assert.equal(endpointOf('w1').queue.stats.retried, 1);
      assert.equal(failed.msgs.length, 0);
    });
  });

  describe('a webhook config node removed while a post is in flight', () => {
    it('lets go of the post at once and posts nothing more (the alerts stay in the outbox)', async () => {
      const cutOff: number[] = [];
      const stub = await stubFor((req, res, body) => {
        res.on('close', () => {
          if (!res.writableFinished) cutOff.push(Date.now());
        });
        setTimeout(() => answer(200, 'ok')(req, res, body), 300);
      });
      const webhook = { id: 'w1', type: 'armor-slack-webhook', name: '#soc', rate: 1000, burst: 1000, digestAbove: 1000000 };
      await helper.load(NODES, flow(webhook, [{ id: 'd1', type: 'armor-slack', webhook: 'w1' }]), { w1: { url: stub.base + SLACK_PATH } });
      const sent = collect('d1-sent');
      for (const n of [1, 2, 3]) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await until(() => stub.seen.length === 1, 'the first post');
      const removedAt = Date.now();
      await helper.setFlows([{ id: 'f1', type: 'tab', label: 'guarantees' }], 'full', {});
      await until(() => cutOff.length === 1, 'the post in flight to be let go', 2000);
      assert.ok(cutOff[0] - removedAt < 500, `let go ${cutOff[0] - removedAt} ms after the deploy`);
      await sleep(800); // the first answer was due after 300 ms, the next two posts right after it
      assert.equal(stub.seen.length, 1);
      assert.equal(sent.msgs.length, 0);
    });
  });
});

/**
 * Delivery under the faults real services show, node by node in a real Node-RED runtime,
 * against real HTTP servers on 127.0.0.1: exactly what was delivered, retried and reported.
 */
import assert from 'node:assert/strict';
import { collect, helper, nodeModule, reportedText, sleep, until, untilStatus, useTempUserDir } from '../lib/red';
import { alertsIn, digestCounts, isDigest, stormAlert, tallyDeliveries } from '../lib/storm';
import { answer, hang, json, rateLimited, reset, startStub, type Handler, type Stub } from '../lib/stub-server';

const slackNode = nodeModule('armor-slack');
const webhookNode = nodeModule('armor-slack-webhook');
const pagerDutyNode = nodeModule('armor-pagerduty');
const serviceNode = nodeModule('armor-pagerduty-service');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const NODES = [slackNode, webhookNode, pagerDutyNode, serviceNode, catchNode];

const SECRET_PATH = '/services/T000/B000/FAULTSECRET0123456789ab';
const ROUTING_KEY = 'FAULTR0UT1NGKEY0123456789abcdef';
/** Each alert its own post, at once: for the faults that are not about pacing. */
const ONE_POST_PER_ALERT = { rate: 1000, burst: 1000, digestAbove: 1000000 };

type Props = Record<string, unknown>;

/** webhook w1 (or service p1) → delivery node d1 → outputs `sent`, `failed`; a Catch → `caught`. */
function flow(kind: 'slack' | 'pagerduty', config: Props, delivery: Props = {}) {
  const [configNode, deliveryNode] =
    kind === 'slack'
      ? [
          { id: 'w1', type: 'armor-slack-webhook', name: '#soc', ...config },
          { type: 'armor-slack', webhook: 'w1' },
        ]
      : [
          { id: 'p1', type: 'armor-pagerduty-service', name: 'SOC', region: 'custom', ...config },
          { type: 'armor-pagerduty', service: 'p1' },
        ];
  return [
    { id: 'f1', type: 'tab', label: 'faults' },
    configNode,
    { id: 'd1', z: 'f1', wires: [['sent'], ['failed']], ...deliveryNode, ...delivery },
    { id: 'sent', z: 'f1', type: 'helper' },
    { id: 'failed', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const bodies = (stub: Stub): Array<Record<string, any>> => stub.seen.map((s) => JSON.parse(s.body));
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));
/** The number of the storm alert a single-alert Slack post carries. */
const numberIn = (body: string): number => alertsIn(JSON.parse(body))[0];
/** Node `id`'s endpoint (the config node's outbox and queue). */
const endpointOf = (id: string) => helper.getNode(id).runtime;
/** The integration's retries, as armor-integration sets them. */
const integration = (over: Props) => ({ index: 0, name: 'slack', ...over });

/**
 * Keeps the event loop busy until `at` (ms since epoch): no timer of the flow runs meanwhile.
 * Used once, to let a dedup window end without the sweep that would summarise it running first.
 */
function holdEventLoopUntil(at: number): void {
  while (Date.now() < at) {
    // busy on purpose
  }
}

describe('delivery under faults (real Node-RED, real local servers)', () => {
  const stubs: Stub[] = [];
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await Promise.all(stubs.splice(0).map((s) => s.close()));
  });
  useTempUserDir();

  async function stubFor(handler: Handler): Promise<Stub> {
    const stub = await startStub(handler);
    stubs.push(stub);
    return stub;
  }

  /** A stub Slack answering with `handler`, and the flow posting to it. */
  async function slack(handler: Handler, webhook: Props = ONE_POST_PER_ALERT, node: Props = {}) {
    const stub = await stubFor(handler);
    await helper.load(NODES, flow('slack', webhook, node), { w1: { url: stub.base + SECRET_PATH } });
    return { stub, sent: collect('sent'), failed: collect('failed'), caught: collect('caught'), d1: helper.getNode('d1') };
  }

  function assertNoSecret(...shown: unknown[]) {
    const text = JSON.stringify(shown) + reportedText('d1');
    for (const secret of [SECRET_PATH, 'FAULTSECRET', ROUTING_KEY]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }

  describe('Slack rate limit (a stub enforcing 10 posts/s that answers 429 + Retry-After beyond it)', () => {
    it('represents all 40 alerts of a burst exactly once, alone or in digests that count them, with at most one 429', async () => {
      const accepted: Array<Record<string, any>> = [];
      const limit = rateLimited(10, 3, (req, res, body) => {
        accepted.push(JSON.parse(body));
        answer(200, 'ok')(req, res, body);
      });
      const { sent, failed, d1 } = await slack(limit, { rate: 10, burst: 3, digestAbove: 5 });
      // half of them trickle in faster than 10/s, the other half at once
      for (let n = 1; n <= 20; n++) {
        d1.receive({ payload: stormAlert(n) });
        await sleep(20);
      }
      for (let n = 21; n <= 40; n++) d1.receive({ payload: stormAlert(n) });
      await sent.waitFor(40, 15000);

      assert.ok(limit.refused <= 1, `${limit.refused} answers 429`);
      assert.equal(endpointOf('w1').queue.stats.rateLimited, limit.refused);
      const represented = accepted.flatMap(alertsIn);
      assert.deepEqual(
        [...represented].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, k) => k + 1),
        'each alert in exactly one post',
      );
      const digests = accepted.filter(isDigest);
      assert.ok(digests.length >= 1, 'the 20 arriving at once cannot go out one by one');
      for (const digest of digests) {
        const shown = alertsIn(digest);
        const counts = digestCounts(digest);
        assert.ok(shown.length > 5, 'a digest only when more than digestAbove wait');
        assert.equal(counts.header, shown.length);
        assert.equal(counts.alerts, shown.length);
        const byRule: Record<string, number> = {};
        for (const n of shown) byRule[stormAlert(n).rule.id] = (byRule[stormAlert(n).rule.id] ?? 0) + 1;
        assert.deepEqual(counts.byRule, byRule);
      }
      // output 1: each alert once; those that went in a digest say how big it was
      assert.deepEqual(sent.msgs.map((m) => m.payload.id).sort(), Array.from({ length: 40 }, (_, k) => stormAlert(k + 1).id).sort());
      const digested = sent.msgs.filter((m) => m.delivery.digest !== undefined);
      assert.equal(
        digested.length,
        digests.reduce((t, d) => t + alertsIn(d).length, 0),
      );
      assert.ok(sent.msgs.every((m) => m.delivery.attempts === 1 && m.delivery.status === 200));
      assert.equal(failed.msgs.length, 0);
    });
  });

  describe('Slack answering 500 for the first 3 requests, then recovering', () => {
    it('delivers every alert, each retry counted in its attempts, nothing on the failed output', async () => {
      let calls = 0;
      const { stub, sent, failed, caught, d1 } = await slack((req, res, body) =>
        calls++ < 3 ? answer(500, 'internal_error')(req, res, body) : answer(200, 'ok')(req, res, body),
      );
      for (const n of [1, 2, 3]) d1.receive({ payload: stormAlert(n) });
      await sent.waitFor(3, 10000);
      assert.equal(stub.seen.length, 6, '3 answered 500, 3 delivered');
      const requestsFor = (n: number) => stub.seen.filter((s) => numberIn(s.body) === n).length;
      for (const msg of sent.msgs) {
        const n = Number(/#(\d+)$/.exec(msg.payload.rule.description)![1]);
        assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: requestsFor(n) });
      }
      assert.equal(
        sent.msgs.reduce((t, m) => t + m.delivery.attempts, 0),
        6,
      );
      assert.equal(endpointOf('w1').queue.stats.retried, 3);
      assert.equal(failed.msgs.length, 0);
      assert.equal(caught.msgs.length, 0);
      await untilStatus('d1', { fill: 'green', shape: 'dot', text: 'armor-delivery.status.sent(count=3)' });
    });
  });

  describe('Slack answering 503 to the first two posts (one alert, then a digest of seven)', () => {
    it('keeps no alert in memory while the jobs wait for their retries, and delivers each whole alert read again from the outbox', async () => {
      let calls = 0;
      const { stub, sent, failed, d1 } = await slack(
        (req, res, body) => (calls++ < 2 ? answer(503, 'busy') : answer(200, 'ok'))(req, res, body),
        { rate: 1000, burst: 1000, digestAbove: 5 },
      );
      for (let n = 1; n <= 8; n++) d1.receive({ payload: stormAlert(n) });
      await until(() => endpointOf('w1').queue.stats.retried === 8, 'both posts to fail and all 8 alerts to wait for a retry');
      assert.equal(stub.seen.length, 2);
      assert.equal(endpointOf('w1').inFlight.size, 0, 'the alerts of the failed posts are not kept in memory');
      assert.equal(endpointOf('w1').queue.stats.waiting, 8);
      await sent.waitFor(8, 10000);
      const byNumber = new Map(sent.msgs.map((m) => [Number(/#(\d+)$/.exec(m.payload.rule.description)![1]), m]));
      for (let n = 1; n <= 8; n++) {
        assert.deepEqual(byNumber.get(n)?.payload, stormAlert(n));
        assert.equal(byNumber.get(n)?.delivery.attempts, 2);
      }
      assert.equal(failed.msgs.length, 0);
      await until(() => endpointOf('w1').pending === 0, 'the outbox to empty');
      assert.equal(endpointOf('w1').inFlight.size, 0);
    });
  });

  describe("Slack hanging past the integration's timeout", () => {
    it('tries twice (timeout 1 s, retries 1), then reports a transient failure after 2 attempts', async () => {
      const { stub, sent, failed, caught, d1 } = await slack(hang);
      d1.receive({ payload: stormAlert(1), integration: integration({ timeout: 1, retries: 1 }) });
      const [out] = await failed.waitFor(1, 10000);
      const [err] = await caught.waitFor(1);
      assert.equal(stub.seen.length, 2);
      assert.deepEqual(plain(out.error), { message: 'Slack: timeout after 1000 ms', service: 'slack', kind: 'transient', attempts: 2 });
      assert.equal(err.error.message, 'Error: Slack: timeout after 1000 ms');
      assert.equal(err.payload.id, stormAlert(1).id);
      assert.equal(sent.msgs.length, 0);
      await untilStatus('d1', {
        fill: 'red',
        shape: 'ring',
        text: 'timeout after 1000 ms · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
      assertNoSecret(out, err);
    });
  });

  describe('Slack resetting connections', () => {
    it('retries after resets and delivers once the server answers, the resets counted in attempts', async () => {
      let calls = 0;
      const { stub, sent, failed, d1 } = await slack((req, res, body) =>
        calls++ < 2 ? reset(req, res, body) : answer(200, 'ok')(req, res, body),
      );
      d1.receive({ payload: stormAlert(1) });
      const [msg] = await sent.waitFor(1, 10000);
      assert.equal(stub.seen.length, 3);
      assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: 3 });
      assert.equal(endpointOf('w1').queue.stats.retried, 2);
      assert.equal(failed.msgs.length, 0);
    });

    it('reports a transient failure once the retries are spent (retries 1: 2 attempts)', async () => {
      const { stub, sent, failed, caught, d1 } = await slack(reset);
      d1.receive({ payload: stormAlert(1), integration: integration({ retries: 1 }) });
      const [out] = await failed.waitFor(1, 10000);
      await caught.waitFor(1);
      assert.equal(stub.seen.length, 2);
      assert.deepEqual(plain(out.error), {
        message: 'Slack: connection reset (ECONNRESET)',
        service: 'slack',
        kind: 'transient',
        attempts: 2,
      });
      assert.equal(sent.msgs.length, 0);
      await untilStatus('d1', {
        fill: 'red',
        shape: 'ring',
        text: 'connection reset (ECONNRESET) · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
    });
  });

  describe('permanent answers: one request, no retry though retries remain', () => {
    const cases = [
      { service: 'slack', status: 404, text: 'no_service', shown: 'armor-slack.reason.webhookRevoked' },
      { service: 'slack', status: 410, text: 'channel_is_archived', shown: 'armor-slack.reason.channelArchived' },
    ] as const;
    for (const c of cases) {
      it(`Slack ${c.status} ${c.text}: output 2, Catch, red status "${c.shown}"`, async () => {
        const { stub, sent, failed, caught, d1 } = await slack(answer(c.status, c.text));
        d1.receive({ payload: stormAlert(1), integration: integration({ retries: 3 }) });
        const [out] = await failed.waitFor(1);
        const [err] = await caught.waitFor(1);
        assert.deepEqual(plain(out.error), {
          message: `Slack: HTTP ${c.status} ${c.text}`,
          service: 'slack',
          kind: 'permanent',
          status: c.status,
          answer: c.text,
          attempts: 1,
        });
        assert.equal(err.error.source.id, 'd1');
        assert.equal(err.payload.id, stormAlert(1).id);
        await untilStatus('d1', {
          fill: 'red',
          shape: 'ring',
          text: `${c.shown} · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)`,
        });
        await sleep(1500); // a retry would have come by now (first backoff: at most 1 s)
        assert.equal(stub.seen.length, 1);
        assert.equal(sent.msgs.length, 0);
        assert.equal(failed.msgs.length, 1);
        assertNoSecret(out, err);
      });
    }

    it('PagerDuty 400 invalid event: output 2, Catch, red status', async () => {
      const stub = await stubFor(
        json(400, { status: 'invalid event', message: 'Event object is invalid', errors: ["Length of 'payload.summary' is incorrect"] }),
      );
      await helper.load(NODES, flow('pagerduty', { url: `${stub.base}/v2/enqueue`, rate: 1000, burst: 1000 }), {
        p1: { routingKey: ROUTING_KEY },
      });
      const [sent, failed, caught] = [collect('sent'), collect('failed'), collect('caught')];
      helper.getNode('d1').receive({ payload: stormAlert(1), integration: integration({ name: 'pagerduty', retries: 3 }) });
      const [out] = await failed.waitFor(1);
      const [err] = await caught.waitFor(1);
      const reason = "PagerDuty: HTTP 400 Event object is invalid: Length of 'payload.summary' is incorrect";
      assert.deepEqual(plain(out.error), {
        message: reason,
        service: 'pagerduty',
        kind: 'permanent',
        status: 400,
        answer: JSON.stringify({
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ["Length of 'payload.summary' is incorrect"],
        }),
        attempts: 1,
      });
      assert.equal(err.error.message, `Error: ${reason}`);
      await untilStatus('d1', {
        fill: 'red',
        shape: 'ring',
        text: "HTTP 400 Event object is invalid: Length of 'payload.summar… · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)",
      });
      await sleep(1500);
      assert.equal(stub.seen.length, 1);
      assert.equal(sent.msgs.length, 0);
      assertNoSecret(out, err);
    });
  });

  describe('a full outbox (maxQueue 5, Slack hanging)', () => {
    it('refuses the 6th and 7th alerts at once: output 2 with kind refused and reason "outbox full", counted', async () => {
      const { stub, sent, failed, caught, d1 } = await slack(hang, { ...ONE_POST_PER_ALERT, maxQueue: 5 });
      for (let n = 1; n <= 7; n++) d1.receive({ payload: stormAlert(n) });
      await failed.waitFor(2);
      await caught.waitFor(2);
      assert.deepEqual(
        failed.msgs.map((m) => [m.payload.id, plain(m.error)]),
        [6, 7].map((n) => [
          stormAlert(n).id,
          { message: 'Slack: outbox full: 5 entries, limit 5', service: 'slack', kind: 'refused', attempts: 0 },
        ]),
      );
      assert.equal(endpointOf('w1').pending, 5, 'the five accepted stay queued on disk');
      await until(() => stub.seen.length === 1, 'the first post to hang');
      assert.equal(sent.msgs.length, 0);
      await untilStatus('d1', {
        fill: 'red',
        shape: 'ring',
        text: 'armor-delivery.status.outboxFull · armor-delivery.status.sent(count=0) · armor-delivery.status.waiting(count=5) · armor-delivery.status.failed(count=2)',
      });
    });
  });

  describe('dedup window on armor-slack (1 s)', () => {
    const repeat = (k: number) => ({ ...stormAlert(1), id: `1764324000.${100 + k}`, full_log: `attempt ${k}` });
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

    it('posts the first of 5 repeats; the next one after the window says "+4 similar since HH:MM"', async () => {
      const { stub, sent, d1 } = await slack(answer(200, 'ok'), ONE_POST_PER_ALERT, { dedupWindow: 1 });
      const before = Date.now();
      for (let k = 1; k <= 5; k++) d1.receive({ payload: repeat(k) });
      const after = Date.now();
      holdEventLoopUntil(after + 1010); // the window (from the first repeat) is over
      d1.receive({ payload: repeat(6) });
      await sent.waitFor(2);
      await sleep(2200); // the new window ends with nothing held: no summary
      const [first, next] = bodies(stub);
      assert.equal(stub.seen.length, 2);
      assert.equal(first.text, undefined);
      assert.equal(first.attachments[0].text, 'attempt 1');
      assert.ok(
        [before, after].some((t) => next.text === `+4 similar since ${hhmm(t)} UTC`),
        next.text,
      );
      assert.equal(next.attachments[0].text, 'attempt 6');
      assert.deepEqual(
        sent.msgs.map((m) => m.payload.full_log),
        ['attempt 1', 'attempt 6'],
      );
      await untilStatus('d1', {
        fill: 'green',
        shape: 'dot',
        text: 'armor-delivery.status.sent(count=2) · armor-delivery.status.held(count=4)',
      });
    });

    it('summarises repeats still held when the window ends: one more post, for the last of them', async () => {
      const { stub, sent, d1 } = await slack(answer(200, 'ok'), ONE_POST_PER_ALERT, { dedupWindow: 1 });
      const before = Date.now();
      for (let k = 1; k <= 5; k++) d1.receive({ payload: repeat(k) });
      const after = Date.now();
      await sent.waitFor(2, 5000);
      await sleep(1200);
      const [first, summary] = bodies(stub);
      assert.equal(stub.seen.length, 2);
      assert.equal(first.attachments[0].text, 'attempt 1');
      assert.ok(
        [before, after].some((t) => summary.text === `+4 similar since ${hhmm(t)} UTC (the last one below)`),
        summary.text,
      );
      assert.equal(summary.attachments[0].text, 'attempt 5');
      assert.deepEqual(
        sent.msgs.map((m) => m.payload.full_log),
        ['attempt 1', 'attempt 5'],
      );
      await untilStatus('d1', {
        fill: 'green',
        shape: 'dot',
        text: 'armor-delivery.status.sent(count=2) · armor-delivery.status.held(count=4)',
      });
    });
  });

  /** The storm number of each message that left by output 1 or 2 (a delivery node's outcome). */
  const numbersOf = (...outputs: Array<{ msgs: any[] }>): number[] =>
    outputs.flatMap((o) => o.msgs.map((m) => Number(/#(\d+)$/.exec(m.payload.rule.description)![1])));
  const oneToN = (n: number) => Array.from({ length: n }, (_, k) => k + 1);
  const sorted = (ns: number[]) => [...ns].sort((a, b) => a - b);

  describe('a redeploy during a storm', () => {
    it('reports every alert exactly once on output 1, across the old and the new node, and posts it at least once (at most the one in flight twice)', async () => {
      const stub = await stubFor(answer(200, 'ok'));
      const credentials = { w1: { url: stub.base + SECRET_PATH } };
      const webhook = { rate: 20, burst: 3, digestAbove: 1000000 };
      await helper.load(NODES, flow('slack', webhook), credentials);
      const before = { sent: collect('sent'), failed: collect('failed'), caught: collect('caught') };
      for (let n = 1; n <= 40; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await until(() => stub.seen.length >= 10, 'a quarter of the storm to be posted');

      // the operator changes the webhook's pacing and the node's name, and deploys everything
      await helper.setFlows(flow('slack', { ...webhook, rate: 25 }, { name: 'renamed' }), 'full', credentials);
      const reportedBefore = before.sent.msgs.length;
      assert.ok(reportedBefore >= 9 && reportedBefore < 40, `${reportedBefore} reported by the old node`);
      const after = { sent: collect('sent'), failed: collect('failed'), caught: collect('caught') };
      for (let n = 41; n <= 60; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      // the alerts recovered from the outbox (those the old node had not reported) and the 20 new ones
      await after.sent.waitFor(60 - reportedBefore, 15000);
      await until(() => endpointOf('w1').pending === 0, 'the outbox to empty');

      assert.deepEqual(sorted(numbersOf(before.sent, after.sent)), oneToN(60), 'each alert once on output 1, none missing');
      assert.equal(before.sent.msgs.length, reportedBefore, 'the old node reports nothing once replaced');
      const { missing, twice } = tallyDeliveries(
        stub.seen.map((s) => numberIn(s.body)),
        60,
      );
      assert.deepEqual(missing, []);
      assert.ok(twice.length <= 1, `posted twice: ${twice}`);
      for (const c of [before.failed, before.caught, after.failed, after.caught]) assert.equal(c.msgs.length, 0);
    });
  });

  describe('a restart of Node-RED on the same user directory, in the middle of a storm', () => {
    it('posts what the outbox held before the alerts that arrive after the start, and reports every alert exactly once on output 1', async () => {
      const stub = await stubFor(answer(200, 'ok'));
      const credentials = { w1: { url: stub.base + SECRET_PATH } };
      const webhook = { rate: 20, burst: 3, digestAbove: 1000000 };
      await helper.load(NODES, flow('slack', webhook), credentials);
      const first = { sent: collect('sent'), failed: collect('failed') };
      for (let n = 1; n <= 40; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await until(() => stub.seen.length >= 10, 'a quarter of the storm to be posted');

      await helper.unload(); // Node-RED stops: flows closed, the outbox stays in the user directory
      const postedBefore = stub.seen.length;
      const reportedBefore = first.sent.msgs.length;
      assert.ok(reportedBefore < 40, `${reportedBefore} reported before the stop`);
      await helper.load(NODES, flow('slack', webhook), credentials); // and starts again on the same one
      const second = { sent: collect('sent'), failed: collect('failed'), caught: collect('caught') };
      for (let n = 41; n <= 60; n++) helper.getNode('d1').receive({ payload: stormAlert(n) });
      await second.sent.waitFor(60 - reportedBefore, 15000);
      await until(() => endpointOf('w1').pending === 0, 'the outbox to empty');

      assert.deepEqual(sorted(numbersOf(first.sent, second.sent)), oneToN(60), 'each alert once on output 1, none missing');
      const recovered = oneToN(40).filter((n) => !numbersOf(first.sent).includes(n));
      const postedAfter = stub.seen.slice(postedBefore).map((s) => numberIn(s.body));
      assert.deepEqual(
        postedAfter,
        [...recovered, ...oneToN(20).map((k) => 40 + k)],
        'the outbox first, in its order, then the new alerts',
      );
      assert.deepEqual(numbersOf(second.sent), postedAfter);
      const { missing, twice } = tallyDeliveries(
        stub.seen.map((s) => numberIn(s.body)),
        60,
      );
      assert.deepEqual(missing, []);
      assert.ok(twice.length <= 1, `posted twice: ${twice}`);
      for (const c of [first.failed, second.failed, second.caught]) assert.equal(c.msgs.length, 0);
    });
  });
});

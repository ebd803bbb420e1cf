import assert from 'node:assert/strict';
import {
  collect,
  helper,
  nodeModule,
  reportedText,
  sampleAlerts,
  settlesWithin,
  statuses,
  until,
  untilStatus,
  useTempUserDir,
} from '../lib/red';
import { answer, closed, echoSecrets, hang, startStub, type Handler, type Stub } from '../lib/stub-server';

/** An integration that gives up after the first attempt: failures are reported at once. */
const NO_RETRY = { index: 0, name: 'slack', retries: 0 };

const slackNode = nodeModule('armor-slack');
const webhookNode = nodeModule('armor-slack-webhook');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

/** The secret part of the webhook URL: it must never show outside the request itself. */
const SECRET_PATH = '/services/T000/B000/SECRETXYZ0123456789abcdef';
const SECRET = 'SECRETXYZ0123456789abcdef';
const ALERTS = sampleAlerts().filter((a) => a.rule);

/** An alert whose text tries to ping the channel and forge a link. */
const HOSTILE = {
  timestamp: '2024-05-11T12:29:18.123+0000',
  rule: { level: 12, description: 'Probe <script> & "quotes"', id: '100200', groups: ['web', 'attack'] },
  agent: { id: '007', name: 'web<01>', ip: '10.0.0.7' },
  manager: { name: 'armor-manager' },
  id: '1715430558.123456',
  full_log: '<!channel> GET /login?a=1&b=<https://evil.example|click here> HTTP/1.1',
  location: '/var/log/nginx/access.log',
};

/**
 * The webhook's pacing opened wide and digests off: these tests are about one alert's message
 * and outcome, so each alert is its own post, at once (pacing and digests: delivery-faults.test.ts).
 */
const ONE_POST_PER_ALERT = { rate: 1000, burst: 1000, digestAbove: 1000000 };

function flow(slack: Record<string, unknown> = { webhook: 'w1' }) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'w1', type: 'armor-slack-webhook', name: '#soc', ...ONE_POST_PER_ALERT },
    { id: 's1', z: 'f1', type: 'armor-slack', wires: [['sent'], ['failed']], ...slack },
    { id: 'sent', z: 'f1', type: 'helper' },
    { id: 'failed', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const posted = (stub: Stub): Array<Record<string, any>> => stub.seen.map((s) => JSON.parse(s.body));
/** msg.error as a flow would serialise it (undefined fields left out). */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('armor-slack node', () => {
  let stub: Stub | undefined;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => {
    await helper.unload();
    await stub?.close();
    stub = undefined;
  });
  useTempUserDir();

  /** A stub Slack answering with `handler`, and the flow posting to it. */
  async function start(handler: Handler, slack?: Record<string, unknown>, url?: string) {
    stub = await startStub(handler);
    await helper.load([slackNode, webhookNode, catchNode], flow(slack), { w1: { url: url ?? stub.base + SECRET_PATH } });
    return { stub, sent: collect('sent'), failed: collect('failed'), caught: collect('caught'), s1: helper.getNode('s1') };
  }

  /** Asserts the secret path shows nowhere but in the request line the stub received. */
  function assertNoSecret(...msgs: unknown[]) {
    const shown = JSON.stringify(msgs) + reportedText('s1');
    for (const secret of [SECRET, SECRET_PATH, 'T000/B000']) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
  }

  describe('delivering', () => {
    it("posts the manager's attachment, alert text escaped, the integration's options merged in", async () => {
      const { stub, sent, failed, s1 } = await start(answer(200, 'ok'));
      const integration = { index: 0, name: 'slack', options: { footer: 'Armor SOC', mrkdwn_in: ['text'] } };
      s1.receive({ payload: HOSTILE, integration });
      const [msg] = await sent.waitFor(1);
      assert.equal(stub.seen.length, 1);
      assert.equal(stub.seen[0].method, 'POST');
      assert.equal(stub.seen[0].url, SECRET_PATH);
      assert.deepEqual(posted(stub)[0], {
        attachments: [
          {
            color: 'danger',
            pretext: 'Armor alert',
            title: 'Probe &lt;script&gt; &amp; "quotes"',
            text: '&lt;!channel&gt; GET /login?a=1&amp;b=&lt;https://evil.example|click here&gt; HTTP/1.1',
            fields: [
              { title: 'Agent', value: '(007) - web&lt;01&gt;' },
              { title: 'Location', value: '/var/log/nginx/access.log' },
              { title: 'Rule ID', value: '100200 _(Level 12)_' },
            ],
            ts: 1715430558,
            footer: 'Armor SOC',
            mrkdwn_in: ['text'],
          },
        ],
      });
      assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: 1 });
      assert.deepEqual(msg.payload, HOSTILE);
      assert.equal(failed.msgs.length, 0);
      await untilStatus('s1', { fill: 'green', shape: 'dot', text: 'armor-delivery.status.sent(count=1)' });
      assertNoSecret(msg);
    });

    it('colours each sample alert by level: good up to 4, warning 5-7, danger from 8', async () => {
      const { stub, sent, s1 } = await start(answer(200, 'ok'));
      for (const [k, alert] of ALERTS.entries()) {
        s1.receive({ payload: alert });
        await sent.waitFor(k + 1);
      }
      assert.equal(stub.seen.length, 23);
      const colour = (level = 0) => (level <= 4 ? 'good' : level <= 7 ? 'warning' : 'danger');
      assert.deepEqual(
        posted(stub).map((b) => b.attachments[0].color),
        ALERTS.map((a) => colour(a.rule.level)),
      );
      assert.deepEqual(new Set(posted(stub).map((b) => b.attachments[0].color)), new Set(['good', 'warning', 'danger']));
      await untilStatus('s1', { fill: 'green', shape: 'dot', text: 'armor-delivery.status.sent(count=23)' });
    });

    it("cuts full_log to the integration's maxLog before escaping it", async () => {
      const { stub, sent, s1 } = await start(answer(200, 'ok'));
      s1.receive({ payload: HOSTILE, integration: { index: 0, name: 'slack', maxLog: 12 } });
      await sent.waitFor(1);
      assert.equal(posted(stub)[0].attachments[0].text, '&lt;!channel&gt; …');
    });

    it('lets msg.slack extend the default message, or replace parts of it', async () => {
      const { stub, sent, s1 } = await start(answer(200, 'ok'));
      s1.receive({ payload: HOSTILE, slack: { channel: '#soc-alerts', text: 'heads up' } });
      await sent.waitFor(1);
      s1.receive({ payload: HOSTILE, slack: { attachments: null, text: 'only this' } });
      await sent.waitFor(2);
      const [extended, replaced] = posted(stub);
      assert.deepEqual(Object.keys(extended).sort(), ['attachments', 'channel', 'text']);
      assert.equal(extended.channel, '#soc-alerts');
      assert.equal(extended.text, 'heads up');
      assert.equal(extended.attachments[0].color, 'danger');
      assert.deepEqual(replaced, { text: 'only this' });
    });

    it('reads a ${ENV} webhook credential from the environment', async () => {
      stub = await startStub(answer(200, 'ok'));
      process.env.ARMOR_TEST_SLACK_WEBHOOK = stub.base + SECRET_PATH;
      try {
        await helper.load([slackNode, webhookNode, catchNode], flow(), { w1: { url: '${ARMOR_TEST_SLACK_WEBHOOK}' } });
        const sent = collect('sent');
        helper.getNode('s1').receive({ payload: ALERTS[0] });
        await sent.waitFor(1);
        assert.equal(stub.seen.length, 1);
        assert.equal(stub.seen[0].url, SECRET_PATH);
      } finally {
        delete process.env.ARMOR_TEST_SLACK_WEBHOOK;
      }
    });

    it('on 429 pauses for Retry-After, then delivers the alert once, the 429 costing it no attempt', async () => {
      let answered429At = 0;
      const arrivals: number[] = [];
      const { stub, sent, failed, caught, s1 } = await start((req, res, body) => {
        arrivals.push(Date.now());
        if (arrivals.length > 1) return answer(200, 'ok')(req, res, body);
        answered429At = Date.now();
        res.writeHead(429, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('rate_limited');
      });
      s1.receive({ payload: ALERTS[1], integration: NO_RETRY });
      const [msg] = await sent.waitFor(1);
      assert.equal(stub.seen.length, 2, 'the 429, then the delivery');
      assert.equal(stub.seen[1].body, stub.seen[0].body, 'the same message again');
      assert.ok(arrivals[1] - answered429At >= 1000, `posted again ${arrivals[1] - answered429At} ms after the 429 asked for 1 s`);
      assert.deepEqual(msg.delivery, { service: 'slack', status: 200, attempts: 1 });
      assert.equal(msg.payload.id, ALERTS[1].id);
      assert.equal(failed.msgs.length, 0);
      assert.equal(caught.msgs.length, 0);
      await untilStatus('s1', { fill: 'green', shape: 'dot', text: 'armor-delivery.status.sent(count=1)' });
      assertNoSecret(msg);
    });
  });

  describe('failing', () => {
    /** Sends one alert, expects it on the failed output and at Catch; returns both messages. */
    async function failOnce(handler: Handler, msg: Record<string, unknown> = {}) {
      const { stub, sent, failed, caught, s1 } = await start(handler);
      s1.receive({ payload: ALERTS[1], ...msg });
      const [out] = await failed.waitFor(1);
      const [err] = await caught.waitFor(1);
      assert.equal(sent.msgs.length, 0);
      assert.equal(stub.seen.length, 1);
      assert.equal(err.error.source.id, 's1');
      assert.equal(err.error.message, `Error: ${out.error.message}`, 'Catch sees the same reason');
      assert.equal(err.payload.id, ALERTS[1].id);
      assertNoSecret(out, err);
      return { out, err };
    }

    it('reports 404 no_service (webhook revoked) as permanent, on output 2 and to Catch, without the URL', async () => {
      const { out } = await failOnce(answer(404, 'no_service'));
      assert.deepEqual(plain(out.error), {
        message: 'Slack: HTTP 404 no_service',
        service: 'slack',
        kind: 'permanent',
        status: 404,
        answer: 'no_service',
        attempts: 1,
      });
      assert.equal(out.payload.id, ALERTS[1].id);
      await untilStatus('s1', {
        fill: 'red',
        shape: 'ring',
        text: 'armor-slack.reason.webhookRevoked · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
    });

    it('reports 410 channel_is_archived as permanent', async () => {
      const { out } = await failOnce(answer(410, 'channel_is_archived'));
      assert.deepEqual(plain(out.error), {
        message: 'Slack: HTTP 410 channel_is_archived',
        service: 'slack',
        kind: 'permanent',
        status: 410,
        answer: 'channel_is_archived',
        attempts: 1,
      });
      await untilStatus('s1', {
        fill: 'red',
        shape: 'ring',
        text: 'armor-slack.reason.channelArchived · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
    });

    it("reports a 500 as transient once the integration's retries (0 here) are spent, redacting the webhook path the server echoed", async () => {
      const { out } = await failOnce(answer(500, `internal error posting to ${SECRET_PATH}`), { integration: NO_RETRY });
      assert.deepEqual(plain(out.error), {
        message: 'Slack: HTTP 500 internal error posting to ***',
        service: 'slack',
        kind: 'transient',
        status: 500,
        answer: 'internal error posting to ***',
        attempts: 1,
      });
      await untilStatus('s1', {
        fill: 'red',
        shape: 'ring',
        text: 'HTTP 500 internal error posting to *** · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
    });

    it("gives up on a server that does not answer within the integration's timeout, as transient (retries 0)", async () => {
      const { out } = await failOnce(hang, { integration: { ...NO_RETRY, timeout: 1 } });
      assert.deepEqual(plain(out.error), {
        message: 'Slack: timeout after 1000 ms',
        service: 'slack',
        kind: 'transient',
        attempts: 1,
      });
      await untilStatus('s1', {
        fill: 'red',
        shape: 'ring',
        text: 'timeout after 1000 ms · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      });
    });
  });

  describe('refusing', () => {
    /** Sends `msg`, expects a refusal with `reason` and the status `shown` (nothing posted); returns the failed message. */
    async function refused(msg: Record<string, unknown>, reason: string, shown: string, slack?: Record<string, unknown>, url?: string) {
      const { stub, sent, failed, caught, s1 } = await start(answer(200, 'ok'), slack, url);
      s1.receive(msg);
      const [out] = await failed.waitFor(1);
      const [err] = await caught.waitFor(1);
      assert.deepEqual(plain(out.error), { message: `Slack: ${reason}`, service: 'slack', kind: 'refused', attempts: 0 });
      assert.equal(err.error.message, `Error: Slack: ${reason}`);
      await untilStatus('s1', { fill: 'red', shape: 'ring', text: shown });
      assert.equal(stub.seen.length, 0, 'nothing posted');
      assert.equal(sent.msgs.length, 0);
      return out;
    }

    it('refuses to send when no webhook config node is selected', async () => {
      await refused(
        { payload: ALERTS[0] },
        'armor-delivery.errors.noConfig',
        'armor-delivery.status.notConfigured · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
        { webhook: '' },
      );
    });

    it('refuses to send when the ${ENV} webhook credential names an unset variable', async () => {
      delete process.env.ARMOR_TEST_UNSET_WEBHOOK;
      const reason = 'environment variable ARMOR_TEST_UNSET_WEBHOOK is not set';
      await refused(
        { payload: ALERTS[0] },
        reason,
        `${reason} · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)`,
        undefined,
        '${ARMOR_TEST_UNSET_WEBHOOK}',
      );
    });

    it('refuses a payload that is not an alert', async () => {
      const out = await refused(
        { payload: { message: 'hello' } },
        'armor-delivery.errors.notAlert',
        'armor-delivery.status.notAlert · armor-delivery.status.sent(count=0) · armor-delivery.status.failed(count=1)',
      );
      assert.deepEqual(out.payload, { message: 'hello' });
    });
  });

  describe('a webhook whose secret is not a Slack-shaped path', () => {
    /** Secret parts of the URL below: its only path segment, a query token, the fragment, the user info. */
    const PARTS = ['S3CRETSEGMENT0123', 'T0K3N0123456789', 'FRAGS3CRET0123', 'hookuser', 'P%40ssw0rd!', 'P@ssw0rd!'];
    const urlOf = (port: number) => `http://hookuser:P%40ssw0rd!@127.0.0.1:${port}/S3CRETSEGMENT0123?token=T0K3N0123456789#FRAGS3CRET0123`;

    for (const [status, html] of [
      [500, false],
      [400, true],
    ] as const) {
      it(`masks path, query, fragment and user info in output 2, Catch, statuses and logs when a ${status} ${html ? 'HTML page and its reason phrase quote' : 'answer quotes'} them back`, async () => {
        let url = '';
        stub = await startStub((req, res, body) => echoSecrets(status, [url, ...PARTS], html)(req, res, body));
        url = urlOf(stub.port);
        await helper.load([slackNode, webhookNode, catchNode], flow(), { w1: { url } });
        const failed = collect('failed');
        const caught = collect('caught');
        helper.getNode('s1').receive({ payload: ALERTS[1], integration: NO_RETRY });
        const [out] = await failed.waitFor(1);
        const [err] = await caught.waitFor(1);
        assert.equal(stub.seen.length, 1);
        assert.equal(stub.seen[0].url, '/S3CRETSEGMENT0123?token=T0K3N0123456789');
        assert.equal(out.error.status, status);
        assert.equal(err.error.message, `Error: ${out.error.message}`);
        assert.match(
          out.error.message,
          html ? /^Slack: HTTP 400 rejected \*\*\* / : /^Slack: HTTP 500 host 127\.0\.0\.1:\d+ said no to \*\*\* /,
        );
        await until(() => statuses('s1').some((st) => st.fill === 'red'), 'the failure in the status');
        const shown = JSON.stringify([out, err, statuses('s1'), statuses('w1')]) + reportedText('s1');
        assert.match(reportedText('s1'), html ? /rejected \*\*\* / : /said no to \*\*\* /, 'the failure was logged, masked');
        const forms = (x: string) => [x, decodeURIComponent(x), encodeURIComponent(decodeURIComponent(x))];
        for (const secret of [url, stub.seen[0].url, ...PARTS].flatMap(forms))
          assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
      });
    }
  });

  it('closes promptly while a request hangs', async () => {
    const { stub, s1 } = await start(hang);
    s1.receive({ payload: ALERTS[0] });
    await until(() => stub.seen.length === 1, 'the request to reach the server');
    await untilStatus('s1', {
      fill: 'blue',
      shape: 'ring',
      text: 'armor-delivery.status.sent(count=0) · armor-delivery.status.waiting(count=1)',
    });
    await settlesWithin(helper.unload(), 5000, 'closing the flow');
    await settlesWithin(closed(stub.sockets[0]), 5000, 'the hanging request to be cancelled');
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BODY_CHARS, describeEndpoint, postJson, redact } from '../../src/delivery/sender';
import type { SendResult } from '../../src/delivery/sender';
import { pagerduty as pagerdutyService, slack as slackService } from '../../src/services';

type Service = 'slack' | 'pagerduty';
const SERVICE = { slack: slackService, pagerduty: pagerdutyService };
import { bypassesProxy, parseNoProxy, proxyFromEnv } from '../../src/delivery/proxy';
import { answer, closed, echoSecrets, json, listen, startStub, type Handler, type Stub } from '../lib/stub-server';

// ---- real servers on 127.0.0.1, closed after each test ----

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stub server closed after the test. */
async function serve(handler: Handler, server?: http.Server): Promise<Stub> {
  const stub = await startStub(handler, server);
  cleanups.push(() => stub.close());
  return stub;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Proxy {
  url: string;
  port: number;
  /** Request lines the proxy received (`CONNECT host:port`, or anything else it was sent). */
  seen: string[];
  /** Proxy-Authorization headers received. */
  auth: (string | undefined)[];
}

/**
 * A tiny CONNECT proxy that only tunnels to 127.0.0.1 (403 for other hosts, 502 when the target
 * refuses). With `requireAuth`, other credentials get a 407.
 */
async function connectProxy(requireAuth?: string): Promise<Proxy> {
  const seen: string[] = [];
  const auth: (string | undefined)[] = [];
  const sockets: net.Socket[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(400).end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    auth.push(req.headers['proxy-authorization']);
    sockets.push(client);
    client.on('error', () => client.destroy());
    const [host, port] = (req.url ?? '').split(':');
    if (requireAuth && req.headers['proxy-authorization'] !== requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n\r\n');
      return;
    }
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    let connected = false;
    const upstream = net.connect(Number(port), host, () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.push(upstream);
    upstream.on('error', () => (connected ? client.destroy() : client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')));
  });
  const port = await listen(server);
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${port}`, port, seen, auth };
}

const SLACK_PATH = '/services/T000/B000/SECRETXYZ';
const ROUTING_KEY = 'R0UTINGKEYSECRET';
const SLACK_BODY = { text: 'Armor alert' };
const PD_BODY = { routing_key: ROUTING_KEY, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info' } };

function slack(stub: Stub, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<SendResult> {
  return postJson(slackService, stub.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: null, ...opts });
}

function pagerduty(stub: Stub): Promise<SendResult> {
  return postJson(pagerdutyService, `${stub.base}/v2/enqueue`, PD_BODY, { timeoutMs: 2000, proxy: null });
}

/** No secret anywhere in the result, in any form we know of. */
function assertNoSecret(result: SendResult): void {
  const dump = JSON.stringify(result);
  for (const secret of ['SECRETXYZ', 'T000', 'B000', ROUTING_KEY, 'p@ss', 'p%40ss']) {
    assert.ok(!dump.includes(secret), `result leaks ${secret}: ${dump}`);
  }
}

// ---- Slack ----

describe('postJson to a Slack webhook', () => {
  it('delivers on 200 "ok", posting the JSON body to the webhook path', async () => {
    const stub = await serve(answer(200, 'ok'));
    assert.deepEqual(await slack(stub), { kind: 'ok', status: 200, body: 'ok' });
    assert.equal(stub.seen.length, 1);
    const [req] = stub.seen;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, SLACK_PATH);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body), SLACK_BODY);
  });

  for (const [status, text] of [
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ] as const) {
    it(`reports ${status} ${text} as permanent, with Slack's error text`, async () => {
      const stub = await serve(answer(status, text));
      assert.deepEqual(await slack(stub), { kind: 'permanent', status, error: `HTTP ${status} ${text}`, body: text });
    });
  }

  it('reports a 200 whose answer is not "ok" as permanent (not delivered, not retried)', async () => {
    const stub = await serve(answer(200, 'captive portal'));
    assert.deepEqual(await slack(stub), {
      kind: 'permanent',
      status: 200,
      error: 'unexpected answer: HTTP 200 captive portal',
      body: 'captive portal',
    });
  });

  it('is rate-limited for the Retry-After seconds of a 429', async () => {
    const stub = await serve(answer(429, 'rate_limited', { 'Retry-After': '7' }));
    assert.deepEqual(await slack(stub), {
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 7000,
      error: 'HTTP 429 rate_limited',
      body: 'rate_limited',
    });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const stub = await serve(answer(429, 'rate_limited', { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() }));
    const result = await slack(stub);
    assert.equal(result.kind, 'rate-limited');
    assert.ok(result.retryAfterMs! > 25_000 && result.retryAfterMs! <= 30_000, String(result.retryAfterMs));
  });

  it('takes retry_after from a JSON 429 answer without Retry-After', async () => {
    const stub = await serve(json(429, { ok: false, error: 'ratelimited', retry_after: 3 }));
    const result = await slack(stub);
    assert.equal(result.kind, 'rate-limited');
    assert.equal(result.retryAfterMs, 3000);
    assert.equal(result.error, 'HTTP 429 ratelimited');
  });

  it('waits 1 s after a 429 that gives no hint', async () => {
    const stub = await serve(answer(429, ''));
    assert.deepEqual(await slack(stub), { kind: 'rate-limited', status: 429, retryAfterMs: 1000, error: 'HTTP 429 Too Many Requests' });
  });

  it('reports 500 and 503 as transient, with Retry-After when the service sends one', async () => {
    const s500 = await serve(answer(500, 'rollup_error'));
    assert.deepEqual(await slack(s500), { kind: 'transient', status: 500, error: 'HTTP 500 rollup_error', body: 'rollup_error' });
    const s503 = await serve(answer(503, 'service_unavailable', { 'Retry-After': '5' }));
    assert.deepEqual(await slack(s503), {
      kind: 'transient',
      status: 503,
      retryAfterMs: 5000,
      error: 'HTTP 503 service_unavailable',
      body: 'service_unavailable',
    });
  });

  it('reports 408 Request Timeout as transient (retried like a 5xx), with its Retry-After, and the other 4xx as permanent', async () => {
    const timedOut = await serve(answer(408, 'Request Timeout', { 'Retry-After': '2' }));
    assert.deepEqual(await slack(timedOut), {
      kind: 'transient',
      status: 408,
      retryAfterMs: 2000,
      error: 'HTTP 408 Request Timeout',
      body: 'Request Timeout',
    });
    const pd408 = await serve(json(408, { status: 'timeout', message: 'Request Timeout' }));
    assert.equal((await pagerduty(pd408)).kind, 'transient');
    for (const status of [401, 405, 409, 413, 422]) {
      const other = await serve(answer(status, 'nope'));
      assert.deepEqual([status, (await slack(other)).kind, (await pagerduty(other)).kind], [status, 'permanent', 'permanent']);
    }
  });

  it('quotes the status text, not the page, for an HTML error page', async () => {
    const page = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    const stub = await serve((_req, res) => res.writeHead(502, { 'Content-Type': 'text/html' }).end(page));
    assert.deepEqual(await slack(stub), { kind: 'transient', status: 502, error: 'HTTP 502 Bad Gateway', body: page });
  });

  it('keeps the status of a huge answer but only the first 500 characters of it', async () => {
    const stub = await serve((_req, res) => {
      res.on('error', () => undefined);
      res.writeHead(500).end('x'.repeat(1024 * 1024));
    });
    const result = await slack(stub);
    assert.equal(result.kind, 'transient');
    assert.equal(result.status, 500);
    assert.equal(result.body, `${'x'.repeat(BODY_CHARS - 1)}…`);
    assert.equal(result.error, `HTTP 500 ${'x'.repeat(199)}…`);
    await closed(stub.sockets[0]);
  });

  for (const status of [301, 302]) {
    it(`does not follow a ${status} redirect and reports it as permanent`, async () => {
      const elsewhere = await serve(answer(200, 'ok'));
      const stub = await serve(answer(status, '', { Location: elsewhere.base + SLACK_PATH }));
      const result = await slack(stub);
      assert.equal(result.kind, 'permanent');
      assert.equal(result.status, status);
      assert.match(result.error!, new RegExp(`^HTTP ${status} .+ \\(redirects are not followed\\)$`));
      assert.equal(elsewhere.seen.length, 0);
    });
  }

  it('times out a server that never answers, and closes the connection', async () => {
    const stub = await serve(() => undefined);
    assert.deepEqual(await slack(stub, { timeoutMs: 200 }), { kind: 'transient', error: 'timeout after 200 ms' });
    assert.equal(stub.seen.length, 1);
    await closed(stub.sockets[0]);
  });

  it('times out an answer whose body stalls after the headers, and closes the connection', async () => {
    const stub = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('o');
    });
    assert.deepEqual(await slack(stub, { timeoutMs: 200 }), { kind: 'transient', error: 'timeout after 200 ms' });
    await closed(stub.sockets[0]);
  });

  it('reports a connection reset by the server as transient', async () => {
    const stub = await serve((req) => req.socket.destroy());
    assert.deepEqual(await slack(stub), { kind: 'transient', error: 'connection reset (ECONNRESET)' });
  });

  it('reports a refused connection as transient', async () => {
    const port = await closedPort();
    const result = await postJson(slackService, `http://127.0.0.1:${port}${SLACK_PATH}`, SLACK_BODY, { timeoutMs: 2000, proxy: null });
    assert.deepEqual(result, { kind: 'transient', error: 'connection refused (ECONNREFUSED)' });
  });

  it('resolves as aborted when the signal fires mid-request, and closes the connection', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const stub = await serve(() => arrived());
    const controller = new AbortController();
    const sending = slack(stub, { timeoutMs: 60_000, signal: controller.signal });
    await arrival;
    controller.abort();
    assert.deepEqual(await sending, { kind: 'aborted', error: 'aborted' });
    await closed(stub.sockets[0]);
  });

  it('sends nothing when the signal has already fired', async () => {
    const stub = await serve(answer(200, 'ok'));
    assert.deepEqual(await slack(stub, { signal: AbortSignal.abort() }), { kind: 'aborted', error: 'aborted' });
    assert.equal(stub.seen.length, 0);
  });
});

// ---- PagerDuty ----

describe('postJson to PagerDuty Events API v2', () => {
  it('delivers on 202 and returns the answer (with its dedup_key)', async () => {
    const accepted = { status: 'success', message: 'Event processed', dedup_key: 'k1' };
    const stub = await serve(json(202, accepted));
    assert.deepEqual(await pagerduty(stub), { kind: 'ok', status: 202, body: JSON.stringify(accepted) });
    assert.equal(stub.seen[0].url, '/v2/enqueue');
    assert.deepEqual(JSON.parse(stub.seen[0].body), PD_BODY);
  });

  it('reports 400 invalid event as permanent with the message and errors', async () => {
    const refusal = { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing or blank"] };
    const stub = await serve(json(400, refusal));
    assert.deepEqual(await pagerduty(stub), {
      kind: 'permanent',
      status: 400,
      error: "HTTP 400 Event object is invalid: 'payload.summary' is missing or blank",
      body: JSON.stringify(refusal),
    });
  });

  it('reports a 200 as permanent: PagerDuty accepts with 202 only', async () => {
    const stub = await serve(json(200, { status: 'success' }));
    assert.deepEqual(await pagerduty(stub), {
      kind: 'permanent',
      status: 200,
      error: 'unexpected answer: HTTP 200 OK',
      body: '{"status":"success"}',
    });
  });

  it('is rate-limited on 429 and transient on 500', async () => {
    const limited = await serve(json(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }));
    const result = await pagerduty(limited);
    assert.equal(result.kind, 'rate-limited');
    assert.equal(result.retryAfterMs, 1000);
    const failing = await serve(answer(500, ''));
    assert.deepEqual(await pagerduty(failing), { kind: 'transient', status: 500, error: 'HTTP 500 Internal Server Error' });
  });
});

// ---- secrets ----

describe('secrets in results', () => {
  /** Echoes what it was sent: path in the status text, path (plain and with escaped slashes) and body in the answer. */
  function echo(status: number): Handler {
    return (req, res, body) => {
      const url = req.url ?? '';
      res.statusMessage = `bad ${url}`;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(`no such hook ${url} (${url.replace(/\//g, '\\/')}) token ${url.split('/').pop()} body ${body}`);
    };
  }

  for (const status of [200, 404, 429, 500]) {
    it(`never shows the webhook path, even when a ${status} answer echoes it`, async () => {
      const stub = await serve(echo(status));
      const result = await slack(stub);
      assert.ok(result.body!.includes('no such hook ***'), result.body);
      assertNoSecret(result);
    });
  }

  it('never shows the routing key, even when PagerDuty echoes the event', async () => {
    const stub = await serve((_req, res, body) =>
      res
        .writeHead(400, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: 'invalid event', message: `unknown key ${ROUTING_KEY}`, errors: [body] })),
    );
    const result = await pagerduty(stub);
    assert.equal(result.kind, 'permanent');
    assert.ok(result.error!.startsWith('HTTP 400 unknown key ***: {"routing_key":"***"'), result.error);
    assertNoSecret(result);
  });

  it('never shows the webhook path in network failures', async () => {
    const port = await closedPort();
    const result = await postJson(slackService, `http://127.0.0.1:${port}${SLACK_PATH}`, SLACK_BODY, { timeoutMs: 2000, proxy: null });
    assertNoSecret(result);
  });

  it('redact replaces every occurrence, longest secret first, and ignores empty secrets', () => {
    assert.equal(redact('a /x/SECRET b SECRET c', ['SECRET', '/x/SECRET', '']), 'a *** b *** c');
    assert.equal(redact('nothing here', []), 'nothing here');
  });

  it('describeEndpoint shows scheme, host and port as https://host[:port]/…, never the path, query, fragment or credentials', () => {
    assert.equal(describeEndpoint('https://hooks.slack.com/services/T000/B000/SECRETXYZ'), 'https://hooks.slack.com/…');
    assert.equal(describeEndpoint('https://events.pagerduty.com/v2/enqueue'), 'https://events.pagerduty.com/…');
    assert.equal(describeEndpoint('http://user:pw@127.0.0.1:8080/hook?token=abc'), 'http://127.0.0.1:8080/…');
    assert.equal(describeEndpoint('https://h.example.com/S3CRETSEGMENT'), 'https://h.example.com/…');
    assert.equal(describeEndpoint('https://h.example.com?token=T0K3N'), 'https://h.example.com/…');
    assert.equal(describeEndpoint('https://h.example.com/#FRAGS3CRET'), 'https://h.example.com/…');
    assert.equal(describeEndpoint('https://hookuser:P4ss@h.example.com'), 'https://h.example.com');
    assert.equal(describeEndpoint('https://example.com'), 'https://example.com');
    assert.equal(describeEndpoint('${SLACK_HOOK}'), '(invalid URL)');
  });

  /**
   * Webhook and custom URLs whose secret is not a Slack-shaped path. `secrets`: what must not
   * show in a result in any form (raw, percent-encoded or decoded, JSON-escaped).
   */
  const SHAPES: Array<{ shape: string; path: string; auth?: string; secrets: string[]; service?: Service }> = [
    { shape: 'a secret that is the only path segment', path: '/S3CRETSEGMENT0123', secrets: ['S3CRETSEGMENT0123'] },
    { shape: 'a token query parameter', path: '/hook?token=T0K3N0123456789', secrets: ['T0K3N0123456789'] },
    {
      shape: 'a code query parameter beside others',
      path: '/api/callback?state=st4te99&code=C0DE0123456789',
      secrets: ['C0DE0123456789', 'st4te99'],
    },
    {
      shape: 'a percent-encoded sig query parameter (Azure Logic Apps style)',
      path: '/workflows/wf/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S1Gab%2Bcd%2Fef%3D',
      secrets: ['S1Gab%2Bcd%2Fef%3D', 'S1Gab+cd/ef=', '%2Ftriggers%2Fmanual%2Frun', '/triggers/manual/run'],
    },
    { shape: 'a fragment', path: '/hook#FRAGS3CRET0123', secrets: ['FRAGS3CRET0123'] },
    {
      shape: 'user info (user and percent-encoded password)',
      path: '/hook',
      auth: 'hookuser:P%40ssw0rd!',
      secrets: ['hookuser', 'P%40ssw0rd!', 'P@ssw0rd!'],
    },
    {
      shape: 'a non-ASCII, percent-encoded path segment',
      path: '/hooks/%E5%AF%86%E9%92%A5KEY9',
      secrets: ['%E5%AF%86%E9%92%A5KEY9', '%e5%af%86%e9%92%a5KEY9', '密钥KEY9'],
    },
    {
      shape: 'a PagerDuty custom events URL with a token and the routing key',
      path: '/v2/enqueue?token=PDT0K3N0123',
      secrets: ['PDT0K3N0123', ROUTING_KEY],
      service: 'pagerduty',
    },
  ];

  for (const { shape, path: hookPath, auth, secrets, service = 'slack' } of SHAPES) {
    for (const [status, html] of [
      [500, false],
      [400, true],
    ] as const) {
      it(`masks ${shape} when a ${status}${html ? ' HTML page' : ''} quotes the URL and the secret back`, async () => {
        const stub = await serve((req, res, body) => echoSecrets(status, [url, ...secrets], html)(req, res, body));
        const url = stub.base.replace('//', `//${auth ? `${auth}@` : ''}`) + hookPath;
        const result = await postJson(SERVICE[service], url, service === 'slack' ? SLACK_BODY : PD_BODY, { timeoutMs: 2000, proxy: null });
        assert.equal(stub.seen.length, 1);
        assert.equal(result.status, status);
        const shown = [result.error, result.body].join('\n');
        assert.ok(shown.includes(`host 127.0.0.1:${stub.port} said no`), `the host stays readable: ${shown}`);
        if (html) assert.match(result.error!, /^HTTP 400 rejected \*\*\*/, `the reason phrase is quoted, masked: ${result.error}`);
        const forms = (s: string) => [
          s,
          decodeURIComponent(s),
          encodeURIComponent(decodeURIComponent(s)),
          JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/'),
        ];
        for (const secret of [url, hookPath, ...secrets].flatMap(forms)) {
          assert.ok(!shown.includes(secret), `${shape}: ${secret} leaked: ${shown}`);
        }
      });
    }
  }
});

// ---- bad input ----

describe('postJson input checks', () => {
  it('returns a permanent result for a URL that cannot be used', async () => {
    assert.deepEqual(await postJson(slackService, 'not a url', {}, { timeoutMs: 1000, proxy: null }), {
      kind: 'permanent',
      error: 'invalid URL',
    });
    assert.deepEqual(await postJson(slackService, 'ftp://127.0.0.1/x', {}, { timeoutMs: 1000, proxy: null }), {
      kind: 'permanent',
      error: 'unsupported URL scheme ftp: (http or https only)',
    });
  });

  it('throws for a negative timeout or a body JSON cannot serialise (programmer errors)', async () => {
    await assert.rejects(postJson(slackService, 'http://127.0.0.1:9/x', {}, { timeoutMs: -1, proxy: null }), RangeError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(postJson(slackService, 'http://127.0.0.1:9/x', circular, { timeoutMs: 1000, proxy: null }), TypeError);
  });
});

// ---- proxies ----

describe('postJson through a proxy', () => {
  it('tunnels an http target with CONNECT: the proxy sees host:port, never the path', async () => {
    const target = await serve(answer(200, 'ok'));
    const proxy = await connectProxy();
    const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: { url: proxy.url } });
    assert.deepEqual(result, { kind: 'ok', status: 200, body: 'ok' });
    assert.deepEqual(proxy.seen, [`CONNECT 127.0.0.1:${target.port}`]);
    assert.equal(target.seen[0].url, SLACK_PATH);
  });

  it('goes direct for a target listed in noProxy', async () => {
    const target = await serve(answer(200, 'ok'));
    const proxy = await connectProxy();
    const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, {
      timeoutMs: 2000,
      proxy: { url: proxy.url, noProxy: ['localhost', '127.0.0.1'] },
    });
    assert.equal(result.kind, 'ok');
    assert.deepEqual(proxy.seen, []);
    assert.equal(target.seen.length, 1);
  });

  it('takes the proxy from HTTP_PROXY and NO_PROXY when no proxy option is given', async () => {
    const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
    const saved = names.map((n) => process.env[n]);
    cleanups.push(() => names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i]))));
    for (const n of names) delete process.env[n];

    const target = await serve(answer(200, 'ok'));
    const proxy = await connectProxy();
    process.env.HTTP_PROXY = proxy.url;
    assert.equal((await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000 })).kind, 'ok');
    assert.deepEqual(proxy.seen, [`CONNECT 127.0.0.1:${target.port}`]);

    process.env.NO_PROXY = `127.0.0.1:${target.port}`;
    assert.equal((await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000 })).kind, 'ok');
    assert.equal(proxy.seen.length, 1);
    assert.equal(target.seen.length, 2);
  });

  it('reports a proxy answering 407 as permanent, with no request reaching the target', async () => {
    const target = await serve(answer(200, 'ok'));
    const proxy = await connectProxy('Basic nobody');
    const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: { url: proxy.url } });
    assert.deepEqual(result, { kind: 'permanent', error: 'proxy refused CONNECT: 407 Proxy Authentication Required' });
    assert.equal(target.seen.length, 0);
  });

  it('sends the proxy URL credentials as Basic auth, decoded, and never shows them', async () => {
    const expected = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    const target = await serve(answer(200, 'ok'));
    const proxy = await connectProxy(expected);
    const url = `http://user:p%40ss@127.0.0.1:${proxy.port}`;
    assert.equal((await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: { url } })).kind, 'ok');
    assert.deepEqual(proxy.auth, [expected]);

    const wrong = `http://user:p%40ssX@127.0.0.1:${proxy.port}`;
    const refused = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: { url: wrong } });
    assert.equal(refused.error, 'proxy refused CONNECT: 407 Proxy Authentication Required');
    assertNoSecret(refused);
  });

  it('reports a proxy answering 502 (target down) as transient', async () => {
    const proxy = await connectProxy();
    const port = await closedPort();
    const result = await postJson(slackService, `http://127.0.0.1:${port}${SLACK_PATH}`, SLACK_BODY, {
      timeoutMs: 2000,
      proxy: { url: proxy.url },
    });
    assert.deepEqual(result, { kind: 'transient', error: 'proxy refused CONNECT: 502 Bad Gateway' });
  });

  it('leaves name resolution to the proxy, and reports its 403 as permanent', async () => {
    const proxy = await connectProxy();
    const result = await postJson(slackService, `https://hooks.slack.test${SLACK_PATH}`, SLACK_BODY, {
      timeoutMs: 2000,
      proxy: { url: proxy.url },
    });
    assert.deepEqual(result, { kind: 'permanent', error: 'proxy refused CONNECT: 403 Forbidden' });
    assert.deepEqual(proxy.seen, ['CONNECT hooks.slack.test:443']);
  });

  it('reports an unreachable proxy as transient, naming the proxy', async () => {
    const target = await serve(answer(200, 'ok'));
    const port = await closedPort();
    const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, {
      timeoutMs: 2000,
      proxy: { url: `127.0.0.1:${port}` },
    });
    assert.deepEqual(result, { kind: 'transient', error: `proxy 127.0.0.1:${port}: connection refused (ECONNREFUSED)` });
  });

  it('times out a proxy that never answers CONNECT, and closes the connection to it', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket.resume()));
    const port = await listen(silent);
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const target = await serve(answer(200, 'ok'));
    const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, {
      timeoutMs: 200,
      proxy: { url: `http://127.0.0.1:${port}` },
    });
    assert.deepEqual(result, { kind: 'transient', error: 'timeout after 200 ms' });
    await closed(sockets[0]);
  });

  it('refuses an https:// proxy URL as unsupported', async () => {
    const result = await postJson(slackService, `http://127.0.0.1:9${SLACK_PATH}`, SLACK_BODY, {
      timeoutMs: 1000,
      proxy: { url: 'https://127.0.0.1:3128' },
    });
    assert.deepEqual(result, { kind: 'permanent', error: 'unsupported proxy scheme https: (only http:// proxies)' });
  });

  describe('to an https target (self-signed certificate made with openssl)', () => {
    let dir: string;
    let key: string;
    let cert: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-sender-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
      cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const send = (service: Service, target: Stub, proxyUrl: string, ca?: string) =>
      postJson(SERVICE[service], target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: { url: proxyUrl }, ca });

    it('runs TLS inside the CONNECT tunnel and delivers', async () => {
      const target = await serve(answer(200, 'ok'), https.createServer({ key, cert }));
      const proxy = await connectProxy();
      assert.deepEqual(await send('slack', target, proxy.url, cert), { kind: 'ok', status: 200, body: 'ok' });
      assert.deepEqual(proxy.seen, [`CONNECT 127.0.0.1:${target.port}`]);
      assert.equal(target.seen[0].url, SLACK_PATH);
    });

    it('still verifies the certificate through the tunnel', async () => {
      const target = await serve(answer(200, 'ok'), https.createServer({ key, cert }));
      const proxy = await connectProxy();
      assert.deepEqual(await send('slack', target, proxy.url), { kind: 'transient', error: 'TLS error (DEPTH_ZERO_SELF_SIGNED_CERT)' });
      assert.equal(target.seen.length, 0);
    });

    it('delivers directly too, trusting the given CA', async () => {
      const target = await serve(answer(200, 'ok'), https.createServer({ key, cert }));
      const result = await postJson(slackService, target.base + SLACK_PATH, SLACK_BODY, { timeoutMs: 2000, proxy: null, ca: cert });
      assert.deepEqual(result, { kind: 'ok', status: 200, body: 'ok' });
    });
  });
});

// ---- proxy selection (pure) ----

describe('proxy settings from the environment', () => {
  it('prefers https_proxy, then HTTPS_PROXY, then the http ones, for an https target', () => {
    const env = { https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', http_proxy: 'http://c:3', no_proxy: 'x, .y' };
    assert.deepEqual(proxyFromEnv('https:', env), { url: 'http://a:1', noProxy: ['x', '.y'] });
    assert.deepEqual(proxyFromEnv('https:', { HTTPS_PROXY: 'http://b:2', http_proxy: 'http://c:3' }), { url: 'http://b:2', noProxy: [] });
    assert.deepEqual(proxyFromEnv('https:', { HTTP_PROXY: 'http://d:4', NO_PROXY: 'z' }), { url: 'http://d:4', noProxy: ['z'] });
  });

  it('uses only the http variables for an http target, and treats empty values as unset', () => {
    assert.equal(proxyFromEnv('http:', { https_proxy: 'http://a:1' }), null);
    assert.deepEqual(proxyFromEnv('http:', { http_proxy: ' ', HTTP_PROXY: 'http://b:2' }), { url: 'http://b:2', noProxy: [] });
    assert.equal(proxyFromEnv('http:', {}), null);
  });

  it('splits NO_PROXY on commas and white space', () => {
    assert.deepEqual(parseNoProxy(' localhost, .Example.com,,example.org:8443 [::1]\t10.0.0.1 '), [
      'localhost',
      '.Example.com',
      'example.org:8443',
      '[::1]',
      '10.0.0.1',
    ]);
  });

  it('matches NO_PROXY entries as hosts, domain suffixes, IPs and ports', () => {
    const bypass = (url: string, ...entries: string[]) => bypassesProxy(new URL(url), entries);
    assert.equal(bypass('https://hooks.slack.com/x', '*'), true);
    assert.equal(bypass('https://example.com/', 'example.com'), true);
    assert.equal(bypass('https://a.b.example.com/', 'example.com'), true);
    assert.equal(bypass('https://a.example.com/', '.example.com'), true);
    assert.equal(bypass('https://example.com/', '.Example.COM'), true);
    assert.equal(bypass('https://a.example.com/', '*.example.com'), true);
    assert.equal(bypass('https://badexample.com/', 'example.com'), false);
    assert.equal(bypass('https://example.com/', 'example.com:443'), true);
    assert.equal(bypass('https://example.com:8443/', 'example.com:443'), false);
    assert.equal(bypass('http://example.com/', 'example.com:80'), true);
    assert.equal(bypass('http://10.0.0.1/', '10.0.0.1'), true);
    assert.equal(bypass('http://110.0.0.1/', '10.0.0.1'), false);
    assert.equal(bypass('http://[::1]:8080/', '::1'), true);
    assert.equal(bypass('http://[::1]:8080/', '[::1]:8080'), true);
    assert.equal(bypass('http://[::1]:8080/', '[::1]:9090'), false);
    assert.equal(bypass('https://hooks.slack.com/', 'localhost', '127.0.0.1'), false);
  });
});

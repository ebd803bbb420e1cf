/**
 * npm run bench:delivery — delivery under a storm, against a local stand-in for Slack that
 * enforces 1 post per second with a burst of 3 (answering 429 + Retry-After: 1 beyond it),
 * as Slack's incoming webhooks do. Compares the product's queue (pacing, Retry-After,
 * digests, outbox) with a naive one-post-per-alert sender, in the same run. Then measures
 * memory while 200,000 alerts wait for a webhook that is down.
 * Prints a table and one `BENCH name=value` line per figure.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { slack as slackService } from '../src/services';
import { postJson } from '../src/delivery/sender';
import { slackDigest } from '../src/services/slack/digest';
import { buildSlackMessage } from '../src/services/slack/message';
import { Endpoint, type Parcel } from '../src/delivery/endpoint';

const STORM = Number(process.env.STORM ?? 5000);
const WAITING = Number(process.env.WAITING ?? 200000);

interface SlackStandIn {
  url: string;
  posts: number;
  refused: number;
  represented: number;
  close(): Promise<void>;
}

/** 1 post/s, burst 3, like Slack; counts the alerts each accepted post represents. */
async function slackStandIn(): Promise<SlackStandIn> {
  let tokens = 3;
  let last = Date.now();
  const state = { posts: 0, refused: 0, represented: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      tokens = Math.min(3, tokens + (now - last) / 1000);
      last = now;
      if (tokens < 1) {
        state.refused++;
        res.writeHead(429, { 'Retry-After': '1' }).end('rate_limited');
        return;
      }
      tokens -= 1;
      state.posts++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: string };
      const digest = /^Armor digest: (\d+) alerts?/.exec(body.text ?? '');
      state.represented += digest ? Number(digest[1]) : 1;
      res.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/BENCHSECRET`,
    get posts() {
      return state.posts;
    },
    get refused() {
      return state.refused;
    },
    get represented() {
      return state.represented;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

function alert(i: number): Record<string, unknown> {
  return {
    timestamp: new Date().toISOString(),
    rule: {
      level: 5 + (i % 8),
      description: `sshd: authentication failed (${i})`,
      id: String(5700 + (i % 20)),
      groups: ['syslog', 'sshd', 'authentication_failed'],
    },
    agent: { id: String(1 + (i % 30)).padStart(3, '0'), name: `web-${i % 30}`, ip: `10.0.0.${i % 250}` },
    manager: { name: 'armor-manager' },
    id: `${Math.floor(Date.now() / 1000)}.${i}`,
    full_log: `Nov 28 10:00:00 web sshd[${1000 + i}]: Failed password for invalid user admin from 192.0.2.${i % 250} port ${30000 + i} ssh2`,
    location: '/var/log/auth.log',
  };
}

function parcel(i: number): Parcel {
  return { node: 'bench', retries: 3, queuedAt: Date.now(), timeout: 10, msg: { payload: alert(i) } };
}

function peakRss(): { peak: () => number; stop: () => void } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { peak: () => Math.max(peak, process.memoryUsage().rss), stop: () => clearInterval(t) };
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);

async function ours(): Promise<Record<string, number>> {
  const slack = await slackStandIn();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-bench-'));
  const mem = peakRss();
  const rss0 = process.memoryUsage().rss;
  const started = Date.now();
  const endpoint = new Endpoint({
    service: {
      ...slackService,
      message: (p) => buildSlackMessage(p.msg.payload),
      digest: (ps) => slackDigest(ps.map((p) => p.msg.payload)),
    },
    dir,
    policy: slackService.policy,
    limits: { maxEntries: 1_000_000 },
    target: () => ({ url: slack.url }),
    log: { warn: () => undefined, error: (t) => console.error(t) },
  });
  let settled = 0;
  let failed = 0;
  endpoint.on('delivered:bench', () => settled++);
  endpoint.on('failed:bench', () => (settled++, failed++));
  for (let i = 0; i < STORM; i++) {
    const reason = endpoint.accept(parcel(i));
    if (reason) throw new Error(reason.reason);
  }
  while (settled < STORM && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 20));
  const wall = Date.now() - started;
  const peak = mem.peak();
  mem.stop();
  endpoint.close();
  await slack.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    represented: slack.represented,
    posts: slack.posts,
    refused429: slack.refused,
    failed,
    wallMs: wall,
    peakRssGrowthMB: Number(mb(peak - rss0)),
  };
}

async function naive(): Promise<Record<string, number>> {
  const slack = await slackStandIn();
  const mem = peakRss();
  const rss0 = process.memoryUsage().rss;
  const started = Date.now();
  // one post per alert as it arrives, as the manager's daemon does (a process per alert)
  const results = await Promise.all(
    Array.from({ length: STORM }, (_, i) =>
      postJson(slackService, slack.url, buildSlackMessage(alert(i)), { timeoutMs: 10000, proxy: null }),
    ),
  );
  const wall = Date.now() - started;
  const peak = mem.peak();
  mem.stop();
  await slack.close();
  return {
    represented: slack.represented,
    posts: slack.posts,
    refused429: slack.refused,
    failed: results.filter((r) => r.kind !== 'ok').length,
    wallMs: wall,
    peakRssGrowthMB: Number(mb(peak - rss0)),
  };
}

/** RSS and heap while WAITING alerts wait in the outbox for a webhook that refuses connections. */
async function waiting(): Promise<Record<string, number>> {
  const closed = net.createServer();
  closed.listen(0, '127.0.0.1');
  await new Promise((r) => closed.once('listening', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r)); // nothing listens there now: connection refused
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-bench-down-'));
  global.gc?.();
  const before = process.memoryUsage();
  const started = Date.now();
  const endpoint = new Endpoint({
    service: {
      ...slackService,
      message: (p) => buildSlackMessage(p.msg.payload),
      digest: (ps) => slackDigest(ps.map((p) => p.msg.payload)),
    },
    dir,
    policy: slackService.policy,
    limits: { maxEntries: WAITING + 1, maxBytes: 2 * 1024 * 1024 * 1024 },
    target: () => ({ url: `http://127.0.0.1:${port}/services/T000/B000/DOWN` }),
    log: { warn: () => undefined, error: () => undefined },
  });
  const mem = peakRss();
  for (let i = 0; i < WAITING; i++) {
    const reason = endpoint.accept(parcel(i));
    if (reason) throw new Error(`alert ${i}: ${reason.reason}`);
    if (i % 10000 === 0) await new Promise((r) => setImmediate(r));
  }
  const acceptMs = Date.now() - started;
  await new Promise((r) => setTimeout(r, 3000)); // a few delivery attempts against the dead webhook
  global.gc?.();
  const after = process.memoryUsage();
  const peak = mem.peak();
  mem.stop();
  const pending = endpoint.pending;
  const disk = fs.statSync(path.join(dir, 'journal.jsonl')).size;
  endpoint.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    waiting: pending,
    acceptPerSec: Math.round(WAITING / (acceptMs / 1000)),
    rssGrowthMB: Number(mb(after.rss - before.rss)),
    heapGrowthMB: Number(mb(after.heapUsed - before.heapUsed)),
    peakRssGrowthMB: Number(mb(peak - before.rss)),
    journalMB: Number(mb(disk)),
  };
}

async function main(): Promise<void> {
  // memory first, in a process nothing else has grown yet
  console.log(`${WAITING} alerts waiting for a webhook that is down (connection refused):\n`);
  const c = await waiting();
  for (const [k, v] of Object.entries(c)) console.log(`${k.padEnd(18)} ${String(v).padStart(10)}`);
  console.log(`\nStorm of ${STORM} matching alerts against a Slack stand-in enforcing 1 post/s, burst 3 (429 + Retry-After beyond)\n`);
  const a = await ours();
  const b = await naive();
  const rows = Object.keys(a);
  console.log(`${'figure'.padEnd(18)} ${'armor (queue)'.padStart(14)} ${'naive'.padStart(10)}`);
  for (const k of rows) console.log(`${k.padEnd(18)} ${String(a[k]).padStart(14)} ${String(b[k]).padStart(10)}`);
  console.log('');
  for (const [k, v] of Object.entries(c)) console.log(`BENCH down_${k}=${v}`);
  for (const k of rows) console.log(`BENCH delivery_${k}=${a[k]}`);
  for (const k of rows) console.log(`BENCH naive_${k}=${b[k]}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { endpointKey } from '../../../src/delivery/shared/keys';
import { redisClient } from '../../../src/delivery/shared/client';
import { SharedEndpoint, type SharedParcel, type SpoolEvent } from '../../../src/delivery/shared/endpoint';
import type { StreamClient } from '../../../src/delivery/shared/stream-outbox';
import type { Parcel } from '../../../src/delivery/endpoint';
import type { QueuePolicy } from '../../../src/delivery/queue';
import { Outbox } from '../../../src/delivery/outbox';
import { slack } from '../../../src/services/slack';
import { startRedis, type RedisServer } from '../../lib/redis-server';
import { answer, startStub, type Stub } from '../../lib/stub-server';
import { alertsIn, tallyDeliveries, stormAlert } from '../../lib/storm';

const NODE = 'd1';

function parcel(n: number): Parcel {
  return { node: NODE, retries: 5, queuedAt: Date.now(), timeout: 5, msg: { payload: stormAlert(n) } };
}

async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a shared endpoint while Redis is unreachable: the local journal (spool)', function () {
  this.timeout(20_000);
  let server: RedisServer | undefined;
  let stub: Stub | undefined;
  let clients: StreamClient[] = [];
  let endpoints: SharedEndpoint[] = [];
  let tmp: string | undefined;

  afterEach(async () => {
    await Promise.all(endpoints.map((e) => e.close()));
    for (const c of clients) c.destroy();
    await stub?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    server = stub = tmp = undefined;
    clients = [];
    endpoints = [];
  });

  async function instance(instanceId: string, url: string, policy: QueuePolicy, spoolDir: string) {
    const client = redisClient({ url: server!.url, connectTimeoutMs: 1000 }) as unknown as StreamClient;
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    const warnings: string[] = [];
    const endpoint = new SharedEndpoint({
      service: slack,
      client,
      endpoint: endpointKey('armor:', slack.id, url),
      instance: instanceId,
      policy,
      limits: { maxEntries: 10_000 },
      target: () => ({ url }),
      log: { warn: (t) => warnings.push(t), error: (t) => warnings.push(t) },
      lease: { ttlMs: 1500 },
      spoolDir,
      spoolRetryMs: 500,
    });
    endpoints.push(endpoint);
    const delivered: number[] = [];
    const spools: Array<SpoolEvent & { at: number }> = [];
    endpoint.on(`delivered:${NODE}`, (p: SharedParcel) =>
      delivered.push(Number(String((p.msg.payload as { id: string }).id).split('.')[1])),
    );
    endpoint.on('spool', (e: SpoolEvent) => spools.push({ ...e, at: Date.now() }));
    await endpoint.ready;
    return { endpoint, delivered, spools, warnings, spoolDir };
  }

  it('Redis stopped for 3 s while two instances accept at 40/s: every alert accepted, spooled, moved in order, posted once', async () => {
    server = await startRedis();
    stub = await startStub(answer(200, 'ok'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-spool-'));
    const url = `${stub.base}/services/T000/B000/SPOOLSECRET01`;
    // one post per alert, fast: the order of the posts is the order of the Stream
    const fast: QueuePolicy = { ...slack.policy, ratePerSec: 40, burst: 3, digestAbove: Infinity, digestMax: 1 };
    const a = await instance('host-a:9', url, fast, path.join(tmp, 'a'));
    const b = await instance('host-b:9', url, fast, path.join(tmp, 'b'));
    const byInstance = new Map<number, 'a' | 'b'>();
    const numbers = () => stub!.seen.flatMap((s) => alertsIn(JSON.parse(s.body) as Record<string, unknown>));

    let n = 0;
    const acceptNext = async () => {
      n++;
      const which = n % 2 === 1 ? 'a' : 'b';
      byInstance.set(n, which);
      assert.equal(await (which === 'a' ? a : b).endpoint.accept(parcel(n)), undefined, `alert ${n} accepted`);
      await sleep(25);
    };
    // 20 alerts while Redis is up, all delivered and marked done (their outcomes come after the
    // done): no post, done or add in flight when Redis stops, each of which could be repeated
    // once (at least once), so that here every alert is posted exactly once
    while (n < 20) await acceptNext();
    await until('the first 20 delivered', () => a.delivered.length + b.delivered.length === 20);
    // Redis stopped for 3 s; accepting goes on at 40/s, and for 1 s after it is back
    await server.stop();
    const downAt = Date.now();
    let back: number | undefined;
    const outage = (async () => {
      await sleep(3000);
      await server.start();
      back = Date.now();
    })();
    while (back === undefined || Date.now() < back + 1000) await acceptNext();
    await outage;
    const total = n;
    const maxSpooled = Math.max(...[...a.spools, ...b.spools].map((e) => e.spooled));
    assert.ok(maxSpooled > 0, 'alerts were kept in the local journal');

    await until('every alert posted', () => new Set(numbers()).size === total, 15_000);
    await until('both journals empty', () => a.endpoint.spooled === 0 && b.endpoint.spooled === 0);
    const drained = Date.now() - back;
    const emptied = Math.max(...[a, b].map((i) => i.spools[i.spools.length - 1].at)) - back;
    assert.deepEqual(
      tallyDeliveries(numbers(), total),
      { missing: [], twice: [] },
      JSON.stringify({ a: a.endpoint.stats, b: b.endpoint.stats, wa: a.warnings, wb: b.warnings, back }),
    );
    assert.equal(numbers().length, total, 'each alert posted once');
    // per instance, the posts follow the accept order
    for (const which of ['a', 'b'] as const) {
      const mine = numbers().filter((x) => byInstance.get(x) === which);
      assert.deepEqual(
        mine,
        [...mine].sort((x, y) => x - y),
        `instance ${which}'s alerts posted in accept order`,
      );
    }
    for (const i of [a, b]) {
      assert.equal(i.spools[i.spools.length - 1].spooled, 0, 'the last spool event says 0');
      assert.equal(i.spools[i.spools.length - 1].reason, undefined);
      assert.ok(
        i.warnings.every((w) => !w.includes('SPOOLSECRET01')),
        'no secret in the logs',
      );
    }
    // (outcomes are not counted: pub/sub is at most once, one published while an instance
    // resubscribes after the restart is not heard by it)

    // the journals end empty (reopened after the endpoints closed), and hold no secret
    await Promise.all([a.endpoint.close(), b.endpoint.close()]);
    for (const i of [a, b]) {
      const journal = fs.readFileSync(path.join(i.spoolDir, 'journal.jsonl'), 'utf8');
      assert.ok(!journal.includes('SPOOLSECRET01'));
      const reopened = Outbox.open(i.spoolDir);
      assert.equal(reopened.size.entries, 0, 'the local journal ends empty');
      reopened.close();
    }
    console.log(
      `      ${total} alerts, Redis down ${back - downAt} ms; spooled at most ${maxSpooled} (a ${Math.max(...a.spools.map((e) => e.spooled))}, b ${Math.max(...b.spools.map((e) => e.spooled))}); journals empty ${emptied} ms and all posted ${drained} ms after Redis was back`,
    );
  });
  it('alerts left in the local journal by a previous run are moved to Redis at the next start, in order, posted once', async () => {
    server = await startRedis();
    stub = await startStub(answer(200, 'ok'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-spool-'));
    const url = `${stub.base}/services/T000/B000/SPOOLSECRET02`;
    const dir = path.join(tmp, 'a');
    // what a process that stopped while Redis was away left behind
    const left = Outbox.open<SharedParcel>(dir);
    for (let n = 1; n <= 30; n++) left.add({ ...parcel(n), instance: 'host-a:8' });
    left.close();
    const fast: QueuePolicy = { ...slack.policy, ratePerSec: 40, burst: 3, digestAbove: Infinity, digestMax: 1 };
    const a = await instance('host-a:8', url, fast, dir);
    // accepted after the start: behind the 30 of the previous run
    for (let n = 31; n <= 40; n++) assert.equal(await a.endpoint.accept(parcel(n)), undefined);
    const numbers = () => stub!.seen.flatMap((s) => alertsIn(JSON.parse(s.body) as Record<string, unknown>));
    await until('every alert posted', () => numbers().length >= 40);
    await until('the journal empty', () => a.endpoint.spooled === 0);
    assert.deepEqual(
      numbers(),
      Array.from({ length: 40 }, (_, k) => k + 1),
    );
    assert.ok(a.warnings.some((w) => w.includes('from a previous run')));
    await a.endpoint.close();
    const reopened = Outbox.open(dir);
    assert.equal(reopened.size.entries, 0);
    reopened.close();
  });
});

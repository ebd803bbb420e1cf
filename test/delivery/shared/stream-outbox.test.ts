import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { endpointKey, streamKey } from '../../../src/delivery/shared/keys';
import {
  StreamOutbox,
  StreamOutboxError,
  compareIds,
  type StreamClient,
  type StreamEntry,
  type StreamOutboxOptions,
} from '../../../src/delivery/shared/stream-outbox';
import { startRedis, type RedisServer } from '../../lib/redis-server';

const SECRET = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';
const KEY = streamKey(endpointKey('armor:', 'slack', SECRET));

interface Alert {
  n: number;
  from?: string;
  text?: string;
}

describe('the shared outbox on a Redis Stream (StreamOutbox)', () => {
  let servers: RedisServer[] = [];
  let clients: StreamClient[] = [];
  let outboxes: StreamOutbox<Alert>[] = [];

  afterEach(async () => {
    for (const o of outboxes) o.close();
    for (const c of clients) c.destroy();
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
    clients = [];
    outboxes = [];
  });

  async function redis(): Promise<RedisServer> {
    const server = await startRedis();
    servers.push(server);
    return server;
  }

  /** One instance's client: commands fail at once while it reconnects (no offline queue), reconnects every 50 ms. */
  async function connect(server: RedisServer): Promise<StreamClient> {
    const client: StreamClient = createClient({
      url: server.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1000, reconnectStrategy: () => 50 },
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  }

  async function outbox(client: StreamClient, consumer: string, options: Partial<StreamOutboxOptions> = {}): Promise<StreamOutbox<Alert>> {
    const o = new StreamOutbox<Alert>(client, KEY, { consumer, maxEntries: 100_000, forbid: [SECRET], ...options });
    outboxes.push(o);
    await o.init();
    return o;
  }

  /** Takes everything there is, `batch` at a time, never the same pending entry twice. */
  async function drain(o: StreamOutbox<Alert>, batch: number): Promise<StreamEntry<Alert>[]> {
    const all: StreamEntry<Alert>[] = [];
    for (;;) {
      const got = await o.take(batch, 0, all.length > 0 ? all[all.length - 1].id : '0');
      if (got.length === 0) return all;
      all.push(...got);
    }
  }

  async function until<R>(what: string, probe: () => Promise<R | undefined>, ms = 5000): Promise<R> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await probe();
      if (r !== undefined) return r;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  function idOf(r: { id: string } | { full: true; reason: string }): string {
    assert.ok('id' in r, `refused: ${'reason' in r ? r.reason : ''}`);
    return r.id;
  }

  it('two instances add interleaved, one sender takes every entry once in stream order, and done empties the Stream', async () => {
    const server = await redis();
    const a = await outbox(await connect(server), 'a');
    const b = await outbox(await connect(server), 'b');
    const added = new Map<string, Alert>();
    const one = async (o: StreamOutbox<Alert>, from: string) => {
      for (let n = 0; n < 60; n++) {
        const data = { n, from };
        added.set(idOf(await o.add(data)), data);
      }
    };
    await Promise.all([one(a, 'a'), one(b, 'b')]);
    assert.equal(added.size, 120);

    const taken = await drain(a, 7);
    const expected = [...added.keys()].sort(compareIds);
    assert.deepEqual(
      taken.map((e) => e.id),
      expected,
    );
    for (const e of taken) assert.deepEqual(e.data, added.get(e.id));
    // each instance's own adds keep their order
    for (const from of ['a', 'b']) {
      const ns = taken.filter((e) => e.data.from === from).map((e) => e.data.n);
      assert.deepEqual(ns, [...Array(60).keys()]);
    }
    assert.equal(await a.pending(), 120);
    assert.deepEqual(await b.take(10), [], 'b has nothing pending and nothing new');

    assert.equal(await a.done(taken.map((e) => e.id)), 120);
    assert.equal(await a.done(taken.map((e) => e.id)), 0, 'done twice removes nothing more');
    assert.deepEqual(await a.size(), { entries: 0, bytes: 0 });
    assert.equal(await a.pending(), 0);
    assert.equal(await clients[0].xLen(KEY), 0);
    assert.deepEqual(await a.take(10), []);
  });

  it('takes its own pending entries first after they were taken and not done (the same consumer restarted)', async () => {
    const server = await redis();
    const a = await outbox(await connect(server), 'a');
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push(idOf(await a.add({ n })));
    assert.deepEqual(
      (await a.take(4)).map((e) => e.id),
      ids.slice(0, 4),
    );
    const again = await outbox(await connect(server), 'a'); // a new process of the same instance
    assert.deepEqual(
      (await again.take(10)).map((e) => e.id),
      ids,
      'the 4 pending, then the 2 new, in order',
    );
  });

  it('a sender that dies with 5 entries in flight: another instance claims exactly those 5 after minIdle and delivers them', async () => {
    const server = await redis();
    const clientA = await connect(server);
    const a = await outbox(clientA, 'a');
    const b = await outbox(await connect(server), 'b');
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) ids.push(idOf(await (n % 2 ? b : a).add({ n })));

    const inFlight = await a.take(5);
    assert.deepEqual(
      inFlight.map((e) => e.id),
      ids.slice(0, 5),
    );
    a.close();
    clientA.destroy(); // "dies": its connection goes, its pending entries stay in Redis

    assert.deepEqual(await b.claim(60_000, 100), [], 'not idle long enough yet');
    const claimed = await until('the claim', async () => {
      const got = await b.claim(300, 100);
      return got.length > 0 ? got : undefined;
    });
    assert.deepEqual(
      claimed.map((e) => e.id),
      ids.slice(0, 5),
    );
    assert.deepEqual(
      claimed.map((e) => e.data.n),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(await b.claim(0, 100), claimed, 'its own pending entries only: nothing else was in flight');
    assert.equal(await b.done(claimed.map((e) => e.id)), 5);

    const rest = await b.take(100);
    assert.deepEqual(
      rest.map((e) => e.id),
      ids.slice(5),
    );
    assert.equal(await b.done(rest.map((e) => e.id)), 3);
    assert.deepEqual(await b.size(), { entries: 0, bytes: 0 });
    assert.equal(await b.pending(), 0);
  });

  it('refuses data that contains a forbidden secret (as is or JSON-escaped) and writes nothing', async () => {
    const server = await redis();
    const client = await connect(server);
    const quoted = 'R0UTING"KEY\\X';
    const o = await outbox(client, 'a', { forbid: [SECRET, quoted] });
    await assert.rejects(o.add({ n: 1, text: `see ${SECRET}` }), (err: Error) => {
      assert.match(err.message, /refusing to store data that contains a secret/);
      assert.ok(!err.message.includes(SECRET));
      return true;
    });
    await assert.rejects(o.add({ n: 2, text: quoted }), /contains a secret/);
    assert.deepEqual(await o.size(), { entries: 0, bytes: 0 });
    assert.equal(await client.xLen(KEY), 0);
    const keys = await client.keys('*');
    assert.deepEqual(keys, [KEY], 'only the (empty) Stream, made by init()');
    assert.ok(!KEY.includes(SECRET) && !KEY.includes('hooks.slack.com'));
  });

  it('is full at maxEntries, also when the adds race in one pipeline, and takes entries again once some are done', async () => {
    const server = await redis();
    const o = await outbox(await connect(server), 'a', { maxEntries: 10 });
    const results = await Promise.all(Array.from({ length: 25 }, (_, n) => o.add({ n })));
    const ok = results.filter((r) => 'id' in r);
    const refused = results.filter((r) => 'full' in r);
    assert.equal(ok.length, 10);
    assert.equal(refused.length, 15);
    for (const r of refused) assert.deepEqual(r, { full: true, reason: 'outbox full: 10 entries, limit 10' });
    assert.equal((await o.size()).entries, 10);
    assert.ok('full' in (await o.add({ n: 99 })));
    const [first] = await o.take(1);
    assert.equal(await o.done([first.id]), 1);
    assert.ok('id' in (await o.add({ n: 100 })));
  });

  it('is full at maxBytes (the bytes of the JSON) and counts the bytes back on done', async () => {
    const server = await redis();
    const o = await outbox(await connect(server), 'a', { maxBytes: 100 });
    const data = { n: 1, text: 'x'.repeat(30) }; // 42 bytes of JSON
    const size = Buffer.byteLength(JSON.stringify(data));
    const first = idOf(await o.add(data));
    idOf(await o.add(data));
    assert.deepEqual(await o.add(data), {
      full: true,
      reason: `outbox full: ${2 * size} + ${size} bytes would exceed the limit of 100 bytes`,
    });
    const big = { n: 2, text: 'y'.repeat(200) };
    assert.deepEqual(await o.add(big), {
      full: true,
      reason: `outbox full: an entry of ${JSON.stringify(big).length} bytes exceeds the limit of 100 bytes`,
    });
    assert.deepEqual(await o.size(), { entries: 2, bytes: 2 * size });
    await o.take(1);
    assert.equal(await o.done([first]), 1);
    assert.deepEqual(await o.size(), { entries: 1, bytes: size });
    assert.ok('id' in (await o.add(data)));
  });

  it('keeps the entries, the pending ones and the group across a Redis restart (AOF)', async () => {
    const server = await redis();
    const client = await connect(server);
    const o = await outbox(client, 'a');
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(idOf(await o.add({ n })));
    assert.equal((await o.take(5)).length, 5);

    await server.stop();
    await server.start();
    await until('the client to reconnect', async () => (client.isReady ? true : undefined));

    const bytes = Array.from({ length: 20 }, (_, n) => JSON.stringify({ n }).length).reduce((x, y) => x + y);
    assert.deepEqual(await o.size(), { entries: 20, bytes });
    assert.equal(await o.pending(), 5, 'the group and its pending entries are back');
    const groups = await client.xInfoGroups(KEY);
    assert.equal(groups.length, 1);
    // the scripts are gone with the restart: add and done load them again
    const later = idOf(await o.add({ n: 20 }));
    const all = await drain(o, 50);
    assert.deepEqual(
      all.map((e) => e.id),
      [...ids, later],
    );
    assert.equal(await o.done(all.map((e) => e.id)), 21);
    assert.deepEqual(await o.size(), { entries: 0, bytes: 0 });
  });

  it('add while Redis is down rejects at once with a clear error (no offline queue), and works again once it is back', async () => {
    const server = await redis();
    const client = await connect(server);
    const o = await outbox(client, 'a');
    await server.stop();
    await until('the client to see Redis gone', async () => (client.isReady ? undefined : true));
    const started = Date.now();
    const outcome = await Promise.race([
      o.add({ n: 1 }).then(
        () => 'added',
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 3000)),
    ]);
    const elapsed = Date.now() - started;
    assert.ok(outcome instanceof StreamOutboxError, String(outcome));
    assert.match(outcome.message, /^shared outbox: Redis failed adding an entry: /);
    assert.equal(outcome.uncertain, false, 'it was never sent');
    assert.ok(elapsed < 1000, `rejected after ${elapsed} ms`);
    console.log(`      add with Redis down rejected after ${elapsed} ms: ${outcome.message}`);

    await server.start();
    await until('the client to reconnect', async () => (client.isReady ? true : undefined));
    assert.ok('id' in (await o.add({ n: 2 })));
    assert.deepEqual(
      (await o.take(10)).map((e) => e.data.n),
      [2],
    );
  });

  it('add to a Redis that stopped answering rejects after commandTimeoutMs, as a write that may have happened', async () => {
    const server = await redis();
    const o = await outbox(await connect(server), 'a', { commandTimeoutMs: 200 });
    assert.ok('id' in (await o.add({ n: 0 }))); // loads the script (EVALSHA answers at once then)
    const busy = await connect(server);
    // a script that keeps Redis busy for 1 to 2 s: commands wait unanswered meanwhile
    const spin = busy.eval("local t = redis.call('TIME')[1] + 0; while redis.call('TIME')[1] + 0 < t + 2 do end return 1", {});
    const started = Date.now();
    const err: unknown = await o.add({ n: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(err instanceof StreamOutboxError, String(err));
    assert.match(err.message, /^shared outbox: Redis failed adding an entry: Command timed out after 200ms/);
    assert.equal(err.uncertain, true);
    assert.ok(elapsed >= 190 && elapsed < 1500, `rejected after ${elapsed} ms`);
    assert.equal(await spin, 1);
    assert.equal((await o.size()).entries, 2, 'Redis ran it once it was free: hence "uncertain"');
  });

  it('take() with blockMs waits for an entry another instance adds, without holding up adds on its client', async () => {
    const server = await redis();
    const a = await outbox(await connect(server), 'a');
    const b = await outbox(await connect(server), 'b');
    const waiting = a.take(10, 5000);
    // a's client is free while its take blocks (the blocking read has a connection of its own)
    const own = idOf(await a.add({ n: 1, from: 'a' }));
    const got = await waiting;
    assert.deepEqual(
      got.map((e) => e.id),
      [own],
    );
    const other = idOf(await b.add({ n: 2, from: 'b' }));
    assert.deepEqual(
      (await a.take(10, 5000, own)).map((e) => e.id),
      [other],
    );
    const started = Date.now();
    assert.deepEqual(await a.take(10, 200, other), []);
    assert.ok(Date.now() - started >= 190, 'it blocked for blockMs');
  });

  it('drops an entry it cannot read (not written by it) and counts it', async () => {
    const server = await redis();
    const client = await connect(server);
    const o = await outbox(client, 'a');
    await client.xAdd(KEY, '*', { other: 'field' });
    await client.xAdd(KEY, '*', { d: '{not json' });
    const good = idOf(await o.add({ n: 1 }));
    assert.deepEqual(
      (await o.take(10)).map((e) => e.id),
      [good],
    );
    assert.equal(o.unreadable, 2);
    assert.equal(await client.xLen(KEY), 1);
    assert.equal(await o.pending(), 1);
  });

  it('with waitReplicas, add resolves once the replica holds the entry (WAIT), or says none did', async () => {
    const primary = await redis();
    const replica = await redis();
    const replicaClient = await connect(replica);
    const primaryClient = await connect(primary);
    await primaryClient.configSet('repl-diskless-sync-delay', '0'); // sync at once, not after 5 s
    await replicaClient.replicaOf('127.0.0.1', primary.port);
    await until('the replica to sync', async () =>
      (await replicaClient.info('replication')).includes('master_link_status:up') ? true : undefined,
    );
    const o = await outbox(primaryClient, 'a', { waitReplicas: 1, waitTimeoutMs: 2000 });
    const added = await o.add({ n: 1 });
    assert.ok('id' in added);
    assert.equal(added.replicas, 1);
    const onReplica = await replicaClient.xRange(KEY, '-', '+');
    assert.ok(onReplica, 'the replica has the stream');
    assert.deepEqual(
      onReplica.map((e) => e.id),
      [added.id],
    );

    const alone = await outbox(await connect(await redis()), 'a', { waitReplicas: 1, waitTimeoutMs: 100 });
    const started = Date.now();
    const unreplicated = await alone.add({ n: 2 });
    assert.ok('id' in unreplicated);
    assert.equal(unreplicated.replicas, 0, 'in the primary, acknowledged by no replica');
    assert.ok(Date.now() - started >= 90);
  });

  it('measures the add rate (10,000 pipelined adds) and Redis memory per waiting 1 KB alert', async function () {
    this.timeout(30_000);
    const server = await redis();
    const client = await connect(server);
    const o = await outbox(client, 'a');
    const alert = { n: 0, text: 'a'.repeat(1024 - 20) }; // about 1 KB of JSON
    const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    const before = await used();
    const total = 10_000;
    const batch = 1000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < total; i += batch) {
      const results = await Promise.all(Array.from({ length: batch }, (_, k) => o.add({ ...alert, n: i + k })));
      assert.ok(results.every((r) => 'id' in r));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = await used();
    const size = await o.size();
    assert.equal(size.entries, total);
    const rate = Math.round(total / seconds);
    const perEntry = Math.round((after - before) / total);
    const json = Math.round(size.bytes / total);
    console.log(`      add rate: ${rate} entries/s (${total} adds, Promise.all batches of ${batch}, one client)`);
    console.log(
      `      Redis memory per waiting entry: ${perEntry} bytes (used_memory +${after - before} for ${total} entries of ${json} bytes of JSON)`,
    );
  });
});

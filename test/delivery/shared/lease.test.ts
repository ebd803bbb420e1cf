import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { Lease, type LostReason } from '../../../src/delivery/shared/lease';
import { startRedis, type RedisServer } from '../../lib/redis-server';

const ROOT = path.resolve(__dirname, '../../..');
const KEY = 'armor:slack:0123abcd:lease';

const newClient = (url: string) => createClient({ url });
type Client = ReturnType<typeof newClient>;

/** Polls `condition` every 5 ms; rejects with `what` after `ms`. */
async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves right after the lease key's next renewal: its time to live falls below 80 %, then rises above 90 %. */
async function renewal(admin: Client, ttlMs: number): Promise<void> {
  await waitFor(async () => (await admin.pTTL(KEY)) < ttlMs * 0.8, ttlMs, 'the lease key to age');
  await waitFor(async () => (await admin.pTTL(KEY)) > ttlMs * 0.9, ttlMs, 'a renewal of the lease key');
}

/** The times (performance.now()) and payloads of a lease's events. */
function record(lease: Lease): { acquired: { at: number; token: number }[]; lost: { at: number; reason: LostReason }[] } {
  const events = { acquired: [] as { at: number; token: number }[], lost: [] as { at: number; reason: LostReason }[] };
  lease.on('acquired', (token: number) => events.acquired.push({ at: performance.now(), token }));
  lease.on('lost', (reason: LostReason) => events.lost.push({ at: performance.now(), reason }));
  return events;
}

describe('the shared sender lease (real redis-server)', () => {
  let server: RedisServer;
  let clients: Client[] = [];
  let leases: Lease[] = [];
  let child: ChildProcess | undefined;

  async function client(): Promise<Client> {
    const c = newClient(server.url);
    c.on('error', () => undefined);
    clients.push(c);
    await c.connect();
    return c;
  }

  async function lease(holder: string, options: { ttlMs?: number; renewEveryMs?: number } = {}): Promise<Lease> {
    const l = new Lease(await client(), KEY, { holder, ...options });
    leases.push(l);
    return l;
  }

  beforeEach(async () => {
    server = await startRedis();
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    await Promise.all(leases.map((l) => l.stop()));
    for (const c of clients) c.destroy();
    leases = [];
    clients = [];
    await server.close();
  });

  it('lets exactly one of two contenders hold the lease at every moment of 3 s, and keeps it with the first', async () => {
    const a = await lease('a', { ttlMs: 600, renewEveryMs: 200 });
    const b = await lease('b', { ttlMs: 600, renewEveryMs: 200 });
    const ea = record(a);
    const eb = record(b);
    const admin = await client();
    a.start();
    b.start();
    await waitFor(() => a.held || b.held, 1000, 'a holder');
    const end = performance.now() + 3000;
    let checks = 0;
    while (performance.now() < end) {
      const holders = [a, b].filter((l) => l.held);
      assert.equal(holders.length, 1, `holders at check ${checks}: ${holders.map((l) => l.holder)}`);
      if (checks % 20 === 0) assert.equal(await admin.get(KEY), holders[0].holder);
      checks++;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(checks > 150, `only ${checks} checks`);
    // 15 renewals went by: the first holder kept it, nobody lost it, nobody else took it
    assert.equal(ea.acquired.length + eb.acquired.length, 1);
    assert.deepEqual([ea.lost, eb.lost], [[], []]);
  });

  it('hands the lease to the other contender within one attempt interval once the holder stops', async () => {
    const a = await lease('a', { ttlMs: 3000, renewEveryMs: 1000 });
    const ea = record(a);
    a.start();
    await waitFor(() => a.held, 1000, 'a to hold');
    const b = await lease('b', { ttlMs: 3000, renewEveryMs: 1000 });
    const eb = record(b);
    b.start();
    const stoppedAt = performance.now();
    await a.stop();
    await waitFor(() => b.held, 1500, 'b to take over');
    const handover = eb.acquired[0].at - stoppedAt;
    console.log(`      handover after release: ${handover.toFixed(0)} ms (attempt every 1000 ms)`);
    assert.ok(handover <= 1000 + 200, `handover took ${handover} ms`);
    assert.deepEqual(
      ea.lost.map((e) => e.reason),
      ['stopped'],
    );
    assert.equal(a.held, false);
    assert.equal(await clients[clients.length - 1].get(KEY), 'b');
  });

  /** Starts a holder in a child process (its own Node, its own client); resolves once it holds. */
  async function holderProcess(ttlMs?: number): Promise<{ process: ChildProcess; output: () => string }> {
    const script = `
      const { createClient } = require('redis');
      const { Lease } = require('./src/delivery/shared/lease');
      const c = createClient({ url: process.env.URL });
      c.on('error', () => undefined);
      c.connect().then(() => {
        const ttlMs = process.env.TTL ? Number(process.env.TTL) : undefined;
        const l = new Lease(c, process.env.KEY, { holder: 'child:' + process.pid, ttlMs });
        l.on('acquired', (t) => console.log('acquired ' + t));
        l.on('lost', (reason) => console.log('lost ' + reason));
        l.start();
      });`;
    const started = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, URL: server.url, KEY, TTL: ttlMs === undefined ? '' : String(ttlMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let printed = '';
    started.stdout?.on('data', (d: Buffer) => (printed += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
    await waitFor(() => printed.includes('acquired 1'), 10_000, `the child to acquire (it printed: ${printed})`);
    return { process: started, output: () => printed };
  }

  it('takes over from a holder whose process was killed (SIGKILL, no release) once its key runs out', async () => {
    const started = (await holderProcess()).process;
    const b = await lease('b'); // defaults: ttl 5000 ms, attempts every 1666 ms
    const eb = record(b);
    b.start();
    const admin = await client();
    await waitFor(async () => (await admin.get(KEY)) === `child:${started.pid}`, 1000, 'the child to be the holder');
    // kill it right after one of its renewals, when its key has the longest to live: the worst case
    await renewal(admin, 5000);
    assert.equal(b.held, false);
    const exited = new Promise((r) => started.once('exit', r));
    started.kill('SIGKILL');
    const killedAt = performance.now();
    await exited;
    await waitFor(() => b.held, 5000 + 1666 + 500 + 500, 'b to take over');
    const takeover = eb.acquired[0].at - killedAt;
    console.log(`      takeover after SIGKILL of the holder: ${takeover.toFixed(0)} ms (ttl 5000, attempts every 1666)`);
    assert.ok(takeover <= 5000 + 1666 + 500, `takeover took ${takeover} ms`);
    assert.ok(takeover >= 5000 - 1666 - 100, `took over after ${takeover} ms, before the key could have run out`);
    assert.equal(b.token, 2);
    assert.equal(await admin.get(KEY), 'b');
  });

  it('a holder paused past its time to live (SIGSTOP) reports the lease lost on waking and leaves the new holder alone', async () => {
    const holder = await holderProcess(1000);
    const b = await lease('b', { ttlMs: 1000, renewEveryMs: 333 });
    const eb = record(b);
    b.start();
    holder.process.kill('SIGSTOP');
    await waitFor(() => b.held, 1000 + 333 + 500, 'b to take over from the paused holder');
    holder.process.kill('SIGCONT');
    await waitFor(() => holder.output().includes('lost expired'), 2000, `the woken holder to report it lost (${holder.output()})`);
    // a few of its attempts later, b still holds, the key is b's, and the child never held it again
    const admin = await client();
    for (let i = 0; i < 3; i++) await renewal(admin, 1000);
    assert.equal(await admin.get(KEY), 'b');
    assert.equal(b.held, true);
    assert.deepEqual(
      eb.lost.map((e) => e.reason),
      [],
    );
    assert.deepEqual(holder.output().trim().split('\n'), ['acquired 1', 'lost expired']);
  });

  it('never extends a lease that now bears another value: it reports it lost and leaves the key alone', async () => {
    const a = await lease('a', { ttlMs: 1500, renewEveryMs: 500 });
    const ea = record(a);
    const admin = await client();
    a.start();
    await waitFor(() => a.held, 1000, 'a to hold');
    await admin.set(KEY, 'intruder', { expiration: { type: 'PX', value: 10_000 } });
    const setAt = performance.now();
    await waitFor(() => ea.lost.length > 0, 500 + 200, 'a to see it lost');
    assert.deepEqual(
      ea.lost.map((e) => e.reason),
      ['taken'],
    );
    assert.equal(a.held, false);
    // two more attempts of a's (the only script caller) go by, then the key is still the intruder's
    const evals = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const before = await evals();
    await waitFor(async () => (await evals()) >= before + 2, 2000, 'two more attempts');
    assert.equal(await admin.get(KEY), 'intruder');
    const pttl = await admin.pTTL(KEY);
    const elapsed = performance.now() - setAt;
    assert.ok(pttl > 10_000 - elapsed - 100 && pttl <= 10_000, `pttl ${pttl} after ${elapsed} ms: extended or shortened`);
    assert.equal(ea.acquired.length, 1);
    // once the intruder's key is gone, a takes the lease again, with a new token
    await admin.del(KEY);
    await waitFor(() => a.held, 500 + 200, 'a to take it again');
    assert.deepEqual(
      ea.acquired.map((e) => e.token),
      [1, 2],
    );
  });

  it('reports the lease lost within its time to live when Redis stops, and someone holds it again after the restart', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const a = await lease('a', { ttlMs: 1000, renewEveryMs: 333 });
      const ea = record(a);
      a.start();
      await waitFor(() => a.held, 1000, 'a to hold');
      const b = await lease('b', { ttlMs: 1000, renewEveryMs: 333 });
      b.start();
      const stoppedAt = performance.now();
      await server.stop();
      await waitFor(() => !a.held && ea.lost.length === 1, 1000 + 100, 'a to report it lost');
      const lostAfter = ea.lost[0].at - stoppedAt;
      console.log(`      lost reported ${lostAfter.toFixed(0)} ms after Redis stopped (ttl 1000)`);
      assert.ok(lostAfter <= 1000 + 50, `lost after ${lostAfter} ms`);
      assert.deepEqual(
        ea.lost.map((e) => e.reason),
        ['expired'],
      );
      assert.equal(b.held, false);
      assert.ok(a.lastError, 'a keeps the error of its last attempt');
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + 2000 - performance.now())));
      await server.start();
      const restartedAt = performance.now();
      await waitFor(() => a.held || b.held, 6000, 'a holder after the restart');
      const holders = [a, b].filter((l) => l.held);
      assert.equal(holders.length, 1);
      console.log(`      held again by ${holders[0].holder} ${(performance.now() - restartedAt).toFixed(0)} ms after the restart`);
      assert.equal(await clients[clients.length - 1].get(KEY), holders[0].holder);
      assert.equal(holders[0].token, 2);
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('gives each new acquisition a larger fencing token', async () => {
    const admin = await client();
    const tokens: number[] = [];
    for (const holder of ['a', 'b', 'a']) {
      const l = await lease(holder, { ttlMs: 2000 });
      l.start();
      await waitFor(() => l.held, 1000, `${holder} to hold`);
      tokens.push(l.token);
      await l.stop();
      assert.equal(l.held, false);
      assert.equal(await admin.exists(KEY), 0, 'released');
    }
    assert.deepEqual(tokens, [1, 2, 3]);
    assert.equal(await admin.get(KEY + ':token'), '3');
  });

  it('stops at once and without an error when Redis is gone', async () => {
    const a = await lease('a', { ttlMs: 5000 });
    a.start();
    await waitFor(() => a.held, 1000, 'a to hold');
    await server.stop();
    const before = performance.now();
    await a.stop();
    const took = performance.now() - before;
    assert.ok(took <= 1000 + 100, `stop took ${took} ms`);
    assert.equal(a.held, false);
  });
});

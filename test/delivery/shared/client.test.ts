import assert from 'node:assert/strict';
import { describeRedis, reconnectDelay, redisClient, redisProblem, type RedisState } from '../../../src/delivery/shared/client';
import { startRedis, type RedisServer } from '../../lib/redis-server';

const PASSWORD = 'S3cr3t-redis-passw0rd';

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the shared Redis connection: settings, names, reconnection', () => {
  it('accepts redis:// and rediss:// URLs with a host and a numeric database, and says what is wrong otherwise', () => {
    assert.equal(redisProblem({}), undefined);
    assert.equal(redisProblem({ url: 'redis://10.0.0.5:6380/2' }), undefined);
    assert.equal(redisProblem({ url: 'rediss://cache.example.com' }), undefined);
    assert.match(redisProblem({ url: 'http://127.0.0.1:6379' })!, /must be redis:\/\/ or rediss:\/\/, not http:/);
    assert.match(redisProblem({ url: 'not a url' })!, /not a URL/);
    assert.match(redisProblem({ url: 'redis://127.0.0.1/x' })!, /database must be a number/);
    assert.match(redisProblem({ prefix: 'a b' })!, /prefix/);
    const withPassword = redisProblem({ url: `redis://user:${PASSWORD}@127.0.0.1:6379` })!;
    assert.match(withPassword, /put them in the node credentials/);
    assert.ok(!withPassword.includes(PASSWORD));
  });

  it('names a server by scheme, host, port and database, never its user info', () => {
    assert.equal(describeRedis('redis://127.0.0.1:6379/3'), 'redis://127.0.0.1:6379/3');
    assert.equal(describeRedis(`rediss://u:${PASSWORD}@cache.example.com:6380`), 'rediss://cache.example.com:6380');
    assert.equal(describeRedis(undefined), 'redis://127.0.0.1:6379');
  });

  it('waits 100 ms doubling to 5 s between reconnections, jittered over the upper half', () => {
    assert.equal(
      reconnectDelay(0, () => 0),
      50,
    );
    assert.equal(
      reconnectDelay(0, () => 0.999),
      100,
    );
    assert.equal(
      reconnectDelay(3, () => 0),
      400,
    );
    assert.equal(
      reconnectDelay(30, () => 0),
      2500,
    );
    assert.equal(
      reconnectDelay(30, () => 0.999),
      4998,
    );
  });

  describe('against a real redis-server', () => {
    let server: RedisServer | undefined;
    afterEach(async () => server?.close());

    it('connects with the password from the credentials, and a wrong one is refused without showing it', async () => {
      server = await startRedis({ password: PASSWORD });
      const good = redisClient({ url: server.url, password: PASSWORD });
      await good.connect();
      assert.equal(await good.ping(), 'PONG');
      good.destroy();
      const reasons: string[] = [];
      const bad = redisClient({ url: server.url, password: 'wrong-' + PASSWORD }, (state, reason) => {
        if (state === 'down' && reason) reasons.push(reason);
      });
      // node-redis keeps retrying a refused login: the refusal shows as `down` with the server's reason
      bad.connect().catch(() => undefined);
      await until(() => reasons.some((r) => /WRONGPASS|invalid username-password/i.test(r)), 'the refusal');
      bad.destroy();
      for (const r of reasons) assert.ok(!r.includes(PASSWORD), r);
    });

    it('fails commands at once while Redis is away, says so, and is ready again by itself when it is back', async () => {
      server = await startRedis();
      const states: Array<[RedisState, string | undefined]> = [];
      const client = redisClient({ url: server.url }, (state, reason) => states.push([state, reason]));
      await client.connect();
      await client.set('armor:k', 'v');
      await server.stop();
      await until(() => states.some(([s]) => s === 'down'), 'the client to see Redis go');
      const t0 = Date.now();
      await assert.rejects(client.get('armor:k'));
      assert.ok(Date.now() - t0 < 1000, `a command while Redis is away failed after ${Date.now() - t0} ms`);
      await server.start();
      await until(() => client.isReady, 'the client to reconnect', 15_000);
      assert.equal(await client.get('armor:k'), 'v', 'AOF kept the key across the restart');
      assert.equal(states[states.length - 1][0], 'ready');
      client.destroy();
    });
  });
});

import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { startRedis, type RedisServer } from '../../lib/redis-server';

describe('the test Redis (a real redis-server on a free loopback port)', () => {
  let server: RedisServer | undefined;
  afterEach(async () => server?.close());

  it('keeps what it was told across a restart (AOF) and answers again on the same port', async () => {
    server = await startRedis();
    const client = createClient({ url: server.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.set('armor:test', 'kept');
    await server.stop();
    await server.start();
    const again = createClient({ url: server.url });
    await again.connect();
    assert.equal(await again.get('armor:test'), 'kept');
    await again.quit();
    client.destroy();
  });
});

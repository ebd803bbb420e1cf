/**
 * One instance of a shared Slack endpoint in a process of its own, for tests that kill it
 * (`kill -9`): `node -r ts-node/register/transpile-only test/lib/shared-sender.ts <redis url>
 * <webhook url> <instance id> <policy JSON>`. Prints `holding` when it holds the lease and
 * `posts <n>` after each post it made. Accepts nothing itself: it only sends.
 */
import { redisClient } from '../../src/delivery/shared/client';
import { SharedEndpoint } from '../../src/delivery/shared/endpoint';
import { endpointKey } from '../../src/delivery/shared/keys';
import type { StreamClient } from '../../src/delivery/shared/stream-outbox';
import type { QueuePolicy } from '../../src/delivery/queue';
import { slack } from '../../src/services/slack';

async function main(): Promise<void> {
  const [redisUrl, url, instance, policy] = process.argv.slice(2);
  const client = redisClient({ url: redisUrl, connectTimeoutMs: 1000 }) as unknown as StreamClient;
  client.on('error', () => undefined);
  await client.connect();
  const endpoint = new SharedEndpoint({
    service: slack,
    client,
    endpoint: endpointKey('armor:', slack.id, url),
    instance,
    policy: JSON.parse(policy) as QueuePolicy,
    limits: { maxEntries: 10_000 },
    target: () => ({ url }),
    log: { warn: (t) => console.error(t), error: (t) => console.error(t) },
    lease: { ttlMs: 1500 },
  });
  let said = false;
  let posts = 0;
  endpoint.on('changed', () => {
    const s = endpoint.stats;
    if (s.sending && !said) console.log('holding');
    said ||= s.sending;
    if (s.posts !== posts) console.log(`posts ${(posts = s.posts)}`);
  });
  await endpoint.ready;
  console.log('ready');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

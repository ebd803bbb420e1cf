/**
 * armor-redis: the Redis (or Valkey) that several Node-RED instances share for delivery, as a
 * config node (issue 12). It owns one client (src/delivery/shared/client.ts), shared by every
 * armor-slack-webhook / armor-pagerduty-service whose `shared` names it: connected when the
 * node starts, closed when it closes (after the shared endpoints using it). A config node has
 * no status: its state goes to the log. The password, the ACL user name and the CA are Node-RED
 * credentials; none of them is ever in a log line or an error.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { describeRedis, redisClient, redisProblem, REDIS_DEFAULTS, type RedisState } from '../src/delivery/shared/client';
import type { ArmorRedisNode, RedisUser } from './lib/redis-node';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-redis';

interface RedisDef extends NodeDef {
  url?: string;
  prefix?: string;
}

export = (RED: NodeAPI) => {
  function ArmorRedisNode(this: ArmorRedisNode, given: RedisDef) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    const url = typeof def.url === 'string' && def.url.trim() !== '' ? def.url.trim() : REDIS_DEFAULTS.url;
    const prefix = typeof def.prefix === 'string' && def.prefix !== '' ? def.prefix : REDIS_DEFAULTS.prefix;
    const creds = this.credentials ?? {};
    const settings = {
      url,
      prefix,
      ...(creds.username ? { username: creds.username } : {}),
      ...(creds.password ? { password: creds.password } : {}),
      ...(creds.ca && creds.ca.trim() !== '' ? { ca: creds.ca } : {}),
    };
    this.prefix = prefix;
    this.where = describeRedis(url);
    const users = new Set<RedisUser>();
    this.attach = (user) => {
      users.add(user);
      return () => users.delete(user);
    };
    this.problem = redisProblem(settings);
    if (this.problem) {
      this.error(RED._('armor-redis.errors.settings', { reason: this.problem }));
    } else {
      const where = this.where;
      const client = redisClient(settings, (state: RedisState, reason?: string) => {
        if (state === 'ready') this.log(RED._('armor-redis.log.ready', { where }));
        else if (state === 'connecting') this.log(RED._('armor-redis.log.connecting', { where }));
        else this.warn(RED._('armor-redis.log.down', { where, reason: reason ?? '' }));
      });
      this.client = client;
      // a failure is told by the state callback; the client keeps trying by itself
      client.connect().catch(() => undefined);
      this.on('close', (_removed: boolean, done: () => void) => {
        const endpoints = [...users].map((u) => u.close().catch(() => undefined));
        users.clear();
        void Promise.race([Promise.all(endpoints), new Promise((r) => setTimeout(r, 3000))]).finally(() => {
          client.destroy();
          done();
        });
      });
    }
  }
  RED.nodes.registerType('armor-redis', ArmorRedisNode as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' }, ca: { type: 'text' } },
    settings: {
      ...versioned(RED, 'armor-redis', migrations),
      armorRedisDefaults: { value: { ...REDIS_DEFAULTS }, exportable: true },
    },
  });
};

/**
 * The connection to the Redis (or Valkey) that several Node-RED instances share for delivery
 * (issue "several instances"): which URLs are accepted, how the client reconnects, and how it
 * is named in statuses and logs. The password (and an ACL user name) come from Node-RED
 * credentials, never from the URL, and never appear in a message this module builds.
 *
 * The client never queues commands while Redis is away (`disableOfflineQueue`): a command then
 * fails at once, so that the caller can keep the alert in its local journal instead of waiting.
 * It reconnects by itself with a capped, jittered backoff (100 ms doubling to 5 s).
 */
import { createClient } from 'redis';
import { redact } from '../../secrets';

export const REDIS_DEFAULTS = { url: 'redis://127.0.0.1:6379', prefix: 'armor:' } as const;

export interface RedisSettings {
  /** `redis://host:port/db` or `rediss://` (TLS). Default REDIS_DEFAULTS.url. */
  url?: string;
  /** Prefix of every key. Default REDIS_DEFAULTS.prefix. */
  prefix?: string;
  /** Credentials (Node-RED password credentials). */
  username?: string;
  password?: string;
  /** A CA certificate (PEM) to trust for `rediss://`, besides the usual roots. */
  ca?: string;
  /** Milliseconds to wait for a connection; default 5000. */
  connectTimeoutMs?: number;
}

export type RedisState = 'connecting' | 'ready' | 'down';

/** Why the settings cannot be used, or undefined. Never quotes a secret. */
export function redisProblem(settings: RedisSettings): string | undefined {
  const url = (settings.url ?? REDIS_DEFAULTS.url).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'the Redis URL is not a URL (redis://host:port/db or rediss://)';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    return `the Redis URL must be redis:// or rediss://, not ${parsed.protocol}//`;
  if (!parsed.hostname) return 'the Redis URL has no host';
  if (parsed.username || parsed.password) return 'the Redis URL holds a user name or password: put them in the node credentials instead';
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return `the Redis database must be a number, not ${JSON.stringify(db.slice(0, 20))}`;
  const prefix = settings.prefix ?? REDIS_DEFAULTS.prefix;
  if (prefix === '' || /\s/.test(prefix)) return 'the key prefix must be non-empty, without white space';
  return undefined;
}

/** `redis://host:port/db` as statuses and logs name it (user info never shown). */
export function describeRedis(url: string | undefined): string {
  try {
    const u = new URL((url ?? REDIS_DEFAULTS.url).trim());
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(invalid Redis URL)';
  }
}

/** Reconnection delay after `retries` failed attempts: 100 ms doubling to 5 s, jittered over its upper half. */
export function reconnectDelay(retries: number, random: () => number = Math.random): number {
  const cap = Math.min(5000, 100 * 2 ** Math.min(16, retries));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * A node-redis client for `settings` (see redisProblem first), not yet connected. `onState` is
 * told of every change of state, with a reason in words for `down` (secrets masked).
 */
export function redisClient(settings: RedisSettings, onState?: (state: RedisState, reason?: string) => void) {
  const url = (settings.url ?? REDIS_DEFAULTS.url).trim();
  const secrets = [settings.password ?? '', settings.username ?? ''].filter((s) => s.length > 0);
  const tls = url.startsWith('rediss:');
  const client = createClient({
    url,
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    disableOfflineQueue: true,
    socket: {
      connectTimeout: settings.connectTimeoutMs ?? 5000,
      reconnectStrategy: (retries: number) => reconnectDelay(retries),
      ...(tls ? { tls: true as const, ...(settings.ca ? { ca: settings.ca } : {}) } : {}),
    },
  });
  let state: RedisState | undefined;
  const tell = (next: RedisState, reason?: string) => {
    if (next === state && next !== 'down') return;
    state = next;
    onState?.(next, reason === undefined ? undefined : redact(reason, secrets));
  };
  client.on('connect', () => tell('connecting'));
  client.on('ready', () => tell('ready'));
  client.on('reconnecting', () => tell('connecting'));
  client.on('end', () => tell('down', 'the connection was closed'));
  client.on('error', (err: unknown) => tell('down', errorText(err)));
  return client;
}

/** An error's message in words: its code when it has one (ECONNREFUSED...), else its message. */
function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

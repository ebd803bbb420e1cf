/** The armor-redis config node as the delivery config nodes see it (nodes/armor-redis.ts). */
import type { Node } from 'node-red';
import type { StreamClient } from '../../src/delivery/shared/stream-outbox';

export interface RedisCredentials {
  username?: string;
  password?: string;
  /** A CA certificate (PEM) for rediss://, besides the usual roots. */
  ca?: string;
}

/** What a shared endpoint closes before the client goes. */
export interface RedisUser {
  close(): Promise<void>;
}

export interface ArmorRedisNode extends Node<RedisCredentials> {
  /** Why the settings cannot be used (no client then), in words that quote no secret. */
  problem?: string;
  /** The key prefix. */
  prefix: string;
  /** `redis://host:port/db`, as the log names it. */
  where: string;
  /** The shared client (connecting, reconnecting by itself), unless `problem`. */
  client?: StreamClient;
  /** A shared endpoint on this client: closed before the client is (unless detached first, by the function returned). */
  attach(user: RedisUser): () => void;
}

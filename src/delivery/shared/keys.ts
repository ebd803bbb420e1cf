/**
 * Redis key names of a shared endpoint. An endpoint is named by its service and a hash of its
 * secret material (the webhook URL, the routing key), never the secret itself: the same target
 * seen from every instance gets the same key, and nothing in Redis's keyspace, `MONITOR` output
 * or a log line reveals it. The prefix is hashed with the secret so that two deployments that
 * share a Redis under different prefixes do not even share the hash.
 */

import { createHash } from 'node:crypto';

/** `${prefix}${service}:${sha256hex(prefix + '\n' + secret)}`, e.g. `armor:slack:3f1c…`. */
export function endpointKey(prefix: string, service: string, secret: string): string {
  const hash = createHash('sha256')
    .update(prefix + '\n' + secret, 'utf8')
    .digest('hex');
  return `${prefix}${service}:${hash}`;
}

/** The key of the endpoint's sender lease (its value is the holder's id). */
export function leaseKey(endpoint: string): string {
  return endpoint + ':lease';
}

/** The key of the endpoint's outbox Stream. */
export function streamKey(endpoint: string): string {
  return endpoint + ':outbox';
}

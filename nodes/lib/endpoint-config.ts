/**
 * What the two delivery config nodes share: an Endpoint in the Node-RED user directory,
 * with the policy of the service adjusted by the node's properties; or, when the node's
 * `shared` names an armor-redis node, a SharedEndpoint on that node's client (issue 12).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import type { QueuePolicy } from '../../src/delivery/queue';
import { OUTBOX_DEFAULT_LIMITS } from '../../src/delivery/outbox';
import { Endpoint } from '../../src/delivery/endpoint';
import type { DeliveryService, Target, TargetProblem } from '../../src/delivery/service';
import { SharedEndpoint } from '../../src/delivery/shared/endpoint';
import { endpointKey } from '../../src/delivery/shared/keys';
import type { ArmorRedisNode } from './redis-node';

/** Properties of a delivery config node that tune its endpoint (all optional). */
export interface EndpointProps {
  rate?: number | string;
  burst?: number | string;
  /** Seconds an alert may wait for delivery. */
  deadline?: number | string;
  digestAbove?: number | string;
  maxQueue?: number | string;
  maxQueueMB?: number | string;
  /** The id of an armor-redis node: the endpoint is shared by the instances using it. Empty: local. */
  shared?: string;
}

/** What a delivery node talks to: the local endpoint or the shared one. */
export type Runtime = Endpoint | SharedEndpoint;

/** This process's part of a shared endpoint's instance id (the node id is the other part). */
const PROCESS_ID = randomBytes(6).toString('hex');

export interface EndpointConfigNode extends Node {
  endpoint(): Target | TargetProblem;
  /** The service as this config node shapes it (a PagerDuty service's client_url); the editor's test send uses it too. */
  service?: DeliveryService;
  runtime?: Runtime;
}

function num(value: unknown, fallback: number, min: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= min ? n : fallback;
}

/**
 * The properties' values when left empty, as the editor shows them (RED.settings.<type>Defaults):
 * the service's policy and the outbox's limits; no digestAbove when the service never digests.
 */
export function endpointDefaults(policy: Readonly<QueuePolicy>): Record<string, number> {
  return {
    rate: policy.ratePerSec,
    burst: policy.burst,
    deadline: policy.deadlineMs / 1000,
    ...(Number.isFinite(policy.digestAbove) ? { digestAbove: policy.digestAbove } : {}),
    maxQueue: OUTBOX_DEFAULT_LIMITS.maxEntries,
    maxQueueMB: OUTBOX_DEFAULT_LIMITS.maxBytes / (1024 * 1024),
  };
}

export function policyOf(base: QueuePolicy, props: EndpointProps): QueuePolicy {
  return {
    ...base,
    ratePerSec: num(props.rate, base.ratePerSec, 0.001),
    burst: num(props.burst, base.burst, 1),
    deadlineMs: num(props.deadline, base.deadlineMs / 1000, 1) * 1000,
    digestAbove: num(props.digestAbove, base.digestAbove, 1),
  };
}

/** Starts the endpoint of a config node; stops it when the node closes. */
export function startEndpoint(RED: NodeAPI, node: EndpointConfigNode, props: EndpointProps, service: DeliveryService): void {
  node.service = service;
  const shared = typeof props.shared === 'string' ? props.shared.trim() : '';
  if (shared) {
    startShared(RED, node, props, service, shared);
    return;
  }
  const userDir = RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
  try {
    node.runtime = new Endpoint({
      service,
      policy: policyOf(service.policy, props),
      dir: path.join(userDir, 'armor-integrations', 'outbox', node.id.replace(/[^\w.-]/g, '_')),
      limits: limitsOf(props),
      target: () => node.endpoint(),
      log: { info: (t) => node.log(t), warn: (t) => node.warn(t), error: (t) => node.error(t) },
    });
  } catch (e) {
    node.error(RED._(`${node.type}.errors.outbox`, { reason: (e as Error).message }));
  }
  node.on('close', (_removed: boolean, done: () => void) => {
    void node.runtime?.close();
    node.runtime = undefined;
    done();
  });
}

function limitsOf(props: EndpointProps): { maxEntries: number; maxBytes: number } {
  return {
    maxEntries: num(props.maxQueue, OUTBOX_DEFAULT_LIMITS.maxEntries, 1),
    maxBytes: num(props.maxQueueMB, OUTBOX_DEFAULT_LIMITS.maxBytes / (1024 * 1024), 1) * 1024 * 1024,
  };
}

/**
 * The shared endpoint of a config node whose `shared` is `redisId`: keyed by a hash of the
 * prefix and the target's secret (the webhook URL, the routing key), on the armor-redis node's
 * client, which closes it before the client. No endpoint (the node says why) when the armor-redis
 * node is missing or unusable, or the target is.
 */
function startShared(RED: NodeAPI, node: EndpointConfigNode, props: EndpointProps, service: DeliveryService, redisId: string): void {
  const redis = RED.nodes.getNode(redisId) as ArmorRedisNode | null;
  const target = node.endpoint();
  let why: string | undefined;
  if (!redis || redis.type !== 'armor-redis') why = RED._(`${node.type}.errors.noRedis`);
  else if (!redis.client) why = redis.problem ?? RED._(`${node.type}.errors.noRedis`);
  else if ('problem' in target) why = target.problem;
  if (why || !redis?.client || 'problem' in target) {
    node.error(RED._(`${node.type}.errors.shared`, { reason: why ?? '' }));
    return;
  }
  let detach: (() => void) | undefined;
  try {
    const endpoint = new SharedEndpoint({
      service,
      client: redis.client,
      endpoint: endpointKey(redis.prefix, service.id, target.routingKey ?? target.url),
      instance: `${PROCESS_ID}:${node.id}`,
      policy: policyOf(service.policy, props),
      limits: limitsOf(props),
      target: () => node.endpoint(),
      log: { info: (t) => node.log(t), warn: (t) => node.warn(t), error: (t) => node.error(t) },
      // while Redis is away, alerts wait here (in the user directory, per config node) and move to it in order
      spoolDir: path.join(
        RED.settings.userDir ?? path.join(os.homedir(), '.node-red'),
        'armor-integrations',
        'spool',
        node.id.replace(/[^\w.-]/g, '_'),
      ),
    });
    node.runtime = endpoint;
    detach = redis.attach(endpoint);
  } catch (e) {
    node.error(RED._(`${node.type}.errors.shared`, { reason: (e as Error).message }));
  }
  node.on('close', (_removed: boolean, done: () => void) => {
    const closing = node.runtime?.close();
    node.runtime = undefined;
    void Promise.resolve(closing).finally(() => {
      detach?.();
      done();
    });
  });
}

/**
 * What the two delivery config nodes share: an Endpoint in the Node-RED user directory,
 * with the policy of the service adjusted by the node's properties.
 */
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import type { QueuePolicy } from '../../src/delivery/queue';
import { OUTBOX_DEFAULT_LIMITS } from '../../src/delivery/outbox';
import { Endpoint } from '../../src/delivery/endpoint';
import type { DeliveryService, Target, TargetProblem } from '../../src/delivery/service';

/** Properties of a delivery config node that tune its endpoint (all optional). */
export interface EndpointProps {
  rate?: number | string;
  burst?: number | string;
  /** Seconds an alert may wait for delivery. */
  deadline?: number | string;
  digestAbove?: number | string;
  maxQueue?: number | string;
  maxQueueMB?: number | string;
}

export interface EndpointConfigNode extends Node {
  endpoint(): Target | TargetProblem;
  /** The service as this config node shapes it (a PagerDuty service's client_url); the editor's test send uses it too. */
  service?: DeliveryService;
  runtime?: Endpoint;
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
  const userDir = RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
  try {
    node.runtime = new Endpoint({
      service,
      policy: policyOf(service.policy, props),
      dir: path.join(userDir, 'armor-integrations', 'outbox', node.id.replace(/[^\w.-]/g, '_')),
      limits: {
        maxEntries: num(props.maxQueue, OUTBOX_DEFAULT_LIMITS.maxEntries, 1),
        maxBytes: num(props.maxQueueMB, OUTBOX_DEFAULT_LIMITS.maxBytes / (1024 * 1024), 1) * 1024 * 1024,
      },
      target: () => node.endpoint(),
      log: { info: (t) => node.log(t), warn: (t) => node.warn(t), error: (t) => node.error(t) },
    });
  } catch (e) {
    node.error(RED._(`${node.type}.errors.outbox`, { reason: (e as Error).message }));
  }
  node.on('close', (_removed: boolean, done: () => void) => {
    node.runtime?.close();
    node.runtime = undefined;
    done();
  });
}

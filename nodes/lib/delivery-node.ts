/**
 * The behaviour armor-slack and armor-pagerduty share: take a message, build the body,
 * post it to the config node's endpoint, report. Output 1 = delivered, output 2 = failed.
 * What a body contains is src/slack-message.ts's and src/pagerduty-event.ts's business;
 * what an answer means is src/http-sender.ts's.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { postJson, type SendResult, type Service } from '../../src/http-sender';
import { isAlert } from '../../src/lines';
import type { IntegrationInfo } from '../../src/types';
import { fail, setStatus, type Done, type EndpointNode, type Send } from './node-kit';

/** What a delivery config node resolves to: where to post, and the secret of the body if any. */
export interface Target {
  url: string;
  routingKey?: string;
}

export type DeliveryConfigNode = EndpointNode<Target>;

type Msg = NodeMessageInFlow & { integration?: IntegrationInfo; slack?: unknown; event_action?: unknown };

export interface DeliverySpec {
  service: Service;
  /** The selected config node, if any. */
  config(): DeliveryConfigNode | null;
  /** A reason the message cannot be sent, checked before building. */
  check?(msg: Msg): string | undefined;
  /** The body for `msg`; `secret` is the routing key (PagerDuty) or the URL (Slack). */
  build(msg: Msg, secret: string): unknown;
}

const DEFAULT_TIMEOUT_S = 10;
const SERVICE_NAME: Record<Service, string> = { slack: 'Slack', pagerduty: 'PagerDuty' };

/** Per-attempt timeout: the integration's `timeout` seconds; 0 or absent = 10 s. */
function timeoutMs(msg: Msg): number {
  const t = Number(msg.integration?.timeout);
  return (Number.isFinite(t) && t > 0 ? Math.min(t, 3600) : DEFAULT_TIMEOUT_S) * 1000;
}

/** A status-sized reason for a failed post (the full one goes to msg.error and Catch). */
export function shortReason(result: SendResult): string {
  const text = `${result.error ?? result.kind}`;
  if (result.status === 404 && /no_service|invalid_token/.test(text)) return 'webhook revoked';
  if (result.status === 410) return /archived/.test(text) ? 'channel archived' : 'webhook gone';
  if (result.status === 403) return 'forbidden';
  if (result.status === 429) return 'rate limited';
  return text;
}

export function deliveryNode(RED: NodeAPI, node: Node, spec: DeliverySpec): void {
  const inFlight = new Set<AbortController>();
  let sent = 0;
  let failed = 0;
  const service = SERVICE_NAME[spec.service];
  const failedOutput = (detail: Record<string, unknown> = {}) => ({ index: 1, outputs: 2, detail: { service: spec.service, ...detail } });
  const counts = () => `sent ${sent}${failed ? ` · failed ${failed}` : ''}`;

  node.on('input', (msg: Msg, send: Send, done: Done) => {
    const refuse = (reason: string, short: string) => {
      failed++;
      fail(node, msg, send, done, new Error(`${service}: ${reason}`), short, failedOutput({ kind: 'refused' }));
    };
    const config = spec.config();
    if (!config) return refuse('no config node is selected', 'not configured');
    const target = config.endpoint();
    if ('problem' in target) return refuse(target.problem, target.problem);
    const custom = spec.service === 'slack' ? msg.slack !== undefined : msg.event_action !== undefined && msg.event_action !== 'trigger';
    if (!custom && !isAlert(msg.payload)) return refuse('msg.payload is not an alert (no rule object)', 'not an alert');
    const problem = spec.check?.(msg);
    if (problem) return refuse(problem, 'bad message');
    let body: unknown;
    try {
      body = spec.build(msg, target.routingKey ?? target.url);
    } catch (e) {
      return refuse(`cannot build the message: ${(e as Error).message}`, 'bad message');
    }

    const controller = new AbortController();
    inFlight.add(controller);
    setStatus(node, 'blue', 'ring', `sending… ${counts()}`);
    postJson(spec.service, target.url, body, { timeoutMs: timeoutMs(msg), signal: controller.signal }).then(
      (result) => {
        inFlight.delete(controller);
        if (result.kind === 'ok') {
          sent++;
          (msg as NodeMessage & { delivery?: unknown }).delivery = { service: spec.service, status: result.status, attempts: 1 };
          setStatus(node, 'green', 'dot', counts());
          send([msg, null]);
          done();
          return;
        }
        failed++;
        const error = new Error(`${service}: ${result.error ?? result.kind}`);
        fail(node, msg, send, done, error, `${shortReason(result)} · ${counts()}`, failedOutput({
          kind: result.kind,
          status: result.status,
          retryAfterMs: result.retryAfterMs,
          answer: result.body,
          attempts: 1,
        }));
      },
      (e: unknown) => {
        inFlight.delete(controller);
        failed++;
        fail(node, msg, send, done, new Error(`${service}: ${(e as Error).message}`), 'internal error', failedOutput());
      },
    );
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    for (const controller of inFlight) controller.abort();
    inFlight.clear();
    done();
  });
}

/**
 * armor-pagerduty: sends each alert as a PagerDuty Events API v2 event (SEMANTICS 4);
 * `msg.event_action` `acknowledge`/`resolve` (with the same dedup key) close the loop.
 * Output 1: delivered; output 2: failed (msg.error).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { buildPagerDutyEvent, type PagerDutyAction } from '../src/pagerduty-event';
import type { IntegrationInfo } from '../src/types';
import { deliveryNode, type DeliveryConfigNode } from './lib/delivery-node';

interface PagerDutyDef extends NodeDef {
  service?: string;
  version?: number;
}

const ACTIONS: readonly string[] = ['trigger', 'acknowledge', 'resolve'];

export = (RED: NodeAPI) => {
  function ArmorPagerDutyNode(this: Node, def: PagerDutyDef) {
    RED.nodes.createNode(this, def);
    deliveryNode(RED, this, {
      service: 'pagerduty',
      config: () => (def.service ? (RED.nodes.getNode(def.service) as DeliveryConfigNode | null) : null),
      check(msg: NodeMessageInFlow & { event_action?: unknown }) {
        if (msg.event_action !== undefined && !ACTIONS.includes(String(msg.event_action))) {
          return `msg.event_action must be trigger, acknowledge or resolve, not ${JSON.stringify(msg.event_action)}`;
        }
        return undefined;
      },
      build(msg: NodeMessageInFlow & { integration?: IntegrationInfo; event_action?: string; dedup_key?: unknown }, secret: string) {
        return buildPagerDutyEvent(msg.payload, {
          routingKey: secret,
          options: msg.integration?.options,
          action: (msg.event_action as PagerDutyAction | undefined) ?? 'trigger',
          dedupKey: typeof msg.dedup_key === 'string' ? msg.dedup_key : undefined,
        });
      },
    });
  }
  RED.nodes.registerType('armor-pagerduty', ArmorPagerDutyNode);
};

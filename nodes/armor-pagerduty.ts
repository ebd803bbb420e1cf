/**
 * armor-pagerduty: queues each alert as a PagerDuty Events API v2 event (SEMANTICS 4);
 * `msg.event_action` `acknowledge`/`resolve` (with the same dedup key) close the loop.
 * Pacing, retries and the outbox are the armor-pagerduty-service config node's.
 * Output 1: delivered; output 2: failed (msg.error).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { pagerduty } from '../src/services/pagerduty';
import { deliveryNode } from './lib/delivery-node';
import { allowTestSend, deliveryEditorApi } from './lib/editor-api';
import type { EndpointConfigNode } from './lib/endpoint-config';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-pagerduty';

interface PagerDutyDef extends NodeDef {
  service?: string;
  version?: number;
}

const ACTIONS: readonly string[] = ['trigger', 'acknowledge', 'resolve'];

export = (RED: NodeAPI) => {
  function ArmorPagerDutyNode(this: Node, given: PagerDutyDef) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    const config = () => (def.service ? (RED.nodes.getNode(def.service) as EndpointConfigNode | null) : null);
    deliveryNode(RED, this, {
      service: pagerduty,
      config,
      custom: (msg) => msg.event_action !== undefined && msg.event_action !== 'trigger',
      check(msg) {
        if (msg.event_action !== undefined && !(typeof msg.event_action === 'string' && ACTIONS.includes(msg.event_action))) {
          return RED._('armor-pagerduty.errors.eventAction', { action: JSON.stringify(msg.event_action) });
        }
        return undefined;
      },
    });
    allowTestSend(this, { service: pagerduty, config });
  }
  RED.nodes.registerType('armor-pagerduty', ArmorPagerDutyNode, { settings: versioned(RED, 'armor-pagerduty', migrations) });
  deliveryEditorApi(RED, pagerduty);
};

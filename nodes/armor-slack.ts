/**
 * armor-slack: posts each alert to a Slack incoming webhook (SEMANTICS 4). The message is
 * built by src/slack-message.ts; the webhook (and, later, its pacing queue) is the
 * armor-slack-webhook config node's. Output 1: delivered; output 2: failed (msg.error).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { buildSlackMessage, mergeSlackOverride, type SlackLayout } from '../src/slack-message';
import type { IntegrationInfo } from '../src/types';
import { deliveryNode, type DeliveryConfigNode } from './lib/delivery-node';

interface SlackDef extends NodeDef {
  webhook?: string;
  layout?: SlackLayout;
  version?: number;
}

export = (RED: NodeAPI) => {
  function ArmorSlackNode(this: Node, def: SlackDef) {
    RED.nodes.createNode(this, def);
    deliveryNode(RED, this, {
      service: 'slack',
      config: () => (def.webhook ? (RED.nodes.getNode(def.webhook) as DeliveryConfigNode | null) : null),
      build(msg: NodeMessageInFlow & { integration?: IntegrationInfo; slack?: unknown }) {
        const base = buildSlackMessage(msg.payload, {
          maxLog: msg.integration?.maxLog,
          options: msg.integration?.options,
          layout: def.layout,
        });
        return msg.slack === undefined ? base : mergeSlackOverride(base, msg.slack);
      },
    });
  }
  RED.nodes.registerType('armor-slack', ArmorSlackNode);
};

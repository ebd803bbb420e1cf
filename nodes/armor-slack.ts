/**
 * armor-slack: queues each alert for a Slack incoming webhook (SEMANTICS 4). The message is
 * built by src/services/slack when it is sent; pacing, retries, digests and the outbox are
 * the armor-slack-webhook config node's, shared by every node that uses it.
 * Output 1: delivered; output 2: failed (msg.error).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SlackLayout } from '../src/services/slack/message';
import { slack } from '../src/services/slack';
import { deliveryNode } from './lib/delivery-node';
import { allowTestSend, deliveryEditorApi } from './lib/editor-api';
import type { EndpointConfigNode } from './lib/endpoint-config';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-slack';

interface SlackDef extends NodeDef {
  webhook?: string;
  layout?: SlackLayout;
  /** Seconds; repeats of the same rule and agent within it are held back and counted (0: off). */
  dedupWindow?: number | string;
  version?: number;
}

export = (RED: NodeAPI) => {
  function ArmorSlackNode(this: Node, given: SlackDef) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    const config = () => (def.webhook ? (RED.nodes.getNode(def.webhook) as EndpointConfigNode | null) : null);
    const render = { layout: def.layout };
    deliveryNode(RED, this, {
      service: slack,
      config,
      custom: (msg) => msg.slack !== undefined,
      render,
      dedupWindowS: Number(def.dedupWindow) || 0,
    });
    allowTestSend(this, { service: slack, config, render });
  }
  RED.nodes.registerType('armor-slack', ArmorSlackNode, {
    settings: {
      ...versioned(RED, 'armor-slack', migrations),
      armorSlackDefaults: { value: { layout: 'attachment', dedupWindow: 0 }, exportable: true },
    },
  });
  deliveryEditorApi(RED, slack);
};

/**
 * armor-slack-webhook: a Slack incoming webhook, as a config node. The URL is a Node-RED
 * password credential (never in the flow, a status, a log line or an error). It runs the
 * webhook's outbox and queue, shared by every armor-slack node that uses it; what Slack is to
 * the delivery code is src/services/slack.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { slack } from '../src/services/slack';
import { webhookTarget } from '../src/services/slack/target';
import { ENV_REFERENCE } from '../src/config/env';
import { endpointDefaults, startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-slack-webhook';

export = (RED: NodeAPI) => {
  function ArmorSlackWebhookNode(this: Node<{ url?: string }> & EndpointConfigNode, given: NodeDef & EndpointProps) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    this.endpoint = () => webhookTarget(this.credentials?.url);
    startEndpoint(RED, this, def, slack);
  }
  RED.nodes.registerType('armor-slack-webhook', ArmorSlackWebhookNode as never, {
    credentials: { url: { type: 'password' } },
    // the editor's placeholders and the URL validator (RED.settings.armorSlackWebhook*)
    settings: {
      ...versioned(RED, 'armor-slack-webhook', migrations),
      armorSlackWebhookDefaults: { value: endpointDefaults(slack.policy), exportable: true },
      armorSlackWebhookEnvReference: { value: ENV_REFERENCE.source, exportable: true },
    },
  });
};

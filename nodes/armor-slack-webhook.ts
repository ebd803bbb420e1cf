/**
 * armor-slack-webhook: a Slack incoming webhook, as a config node. The URL is a Node-RED
 * password credential (never in the flow, a status, a log line or an error). It runs the
 * webhook's outbox and queue, shared by every armor-slack node that uses it; what Slack is to
 * the delivery code is src/services/slack.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { slack } from '../src/services/slack';
import { webhookTarget } from '../src/services/slack/target';
import { startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';

export = (RED: NodeAPI) => {
  function ArmorSlackWebhookNode(this: Node<{ url?: string }> & EndpointConfigNode, def: NodeDef & EndpointProps) {
    RED.nodes.createNode(this, def);
    this.endpoint = () => webhookTarget(this.credentials?.url);
    startEndpoint(RED, this, def, slack);
  }
  RED.nodes.registerType('armor-slack-webhook', ArmorSlackWebhookNode as never, { credentials: { url: { type: 'password' } } });
};

/**
 * armor-slack-webhook: a Slack incoming webhook, as a config node. The URL is a Node-RED
 * password credential (never in the flow, a status, a log line or an error).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { webhookProblem } from '../src/endpoints';
import type { EndpointNode } from './lib/node-kit';

export = (RED: NodeAPI) => {
  function ArmorSlackWebhookNode(this: Node<{ url?: string }> & EndpointNode<{ url: string }>, def: NodeDef) {
    RED.nodes.createNode(this, def);
    this.endpoint = () => {
      const url = this.credentials?.url;
      const problem = webhookProblem(url);
      return problem ? { problem } : { url: url!.trim() };
    };
  }
  RED.nodes.registerType('armor-slack-webhook', ArmorSlackWebhookNode as never, { credentials: { url: { type: 'password' } } });
};

/**
 * armor-slack-webhook: a Slack incoming webhook, as a config node. The URL is a Node-RED
 * password credential (never in the flow, a status, a log line or an error). It runs the
 * webhook's outbox and queue, shared by every armor-slack node that uses it.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SLACK_POLICY } from '../src/delivery/queue';
import { webhookProblem } from '../src/services/targets';
import { slackDigest } from '../src/services/slack/message';
import { startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { renderSlack } from '../src/services/render';

export = (RED: NodeAPI) => {
  function ArmorSlackWebhookNode(this: Node<{ url?: string }> & EndpointConfigNode, def: NodeDef & EndpointProps) {
    RED.nodes.createNode(this, def);
    this.endpoint = () => {
      const url = this.credentials?.url;
      const problem = webhookProblem(url);
      return problem ? { problem } : { url: url!.trim() };
    };
    startEndpoint(RED, this, def, {
      service: 'slack',
      policy: SLACK_POLICY,
      build: (parcel) => renderSlack(parcel),
      digest: (parcels) => slackDigest(parcels.map((p) => p.msg.payload)),
    });
  }
  RED.nodes.registerType('armor-slack-webhook', ArmorSlackWebhookNode as never, { credentials: { url: { type: 'password' } } });
};

/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { eventsUrl, routingKeyProblem } from '../src/endpoints';
import type { EndpointNode } from './lib/node-kit';

interface ServiceDef extends NodeDef {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(
    this: Node<{ routingKey?: string }> & EndpointNode<{ url: string; routingKey: string }>,
    def: ServiceDef,
  ) {
    RED.nodes.createNode(this, def);
    const where = eventsUrl(def.region, def.url);
    this.endpoint = () => {
      if ('problem' in where) return where;
      const key = this.credentials?.routingKey;
      const problem = routingKeyProblem(key);
      return problem ? { problem } : { url: where.url, routingKey: key!.trim() };
    };
  }
  RED.nodes.registerType('armor-pagerduty-service', ArmorPagerDutyServiceNode as never, {
    credentials: { routingKey: { type: 'password' } },
  });
};

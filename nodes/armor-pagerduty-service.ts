/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential. It runs the key's outbox and queue.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { PAGERDUTY_POLICY } from '../src/delivery/queue';
import { eventsUrl, routingKeyProblem } from '../src/services/targets';
import { startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { renderPagerDuty } from '../src/services/render';

interface ServiceDef extends NodeDef, EndpointProps {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(this: Node<{ routingKey?: string }> & EndpointConfigNode, def: ServiceDef) {
    RED.nodes.createNode(this, def);
    const where = eventsUrl(def.region, def.url);
    this.endpoint = () => {
      if ('problem' in where) return where;
      const key = this.credentials?.routingKey;
      const problem = routingKeyProblem(key);
      return problem ? { problem } : { url: where.url, routingKey: key!.trim() };
    };
    startEndpoint(RED, this, def, {
      service: 'pagerduty',
      policy: PAGERDUTY_POLICY,
      build: (parcel, routingKey) => renderPagerDuty(parcel, routingKey),
    });
  }
  RED.nodes.registerType('armor-pagerduty-service', ArmorPagerDutyServiceNode as never, {
    credentials: { routingKey: { type: 'password' } },
  });
};

/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential. It runs the key's outbox and queue; what
 * PagerDuty is to the delivery code is src/services/pagerduty.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { pagerduty } from '../src/services/pagerduty';
import { eventsUrl, serviceTarget } from '../src/services/pagerduty/target';
import { startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';

interface ServiceDef extends NodeDef, EndpointProps {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(this: Node<{ routingKey?: string }> & EndpointConfigNode, def: ServiceDef) {
    RED.nodes.createNode(this, def);
    const where = eventsUrl(def.region, def.url);
    this.endpoint = () => serviceTarget(where, this.credentials?.routingKey);
    startEndpoint(RED, this, def, pagerduty);
  }
  RED.nodes.registerType('armor-pagerduty-service', ArmorPagerDutyServiceNode as never, {
    credentials: { routingKey: { type: 'password' } },
  });
};

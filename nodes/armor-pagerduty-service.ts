/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential. It runs the key's outbox and queue; what
 * PagerDuty is to the delivery code is src/services/pagerduty.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { pagerduty } from '../src/services/pagerduty';
import { eventsUrl, serviceTarget } from '../src/services/pagerduty/target';
import { endpointDefaults, startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-pagerduty-service';

interface ServiceDef extends NodeDef, EndpointProps {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(this: Node<{ routingKey?: string }> & EndpointConfigNode, given: ServiceDef) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    const where = eventsUrl(def.region, def.url);
    this.endpoint = () => serviceTarget(where, this.credentials?.routingKey);
    startEndpoint(RED, this, def, pagerduty);
  }
  RED.nodes.registerType('armor-pagerduty-service', ArmorPagerDutyServiceNode as never, {
    credentials: { routingKey: { type: 'password' } },
    // the editor's placeholders (RED.settings.armorPagerdutyService*)
    settings: {
      ...versioned(RED, 'armor-pagerduty-service', migrations),
      armorPagerdutyServiceDefaults: { value: endpointDefaults(pagerduty.policy), exportable: true },
    },
  });
};

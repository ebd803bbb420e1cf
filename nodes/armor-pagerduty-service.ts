/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential. It runs the key's outbox and queue; what
 * PagerDuty is to the delivery code is src/services/pagerduty.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { DeliveryService } from '../src/delivery/service';
import { pagerduty, renderPagerDuty } from '../src/services/pagerduty';
import { clientUrlProblem, eventsUrl, serviceTarget } from '../src/services/pagerduty/target';
import { endpointDefaults, startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { migrateNode, versioned } from './lib/migrate';
import { migrations } from './migrations/armor-pagerduty-service';

interface ServiceDef extends NodeDef, EndpointProps {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
  /** The `client_url` of trigger events (e.g. the SIEM dashboard); absent or empty: none. */
  client_url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(this: Node<{ routingKey?: string }> & EndpointConfigNode, given: ServiceDef) {
    RED.nodes.createNode(this, given);
    const def = migrateNode(RED, this, given, migrations);
    const where = eventsUrl(def.region, def.url);
    // a flow saved before client_url existed has none: no client_url, as before
    const clientUrl = typeof def.client_url === 'string' ? def.client_url.trim() : '';
    const clientProblem = clientUrlProblem(clientUrl);
    const service: DeliveryService = clientUrl
      ? { ...pagerduty, message: (parcel, target) => renderPagerDuty(parcel, target.routingKey ?? '', clientUrl) }
      : pagerduty;
    this.endpoint = () =>
      'problem' in where ? where : clientProblem ? { problem: clientProblem } : serviceTarget(where, this.credentials?.routingKey);
    if (clientProblem) this.error(clientProblem);
    startEndpoint(RED, this, def, service);
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

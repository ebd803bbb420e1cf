/**
 * armor-pagerduty-service: a PagerDuty service (Events API v2 integration), as a config node.
 * The routing key is a Node-RED password credential. It runs the key's outbox and queue.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { PAGERDUTY_POLICY } from '../src/delivery-queue';
import { clientUrlProblem, eventsUrl, routingKeyProblem } from '../src/endpoints';
import { startEndpoint, type EndpointConfigNode, type EndpointProps } from './lib/endpoint-config';
import { renderPagerDuty } from './lib/render';

interface ServiceDef extends NodeDef, EndpointProps {
  region?: 'us' | 'eu' | 'custom';
  url?: string;
  /** The `client_url` of trigger events (e.g. the SIEM dashboard); absent or empty: none. */
  client_url?: string;
}

export = (RED: NodeAPI) => {
  function ArmorPagerDutyServiceNode(this: Node<{ routingKey?: string }> & EndpointConfigNode, def: ServiceDef) {
    RED.nodes.createNode(this, def);
    const where = eventsUrl(def.region, def.url);
    // a flow saved before client_url existed has none: no client_url, as before
    const clientUrl = typeof def.client_url === 'string' ? def.client_url.trim() : '';
    const clientProblem = clientUrlProblem(clientUrl);
    this.render = (parcel, routingKey) => renderPagerDuty(parcel, routingKey, clientUrl);
    this.endpoint = () => {
      if ('problem' in where) return where;
      if (clientProblem) return { problem: clientProblem };
      const key = this.credentials?.routingKey;
      const problem = routingKeyProblem(key);
      return problem ? { problem } : { url: where.url, routingKey: key!.trim() };
    };
    if (clientProblem) this.error(clientProblem);
    startEndpoint(RED, this, def, {
      service: 'pagerduty',
      policy: PAGERDUTY_POLICY,
      build: this.render,
    });
  }
  RED.nodes.registerType('armor-pagerduty-service', ArmorPagerDutyServiceNode as never, {
    credentials: { routingKey: { type: 'password' } },
  });
};

/**
 * The services alerts are delivered to. Adding one: a folder beside these (its description, a
 * DeliveryService, and its message builder), a delivery node and a config node under nodes/,
 * and one line here.
 */
import type { DeliveryService } from '../delivery/service';
import { pagerduty } from './pagerduty';
import { slack } from './slack';

export const SERVICES: readonly DeliveryService[] = [slack, pagerduty];

export { pagerduty, slack };

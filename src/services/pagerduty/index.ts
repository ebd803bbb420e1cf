/**
 * PagerDuty Events API v2, as the delivery code sees it: pace 2 events/s (120 a minute per
 * routing key) with a burst of 10, 24 h deadline, no digests (PagerDuty groups by dedup_key);
 * 202 is delivered. The routing key (in the body) is the secret, and every part of a custom
 * events URL but scheme and host.
 */
import type { Parcel } from '../../delivery/endpoint';
import type { DeliveryService } from '../../delivery/service';
import { buildPagerDutyEvent, type PagerDutyAction } from './event';

/** The event of one parcel: trigger (or `msg.event_action`) with the routing key; `clientUrl`: the service's `client_url` (empty: none). */
export function renderPagerDuty(parcel: Parcel, routingKey: string, clientUrl?: string): unknown {
  const { msg } = parcel;
  return buildPagerDutyEvent(msg.payload, {
    routingKey,
    clientUrl,
    options: msg.integration?.options,
    action: (msg.event_action as PagerDutyAction | undefined) ?? 'trigger',
    dedupKey: typeof msg.dedup_key === 'string' ? msg.dedup_key : undefined,
  });
}

export const pagerduty: DeliveryService = {
  id: 'pagerduty',
  label: 'PagerDuty',
  policy: {
    ratePerSec: 2, // 120 events per minute per routing key
    burst: 10,
    deadlineMs: 24 * 60 * 60 * 1000,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60 * 1000,
    digestAbove: Infinity,
    digestMax: 1,
    jitterMs: 250,
  },
  accepted: (status) => status === 202,
  message: (parcel, target) => renderPagerDuty(parcel, target.routingKey ?? ''),
  editor: {
    previewKey: 'event',
    previewTarget: { url: 'https://events.pagerduty.com/v2/enqueue', routingKey: '(from the config node)' },
    testDedupKey: (sample) => `node-red-test/${sample}`,
  },
};

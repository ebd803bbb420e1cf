/** A PagerDuty service config node's target: the region's (or a custom) events URL and the routing key, the secret. */
import { httpUrlProblem, unsetEnvReference } from '../../config/env';
import type { Target, TargetProblem } from '../../delivery/service';

export const PAGERDUTY_ENDPOINTS = {
  us: 'https://events.pagerduty.com/v2/enqueue',
  eu: 'https://events.eu.pagerduty.com/v2/enqueue',
} as const;

/** Why a PagerDuty routing key cannot be used, or undefined. */
export function routingKeyProblem(key: string | undefined): string | undefined {
  if (!key || key.trim() === '') return 'no routing key is set in the config node';
  const env = unsetEnvReference(key);
  if (env) return `environment variable ${env} is not set`;
  return undefined;
}

/** The Events API v2 endpoint of a region (`custom` = a URL of the user's: proxies, tests). */
export function eventsUrl(region: string | undefined, custom: string | undefined): { url: string } | TargetProblem {
  if (region === 'eu') return { url: PAGERDUTY_ENDPOINTS.eu };
  if (region !== 'custom') return { url: PAGERDUTY_ENDPOINTS.us };
  const problem = httpUrlProblem(String(custom ?? ''), 'custom events URL');
  return problem ? { problem } : { url: String(custom).trim() };
}

/** The target of an events URL (see eventsUrl) and a routing key credential. */
export function serviceTarget(where: { url: string } | TargetProblem, key: string | undefined): Target | TargetProblem {
  if ('problem' in where) return where;
  const problem = routingKeyProblem(key);
  return problem ? { problem } : { url: where.url, routingKey: key!.trim() };
}

/**
 * Why a PagerDuty service's client URL (sent as `client_url`: the page an incident links back
 * to, e.g. the SIEM dashboard) cannot be used, or undefined. Empty means none.
 */
export function clientUrlProblem(url: string | undefined): string | undefined {
  if (url === undefined || url.trim() === '') return undefined;
  return httpUrlProblem(url, 'client URL');
}

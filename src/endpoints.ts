/**
 * Where alerts are delivered, and whether a configured endpoint is usable. Messages never
 * quote the secret (the webhook URL, the routing key).
 */

export const PAGERDUTY_ENDPOINTS = {
  us: 'https://events.pagerduty.com/v2/enqueue',
  eu: 'https://events.eu.pagerduty.com/v2/enqueue',
} as const;

/**
 * Node-RED replaces a credential that is exactly `${NAME}` by the environment variable; when
 * the variable is not set the reference stays. Returns the missing variable's name, if any.
 */
export function unsetEnvReference(value: string): string | undefined {
  const m = /^\$\{(\S+)\}$/.exec(value.trim());
  return m ? m[1] : undefined;
}

function httpUrlProblem(value: string, what: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value.trim());
  } catch {
    return `the ${what} is not a valid URL`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `the ${what} must be http(s), not ${parsed.protocol}`;
  return undefined;
}

/** Why a Slack webhook URL cannot be used, or undefined when it can. */
export function webhookProblem(url: string | undefined): string | undefined {
  if (!url || url.trim() === '') return 'no webhook URL is set in the config node';
  const env = unsetEnvReference(url);
  if (env) return `environment variable ${env} is not set`;
  return httpUrlProblem(url, 'webhook URL');
}

/** Why a PagerDuty routing key cannot be used, or undefined. */
export function routingKeyProblem(key: string | undefined): string | undefined {
  if (!key || key.trim() === '') return 'no routing key is set in the config node';
  const env = unsetEnvReference(key);
  if (env) return `environment variable ${env} is not set`;
  return undefined;
}

/** The Events API v2 endpoint of a region (`custom` = a URL of the user's: proxies, tests). */
export function eventsUrl(region: string | undefined, custom: string | undefined): { url: string } | { problem: string } {
  if (region === 'eu') return { url: PAGERDUTY_ENDPOINTS.eu };
  if (region !== 'custom') return { url: PAGERDUTY_ENDPOINTS.us };
  const problem = httpUrlProblem(String(custom ?? ''), 'custom events URL');
  return problem ? { problem } : { url: String(custom).trim() };
}

/**
 * Why a PagerDuty service's client URL (sent as `client_url`: the page an incident links back
 * to, e.g. the SIEM dashboard) cannot be used, or undefined. Empty means none.
 */
export function clientUrlProblem(url: string | undefined): string | undefined {
  if (url === undefined || url.trim() === '') return undefined;
  return httpUrlProblem(url, 'client URL');
}

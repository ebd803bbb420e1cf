/**
 * PagerDuty Events API v2 bodies for alerts (SEMANTICS 4, PagerDuty). Pure: no HTTP.
 *
 * The body always meets the Events API's contract and documented limits
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/, .../overview/):
 * whatever the alert or the integration's `options` hold, a trigger has a non-empty summary
 * (<= 1024 characters), a source and a valid severity, the dedup key is <= 255 characters,
 * and the whole body is <= 512 KB, `custom_details` being shrunk first.
 */
import { createHash } from 'node:crypto';
import { alertFacts, asObject, cutText, isoTimestamp, ruleLevel, type AlertFacts } from '../../alert-fields';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutySeverity = 'info' | 'warning' | 'error' | 'critical';
/** An Events API v2 request body. */
export type PagerDutyEvent = Record<string, unknown>;

export const PAGERDUTY_LIMITS = {
  summary: 1024,
  dedupKey: 255,
  /** "Events API payloads are limited to 512 KB": we count 512,000 bytes of JSON (UTF-8), the stricter reading. */
  bodyBytes: 512_000,
} as const;

/** Our cap on the other payload strings (PagerDuty documents none). */
const TEXT_MAX = 1024;
const ACTIONS: readonly string[] = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES: readonly string[] = ['info', 'warning', 'error', 'critical'];
const DEFAULT_CLIENT = 'Armor Monitoring Service';
/** The payload fields PagerDuty defines, but custom_details (all capped in length by `checked`). */
const PAYLOAD_KEYS = ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class'];

/** Level 0-4 `info`, 5-7 `warning`, 8-11 `error`, 12-16 `critical`; anything but a level from 0 to 16 (ruleLevel) is `info`. */
export function pagerDutySeverity(level: unknown): PagerDutySeverity {
  const n = ruleLevel(level);
  if (!(n >= 5)) return 'info';
  return n < 8 ? 'warning' : n < 12 ? 'error' : 'critical';
}

export interface PagerDutyEventOptions {
  /** The integration (routing) key. Never logged by this module. */
  routingKey: string;
  /** The integration's `options`: merged into the body at top level, shallow (see buildPagerDutyEvent). */
  options?: Record<string, unknown>;
  /** Default `trigger`. */
  action?: PagerDutyAction;
  /** Default: `options.dedup_key`, else `<rule.id>/<agent.id>`. */
  dedupKey?: string;
  /** Default `Armor Monitoring Service`. */
  client?: string;
  /** The `client_url` of a trigger (the monitoring client's page, e.g. the SIEM dashboard); none when empty or not an http(s) URL. An options `client_url` wins. */
  clientUrl?: string;
}

/** A string that is not only white space. */
const filled = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** A dedup key within 255 characters: a longer key keeps its head, `…` and a hash of the whole, so keys stay distinct. */
export function pagerDutyDedupKey(key: string): string {
  if (key.length <= PAGERDUTY_LIMITS.dedupKey) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return cutText(key, PAGERDUTY_LIMITS.dedupKey - hash.length) + hash;
}

function dedupKeyOf(f: AlertFacts, opts: PagerDutyEventOptions, options: Record<string, unknown> | undefined): string {
  const key = filled(opts.dedupKey)
    ? opts.dedupKey
    : filled(options?.dedup_key)
      ? options.dedup_key
      : `${f.ruleId ?? 'none'}/${f.agentId ?? 'none'}`;
  return pagerDutyDedupKey(key);
}

/** `agent.name`; the manager's name for the manager's own alerts (agent 000). */
function sourceOf(f: AlertFacts): string {
  if (f.agentId === '000') return f.managerName ?? f.agentName ?? 'Armor manager';
  return f.agentName ?? f.agentIp ?? (f.agentId ? `agent ${f.agentId}` : (f.managerName ?? 'unknown'));
}

function payloadOf(f: AlertFacts, alert: unknown): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    summary: f.description ?? `Armor alert: rule ${f.ruleId ?? 'N/A'}, level ${f.level ?? 'N/A'}`,
    source: sourceOf(f),
    severity: pagerDutySeverity(f.level),
  };
  if (f.timestamp !== undefined) payload.timestamp = f.timestamp;
  if (f.location !== undefined) payload.component = f.location;
  if (f.groups.length) payload.group = f.groups.join(', ');
  if (f.ruleId !== undefined) payload.class = f.ruleId;
  const details = asObject(alert);
  if (details) payload.custom_details = details;
  return payload;
}

/**
 * The Events API v2 body for `alert` (SEMANTICS 4).
 *
 * `trigger` (the default): summary = `rule.description`; source = `agent.name` (`manager.name`
 * for agent 000); severity from the level; timestamp = `timestamp` with a colon in its offset
 * (left out when not a date-time); component = `location`; group = the groups joined with
 * `, ` (as the manager's script); class = `rule.id`; custom_details = the alert; client_url =
 * `opts.clientUrl` when set.
 * Then the integration's `options`, top level and shallow as the manager's script, except
 * that `routing_key` and `event_action` stay ours (an options `dedup_key` is the default
 * dedup key, see PagerDutyEventOptions) and an options `payload` object is merged
 * into ours (the manager would replace it, losing the required fields). Whatever options
 * set is then checked: a value PagerDuty would refuse is replaced by ours or dropped.
 *
 * `acknowledge` / `resolve`: only routing_key, event_action and the same dedup key.
 */
export function buildPagerDutyEvent(alert: unknown, opts: PagerDutyEventOptions): PagerDutyEvent {
  const f = alertFacts(alert);
  const options = asObject(opts.options);
  const action: PagerDutyAction = ACTIONS.includes(opts.action as string) ? (opts.action as PagerDutyAction) : 'trigger';
  const routing = { routing_key: opts.routingKey, event_action: action, dedup_key: dedupKeyOf(f, opts, options) };
  if (action !== 'trigger') return routing;

  const ours = payloadOf(f, alert);
  const event: PagerDutyEvent = { ...routing, client: filled(opts.client) ? opts.client : DEFAULT_CLIENT, payload: ours };
  if (filled(opts.clientUrl)) event.client_url = opts.clientUrl.trim(); // dropped by `checked` unless an http(s) URL
  for (const [key, value] of Object.entries(options ?? {})) {
    if (key === '__proto__' || Object.hasOwn(routing, key)) continue; // routing_key, event_action: ours; dedup_key: read above
    event[key] = key === 'payload' ? { ...ours, ...asObject(value) } : value;
  }
  return fitBody(checked(event, ours));
}

/** `event` with every field PagerDuty checks made valid: ours where options broke it, or left out. */
function checked(event: PagerDutyEvent, ours: Record<string, unknown>): PagerDutyEvent {
  const payload: Record<string, unknown> = { ...(event.payload as Record<string, unknown>) };
  payload.summary = cutText(filled(payload.summary) ? payload.summary : (ours.summary as string), PAGERDUTY_LIMITS.summary);
  payload.source = cutText(filled(payload.source) ? payload.source : (ours.source as string), TEXT_MAX);
  if (!SEVERITIES.includes(payload.severity as string)) payload.severity = ours.severity;
  for (const key of ['component', 'group', 'class'] as const) {
    if (filled(payload[key])) payload[key] = cutText(payload[key], TEXT_MAX);
    else delete payload[key];
  }
  const timestamp = isoTimestamp(payload.timestamp);
  if (timestamp === undefined) delete payload.timestamp;
  else payload.timestamp = timestamp;
  if (!asObject(payload.custom_details)) delete payload.custom_details;

  const out: PagerDutyEvent = { ...event, payload };
  if (!filled(out.client)) delete out.client;
  if (!isUrl(out.client_url)) delete out.client_url;
  fixList(out, 'links', 'href');
  fixList(out, 'images', 'src');
  return out;
}

function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Keeps the items of `out[key]` that are objects with a URL in `url`; drops the list when none is left. */
function fixList(out: PagerDutyEvent, key: string, url: string): void {
  if (!(key in out)) return;
  const list = Array.isArray(out[key]) ? (out[key] as unknown[]).filter((item) => isUrl(asObject(item)?.[url])) : [];
  if (list.length) out[key] = list;
  else delete out[key];
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * `event` within PAGERDUTY_LIMITS.bodyBytes. In order, until it fits: custom_details without
 * `full_log`; custom_details as a cut JSON string with a note; no custom_details; only the
 * fields PagerDuty defines (dropping what options added beyond them).
 */
function fitBody(event: PagerDutyEvent): PagerDutyEvent {
  const limit = PAGERDUTY_LIMITS.bodyBytes;
  const size = bytes(event);
  if (size <= limit) return event;
  const payload = event.payload as Record<string, unknown>;
  const details = payload.custom_details as Record<string, unknown> | undefined;
  const withDetails = (custom_details: unknown): PagerDutyEvent => ({ ...event, payload: { ...payload, custom_details } });

  if (details) {
    if ('full_log' in details) {
      const rest = { ...details };
      delete rest.full_log;
      const lighter = withDetails({ ...rest, armor_note: 'full_log removed: the event was over the 512 KB limit of PagerDuty' });
      if (bytes(lighter) <= limit) return lighter;
    }
    const json = JSON.stringify(details);
    const note = `custom_details cut to fit the 512 KB limit of PagerDuty; the alert's JSON was ${Buffer.byteLength(json)} bytes`;
    const cut = (chars: number) => withDetails({ armor_note: note, truncated_json: cutText(json, chars) });
    // The longest cut that fits: a character takes 1 to 6 bytes once escaped again, so search.
    let low = 0;
    let high = json.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (bytes(cut(mid)) <= limit) low = mid;
      else high = mid - 1;
    }
    if (low > 0) return cut(low);
  }
  const bare = { ...payload };
  delete bare.custom_details;
  const lean = { ...event, payload: bare };
  if (bytes(lean) <= limit) return lean;
  const essential: PagerDutyEvent = {};
  for (const key of ['routing_key', 'event_action', 'dedup_key', 'client', 'client_url']) if (key in event) essential[key] = event[key];
  essential.payload = Object.fromEntries(PAYLOAD_KEYS.filter((key) => key in bare).map((key) => [key, bare[key]]));
  return essential;
}

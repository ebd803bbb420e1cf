/**
 * The alert fields the outgoing messages show (SEMANTICS 1), read without trusting their
 * types: every field is a usable value or absent, and nothing here throws on junk. The Slack
 * and PagerDuty builders read alerts only through `alertFacts`.
 */

type Obj = Record<string, unknown>;

/** `value` when it is a plain object (not an array, not null). */
export function asObject(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

/** A non-empty string, or a finite number as a string (a junk-tolerant read of an id or a name). */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

/** The highest rule level: the manager's levels are the integers 0 to 16 (SEMANTICS 1). */
export const MAX_LEVEL = 16;

/**
 * A `rule.level` value as a level: the value itself when it is an integer from 0 to 16, 0
 * when absent (the manager omits level 0), NaN for anything else (a string, null, a fraction
 * such as 7.5, -1, 17, Infinity from `1e309`). NaN is no level: it fails every `<level>`
 * filter, shows as N/A and ranks below level 0. The one reading of `rule.level` (filter,
 * Slack, PagerDuty, digests).
 */
export function ruleLevel(value: unknown): number {
  if (value === undefined) return 0;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_LEVEL ? value : NaN;
}

/** What the messages show of one alert. Absent means missing or mistyped. */
export interface AlertFacts {
  /** Whether the value is an alert at all: an object with a `rule` object (SEMANTICS 1). */
  isAlert: boolean;
  /** `rule.level` (see ruleLevel): an absent level is 0, one that is not a level from 0 to 16 is absent. */
  level?: number;
  ruleId?: string;
  description?: string;
  /** The string entries of `rule.groups`. */
  groups: string[];
  /** Whether the alert has an `agent` object. */
  hasAgent: boolean;
  agentId?: string;
  agentName?: string;
  agentIp?: string;
  /** `agentless.host`, for alerts of agentless monitoring. */
  agentlessHost?: string;
  managerName?: string;
  location?: string;
  fullLog?: string;
  /** `id` as written (`<epoch>.<offset>`). */
  id?: string;
  /** Seconds since the epoch: the epoch part of `id`, else `timestamp`. */
  epoch?: number;
  /** `timestamp` as a valid ISO 8601 date-time with a colon in its offset. */
  timestamp?: string;
}

export function alertFacts(alert: unknown): AlertFacts {
  const a = asObject(alert) ?? {};
  const rule = asObject(a.rule);
  const agent = asObject(a.agent);
  const level = ruleLevel(rule?.level);
  const groups = Array.isArray(rule?.groups) ? rule.groups.filter((g): g is string => typeof g === 'string') : [];
  const timestamp = isoTimestamp(a.timestamp);
  const id = text(a.id);
  return {
    isAlert: rule !== undefined,
    level: Number.isNaN(level) ? undefined : level,
    ruleId: text(rule?.id),
    description: text(rule?.description),
    groups,
    hasAgent: agent !== undefined,
    agentId: text(agent?.id),
    agentName: text(agent?.name),
    agentIp: text(agent?.ip),
    agentlessHost: text(asObject(a.agentless)?.host),
    managerName: text(asObject(a.manager)?.name),
    location: text(a.location),
    fullLog: text(a.full_log),
    id,
    epoch: epochOfId(id) ?? (timestamp === undefined ? undefined : Math.floor(Date.parse(timestamp) / 1000)),
    timestamp,
  };
}

/** The epoch part of an alert id `<epoch>.<offset>` (or a bare `<epoch>`). */
function epochOfId(id: string | undefined): number | undefined {
  const m = id === undefined ? null : /^(\d{1,15})(?:\.\d+)?$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * `value` as an RFC 3339 / ISO 8601 date-time, or undefined when it is not one. The manager
 * writes `2022-09-09T23:43:15.168+0200`; the offset gets its colon (`+02:00`), the rest (the
 * local time and its offset) is kept as written.
 */
export function isoTimestamp(value: unknown): string | undefined {
  const m = typeof value === 'string' ? ISO.exec(value) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const offset = zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59 &&
    (offset === 'Z' || (Number(offset.slice(1, 3)) <= 23 && Number(offset.slice(4)) <= 59));
  return valid ? `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${offset}` : undefined;
}

/** The mark put where text was cut. */
export const CUT_MARK = '…';

/**
 * `value` cut to at most `max` UTF-16 units, the last being CUT_MARK when anything was cut.
 * Never splits a surrogate pair.
 */
export function cutText(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max < 1) return '';
  let end = max - 1;
  if (end > 0 && isHighSurrogate(value.charCodeAt(end - 1))) end--;
  return value.slice(0, end) + CUT_MARK;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

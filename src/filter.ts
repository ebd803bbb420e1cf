/**
 * Which alerts an integration receives (SEMANTICS section 3): the AND of its configured
 * filters. Everything that can be decided once is decided in `compileFilter`; the returned
 * function allocates nothing per call except the legacy composite location string, and only
 * when a location pattern is configured and no plain field matched first.
 */
import type { Integration, Pattern, PatternSyntax } from './types';
import { osRegex } from './osregex';
import { osMatch } from './osmatch';
import { show } from './show';
import { asObject } from './alert-fields';

export type FilterName =
  | 'alert'
  | 'level'
  | 'rule_id'
  | 'group'
  | 'event_location'
  | 'exclude_group'
  | 'exclude_rule_id'
  | 'exclude_location'
  | 'virustotal_syscheck';

export interface FilterCheck {
  filter: FilterName;
  pass: boolean;
  reason: string;
}

export interface FilterVerdict {
  pass: boolean;
  checks: FilterCheck[];
}

/** `filter(alert)` decides; `filter.explain(alert)` says why (slower; for the editor and debugging). */
export type AlertFilter = ((alert: unknown) => boolean) & { explain(alert: unknown): FilterVerdict };

/** Compiles `source` with the engine of `syntax`; throws the engine's error on a bad pattern. */
export function compilePattern(source: string, syntax: PatternSyntax): Pattern {
  return syntax === 'os_match' ? osMatch(source) : osRegex(source);
}

type Obj = Record<string, unknown>;

/** One configured filter: `test` decides; `describe` only words the facts for `explain`. */
interface Check {
  filter: FilterName;
  test(alert: Obj, rule: Obj): boolean;
  describe(alert: Obj, rule: Obj): string;
}

/** `rule.level`; absent counts as 0, anything but a number is NaN (fails every comparison). */
function levelOf(rule: Obj): number {
  const level = rule.level;
  return level === undefined ? 0 : typeof level === 'number' ? level : NaN;
}

/** `rule.id` as a number: an integer, or a string of 1-15 ASCII digits; NaN otherwise. */
function ruleIdOf(rule: Obj): number {
  const id = rule.id;
  if (typeof id === 'number') return Number.isInteger(id) ? id : NaN;
  if (typeof id !== 'string' || id.length === 0 || id.length > 15) return NaN;
  let n = 0;
  for (let i = 0; i < id.length; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    n = n * 10 + digit;
  }
  return n;
}

/** Whether `rule.id` is in `ids`; undefined when the alert has no usable id. */
function idHit(rule: Obj, ids: ReadonlySet<number>): boolean | undefined {
  const id = ruleIdOf(rule);
  return Number.isNaN(id) ? undefined : ids.has(id);
}

/** Whether one of `rule.groups` is in `groups` (exact equality; non-strings never are); undefined when it is not an array. */
function groupHit(rule: Obj, groups: ReadonlySet<string>): boolean | undefined {
  const list = rule.groups;
  if (!Array.isArray(list)) return undefined;
  for (let i = 0; i < list.length; i++) if (groups.has(list[i])) return true;
  return false;
}

/** The fields `event_location` is tried against, in order (SEMANTICS 3.3). */
const LOCATION_FIELDS = [
  'location',
  'agent.name',
  'agent.ip',
  'manager.name',
  'predecoder.hostname',
  'legacy location',
] as const;

function locationField(alert: Obj, field: number): unknown {
  switch (field) {
    case 0:
      return alert.location;
    case 1:
      return asObject(alert.agent)?.name;
    case 2:
      return asObject(alert.agent)?.ip;
    case 3:
      return asObject(alert.manager)?.name;
    case 4:
      return asObject(alert.predecoder)?.hostname;
    default:
      return legacyLocation(alert);
  }
}

/**
 * The location string of the manager's alerts.log: `(<agent.name>) <agent.ip>-><location>`,
 * or `<manager.name>-><location>` for the manager's own alerts (agent `000`) and agents without ip.
 */
function legacyLocation(alert: Obj): string | undefined {
  const location = alert.location;
  if (typeof location !== 'string') return undefined;
  const agent = asObject(alert.agent);
  const ip = agent?.ip;
  if (agent?.id !== '000' && typeof ip === 'string') {
    const name = agent?.name;
    return typeof name === 'string' ? `(${name}) ${ip}->${location}` : undefined;
  }
  const manager = asObject(alert.manager)?.name;
  return typeof manager === 'string' ? `${manager}->${location}` : undefined;
}

const NO_FIELD = -2;
const NO_MATCH = -1;

/** Index in LOCATION_FIELDS of the first string field `pattern` matches, NO_MATCH, or NO_FIELD when no field is a string. */
function locationHit(alert: Obj, pattern: Pattern): number {
  let result = NO_FIELD;
  for (let i = 0; i < LOCATION_FIELDS.length; i++) {
    const value = locationField(alert, i);
    if (typeof value !== 'string') continue;
    if (pattern.test(value)) return i;
    result = NO_MATCH;
  }
  return result;
}

function describeIds(rule: Obj, ids: ReadonlySet<number>): string {
  const hit = idHit(rule, ids);
  const listed = [...ids].join(', ');
  if (hit === undefined) return `rule.id ${show(rule.id)} is not a rule id (digits or an integer)`;
  return `rule.id ${show(rule.id)} is ${hit ? '' : 'not '}one of ${listed}`;
}

function describeGroups(rule: Obj, groups: ReadonlySet<string>): string {
  const list = rule.groups;
  if (!Array.isArray(list)) return `rule.groups ${show(list)} is not an array`;
  const found = list.find((g) => groups.has(g));
  return found === undefined
    ? `rule.groups ${show(list)} includes none of ${[...groups].join(', ')}`
    : `rule.groups includes ${show(found)}`;
}

function describeLocation(alert: Obj, pattern: Pattern): string {
  const hit = locationHit(alert, pattern);
  const what = `${pattern.syntax} ${show(pattern.source)}`;
  if (hit >= 0) return `${what} matches ${LOCATION_FIELDS[hit]} ${show(locationField(alert, hit))}`;
  if (hit === NO_FIELD) return `the alert has none of ${LOCATION_FIELDS.join(', ')} as a string`;
  const tried = LOCATION_FIELDS.flatMap((field, i) => {
    const value = locationField(alert, i);
    return typeof value === 'string' ? [`${field} ${show(value, 60)}`] : [];
  });
  return `${what} matches none of ${tried.join(', ')}`;
}

/** The configured filters of `it`, cheapest first (AND is order-free; explain lists them in this order). */
function checksOf(it: Integration): Check[] {
  const checks: Check[] = [];
  const minLevel = it.level ?? 0;
  if (minLevel > 0) {
    checks.push({
      filter: 'level',
      test: (_a, rule) => levelOf(rule) >= minLevel,
      describe: (_a, rule) =>
        `rule.level ${show(rule.level)}${rule.level === undefined ? ' (counts as 0)' : ''} needs to be a number >= ${minLevel}`,
    });
  }
  const id = (filter: FilterName, list: number[] | undefined, wanted: boolean): void => {
    if (!list?.length) return;
    const ids = new Set(list);
    checks.push({ filter, test: (_a, rule) => idHit(rule, ids) === wanted, describe: (_a, rule) => describeIds(rule, ids) });
  };
  const group = (filter: FilterName, list: readonly string[] | undefined, wanted: boolean): void => {
    if (!list?.length) return;
    const groups = new Set(list);
    checks.push({
      filter,
      test: (_a, rule) => groupHit(rule, groups) === wanted,
      describe: (_a, rule) => describeGroups(rule, groups),
    });
  };
  const location = (filter: FilterName, source: string | undefined, wanted: boolean): void => {
    if (source === undefined) return;
    const pattern = compilePattern(source, it.locationSyntax);
    const test = wanted
      ? (alert: Obj) => locationHit(alert, pattern) >= 0
      : (alert: Obj) => locationHit(alert, pattern) === NO_MATCH;
    checks.push({ filter, test, describe: (alert) => describeLocation(alert, pattern) });
  };
  id('rule_id', it.ruleIds, true);
  group('group', it.groups, true);
  if (it.name === 'virustotal') group('virustotal_syscheck', ['syscheck'], true);
  id('exclude_rule_id', it.excludeRuleIds, false);
  group('exclude_group', it.excludeGroups, false);
  location('event_location', it.eventLocation, true);
  location('exclude_location', it.excludeLocation, false);
  return checks;
}

/**
 * The filter of one integration (SEMANTICS 3). A value that is not an object with a `rule`
 * object never passes; a missing or mistyped field never throws, it fails the filter that
 * reads it (for exclusions too: an alert whose groups cannot be read is not known to be
 * outside the excluded groups). `explain` lists the 'alert' check, then (only when that
 * passed) every configured filter, each evaluated even after one failed. Empty id or group
 * lists count as not configured (parseIntegrations never produces them).
 * @throws when `eventLocation`/`excludeLocation` does not compile (parseIntegrations refuses such configs).
 */
export function compileFilter(integration: Integration): AlertFilter {
  const checks = checksOf(integration);
  const tests = checks.map((c) => c.test);
  const count = tests.length;
  const filter = (alert: unknown): boolean => {
    const a = asObject(alert);
    const rule = a === undefined ? undefined : asObject(a.rule);
    if (rule === undefined) return false;
    for (let i = 0; i < count; i++) if (!tests[i](a as Obj, rule)) return false;
    return true;
  };
  const explain = (alert: unknown): FilterVerdict => {
    const a = asObject(alert);
    const rule = a === undefined ? undefined : asObject(a.rule);
    if (a === undefined || rule === undefined) {
      const reason = a === undefined ? `the alert ${show(alert)} is not an object` : `rule ${show(a.rule)} is not an object`;
      return { pass: false, checks: [{ filter: 'alert', pass: false, reason }] };
    }
    const results: FilterCheck[] = [{ filter: 'alert', pass: true, reason: 'the alert is an object with a rule object' }];
    for (const c of checks) results.push({ filter: c.filter, pass: c.test(a, rule), reason: c.describe(a, rule) });
    return { pass: results.every((r) => r.pass), checks: results };
  };
  return Object.assign(filter, { explain });
}

/**
 * Routes an alert to every integration whose filter passes: returns their positions in
 * `integrations` (config order). A new array per call.
 */
export function compileRouter(integrations: readonly Integration[]): (alert: unknown) => number[] {
  const filters = integrations.map(compileFilter);
  return (alert) => {
    const hits: number[] = [];
    for (let i = 0; i < filters.length; i++) if (filters[i](alert)) hits.push(i);
    return hits;
  };
}

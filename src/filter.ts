/**
 * Which alerts an integration receives (SEMANTICS section 3): the AND of its configured
 * filters. Everything that can be decided once is decided in `compileFilter`; the returned
 * function allocates nothing per call except the legacy composite location string, and only
 * when a location pattern is configured, no plain field matched first and the pattern might
 * match it. `compileRouter` decides for several integrations at once, reading the alert's
 * `rule` once.
 */
import type { Integration, PatternSyntax } from './types';
import { osRegex, type OsRegexPattern } from './engines/osregex';
import { osMatch, type OsMatchPattern } from './engines/osmatch';
import { show } from './show';
import { asObject, MAX_LEVEL, ruleLevel } from './alert-fields';

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

/** A compiled pattern of either engine. */
export type CompiledPattern = OsRegexPattern | OsMatchPattern;

/** Compiles `source` with the engine of `syntax`; throws the engine's error on a bad pattern. */
export function compilePattern(source: string, syntax: PatternSyntax): CompiledPattern {
  return syntax === 'os_match' ? osMatch(source) : osRegex(source);
}

type Obj = Record<string, unknown>;

const enum Kind {
  Level,
  Ids,
  Groups,
  Location,
}

/**
 * One configured filter, as data: `test` decides, `describe` only words the facts for
 * `explain`. Every check has the same shape (the fields its kind does not use are 0 or
 * null), so that the per-alert loop stays monomorphic.
 */
class Check {
  constructor(
    readonly filter: FilterName,
    readonly kind: Kind,
    /** Level: the minimum level. */
    readonly min: number,
    /** Ids: the rule ids. */
    readonly ids: ReadonlySet<number> | null,
    /** Groups: the group names. */
    readonly groups: Groups | null,
    /** Location: the compiled pattern. */
    readonly pattern: CompiledPattern | null,
    /** Ids, Groups, Location: whether a hit passes (false for the exclusions). */
    readonly wanted: boolean,
  ) {}
}

/** `rule.level` (ruleLevel): absent counts as 0, anything but a level from 0 to 16 is NaN (fails every comparison). */
function levelOf(rule: Obj): number {
  return ruleLevel(rule.level);
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

/**
 * Configured group names. A few names are compared one by one (length first): cheaper than
 * hashing the alert's freshly parsed group strings for a Set lookup.
 */
interface Groups {
  set: ReadonlySet<string>;
  /** The names, when few enough to scan; else null. */
  few: readonly string[] | null;
}

function groupsOf(list: readonly string[]): Groups {
  const set = new Set(list);
  return { set, few: set.size <= 8 ? [...set] : null };
}

function isGroup(value: unknown, groups: Groups): boolean {
  const few = groups.few;
  if (few === null) return groups.set.has(value as string);
  if (typeof value !== 'string') return false;
  for (let k = 0; k < few.length; k++) if (few[k].length === value.length && few[k] === value) return true;
  return false;
}

/** Whether one of `rule.groups` is in `groups` (exact equality; non-strings never are); undefined when it is not an array. */
function groupHit(rule: Obj, groups: Groups): boolean | undefined {
  const list = rule.groups;
  if (!Array.isArray(list)) return undefined;
  for (let i = 0; i < list.length; i++) if (isGroup(list[i], groups)) return true;
  return false;
}

/** The fields `event_location` is tried against, in order (SEMANTICS 3.3). */
const LOCATION_FIELDS = ['location', 'agent.name', 'agent.ip', 'manager.name', 'predecoder.hostname', 'legacy location'] as const;

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

/** Position of the legacy composite in LOCATION_FIELDS: the last, and the only one built per alert. */
const LEGACY = 5;

const enum Legacy {
  None,
  Agent,
  Manager,
}

/**
 * Which legacy location `alert` has (see legacyLocation): the agent's, the manager's, or
 * none (no `location` string, or a missing name).
 */
function legacyKind(alert: Obj): Legacy {
  if (typeof alert.location !== 'string') return Legacy.None;
  const agent = asObject(alert.agent);
  if (agent?.id !== '000' && typeof agent?.ip === 'string') return typeof agent.name === 'string' ? Legacy.Agent : Legacy.None;
  return typeof asObject(alert.manager)?.name === 'string' ? Legacy.Manager : Legacy.None;
}

/**
 * The location string of the manager's alerts.log: `(<agent.name>) <agent.ip>-><location>`,
 * or `<manager.name>-><location>` for the manager's own alerts (agent `000`) and agents without ip.
 */
function legacyLocation(alert: Obj): string | undefined {
  switch (legacyKind(alert)) {
    case Legacy.Agent: {
      const agent = alert.agent as Obj;
      return `(${String(agent.name)}) ${String(agent.ip)}->${String(alert.location)}`;
    }
    case Legacy.Manager:
      return `${String((alert.manager as Obj).name)}->${String(alert.location)}`;
    default:
      return undefined;
  }
}

/** The first character code of legacyLocation(alert), without building it; -1 when there is none. */
function legacyFirst(alert: Obj): number {
  switch (legacyKind(alert)) {
    case Legacy.Agent:
      return 40; // (
    case Legacy.Manager: {
      const name = (alert.manager as Obj).name as string;
      return name.length > 0 ? name.charCodeAt(0) : 45; // - of ->
    }
    default:
      return -1;
  }
}

const NO_FIELD = -2;
const NO_MATCH = -1;

/**
 * Index in LOCATION_FIELDS of the first string field `pattern` matches, NO_MATCH, or NO_FIELD
 * when no field is a string. The legacy composite is built only when the pattern might match
 * it (an anchored pattern usually rules it out from its first character).
 */
function locationHit(alert: Obj, pattern: CompiledPattern): number {
  let result = NO_FIELD;
  for (let i = 0; i < LEGACY; i++) {
    const value = locationField(alert, i);
    if (typeof value !== 'string') continue;
    if (pattern.test(value)) return i;
    result = NO_MATCH;
  }
  const first = legacyFirst(alert);
  if (first < 0) return result;
  if (pattern.rejectsFirst(first)) return NO_MATCH;
  return pattern.test(legacyLocation(alert)!) ? LEGACY : NO_MATCH;
}

function describeIds(rule: Obj, ids: ReadonlySet<number>): string {
  const hit = idHit(rule, ids);
  const listed = [...ids].join(', ');
  if (hit === undefined) return `rule.id ${show(rule.id)} is not a rule id (digits or an integer)`;
  return `rule.id ${show(rule.id)} is ${hit ? '' : 'not '}one of ${listed}`;
}

function describeGroups(rule: Obj, groups: Groups): string {
  const list = rule.groups;
  if (!Array.isArray(list)) return `rule.groups ${show(list)} is not an array`;
  const found: unknown = list.find((g) => isGroup(g, groups));
  return found === undefined
    ? `rule.groups ${show(list)} includes none of ${[...groups.set].join(', ')}`
    : `rule.groups includes ${show(found)}`;
}

function describeLocation(alert: Obj, pattern: CompiledPattern): string {
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
  if (minLevel > 0) checks.push(new Check('level', Kind.Level, minLevel, null, null, null, true));
  const id = (filter: FilterName, list: number[] | undefined, wanted: boolean): void => {
    if (list?.length) checks.push(new Check(filter, Kind.Ids, 0, new Set(list), null, null, wanted));
  };
  const group = (filter: FilterName, list: readonly string[] | undefined, wanted: boolean): void => {
    if (list?.length) checks.push(new Check(filter, Kind.Groups, 0, null, groupsOf(list), null, wanted));
  };
  const location = (filter: FilterName, source: string | undefined, wanted: boolean): void => {
    if (source !== undefined)
      checks.push(new Check(filter, Kind.Location, 0, null, null, compilePattern(source, it.locationSyntax), wanted));
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

/** Whether `alert` (an object, with `rule` its rule object) passes check `c`. */
function test(c: Check, alert: Obj, rule: Obj): boolean {
  switch (c.kind) {
    case Kind.Level:
      return levelOf(rule) >= c.min;
    case Kind.Ids:
      return idHit(rule, c.ids!) === c.wanted;
    case Kind.Groups:
      return groupHit(rule, c.groups!) === c.wanted;
    default: {
      const hit = locationHit(alert, c.pattern!);
      return c.wanted ? hit >= 0 : hit === NO_MATCH;
    }
  }
}

/** Why check `c` passes or fails `alert`, in words. */
function describe(c: Check, alert: Obj, rule: Obj): string {
  switch (c.kind) {
    case Kind.Level: {
      const level = levelOf(rule);
      if (Number.isNaN(level)) {
        const what = typeof rule.level === 'number' ? `a level from 0 to ${MAX_LEVEL}` : 'a number';
        return `rule.level ${show(rule.level)} is not ${what} (a level >= ${c.min} passes)`;
      }
      const shown = rule.level === undefined ? 'rule.level is missing (counts as 0):' : `rule.level ${show(rule.level)} is`;
      return level >= c.min ? `${shown} >= ${c.min}` : `${shown} below ${c.min}`;
    }
    case Kind.Ids:
      return describeIds(rule, c.ids!);
    case Kind.Groups:
      return describeGroups(rule, c.groups!);
    default:
      return describeLocation(alert, c.pattern!);
  }
}

/** Whether `alert` (an object, with `rule` its rule object) passes every check. */
function passes(checks: readonly Check[], alert: Obj, rule: Obj): boolean {
  for (let i = 0; i < checks.length; i++) if (!test(checks[i], alert, rule)) return false;
  return true;
}

/** The rule object of an alert, or undefined when `alert` is not an object with a rule object. */
function ruleOf(alert: unknown): Obj | undefined {
  const a = asObject(alert);
  return a === undefined ? undefined : asObject(a.rule);
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
  const filter = (alert: unknown): boolean => {
    const rule = ruleOf(alert);
    return rule !== undefined && passes(checks, alert as Obj, rule);
  };
  const explain = (alert: unknown): FilterVerdict => {
    const a = asObject(alert);
    const rule = a === undefined ? undefined : asObject(a.rule);
    if (a === undefined || rule === undefined) {
      const reason = a === undefined ? `the alert ${show(alert)} is not an object` : `rule ${show(a.rule)} is not an object`;
      return { pass: false, checks: [{ filter: 'alert', pass: false, reason }] };
    }
    const results: FilterCheck[] = [{ filter: 'alert', pass: true, reason: 'the alert is an object with a rule object' }];
    for (const c of checks) results.push({ filter: c.filter, pass: test(c, a, rule), reason: describe(c, a, rule) });
    return { pass: results.every((r) => r.pass), checks: results };
  };
  return Object.assign(filter, { explain });
}

/**
 * `router(alert)`: the positions in `integrations` (config order) of every integration whose
 * filter passes, as a new array. `router.into(alert, hits)`: the same positions written to
 * `hits` from index 0, and their count returned; allocates nothing (for per-message use with
 * a reused `hits` of at least `integrations.length` entries).
 */
export type AlertRouter = ((alert: unknown) => number[]) & { into(alert: unknown, hits: number[] | Int32Array): number };

/** Routes an alert to every integration whose filter passes (see AlertRouter). */
export function compileRouter(integrations: readonly Integration[]): AlertRouter {
  const checks = integrations.map(checksOf);
  const into = (alert: unknown, hits: number[] | Int32Array): number => {
    const rule = ruleOf(alert);
    if (rule === undefined) return 0;
    let count = 0;
    for (let i = 0; i < checks.length; i++) if (passes(checks[i], alert as Obj, rule)) hits[count++] = i;
    return count;
  };
  const scratch = new Int32Array(integrations.length);
  const router = (alert: unknown): number[] => {
    const hits: number[] = [];
    for (let i = 0, count = into(alert, scratch); i < count; i++) hits.push(scratch[i]);
    return hits;
  };
  return Object.assign(router, { into });
}

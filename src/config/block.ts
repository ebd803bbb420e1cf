/**
 * One `<integration>` block's tags checked and read into an Integration (SEMANTICS section 2):
 * the tags allowed and what each must be, then one method per tag or family of tags, each
 * reporting its errors and warnings with the block, the tag and the line.
 */
import type { ConfigIssue, Integration, ParseResult, PatternSyntax } from '../types';
import { KNOWN_NAMES } from '../types';
import { compilePattern } from '../filter';
import { show } from '../show';
import { describeEndpoint } from '../secrets';
import { ENV_REFERENCE } from './env';

/** One child of a block as the document reader found it: a tag with its trimmed text, or a problem. */
export interface Entry {
  tag?: string;
  line?: number;
  value: string;
  attrs: Record<string, string>;
  problem?: string;
}

/** The block's place, for its messages. */
export interface BlockPlace {
  index: number;
  line: number | undefined;
  /** Attributes of the `<integration>` element itself (none are allowed). */
  attributes: readonly string[];
}

export type IssueOf = (
  block: number,
  name: string | undefined,
  tag: string | undefined,
  line: number | undefined,
  text: string,
) => ConfigIssue;

/** What each tag must be, as said in error messages. Its keys are the only tags allowed. */
const EXPECT = {
  name: `one of ${KNOWN_NAMES.join(', ')} or custom-<anything>`,
  hook_url: 'an http(s) URL or ${ENV_VAR}',
  api_key: 'a key or ${ENV_VAR}',
  level: 'an integer from 0 to 16',
  rule_id: 'comma-separated rule ids (digits)',
  group: 'group names separated by "," or "|"',
  event_location: 'a valid pattern',
  alert_format: 'json',
  max_log: 'an integer from 165 to 1024',
  options: 'a JSON object',
  timeout: 'a non-negative integer',
  retries: 'a non-negative integer',
  exclude_group: 'group names separated by "," or "|"',
  exclude_rule_id: 'comma-separated rule ids (digits)',
  exclude_location: 'a valid pattern',
} as const;
type Tag = keyof typeof EXPECT;
const TAGS = Object.keys(EXPECT) as Tag[];

/** Inclusive bounds of the integer tags. */
const INTEGER_RANGE = {
  level: [0, 16],
  max_log: [165, 1024],
  timeout: [0, Number.MAX_SAFE_INTEGER],
  retries: [0, Number.MAX_SAFE_INTEGER],
} as const;

export const DEFAULTS = { alertFormat: 'json', maxLog: 165, timeout: 10, retries: 3 } as const;

/** `type` attribute of `<event_location>` / `<exclude_location>` (one syntax for both). */
const SYNTAX_OF = new Map<string, PatternSyntax>([
  ['osregex', 'os_regex'],
  ['os_regex', 'os_regex'],
  ['osmatch', 'os_match'],
  ['os_match', 'os_match'],
  ['sregex', 'os_match'],
]);
const LOCATION_TAGS = ['event_location', 'exclude_location'] as const;

/** Tags the manager requires per name; here only a warning (the secret usually lives in a config node). */
const REQUIRED_BY_MANAGER: Record<string, readonly Tag[]> = {
  slack: ['hook_url'],
  shuffle: ['hook_url'],
  maltiverse: ['hook_url', 'api_key'],
  pagerduty: ['api_key'],
  virustotal: ['api_key'],
};

/** Splits on `separators`, trims, drops empty tokens and repeats. */
function tokens(raw: string, separators: RegExp): string[] {
  return [
    ...new Set(
      raw
        .split(separators)
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    ),
  ];
}

/**
 * What a bad `<hook_url>` is, without quoting it: all but its scheme and host may be the
 * webhook's secret (a mistyped URL is usually a real one with a typo).
 */
function describeHookUrl(value: string): string {
  if (value === '') return '""';
  // a malformed reference is a name, not a secret
  if (/^\$\{[\w\s.-]*\}$/.test(value)) return show(value);
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // without a host, what reads as a scheme may be a user name (`user:password@host/...`)
  if (url?.host) return `${describeEndpoint(value)} (the scheme is not http or https)`;
  let withScheme: URL | undefined;
  try {
    withScheme = /^([^\s/?#@]*@)?[^:/?#\s@]+\.[^:/?#\s@]+(:\d+)?([/?#]|$)/.test(value) ? new URL(`https://${value}`) : undefined;
  } catch {
    withScheme = undefined;
  }
  if (withScheme) return `${describeEndpoint(withScheme.href).replace(/^https:\/\//, '')} without http:// or https://`;
  return `a value that is not a URL (not shown: it may be a secret)`;
}

function isHookUrl(value: string): boolean {
  if (ENV_REFERENCE.test(value)) return true;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Sorts the entries of a block: reports unknown tags, repeats, stray attributes and unreadable
 * values; returns the line of every allowed tag given (`seen`) and the usable entries (`given`).
 */
function checkTags(entries: readonly Entry[], error: (tag: string | undefined, line: number | undefined, text: string) => void) {
  const seen = new Map<string, number | undefined>();
  const given = new Map<Tag, Entry>();
  for (const entry of entries) {
    const tag = entry.tag;
    const attr = Object.keys(entry.attrs).find((key) => key !== 'type' || !(LOCATION_TAGS as readonly string[]).includes(tag ?? ''));
    if (tag === undefined) error(undefined, entry.line, entry.problem ?? '');
    else if (!Object.hasOwn(EXPECT, tag)) error(tag, entry.line, `is not a known tag; expected one of ${TAGS.join(', ')}`);
    else if (seen.has(tag)) error(tag, entry.line, `is given twice (lines ${seen.get(tag)} and ${entry.line}); give it once`);
    else {
      seen.set(tag, entry.line);
      if (attr !== undefined) error(tag, entry.line, `has an unknown attribute ${attr}`);
      else if (entry.problem) error(tag, entry.line, entry.problem);
      else given.set(tag as Tag, entry);
    }
  }
  return { seen, given };
}

/** `raw` parsed as a JSON object, or why it is not one. */
function jsonObject(raw: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return (e as Error).message;
  }
  if (parsed === null) return 'that is null';
  if (Array.isArray(parsed)) return 'that is an array';
  if (typeof parsed !== 'object') return `that is a ${typeof parsed}`;
  // the object is merged into outgoing messages: no prototype games
  if (Object.hasOwn(parsed, '__proto__')) return 'the key "__proto__" is not allowed';
  return parsed as Record<string, unknown>;
}

/** Reads one block: `read()` returns the integration, or undefined when it has errors (all of them reported). */
class BlockReader {
  private readonly errors: ConfigIssue[] = [];
  private readonly warnings: ConfigIssue[] = [];
  private readonly label: string | undefined;
  private readonly seen: Map<string, number | undefined>;
  private readonly given: Map<Tag, Entry>;
  private locationSyntax: PatternSyntax = 'os_regex';

  constructor(
    entries: readonly Entry[],
    private readonly place: BlockPlace,
    private readonly issue: IssueOf,
  ) {
    this.label = entries.find((e) => e.tag === 'name')?.value || undefined;
    for (const key of place.attributes) this.error('integration', place.line, `has an unknown attribute ${key}`);
    ({ seen: this.seen, given: this.given } = checkTags(entries, (tag, line, text) => this.error(tag, line, text)));
  }

  read(result: ParseResult): Integration | undefined {
    const name = this.name();
    this.secretsRequired(name);
    const groups = this.groups('group');
    if (name === 'virustotal' && groups?.some((g) => g !== 'syscheck')) {
      this.warn('group', `virustotal only receives alerts of the syscheck group; ${show(groups.join(','))} can only narrow that down`);
    }
    this.locationSyntax = this.syntax();
    const integration: Integration = {
      index: this.place.index,
      name: name ?? '',
      locationSyntax: this.locationSyntax,
      alertFormat: this.alertFormat(),
      maxLog: this.integer('max_log') ?? DEFAULTS.maxLog,
      timeout: this.integer('timeout') ?? DEFAULTS.timeout,
      retries: this.integer('retries') ?? DEFAULTS.retries,
    };
    const optional: Partial<Integration> = {
      hookUrl: this.hookUrl(),
      apiKey: this.apiKey(),
      level: this.integer('level'),
      ruleIds: this.ruleIds('rule_id'),
      groups,
      eventLocation: this.pattern('event_location'),
      excludeGroups: this.groups('exclude_group'),
      excludeRuleIds: this.ruleIds('exclude_rule_id'),
      excludeLocation: this.pattern('exclude_location'),
      options: this.options(),
    };
    for (const [key, v] of Object.entries(optional)) if (v !== undefined) Object.assign(integration, { [key]: v });
    // Issues in the order of the text, so that they read top to bottom like the block.
    const byLine = (a: ConfigIssue, b: ConfigIssue) => (a.line ?? Infinity) - (b.line ?? Infinity);
    result.errors.push(...this.errors.sort(byLine));
    result.warnings.push(...this.warnings.sort(byLine));
    return this.errors.length === 0 ? integration : undefined;
  }

  private error(tag: string | undefined, line: number | undefined, text: string): void {
    this.errors.push(this.issue(this.place.index, this.label, tag, line, text));
  }

  private warn(tag: Tag, text: string): void {
    this.warnings.push(this.issue(this.place.index, this.label, tag, this.seen.get(tag) ?? this.place.line, text));
  }

  private value(tag: Tag): string | undefined {
    return this.given.get(tag)?.value;
  }

  private bad(tag: Tag, detail = ''): undefined {
    this.error(tag, this.given.get(tag)?.line, `must be ${EXPECT[tag]}, got ${show(this.value(tag))}${detail}`);
    return undefined;
  }

  private name(): string | undefined {
    const name = this.value('name');
    if (!this.seen.has('name')) this.error('name', this.place.line, `is missing; expected ${EXPECT.name}`);
    else if (name === 'pagerdty') {
      this.warn('name', '"pagerdty" (the seed\'s spelling) is read as "pagerduty"');
      return 'pagerduty';
    } else if (name !== undefined && !(KNOWN_NAMES as readonly string[]).includes(name) && !/^custom-./.test(name)) {
      return this.bad('name');
    }
    return name;
  }

  private hookUrl(): string | undefined {
    const hookUrl = this.value('hook_url');
    if (hookUrl !== undefined && !isHookUrl(hookUrl)) {
      this.error('hook_url', this.given.get('hook_url')?.line, `must be ${EXPECT.hook_url}, got ${describeHookUrl(hookUrl)}`);
    }
    return hookUrl;
  }

  private apiKey(): string | undefined {
    const apiKey = this.value('api_key');
    if (apiKey === '') this.bad('api_key');
    return apiKey;
  }

  /** The manager refuses a block without the secret its script needs; here it can come from the node's configuration. */
  private secretsRequired(name: string | undefined): void {
    for (const tag of (name && REQUIRED_BY_MANAGER[name]) || []) {
      if (!this.seen.has(tag))
        this.warn(tag, `is missing; the manager requires it for ${name} (here it can come from the node's configuration)`);
    }
  }

  private integer(tag: keyof typeof INTEGER_RANGE): number | undefined {
    const raw = this.value(tag);
    if (raw === undefined) return undefined;
    const [min, max] = INTEGER_RANGE[tag];
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return n >= min && n <= max ? n : this.bad(tag);
  }

  private ruleIds(tag: 'rule_id' | 'exclude_rule_id'): number[] | undefined {
    const raw = this.value(tag);
    if (raw === undefined) return undefined;
    const list = tokens(raw, /,/);
    const wrong = list.filter((t) => !/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)));
    if (wrong.length) return this.bad(tag, `: not a rule id: ${wrong.map((t) => show(t)).join(', ')}`);
    if (!list.length) return this.bad(tag, ': no rule id in it');
    return [...new Set(list.map(Number))];
  }

  private groups(tag: 'group' | 'exclude_group'): string[] | undefined {
    const raw = this.value(tag);
    if (raw === undefined) return undefined;
    const list = tokens(raw, /[|,]/);
    return list.length ? list : this.bad(tag, ': no group name in it');
  }

  /** event_location, exclude_location: one syntax, chosen by a `type` attribute on either. */
  private syntax(): PatternSyntax {
    let syntax: PatternSyntax = 'os_regex';
    let syntaxTag: Tag | undefined;
    for (const tag of LOCATION_TAGS) {
      const type = this.given.get(tag)?.attrs.type;
      if (type === undefined) continue;
      const chosen = SYNTAX_OF.get(type.trim().toLowerCase());
      const line = this.given.get(tag)?.line;
      if (!chosen) this.error(tag, line, `type must be osregex or osmatch (also os_regex, os_match, sregex), got ${show(type)}`);
      else if (syntaxTag && chosen !== syntax)
        this.error(tag, line, `type ${show(type)} differs from the type of <${syntaxTag}>; both patterns use one syntax`);
      else [syntax, syntaxTag] = [chosen, tag];
    }
    return syntax;
  }

  private pattern(tag: 'event_location' | 'exclude_location'): string | undefined {
    const raw = this.value(tag);
    if (raw === undefined) return undefined;
    if (raw === '') return this.bad(tag, ': the pattern is empty');
    try {
      compilePattern(raw, this.locationSyntax);
      return raw;
    } catch (e) {
      return this.bad(tag, ` (${this.locationSyntax}): ${(e as Error).message}`);
    }
  }

  private alertFormat(): string {
    const raw = this.value('alert_format');
    const alertFormat = raw === undefined || raw.toLowerCase() === 'json' ? DEFAULTS.alertFormat : raw;
    if (alertFormat !== DEFAULTS.alertFormat) this.warn('alert_format', `only json alerts are read here; ${show(alertFormat)} is ignored`);
    return alertFormat;
  }

  private options(): Record<string, unknown> | undefined {
    const raw = this.value('options');
    const parsed = raw === undefined ? undefined : jsonObject(raw);
    return typeof parsed === 'string' ? this.bad('options', `: ${parsed}`) : parsed;
  }
}

/** The integration of one block's entries, or undefined when it has errors; its errors and warnings go to `result`. */
export function readBlock(entries: readonly Entry[], place: BlockPlace, issue: IssueOf, result: ParseResult): Integration | undefined {
  return new BlockReader(entries, place, issue).read(result);
}

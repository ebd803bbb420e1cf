/**
 * Shared types of the library. Nothing here imports Node-RED.
 */

/** Pattern syntax of `event_location` (SEMANTICS 3.3). */
export type PatternSyntax = 'os_regex' | 'os_match';

/** A compiled pattern of either engine. */
export interface Pattern {
  /** The pattern as written. */
  readonly source: string;
  readonly syntax: PatternSyntax;
  test(input: string): boolean;
}

/** Integration names the manager knows (plus `custom-<anything>`). */
export const KNOWN_NAMES = ['slack', 'pagerduty', 'virustotal', 'shuffle', 'maltiverse'] as const;

/** One `<integration>` block, validated, with defaults applied. */
export interface Integration {
  /** Position of the block in the config, 0-based. */
  index: number;
  /** Normalised name (`pagerdty` becomes `pagerduty`). */
  name: string;
  hookUrl?: string;
  apiKey?: string;
  /** Minimum `rule.level`; absent or 0 means no filter. */
  level?: number;
  /** Rule ids, as numbers. */
  ruleIds?: number[];
  /** Group names (split on `|` and `,`). */
  groups?: string[];
  eventLocation?: string;
  /** Syntax of `eventLocation` and `excludeLocation`. Default `os_regex`. */
  locationSyntax: PatternSyntax;
  /** Extensions beyond the manager: negative filters. */
  excludeGroups?: string[];
  excludeRuleIds?: number[];
  excludeLocation?: string;
  alertFormat: string;
  maxLog: number;
  options?: Record<string, unknown>;
  /** Per-attempt timeout, seconds. */
  timeout: number;
  retries: number;
}

/** An error or warning about a config, naming where it is. */
export interface ConfigIssue {
  /** 0-based block index, or -1 for the document as a whole. */
  block: number;
  /** The block's `<name>`, when known. */
  name?: string;
  /** The tag the issue is about. */
  tag?: string;
  /** 1-based line in the XML text, when known. */
  line?: number;
  /** Human-readable message; starts with where (block and tag). */
  message: string;
}

export interface ParseResult {
  integrations: Integration[];
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** An alert as written to alerts.json (only the fields we use are typed). */
export interface Alert {
  id?: string;
  timestamp?: string;
  rule?: {
    level?: number;
    id?: string;
    description?: string;
    groups?: string[];
    [k: string]: unknown;
  };
  agent?: { id?: string; name?: string; ip?: string; [k: string]: unknown };
  manager?: { name?: string; [k: string]: unknown };
  predecoder?: { hostname?: string; [k: string]: unknown };
  location?: string;
  full_log?: string;
  [k: string]: unknown;
}

/** `msg.integration`: what downstream nodes learn about the integration that matched (no secrets). */
export interface IntegrationInfo {
  index: number;
  name: string;
  options?: Record<string, unknown>;
  maxLog: number;
  timeout: number;
  retries: number;
  alertFormat: string;
}

/**
 * The editor's form rows and the XML they stand for. A row is what an operator types, as
 * strings; it becomes an `<integration>` block and goes through `parseIntegrations`, so a
 * form and a pasted config are validated by the same code with the same messages.
 */
import type { Integration, PatternSyntax } from '../types';

/** One integration as the editor's form holds it (tag names as in the manager's config). */
export interface IntegrationRow {
  name: string;
  hook_url?: string;
  api_key?: string;
  level?: string;
  rule_id?: string;
  group?: string;
  event_location?: string;
  /** Syntax of event_location and exclude_location; default os_regex. */
  location_syntax?: PatternSyntax;
  exclude_group?: string;
  exclude_rule_id?: string;
  exclude_location?: string;
  alert_format?: string;
  max_log?: string;
  options?: string;
  timeout?: string;
  retries?: string;
}

/** Row fields written as tags, in the order the manager's documentation lists them. */
const TAGS = [
  'name',
  'hook_url',
  'api_key',
  'level',
  'rule_id',
  'group',
  'event_location',
  'exclude_group',
  'exclude_rule_id',
  'exclude_location',
  'alert_format',
  'max_log',
  'options',
  'timeout',
  'retries',
] as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The `<integration>` blocks for `rows`; empty fields are left out (= not configured). */
export function rowsToXml(rows: readonly IntegrationRow[]): string {
  const blocks = rows.map((row) => {
    const lines = ['<integration>'];
    for (const tag of TAGS) {
      const value = row[tag];
      if (value === undefined || value === null || String(value).trim() === '') continue;
      const type = row.location_syntax === 'os_match' && (tag === 'event_location' || tag === 'exclude_location') ? ' type="osmatch"' : '';
      lines.push(`  <${tag}${type}>${escapeXml(String(value))}</${tag}>`);
    }
    lines.push('</integration>');
    return lines.join('\n');
  });
  return blocks.join('\n');
}

/** A parsed integration as form row strings (secrets included: callers move them out). */
export function integrationToRow(i: Integration): IntegrationRow {
  const row: IntegrationRow = { name: i.name, location_syntax: i.locationSyntax };
  const put = (key: keyof IntegrationRow, value: string | number | undefined) => {
    if (value !== undefined) (row as unknown as Record<string, string>)[key] = String(value);
  };
  put('hook_url', i.hookUrl);
  put('api_key', i.apiKey);
  put('level', i.level);
  put('rule_id', i.ruleIds?.join(','));
  put('group', i.groups?.join(','));
  put('event_location', i.eventLocation);
  put('exclude_group', i.excludeGroups?.join(','));
  put('exclude_rule_id', i.excludeRuleIds?.join(','));
  put('exclude_location', i.excludeLocation);
  put('alert_format', i.alertFormat);
  put('max_log', i.maxLog);
  put('options', i.options === undefined ? undefined : JSON.stringify(i.options));
  put('timeout', i.timeout);
  put('retries', i.retries);
  return row;
}

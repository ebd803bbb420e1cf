/**
 * The Slack digest: one Block Kit message standing for many alerts waiting for one webhook
 * (totals, counts by rule and by agent, then one line per alert, highest levels first, as many
 * as Slack's limits allow, then how many more). Every alert is counted. Alert text is escaped
 * as in ./message.ts.
 */
import { alertFacts, asObject, type AlertFacts } from '../../alert-fields';
import { NA, SLACK_LIMITS, agentText, cutSlackText, escaped, fitSlackLimits, levelText, mrkdwn, type SlackMessage } from './message';

/** One line of a digest, at most. */
const LINE_MAX = 300;

export interface SlackDigestOptions {
  /** Merged into the message, shallow (the digest is Block Kit: there is no attachment). */
  options?: Record<string, unknown>;
  /** Header title; default `Armor digest`. */
  title?: string;
}

/** Alerts counted under one rule or one agent; `level` is their highest (-1: none known). */
interface Tally {
  label: string;
  count: number;
  level: number;
}

const rank = (f: AlertFacts): number => f.level ?? -1;

/** Counts per key, highest level first, then most frequent, then first seen. */
function tally(alerts: AlertFacts[], keyOf: (f: AlertFacts) => string, label: (f: AlertFacts) => string): Tally[] {
  const map = new Map<string, Tally>();
  for (const f of alerts) {
    const key = keyOf(f);
    const t = map.get(key);
    if (t) {
      t.count++;
      t.level = Math.max(t.level, rank(f));
    } else {
      map.set(key, { label: label(f), count: 1, level: rank(f) });
    }
  }
  return [...map.values()].sort((a, b) => b.level - a.level || b.count - a.count);
}

const levelName = (n: number): string => (n < 0 ? NA : String(n));

/** How many of `lines`, from `from` on, fit in `budget` characters joined by newlines. */
function fitting(lines: readonly string[], budget: number, from = 0): number {
  let length = -1;
  let i = from;
  while (i < lines.length && length + 1 + lines[i].length <= budget) length += 1 + lines[i++].length;
  return i - from;
}

/** `lines` joined by newlines within `budget`; when not all fit, as many as fit, then `more(hidden)`. */
function pack(lines: readonly string[], budget: number, more: (hidden: number) => string): string {
  if (fitting(lines, budget) === lines.length) return lines.join('\n');
  const shown = fitting(lines, budget - more(lines.length).length - 1); // more(hidden) is longest when all are hidden
  return [...lines.slice(0, shown), more(lines.length - shown)].join('\n');
}

/** Sum of counts of tallies from `from` on. */
const alertsIn = (tallies: Tally[], from: number): number => tallies.slice(from).reduce((n, t) => n + t.count, 0);

/**
 * ONE Slack message summarising many alerts: counts by rule and by agent (highest levels
 * first), then as many alert lines (highest levels first) as Slack's limits allow, then
 * "and N more". Every alert is counted; values that are not alerts are counted as skipped.
 */
export function slackDigest(alerts: readonly unknown[], opts: SlackDigestOptions = {}): SlackMessage {
  const facts: AlertFacts[] = [];
  let skipped = 0;
  for (const a of Array.isArray(alerts) ? alerts : []) {
    const f = alertFacts(a);
    if (f.isAlert) facts.push(f);
    else skipped++;
  }
  const total = facts.length;
  const counted = `${total} alert${total === 1 ? '' : 's'}`;
  const title = escaped(typeof opts.title === 'string' && opts.title.trim() ? opts.title : 'Armor digest', 100);
  const top = facts.reduce((n, f) => Math.max(n, rank(f)), -1);
  const rules = tally(
    facts,
    (f) => f.ruleId ?? NA,
    (f) => escaped(`${f.ruleId ?? NA} ${f.description ?? ''}`.trim(), LINE_MAX - 40),
  );
  const agents = tally(
    facts,
    (f) => (f.hasAgent ? agentText(f) : ''),
    (f) => (f.hasAgent ? escaped(agentText(f), LINE_MAX - 40) : 'no agent'),
  );

  const summary = [
    ['Alerts', String(total)],
    ['Highest level', levelName(top)],
    ['Rules', String(rules.length)],
    ['Agents', String(agents.length)],
  ];
  if (skipped) summary.push(['Skipped (not alerts)', String(skipped)]);
  const blocks: SlackMessage[] = [
    { type: 'header', text: { type: 'plain_text', text: `${title}: ${counted}`, emoji: true } },
    { type: 'section', fields: summary.map(([name, value]) => mrkdwn(`*${name}*\n${value}`)) },
  ];

  const section = (heading: string, tallies: Tally[], noun: string, budget: number): void => {
    if (!tallies.length) return;
    const lines = tallies.map((t) => `• *${t.count}* × ${t.label} _(max level ${levelName(t.level)})_`);
    const more = (hidden: number) => `… and ${hidden} more ${noun} (${alertsIn(tallies, tallies.length - hidden)} alerts)`;
    blocks.push({ type: 'section', text: mrkdwn(`${heading}\n${pack(lines, budget - heading.length - 1, more)}`) });
  };
  section('*By rule*', rules, 'rules', 2000);
  section('*By agent*', agents, 'agents', 1500);

  const order = facts.map((f, i) => ({ f, i })).sort((a, b) => rank(b.f) - rank(a.f) || a.i - b.i);
  const lines = order.map(({ f }) => {
    const agent = f.hasAgent ? escaped(agentText(f), 80) : 'no agent';
    const line = `• \`${levelText(f)}\` ${escaped(f.ruleId ?? NA, 30)} · ${agent} · ${escaped(f.description ?? NA, LINE_MAX)}`;
    return cutSlackText(line, LINE_MAX);
  });
  const CONTEXT_ROOM = 200;
  let budget = SLACK_LIMITS.blocksText - CONTEXT_ROOM - blocks.reduce((n, b) => n + textLength(b), 0);
  let shown = 0;
  while (shown < lines.length && blocks.length < SLACK_LIMITS.blocks - 1) {
    const n = fitting(lines, Math.min(SLACK_LIMITS.sectionText, budget), shown);
    if (n === 0) break;
    const text = lines.slice(shown, shown + n).join('\n');
    blocks.push({ type: 'section', text: mrkdwn(text) });
    budget -= text.length;
    shown += n;
  }
  const hidden = total - shown;
  const context =
    total === 0
      ? 'No alerts.'
      : hidden === 0
        ? `All ${counted} shown, highest levels first.`
        : `${shown} of ${total} alerts shown, highest levels first; and ${hidden} more.`;
  blocks.push({ type: 'context', elements: [mrkdwn(context)] });

  const message = {
    text: `${title}: ${counted}, highest level ${levelName(top)}`,
    blocks,
    ...asObject(opts.options),
  };
  return fitSlackLimits(message);
}

/** Characters of text in a block (its text objects, fields and elements), as counted against `blocksText`. */
function textLength(block: unknown): number {
  const b = asObject(block);
  if (!b) return 0;
  let n = 0;
  const add = (o: unknown) => {
    const t = asObject(o)?.text;
    if (typeof t === 'string') n += t.length;
  };
  add(b.text);
  for (const list of [b.fields, b.elements]) if (Array.isArray(list)) list.forEach(add);
  return n;
}

/**
 * Slack messages for alerts (SEMANTICS 4, Slack): the manager's attachment, a Block Kit
 * layout and the merge of a user's `msg.slack` (a digest of many alerts: ./digest.ts). Pure: no HTTP.
 *
 * Everything taken from an alert is escaped (`&`, `<`, `>`), so a log line cannot ping
 * `<!channel>` or forge a link; operator-written content (`options`, `msg.slack`) is not.
 * Slack's limits are met by cutting text, never by letting Slack refuse the post.
 */
import { alertFacts, asObject, cutText, CUT_MARK, ruleLevel, type AlertFacts } from '../../alert-fields';

/** A Slack incoming-webhook body. */
export type SlackMessage = Record<string, unknown>;
export type SlackLayout = 'attachment' | 'blocks';
export type SlackColor = 'good' | 'warning' | 'danger';

/** Slack's limits. */
export const SLACK_LIMITS = {
  /** Top-level `text`: Slack truncates longer text (https://api.slack.com/changelog/2018-04-truncating-really-long-messages). */
  text: 40_000,
  /** Blocks per message (https://api.slack.com/reference/block-kit/blocks). */
  blocks: 50,
  /** Section `text`; section `fields`: items, characters per item (https://api.slack.com/reference/block-kit/blocks#section). */
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  /** Header `text` (https://docs.slack.dev/reference/block-kit/blocks/header-block). */
  headerText: 150,
  /** Context `elements` (https://api.slack.com/reference/block-kit/blocks#context). */
  contextElements: 10,
  /** Attachments per message; more are refused with `too_many_attachments` (python-slack-sdk: "the actual limit is 100"). */
  attachments: 100,
  /**
   * Text of all blocks together. Undocumented: Slack refuses `msg_blocks_too_long` at about
   * 12,000 characters including block overhead (slackapi/bolt-js#2509, #2867); we stay under 10,000.
   */
  blocksText: 10_000,
} as const;

/** Our own caps on text taken from an alert (Slack documents no attachment limits). */
const LOG_MAX = 3000; // the log excerpt: attachment `text`, the blocks' log section
const VALUE_MAX = 1000; // title and field values (keeps a whole alert under SLACK_LIMITS.blocksText)

export const NA = 'N/A';
const PRETEXT = 'Armor alert';
const DEFAULT_MAX_LOG = 165;
const EMOJI: Record<SlackColor, string> = {
  good: ':large_green_circle:',
  warning: ':large_yellow_circle:',
  danger: ':red_circle:',
};

/** Slack's escaping of text: `&`, `<`, `>` as entities (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/**
 * Slack text cut to `max` characters (UTF-16 units), ending in `…` when cut, never inside an
 * entity (`&amp;`), a `<link|label>` or a surrogate pair.
 */
export function cutSlackText(value: string, max: number): string {
  if (value.length <= max) return value;
  let body = cutText(value, max).slice(0, -1);
  body = body.replace(/&#?[A-Za-z0-9]{0,6}$/, '');
  const open = body.lastIndexOf('<');
  if (open > body.lastIndexOf('>')) body = body.slice(0, open);
  return body + CUT_MARK;
}

/** Alert text escaped and cut to `max` characters. */
export function escaped(value: string, max: number): string {
  // Escaping never shortens text: characters past `max` can never be shown.
  return cutSlackText(slackEscape(value.length > max ? value.slice(0, max + 1) : value), max);
}

/** The manager's colors: `good` up to level 4, `warning` 5-7, `danger` from 8. What is not a level from 0 to 16 (ruleLevel) counts as 0. */
export function slackColor(level: unknown): SlackColor {
  const n = ruleLevel(level);
  return !(n > 4) ? 'good' : n < 8 ? 'warning' : 'danger';
}

export const levelText = (f: AlertFacts): string => (f.level === undefined ? NA : String(f.level));
export const agentText = (f: AlertFacts): string => `(${f.agentId ?? NA}) - ${f.agentName ?? NA}`;

/** The manager's fields as [title, escaped value], plus Groups when asked. */
function fieldsOf(f: AlertFacts, withGroups: boolean): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  if (f.hasAgent) fields.push(['Agent', escaped(agentText(f), VALUE_MAX)]);
  if (f.agentlessHost !== undefined) fields.push(['Agentless Host', escaped(f.agentlessHost, VALUE_MAX)]);
  fields.push(['Location', escaped(f.location ?? NA, VALUE_MAX)]);
  fields.push(['Rule ID', `${escaped(f.ruleId ?? NA, VALUE_MAX - 20)} _(Level ${levelText(f)})_`]);
  if (withGroups && f.groups.length > 0) fields.push(['Groups', escaped(f.groups.join(', '), VALUE_MAX)]);
  return fields;
}

/** The `full_log` excerpt: `maxLog` characters of the log (the last one `…` when cut), escaped, within `max`. */
function logExcerpt(fullLog: string, maxLog: number, max: number): string {
  return escaped(cutText(fullLog, maxLog), max);
}

/** The attachment of the manager's slack script, with our pretext. */
function attachmentOf(f: AlertFacts, maxLog: number): SlackMessage {
  const attachment: SlackMessage = {
    color: slackColor(f.level),
    pretext: PRETEXT,
    title: escaped(f.description ?? NA, VALUE_MAX),
  };
  if (f.fullLog !== undefined) attachment.text = logExcerpt(f.fullLog, maxLog, LOG_MAX);
  attachment.fields = fieldsOf(f, false).map(([title, value]) => ({ title, value }));
  if (f.epoch !== undefined) attachment.ts = f.epoch;
  return attachment;
}

export const mrkdwn = (text: string): SlackMessage => ({ type: 'mrkdwn', text, verbatim: true });
const FENCE = '```';

/** Block Kit: header, the log in a code block, the fields, a context line; `text` is the notification fallback. */
function blocksOf(f: AlertFacts, maxLog: number): SlackMessage {
  const color = slackColor(f.level);
  const title = escaped(f.description ?? NA, VALUE_MAX);
  const blocks: SlackMessage[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cutSlackText(`${EMOJI[color]} ${title}`, SLACK_LIMITS.headerText), emoji: true },
    },
  ];
  if (f.fullLog !== undefined) {
    // A fence inside the log would end the code block early.
    const log = logExcerpt(f.fullLog, maxLog, LOG_MAX - 2 * FENCE.length).replace(/```/g, '`\u200b`\u200b`');
    blocks.push({ type: 'section', text: mrkdwn(`${FENCE}${log}${FENCE}`) });
  }
  const fields = fieldsOf(f, true).map(([name, value]) => mrkdwn(`*${name}*\n${value}`));
  blocks.push({ type: 'section', fields });
  const context = [PRETEXT, `level ${levelText(f)}`];
  if (f.timestamp !== undefined) context.push(f.timestamp);
  if (f.id !== undefined) context.push(`id ${escaped(f.id, 100)}`);
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] });
  const on = f.hasAgent ? ` on ${escaped(agentText(f), VALUE_MAX)}` : '';
  return { text: `${PRETEXT}: ${title} (level ${levelText(f)})${on}`, blocks };
}

export interface SlackMessageOptions {
  /** Longest `full_log` excerpt, in characters (the integration's `max_log`; default 165). */
  maxLog?: number;
  /** The integration's `options`: merged into the attachment (blocks layout: into the message), shallow. */
  options?: Record<string, unknown>;
  /** `attachment` (default: the manager's message) or `blocks` (Block Kit). */
  layout?: SlackLayout;
}

/** The Slack message of one alert (SEMANTICS 4). Never throws: missing or mistyped fields show as `N/A` or are left out. */
export function buildSlackMessage(alert: unknown, opts: SlackMessageOptions = {}): SlackMessage {
  const facts = alertFacts(alert);
  const maxLog = Number.isFinite(opts.maxLog) && (opts.maxLog as number) >= 1 ? Math.floor(opts.maxLog as number) : DEFAULT_MAX_LOG;
  const options = asObject(opts.options);
  const message =
    opts.layout === 'blocks'
      ? { ...blocksOf(facts, maxLog), ...options }
      : { attachments: [{ ...attachmentOf(facts, maxLog), ...options }] };
  return fitSlackLimits(message);
}

/**
 * `override` (a user's `msg.slack`) over `base`: each top-level key of the override replaces
 * the base's key (`{ channel: '#x' }` adds a channel, `{ blocks: [...] }` replaces the blocks,
 * `{ text: 'x' }` adds a text above the attachment); a `null` value removes the key
 * (`{ attachments: null, text: 'x' }` sends only the text). A non-object override changes nothing.
 * The result is fitted to Slack's limits.
 */
export function mergeSlackOverride(base: SlackMessage, override: unknown): SlackMessage {
  const out: SlackMessage = { ...base };
  for (const [key, value] of Object.entries(asObject(override) ?? {})) {
    if (key === '__proto__' || value === undefined) continue;
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return fitSlackLimits(out);
}

/** A copy of `message` within SLACK_LIMITS: texts cut, extra blocks, fields, elements and attachments dropped. */
export function fitSlackLimits(message: SlackMessage): SlackMessage {
  const out: SlackMessage = { ...message };
  if (typeof out.text === 'string') out.text = cutSlackText(out.text, SLACK_LIMITS.text);
  if (Array.isArray(out.blocks)) out.blocks = fitBlocks(out.blocks);
  if (Array.isArray(out.attachments)) {
    out.attachments = out.attachments.slice(0, SLACK_LIMITS.attachments).map((a: unknown) => {
      const attachment = asObject(a);
      return attachment && Array.isArray(attachment.blocks) ? { ...attachment, blocks: fitBlocks(attachment.blocks) } : a;
    });
  }
  return out;
}

function fitBlocks(blocks: unknown[]): unknown[] {
  return blocks.slice(0, SLACK_LIMITS.blocks).map((b) => {
    const block = asObject(b);
    if (block?.type === 'header') return fitTextOf(block, 'text', SLACK_LIMITS.headerText);
    if (block?.type === 'section') {
      const section = fitTextOf(block, 'text', SLACK_LIMITS.sectionText);
      if (!Array.isArray(section.fields)) return section;
      const fields = section.fields.slice(0, SLACK_LIMITS.sectionFields).map((f) => fitTextObject(f, SLACK_LIMITS.fieldText));
      return { ...section, fields };
    }
    if (block?.type === 'context' && Array.isArray(block.elements) && block.elements.length > SLACK_LIMITS.contextElements) {
      return { ...block, elements: block.elements.slice(0, SLACK_LIMITS.contextElements) };
    }
    return b;
  });
}

function fitTextOf(block: SlackMessage, key: string, max: number): SlackMessage {
  const text = fitTextObject(block[key], max);
  return text === block[key] ? block : { ...block, [key]: text };
}

/** A text object `{ type, text }` with its text cut to `max`; anything else as it is. */
function fitTextObject(value: unknown, max: number): unknown {
  const o = asObject(value);
  return o && typeof o.text === 'string' && o.text.length > max ? { ...o, text: cutSlackText(o.text, max) } : value;
}

// ---------------------------------------------------------------------------------------------
// Digest

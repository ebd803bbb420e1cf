/**
 * Reads the manager's `<integration>` blocks (SEMANTICS section 2) out of any XML text: one
 * block, several, or a whole ossec.conf with several roots, comments and other sections.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { KNOWN_NAMES } from './types';
import type { ConfigIssue, Integration, ParseResult, PatternSyntax } from './types';
import { compilePattern } from './filter';
import { show } from './show';
import { describeEndpoint } from './secrets';

/** Largest config accepted, in UTF-8 bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

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

const DEFAULTS = { alertFormat: 'json', maxLog: 165, timeout: 10, retries: 3 } as const;

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

const ENV_REF = /^\$\{[A-Za-z0-9_]+\}$/;

/** Synthetic root around the text, so that several roots (as in ossec.conf) are well-formed. */
const ROOT = 'armor-config-text';
const OPEN = `<${ROOT}>`;

const META = XMLParser.getMetaDataSymbol() as unknown as symbol;
type XmlNode = Record<string, unknown> & { [META]?: { startIndex?: number } };

const parser = new XMLParser({
  preserveOrder: true,
  processEntities: false, // decoded below: the 5 predefined entities and character references only
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  captureMetaData: true,
});

/** The one way an issue is worded: where (block and tag), then what was expected and found. */
function issue(block: number, name: string | undefined, tag: string | undefined, line: number | undefined, text: string): ConfigIssue {
  const where = block < 0 ? 'config' : `integration #${block + 1}${name ? ` (${name})` : ''}`;
  const found: ConfigIssue = { block, message: `${where}: ${tag ? `<${tag}> ` : ''}${text}` };
  if (name !== undefined) found.name = name;
  if (tag !== undefined) found.tag = tag;
  if (line !== undefined) found.line = line;
  return found;
}

/**
 * Parses every `<integration>` element of `xmlText`, in document order, validating each tag
 * and applying defaults.
 *
 * Any error means the config must not be applied: callers keep the previous config and show
 * the errors. `integrations` holds only the blocks without errors (with `index` = position
 * of the block in the text), so that the editor can still preview them; warnings never stop a
 * block. An error in one block does not stop the validation of the others. Document-level
 * errors (size, DOCTYPE/ENTITY, malformed XML) have `block` -1 and leave `integrations` empty.
 */
export function parseIntegrations(xmlText: string): ParseResult {
  const { integrations, errors, warnings } = parse(xmlText, false);
  return { integrations, errors, warnings };
}

/**
 * Where something is in a config text: the offsets [start, end) of the text given to
 * `locateIntegrations`, as `String.prototype.slice` counts them (UTF-16 code units).
 */
export interface TextSpan {
  start: number;
  end: number;
}

/** A piece of an element's value: character data (entity references still in it) or the inside of a CDATA section. */
export interface ValuePart extends TextSpan {
  cdata?: true;
}

/** A `<hook_url>` or `<api_key>` element (from `<` to `>`), and the pieces its value is made of. */
export interface SecretSpan extends TextSpan {
  /** The value's pieces, in order; their text, entities decoded and trimmed, is the value. */
  parts: ValuePart[];
  /** The value is a `${ENV_VAR}` reference (a name, not a secret). */
  reference: boolean;
}

/** An `<integration>` element of the text (from `<` to `>`), in document order. */
export interface BlockSpan extends TextSpan {
  /** Position of the block in the text, as `ConfigIssue.block` and `Integration.index` count. */
  index: number;
  /** Its `<name>`, trimmed (`pagerdty` read as `pagerduty`), when it has one. */
  name?: string;
  hook_url?: SecretSpan;
  api_key?: SecretSpan;
}

/** A parse, with where each block and each secret is in the text (for an editor that edits it). */
export interface LocatedConfig extends ParseResult {
  /** Every block, valid or not; empty when the document itself has an error. */
  blocks: BlockSpan[];
}

/**
 * `parseIntegrations`, plus the position of every `<integration>` block and of its
 * `<hook_url>` / `<api_key>` elements, so that an editor can move a secret out of the text
 * without reading XML itself. Comments, CDATA sections and processing instructions are
 * skipped as the parser skips them: a block inside a comment is no block.
 */
export function locateIntegrations(xmlText: string): LocatedConfig {
  return parse(xmlText, true);
}

function parse(xmlText: string, locate: boolean): LocatedConfig {
  const result: LocatedConfig = { integrations: [], errors: [], warnings: [], blocks: [] };
  const doc = readDocument(xmlText, result.errors);
  if (!doc) return result;
  if (locate) result.blocks = locateBlocks(doc.body, doc.blocks.length);
  doc.blocks.forEach((node, index) => {
    const integration = readBlock(node, index, doc.lineAt, result);
    if (integration) result.integrations.push(integration);
  });
  if (doc.blocks.length === 0) result.warnings.push(issue(-1, undefined, undefined, undefined, 'no <integration> element found'));
  return result;
}

interface Doc {
  /** The text as parsed: a BOM and an XML declaration blanked out, every offset as in the text given. */
  body: string;
  blocks: XmlNode[];
  lineAt(node: XmlNode): number | undefined;
}

function readDocument(xmlText: string, errors: ConfigIssue[]): Doc | undefined {
  const fail = (text: string, line?: number): undefined => {
    errors.push(issue(-1, undefined, undefined, line, text));
    return undefined;
  };
  if (typeof xmlText !== 'string') return fail(`must be XML text, got ${typeof xmlText}`);
  const bytes = Buffer.byteLength(xmlText, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) return fail(`is ${bytes} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`);
  const dtd = /<!(DOCTYPE|ENTITY)/i.exec(xmlText);
  if (dtd) {
    const line = lineOf(xmlText, dtd.index);
    return fail(`<!${dtd[1].toUpperCase()} at line ${line} is refused: no DTD or entity declarations (nothing is expanded)`, line);
  }
  // Blank out a BOM and the XML declaration (it may only open a document), keeping every line where it is.
  const body = xmlText.replace(/^\uFEFF?(\s*<\?xml\s[\s\S]*?\?>)?/, (head) => head.replace(/[^\n]/g, ' '));
  const wrapped = `${OPEN}${body}</${ROOT}>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) {
    const { text, line } = describeXmlError(valid.err);
    return fail(text, line);
  }
  let tree: XmlNode[];
  try {
    tree = parser.parse(wrapped) as XmlNode[];
  } catch (e) {
    return fail(`XML could not be read: ${(e as Error).message}`);
  }
  const blocks: XmlNode[] = [];
  const collect = (nodes: XmlNode[]): void => {
    for (const node of nodes) {
      const tag = tagOf(node);
      if (tag === 'integration') blocks.push(node);
      else if (tag !== '#text' && tag !== '#cdata') collect(node[tag] as XmlNode[]);
    }
  };
  collect(tree);
  const starts = lineStarts(wrapped);
  return { body, blocks, lineAt: (node) => lineAtIndex(starts, node[META]?.startIndex) };
}

/** An element found by `scanElements`: its span, the pieces of its own text, its child elements. */
interface Scanned extends TextSpan {
  tag: string;
  parts: ValuePart[];
  children: Scanned[];
}

/**
 * The elements of a well-formed text (one that passed the validator), with their offsets.
 * fast-xml-parser gives no end offsets; this scanner knows just enough XML for them: comments,
 * CDATA sections, processing instructions, quoted attribute values (which may hold `>`).
 */
function scanElements(text: string): Scanned[] {
  const roots: Scanned[] = [];
  const open: Scanned[] = [];
  const after = (token: string, from: number): number => {
    const at = text.indexOf(token, from);
    return at < 0 ? text.length : at + token.length;
  };
  let i = 0;
  while (i < text.length) {
    const top = open.at(-1);
    const lt = text.indexOf('<', i);
    const stop = lt < 0 ? text.length : lt;
    if (top && stop > i) top.parts.push({ start: i, end: stop });
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) i = after('-->', lt + 4);
    else if (text.startsWith('<![CDATA[', lt)) {
      i = after(']]>', lt + 9);
      if (top) top.parts.push({ start: lt + 9, end: i - 3, cdata: true });
    } else if (text.startsWith('<?', lt) || text.startsWith('<!', lt)) i = after('>', lt + 2);
    else if (text[lt + 1] === '/') {
      i = after('>', lt + 2);
      const closed = open.pop();
      if (closed) closed.end = i;
    } else {
      let j = lt + 1;
      while (j < text.length && !/[\s/>]/.test(text[j])) j++;
      const tag = text.slice(lt + 1, j);
      for (let quote = ''; j < text.length; j++) {
        const c = text[j];
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      const element: Scanned = { tag, start: lt, end: j + 1, parts: [], children: [] };
      (top ? top.children : roots).push(element);
      if (text[j - 1] !== '/') open.push(element);
      i = j + 1;
    }
  }
  return roots;
}

/** The `<integration>` elements of `body` and their secrets, in the parser's order (`expected` blocks, or none). */
function locateBlocks(body: string, expected: number): BlockSpan[] {
  const found: Scanned[] = [];
  const collect = (elements: Scanned[]): void => {
    for (const e of elements) {
      if (e.tag === 'integration') found.push(e);
      else collect(e.children);
    }
  };
  collect(scanElements(body));
  // the parser is the authority: a scanner that saw other blocks says nothing rather than something wrong
  if (found.length !== expected) return [];
  const valueOf = (e: Scanned): string =>
    e.parts.map((p) => (p.cdata ? body.slice(p.start, p.end) : decodeEntities(body.slice(p.start, p.end), () => undefined))).join('').trim();
  return found.map((block, index) => {
    const span: BlockSpan = { index, start: block.start, end: block.end };
    for (const child of block.children) {
      if (child.tag === 'name' && span.name === undefined) {
        const name = valueOf(child);
        span.name = name === 'pagerdty' ? 'pagerduty' : name;
      } else if ((child.tag === 'hook_url' || child.tag === 'api_key') && span[child.tag] === undefined) {
        span[child.tag] = { start: child.start, end: child.end, parts: child.parts, reference: ENV_REF.test(valueOf(child)) };
      }
    }
    return span;
  });
}

/** A validator error, with positions of the original text and without the synthetic root. */
function describeXmlError(err: { msg: string; line: number; col: number }): { text: string; line?: number } {
  const msg = err.msg.replace(/\(opened in line 1, col (\d+)\)/, (_, col: string) => `(opened in line 1, col ${Number(col) - OPEN.length})`);
  const never = new RegExp(`^Expected closing tag '([^']+)' \\(opened in line (\\d+), col (\\d+)\\) instead of closing tag '${ROOT}'\\.$`).exec(msg);
  if (never) {
    const line = Number(never[2]);
    return { text: `XML is not well-formed: <${never[1]}> opened at line ${line}, column ${never[3]} is never closed`, line };
  }
  const unopened = new RegExp(`^Expected closing tag '${ROOT}' .* instead of closing tag '([^']+)'\\.$`).exec(msg);
  if (unopened) return { text: `XML is not well-formed at line ${err.line}: closing tag </${unopened[1]}> has no opening tag`, line: err.line };
  // Anything else that still names the synthetic root ran into the end of the text.
  if (msg.includes(ROOT)) return { text: 'XML is not well-formed: the text ends inside an unclosed comment, CDATA section or tag' };
  const col = err.line === 1 ? err.col - OPEN.length : err.col;
  return { text: `XML is not well-formed at line ${err.line}, column ${col}: ${msg}`, line: err.line };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineAtIndex(starts: number[], index: number | undefined): number | undefined {
  if (index === undefined) return undefined;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** The element name of a preserveOrder node (`#text` and `#cdata` for text). */
function tagOf(node: XmlNode): string {
  for (const key in node) if (key !== ':@') return key;
  return '';
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the 5 predefined entities and character references; anything else is reported via `bad`. */
function decodeEntities(text: string, bad: (reference: string) => void): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[^;&\s]+);/g, (reference, body: string) => {
    if (body[0] !== '#') {
      if (Object.hasOwn(XML_ENTITIES, body)) return XML_ENTITIES[body];
    } else {
      const code = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      const xmlChar =
        code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (xmlChar) return String.fromCodePoint(code);
    }
    bad(reference);
    return reference;
  });
}

/** One child element of an `<integration>` (value decoded and trimmed), or text where none belongs. */
interface Entry {
  tag?: string;
  line?: number;
  value: string;
  attrs: Record<string, string>;
  problem?: string;
}

function readEntries(block: XmlNode, lineAt: Doc['lineAt']): Entry[] {
  const entries: Entry[] = [];
  const blockLine = lineAt(block);
  for (const child of block.integration as XmlNode[]) {
    const tag = tagOf(child);
    if (tag === '#text' || tag === '#cdata') {
      const text = tag === '#text' ? (child[tag] as string) : textOf(child[tag] as XmlNode[]);
      if (text.trim()) entries.push({ line: blockLine, value: '', attrs: {}, problem: `unexpected text ${show(text.trim())} between tags` });
      continue;
    }
    const problems: string[] = [];
    const bad = (reference: string) => problems.push(`contains an unknown entity ${reference} (only &amp; &lt; &gt; &quot; &apos; and &#...; are allowed)`);
    const attrs: Record<string, string> = {};
    for (const [key, value] of Object.entries((child[':@'] ?? {}) as Record<string, string>)) attrs[key] = decodeEntities(value, bad);
    let value = '';
    for (const part of child[tag] as XmlNode[]) {
      const kind = tagOf(part);
      if (kind === '#text') value += decodeEntities(part[kind] as string, bad);
      else if (kind === '#cdata') value += textOf(part[kind] as XmlNode[]);
      else problems.push(`must hold text only, found <${kind}>`);
    }
    entries.push({ tag, line: lineAt(child), value: value.trim(), attrs, problem: problems[0] });
  }
  return entries;
}

function textOf(nodes: XmlNode[]): string {
  return nodes.map((n) => (n['#text'] as string | undefined) ?? '').join('');
}

/** Splits on `separators`, trims, drops empty tokens and repeats. */
function tokens(raw: string, separators: RegExp): string[] {
  return [...new Set(raw.split(separators).map((t) => t.trim()).filter((t) => t !== ''))];
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
  if (ENV_REF.test(value)) return true;
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
function checkTags(entries: Entry[], error: (tag: string | undefined, line: number | undefined, text: string) => void) {
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

function readBlock(node: XmlNode, index: number, lineAt: Doc['lineAt'], result: ParseResult): Integration | undefined {
  const entries = readEntries(node, lineAt);
  const blockLine = lineAt(node);
  const label = entries.find((e) => e.tag === 'name')?.value || undefined;
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const error = (tag: string | undefined, line: number | undefined, text: string): void => {
    errors.push(issue(index, label, tag, line, text));
  };
  const warn = (tag: Tag, text: string): void => {
    warnings.push(issue(index, label, tag, seen.get(tag) ?? blockLine, text));
  };

  for (const key of Object.keys(node[':@'] ?? {})) error('integration', blockLine, `has an unknown attribute ${key}`);
  const { seen, given } = checkTags(entries, error);
  const value = (tag: Tag): string | undefined => given.get(tag)?.value;
  const bad = (tag: Tag, detail = ''): undefined => {
    error(tag, given.get(tag)?.line, `must be ${EXPECT[tag]}, got ${show(value(tag))}${detail}`);
    return undefined;
  };

  // name
  let name = value('name');
  if (!seen.has('name')) error('name', blockLine, `is missing; expected ${EXPECT.name}`);
  else if (name === 'pagerdty') {
    warn('name', '"pagerdty" (the seed\'s spelling) is read as "pagerduty"');
    name = 'pagerduty';
  } else if (name !== undefined && !(KNOWN_NAMES as readonly string[]).includes(name) && !/^custom-./.test(name)) {
    name = bad('name');
  }

  // hook_url, api_key
  const hookUrl = value('hook_url');
  if (hookUrl !== undefined && !isHookUrl(hookUrl)) error('hook_url', given.get('hook_url')?.line, `must be ${EXPECT.hook_url}, got ${describeHookUrl(hookUrl)}`);
  const apiKey = value('api_key');
  if (apiKey === '') bad('api_key');
  for (const tag of (name && REQUIRED_BY_MANAGER[name]) || []) {
    if (!seen.has(tag)) warn(tag, `is missing; the manager requires it for ${name} (here it can come from the node's configuration)`);
  }

  // integers
  const integer = (tag: keyof typeof INTEGER_RANGE): number | undefined => {
    const raw = value(tag);
    if (raw === undefined) return undefined;
    const [min, max] = INTEGER_RANGE[tag];
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return n >= min && n <= max ? n : bad(tag);
  };
  const level = integer('level');

  // lists
  const ruleIds = (tag: 'rule_id' | 'exclude_rule_id'): number[] | undefined => {
    const raw = value(tag);
    if (raw === undefined) return undefined;
    const list = tokens(raw, /,/);
    const wrong = list.filter((t) => !/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)));
    if (wrong.length) return bad(tag, `: not a rule id: ${wrong.map((t) => show(t)).join(', ')}`);
    if (!list.length) return bad(tag, ': no rule id in it');
    return [...new Set(list.map(Number))];
  };
  const groups = (tag: 'group' | 'exclude_group'): string[] | undefined => {
    const raw = value(tag);
    if (raw === undefined) return undefined;
    const list = tokens(raw, /[|,]/);
    return list.length ? list : bad(tag, ': no group name in it');
  };
  const groupList = groups('group');
  if (name === 'virustotal' && groupList?.some((g) => g !== 'syscheck')) {
    warn('group', `virustotal only receives alerts of the syscheck group; ${show(groupList.join(','))} can only narrow that down`);
  }

  // event_location, exclude_location: one syntax, chosen by a `type` attribute on either
  let locationSyntax: PatternSyntax = 'os_regex';
  let syntaxTag: Tag | undefined;
  for (const tag of LOCATION_TAGS) {
    const type = given.get(tag)?.attrs.type;
    if (type === undefined) continue;
    const syntax = SYNTAX_OF.get(type.trim().toLowerCase());
    if (!syntax) error(tag, given.get(tag)?.line, `type must be osregex or osmatch (also os_regex, os_match, sregex), got ${show(type)}`);
    else if (syntaxTag && syntax !== locationSyntax) error(tag, given.get(tag)?.line, `type ${show(type)} differs from the type of <${syntaxTag}>; both patterns use one syntax`);
    else [locationSyntax, syntaxTag] = [syntax, tag];
  }
  const pattern = (tag: 'event_location' | 'exclude_location'): string | undefined => {
    const raw = value(tag);
    if (raw === undefined) return undefined;
    if (raw === '') return bad(tag, ': the pattern is empty');
    try {
      compilePattern(raw, locationSyntax);
      return raw;
    } catch (e) {
      return bad(tag, ` (${locationSyntax}): ${(e as Error).message}`);
    }
  };

  // alert_format
  const rawFormat = value('alert_format');
  const alertFormat = rawFormat === undefined || rawFormat.toLowerCase() === 'json' ? DEFAULTS.alertFormat : rawFormat;
  if (alertFormat !== DEFAULTS.alertFormat) warn('alert_format', `only json alerts are read here; ${show(alertFormat)} is ignored`);

  // options
  const rawOptions = value('options');
  const parsedOptions = rawOptions === undefined ? undefined : jsonObject(rawOptions);
  const options = typeof parsedOptions === 'string' ? bad('options', `: ${parsedOptions}`) : parsedOptions;

  const integration: Integration = {
    index,
    name: name ?? '',
    locationSyntax,
    alertFormat,
    maxLog: integer('max_log') ?? DEFAULTS.maxLog,
    timeout: integer('timeout') ?? DEFAULTS.timeout,
    retries: integer('retries') ?? DEFAULTS.retries,
  };
  const optional: Partial<Integration> = {
    hookUrl,
    apiKey,
    level,
    ruleIds: ruleIds('rule_id'),
    groups: groupList,
    eventLocation: pattern('event_location'),
    excludeGroups: groups('exclude_group'),
    excludeRuleIds: ruleIds('exclude_rule_id'),
    excludeLocation: pattern('exclude_location'),
    options,
  };
  for (const [key, v] of Object.entries(optional)) if (v !== undefined) Object.assign(integration, { [key]: v });
  // Issues in the order of the text, so that they read top to bottom like the block.
  const byLine = (a: ConfigIssue, b: ConfigIssue) => (a.line ?? Infinity) - (b.line ?? Infinity);
  result.errors.push(...errors.sort(byLine));
  result.warnings.push(...warnings.sort(byLine));
  return errors.length === 0 ? integration : undefined;
}

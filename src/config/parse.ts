/**
 * Reads the manager's `<integration>` blocks (SEMANTICS section 2) out of any XML text: one
 * block, several, or a whole ossec.conf with several roots, comments and other sections.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ConfigIssue, ParseResult } from '../types';
import { show } from '../show';
import { readBlock, type Entry } from './block';
import { ENV_REFERENCE } from './env';

/** Largest config accepted, in UTF-8 bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Deepest element nesting accepted in a config text (an element at level 101 is refused). */
export const MAX_XML_DEPTH = 100;

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
  // the synthetic root is level 0 here: the levels of the operator's text are counted
  maxNestedTags: MAX_XML_DEPTH,
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
    const integration = readBlock(
      readEntries(node, doc.lineAt),
      { index, line: doc.lineAt(node), attributes: Object.keys(node[':@'] ?? {}) },
      issue,
      result,
    );
    if (integration) result.integrations.push(integration);
  });
  if (doc.blocks.length === 0) result.warnings.push(issue(-1, undefined, undefined, undefined, 'no <integration> element found'));
  return result;
}

interface Doc {
  /** The text as parsed: a BOM and an XML declaration blanked out, every offset as in the text given. */
  body: string;
  blocks: XmlNode[];
  lineAt: (node: XmlNode) => number | undefined;
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
    const message = (e as Error).message;
    if (/nested tags exceeded/i.test(message)) return fail(`XML nesting deeper than ${MAX_XML_DEPTH} levels is refused`);
    return fail(`XML could not be read: ${message}`);
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
    e.parts
      .map((p) => (p.cdata ? body.slice(p.start, p.end) : decodeEntities(body.slice(p.start, p.end), () => undefined)))
      .join('')
      .trim();
  return found.map((block, index) => {
    const span: BlockSpan = { index, start: block.start, end: block.end };
    for (const child of block.children) {
      if (child.tag === 'name' && span.name === undefined) {
        const name = valueOf(child);
        span.name = name === 'pagerdty' ? 'pagerduty' : name;
      } else if ((child.tag === 'hook_url' || child.tag === 'api_key') && span[child.tag] === undefined) {
        span[child.tag] = { start: child.start, end: child.end, parts: child.parts, reference: ENV_REFERENCE.test(valueOf(child)) };
      }
    }
    return span;
  });
}

/** A validator error, with positions of the original text and without the synthetic root. */
function describeXmlError(err: { msg: string; line: number; col: number }): { text: string; line?: number } {
  const msg = err.msg.replace(
    /\(opened in line 1, col (\d+)\)/,
    (_, col: string) => `(opened in line 1, col ${Number(col) - OPEN.length})`,
  );
  const never = new RegExp(
    `^Expected closing tag '([^']+)' \\(opened in line (\\d+), col (\\d+)\\) instead of closing tag '${ROOT}'\\.$`,
  ).exec(msg);
  if (never) {
    const line = Number(never[2]);
    return { text: `XML is not well-formed: <${never[1]}> opened at line ${line}, column ${never[3]} is never closed`, line };
  }
  const unopened = new RegExp(`^Expected closing tag '${ROOT}' .* instead of closing tag '([^']+)'\\.$`).exec(msg);
  if (unopened)
    return { text: `XML is not well-formed at line ${err.line}: closing tag </${unopened[1]}> has no opening tag`, line: err.line };
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
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        (code >= 0x10000 && code <= 0x10ffff);
      if (xmlChar) return String.fromCodePoint(code);
    }
    bad(reference);
    return reference;
  });
}

/** One child element of an `<integration>` (value decoded and trimmed), or text where none belongs. */

function readEntries(block: XmlNode, lineAt: Doc['lineAt']): Entry[] {
  const entries: Entry[] = [];
  const blockLine = lineAt(block);
  for (const child of block.integration as XmlNode[]) {
    const tag = tagOf(child);
    if (tag === '#text' || tag === '#cdata') {
      const text = tag === '#text' ? (child[tag] as string) : textOf(child[tag] as XmlNode[]);
      if (text.trim())
        entries.push({ line: blockLine, value: '', attrs: {}, problem: `unexpected text ${show(text.trim())} between tags` });
      continue;
    }
    const problems: string[] = [];
    const bad = (reference: string) =>
      problems.push(`contains an unknown entity ${reference} (only &amp; &lt; &gt; &quot; &apos; and &#...; are allowed)`);
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

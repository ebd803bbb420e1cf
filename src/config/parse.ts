/**
 * Reads the manager's `<integration>` blocks (SEMANTICS section 2) out of any XML text: one
 * block, several, or a whole ossec.conf with several roots, comments and other sections.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ConfigIssue, ParseResult } from '../types';
import { show } from '../show';
import { readBlock, type Entry } from './block';

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
  const result: ParseResult = { integrations: [], errors: [], warnings: [] };
  const doc = readDocument(xmlText, result.errors);
  if (!doc) return result;
  doc.blocks.forEach((node, index) => {
    const integration = readBlock(readEntries(node, doc.lineAt), { index, line: doc.lineAt(node), attributes: Object.keys(node[':@'] ?? {}) }, issue, result);
    if (integration) result.integrations.push(integration);
  });
  if (doc.blocks.length === 0) result.warnings.push(issue(-1, undefined, undefined, undefined, 'no <integration> element found'));
  return result;
}

interface Doc {
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
  return { blocks, lineAt: (node) => lineAtIndex(starts, node[META]?.startIndex) };
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

/**
 * The example flows in examples/ (Node-RED lists them under Import > Examples once the
 * package is installed): importable as they are, wired correctly, free of secrets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseIntegrations } from '../../src/config/parse';
import { rowsToXml, type IntegrationRow } from '../../src/config/form';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
type FlowNode = Record<string, any> & { id: string; type: string };

const OUR_TYPES: string[] = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))['node-red'].nodes);

/** The types Node-RED's core nodes register (read from their editor files), and `tab`. */
function coreTypes(): Set<string> {
  const dir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const types = new Set(['tab']);
  for (const group of fs.readdirSync(dir)) {
    for (const file of fs.readdirSync(path.join(dir, group)).filter((f) => f.endsWith('.html'))) {
      const html = fs.readFileSync(path.join(dir, group, file), 'utf8');
      for (const m of html.matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/g)) types.add(m[1]);
    }
  }
  types.delete('unknown'); // the placeholder for a type that is not installed
  return types;
}

const files = fs
  .readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .sort();
const flows: Record<string, FlowNode[]> = Object.fromEntries(
  files.map((f) => [f, JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as FlowNode[]]),
);

/** Ids that a node refers to: its tab, its wires, its config nodes. */
function references(node: FlowNode): Array<{ id: string; type?: string }> {
  const refs: Array<{ id: string; type?: string }> = [];
  if (node.z) refs.push({ id: node.z, type: 'tab' });
  for (const port of node.wires ?? []) for (const id of port) refs.push({ id });
  if (node.type === 'armor-slack') refs.push({ id: node.webhook, type: 'armor-slack-webhook' });
  if (node.type === 'armor-pagerduty') refs.push({ id: node.service, type: 'armor-pagerduty-service' });
  return refs;
}

describe('the example flows in examples/', () => {
  it('are the four documented flows, each a JSON array of nodes', () => {
    assert.deepEqual(files, [
      'alerts-to-slack.json',
      'demo-local-receivers.json',
      'ossec-conf-to-slack-and-pagerduty.json',
      'udp-syslog-to-pagerduty.json',
    ]);
    for (const [file, nodes] of Object.entries(flows)) {
      assert.ok(Array.isArray(nodes) && nodes.length > 0, file);
      for (const n of nodes) assert.ok(typeof n.id === 'string' && typeof n.type === 'string', `${file}: ${JSON.stringify(n)}`);
    }
  });

  it("use only core node types and this package's, and together use all of ours but armor-redis (shared delivery has no example yet)", () => {
    const known = new Set([...coreTypes(), ...OUR_TYPES]);
    const used = new Set<string>();
    for (const [file, nodes] of Object.entries(flows)) {
      for (const n of nodes) {
        assert.ok(known.has(n.type), `${file}: unknown node type ${n.type}`);
        used.add(n.type);
      }
    }
    for (const type of OUR_TYPES.filter((t) => t !== 'armor-redis')) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('have stable 16-hex-digit ids, unique across all examples, and every tab, wire and config reference resolves', () => {
    const seen = new Set<string>();
    for (const [file, nodes] of Object.entries(flows)) {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const n of nodes) {
        assert.match(n.id, /^[0-9a-f]{16}$/, `${file}: id ${n.id}`);
        assert.ok(!seen.has(n.id), `${file}: id ${n.id} used twice`);
        seen.add(n.id);
        for (const ref of references(n)) {
          const target = byId.get(ref.id);
          assert.ok(target, `${file}: ${n.type} ${n.id} refers to missing ${ref.id}`);
          if (ref.type) assert.equal(target.type, ref.type, `${file}: ${n.type} ${n.id} refers to ${ref.id}`);
        }
      }
    }
  });

  it('hold no secrets: no credential values, no webhook URL, config nodes with only their documented properties', () => {
    // as the editor saves them (the pacing and outbox properties are optional)
    const CONFIG_PROPS: Record<string, string[]> = {
      'armor-slack-webhook': ['id', 'type', 'name', 'version', 'rate', 'burst', 'digestAbove', 'deadline', 'maxQueue'],
      'armor-pagerduty-service': ['id', 'type', 'name', 'version', 'region', 'url', 'client_url', 'rate', 'burst', 'deadline', 'maxQueue'],
    };
    for (const [file, nodes] of Object.entries(flows)) {
      const text = JSON.stringify(nodes);
      assert.doesNotMatch(text, /hooks\.slack\.com|events(\.eu)?\.pagerduty\.com/, file);
      for (const n of nodes) {
        // in an integration's config, hook_url/api_key may only be ${ENV} references
        if (n.type === 'armor-integration') {
          assert.doesNotMatch(String(n.xml ?? ''), /<(hook_url|api_key)>(?!\$\{)/, `${file}: literal hook_url/api_key in the XML`);
          for (const row of n.rules ?? []) assert.ok(!row.hook_url && !row.api_key, `${file}: hook_url/api_key in a form row`);
        }
        const creds = n.credentials ?? {};
        assert.ok(
          Object.values(creds).every((v) => v === '' || v === undefined),
          `${file}: ${n.id} has credential values`,
        );
        const allowed = CONFIG_PROPS[n.type];
        if (allowed) for (const key of Object.keys(n)) assert.ok(allowed.includes(key), `${file}: ${n.type} has property ${key}`);
      }
    }
  });

  it('configure every armor-integration validly, with one output wired per integration', () => {
    for (const [file, nodes] of Object.entries(flows)) {
      for (const n of nodes.filter((x) => x.type === 'armor-integration')) {
        const text = n.mode === 'xml' ? n.xml : rowsToXml(n.rules as IntegrationRow[]);
        const result = parseIntegrations(text);
        assert.deepEqual(result.errors, [], file);
        assert.ok(result.integrations.length > 0, file);
        assert.equal(n.outputs, result.integrations.length, `${file}: outputs`);
        assert.equal(n.wires.length, n.outputs, `${file}: wired outputs`);
        for (const port of n.wires) assert.ok(port.length > 0, `${file}: an integration output is not wired`);
      }
    }
  });
});

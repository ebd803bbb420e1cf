/**
 * The message catalogues (nodes/locales/en-US/<type>.json): every key the runtime code of
 * nodes/ asks RED._ for is in the catalogue of the node that asks, and the keys the delivery
 * nodes share (armor-delivery.*) say the same in both.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { slack } from '../../src/services/slack';

const NODES = path.join(__dirname, '..', '..', 'nodes');
const TYPES = [
  'armor-alerts',
  'armor-integration',
  'armor-slack',
  'armor-slack-webhook',
  'armor-pagerduty',
  'armor-pagerduty-service',
  'armor-redis',
];
const DELIVERY = ['armor-slack', 'armor-pagerduty'];
const CONFIG = ['armor-slack-webhook', 'armor-pagerduty-service'];

const catalogue = (type: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(NODES, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<string, unknown>;

/** The text at `key` (a.b.c) of a catalogue, if it is a string. */
function text(type: string, key: string): string | undefined {
  const found = key
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalogue(type));
  return typeof found === 'string' ? found : undefined;
}

/** The keys a source file passes to RED._ as a plain string. */
function keysIn(file: string): string[] {
  const source = fs.readFileSync(path.join(NODES, file), 'utf8');
  return [...source.matchAll(/RED\._\(\s*'([^']+)'/g)].map((m) => m[1]);
}

describe('the message catalogues of nodes/', () => {
  it('hold every key each node file asks for', () => {
    for (const type of TYPES) {
      const keys = keysIn(`${type}.ts`);
      for (const key of keys) assert.ok(text(type, key) !== undefined, `${type}.ts asks for ${key}, not in ${type}.json`);
    }
    assert.ok(keysIn('armor-alerts.ts').length >= 5 && keysIn('armor-integration.ts').length >= 8, 'the keys were found');
  });

  it('hold the shared delivery keys (armor-delivery.*) in both delivery nodes, alike', () => {
    const used = [...keysIn('lib/delivery-node.ts'), ...keysIn('lib/editor-api.ts')];
    assert.ok(used.length >= 15, used.join(' '));
    for (const key of used) {
      assert.match(key, /^armor-delivery\./);
      for (const type of DELIVERY) assert.ok(text(type, key) !== undefined, `${key} not in ${type}.json`);
    }
    assert.deepEqual(catalogue('armor-slack')['armor-delivery'], catalogue('armor-pagerduty')['armor-delivery']);
  });

  it("hold the keys asked for by type: the newer-version warning, the config nodes' outbox error, Slack's reasons", () => {
    for (const type of TYPES) assert.ok(text(type, `${type}.warnings.futureVersion`), type);
    for (const type of CONFIG) assert.ok(text(type, `${type}.errors.outbox`), type);
    const reasons = [
      slack.reason!({ status: 404, error: 'HTTP 404 no_service' }),
      slack.reason!({ status: 404, error: 'HTTP 404 invalid_token' }),
      slack.reason!({ status: 410, error: 'HTTP 410 channel_is_archived' }),
      slack.reason!({ status: 410, error: 'HTTP 410 gone' }),
    ];
    assert.deepEqual(reasons, ['webhookRevoked', 'webhookRevoked', 'channelArchived', 'webhookGone']);
    assert.deepEqual(
      reasons.map((r) => text('armor-slack', `armor-slack.reason.${r}`)),
      ['webhook revoked', 'webhook revoked', 'channel archived', 'webhook gone'],
    );
  });
});

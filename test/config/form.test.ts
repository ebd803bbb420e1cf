/**
 * The editor's form rows become `<integration>` XML in the runtime (src/config/form.ts, used by
 * armor-integration in form mode): every field a row holds must reach the XML, and read back
 * as the same row.
 */
import assert from 'node:assert/strict';
import { parseIntegrations } from '../../src/config/parse';
import { integrationToRow, rowsToXml, type IntegrationRow } from '../../src/config/form';

/** A row with every field the form has, each set to a value other than its default. */
const FULL: Required<IntegrationRow> = {
  name: 'slack',
  hook_url: 'https://hooks.slack.com/services/T0/B0/X?a=1&b=2',
  api_key: '${PD_KEY}',
  level: '10',
  rule_id: '5710,5712',
  group: 'authentication_failed,sshd',
  event_location: '/var/log/auth.log',
  location_syntax: 'os_match',
  exclude_group: 'ossec',
  exclude_rule_id: '1002',
  exclude_location: 'syscheck',
  alert_format: 'json',
  max_log: '300',
  options: '{"pretext":"<b>&"}',
  timeout: '5',
  retries: '2',
};

describe('form rows to <integration> XML (rowsToXml)', () => {
  it('writes every field of a row as the tag of the same name, and the XML parses back to the same row', () => {
    const xml = rowsToXml([FULL]);
    const parsed = parseIntegrations(xml);
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.integrations.length, 1);
    const [i] = parsed.integrations;
    assert.deepEqual(
      {
        level: i.level,
        ruleIds: i.ruleIds,
        groups: i.groups,
        eventLocation: i.eventLocation,
        locationSyntax: i.locationSyntax,
        excludeGroups: i.excludeGroups,
        excludeRuleIds: i.excludeRuleIds,
        excludeLocation: i.excludeLocation,
        options: i.options,
        maxLog: i.maxLog,
        timeout: i.timeout,
        retries: i.retries,
        hookUrl: i.hookUrl,
        apiKey: i.apiKey,
      },
      {
        level: 10,
        ruleIds: [5710, 5712],
        groups: ['authentication_failed', 'sshd'],
        eventLocation: '/var/log/auth.log',
        locationSyntax: 'os_match',
        excludeGroups: ['ossec'],
        excludeRuleIds: [1002],
        excludeLocation: 'syscheck',
        options: { pretext: '<b>&' },
        maxLog: 300,
        timeout: 5,
        retries: 2,
        hookUrl: FULL.hook_url,
        apiKey: '${PD_KEY}',
      },
    );
    assert.deepEqual(integrationToRow(i), FULL);
  });

  const FIELDS = Object.keys(FULL).filter((k) => k !== 'name' && k !== 'location_syntax') as Array<keyof IntegrationRow>;
  for (const field of FIELDS) {
    it(`turns a row with only <${field}> set into a block with that one tag besides <name>`, () => {
      const xml = rowsToXml([{ name: 'slack', [field]: FULL[field] }]);
      const tags = [...xml.matchAll(/<([a-z_]+)[ >]/g)].map((m) => m[1]);
      assert.deepEqual(tags, ['integration', 'name', field]);
      const { errors, integrations } = parseIntegrations(xml);
      assert.deepEqual(errors, []);
      assert.equal(integrationToRow(integrations[0])[field], FULL[field]);
    });
  }

  it('marks both location patterns as osmatch when the row says so, and leaves empty fields out', () => {
    const xml = rowsToXml([
      { name: 'slack', event_location: 'a', exclude_location: 'b', location_syntax: 'os_match', group: '  ', level: '' },
    ]);
    assert.equal(
      xml,
      '<integration>\n  <name>slack</name>\n  <event_location type="osmatch">a</event_location>\n  <exclude_location type="osmatch">b</exclude_location>\n</integration>',
    );
  });

  it('writes one block per row, in order, each parsed to its own integration', () => {
    const rows: IntegrationRow[] = [
      { name: 'slack', group: 'sshd' },
      { name: 'pagerduty', rule_id: '550' },
      { name: 'custom-x', level: '3' },
    ];
    const { errors, integrations } = parseIntegrations(rowsToXml(rows));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      integrations.map((i) => [i.index, i.name, i.groups, i.ruleIds, i.level]),
      [
        [0, 'slack', ['sshd'], undefined, undefined],
        [1, 'pagerduty', undefined, [550], undefined],
        [2, 'custom-x', undefined, undefined, 3],
      ],
    );
  });
});

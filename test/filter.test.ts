import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseIntegrations } from '../src/config/parse';
import { compileFilter, compileRouter } from '../src/filter';
import type { AlertFilter } from '../src/filter';
import type { Alert, Integration } from '../src/types';

const SHARED = path.join(__dirname, '..', '..', 'shared');
const ALERTS: Alert[] = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Alert);

/** The first sample alert of rule `id`. */
function alert(id: string): Alert {
  const found = ALERTS.find((a) => a.rule?.id === id);
  assert.ok(found, `no sample alert of rule ${id}`);
  return found;
}

/** A copy of the sample alert of rule `id` with `rule` fields replaced. */
function variant(id: string, rule: Record<string, unknown>): Alert {
  const base = structuredClone(alert(id));
  return { ...base, rule: { ...base.rule, ...rule } };
}

/** Integrations parsed from XML blocks; the config must be valid. */
function integrations(xml: string): Integration[] {
  const r = parseIntegrations(xml);
  assert.deepEqual(r.errors, []);
  return r.integrations;
}

/** The filter of one `<integration>` with `inner` tags (Slack unless `inner` names another). */
function filterOf(inner: string): AlertFilter {
  const name = inner.includes('<name>') ? '' : '<name>slack</name>';
  const [it] = integrations(`<integration>${name}${inner}</integration>`);
  return compileFilter(it);
}

/** Rule ids of the sample alerts that pass, in file order. */
const passing = (filter: AlertFilter): Array<string | undefined> => ALERTS.filter(filter).map((a) => a.rule?.id);

describe('compileFilter: alerts and non-alerts', () => {
  it('has 24 sample alerts, one of them (line 16) without a rule', () => {
    assert.equal(ALERTS.length, 24);
    assert.equal(ALERTS[15].rule, undefined);
  });

  it('passes every alert when no filter is configured, but never an object without rule', () => {
    const filter = filterOf('');
    assert.equal(ALERTS.filter(filter).length, 23);
    assert.equal(filter(ALERTS[15]), false);
  });

  it('never passes and never throws on values that are not alerts or have mistyped fields', () => {
    const everything = filterOf(
      '<level>1</level><rule_id>5712</rule_id><group>syscheck</group><event_location>x</event_location>' +
        '<exclude_group>a</exclude_group><exclude_rule_id>1</exclude_rule_id><exclude_location>y</exclude_location>',
    );
    const virustotal = filterOf('<name>virustotal</name>');
    const none = filterOf('');
    const odd: unknown[] = [
      null,
      undefined,
      42,
      'x',
      [],
      [ALERTS[1]],
      {},
      { rule: null },
      { rule: [] },
      { rule: 'x' },
      { rule: { level: 'x', id: {}, groups: 'syscheck' } },
      { rule: { level: '10', id: '5712', groups: ['syscheck'] }, location: 42, agent: 'x', manager: null, predecoder: [] },
    ];
    for (const value of odd) {
      assert.equal(everything(value), false, JSON.stringify(value));
      assert.equal(everything.explain(value).pass, false);
    }
    const verdicts = [false, false, false, false, false, false, false, false, false, false, false, true];
    assert.deepEqual(
      odd.map((v) => virustotal(v)),
      verdicts,
    );
    assert.deepEqual(
      odd.map((v) => virustotal.explain(v).pass),
      verdicts,
    );
    assert.deepEqual(
      odd.map((v) => none(v)),
      [false, false, false, false, false, false, false, false, false, false, true, true],
    );
  });
});

describe('compileFilter: <level>', () => {
  it('passes alerts whose rule.level is at least the level', () => {
    assert.deepEqual(passing(filterOf('<level>10</level>')), ['5712', '5720', '87105', '4151']);
  });

  it('treats level 0 as no filter', () => {
    assert.equal(ALERTS.filter(filterOf('<level>0</level>')).length, 23);
  });

  it('counts an absent rule.level as 0 and refuses a level that is not a number', () => {
    const filter = filterOf('<level>1</level>');
    assert.equal(filter(variant('5712', { level: undefined })), false);
    assert.equal(filter(variant('5712', { level: '10' })), false);
    assert.equal(filterOf('<level>0</level>')(variant('5712', { level: undefined })), true);
  });

  it('fails a rule.level that is not an integer from 0 to 16 (Infinity from 1e309, -1, 17, 7.5), and says why', () => {
    const filter = filterOf('<level>1</level>');
    const infinite = JSON.parse('{"rule": {"id": "5712", "level": 1e309}}');
    assert.equal(infinite.rule.level, Infinity);
    const odd = [infinite, ...[-1, 17, 7.5].map((level) => variant('5712', { level }))];
    assert.deepEqual(odd.map(filter), [false, false, false, false]);
    assert.deepEqual(
      odd.map((a) => filter.explain(a).checks[1]),
      ['Infinity', '-1', '17', '7.5'].map((n) => ({
        filter: 'level',
        pass: false,
        reason: `rule.level ${n} is not a level from 0 to 16 (a level >= 1 passes)`,
      })),
    );
    assert.deepEqual(
      [0, 1, 16].map((level) => filterOf('<level>1</level>')(variant('5712', { level }))),
      [false, true, true],
    );
    assert.equal(filterOf('<level>0</level>')(infinite), true, 'no <level> filter: the level is not read');
  });
});

describe('compileFilter: <rule_id>', () => {
  it('passes alerts whose rule id is listed', () => {
    assert.deepEqual(passing(filterOf('<rule_id>5712,5716,510</rule_id>')), ['5712', '5716', '510', '510', '510']);
  });

  it('compares numerically: the config 005712 and the alert ids "05712" and 5712 are all rule 5712', () => {
    const filter = filterOf('<rule_id>5710, 005712\n</rule_id>');
    assert.deepEqual(passing(filter), ['5712', '5710']);
    assert.equal(filter(variant('5712', { id: '05712' })), true);
    assert.equal(filter(variant('5712', { id: 5712 })), true);
  });

  it('fails alerts whose rule.id is not digits or an integer', () => {
    const filter = filterOf('<rule_id>5712</rule_id>');
    for (const id of ['5712a', ' 5712', '', '0x1650', 5712.5, null, ['5712'], undefined]) {
      assert.equal(filter(variant('5712', { id })), false, JSON.stringify(id));
    }
  });
});

describe('compileFilter: <group>', () => {
  const seed = filterOf('<group>multiple_drops,|authentication_failures,</group>');

  it('passes the seed example for an alert of each group, not for authentication_failed', () => {
    assert.equal(seed(alert('4151')), true); // firewall, multiple_drops
    assert.equal(seed(alert('5712')), true); // syslog, sshd, authentication_failures
    assert.equal(seed(alert('5716')), false); // syslog, sshd, authentication_failed
    assert.deepEqual(passing(seed), ['5712', '5720', '4151']);
  });

  it('means the same as the Wazuh 3.1+ comma list', () => {
    const comma = filterOf('<group>multiple_drops,authentication_failures</group>');
    assert.deepEqual(ALERTS.map(comma), ALERTS.map(seed));
  });

  it('compares exactly: a group name is never a prefix match', () => {
    assert.deepEqual(passing(filterOf('<group>authentication</group>')), []);
    assert.deepEqual(passing(filterOf('<group>authentication_failed</group>')), ['5716', '5710', '5503', '5557']);
  });

  it('ignores entries of rule.groups that are not strings, and fails when rule.groups is not an array', () => {
    const filter = filterOf('<group>sshd</group>');
    assert.equal(filter(variant('5712', { groups: [1, null, { sshd: 1 }, 'sshd'] })), true);
    assert.equal(filter(variant('5712', { groups: [1, null] })), false);
    assert.equal(filter(variant('5712', { groups: 'sshd' })), false);
  });
});

describe('compileFilter: <event_location>', () => {
  it('matches an agent name', () => {
    assert.deepEqual(passing(filterOf('<event_location>^Employee\\d$</event_location>')), ['60602', '60612', '60646', '19014']);
  });

  it('matches an agent IP (a plain "." is a literal dot in OS_Regex)', () => {
    assert.deepEqual(passing(filterOf('<event_location>^10.0.1.50$</event_location>')), ['5716']);
    assert.deepEqual(passing(filterOf('<event_location>^10.0.1.5$</event_location>')), []);
  });

  it('matches a log file path', () => {
    assert.deepEqual(passing(filterOf('<event_location>^/var/log/secure$</event_location>')), ['5712', '5720', '5503', '5557']);
  });

  it('matches manager.name and predecoder.hostname', () => {
    assert.deepEqual(passing(filterOf('<event_location>^jellyfish$</event_location>')), ['550']);
    assert.deepEqual(passing(filterOf('<event_location>^ip-10-0-1-50$</event_location>')), ['5716']);
  });

  it('matches the legacy composite location of an agent and of the manager (agent 000)', () => {
    assert.deepEqual(passing(filterOf('<event_location>^\\(Debian\\) 10.0.1.50->/var/log/auth.log$</event_location>')), ['5716']);
    assert.deepEqual(passing(filterOf('<event_location>^jellyfish->syscheck$</event_location>')), ['550']);
    assert.deepEqual(passing(filterOf('<event_location>^wazuh-master->wazuh-monitord$</event_location>')), ['502']);
  });

  it('anchors each field on its own', () => {
    assert.deepEqual(passing(filterOf('<event_location>^/var/log/</event_location>')), [
      '5712',
      '5716',
      '5710',
      '5720',
      '5503',
      '5557',
      '4151',
    ]);
    // "auth.log" only ends a field; no field starts with it
    assert.deepEqual(passing(filterOf('<event_location>^auth.log</event_location>')), []);
    assert.deepEqual(passing(filterOf('<event_location>auth.log$</event_location>')), ['5716', '5710']);
    // the IP is in the middle of the composite, but starts agent.ip
    assert.deepEqual(passing(filterOf('<event_location>^10.0.1.85</event_location>')), ['5710']);
  });

  it('uses OS_Match syntax with type="osmatch": literal alternatives, case-insensitive', () => {
    assert.deepEqual(passing(filterOf('<event_location type="osmatch">/VAR/LOG/SECURE|/var/log/auth.log</event_location>')), [
      '5712',
      '5716',
      '5710',
      '5720',
      '5503',
      '5557',
    ]);
    assert.deepEqual(passing(filterOf('<event_location type="osmatch">^10.0.1.50$</event_location>')), ['5716']);
  });

  it('skips fields that are absent or not strings, and fails when none is a string', () => {
    const filter = filterOf('<event_location>^Debian$</event_location>');
    const debian = structuredClone(alert('5716'));
    assert.equal(filter({ ...debian, location: 42, manager: null }), true);
    assert.equal(filter({ rule: debian.rule, location: 42, agent: 'Debian' }), false);
  });
});

describe('compileFilter: exclusions', () => {
  it('drops alerts of an excluded group', () => {
    assert.deepEqual(passing(filterOf('<group>sshd</group><exclude_group>authentication_failed</exclude_group>')), ['5712', '5720']);
  });

  it('drops alerts of an excluded rule id', () => {
    assert.deepEqual(passing(filterOf('<level>9</level><exclude_rule_id>87105,004151</exclude_rule_id>')), [
      '5712',
      '5720',
      '60602',
      '19014',
    ]);
  });

  it('drops alerts whose location matches exclude_location', () => {
    assert.deepEqual(passing(filterOf('<rule_id>5712,5716,5710,5720</rule_id><exclude_location>^/var/log/secure$</exclude_location>')), [
      '5716',
      '5710',
    ]);
  });

  it('fails an alert whose field cannot be read, since it is not known to be outside the exclusion', () => {
    assert.equal(filterOf('<exclude_group>x</exclude_group>')(variant('5712', { groups: 'sshd' })), false);
    assert.equal(filterOf('<exclude_rule_id>1</exclude_rule_id>')(variant('5712', { id: undefined })), false);
    assert.equal(filterOf('<exclude_location>x</exclude_location>')({ rule: { id: '1' } }), false);
  });
});

describe('compileFilter: virustotal', () => {
  it('passes only alerts of the syscheck group', () => {
    assert.deepEqual(passing(filterOf('<name>virustotal</name><api_key>k</api_key>')), ['550', '554', '550']);
  });

  it('and its group filter only narrows that down', () => {
    const r = parseIntegrations(
      '<integration><name>virustotal</name><api_key>k</api_key><group>syscheck_entry_added,rootcheck</group></integration>',
    );
    assert.deepEqual(passing(compileFilter(r.integrations[0])), ['554']);
  });
});

describe('compileFilter: several filters (AND)', () => {
  it('needs every configured filter to pass (rule_id 5712 and level 10, as in the integratord tests)', () => {
    const filter = filterOf('<rule_id>5712</rule_id><level>10</level>');
    assert.equal(filter(alert('5712')), true);
    assert.equal(filter(variant('5712', { level: 9 })), false);
    assert.equal(filter(alert('5720')), false);
  });

  it('combines group, level and event_location', () => {
    const filter = filterOf(
      '<group>authentication_failed,authentication_failures</group><level>5</level><event_location>^/var/log/secure$</event_location>',
    );
    assert.deepEqual(passing(filter), ['5712', '5720', '5503', '5557']);
  });
});

describe('compileFilter: explain', () => {
  it('lists the alert check, then each configured filter with its verdict and reason', () => {
    const filter = filterOf(
      '<level>10</level><group>sshd</group><event_location>^/var/log/secure$</event_location><exclude_rule_id>5720</exclude_rule_id>',
    );
    assert.deepEqual(filter.explain(alert('5716')), {
      pass: false,
      checks: [
        { filter: 'alert', pass: true, reason: 'the alert is an object with a rule object' },
        { filter: 'level', pass: false, reason: 'rule.level 5 is below 10' },
        { filter: 'group', pass: true, reason: 'rule.groups includes "sshd"' },
        { filter: 'exclude_rule_id', pass: true, reason: 'rule.id "5716" is not one of 5720' },
        {
          filter: 'event_location',
          pass: false,
          reason:
            'os_regex "^/var/log/secure$" matches none of location "/var/log/auth.log", agent.name "Debian", agent.ip "10.0.1.50", ' +
            'manager.name "ip-10-0-0-219.us-west-1.compute.internal", predecoder.hostname "ip-10-0-1-50", legacy location "(Debian) 10.0.1.50->/var/log/auth.log"',
        },
      ],
    });
    assert.deepEqual(
      filter.explain(alert('5712')).checks.map((c) => [c.filter, c.pass, c.reason]),
      [
        ['alert', true, 'the alert is an object with a rule object'],
        ['level', true, 'rule.level 10 is >= 10'],
        ['group', true, 'rule.groups includes "sshd"'],
        ['exclude_rule_id', true, 'rule.id "5712" is not one of 5720'],
        ['event_location', true, 'os_regex "^/var/log/secure$" matches location "/var/log/secure"'],
      ],
    );
  });

  it('says a missing level counts as 0, in words that read as the verdict', () => {
    const noLevel = { rule: { id: '1', groups: [] } };
    assert.deepEqual(filterOf('<level>3</level>').explain(noLevel).checks[1], {
      filter: 'level',
      pass: false,
      reason: 'rule.level is missing (counts as 0): below 3',
    });
  });

  it('stops at the alert check for a value that is not an alert', () => {
    const filter = filterOf('<level>3</level>');
    assert.deepEqual(filter.explain(ALERTS[15]).checks, [{ filter: 'alert', pass: false, reason: 'rule absent is not an object' }]);
    assert.deepEqual(filter.explain(null).checks, [{ filter: 'alert', pass: false, reason: 'the alert null is not an object' }]);
  });

  it('names the virustotal syscheck check and mistyped fields', () => {
    const verdict = filterOf('<name>virustotal</name><level>3</level>').explain(variant('550', { level: '7', groups: 'syscheck' }));
    assert.deepEqual(verdict.checks.slice(1), [
      { filter: 'level', pass: false, reason: 'rule.level "7" is not a number (a level >= 3 passes)' },
      { filter: 'virustotal_syscheck', pass: false, reason: 'rule.groups "syscheck" is not an array' },
    ]);
  });

  it('agrees with the filter on every sample alert', () => {
    const filter = filterOf(
      '<level>5</level><group>syslog,ossec,windows</group><exclude_group>rootcheck</exclude_group><event_location>\\.</event_location><exclude_location>^Centos$</exclude_location>',
    );
    for (const a of ALERTS) assert.equal(filter.explain(a).pass, filter(a), a.id);
    assert.deepEqual(passing(filter), ['550', '5712', '5716', '5710', '5503', '554', '60602', '550', '60646']);
  });
});

describe('compileRouter', () => {
  const router = compileRouter(
    integrations(
      '<integration><name>slack</name><level>10</level></integration>' +
        '<integration><name>pagerduty</name><group>authentication_failures</group></integration>' +
        '<integration><name>custom-audit</name><rule_id>5716</rule_id></integration>' +
        '<integration><name>virustotal</name></integration>',
    ),
  );

  it('sends an alert to every integration whose filter passes, in config order', () => {
    assert.deepEqual(router(alert('5712')), [0, 1]);
    assert.deepEqual(router(alert('5720')), [0, 1]);
    assert.deepEqual(router(alert('5716')), [2]);
    assert.deepEqual(router(alert('550')), [3]);
    assert.deepEqual(router(alert('87105')), [0]);
    assert.deepEqual(router(alert('60612')), []);
  });

  it('routes nothing for values that are not alerts', () => {
    for (const value of [ALERTS[15], null, 'x', [], { rule: null }]) assert.deepEqual(router(value), []);
  });

  it('routes the samples through the valid blocks of the samples config', () => {
    const r = parseIntegrations(fs.readFileSync(path.join(SHARED, 'samples', 'integration_configs.xml'), 'utf8'));
    const route = compileRouter(r.integrations);
    const names = (a: Alert) => route(a).map((i) => r.integrations[i].name);
    assert.deepEqual(names(alert('5712')), ['slack', 'slack', 'maltiverse']); // seed group; rule 5712 + level 10; level >= 5
    assert.deepEqual(names(alert('4151')), ['slack', 'maltiverse']);
    assert.deepEqual(names(alert('550')), ['maltiverse']); // virustotal needs level 10
  });
});

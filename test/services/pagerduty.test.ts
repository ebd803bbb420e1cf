import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { buildPagerDutyEvent, pagerDutyDedupKey, pagerDutySeverity, PAGERDUTY_LIMITS } from '../../src/services/pagerduty/event';
import { enqueueValidator } from '../lib/pagerduty-schema';

const SHARED = path.join(__dirname, '..', '..', '..', 'shared');
const KEY = 'R0UT1NGKEY0000000000000000000000';
type Obj = Record<string, any>;

/** The sample alerts with their 1-based line numbers, without line 16 (no `rule`: not an alert). */
const SAMPLES: Array<{ line: number; alert: Obj }> = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .map((text, i) => ({ line: i + 1, text }))
  .filter(({ line, text }) => text.trim() !== '' && line !== 16)
  .map(({ line, text }) => ({ line, alert: JSON.parse(text) }));
const sample = (line: number): Obj => SAMPLES.find((s) => s.line === line)!.alert;

const validateSchema = enqueueValidator();

/** Asserts `event` is a body PagerDuty accepts: the schema, plus what its docs require beyond it. */
function assertValid(event: Obj): void {
  assert.ok(validateSchema(event), JSON.stringify(validateSchema.errors));
  assert.ok(Buffer.byteLength(JSON.stringify(event)) <= PAGERDUTY_LIMITS.bodyBytes, 'body over 512 KB');
  assert.equal(typeof event.dedup_key, 'string');
  assert.ok(event.dedup_key.length >= 1 && event.dedup_key.length <= 255);
  if (event.event_action === 'trigger') {
    assert.equal(typeof event.payload, 'object');
    for (const key of ['summary', 'source'] as const) assert.ok(event.payload[key].trim().length > 0, key);
    assert.ok(event.payload.summary.length <= 1024);
  }
}

describe('the Events API v2 contract used by these tests', () => {
  it('refuses bodies PagerDuty refuses, so that passing it means something', () => {
    const good = { routing_key: KEY, event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'info' } };
    assert.equal(validateSchema(good), true);
    const bad: Obj[] = [
      { event_action: 'trigger' },
      { ...good, event_action: 'page' },
      { ...good, payload: { ...good.payload, severity: 'urgent' } },
      { ...good, payload: { summary: 's', severity: 'info' } },
      { ...good, payload: { ...good.payload, timestamp: '2022-09-09T23:43:15.168+0200' } },
      { ...good, payload: { ...good.payload, custom_details: 'text' } },
      { ...good, links: [{ text: 'no href' }] },
    ];
    for (const body of bad) assert.equal(validateSchema(body), false, JSON.stringify(body));
  });
});

describe('pagerDutySeverity', () => {
  it('maps levels 0-4 to info, 5-7 to warning, 8-11 to error and 12-16 to critical', () => {
    const levels = Array.from({ length: 17 }, (_, level) => pagerDutySeverity(level));
    assert.deepEqual(levels, [
      ...Array(5).fill('info'),
      ...Array(3).fill('warning'),
      ...Array(4).fill('error'),
      ...Array(5).fill('critical'),
    ]);
  });

  it('treats a level that is not a number as info', () => {
    for (const junk of ['12', undefined, null, NaN, -1, {}]) assert.equal(pagerDutySeverity(junk), 'info', inspect(junk));
  });

  it('treats a number that is not an integer from 0 to 16 (Infinity from 1e309, -1, 17, 99, 7.5, 12.5) as no level: info, level N/A', () => {
    const infinite = JSON.parse('{"rule": {"id": "5712", "level": 1e309}}');
    assert.equal(infinite.rule.level, Infinity);
    const odd = [infinite.rule.level, -1, 17, 99, 7.5, 12.5];
    assert.deepEqual(odd.map(pagerDutySeverity), Array(odd.length).fill('info'));
    for (const level of odd) {
      const event = buildPagerDutyEvent({ rule: { id: '5712', level } }, { routingKey: KEY });
      assertValid(event);
      assert.deepEqual(
        { severity: (event.payload as Obj).severity, summary: (event.payload as Obj).summary },
        { severity: 'info', summary: 'Armor alert: rule 5712, level N/A' },
        String(level),
      );
    }
    assert.equal((buildPagerDutyEvent(infinite, { routingKey: KEY }).payload as Obj).severity, 'info');
  });
});

describe('buildPagerDutyEvent: client_url', () => {
  it('sets client_url on triggers from the clientUrl option, never on acknowledge/resolve, and only as an http(s) URL', () => {
    const alert = sample(2);
    const trigger = buildPagerDutyEvent(alert, { routingKey: KEY, clientUrl: 'https://siem.example.com/app' });
    assertValid(trigger);
    assert.equal(trigger.client_url, 'https://siem.example.com/app');
    assert.equal(
      'client_url' in buildPagerDutyEvent(alert, { routingKey: KEY, action: 'resolve', clientUrl: 'https://siem.example.com/app' }),
      false,
    );
    for (const clientUrl of [undefined, '', '  ', 'siem.example.com', 'javascript:alert(1)']) {
      assert.equal('client_url' in buildPagerDutyEvent(alert, { routingKey: KEY, clientUrl }), false, String(clientUrl));
    }
    const theirs = buildPagerDutyEvent(alert, {
      routingKey: KEY,
      clientUrl: 'https://siem.example.com/app',
      options: { client_url: 'https://other.example.com/' },
    });
    assert.equal(theirs.client_url, 'https://other.example.com/', "the integration's options win");
  });
});

describe('buildPagerDutyEvent: trigger events of the real alerts', () => {
  it('builds a valid event for every one of the 23 real alerts', () => {
    assert.equal(SAMPLES.length, 23);
    for (const { line, alert } of SAMPLES) {
      const event = buildPagerDutyEvent(alert, { routingKey: KEY });
      assert.doesNotThrow(() => assertValid(event), `line ${line}`);
      assert.equal(event.event_action, 'trigger');
      assert.equal(event.routing_key, KEY);
    }
  });

  it('counts 6 info, 11 warning, 5 error and 1 critical among the real alerts', () => {
    const counts: Record<string, number> = {};
    for (const { alert } of SAMPLES) {
      const severity = (buildPagerDutyEvent(alert, { routingKey: KEY }).payload as Obj).severity;
      counts[severity] = (counts[severity] ?? 0) + 1;
    }
    assert.deepEqual(counts, { warning: 11, error: 5, info: 6, critical: 1 });
  });

  it('fills the payload of an agent alert from its fields, the alert itself as custom_details', () => {
    const alert = sample(3);
    assert.deepEqual(buildPagerDutyEvent(alert, { routingKey: KEY }), {
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: '5716/001',
      client: 'Armor Monitoring Service',
      payload: {
        summary: 'sshd: authentication failed.',
        source: 'Debian',
        severity: 'warning',
        timestamp: '2020-04-17T00:17:53.159+00:00',
        component: '/var/log/auth.log',
        group: 'syslog, sshd, authentication_failed',
        class: '5716',
        custom_details: alert,
      },
    });
  });

  it("names the manager as source of the manager's own alerts (agent 000) and keeps the local offset of the timestamp", () => {
    const payload = buildPagerDutyEvent(sample(1), { routingKey: KEY }).payload as Obj;
    assert.equal(payload.source, 'jellyfish');
    assert.equal(payload.timestamp, '2022-09-09T23:43:15.168+02:00');
    const other = buildPagerDutyEvent(sample(23), { routingKey: KEY }).payload as Obj;
    assert.equal(other.source, 'wazuh-master');
    assert.equal(
      (buildPagerDutyEvent({ ...sample(1), manager: { name: 'armor-mgr' } }, { routingKey: KEY }).payload as Obj).source,
      'armor-mgr',
    );
  });

  it('uses <rule.id>/<agent.id> as dedup key so repeats group into one incident', () => {
    const keys = SAMPLES.map(({ alert }) => buildPagerDutyEvent(alert, { routingKey: KEY }).dedup_key);
    assert.deepEqual(
      keys,
      SAMPLES.map(({ alert }) => `${alert.rule.id}/${alert.agent.id}`),
    );
    assert.equal(keys.filter((k) => k === '510/001').length, 1);
    assert.equal(keys.filter((k) => k === '87102/000').length, 2);
  });
});

describe('buildPagerDutyEvent: acknowledge and resolve', () => {
  for (const action of ['acknowledge', 'resolve'] as const) {
    it(`sends only routing_key, event_action and the trigger's dedup key to ${action}`, () => {
      const alert = sample(2);
      const trigger = buildPagerDutyEvent(alert, { routingKey: KEY });
      const event = buildPagerDutyEvent(alert, { routingKey: KEY, action, options: { client_url: 'https://x.example' } });
      assert.deepEqual(event, { routing_key: KEY, event_action: action, dedup_key: trigger.dedup_key });
      assertValid(event);
    });
  }

  it('resolves by an explicit dedup key even without an alert', () => {
    const event = buildPagerDutyEvent(undefined, { routingKey: KEY, action: 'resolve', dedupKey: '5712/000' });
    assert.deepEqual(event, { routing_key: KEY, event_action: 'resolve', dedup_key: '5712/000' });
    assertValid(event);
  });

  it("uses the options' dedup_key for triggers and for the acknowledge that follows", () => {
    const options = { dedup_key: 'armor-sshd' };
    const trigger = buildPagerDutyEvent(sample(2), { routingKey: KEY, options });
    const ack = buildPagerDutyEvent(sample(2), { routingKey: KEY, options, action: 'acknowledge' });
    assert.equal(trigger.dedup_key, 'armor-sshd');
    assert.equal(ack.dedup_key, 'armor-sshd');
    assert.equal(buildPagerDutyEvent(sample(2), { routingKey: KEY, options, dedupKey: 'mine' }).dedup_key, 'mine');
  });

  it('treats an unknown action as trigger', () => {
    const event = buildPagerDutyEvent(sample(2), { routingKey: KEY, action: 'delete' as never });
    assert.equal(event.event_action, 'trigger');
  });
});

describe('buildPagerDutyEvent: the integration options', () => {
  it('merges options at top level and an options payload into ours, keeping routing key and action', () => {
    const options = {
      client: 'SOC',
      client_url: 'https://armor.example/',
      routing_key: 'stolen',
      event_action: 'resolve',
      payload: { severity: 'critical', component: 'sshd' },
      links: [{ href: 'https://runbook.example/5712', text: 'Runbook' }],
      team: 'blue',
    };
    const event = buildPagerDutyEvent(sample(2), { routingKey: KEY, options });
    assertValid(event);
    assert.equal(event.routing_key, KEY);
    assert.equal(event.event_action, 'trigger');
    assert.equal(event.client, 'SOC');
    assert.equal(event.client_url, 'https://armor.example/');
    assert.equal(event.team, 'blue');
    assert.deepEqual(event.links, options.links);
    const payload = event.payload as Obj;
    assert.equal(payload.severity, 'critical');
    assert.equal(payload.component, 'sshd');
    assert.equal(payload.summary, 'sshd: brute force trying to get access to the system. Non existent user.');
    assert.equal(payload.source, 'localhost.localdomain');
  });

  it('repairs what options would make PagerDuty refuse: ours where required, dropped where optional', () => {
    const options = {
      client: 5,
      client_url: 'not a url',
      links: [{ text: 'no href' }],
      images: 'none',
      payload: { summary: '  ', source: 42, severity: 'urgent', timestamp: 'yesterday', group: [], custom_details: 'x' },
    };
    const event = buildPagerDutyEvent(sample(2), { routingKey: KEY, options });
    assertValid(event);
    for (const key of ['client', 'client_url', 'links', 'images']) assert.equal(key in event, false, key);
    const payload = event.payload as Obj;
    assert.deepEqual(
      { summary: payload.summary, source: payload.source, severity: payload.severity },
      {
        summary: 'sshd: brute force trying to get access to the system. Non existent user.',
        source: 'localhost.localdomain',
        severity: 'error',
      },
    );
    for (const key of ['timestamp', 'group', 'custom_details']) assert.equal(key in payload, false, key);
  });

  it('normalises a timestamp given in options', () => {
    const event = buildPagerDutyEvent(sample(2), {
      routingKey: KEY,
      options: { payload: { timestamp: '2024-02-07T15:24:54.862-0500' } },
    });
    assert.equal((event.payload as Obj).timestamp, '2024-02-07T15:24:54.862-05:00');
  });
});

describe('buildPagerDutyEvent: limits and junk', () => {
  it('cuts a summary over 1024 characters to 1024, ending in …', () => {
    const alert = { ...sample(2), rule: { ...sample(2).rule, description: 'd'.repeat(5000) } };
    const event = buildPagerDutyEvent(alert, { routingKey: KEY });
    assertValid(event);
    assert.equal((event.payload as Obj).summary, `${'d'.repeat(1023)}…`);
  });

  it('keeps long dedup keys within 255 characters and distinct', () => {
    const a = pagerDutyDedupKey(`${'k'.repeat(300)}a`);
    const b = pagerDutyDedupKey(`${'k'.repeat(300)}b`);
    assert.equal(a.length, 255);
    assert.equal(b.length, 255);
    assert.notEqual(a, b);
    assert.equal(a, pagerDutyDedupKey(`${'k'.repeat(300)}a`));
    assert.equal(pagerDutyDedupKey('5712/000'), '5712/000');
    const event = buildPagerDutyEvent(sample(2), { routingKey: KEY, dedupKey: 'x'.repeat(1000) });
    assertValid(event);
    assert.equal(
      buildPagerDutyEvent(sample(2), { routingKey: KEY, dedupKey: 'x'.repeat(1000), action: 'resolve' }).dedup_key,
      event.dedup_key,
    );
  });

  it('drops full_log first when an alert would make the body exceed 512 KB', () => {
    const alert: Obj = { ...sample(24), full_log: 'x'.repeat(600_000) };
    const event = buildPagerDutyEvent(alert, { routingKey: KEY });
    assertValid(event);
    const details = (event.payload as Obj).custom_details;
    assert.equal('full_log' in details, false);
    assert.deepEqual(details.rule, alert.rule);
    assert.equal(details.armor_note, 'full_log removed: the event was over the 512 KB limit of PagerDuty');
  });

  it('replaces custom_details by the cut JSON of the alert and a note when dropping full_log is not enough', () => {
    const alert: Obj = { ...sample(24), full_log: 'x'.repeat(10_000), data: { blob: 'é"'.repeat(400_000) } };
    const event = buildPagerDutyEvent(alert, { routingKey: KEY });
    assertValid(event);
    const size = Buffer.byteLength(JSON.stringify(event));
    assert.ok(size > PAGERDUTY_LIMITS.bodyBytes - 64, `only ${size} bytes used`);
    const details = (event.payload as Obj).custom_details;
    assert.deepEqual(Object.keys(details), ['armor_note', 'truncated_json']);
    const json = JSON.stringify(alert);
    assert.equal(
      details.armor_note,
      `custom_details cut to fit the 512 KB limit of PagerDuty; the alert's JSON was ${Buffer.byteLength(json)} bytes`,
    );
    assert.ok(details.truncated_json.endsWith('…'));
    assert.ok(json.startsWith(details.truncated_json.slice(0, -1)));
    assert.equal((event.payload as Obj).summary, alert.rule.description);
  });

  it('drops what options add beyond the fields PagerDuty defines when that alone is over 512 KB', () => {
    const big = 'o'.repeat(600_000);
    const options = { note: big, payload: { extra: big, component: big } };
    const event = buildPagerDutyEvent(sample(2), { routingKey: KEY, options });
    assertValid(event);
    assert.deepEqual(Object.keys(event), ['routing_key', 'event_action', 'dedup_key', 'client', 'payload']);
    const payload = event.payload as Obj;
    assert.deepEqual(Object.keys(payload), ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class']);
    assert.equal(payload.component, `${'o'.repeat(1023)}…`);
  });

  it('never throws on junk and still builds a valid trigger', () => {
    const junk: unknown[] = [
      null,
      undefined,
      'alert',
      42,
      [],
      {},
      { rule: null },
      { rule: { level: 'high', id: 5, description: ['x'], groups: 'sshd' }, agent: 'x', timestamp: 12 },
      { rule: { level: 14, groups: [1, 'a', null] }, agent: { id: '000' }, location: ['x'] },
    ];
    for (const alert of junk) {
      const event = buildPagerDutyEvent(alert, { routingKey: KEY });
      assert.doesNotThrow(() => assertValid(event), JSON.stringify(alert));
    }
    const payload = buildPagerDutyEvent(junk[7], { routingKey: KEY }).payload as Obj;
    assert.deepEqual(
      { summary: payload.summary, source: payload.source, severity: payload.severity, class: payload.class },
      { summary: 'Armor alert: rule 5, level N/A', source: 'unknown', severity: 'info', class: '5' },
    );
    const manager = buildPagerDutyEvent(junk[8], { routingKey: KEY });
    assert.equal(manager.dedup_key, 'none/000');
    assert.deepEqual(
      { source: (manager.payload as Obj).source, severity: (manager.payload as Obj).severity, group: (manager.payload as Obj).group },
      { source: 'Armor manager', severity: 'critical', group: 'a' },
    );
  });

  it('leaves out a timestamp that is not a real date-time', () => {
    for (const timestamp of ['2022-13-01T00:00:00.000+0000', '2023-02-29T10:00:00+0000', 'Sep 9 23:43:15', '2022-09-09 23:43:15']) {
      const payload = buildPagerDutyEvent({ ...sample(3), timestamp }, { routingKey: KEY }).payload as Obj;
      assert.equal('timestamp' in payload, false, timestamp);
    }
    const leap = buildPagerDutyEvent({ ...sample(3), timestamp: '2024-02-29T10:00:00Z' }, { routingKey: KEY });
    assert.equal((leap.payload as Obj).timestamp, '2024-02-29T10:00:00Z');
  });
});

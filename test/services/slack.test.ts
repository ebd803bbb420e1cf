import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildSlackMessage, fitSlackLimits, mergeSlackOverride, SLACK_LIMITS, slackEscape } from '../../src/services/slack/message';
import { slackDigest } from '../../src/services/slack/digest';

const SHARED = path.join(__dirname, '..', '..', '..', 'shared');
type Obj = Record<string, any>;

/** Every line of the sample file (line 16 has no `rule`), with its 1-based number. */
const LINES: Array<{ line: number; alert: Obj }> = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .map((text, i) => ({ line: i + 1, text }))
  .filter(({ text }) => text.trim() !== '')
  .map(({ line, text }) => ({ line, alert: JSON.parse(text) }));
const ALERTS = LINES.filter(({ line }) => line !== 16);
const sample = (line: number): Obj => LINES.find((s) => s.line === line)!.alert;
const attachmentOf = (message: Obj): Obj => message.attachments[0];

/** The text objects of a block: its `text`, its `fields`, its `elements`. */
function textsOf(block: Obj): string[] {
  const texts: string[] = [];
  if (typeof block.text?.text === 'string') texts.push(block.text.text);
  for (const item of [...(block.fields ?? []), ...(block.elements ?? [])]) if (typeof item.text === 'string') texts.push(item.text);
  return texts;
}

/** Asserts every Block Kit limit we enforce, and returns the characters of text of all blocks. */
function assertBlockLimits(message: Obj): number {
  assert.ok(Array.isArray(message.blocks));
  assert.ok(message.blocks.length <= SLACK_LIMITS.blocks, `${message.blocks.length} blocks`);
  assert.ok(typeof message.text === 'string' && message.text.length <= SLACK_LIMITS.text);
  let total = 0;
  for (const block of message.blocks) {
    if (block.type === 'header') assert.ok(block.text.text.length <= SLACK_LIMITS.headerText, 'header');
    if (block.type === 'section') {
      if (block.text) assert.ok(block.text.text.length <= SLACK_LIMITS.sectionText, 'section text');
      if (block.fields) {
        assert.ok(block.fields.length <= SLACK_LIMITS.sectionFields, 'fields');
        for (const f of block.fields) assert.ok(f.text.length <= SLACK_LIMITS.fieldText, 'field text');
      }
    }
    if (block.type === 'context') assert.ok(block.elements.length <= SLACK_LIMITS.contextElements);
    total += textsOf(block).reduce((n, t) => n + t.length, 0);
  }
  assert.ok(total <= SLACK_LIMITS.blocksText, `${total} characters of block text`);
  return total;
}

describe('buildSlackMessage: the manager-compatible attachment', () => {
  it('builds the attachment of the manager script for an agent alert, with our pretext', () => {
    const alert = sample(3);
    assert.deepEqual(buildSlackMessage(alert), {
      attachments: [
        {
          color: 'warning',
          pretext: 'Armor alert',
          title: 'sshd: authentication failed.',
          text: alert.full_log,
          fields: [
            { title: 'Agent', value: '(001) - Debian' },
            { title: 'Location', value: '/var/log/auth.log' },
            { title: 'Rule ID', value: '5716 _(Level 5)_' },
          ],
          ts: 1587082673,
        },
      ],
    });
  });

  it('colors 6 real alerts good (level <= 4), 11 warning (5-7) and 6 danger (>= 8)', () => {
    const byColor: Record<string, number[]> = {};
    for (const { alert } of ALERTS) {
      const color = attachmentOf(buildSlackMessage(alert)).color;
      (byColor[color] ??= []).push(alert.rule.level);
    }
    assert.deepEqual(Object.fromEntries(Object.entries(byColor).map(([c, levels]) => [c, levels.length])), {
      warning: 11,
      danger: 6,
      good: 6,
    });
    assert.ok(byColor.good.every((l) => l <= 4));
    assert.ok(byColor.warning.every((l) => l >= 5 && l <= 7));
    assert.ok(byColor.danger.every((l) => l >= 8));
  });

  it('colors the boundary levels 4/5 and 7/8, and an absent level as level 0', () => {
    const color = (level: unknown) => attachmentOf(buildSlackMessage({ rule: { level, id: '1' } })).color;
    assert.deepEqual([0, 4, 5, 7, 8, 16].map(color), ['good', 'good', 'warning', 'warning', 'danger', 'danger']);
    assert.equal(color(undefined), 'good');
    assert.equal(attachmentOf(buildSlackMessage({ rule: { id: '1' } })).fields[1].value, '1 _(Level 0)_');
  });

  it('shows a rule.level that is not an integer from 0 to 16 (Infinity from 1e309, -1, 17, 7.5) as N/A, colored as level 0', () => {
    const infinite = JSON.parse('{"rule": {"id": "1", "level": 1e309}}');
    assert.equal(infinite.rule.level, Infinity);
    const odd = [infinite, ...[-1, 17, 7.5].map((level) => ({ rule: { id: '1', level } }))];
    for (const alert of odd) {
      const what = String(alert.rule.level);
      const attachment = attachmentOf(buildSlackMessage(alert));
      assert.deepEqual([attachment.color, attachment.fields[1].value], ['good', '1 _(Level N/A)_'], what);
      const blocks = buildSlackMessage(alert, { layout: 'blocks' });
      assert.match(blocks.text as string, /\(level N\/A\)$/, what);
      const level0 = buildSlackMessage({ rule: { id: '1', level: 0 } }, { layout: 'blocks' });
      assert.equal((blocks.blocks as Obj[])[0].text.text, (level0.blocks as Obj[])[0].text.text, `${what}: the header emoji of level 0`);
    }
  });

  it('cuts full_log to max_log characters, the last one being …', () => {
    const alert = sample(1);
    assert.equal(alert.full_log.length, 586);
    assert.equal(attachmentOf(buildSlackMessage(alert)).text, `${alert.full_log.slice(0, 164)}…`);
    assert.equal(attachmentOf(buildSlackMessage(alert, { maxLog: 20 })).text, `${alert.full_log.slice(0, 19)}…`);
    assert.equal(attachmentOf(buildSlackMessage(alert, { maxLog: 1024 })).text, alert.full_log);
    const exact = { ...alert, full_log: 'x'.repeat(165) };
    assert.equal(attachmentOf(buildSlackMessage(exact)).text, exact.full_log);
  });

  it('counts max_log in characters of the log, then escapes', () => {
    const alert = { ...sample(3), full_log: '&'.repeat(50) };
    assert.equal(attachmentOf(buildSlackMessage(alert, { maxLog: 10 })).text, `${'&amp;'.repeat(9)}…`);
  });

  it("takes ts from the alert id's epoch, else from the timestamp, else leaves it out", () => {
    assert.equal(attachmentOf(buildSlackMessage(sample(18))).ts, 1707298538);
    const noId = { ...sample(3), id: undefined };
    assert.equal(attachmentOf(buildSlackMessage(noId)).ts, 1587082673);
    const neither = { ...sample(3), id: 'x', timestamp: 'yesterday' };
    assert.equal('ts' in attachmentOf(buildSlackMessage(neither)), false);
  });

  it('adds the Agentless Host field of agentless alerts, as the manager does', () => {
    const alert = { rule: { level: 3, id: '555', description: 'd' }, agentless: { host: 'root@10.0.0.9' }, location: 'agentless' };
    assert.deepEqual(attachmentOf(buildSlackMessage(alert)).fields, [
      { title: 'Agentless Host', value: 'root@10.0.0.9' },
      { title: 'Location', value: 'agentless' },
      { title: 'Rule ID', value: '555 _(Level 3)_' },
    ]);
  });

  it('merges the integration options into the attachment, replacing its keys', () => {
    const options = { color: '#123456', footer: 'Armor SOC', fields: [], mrkdwn_in: ['text'] };
    const message = buildSlackMessage(sample(3), { options });
    assert.equal(message.attachments instanceof Array && (message.attachments as unknown[]).length, 1);
    const attachment = attachmentOf(message);
    assert.deepEqual(
      { color: attachment.color, footer: attachment.footer, fields: attachment.fields, mrkdwn_in: attachment.mrkdwn_in },
      options,
    );
    assert.equal(attachment.title, 'sshd: authentication failed.');
    assert.equal(attachment.pretext, 'Armor alert');
  });

  it('shows missing or mistyped fields as N/A or leaves them out, never throwing', () => {
    assert.deepEqual(buildSlackMessage({ rule: {} }), {
      attachments: [
        {
          color: 'good',
          pretext: 'Armor alert',
          title: 'N/A',
          fields: [
            { title: 'Location', value: 'N/A' },
            { title: 'Rule ID', value: 'N/A _(Level 0)_' },
          ],
        },
      ],
    });
    const junk = { rule: { level: 'ten', id: ['x'], description: {} }, agent: { id: 7 }, location: 5, full_log: 12, id: {} };
    assert.deepEqual(attachmentOf(buildSlackMessage(junk)).fields, [
      { title: 'Agent', value: '(7) - N/A' },
      { title: 'Location', value: '5' },
      { title: 'Rule ID', value: 'N/A _(Level N/A)_' },
    ]);
    for (const value of [null, undefined, 'text', 42, [], { rule: 'x' }]) {
      for (const layout of ['attachment', 'blocks'] as const) assert.doesNotThrow(() => buildSlackMessage(value, { layout }));
    }
  });
});

describe('buildSlackMessage: escaping', () => {
  const hostile = {
    rule: { level: 12, id: '100002', description: '<!channel> deploy & <http://evil.example|click here>' },
    agent: { id: '005', name: '<!everyone>', ip: '10.0.0.5' },
    location: '<#C0123|general>',
    full_log: 'Jan 1 sshd: <!here> <@U024BE7LH> a & b > c <https://evil.example|reset password>',
    id: '<!channel>',
    timestamp: '2024-01-01T00:00:00.000+0000',
  };

  it('escapes & < > in every text taken from the alert, in the attachment', () => {
    const attachment = attachmentOf(buildSlackMessage(hostile));
    assert.equal(attachment.title, '&lt;!channel&gt; deploy &amp; &lt;http://evil.example|click here&gt;');
    assert.equal(attachment.text, slackEscape(hostile.full_log));
    assert.equal(
      attachment.text,
      'Jan 1 sshd: &lt;!here&gt; &lt;@U024BE7LH&gt; a &amp; b &gt; c &lt;https://evil.example|reset password&gt;',
    );
    assert.deepEqual(
      attachment.fields.map((f: Obj) => f.value),
      ['(005) - &lt;!everyone&gt;', '&lt;#C0123|general&gt;', '100002 _(Level 12)_'],
    );
  });

  it('leaves no < or > anywhere in either layout, so nothing can ping or link', () => {
    for (const layout of ['attachment', 'blocks'] as const) {
      const json = JSON.stringify(buildSlackMessage(hostile, { layout, maxLog: 1024 }));
      assert.equal(/[<>]/.test(json), false, `${layout}: ${json}`);
    }
    const digest = JSON.stringify(slackDigest([hostile, hostile]));
    assert.equal(/[<>]/.test(digest), false, digest);
  });

  it('turns off Slack auto-parsing of the mrkdwn texts of the blocks layout', () => {
    const message = buildSlackMessage(hostile, { layout: 'blocks' });
    for (const block of message.blocks as Obj[]) {
      for (const item of [block.text, ...(block.fields ?? []), ...(block.elements ?? [])]) {
        if (item?.type === 'mrkdwn') assert.equal(item.verbatim, true);
      }
    }
  });

  it('never cuts in the middle of an entity', () => {
    const alert = { rule: { level: 3, id: '1' }, full_log: `${'a'.repeat(2997)}&&&&&&` };
    const text = attachmentOf(buildSlackMessage(alert, { maxLog: 5000 })).text as string;
    assert.equal(text, `${'a'.repeat(2997)}…`); // not `…&a…`: the 3000th character would split `&amp;`
  });
});

describe('buildSlackMessage: Block Kit layout', () => {
  it('lays out header, log, fields and context blocks with a text fallback', () => {
    const alert = sample(2);
    assert.deepEqual(buildSlackMessage(alert, { layout: 'blocks', options: { channel: '#soc' } }), {
      text: 'Armor alert: sshd: brute force trying to get access to the system. Non existent user. (level 10) on (000) - localhost.localdomain',
      blocks: [
        {
          type: 'header',
          text: {
            type: 'plain_text',
            text: ':red_circle: sshd: brute force trying to get access to the system. Non existent user.',
            emoji: true,
          },
        },
        { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${alert.full_log}\`\`\``, verbatim: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Agent*\n(000) - localhost.localdomain', verbatim: true },
            { type: 'mrkdwn', text: '*Location*\n/var/log/secure', verbatim: true },
            { type: 'mrkdwn', text: '*Rule ID*\n5712 _(Level 10)_', verbatim: true },
            { type: 'mrkdwn', text: '*Groups*\nsyslog, sshd, authentication_failures', verbatim: true },
          ],
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'Armor alert · level 10 · 2022-05-11T12:29:19.905+00:00 · id 1652272159.1549653',
              verbatim: true,
            },
          ],
        },
      ],
      channel: '#soc',
    });
  });

  it('keeps a fence in the log from closing the code block', () => {
    const alert = { rule: { level: 3, id: '1' }, full_log: 'a```b' };
    const log = (buildSlackMessage(alert, { layout: 'blocks' }).blocks as Obj[])[1].text.text;
    assert.equal(log, '```a`\u200b`\u200b`b```');
  });
});

describe('Slack limits', () => {
  const huge = {
    rule: {
      level: 15,
      id: '9'.repeat(5000),
      description: 'D&'.repeat(5000),
      groups: Array.from({ length: 500 }, (_, i) => `group_number_${i}`),
    },
    agent: { id: '001', name: 'n'.repeat(5000), ip: '10.0.0.1' },
    agentless: { host: 'h'.repeat(5000) },
    location: 'l'.repeat(5000),
    full_log: '<'.repeat(100 * 1024),
    id: '1707089618.2257841',
    timestamp: '2024-02-04T23:33:38.102+0000',
  };

  it('keeps an alert with a 100 KB full_log and 500 groups within limits, in the attachment', () => {
    for (const maxLog of [165, 1024, 1_000_000]) {
      const message = buildSlackMessage(huge, { maxLog });
      const a = attachmentOf(message);
      assert.ok(a.text.length <= 3000, `text ${a.text.length}`);
      assert.equal(a.text, `${'&lt;'.repeat(maxLog === 165 ? 164 : 749)}…`);
      assert.ok(a.title.length <= 1000);
      for (const f of a.fields) assert.ok(f.value.length <= 1000, f.title);
      assert.ok(JSON.stringify(message).length < 10_000);
    }
  });

  it('keeps the same alert within Block Kit limits: <= 50 blocks, sections <= 3000, <= 10 fields', () => {
    const message = buildSlackMessage(huge, { layout: 'blocks', maxLog: 1_000_000 });
    assertBlockLimits(message);
    const blocks = message.blocks as Obj[];
    assert.equal(blocks[0].text.text, `:red_circle: ${'D&amp;'.repeat(22)}D…`); // 147: a partial `&am` is dropped
    assert.equal(blocks[1].text.text, `\`\`\`${'&lt;'.repeat(748)}…\`\`\``);
    assert.deepEqual(
      blocks[2].fields.map((f: Obj) => f.text.split('\n')[0]),
      ['*Agent*', '*Agentless Host*', '*Location*', '*Rule ID*', '*Groups*'],
    );
  });

  it('fits any message: top-level text, blocks, sections, fields, headers, context elements, attachments', () => {
    const section = {
      type: 'section',
      text: { type: 'mrkdwn', text: 's'.repeat(5000) },
      fields: Array.from({ length: 12 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2500) })),
    };
    const fitted: Obj = fitSlackLimits({
      text: 't'.repeat(50_000),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(200) } },
        { type: 'context', elements: Array.from({ length: 12 }, () => ({ type: 'mrkdwn', text: 'c' })) },
        ...Array.from({ length: 60 }, () => section),
      ],
      attachments: Array.from({ length: 120 }, () => ({ blocks: [section] })),
    });
    assert.equal(fitted.text, `${'t'.repeat(39_999)}…`);
    assert.equal(fitted.blocks.length, 50);
    assert.equal(fitted.blocks[0].text.text.length, 150);
    assert.equal(fitted.blocks[1].elements.length, 10);
    assert.equal(fitted.blocks[2].text.text, `${'s'.repeat(2999)}…`);
    assert.equal(fitted.blocks[2].fields.length, 10);
    assert.equal(fitted.blocks[2].fields[0].text.length, 2000);
    assert.equal(fitted.attachments.length, 100);
    assert.equal(fitted.attachments[0].blocks[0].fields.length, 10);
  });
});

describe('mergeSlackOverride (msg.slack)', () => {
  const base = buildSlackMessage(sample(3));

  it('adds keys the base does not have, such as a channel', () => {
    assert.deepEqual(mergeSlackOverride(base, { channel: '#soc', username: 'armor' }), {
      ...base,
      channel: '#soc',
      username: 'armor',
    });
  });

  it('replaces a key of the base as a whole, such as blocks or attachments', () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*mine*' } }];
    const withBlocks = mergeSlackOverride(buildSlackMessage(sample(3), { layout: 'blocks' }), { blocks });
    assert.deepEqual(withBlocks.blocks, blocks);
    const attachments = [{ text: 'only this' }];
    assert.deepEqual(mergeSlackOverride(base, { attachments }), { attachments });
  });

  it('removes a key set to null', () => {
    assert.deepEqual(mergeSlackOverride(base, { attachments: null, text: 'custom' }), { text: 'custom' });
  });

  it('changes nothing for an override that is not an object', () => {
    for (const override of [undefined, null, 'x', 5, [{ text: 'a' }]]) assert.deepEqual(mergeSlackOverride(base, override), base);
  });

  it('fits the merged message to the limits and cannot change the prototype', () => {
    const merged = mergeSlackOverride(base, JSON.parse(`{"__proto__": {"polluted": true}, "text": "${'x'.repeat(45_000)}"}`));
    assert.equal((merged.text as string).length, 40_000);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal(({} as Obj).polluted, undefined);
  });
});

describe('slackDigest', () => {
  /** 5,000 alerts over 230 rules, 70 agents and levels 0-16; every 50th lacks its agent. */
  const alerts = Array.from({ length: 5000 }, (_, i) => ({
    rule: { level: i % 17, id: String(1000 + (i % 230)), description: `Rule ${1000 + (i % 230)} fired on <input> & more` },
    ...(i % 50 === 0 ? {} : { agent: { id: String(i % 70).padStart(3, '0'), name: `host-${i % 70}` } }),
    location: '/var/log/auth.log',
    id: `${1700000000 + i}.${i}`,
  }));

  /** The counts of a "• *N* × …" section and of its "… and K more X (M alerts)" line. */
  function counted(text: string): { lines: number; alerts: number } {
    let lines = 0;
    let sum = 0;
    for (const line of text.split('\n').slice(1)) {
      const shown = /^• \*(\d+)\* × /.exec(line);
      const more = /^… and (\d+) more \w+ \((\d+) alerts\)$/.exec(line);
      if (shown) {
        lines++;
        sum += Number(shown[1]);
      } else if (more) {
        lines += Number(more[1]);
        sum += Number(more[2]);
      } else assert.fail(`unexpected line ${line}`);
    }
    return { lines, alerts: sum };
  }

  it('summarises 5,000 alerts in one message within every Slack limit', () => {
    const message = slackDigest(alerts);
    const total = assertBlockLimits(message);
    assert.ok(total > 8000, `only ${total} characters used`);
    assert.equal(message.text, 'Armor digest: 5000 alerts, highest level 16');
    const blocks = message.blocks as Obj[];
    assert.equal(blocks[0].text.text, 'Armor digest: 5000 alerts');
    assert.deepEqual(
      blocks[1].fields.map((f: Obj) => f.text),
      ['*Alerts*\n5000', '*Highest level*\n16', '*Rules*\n230', '*Agents*\n71'],
    );
  });

  it('counts every alert by rule and by agent, highest levels first', () => {
    const blocks = slackDigest(alerts).blocks as Obj[];
    const byRule = blocks[2].text.text as string;
    const byAgent = blocks[3].text.text as string;
    assert.ok(byRule.startsWith('*By rule*\n'));
    assert.ok(byAgent.startsWith('*By agent*\n'));
    assert.deepEqual(counted(byRule), { lines: 230, alerts: 5000 });
    assert.deepEqual(counted(byAgent), { lines: 71, alerts: 5000 });
    assert.match(byRule.split('\n')[1], /_\(max level 16\)_$/);
    assert.match(byRule, /\n… and \d+ more rules \(\d+ alerts\)$/);
  });

  it('lists as many alerts as fit, highest levels first, then says how many more', () => {
    const blocks = slackDigest(alerts).blocks as Obj[];
    const lines = blocks.slice(4, -1).flatMap((b) => (b.text.text as string).split('\n'));
    assert.ok(lines.length > 20, `${lines.length} lines`);
    const levels = lines.map((l) => Number(/^• `(\d+)`/.exec(l)![1]));
    assert.deepEqual(
      levels,
      [...levels].sort((a, b) => b - a),
    );
    assert.equal(levels[0], 16);
    assert.equal(lines[0], '• `16` 1016 · (016) - host-16 · Rule 1016 fired on &lt;input&gt; &amp; more');
    const context = blocks[blocks.length - 1].elements[0].text;
    assert.equal(context, `${lines.length} of 5000 alerts shown, highest levels first; and ${5000 - lines.length} more.`);
  });

  it('ranks alerts whose rule.level is not an integer from 0 to 16 (Infinity, -1, 17, 7.5) below level 0, shown as N/A', () => {
    const infinite = JSON.parse('{"rule": {"id": "900", "level": 1e309}}');
    const odd = [infinite, ...[-1, 17, 7.5].map((level, i) => ({ rule: { id: String(901 + i), level } }))];
    const message = slackDigest([...odd, { rule: { id: '800', level: 0 } }, { rule: { id: '803', level: 3 } }]);
    const blocks = message.blocks as Obj[];
    assert.equal(message.text, 'Armor digest: 6 alerts, highest level 3');
    const byRule = (blocks[2].text.text as string).split('\n').slice(1);
    assert.deepEqual(
      byRule.map((l) => /^• \*1\* × (\d+) _\(max level (.+)\)_$/.exec(l)!.slice(1)),
      [
        ['803', '3'],
        ['800', '0'],
        ['900', 'N/A'],
        ['901', 'N/A'],
        ['902', 'N/A'],
        ['903', 'N/A'],
      ],
    );
    const lines = (blocks[4].text.text as string).split('\n');
    assert.deepEqual(
      lines.map((l) => /^• `([^`]+)` (\d+)/.exec(l)!.slice(1).join(' ')),
      ['3 803', '0 800', 'N/A 900', 'N/A 901', 'N/A 902', 'N/A 903'],
    );
    assert.equal(slackDigest(odd).text, 'Armor digest: 4 alerts, highest level N/A');
  });

  it('shows every alert of a small batch and counts values that are not alerts as skipped', () => {
    const message = slackDigest(LINES.map((l) => l.alert));
    assertBlockLimits(message);
    const blocks = message.blocks as Obj[];
    assert.equal(blocks[0].text.text, 'Armor digest: 23 alerts');
    assert.equal(blocks[1].fields[4].text, '*Skipped (not alerts)*\n1');
    assert.equal(blocks[blocks.length - 1].elements[0].text, 'All 23 alerts shown, highest levels first.');
    assert.equal(blocks[4].text.text.split('\n').length, 23);
  });

  it('merges options and survives an empty or junk list', () => {
    const empty = slackDigest([], { title: 'Night <digest>', options: { channel: '#soc' } });
    assertBlockLimits(empty);
    assert.equal(empty.channel, '#soc');
    assert.equal((empty.blocks as Obj[])[0].text.text, 'Night &lt;digest&gt;: 0 alerts');
    assert.equal((empty.blocks as Obj[]).at(-1)!.elements[0].text, 'No alerts.');
    assert.doesNotThrow(() => slackDigest('nope' as never));
  });
});

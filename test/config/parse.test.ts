import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { locateIntegrations, parseIntegrations, type BlockSpan, type SecretSpan } from '../../src/config/parse';
import type { ParseResult } from '../../src/types';

const SHARED = path.join(__dirname, '..', '..', '..', 'shared');
const HOOK = 'https://hooks.slack.com/services/T0/B0/X';

/** One `<integration>` block holding `inner`. */
const block = (inner: string): ParseResult => parseIntegrations(`<integration>${inner}</integration>`);
/** A valid Slack block plus `inner`. */
const slack = (inner: string): ParseResult => block(`<name>slack</name><hook_url>${HOOK}</hook_url>${inner}`);
const errorsOf = (r: ParseResult): string[] => r.errors.map((e) => e.message);
const warningsOf = (r: ParseResult): string[] => r.warnings.map((e) => e.message);

/** The only integration of a result that must have no errors. */
function only(r: ParseResult) {
  assert.deepEqual(errorsOf(r), []);
  assert.equal(r.integrations.length, 1);
  return r.integrations[0];
}

/** The single error message of a result, which must have no integration. */
function failure(r: ParseResult): string {
  assert.equal(r.integrations.length, 0);
  assert.equal(r.errors.length, 1, JSON.stringify(errorsOf(r)));
  return r.errors[0].message;
}

describe('parseIntegrations: the document', () => {
  it('reads a lone <integration> block, applying every default', () => {
    assert.deepEqual(only(slack('')), {
      index: 0,
      name: 'slack',
      hookUrl: HOOK,
      locationSyntax: 'os_regex',
      alertFormat: 'json',
      maxLog: 165,
      timeout: 10,
      retries: 3,
    });
  });

  it('takes every <integration> of a whole ossec.conf with several roots, in document order', () => {
    const conf = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!-- Armor manager -->',
      '<ossec_config>',
      '  <global><jsonout_output>yes</jsonout_output></global>',
      '  <integration><name>slack</name><hook_url>https://example.com/a</hook_url></integration>',
      '</ossec_config>',
      '<ossec_config>',
      '  <integration><name>pagerduty</name><api_key>k</api_key></integration>',
      '  <syscheck><directories>/etc</directories></syscheck>',
      '  <integration><name>custom-x</name></integration>',
      '</ossec_config>',
    ].join('\n');
    const r = parseIntegrations(conf);
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      r.integrations.map((i) => [i.index, i.name]),
      [
        [0, 'slack'],
        [1, 'pagerduty'],
        [2, 'custom-x'],
      ],
    );
  });

  it('reports lines of the original text, after the XML declaration and across roots', () => {
    const conf =
      '<?xml version="1.0"?>\n<ossec_config/>\n<ossec_config>\n<integration>\n<name>slack</name>\n<level>high</level>\n</integration>\n</ossec_config>';
    const r = parseIntegrations(conf);
    assert.deepEqual(r.errors, [
      {
        block: 0,
        name: 'slack',
        tag: 'level',
        line: 6,
        message: 'integration #1 (slack): <level> must be an integer from 0 to 16, got "high"',
      },
    ]);
  });

  it('names the line of malformed XML, and applies nothing', () => {
    const r = parseIntegrations('<integration>\n  <name>slack</name>\n  <level>10</leve>\n</integration>');
    assert.equal(r.integrations.length, 0);
    assert.deepEqual(r.errors, [
      {
        block: -1,
        line: 3,
        message:
          "config: XML is not well-formed at line 3, column 12: Expected closing tag 'level' (opened in line 3, col 3) instead of closing tag 'leve'.",
      },
    ]);
  });

  it('says which tag is never closed, with its line, without naming any synthetic wrapper', () => {
    const r = parseIntegrations('<ossec_config>\n<integration>\n<name>slack</name>\n</ossec_config>');
    assert.equal(
      failure(r),
      "config: XML is not well-formed at line 4, column 1: Expected closing tag 'integration' (opened in line 2, col 1) instead of closing tag 'ossec_config'.",
    );
    const atEnd = parseIntegrations('<integration>\n<name>slack</name>');
    assert.equal(failure(atEnd), 'config: XML is not well-formed: <integration> opened at line 1, column 1 is never closed');
    assert.equal(atEnd.errors[0].line, 1);
    assert.equal(
      failure(parseIntegrations('<integration/>\n</integration>')),
      'config: XML is not well-formed at line 2: closing tag </integration> has no opening tag',
    );
    assert.equal(
      failure(parseIntegrations('<integration/><!-- open')),
      'config: XML is not well-formed: the text ends inside an unclosed comment, CDATA section or tag',
    );
    assert.equal(
      failure(parseIntegrations('<integration/><name')),
      'config: XML is not well-formed: the text ends inside an unclosed comment, CDATA section or tag',
    );
  });

  it('refuses <!DOCTYPE and <!ENTITY anywhere, without expanding anything', () => {
    const doctype = parseIntegrations(
      '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<integration><name>slack</name></integration>',
    );
    assert.deepEqual(doctype.errors, [
      { block: -1, line: 2, message: 'config: <!DOCTYPE at line 2 is refused: no DTD or entity declarations (nothing is expanded)' },
    ]);
    assert.equal(doctype.integrations.length, 0);
    assert.equal(
      failure(parseIntegrations('<integration>\n<name>slack</name>\n<!ENTITY a "b">\n</integration>')),
      'config: <!ENTITY at line 3 is refused: no DTD or entity declarations (nothing is expanded)',
    );
  });

  it('accepts elements nested 100 levels deep and refuses 101, saying why', () => {
    const nested = (depth: number) => `<a>`.repeat(depth - 2) + '<integration><name>slack</name></integration>' + `</a>`.repeat(depth - 2);
    assert.equal(only(parseIntegrations(nested(100))).name, 'slack'); // <name> is at level 100
    assert.equal(failure(parseIntegrations(nested(101))), 'config: XML nesting deeper than 100 levels is refused');
    const beside = (depth: number) => '<integration><name>slack</name></integration>' + '<b>'.repeat(depth) + '</b>'.repeat(depth);
    assert.equal(only(parseIntegrations(beside(100))).name, 'slack');
    assert.equal(failure(parseIntegrations(beside(101))), 'config: XML nesting deeper than 100 levels is refused');
    assert.equal(
      failure(parseIntegrations('<b>'.repeat(100_000) + '</b>'.repeat(100_000))),
      'config: XML nesting deeper than 100 levels is refused',
    );
  });

  it('refuses a config over 1 MiB counted in UTF-8 bytes, and accepts exactly 1 MiB', () => {
    const head = `<integration><name>slack</name><hook_url>${HOOK}</hook_url></integration><!--`;
    const pad = (bytes: number) => head + 'x'.repeat(bytes - head.length - 3) + '-->';
    assert.equal(parseIntegrations(pad(1024 * 1024)).integrations.length, 1);
    assert.equal(failure(parseIntegrations(pad(1024 * 1024 + 1))), 'config: is 1048577 bytes; the limit is 1048576 bytes (1 MiB)');
    // 600,000 characters, 1,200,000 bytes
    const wide = `<integration><name>slack</name></integration><!--${'é'.repeat(600_000)}-->`;
    assert.equal(wide.length, 600_052);
    assert.equal(failure(parseIntegrations(wide)), 'config: is 1200052 bytes; the limit is 1048576 bytes (1 MiB)');
  });

  it('decodes the five predefined entities and character references, and leaves CDATA as written', () => {
    const it = only(slack('<group>a&amp;b,&#x63;&#100;</group><options><![CDATA[{"text": "&amp; <b>"}]]></options>'));
    assert.deepEqual(it.groups, ['a&b', 'cd']);
    assert.deepEqual(it.options, { text: '&amp; <b>' });
  });

  it('refuses an entity that is not one of the five predefined ones', () => {
    assert.equal(
      failure(slack('<group>&nbsp;</group>')),
      'integration #1 (slack): <group> contains an unknown entity &nbsp; (only &amp; &lt; &gt; &quot; &apos; and &#...; are allowed)',
    );
  });

  it('warns when the text has no <integration> at all', () => {
    const r = parseIntegrations('<ossec_config><global/></ossec_config>');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(warningsOf(r), ['config: no <integration> element found']);
  });

  it('refuses text between tags, elements inside a value, and unknown attributes', () => {
    assert.equal(failure(slack('stray')), 'integration #1 (slack): unexpected text "stray" between tags');
    assert.equal(failure(slack('<level><b>1</b></level>')), 'integration #1 (slack): <level> must hold text only, found <b>');
    assert.equal(failure(slack('<level unit="x">1</level>')), 'integration #1 (slack): <level> has an unknown attribute unit');
    assert.equal(
      failure(parseIntegrations('<integration id="1"><name>slack</name></integration>')),
      'integration #1 (slack): <integration> has an unknown attribute id',
    );
  });

  it('refuses unknown tags, naming the tags it knows', () => {
    assert.equal(
      failure(slack('<channel>#soc</channel>')),
      'integration #1 (slack): <channel> is not a known tag; expected one of name, hook_url, api_key, level, rule_id, group, event_location, alert_format, max_log, options, timeout, retries, exclude_group, exclude_rule_id, exclude_location',
    );
  });

  it('refuses a tag given twice, naming both lines', () => {
    const r = parseIntegrations('<integration>\n<name>slack</name>\n<level>3</level>\n<level>10</level>\n</integration>');
    assert.equal(failure(r), 'integration #1 (slack): <level> is given twice (lines 3 and 4); give it once');
    assert.equal(r.errors[0].line, 4);
  });

  it('keeps validating the other blocks when one has errors, and lists issues in text order', () => {
    const r = parseIntegrations(
      '<integration>\n<name>slack</name>\n<max_log>9</max_log>\n<level>x</level>\n</integration>\n<integration><name>pagerduty</name><api_key>k</api_key><level>2</level></integration>',
    );
    assert.deepEqual(
      r.errors.map((e) => [e.block, e.line, e.message]),
      [
        [0, 3, 'integration #1 (slack): <max_log> must be an integer from 165 to 1024, got "9"'],
        [0, 4, 'integration #1 (slack): <level> must be an integer from 0 to 16, got "x"'],
      ],
    );
    assert.deepEqual(
      r.integrations.map((i) => [i.index, i.name, i.level]),
      [[1, 'pagerduty', 2]],
    );
  });
});

describe('parseIntegrations: the samples of ../shared', () => {
  const r = parseIntegrations(fs.readFileSync(path.join(SHARED, 'samples', 'integration_configs.xml'), 'utf8'));

  it('finds all 17 blocks and refuses exactly those with placeholders that are not values', () => {
    assert.deepEqual(
      r.errors.map((e) => `#${e.block + 1} ${e.name} <${e.tag}> line ${e.line}`),
      [
        '#1 slack <options> line 22',
        '#2 pagerduty <options> line 29',
        '#3 virustotal <options> line 39',
        '#4 shuffle <options> line 48',
        '#5 custom-integration <hook_url> line 54',
        '#5 custom-integration <options> line 59',
        '#9 shuffle <hook_url> line 104',
        '#11 slack <hook_url> line 123',
        '#13 custom-webhook <hook_url> line 135',
        '#14 custom-jira <hook_url> line 144',
        '#17 custom-integration <hook_url> line 169',
      ],
    );
    assert.deepEqual(r.warnings, []);
  });

  it('explains the placeholder errors with what was expected and what was found', () => {
    assert.equal(
      r.errors[0].message,
      `integration #1 (slack): <options> must be a JSON object, got "JSON": Unexpected token 'J', "JSON" is not valid JSON`,
    );
    assert.equal(
      r.errors[4].message,
      'integration #5 (custom-integration): <hook_url> must be an http(s) URL or ${ENV_VAR}, got a value that is not a URL (not shown: it may be a secret)',
    );
  });

  it('keeps the 7 valid blocks, in order, with their filters', () => {
    assert.deepEqual(
      r.integrations.map((i) => [i.index + 1, i.name, i.level, i.ruleIds, i.groups]),
      [
        [6, 'slack', 10, undefined, ['multiple_drops', 'authentication_failures']],
        [7, 'pagerduty', undefined, [5402], undefined],
        [8, 'slack', undefined, [5402], undefined],
        [10, 'slack', 10, [5712], undefined],
        [12, 'pagerduty', 14, undefined, undefined],
        [15, 'virustotal', 10, undefined, ['syscheck']],
        [16, 'maltiverse', 5, undefined, undefined],
      ],
    );
  });

  it('reads the inline options JSON of the last example once its hook is a URL', () => {
    const text = fs
      .readFileSync(path.join(SHARED, 'samples', 'integration_configs.xml'), 'utf8')
      .replace(
        '<hook_url>WEBHOOK</hook_url>\n      <level>10</level>\n      <group>multiple_drops,authentication_failures</group>\n      <api_key>API_KEY</api_key>',
        '<hook_url>https://example.com/hook</hook_url>\n      <level>10</level>\n      <group>multiple_drops,authentication_failures</group>\n      <api_key>API_KEY</api_key>',
      );
    const last = parseIntegrations(text).integrations.at(-1);
    assert.equal(last?.index, 16);
    assert.deepEqual(last?.options, { data: 'Custom data' });
  });
});

describe('parseIntegrations: <name>', () => {
  for (const name of ['slack', 'pagerduty', 'virustotal', 'shuffle', 'maltiverse', 'custom-jira', 'custom-my.script']) {
    it(`accepts ${name}`, () => {
      assert.equal(only(block(`<name>${name}</name><hook_url>${HOOK}</hook_url><api_key>k</api_key>`)).name, name);
    });
  }

  it('reads the seed spelling pagerdty as pagerduty, with a warning', () => {
    const r = block('<name> pagerdty </name><api_key>k</api_key>');
    assert.equal(only(r).name, 'pagerduty');
    assert.deepEqual(warningsOf(r), ['integration #1 (pagerdty): <name> "pagerdty" (the seed\'s spelling) is read as "pagerduty"']);
  });

  it('is required', () => {
    assert.equal(
      failure(block(`<hook_url>${HOOK}</hook_url>`)),
      'integration #1: <name> is missing; expected one of slack, pagerduty, virustotal, shuffle, maltiverse or custom-<anything>',
    );
  });

  for (const name of ['teams', 'Slack', 'custom-', '']) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      assert.match(
        failure(block(`<name>${name}</name>`)),
        new RegExp(`<name> must be one of slack, pagerduty, virustotal, shuffle, maltiverse or custom-<anything>, got "${name}"$`),
      );
    });
  }
});

describe('parseIntegrations: <hook_url> and <api_key>', () => {
  for (const url of ['https://hooks.slack.com/services/T0/B0/X', 'http://10.0.0.5:3001/api/v1/hooks/h', '${SLACK_HOOK}']) {
    it(`accepts the hook ${url}`, () => assert.equal(only(block(`<name>slack</name><hook_url>${url}</hook_url>`)).hookUrl, url));
  }

  const REFUSED: Array<[string, string]> = [
    ['WEBHOOK', 'a value that is not a URL (not shown: it may be a secret)'],
    ['ftp://example.com/x', 'ftp://example.com/… (the scheme is not http or https)'],
    ['hooks.slack.com/services/x', 'hooks.slack.com/… without http:// or https://'],
    ['${SLACK HOOK}', '"${SLACK HOOK}"'],
    ['', '""'],
  ];
  for (const [url, got] of REFUSED) {
    it(`refuses the hook ${JSON.stringify(url)}, saying what is wrong`, () => {
      assert.equal(
        failure(block(`<name>slack</name><hook_url>${url}</hook_url>`)),
        `integration #1 (slack): <hook_url> must be an http(s) URL or \${ENV_VAR}, got ${got}`,
      );
    });
  }

  it('never quotes the secret parts of a bad literal hook_url (path, query, fragment, user info), only scheme and host', () => {
    const SECRETS = ['T0B0S3CRETTOKEN', 'T0K3N0123456789', 'FRAGS3CRET', 'hookuser', 'P4ssw0rd'];
    const bad = [
      'hooks.slack.com/services/T0/B0/T0B0S3CRETTOKEN',
      'hooks.slack.com:8443/T0B0S3CRETTOKEN?token=T0K3N0123456789',
      'htps://hookuser:P4ssw0rd@hooks.example.com/T0B0S3CRETTOKEN?token=T0K3N0123456789#FRAGS3CRET',
      'ws://hooks.example.com/T0B0S3CRETTOKEN',
      'mailto:T0B0S3CRETTOKEN@hooks.example.com',
      'T0B0S3CRETTOKEN',
      'https//hooks.slack.com/services/T0B0S3CRETTOKEN',
      '  hookuser:P4ssw0rd@hooks.example.com/?token=T0K3N0123456789  ',
    ];
    const messages = bad.map((url) => failure(block(`<name>slack</name><hook_url>${url}</hook_url>`)));
    for (const [k, message] of messages.entries()) {
      assert.match(message, /^integration #1 \(slack\): <hook_url> must be an http\(s\) URL or \$\{ENV_VAR\}, got /, bad[k]);
      for (const secret of SECRETS) assert.ok(!message.includes(secret), `${secret} quoted for ${bad[k]}: ${message}`);
    }
    assert.deepEqual(
      messages.map((m) => m.replace(/^.*, got /, '')),
      [
        'hooks.slack.com/… without http:// or https://',
        'hooks.slack.com:8443/… without http:// or https://',
        'htps://hooks.example.com/… (the scheme is not http or https)',
        'ws://hooks.example.com/… (the scheme is not http or https)',
        'hooks.example.com without http:// or https://',
        'a value that is not a URL (not shown: it may be a secret)',
        'a value that is not a URL (not shown: it may be a secret)',
        'hooks.example.com/… without http:// or https://',
      ],
    );
  });

  it('only warns when the manager would require a missing hook_url or api_key', () => {
    const warnings = (name: string) => warningsOf(block(`<name>${name}</name>`));
    const hook = (name: string) =>
      `integration #1 (${name}): <hook_url> is missing; the manager requires it for ${name} (here it can come from the node's configuration)`;
    const key = (name: string) =>
      `integration #1 (${name}): <api_key> is missing; the manager requires it for ${name} (here it can come from the node's configuration)`;
    assert.deepEqual(warnings('slack'), [hook('slack')]);
    assert.deepEqual(warnings('shuffle'), [hook('shuffle')]);
    assert.deepEqual(warnings('maltiverse'), [hook('maltiverse'), key('maltiverse')]);
    assert.deepEqual(warnings('pagerduty'), [key('pagerduty')]);
    assert.deepEqual(warnings('virustotal'), [key('virustotal')]);
    assert.deepEqual(warnings('custom-x'), []);
    assert.equal(block('<name>slack</name>').integrations.length, 1);
  });

  it('accepts any api_key, including ${ENV_VAR}, but not an empty one', () => {
    assert.equal(only(block('<name>pagerduty</name><api_key>${PD_KEY}</api_key>')).apiKey, '${PD_KEY}');
    assert.equal(
      failure(block('<name>pagerduty</name><api_key> </api_key>')),
      'integration #1 (pagerduty): <api_key> must be a key or ${ENV_VAR}, got ""',
    );
  });
});

describe('parseIntegrations: <level>, <max_log>, <timeout>, <retries>', () => {
  it('has no level filter by default', () => assert.equal(only(slack('')).level, undefined));

  for (const [raw, level] of [
    ['  10 ', 10],
    ['0', 0],
    ['16', 16],
    ['010', 10],
  ] as const) {
    it(`reads level ${JSON.stringify(raw)} as ${level}`, () => assert.equal(only(slack(`<level>${raw}</level>`)).level, level));
  }

  for (const raw of ['high', '17', '-1', '10.5', '1e1', '', '+3', '0x10']) {
    it(`refuses level ${JSON.stringify(raw)}`, () => {
      assert.equal(
        failure(slack(`<level>${raw}</level>`)),
        `integration #1 (slack): <level> must be an integer from 0 to 16, got ${JSON.stringify(raw)}`,
      );
    });
  }

  it('reads max_log from 165 to 1024, default 165', () => {
    assert.equal(only(slack('')).maxLog, 165);
    assert.equal(only(slack('<max_log>165</max_log>')).maxLog, 165);
    assert.equal(only(slack('<max_log>1024</max_log>')).maxLog, 1024);
  });

  for (const raw of ['100', '2000', 'big']) {
    it(`refuses max_log ${raw}`, () => {
      assert.equal(
        failure(slack(`<max_log>${raw}</max_log>`)),
        `integration #1 (slack): <max_log> must be an integer from 165 to 1024, got "${raw}"`,
      );
    });
  }

  it('reads timeout (default 10) and retries (default 3) as non-negative integers', () => {
    assert.deepEqual([only(slack('')).timeout, only(slack('')).retries], [10, 3]);
    const it = only(slack('<timeout>0</timeout><retries>0</retries>'));
    assert.deepEqual([it.timeout, it.retries], [0, 0]);
    assert.equal(only(slack('<timeout>30</timeout>')).timeout, 30);
  });

  for (const tag of ['timeout', 'retries']) {
    for (const raw of ['-1', '1.5', 'ten']) {
      it(`refuses ${tag} ${raw}`, () => {
        assert.equal(
          failure(slack(`<${tag}>${raw}</${tag}>`)),
          `integration #1 (slack): <${tag}> must be a non-negative integer, got "${raw}"`,
        );
      });
    }
  }
});

describe('parseIntegrations: <rule_id> and <exclude_rule_id>', () => {
  it('reads ids around white space and newlines as numbers (005712 is 5712)', () => {
    assert.deepEqual(only(slack('<rule_id>5710, 005712\n</rule_id>')).ruleIds, [5710, 5712]);
  });

  it('ignores empty tokens such as a trailing comma', () => {
    assert.deepEqual(only(slack('<rule_id>5710,,5712,</rule_id>')).ruleIds, [5710, 5712]);
  });

  it('refuses a token that is not digits, naming it', () => {
    assert.equal(
      failure(slack('<rule_id>5710,abc</rule_id>')),
      'integration #1 (slack): <rule_id> must be comma-separated rule ids (digits), got "5710,abc": not a rule id: "abc"',
    );
    assert.match(failure(slack('<rule_id>57 10,-5</rule_id>')), /not a rule id: "57 10", "-5"$/);
  });

  it('refuses a list with no id in it', () => {
    assert.equal(
      failure(slack('<rule_id> , </rule_id>')),
      'integration #1 (slack): <rule_id> must be comma-separated rule ids (digits), got ",": no rule id in it',
    );
  });

  it('reads exclude_rule_id the same way', () => {
    assert.deepEqual(only(slack('<exclude_rule_id>510,00550</exclude_rule_id>')).excludeRuleIds, [510, 550]);
    assert.match(
      failure(slack('<exclude_rule_id>x</exclude_rule_id>')),
      /<exclude_rule_id> must be comma-separated rule ids \(digits\), got "x": not a rule id: "x"$/,
    );
  });
});

describe('parseIntegrations: <group> and <exclude_group>', () => {
  it('splits the seed value on "|" and ",", dropping empty tokens', () => {
    assert.deepEqual(only(slack('<group>multiple_drops,|authentication_failures,</group>')).groups, [
      'multiple_drops',
      'authentication_failures',
    ]);
  });

  it('reads a Wazuh 3.1+ comma list as the same groups', () => {
    assert.deepEqual(only(slack('<group>multiple_drops, authentication_failures</group>')).groups, [
      'multiple_drops',
      'authentication_failures',
    ]);
  });

  it('refuses a value with no group name in it', () => {
    assert.equal(
      failure(slack('<group>,|,</group>')),
      'integration #1 (slack): <group> must be group names separated by "," or "|", got ",|,": no group name in it',
    );
  });

  it('reads exclude_group the same way', () => {
    assert.deepEqual(only(slack('<exclude_group>|pam,syslog|</exclude_group>')).excludeGroups, ['pam', 'syslog']);
  });

  it('warns when virustotal filters on groups other than syscheck, since it only receives syscheck alerts', () => {
    const r = block('<name>virustotal</name><api_key>k</api_key><group>syscheck,rootcheck</group>');
    assert.deepEqual(only(r).groups, ['syscheck', 'rootcheck']);
    assert.deepEqual(warningsOf(r), [
      'integration #1 (virustotal): <group> virustotal only receives alerts of the syscheck group; "syscheck,rootcheck" can only narrow that down',
    ]);
    assert.deepEqual(warningsOf(block('<name>virustotal</name><api_key>k</api_key><group>syscheck</group>')), []);
  });
});

describe('parseIntegrations: <event_location> and <exclude_location>', () => {
  it('keeps the pattern as written, in os_regex syntax by default', () => {
    const it = only(slack('<event_location>^/var/log/</event_location>'));
    assert.deepEqual([it.eventLocation, it.locationSyntax], ['^/var/log/', 'os_regex']);
  });

  for (const [type, syntax] of [
    ['osregex', 'os_regex'],
    ['os_regex', 'os_regex'],
    ['osmatch', 'os_match'],
    ['os_match', 'os_match'],
    ['sregex', 'os_match'],
    ['OSMatch', 'os_match'],
  ]) {
    it(`selects ${syntax} with type="${type}"`, () => {
      assert.equal(only(slack(`<event_location type="${type}">web</event_location>`)).locationSyntax, syntax);
    });
  }

  it('takes the syntax from <exclude_location type> too, and refuses two different types', () => {
    assert.equal(only(slack('<exclude_location type="osmatch">x</exclude_location>')).locationSyntax, 'os_match');
    assert.equal(
      failure(slack('<event_location type="osmatch">a</event_location><exclude_location type="osregex">b</exclude_location>')),
      'integration #1 (slack): <exclude_location> type "osregex" differs from the type of <event_location>; both patterns use one syntax',
    );
  });

  it('refuses an unknown type', () => {
    assert.equal(
      failure(slack('<event_location type="pcre2">a</event_location>')),
      'integration #1 (slack): <event_location> type must be osregex or osmatch (also os_regex, os_match, sregex), got "pcre2"',
    );
  });

  it('refuses a pattern that does not compile, with the engine message and position', () => {
    assert.equal(
      failure(slack('<event_location>web\\z</event_location>')),
      'integration #1 (slack): <event_location> must be a valid pattern, got "web\\\\z" (os_regex): unknown escape "\\z" at position 4; OS_Regex knows \\w \\d \\s \\t \\p \\W \\D \\S \\. \\\\ \\( \\) \\$ \\| \\<',
    );
    assert.match(
      failure(slack('<exclude_location>(a|b)</exclude_location>')),
      /^integration #1 \(slack\): <exclude_location> must be a valid pattern, got "\(a\|b\)" \(os_regex\): .*position/,
    );
  });

  it('refuses an empty pattern', () => {
    assert.equal(
      failure(slack('<event_location> </event_location>')),
      'integration #1 (slack): <event_location> must be a valid pattern, got "": the pattern is empty',
    );
  });
});

describe('parseIntegrations: <alert_format> and <options>', () => {
  it('reads alert_format json (any case) silently, and warns on anything else', () => {
    assert.equal(only(slack('<alert_format>JSON</alert_format>')).alertFormat, 'json');
    const r = slack('<alert_format>text</alert_format>');
    assert.equal(only(r).alertFormat, 'text');
    assert.deepEqual(warningsOf(r), ['integration #1 (slack): <alert_format> only json alerts are read here; "text" is ignored']);
  });

  it('reads options as a JSON object', () => {
    assert.deepEqual(only(slack('<options>{"channel": "#soc", "n": [1]}</options>')).options, { channel: '#soc', n: [1] });
  });

  for (const [raw, why] of [
    ['[1]', 'that is an array'],
    ['null', 'that is null'],
    ['"x"', 'that is a string'],
    ['3', 'that is a number'],
    ['{"__proto__": {"x": 1}}', 'the key "__proto__" is not allowed'],
  ]) {
    it(`refuses options ${raw}`, () => {
      assert.equal(
        failure(slack(`<options>${raw}</options>`)),
        `integration #1 (slack): <options> must be a JSON object, got ${JSON.stringify(raw)}: ${why}`,
      );
    });
  }

  it('quotes the JSON parser message for options that do not parse', () => {
    let expected = '';
    try {
      JSON.parse('{bad');
    } catch (e) {
      expected = (e as Error).message;
    }
    assert.equal(
      failure(slack('<options>{bad</options>')),
      `integration #1 (slack): <options> must be a JSON object, got "{bad": ${expected}`,
    );
  });
});

describe('locateIntegrations: where the blocks and their secrets are in the text', () => {
  /** The text of a located span. */
  const at = (xml: string, span: { start: number; end: number }) => xml.slice(span.start, span.end);
  /** A secret's value as its pieces give it (entities decoded, CDATA as written, trimmed), as an editor reads it. */
  const valueOf = (xml: string, secret: SecretSpan) =>
    secret.parts
      .map((p) => (p.cdata ? at(xml, p) : at(xml, p).replace(/&amp;/g, '&').replace(/&lt;/g, '<')))
      .join('')
      .trim();
  /** `xml` with each span replaced by `text`, the last first (as the editor edits it). */
  const replaced = (xml: string, spans: Array<{ start: number; end: number }>, text: string) =>
    [...spans].sort((a, b) => b.start - a.start).reduce((out, s) => out.slice(0, s.start) + text + out.slice(s.end), xml);

  it('gives the parse of parseIntegrations, plus every block from "<" to ">", valid or not, in document order', () => {
    const xml = `<?xml version="1.0"?>\n<ossec_config>\n  <integration>\n    <name>slack</name>\n  </integration>\n  <integration><name>pagerdty</name><level>99</level></integration>\n</ossec_config>\n<ossec_config><integration/></ossec_config>`;
    const located = locateIntegrations(xml);
    const { blocks, ...result } = located;
    assert.deepEqual(result, parseIntegrations(xml));
    assert.deepEqual(
      blocks.map((b) => [b.index, b.name, at(xml, b)]),
      [
        [0, 'slack', '<integration>\n    <name>slack</name>\n  </integration>'],
        [1, 'pagerduty', '<integration><name>pagerdty</name><level>99</level></integration>'],
        [2, undefined, '<integration/>'],
      ],
    );
  });

  it('skips a commented-out block holding a literal <hook_url>: the secret of the active block is located, and replacing it leaves valid XML and the comment untouched', () => {
    const comment = `<!-- old webhook, kept for the record:\n  <integration>\n    <name>slack</name>\n    <hook_url>https://hooks.slack.com/services/T1/B1/OLDSECRET</hook_url>\n  </integration>\n-->`;
    const xml = `<ossec_config>\n  ${comment}\n  <integration>\n    <name>slack</name>\n    <hook_url>\n      ${HOOK}?a=1&amp;b=2\n    </hook_url>\n    <level>10</level>\n  </integration>\n</ossec_config>`;
    const { blocks, errors } = locateIntegrations(xml);
    assert.deepEqual(errors, []);
    assert.equal(blocks.length, 1);
    const secret = blocks[0].hook_url!;
    assert.equal(at(xml, secret), `<hook_url>\n      ${HOOK}?a=1&amp;b=2\n    </hook_url>`);
    assert.equal(valueOf(xml, secret), `${HOOK}?a=1&b=2`);
    assert.equal(secret.reference, false);
    const moved = replaced(xml, [secret], '<!-- hook_url moved -->');
    assert.ok(moved.includes(comment), 'the comment is as it was');
    const again = parseIntegrations(moved);
    assert.deepEqual(again.errors, []);
    assert.deepEqual(
      again.integrations.map((i) => [i.name, i.hookUrl, i.level]),
      [['slack', undefined, 10]],
    );
  });

  it('locates <hook_url> and <api_key> of every block, CDATA and comments inside a value, and quoted ">" in attributes', () => {
    const xml = [
      `<integration><name>pagerduty</name><api_key><![CDATA[KEY<1>]]></api_key><event_location type="osmatch" note=">">web</event_location></integration>`,
      `<integration><name>custom-x</name><hook_url>https://x.example/h<!-- no -->ook</hook_url><api_key>\${VT_KEY}</api_key></integration>`,
    ].join('\n');
    const { blocks } = locateIntegrations(xml);
    assert.equal(blocks.length, 2);
    assert.deepEqual(
      [at(xml, blocks[0].api_key!), valueOf(xml, blocks[0].api_key!), blocks[0].hook_url],
      ['<api_key><![CDATA[KEY<1>]]></api_key>', 'KEY<1>', undefined],
    );
    assert.equal(valueOf(xml, blocks[1].hook_url!), 'https://x.example/hook');
    assert.deepEqual(
      [valueOf(xml, blocks[1].api_key!), blocks[1].api_key!.reference, blocks[1].hook_url!.reference],
      ['${VT_KEY}', true, false],
    );
    assert.equal(at(xml, blocks[1]), xml.split('\n')[1]);
  });

  it('counts offsets as String.slice does, after a BOM, an XML declaration and characters outside the BMP', () => {
    const xml = `\uFEFF<?xml version="1.0" encoding="UTF-8"?><!-- 🔔 --><integration><name>slack</name><hook_url>${HOOK}</hook_url></integration>`;
    const [only]: BlockSpan[] = locateIntegrations(xml).blocks;
    assert.equal(at(xml, only.hook_url!), `<hook_url>${HOOK}</hook_url>`);
    assert.equal(at(xml, only), xml.slice(xml.indexOf('<integration>')));
  });

  it('locates nothing in a text that is not a readable document, and nothing of blocks inside a block', () => {
    assert.deepEqual(locateIntegrations('<integration><name>slack</name>').blocks, []);
    assert.deepEqual(locateIntegrations('<!DOCTYPE x><integration/>').blocks, []);
    const nested = locateIntegrations('<integration><name>slack</name><integration><hook_url>x</hook_url></integration></integration>');
    assert.deepEqual([nested.blocks.length, nested.blocks[0].hook_url], [1, undefined]);
  });

  it('gives offsets and names only: no value of a secret is in a located block', () => {
    const xml = `<integration><name>slack</name><hook_url>${HOOK}</hook_url></integration><integration><name>pagerduty</name><api_key>R0UT1NGKEY</api_key></integration>`;
    const text = JSON.stringify(locateIntegrations(xml).blocks);
    assert.ok(!text.includes('hooks.slack.com') && !text.includes('R0UT1NGKEY'), text);
  });
});

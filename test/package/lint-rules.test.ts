/**
 * The project's own lint rule for nodes/ (eslint.config.mjs): a status text is a message of the
 * catalogue, so a literal string or template literal as the text of setStatus, fail or
 * node.status fails lint; texts from RED._ (or built from its parts) pass.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

describe('lint: a literal status text in nodes/ fails', () => {
  let rule: unknown;
  before(async () => {
    // the rule as eslint.config.mjs applies it to a node file
    const config = (await new ESLint({ cwd: path.join(__dirname, '..', '..') }).calculateConfigForFile('nodes/armor-alerts.ts')) as
      { rules?: Record<string, unknown> } | undefined;
    rule = config?.rules?.['no-restricted-syntax'];
    assert.ok(rule, 'eslint.config.mjs has a no-restricted-syntax rule for nodes/');
  });

  const lint = (code: string) =>
    new Linter({ configType: 'flat' })
      .verify(
        code,
        [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, rules: { 'no-restricted-syntax': rule as Linter.RuleEntry } }],
        'nodes/x.ts',
      )
      .map((m) => `${m.line}: ${m.message}`);

  it('refuses a literal or template literal as the text of setStatus, fail and node.status', () => {
    const found = lint(
      [
        "setStatus(node, 'green', 'dot', 'sent');",
        "setStatus(node, 'green', 'dot', `sent ${n}`);",
        "fail(node, msg, send, done, err, 'not configured');",
        "node.status({ fill: 'red', shape: 'ring', text: 'disk full' });",
        'this.status({ text: `${n} alerts` });',
      ].join('\n'),
    );
    assert.deepEqual(
      found.map((f) => f.split(':')[0]),
      ['1', '2', '3', '4', '5'],
    );
    assert.match(found[0], /message catalogue/);
  });

  it('passes texts from the catalogue, joined parts, variables, and clearing the status', () => {
    const found = lint(
      [
        "setStatus(node, 'green', 'dot', RED._('armor-delivery.status.sent', { count: 1 }));",
        "setStatus(node, 'red', 'ring', joinStatus(reason, text()));",
        'fail(node, msg, send, done, err, short);',
        'node.status({ fill, shape, text });',
        'node.status({});',
      ].join('\n'),
    );
    assert.deepEqual(found, []);
  });
});

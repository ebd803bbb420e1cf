import { osRegex } from '../src/osregex';
const cases: [string, (n: number) => string][] = [
  ['a\\w+!', (n) => 'a'.repeat(n) + '.'],
  ['\\w+b\\w+!', (n) => 'b'.repeat(n) + '.'],
  ['\\w+\\w+\\w+\\w+\\w+!', (n) => 'a'.repeat(n) + '.'],
  ['a\\.+b\\.+c\\.+d!', (n) => 'abcd'.repeat(n / 4) + '.'],
  ['(\\w+)(\\w+)x', (n) => 'a'.repeat(n) + '.'],
  ['^\\s*\\w+\\s+\\w+\\d+$', (n) => ' a'.repeat(n / 2)],
  ['\\d+\\.\\d+\\.\\d+\\.\\d+!', (n) => '1.'.repeat(n / 2)],
  ['a\\S+b\\S+c\\S+!', (n) => 'abc'.repeat(n / 3) + ' '],
];
for (const [p, gen] of cases) {
  const re = osRegex(p);
  const row: string[] = [];
  for (const n of [1024, 8192, 65536]) {
    const s = gen(n);
    const t0 = process.hrtime.bigint();
    const r = re.test(s);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    row.push(`${n}: ${dt.toFixed(1)}ms (${(dt * 1e6 / n).toFixed(0)} ns/B) ${r}`);
  }
  console.log(p.padEnd(28), row.join(' | '));
}

/**
 * engines: time per input byte of osRegex and osMatch on attacker text, at 1 KiB and 64 KiB.
 * Cases: hand-picked pattern/input pairs that make the manager's OS_Regex scanner quadratic
 * (loops that hand over and restart one byte further, on and on), the same with sparse
 * triggers (plain text with a trigger every 128 bytes whose attempt runs to the end), OS_Match
 * near-misses, and the worst of a seeded random search over OS_Regex patterns on periodic
 * inputs. Every input repeats a unit of at most 128 bytes, so that the 1 KiB input holds the
 * attack 8 times or more: the two sizes are the same attack, and the ratio shows how the cost
 * per byte grows with the length. Each size is warmed up, then timed as the fastest of
 * repetitions that alternate between the two sizes (for at least REPEAT_MS), so that the ratio
 * is the engine's, not the JIT's or the machine's.
 * Figure: the worst ratio ns/byte(64 KiB) / ns/byte(1 KiB) per engine.
 *
 * Also printed, apart from the figure (`WIDE`): triggers every 1,000 or 4,000 bytes. There the
 * 1 KiB input holds at most one trigger, near its end, so it is nearly plain text, while the
 * 64 KiB input holds dozens of attacks: the ratio compares two different inputs, and is the
 * cost of an attack per byte over the cost of plain text (the memo's states per byte).
 */
import { osMatch } from '../src/engines/osmatch';
import { osRegex } from '../src/engines/osregex';
import { prng } from './lib/alerts';

const SMALL = 1024;
const LARGE = 64 * 1024;
const REPEAT_MS = Number(process.env.REPEAT_MS ?? 1000);

type Gen = (n: number) => string;

/** Repeats `unit` (cut to n bytes), then `tail`. */
const periodic =
  (unit: string, tail = ''): Gen =>
  (n) =>
    unit.repeat(Math.ceil(n / unit.length)).slice(0, n - tail.length) + tail;

const REGEX: Array<[string, string, Gen]> = [
  ['a\\w+!', "'a' x n, '.'", periodic('a', '.')],
  ['\\w+b\\w+!', "'b' x n, '.'", periodic('b', '.')],
  ['\\w+\\w+\\w+\\w+\\w+!', "'a' x n, '.'", periodic('a', '.')],
  ['\\w+\\w+\\w+\\w+\\w+\\w+\\w+\\w+!', "'a' x n, '.'", periodic('a', '.')],
  ['\\w*\\w*\\w*\\w*\\w*!', "'a' x n, '.'", periodic('a', '.')],
  ['a\\.+b\\.+c\\.+d!', "'abcd' x n/4, '.'", periodic('abcd', '.')],
  ['(\\w+)(\\w+)x', "'a' x n, '.'", periodic('a', '.')],
  ['(\\w+)(\\w+)(\\w+)(\\w+)x', "'a' x n, '.'", periodic('a', '.')],
  ['\\d+\\.\\d+\\.\\d+\\.\\d+!', "'1.' x n/2", periodic('1.')],
  ['a\\S+b\\S+c\\S+!', "'abc' x n/3, ' '", periodic('abc', ' ')],
  ['\\S+\\s+\\S+\\s+\\S+\\s+x', "'a ' x n/2", periodic('a ')],
  ['\\.+\\.+\\.+\\.+!', "'ab' x n/2", periodic('ab')],
  ['\\w+@\\w+\\.\\w+\\.\\w+!', "'a@a.' x n/4", periodic('a@a.')],
  ['^\\s*\\w+\\s+\\w+\\d+$', "' a' x n/2", periodic(' a')],
  // sparse triggers: plain text, and every 128 bytes an 'a' whose attempt runs to the end
  ['a\\w+!', "('b' x 127, 'a') x n/128, '.'", periodic('b'.repeat(127) + 'a', '.')],
  ['a\\S+b\\S+c\\S+!', "('x' x 125, 'abc') x n/128, ' '", periodic('x'.repeat(125) + 'abc', ' ')],
  ['(a\\w+)!', "('b' x 127, 'a') x n/128, '.'", periodic('b'.repeat(127) + 'a', '.')],
  ['(a\\w+)!', "'a' x n, '.'", periodic('a', '.')],
];

/** Triggers further apart than the 1 KiB input is long: printed, not in the figure (see above). */
const WIDE: Array<[string, string, Gen]> = [
  ['a\\w+!', "('b' x 999, 'a') x n/1000, '.'", periodic('b'.repeat(999) + 'a', '.')],
  ['a\\w+!', "('b' x 3999, 'a') x n/4000, '.'", periodic('b'.repeat(3999) + 'a', '.')],
  ['a\\S+b\\S+c\\S+!', "('x' x 997, 'abc') x n/1000, ' '", periodic('x'.repeat(997) + 'abc', ' ')],
  ['(a\\w+)!', "('b' x 999, 'a') x n/1000, '.'", periodic('b'.repeat(999) + 'a', '.')],
];

// Patterns stay well under 1 KiB: a pattern nearly as long as the input leaves few places to
// try, which would make the small input look cheap per byte.
const MATCH: Array<[string, string, Gen]> = [
  ['a'.repeat(100) + 'b', "'a' x n", periodic('a')],
  ['!' + 'a'.repeat(100) + 'b|^b|b$', "'a' x n", periodic('a')],
  ['a'.repeat(30) + 'b' + 'a'.repeat(30), "'a' x n", periodic('a')],
  [Array.from({ length: 50 }, (_, k) => 'a'.repeat(20 + k) + 'b').join('|'), "'a' x n (50 alternatives)", periodic('a')],
  ['^' + 'a'.repeat(20000) + '$', "'a' x n", periodic('a')],
  ['abcabcabd', "'abc' x n/3", periodic('abc')],
  ['\u00e3' + 'a'.repeat(500) + 'b', "'a' x n (raw contains, 0xE3 in the pattern)", periodic('a')],
  ['A'.repeat(500) + 'B', "'a' x n (case folding)", periodic('A')],
];

/**
 * Fastest time per call, ns, of `test` on `small` and on `large`: batches of each alternate
 * (so that a noisy moment of the machine hits both) for at least REPEAT_MS, after a warm-up.
 */
function nsPerCall(test: (s: string) => boolean, small: string, large: string): [number, number] {
  for (let i = 0; i < 20; i++) test(small);
  for (let i = 0; i < 3; i++) test(large);
  const best = [Infinity, Infinity];
  const end = Date.now() + REPEAT_MS;
  for (let reps = 0; reps < 7 || Date.now() < end; reps++) {
    for (const [k, input, calls] of [
      [0, small, 16],
      [1, large, 1],
    ] as const) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) test(input);
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t0) / calls);
    }
  }
  return [best[0], best[1]];
}

export interface EngineRow {
  engine: string;
  pattern: string;
  input: string;
  small: number;
  large: number;
  ratio: number;
  /** In the figure (false: a WIDE case, printed apart). */
  counted: boolean;
}

function measure(engine: 'osRegex' | 'osMatch', pattern: string, input: string, gen: Gen): EngineRow {
  const compiled = engine === 'osRegex' ? osRegex(pattern) : osMatch(pattern);
  const test = (s: string) => compiled.test(s);
  const [a, b] = nsPerCall(test, gen(SMALL), gen(LARGE));
  const small = a / SMALL;
  const large = b / LARGE;
  return { engine, pattern, input, small, large, ratio: large / small, counted: true };
}

/** The OS_Regex patterns of a seeded random search that cost most per byte at 4 KiB. */
function searchRegex(keep: number): Array<[string, string, Gen]> {
  const rnd = prng(99);
  const tokens = ['a', 'b', '1', ' ', '.', '\\w+', '\\w*', '\\d+', '\\s+', '\\S+', '\\.+', '\\p', '\\w', '\\W+', '(', ')'];
  const units = ['a', 'ab', 'a1', 'a ', '1.', 'aab', 'a.b', 'ab ', 'a1 '];
  const found: Array<{ cost: number; pattern: string; unit: string }> = [];
  for (let tries = 0; tries < 400; tries++) {
    let pattern = '';
    for (let k = 2 + rnd(7); k > 0; k--) pattern += tokens[rnd(tokens.length)];
    pattern += '!';
    let re;
    try {
      re = osRegex(pattern);
    } catch {
      continue;
    }
    const unit = units[rnd(units.length)];
    const s = periodic(unit)(4096);
    const t0 = process.hrtime.bigint();
    re.test(s);
    found.push({ cost: Number(process.hrtime.bigint() - t0), pattern, unit });
  }
  found.sort((x, y) => y.cost - x.cost);
  return found.slice(0, keep).map((f) => [f.pattern, `'${f.unit}' x n/${f.unit.length} (search)`, periodic(f.unit)]);
}

export interface Engines {
  rows: EngineRow[];
  worstRegex: EngineRow;
  worstMatch: EngineRow;
  /** The worst WIDE case (not in the figure). */
  worstWide: EngineRow;
}

export async function run(): Promise<Engines> {
  const rows: EngineRow[] = [];
  for (const [pattern, input, gen] of [...REGEX, ...searchRegex(6)]) rows.push(measure('osRegex', pattern, input, gen));
  for (const [pattern, input, gen] of MATCH) rows.push(measure('osMatch', pattern, input, gen));
  for (const [pattern, input, gen] of WIDE) rows.push({ ...measure('osRegex', pattern, input, gen), counted: false });
  const worst = (engine: string) => rows.filter((r) => r.engine === engine && r.counted).reduce((w, r) => (r.ratio > w.ratio ? r : w));
  const worstWide = rows.filter((r) => !r.counted).reduce((w, r) => (r.ratio > w.ratio ? r : w));
  return { rows, worstRegex: worst('osRegex'), worstMatch: worst('osMatch'), worstWide };
}

export function printRows(rows: EngineRow[]): void {
  const cut = (s: string, k: number) => (s.length > k ? `${s.slice(0, k - 1)}…` : s);
  console.log(
    `${'engine'.padEnd(8)} ${'pattern'.padEnd(34)} ${'input'.padEnd(34)} ${'ns/B 1K'.padStart(9)} ${'ns/B 64K'.padStart(9)} ${'ratio'.padStart(6)}`,
  );
  for (const r of [...rows.filter((x) => x.counted), ...rows.filter((x) => !x.counted)]) {
    if (!r.counted && r === rows.find((x) => !x.counted))
      console.log('not in the figure: triggers further apart than the 1 KiB input is long (see bench/engines.ts)');
    console.log(
      `${r.engine.padEnd(8)} ${cut(r.pattern, 34).padEnd(34)} ${cut(r.input, 34).padEnd(34)} ${r.small.toFixed(1).padStart(9)} ${r.large.toFixed(1).padStart(9)} ${r.ratio.toFixed(2).padStart(6)}`,
    );
  }
}

if (require.main === module) {
  run().then(
    (r) => {
      printRows(r.rows);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { osRegex, OsRegexError } from '../../src/engines/osregex';
import { osMatch } from '../../src/engines/osmatch';

/** A seeded generator (mulberry32) of integers in [0, k). */
function randomInts(seed: number): (k: number) => number {
  return (k) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % k;
  };
}

const SHARED = path.join(__dirname, '..', '..', '..', 'shared');

interface Vector {
  engine: 'regex' | 'match';
  pattern: string;
  input: string;
  expect: boolean;
  flags: string;
  section: string;
  compile_error?: number | boolean;
}

const vectors: Vector[] = JSON.parse(fs.readFileSync(path.join(SHARED, 'vectors', 'os_regex_vectors.json'), 'utf8'));

/** The vectors were run with OS_RETURN_SUBSTRING or with the plain wrapper (flags=0). */
function compileVector(v: Vector) {
  return v.engine === 'match' ? osMatch(v.pattern) : osRegex(v.pattern, { substrings: !/flags=0/.test(v.flags) });
}

/** The wrapper sections report a refused pattern as "no match" (expect false). */
function refusedByManager(v: Vector): boolean {
  try {
    compileVector(v);
    return false;
  } catch {
    return true;
  }
}

describe("pattern engines against the manager engines' own verdicts", () => {
  it('has the 743 vectors of ../shared', () => {
    assert.equal(vectors.length, 743);
  });

  for (const scanner of ['test', 'testReference', 'testLinear'] as const) {
    it(`gives the real engine's verdict for every vector (${scanner})`, () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const v of vectors) {
        if (v.compile_error) {
          if (!refusedByManager(v)) wrong.push(`accepted ${JSON.stringify(v.pattern)}, which the manager refuses`);
          checked++;
          continue;
        }
        if (refusedByManager(v)) {
          // only the wrapper sections contain refused patterns, and there the verdict is false
          if (v.expect !== false) wrong.push(`refused ${JSON.stringify(v.pattern)}`);
          checked++;
          continue;
        }
        const re = compileVector(v) as { test: (s: string) => boolean } & Partial<Record<typeof scanner, (s: string) => boolean>>;
        const fn = re[scanner] ?? re.test;
        const got = fn.call(re, v.input);
        if (got !== v.expect)
          wrong.push(`${v.engine} ${JSON.stringify(v.pattern)} on ${JSON.stringify(v.input)}: want ${v.expect}, got ${got}`);
        checked++;
      }
      assert.equal(checked, 743);
      assert.deepEqual(wrong, []);
    });
  }

  it('refuses exactly the four wrapper patterns the manager cannot compile', () => {
    const refused = vectors.filter((v) => !v.compile_error && refusedByManager(v)).map((v) => v.pattern);
    assert.deepEqual(refused, ['(lalala', '\\(test)', '^abc\\*d', '(\\w|(\\w)']);
  });
});

describe('osRegex', () => {
  it('explains a bad pattern with what and where', () => {
    const cases: Array<[string, RegExp, number]> = [
      ['abc\\', /lone backslash/, 3],
      ['ab\\xcd', /unknown escape "\\x" at position 3/, 2],
      ['(ab', /never closed/, 3],
      ['ab)', /"\)" at position 3 closes no "\("/, 2],
      ['((a))', /nested "\(" at position 2/, 1],
      ['(a|b)', /"\|" at position 3 is inside parentheses/, 2],
    ];
    for (const [pattern, message, position] of cases) {
      assert.throws(
        () => osRegex(pattern),
        (e: unknown) => e instanceof OsRegexError && message.test(e.message) && e.position === position,
        pattern,
      );
    }
  });

  it("refuses a pattern over the manager's 20480-byte limit", () => {
    assert.doesNotThrow(() => osRegex('a'.repeat(20480)));
    assert.throws(() => osRegex('a'.repeat(20481)), /20481 bytes long/);
  });

  it('reads input as the manager does: UTF-8 bytes, up to the first NUL', () => {
    assert.equal(osRegex('^\\W\\W$').test('é'), true); // two bytes in UTF-8
    assert.equal(osRegex('^abc$').test('abc\0def'), true);
    assert.equal(osRegex('é').test('é'), false); // non-ASCII literals never match on the manager
  });

  it('never throws on input that is not a string', () => {
    const re = osRegex('a');
    for (const bad of [null, undefined, 42, {}, []]) assert.equal(re.test(bad as string), false);
  });

  it('agrees with the step-by-step scanner on 100,000 random patterns and inputs', () => {
    const rnd = randomInts(7);
    const tokens = ['a', 'b', '1', ' ', '\\w', '\\d', '\\s', '\\.', '\\p', '\\W', '\\S', '+', '*', '(', ')', '^', '$', '|'];
    const alphabet = 'aab1 .!-';
    let compared = 0;
    const diffs: string[] = [];
    while (compared < 100000) {
      let pattern = '';
      for (let k = 1 + rnd(12); k > 0; k--) pattern += tokens[rnd(tokens.length)];
      let re;
      try {
        re = osRegex(pattern, { substrings: rnd(2) === 0 });
      } catch {
        continue;
      }
      let input = '';
      for (let k = rnd(60); k > 0; k--) input += alphabet[rnd(alphabet.length)];
      if (re.testReference(input) !== re.testLinear(input)) diffs.push(`${JSON.stringify(pattern)} ${JSON.stringify(input)}`);
      compared++;
    }
    assert.deepEqual(diffs.slice(0, 10), []);
  });

  it('test and the linear scanner agree with the step-by-step one on 20,000 long inputs, captures included', () => {
    // patterns of loops, plain bytes and groups; inputs of up to 600 bytes made of a repeated
    // short unit with noise, so that attempts run past the hand-over (32 steps), later ones
    // meet the states the memo kept, and groups record positions far into the input
    const rnd = randomInts(11);
    const plain = ['a', 'b', '1', ' ', '.', '!'];
    const classes = ['\\w', '\\d', '\\s', '\\.', '\\p', '\\W', '\\S'];
    const quantifiers = ['+', '+', '*', ''];
    const alphabet = 'aab1 .!-';
    let compared = 0;
    let matched = 0;
    const diffs: string[] = [];
    while (compared < 20000) {
      let pattern = rnd(6) === 0 ? '^' : '';
      let open = false;
      for (let k = 1 + rnd(6); k > 0; k--) {
        if (!open && rnd(5) === 0) {
          pattern += '(';
          open = true;
        }
        pattern += rnd(3) === 0 ? plain[rnd(plain.length)] : classes[rnd(classes.length)] + quantifiers[rnd(quantifiers.length)];
        if (open && rnd(3) === 0) {
          pattern += ')';
          open = false;
        }
      }
      if (open) pattern += ')';
      if (rnd(2) === 0) pattern += plain[rnd(plain.length)];
      if (rnd(6) === 0) pattern += '$';
      let re;
      try {
        re = osRegex(pattern, { substrings: rnd(2) === 0 });
      } catch {
        continue;
      }
      let unit = '';
      for (let k = 1 + rnd(6); k > 0; k--) unit += alphabet[rnd(alphabet.length)];
      let input = '';
      const size = 40 + rnd(560);
      while (input.length < size) input += rnd(8) === 0 ? alphabet[rnd(alphabet.length)] : unit;
      const expected = re.testReference(input);
      if (re.test(input) !== expected) diffs.push(`test ${JSON.stringify(pattern)} ${JSON.stringify(input)}`);
      if (re.testLinear(input) !== expected) diffs.push(`testLinear ${JSON.stringify(pattern)} ${JSON.stringify(input)}`);
      if (expected) matched++;
      compared++;
    }
    assert.deepEqual(diffs.slice(0, 10), []);
    assert.ok(matched > 2000 && matched < 18000, `${matched} of 20,000 match: both verdicts must be common`);
  });

  it('keeps the restart position and the capture positions of a nested segment (regressions found by longer random runs)', () => {
    const cases: Array<[string, string, boolean]> = [
      // the first hit of a nested segment belongs to the step that pushed it, not to a capture write after it
      ['\\w+(\\wa\\W\\W+b)', 'baabaabbaabaa!baabaabaabaabaabaabaabaabaabaa!b', true],
      // a capture closing before it opens, decided after the hand-over: the whole regex fails
      [
        '\\S+\\w+(\\d+)\\.+(\\s+)$',
        '.11a11aa11a11a11a!11a11a11a11a11a11a11a11a 11a--11a11a11a11a11a11a11a11a11a11a11a11a11a11a11a11a11a11a11a-11a11a.11a11a11a11a111a11a- ',
        false,
      ],
    ];
    for (const [pattern, input, expected] of cases) {
      const re = osRegex(pattern);
      assert.equal(re.testReference(input), expected, `reference ${pattern}`);
      assert.equal(re.test(input), expected, `test ${pattern}`);
      assert.equal(re.testLinear(input), expected, `testLinear ${pattern}`);
    }
  });

  it('finishes on 64 KiB of attacker text against nested-quantifier patterns', () => {
    const n = 65536;
    const cases: Array<[string, string, boolean]> = [
      ['a\\w+!', 'a'.repeat(n - 1) + '.', false],
      ['\\w+\\w+\\w+\\w+\\w+!', 'a'.repeat(n - 1) + '.', false],
      ['\\w+b\\w+!', 'b'.repeat(n - 1) + '.', false],
      ['a\\S+b\\S+c\\S+!', 'abc'.repeat(n / 3) + ' ', false],
      ['(\\w+)(\\w+)x', 'a'.repeat(n - 1) + '.', false],
      ['\\d+\\.\\d+\\.\\d+\\.\\d+!', '1.'.repeat(n / 2 - 1) + '1!', true],
    ];
    for (const [pattern, input, expected] of cases) {
      assert.equal(osRegex(pattern).test(input), expected, pattern);
    }
  });
});

describe('osMatch', () => {
  it('is linear: 64 KiB inputs with near-misses', () => {
    const n = 65536;
    assert.equal(osMatch('aaaaaaaaab').test('a'.repeat(n)), false);
    assert.equal(osMatch('!aaaaaaaaab|^b|b$').test('a'.repeat(n) + 'b'), false);
  });

  it('negates with a leading ! and only then', () => {
    assert.equal(osMatch('!syscheck').test('rootcheck'), true);
    assert.equal(osMatch('!syscheck').test('SYSCHECK'), false);
    assert.equal(osMatch('^!a').test('!a'), true);
  });

  it('refuses a pattern over 20480 bytes', () => {
    assert.throws(() => osMatch('a'.repeat(20481)), /20481 bytes long/);
  });
});

/**
 * OS_Regex: the manager's own regular-expression dialect, reimplemented from its documented
 * and observed behaviour (../shared/vectors holds the real engine's verdicts).
 *
 * Syntax: `\w \d \s \t \p \W \D \S \.` classes, `\\ \( \) \$ \| \<` literals, `+`/`*` only
 * after a class, `^`/`$` anchoring an alternative, `|` between alternatives, one level of
 * `( )`. Case-insensitive (ASCII). Everything else is a literal byte.
 *
 * Matching is NOT a textbook regex: the manager scans left to right, lets `\x+` hand over
 * to the next token as soon as that token matches, keeps at most four "retry" points, and
 * on failure restarts one byte after where the failed attempt began. The quirks are part of
 * the contract (a config must behave here as on the manager), so this module reproduces
 * that scanner exactly, as a state machine over bytes:
 *
 *   state = (pt: position in the compiled pattern, st: position in the input,
 *            greedy: whether a `\x+`/`\x*` loop is running, hasResult, retry stack)
 *
 * A literal step-by-step run of that machine can take time quadratic in the input
 * (each restart rescans). We avoid it by memoising *segments*: the run from a state until
 * the retry stack drops below its starting depth (or the attempt fails) depends only on
 * (pt, st, greedy, hasResult, free retry slots), never on the entries below, so each such
 * key is computed once. Keys are bounded by patternLength x inputLength x 20, which makes a
 * test linear in the input for a given pattern. Capture positions (which depend on the whole
 * run, not on the state) travel with the memo as the last value each state's run writes to
 * each slot, so the capture-order check stays exact. `testReference` keeps the plain
 * step-by-step machine; tests check all three scanners agree.
 *
 * `test` runs each attempt (from a restart to the next) step by step, and hands an attempt
 * that runs long to the memoised machine, whose memo then also shortens the later attempts
 * (see runReference): ordinary input stays step by step, with no memo and no allocation.
 * Two shortcuts keep it cheap without changing a verdict: an anchored alternative starting
 * with a plain byte rejects an input starting with another one unread, and text is scanned
 * as it is (no UTF-8 copy) unless the scan meets a character that is NUL or not ASCII.
 */
import type { Pattern } from '../../types';
import { bytesOf, lowerByte } from '../bytes';
import { compile, type Alternative } from './compile';
import { runLinear } from './linear';
import { Outcome } from './machine';
import { ATTEMPT_STEPS, runReference } from './reference';

export { OsRegexError } from './compile';

function execute(alts: Alternative[], input: string, run: (alt: Alternative, s: string) => Outcome): boolean {
  if (typeof input !== 'string') return false;
  const s = bytesOf(input);
  for (const alt of alts) {
    const o = run(alt, s);
    if (o !== Outcome.NoMatch) return o === Outcome.Match;
  }
  return false;
}

/**
 * Whether no alternative can match an input whose first character is `code` (see
 * Alternative.first): a character that is ASCII and not NUL is the first byte; any other
 * non-NUL character starts with a byte over 127, which the scanner never takes for a plain
 * pattern byte (it compares bytes below 128 only). NUL ends the input: it decides nothing.
 */
function rejects(alts: readonly Alternative[], code: number): boolean {
  if (code === 0) return false;
  const b = code < 128 ? lowerByte(code) : -1;
  for (let i = 0; i < alts.length; i++) if (alts[i].first < 0 || alts[i].first === b) return false;
  return true;
}

/**
 * The step-by-step scanner for short attempts, the memoised one for long ones (see
 * runReference). An anchored alternative whose first byte differs from the input's fails
 * without a scan. `asText`: see runReference.
 */
function runHybrid(alt: Alternative, s: string, asText = false): Outcome {
  if (alt.first >= 0 && s.length > 0 && lowerByte(s.charCodeAt(0)) !== alt.first) return Outcome.NoMatch;
  return runReference(alt, s, asText, ATTEMPT_STEPS);
}

export interface OsRegexOptions {
  /**
   * Behave as the manager's engine compiled with OS_RETURN_SUBSTRING (as its decoders and
   * rules use it): parentheses record captures, which changes a few verdicts at the end of
   * the input. Default true. `false` is the plain `OS_Regex()` wrapper.
   */
  substrings?: boolean;
}

/** A compiled OS_Regex pattern. */
export class OsRegexPattern implements Pattern {
  readonly syntax = 'os_regex' as const;
  private readonly alternatives: Alternative[];

  constructor(
    readonly source: string,
    options: OsRegexOptions = {},
  ) {
    if (typeof source !== 'string') throw new TypeError('OS_Regex pattern must be a string');
    this.alternatives = compile(source, options.substrings !== false);
  }

  /** Whether the pattern matches `input` (as the manager's engine decides). */
  test(input: string): boolean {
    if (typeof input !== 'string') return false;
    const alts = this.alternatives;
    if (input.length > 0 && rejects(alts, input.charCodeAt(0))) return false;
    // the text as it is while it reads as bytes (see runReference), else its bytes
    let s = input;
    let asText = true;
    for (let i = 0; i < alts.length; i++) {
      let o = runHybrid(alts[i], s, asText);
      if (o === Outcome.NotBytes) {
        s = bytesOf(input);
        asText = false;
        o = runHybrid(alts[i], s);
      }
      if (o !== Outcome.NoMatch) return o === Outcome.Match;
    }
    return false;
  }

  /**
   * Whether no input whose first character has code `code` can match: true only for an
   * anchored pattern whose every alternative starts with another plain character. Lets a
   * caller skip building an input that would be rejected unread.
   */
  rejectsFirst(code: number): boolean {
    return rejects(this.alternatives, code);
  }

  /** The plain step-by-step scanner only (quadratic worst case): for tests and benchmarks. */
  testReference(input: string): boolean {
    return execute(this.alternatives, input, runReference);
  }

  /** The linear scanner only: for tests and benchmarks. */
  testLinear(input: string): boolean {
    return execute(this.alternatives, input, runLinear);
  }
}

/** Compile an OS_Regex pattern. Throws OsRegexError (message and position) on a bad pattern. */
export function osRegex(pattern: string, options?: OsRegexOptions): OsRegexPattern {
  return new OsRegexPattern(pattern, options);
}

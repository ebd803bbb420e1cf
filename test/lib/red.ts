/** Small helpers for flow tests on node-red-node-test-helper (a real Node-RED runtime). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import helper from 'node-red-node-test-helper';

helper.init(require.resolve('node-red'));

export { helper };

export const SHARED = path.join(__dirname, '..', '..', '..', 'shared');

/**
 * RED._ in these flow tests: the message key, and its parameters after it when it has some
 * (`armor-delivery.status.sent(count=2)`), so that an assertion on a text built from the
 * catalogue stays as exact as one on the English text. (The test helper's own RED._ returns
 * the key alone.)
 */
export function keyed(key: string, params?: Record<string, unknown>): string {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return key;
  return `${key}(${entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')})`;
}

/** The compiled node module (npm test builds first), its RED._ being keyed(). */
export function nodeModule(name: string): unknown {
  const register = require(path.join(__dirname, '..', '..', 'dist', 'nodes', `${name}.js`)) as (RED: any) => unknown;
  return (RED: any) => {
    RED._ = keyed;
    return register(RED);
  };
}

/** The real sample alerts (line 16 has no rule, line 24 is synthetic). */
export function sampleAlerts(): Array<Record<string, any>> {
  return fs
    .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** Messages arriving at a helper node, with a way to wait for a count. */
export function collect(id: string): { msgs: any[]; waitFor(n: number, ms?: number): Promise<any[]> } {
  const node = helper.getNode(id);
  const msgs: any[] = [];
  const waiters: Array<() => void> = [];
  node.on('input', (msg: any) => {
    msgs.push(msg);
    waiters.splice(0).forEach((w) => w());
  });
  return {
    msgs,
    waitFor(n: number, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} messages at ${id}, got ${msgs.length}`)), ms);
        const check = () => {
          if (msgs.length >= n) {
            clearTimeout(timer);
            resolve(msgs);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Resolves after `ms`; for letting a flow settle before asserting nothing more arrived. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` is true (polling), or fails with `what`. */
export async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

type SpiedMethod = 'status' | 'warn' | 'error' | 'log';

/** The arguments of each call node `id` made to a Node method the helper spies on, oldest first. */
export function calls(id: string, method: SpiedMethod): unknown[][] {
  const node = helper.getNode(id);
  return node[method]
    .getCalls()
    .filter((c: any) => c.thisValue === node)
    .map((c: any) => c.args);
}

/** The statuses node `id` has shown, oldest first. */
export function statuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  return calls(id, 'status').map((args) => args[0] as { fill?: string; shape?: string; text?: string });
}

/**
 * Waits until the last status node `id` showed is `expected` (delivery nodes refresh their
 * counters on a ticker), then asserts it; a timeout reports the last one seen.
 */
export async function untilStatus(id: string, expected: { fill: string; shape: string; text: string }, ms = 5000): Promise<void> {
  const same = () => inspect(statuses(id).at(-1)) === inspect(expected);
  await until(same, `status ${inspect(expected)} of ${id}, last ${inspect(statuses(id).at(-1))}`, ms).catch(() => undefined);
  assert.deepEqual(statuses(id).at(-1), expected);
}

/** Everything any node showed or logged so far (statuses, warn, error, log, the runtime log), as text. */
export function reportedText(anyNodeId: string): string {
  const node = helper.getNode(anyNodeId);
  const all = (['status', 'warn', 'error', 'log'] as const).map((m) => node[m].args);
  return inspect([all, helper.log().args], { depth: null, maxArrayLength: null, maxStringLength: null });
}

/** `p`, or a failure naming `what` when a generous guard timer fires first (catches hangs; not a speed test). */
export function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

/**
 * Gives each test of the calling describe block its own Node-RED user directory (outboxes and
 * checkpoints live there), removed afterwards. Returns a getter for the current one.
 */
export function useTempUserDir(): () => string {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'armor-userdir-'));
    helper.settings({ userDir: dir });
  });
  afterEach(() => {
    helper.settings({});
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

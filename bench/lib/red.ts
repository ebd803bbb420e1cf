/**
 * An embedded Node-RED runtime for benchmarks: `require('node-red')` with a temporary user
 * directory, no HTTP server (httpAdminRoot/httpNodeRoot false, nothing listens), this
 * package's nodes loaded from dist/nodes (run `npm run build` first: `npm run bench` does)
 * and the core nodes. Not node-red-node-test-helper: it wraps Node.prototype.send with a
 * sinon spy that records every call, which would measure the spy and keep every message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RED = require('node-red');

export interface FlowNode {
  id: string;
  type: string;
  [k: string]: unknown;
}

export interface RedNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: 'input', cb: (msg: any) => void): void;
}

/** Counts the messages arriving at a node. */
export interface Counter {
  readonly count: number;
  reset(): void;
  /** Calls `cb` once, as soon as the count is at least `n` (replaces an earlier wish). */
  when(n: number, cb: () => void): void;
  until(n: number, timeoutMs?: number): Promise<void>;
}

export interface Runtime {
  userDir: string;
  node(id: string): RedNode;
  /** Counts the messages arriving at node `id` (add a listener on any node). */
  counter(id: string): Counter;
  stop(): Promise<void>;
}

const DIST_NODES = path.join(__dirname, '..', '..', 'dist', 'nodes');

/** Starts Node-RED with `flows` (and `credentials` by node id) deployed. */
export async function startRuntime(flows: FlowNode[], credentials: Record<string, unknown> = {}): Promise<Runtime> {
  if (!fs.existsSync(path.join(DIST_NODES, 'armor-integration.js'))) throw new Error('dist/nodes is missing: run `npm run build` first');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-bench-red-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  RED.init({
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    nodesDir: [DIST_NODES],
    logging: { console: { level: 'fatal', metrics: false, audit: false } },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    SKIP_BUILD_CHECK: true,
  });
  await RED.start();
  await new Promise<void>((resolve, reject) => {
    const end = Date.now() + 20000;
    const check = () => {
      if (flows.every((n) => n.type === 'tab' || RED.nodes.getNode(n.id))) resolve();
      else if (Date.now() > end) reject(new Error('flows did not start'));
      else setTimeout(check, 20);
    };
    check();
  });
  const node = (id: string): RedNode => {
    const n = RED.nodes.getNode(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  };
  return {
    userDir,
    node,
    counter(id) {
      let count = 0;
      let want = Infinity;
      let wish: (() => void) | undefined;
      node(id).on('input', () => {
        if (++count >= want) {
          const cb = wish!;
          want = Infinity;
          wish = undefined;
          cb();
        }
      });
      const when = (n: number, cb: () => void) => {
        if (count >= n) return cb();
        want = n;
        wish = cb;
      };
      return {
        get count() {
          return count;
        },
        reset() {
          count = 0;
        },
        when,
        until(n, timeoutMs = 300_000) {
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${id}: ${count} of ${n} messages after ${timeoutMs} ms`)), timeoutMs);
            when(n, () => {
              clearTimeout(timer);
              resolve();
            });
          });
        },
      };
    },
    async stop() {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

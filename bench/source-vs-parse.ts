/**
 * source_vs_parse: `armor-alerts` tailing a 200,000-line alerts file (generated alerts, about
 * 1.1 KB a line) into an embedded Node-RED flow, counted at a junction, vs a plain loop that
 * reads the same file in 64 KiB chunks and JSON.parses each line (the parse limit). Rounds
 * alternate; each armor-alerts round is a node waiting for its own path, which then appears
 * (a hard link to the file), so the clock starts when the file does. The node runs in its
 * default mode, `resume` (its read position is kept; a file that appears is read from 0).
 * Figure: lines per second, armor-alerts / plain loop, the best of ROUNDS alternating rounds
 * each (after a warm-up round).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeAlertsFile } from './lib/files';
import { profiled } from './lib/profile';
import { startRuntime } from './lib/red';

const N = Number(process.env.ALERTS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 4);

/** The parse limit: read the file in 64 KiB chunks, split on newlines, JSON.parse each line. */
function parseLoop(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(64 * 1024);
  let carry = '';
  let count = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
        const line = carry + buf.toString('utf8', start, nl);
        carry = '';
        if (JSON.parse(line)) count++;
        start = nl + 1;
      }
      if (start < n) carry += buf.toString('utf8', start, n);
    }
  } finally {
    fs.closeSync(fd);
  }
  return count;
}

export interface SourceVsParse {
  /** Alerts per second. */
  source: number;
  parse: number;
  ratio: number;
  fileMB: number;
}

export async function run(): Promise<SourceVsParse> {
  const { file, bytes, dir } = writeAlertsFile(N);
  const paths = Array.from({ length: ROUNDS + 1 }, (_, r) => path.join(dir, `round-${r}.json`));
  const flows = [
    { id: 'tabS', type: 'tab', label: 'source' },
    ...paths.flatMap((p, r) => [
      { id: `src${r}`, z: 'tabS', type: 'armor-alerts', version: 1, path: p, start: 'resume', pollMs: 20, wires: [[`count${r}`]] },
      { id: `count${r}`, z: 'tabS', type: 'junction', wires: [] },
    ]),
  ];
  const rt = await startRuntime(flows);
  try {
    const source: number[] = [];
    const parse: number[] = [];
    for (let r = 0; r <= ROUNDS; r++) {
      global.gc?.();
      let t0 = process.hrtime.bigint();
      if (parseLoop(file) !== N) throw new Error('the parse loop lost lines');
      const tParse = Number(process.hrtime.bigint() - t0) / 1e9;
      global.gc?.();
      const counter = rt.counter(`count${r}`);
      t0 = process.hrtime.bigint();
      fs.linkSync(file, paths[r]);
      await profiled(`source-round-${r}`, () => counter.until(N));
      const tSource = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r === 0) continue; // warm-up round
      parse.push(N / tParse);
      source.push(N / tSource);
    }
    if (process.env.VERBOSE) console.error({ source: source.map(Math.round), parse: parse.map(Math.round) });
    const s = Math.max(...source);
    const p = Math.max(...parse);
    return { source: s, parse: p, ratio: s / p, fileMB: bytes / 1024 / 1024 };
  } finally {
    await rt.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module)
  run().then(
    (r) => {
      console.log(r);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );

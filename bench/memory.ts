/**
 * memory: RSS growth while 200,000 alerts pass through armor-alerts (tailing a file) ->
 * armor-integration (a slack block with a level filter) -> armor-slack, whose webhook is down
 * (a 127.0.0.1 port nothing listens on: connection refused), so every routed alert waits in
 * the webhook's outbox on disk (its limits raised to hold them all). Baseline: the RSS of the
 * started, idle runtime after a GC; growth = peak RSS (sampled every 50 ms) - baseline, and
 * the RSS and heap left once the alerts are queued and a GC ran.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { writeAlertsFile } from './lib/files';
import { heapReport } from './lib/heap';
import { startRuntime } from './lib/red';

const N = Number(process.env.ALERTS ?? 200_000);
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 5000);
export const MEMORY_CONFIG = '<integration><name>slack</name><level>2</level></integration>';

/** A URL on 127.0.0.1 where nothing listens. */
async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}/services/T000/B000/DOWN`;
}

export interface Memory {
  alerts: number;
  queued: number;
  peakRssGrowthMB: number;
  rssGrowthMB: number;
  heapGrowthMB: number;
  seconds: number;
}

const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

export async function run(): Promise<Memory> {
  let expected = 0;
  const { file, dir } = writeAlertsFile(N, (a) => {
    if ((a.rule?.level ?? 0) >= 2) expected++;
  });
  const watched = path.join(dir, 'watched.json');
  const url = await deadUrl();
  const rt = await startRuntime(
    [
      { id: 'tabM', type: 'tab', label: 'memory' },
      { id: 'hook', type: 'armor-slack-webhook', name: 'down', maxQueue: N + 1, maxQueueMB: 2048 },
      { id: 'src', z: 'tabM', type: 'armor-alerts', version: 1, path: watched, start: 'resume', pollMs: 20, wires: [['flt']] },
      { id: 'flt', z: 'tabM', type: 'armor-integration', version: 1, mode: 'xml', xml: MEMORY_CONFIG, outputs: 1, wires: [['slk']] },
      { id: 'slk', z: 'tabM', type: 'armor-slack', version: 1, webhook: 'hook', wires: [[], []] },
    ],
    { hook: { url } },
  );
  try {
    const queued = rt.counter('slk');
    await new Promise((r) => setTimeout(r, 500));
    global.gc?.();
    const before = process.memoryUsage();
    let peak = before.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const t0 = Date.now();
    fs.linkSync(file, watched);
    await queued.until(expected);
    const seconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // delivery attempts against the dead webhook
    global.gc?.();
    const after = process.memoryUsage();
    clearInterval(sampler);
    heapReport('alerts queued for a dead webhook');
    peak = Math.max(peak, after.rss);
    return {
      alerts: N,
      queued: queued.count,
      peakRssGrowthMB: mb(peak - before.rss),
      rssGrowthMB: mb(after.rss - before.rss),
      heapGrowthMB: mb(after.heapUsed - before.heapUsed),
      seconds,
    };
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

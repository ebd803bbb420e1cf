/**
 * filter_alone: alerts per second of the compiled 4-integration config on pre-parsed alerts,
 * one core, no Node-RED. The 200,000 alerts are parsed (untimed) CHUNK at a time just before
 * those are routed (timed), as in the flow: the tail reader parses the ~60 alerts of one
 * 64 KiB read and armor-integration routes them in the next event-loop turn, while they are
 * still in the CPU caches. Timed: `compileRouter(...).into` (allocation-free), the same router
 * returning a new array per alert, and the four compileFilter functions one after the other;
 * plus, for information, `into` over all 200,000 parsed up front (340 MB of objects, so
 * mostly cache misses: the memory, not the filter, sets that pace).
 */
import { parseIntegrations } from '../src/config';
import { compileFilter, compileRouter } from '../src/filter';
import { BENCH_CONFIG, alertBlocks } from './lib/alerts';

const N = Number(process.env.ALERTS ?? 200_000);
const CHUNK = Number(process.env.CHUNK ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

export interface FilterAlone {
  /** router.into, alerts per second (best round). */
  router: number;
  /** router(alert), a new array per alert. */
  routerArrays: number;
  /** The four compileFilter functions one after the other. */
  filters: number;
  /** router.into over all alerts parsed up front. */
  cold: number;
  routed: number;
}

type Pass = (alert: unknown) => number;

/** Seconds spent in `pass` over every alert, each chunk parsed (untimed) just before; and the sum of its results. */
function timeChunks(chunks: string[], pass: Pass): { seconds: number; sum: number } {
  let ns = 0n;
  let sum = 0;
  for (const text of chunks) {
    const alerts = JSON.parse(text) as unknown[];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < alerts.length; i++) sum += pass(alerts[i]);
    ns += process.hrtime.bigint() - t0;
  }
  return { seconds: Number(ns) / 1e9, sum };
}

export async function run(): Promise<FilterAlone> {
  const chunks: string[] = [];
  for (const block of alertBlocks(N)) {
    for (let i = 0; i < block.length; i += CHUNK) chunks.push(JSON.stringify(block.slice(i, i + CHUNK)));
  }
  const integrations = parseIntegrations(BENCH_CONFIG).integrations;
  const route = compileRouter(integrations);
  const filters = integrations.map(compileFilter);
  const hits = new Int32Array(integrations.length);
  const passes: Record<'router' | 'routerArrays' | 'filters', Pass> = {
    router: (a) => route.into(a, hits),
    routerArrays: (a) => route(a).length,
    filters: (a) => {
      let k = 0;
      for (let f = 0; f < filters.length; f++) if (filters[f](a)) k++;
      return k;
    },
  };
  const best = { router: 0, routerArrays: 0, filters: 0 };
  let routed = -1;
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ['router', 'routerArrays', 'filters'] as const) {
      const { seconds, sum } = timeChunks(chunks, passes[name]);
      if (routed >= 0 && sum !== routed) throw new Error(`${name} routed ${sum}, not ${routed}`);
      routed = sum;
      best[name] = Math.max(best[name], N / seconds);
    }
  }
  const all = chunks.flatMap((text) => JSON.parse(text) as unknown[]);
  let cold = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    let sum = 0;
    for (let i = 0; i < all.length; i++) sum += route.into(all[i], hits);
    if (sum !== routed) throw new Error('cold pass disagrees');
    cold = Math.max(cold, N / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return { ...best, cold, routed };
}

if (require.main === module) run().then((r) => { console.log(r); process.exit(0); }, (e) => { console.error(e); process.exit(1); });

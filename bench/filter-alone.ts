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
import { parseIntegrations } from '../src/config/parse';
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
const NAMES = ['router', 'routerArrays', 'filters'] as const;
type Name = (typeof NAMES)[number];

/**
 * One pass over every alert: each chunk is parsed (untimed), then routed by each of `passes`
 * in turn (timed separately; the order rotates from chunk to chunk, so that no pass always
 * meets the alerts first). Seconds per pass, and the routes counted (every pass must agree).
 */
function timeChunks(chunks: string[], passes: Record<Name, Pass>): { seconds: Record<Name, number>; routed: number } {
  const ns: Record<Name, bigint> = { router: 0n, routerArrays: 0n, filters: 0n };
  const sums: Record<Name, number> = { router: 0, routerArrays: 0, filters: 0 };
  chunks.forEach((text, c) => {
    const alerts = JSON.parse(text) as unknown[];
    for (let k = 0; k < NAMES.length; k++) {
      const name = NAMES[(c + k) % NAMES.length];
      const pass = passes[name];
      let sum = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < alerts.length; i++) sum += pass(alerts[i]);
      ns[name] += process.hrtime.bigint() - t0;
      sums[name] += sum;
    }
  });
  if (sums.routerArrays !== sums.router || sums.filters !== sums.router) throw new Error(`the passes disagree: ${JSON.stringify(sums)}`);
  const seconds = { router: Number(ns.router) / 1e9, routerArrays: Number(ns.routerArrays) / 1e9, filters: Number(ns.filters) / 1e9 };
  return { seconds, routed: sums.router };
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
  const passes: Record<Name, Pass> = {
    router: (a) => route.into(a, hits),
    routerArrays: (a) => route(a).length,
    filters: (a) => {
      let k = 0;
      for (let f = 0; f < filters.length; f++) if (filters[f](a)) k++;
      return k;
    },
  };
  const best: Record<Name, number> = { router: 0, routerArrays: 0, filters: 0 };
  let routed = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const pass = timeChunks(chunks, passes);
    routed = pass.routed;
    for (const name of NAMES) best[name] = Math.max(best[name], N / pass.seconds[name]);
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

/**
 * npm run bench — the performance figures of issue 6, measured on this machine in one run:
 *   filter_vs_switch  armor-integration vs the core switch node, in an embedded Node-RED
 *   filter_alone      the compiled 4-integration config, alerts per second on one core
 *   source_vs_parse   armor-alerts reading a file into the flow vs a plain JSON.parse loop
 *   engine_*          worst growth of time per byte from 1 KiB to 64 KiB of attacker text
 *   memory            RSS growth while 200,000 alerts go to a Slack webhook that is down
 * Each section runs in its own child process (fresh heap and JIT, so that one section's
 * garbage or memory does not count against another); the two sides of every comparison run
 * in the same process, alternating. Prints a table, then one `BENCH name=value` line per figure.
 * `npm run bench -- filter_alone engines` runs only those sections. PROFILE=<dir> writes a
 * CPU profile of the measured part of some sections (see bench/lib/profile.ts).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { printRows, type Engines } from './engines';
import type { FilterAlone } from './filter-alone';
import type { FilterVsSwitch } from './filter-vs-switch';
import type { Memory } from './memory';
import type { SourceVsParse } from './source-vs-parse';

const SECTIONS = {
  filter_vs_switch: () => import('./filter-vs-switch'),
  filter_alone: () => import('./filter-alone'),
  source_vs_parse: () => import('./source-vs-parse'),
  engines: () => import('./engines'),
  memory: () => import('./memory'),
} as const;
type Section = keyof typeof SECTIONS;

const RESULT = 'RESULT ';

/** In a child: runs one section and prints its result as one JSON line. */
async function child(name: Section): Promise<void> {
  const result = await (await SECTIONS[name]()).run();
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

/** Runs `name` in a child process (same node flags), its other output passed through. */
function inChild(name: Section): unknown {
  const started = Date.now();
  process.stderr.write(`[bench] ${name}...\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--section', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT));
  if (r.status !== 0 || !line) throw new Error(`section ${name} failed (exit ${r.status}): ${r.stdout.slice(-2000)}`);
  process.stderr.write(`[bench] ${name} done in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return JSON.parse(line.slice(RESULT.length));
}

interface Row {
  figure: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
  detail: string;
}

const k = (n: number) => `${Math.round(n / 1000).toLocaleString('en-US')}k`;
const fixed = (n: number, d = 2) => Number(n.toFixed(d));

async function parent(only: Section[]): Promise<void> {
  const results: Partial<Record<Section, any>> = {};
  for (const name of only) results[name] = inChild(name);
  const rows: Row[] = [];
  const bench: Array<[string, number]> = [];
  const fs = results.filter_vs_switch as FilterVsSwitch | undefined;
  if (fs) {
    rows.push({
      figure: 'filter_vs_switch',
      value: fixed(fs.ratio),
      unit: 'x',
      target: '>= 0.95',
      ok: fs.ratio >= 0.95,
      detail: `armor-integration ${k(fs.ours)} alerts/s vs switch ${k(fs.switch)} alerts/s (${fs.messages.toLocaleString('en-US')} msgs each); all 4 outputs wired: ${k(fs.fanout)}/s = ${fixed(fs.fanoutRatio)}x (${fs.fanoutClones.toLocaleString('en-US')} clones by Node-RED)`,
    });
    bench.push(
      ['filter_vs_switch', fixed(fs.ratio, 3)],
      ['filter_vs_switch_ours_per_s', Math.round(fs.ours)],
      ['filter_vs_switch_switch_per_s', Math.round(fs.switch)],
      ['filter_vs_switch_fanout', fixed(fs.fanoutRatio, 3)],
    );
  }
  const fa = results.filter_alone as FilterAlone | undefined;
  if (fa) {
    rows.push({
      figure: 'filter_alone',
      value: Math.round(fa.router),
      unit: 'alerts/s',
      target: '>= 2,000,000',
      ok: fa.router >= 2_000_000,
      detail: `router(alert) arrays ${k(fa.routerArrays)}/s; 4 x compileFilter ${k(fa.filters)}/s; all 200k parsed up front (cache-cold) ${k(fa.cold)}/s`,
    });
    bench.push(
      ['filter_alone', Math.round(fa.router)],
      ['filter_alone_router_arrays', Math.round(fa.routerArrays)],
      ['filter_alone_filters', Math.round(fa.filters)],
      ['filter_alone_cold', Math.round(fa.cold)],
    );
  }
  const sp = results.source_vs_parse as SourceVsParse | undefined;
  if (sp) {
    rows.push({
      figure: 'source_vs_parse',
      value: fixed(sp.ratio),
      unit: 'x',
      target: '>= 0.5',
      ok: sp.ratio >= 0.5,
      detail: `armor-alerts ${k(sp.source)} alerts/s into the flow vs read+JSON.parse ${k(sp.parse)} lines/s (${Math.round(sp.fileMB)} MB file)`,
    });
    bench.push(['source_vs_parse', fixed(sp.ratio, 3)], ['source_per_s', Math.round(sp.source)], ['parse_per_s', Math.round(sp.parse)]);
  }
  const en = results.engines as Engines | undefined;
  if (en) {
    for (const [name, w] of [
      ['engine_osregex', en.worstRegex],
      ['engine_osmatch', en.worstMatch],
    ] as const) {
      rows.push({
        figure: name,
        value: fixed(w.ratio),
        unit: 'x',
        target: '<= 2',
        ok: w.ratio <= 2,
        detail: `worst ns/byte 64K/1K: ${JSON.stringify(w.pattern.length > 30 ? `${w.pattern.slice(0, 29)}…` : w.pattern)} on ${w.input}: ${fixed(w.small, 1)} -> ${fixed(w.large, 1)} ns/B`,
      });
      bench.push([name, fixed(w.ratio, 3)]);
    }
    const w = en.worstWide;
    rows.push({
      figure: 'engine_osregex_wide',
      value: fixed(w.ratio),
      unit: 'x',
      target: '(none)',
      ok: true,
      detail: `not a target: triggers further apart than 1 KiB, so the 1 KiB input is nearly plain text and the 64 KiB one an attack; worst ${JSON.stringify(w.pattern)} on ${w.input}: ${fixed(w.small, 1)} -> ${fixed(w.large, 1)} ns/B`,
    });
    bench.push(['engine_osregex_wide', fixed(w.ratio, 3)]);
    const slowest = en.rows.reduce((a, b) => (b.large > a.large ? b : a));
    bench.push(['engine_slowest_ns_per_byte_64k', fixed(slowest.large, 1)]);
  }
  const me = results.memory as Memory | undefined;
  if (me) {
    rows.push({
      figure: 'memory',
      value: me.peakRssGrowthMB,
      unit: 'MB',
      target: '< 150',
      ok: me.peakRssGrowthMB < 150,
      detail: `peak RSS growth, ${me.queued.toLocaleString('en-US')} of ${me.alerts.toLocaleString('en-US')} alerts queued in ${fixed(me.seconds, 1)} s; after GC: RSS +${me.rssGrowthMB} MB, heap +${me.heapGrowthMB} MB`,
    });
    bench.push(['memory_peak_rss_growth_mb', me.peakRssGrowthMB], ['memory_heap_growth_mb', me.heapGrowthMB]);
  }

  console.log(
    `\n${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| figure | measured | target | met | how |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.figure} | ${r.value.toLocaleString('en-US')} ${r.unit} | ${r.target} | ${r.target === '(none)' ? '-' : r.ok ? 'yes' : 'no'} | ${r.detail} |`,
    );
  if (en) {
    console.log('\nEngines, every case (ns per input byte, fastest of repeated calls after warm-up):\n');
    printRows(en.rows);
  }
  console.log('');
  for (const [name, value] of bench) console.log(`BENCH ${name}=${value}`);
}

const at = process.argv.indexOf('--section');
if (at >= 0) {
  child(process.argv[at + 1] as Section).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  const asked = process.argv.slice(2).filter((a) => a in SECTIONS) as Section[];
  parent(asked.length > 0 ? asked : (Object.keys(SECTIONS) as Section[])).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

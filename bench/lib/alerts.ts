/**
 * Benchmark data: realistic alerts made by varying the real samples of
 * ../shared/samples/alerts.jsonl (read at run time: rule ids, agents, levels, locations,
 * alert ids and timestamps change; the shape and the text of each alert stay real), and the
 * 4-integration config every filter figure uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Alert } from '../../src/types';

export const SHARED = path.join(__dirname, '..', '..', '..', 'shared');

/** The sample lines that are alerts (an object with a rule object), parsed. */
export function sampleAlerts(): Alert[] {
  return fs
    .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Alert)
    .filter((a) => typeof a.rule === 'object' && a.rule !== null);
}

/** Deterministic PRNG (mulberry32), so every run sees the same alerts. */
export function prng(seed: number): (k: number) => number {
  let s = seed | 0;
  return (k) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % k;
  };
}

const LOCATIONS = [
  '/var/log/auth.log',
  '/var/log/secure',
  '/var/log/syslog',
  '/var/log/kern.log',
  '/var/log/nginx/access.log',
  '/var/log/apache2/error.log',
  'syscheck',
  'rootcheck',
  'EventChannel',
  'sca',
  'wazuh-monitord',
  'virustotal',
  'journald',
];
const HOSTS = ['web', 'db', 'mail', 'gw-linux', 'Employee', 'Ubuntu', 'Centos', 'Debian', 'Amazon', 'k8s-node'];
const MANAGERS = ['armor-manager', 'wazuh-master', 'jellyfish'];

/**
 * `n` alerts, each a deep copy of a sample with its rule id (mostly kept, sometimes another
 * sample's or a nearby id), level (±2 around the sample's, 0-15), agent (one of 400, or the
 * manager's own `000` without ip), location (mostly kept, else one of a dozen log sources),
 * alert id and timestamp varied.
 */
export function generateAlerts(n: number, seed = 1): Alert[] {
  const samples = sampleAlerts();
  const texts = samples.map((a) => JSON.stringify(a));
  const ids = samples.map((a) => String(a.rule!.id));
  const rnd = prng(seed);
  const epoch = 1_700_000_000;
  const out: Alert[] = new Array(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const k = rnd(samples.length);
    const a = JSON.parse(texts[k]) as Alert;
    const rule = a.rule!;
    const r = rnd(10);
    if (r === 0) rule.id = ids[rnd(ids.length)];
    else if (r === 1) rule.id = String(Number(rule.id ?? 0) + rnd(20));
    const level = (typeof rule.level === 'number' ? rule.level : 3) + rnd(5) - 2;
    rule.level = Math.max(0, Math.min(15, level));
    if (rule.level === 0) delete rule.level; // the manager omits level 0
    const agentNo = rnd(400);
    const manager = MANAGERS[rnd(MANAGERS.length)];
    a.manager = { ...a.manager, name: manager };
    if (agentNo < 40) a.agent = { id: '000', name: manager };
    else {
      a.agent = {
        id: String(agentNo).padStart(3, '0'),
        name: `${HOSTS[agentNo % HOSTS.length]}-${String(agentNo).padStart(2, '0')}`,
        ip: `10.${agentNo >> 8}.${agentNo & 255}.${1 + rnd(250)}`,
      };
    }
    if (rnd(3) === 0) a.location = LOCATIONS[rnd(LOCATIONS.length)];
    const at = epoch + Math.floor(i / 50);
    a.id = `${at}.${offset}`;
    a.timestamp = new Date(at * 1000).toISOString().replace('Z', '+0000');
    offset += texts[k].length + 1;
    out[i] = a;
  }
  return out;
}

/** The alerts of every figure: `n` generated in blocks of 1,000 (seeds 1, 2, ...), block by block. */
export function* alertBlocks(n: number): Generator<Alert[]> {
  for (let from = 0; from < n; from += 1000) yield generateAlerts(Math.min(1000, n - from), 1 + from / 1000);
}

/** alertBlocks(n), all in one array. */
export function benchAlerts(n: number): Alert[] {
  return [...alertBlocks(n)].flat();
}

/**
 * The 4-integration config of the filter figures: a level, rule ids (with a level), groups,
 * and an OS_Regex event_location tried against every location field. The first block passes
 * exactly what the core switch of filter_vs_switch passes (rule.level >= 7).
 */
export const BENCH_CONFIG = `
<integration>
  <name>slack</name>
  <level>7</level>
</integration>
<integration>
  <name>pagerduty</name>
  <rule_id>5712,5720,4151,60602,19014,87105</rule_id>
  <level>7</level>
</integration>
<integration>
  <name>custom-auth</name>
  <group>authentication_failed,authentication_failures|invalid_login</group>
</integration>
<integration>
  <name>custom-web</name>
  <event_location>^/var/log/nginx/|^web-\\d+$</event_location>
  <level>5</level>
</integration>
`;

/**
 * With HEAPSNAP=<file>, writes a V8 heap snapshot and prints the largest groups of live
 * objects (by constructor or type, summed self size): where the memory of a benchmark goes.
 */
import fs from 'node:fs';
import v8 from 'node:v8';

export function heapReport(label: string, top = 15): void {
  const file = process.env.HEAPSNAP;
  if (!file) return;
  const written = v8.writeHeapSnapshot(file);
  const snap = JSON.parse(fs.readFileSync(written, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const types: string[] = meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map<string, { count: number; bytes: number }>();
  const nodes: number[] = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'closure' ? snap.strings[nodes[i + iName]] : `(${type})`;
    const g = groups.get(name) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + iSize];
    groups.set(name, g);
  }
  console.error(`heap by group (${label}):`);
  for (const [name, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    console.error(`  ${(g.bytes / 1024 / 1024).toFixed(1).padStart(7)} MB ${String(g.count).padStart(9)}  ${name.slice(0, 80)}`);
  }
}

/** Alert files for the source benchmarks: written once per run in a temporary directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alertBlocks } from './alerts';
import type { Alert } from '../../src/types';

/** Writes `n` generated alerts as JSON lines to a new temp file (`each` sees every alert); returns its path and size. */
export function writeAlertsFile(n: number, each?: (alert: Alert) => void): { file: string; bytes: number; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-bench-alerts-'));
  const file = path.join(dir, 'alerts.json');
  const fd = fs.openSync(file, 'w');
  try {
    for (const alerts of alertBlocks(n)) {
      if (each) alerts.forEach(each);
      fs.writeSync(fd, alerts.map((a) => JSON.stringify(a)).join('\n') + '\n');
    }
  } finally {
    fs.closeSync(fd);
  }
  return { file, bytes: fs.statSync(file).size, dir };
}

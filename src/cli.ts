#!/usr/bin/env node
/**
 * `armor-check CONFIG [ALERTS]`: which alerts of an alerts.json file each <integration>
 * block of a config would receive. Prints errors and warnings first; exits 1 on errors.
 */
import fs from 'node:fs';
import { parseIntegrations } from './config/parse';
import { compileFilter } from './filter';

function main(argv: string[]): number {
  const [configPath, alertsPath] = argv;
  if (!configPath) {
    process.stderr.write('usage: armor-check CONFIG.xml [ALERTS.jsonl]\n');
    return 2;
  }
  const result = parseIntegrations(fs.readFileSync(configPath, 'utf8'));
  for (const w of result.warnings) process.stdout.write(`warning: ${w.message}\n`);
  for (const e of result.errors) process.stdout.write(`error: ${e.message}\n`);
  if (result.errors.length > 0) return 1;

  const filters = result.integrations.map((i) => compileFilter(i));
  const counts = filters.map(() => 0);
  let alerts = 0;
  let notAlerts = 0;
  let badLines = 0;
  if (alertsPath) {
    const lines = fs.readFileSync(alertsPath, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let alert: unknown;
      try {
        alert = JSON.parse(line);
      } catch (e) {
        badLines++;
        process.stdout.write(`skipped line ${i + 1}: not JSON (${(e as Error).message})\n`);
        return;
      }
      const rule = (alert as { rule?: unknown } | null)?.rule;
      if (typeof rule !== 'object' || rule === null) {
        notAlerts++;
        return;
      }
      alerts++;
      filters.forEach((f, k) => {
        if (f(alert)) counts[k]++;
      });
    });
    process.stdout.write(`${alerts} alerts read (${notAlerts} objects without a rule skipped, ${badLines} bad lines)\n`);
  }
  result.integrations.forEach((integration, k) => {
    const what = alertsPath ? `${counts[k]} of ${alerts} alerts` : 'valid';
    process.stdout.write(`integration #${integration.index + 1} (${integration.name}): ${what}\n`);
  });
  return 0;
}

process.exitCode = main(process.argv.slice(2));

/**
 * armor-redis properties, version by version (nodes/lib/migrate.ts). Version 1: `url` and
 * `prefix` (empty or missing: the runtime's defaults, src/delivery/shared/client.ts).
 */
import type { Migration } from '../lib/migrate';

export const migrations: readonly Migration[] = [{ version: 1, up: (def) => def }];

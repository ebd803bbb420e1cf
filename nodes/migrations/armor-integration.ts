/**
 * armor-integration properties, version by version (nodes/lib/migrate.ts). A def without `version`
 * was written before versions existed (by hand, a script, an old export): version 1 reads it
 * as it always did, a missing property taking the runtime's default (no mode: the form (an absent rule list: no integration); outputs: as written).
 */
import type { Migration } from '../lib/migrate';

export const migrations: readonly Migration[] = [{ version: 1, up: (def) => def }];

/**
 * armor-pagerduty-service properties, version by version (nodes/lib/migrate.ts). A def without `version`
 * was written before versions existed (by hand, a script, an old export): version 1 reads it
 * as it always did, a missing property taking the runtime's default (region: US; pace, burst, deadline and outbox limits: the service's (src/services/pagerduty)).
 */
import type { Migration } from '../lib/migrate';

export const migrations: readonly Migration[] = [{ version: 1, up: (def) => def }];

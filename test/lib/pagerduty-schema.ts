/**
 * PagerDuty's Events API v2 contract (../shared/contracts/pagerduty_events_v2_schema.json, read
 * at run time): the request body schema of `POST /enqueue`, compiled with ajv.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

const CONTRACT = path.join(__dirname, '..', '..', '..', 'shared', 'contracts', 'pagerduty_events_v2_schema.json');

/** RFC 3339 date-time, strictly (the colon in the offset is required). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The request body schema of `POST /enqueue` in PagerDuty's OpenAPI document, its `$ref`s resolved in that document. */
export function enqueueValidator(): ValidateFunction {
  const doc = JSON.parse(fs.readFileSync(CONTRACT, 'utf8'));
  // OpenAPI 3.0 keywords (example, x-examples, ...) are not JSON Schema: strict: false ignores them.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) => DATE_TIME.test(s) && Number.isFinite(Date.parse(s)));
  ajv.addFormat('url', (s: string) => URL.canParse(s));
  ajv.addSchema({ ...doc, $id: 'pagerduty-events-v2.json' });
  return ajv.compile({ $ref: 'pagerduty-events-v2.json#/paths/~1enqueue/post/requestBody/content/application~1json/schema' });
}

/**
 * What the editor's dialogs ask the runtime (Node-RED admin endpoints), so that they show the
 * library's own results: the rows an imported config fills the form with, the message a Slack
 * or PagerDuty node would send (rendered by ./render, the code that renders deliveries), and
 * the service's answer to one test alert. Secrets never leave the runtime through these.
 *
 *   GET  /armor-integrations/samples   the bundled synthetic alerts: [{ id, label, alert }]
 *   POST /armor-integration/import     { xml } → { rows: [{ index, name, row, hasHookUrl, hasApiKey }], blocks, errors, warnings }
 *                                      (blocks: where each <integration> and its <hook_url> / <api_key> are in
 *                                      the text sent, as offsets: src/config.ts BlockSpan; never a value)
 *   POST /armor-slack/preview          { layout?, sample? | alert? } → { message }
 *   POST /armor-pagerduty/preview      { sample? | alert? } → { event } (routing key shown as a placeholder)
 *   POST /armor-slack/:id/test         { sample? | alert? } → { ok, kind, status?, error?, answer? }   (404: not deployed)
 *   POST /armor-pagerduty/:id/test     same
 *
 * (The filter dialog validates and explains through /armor-integration/check, in armor-integration.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { locateIntegrations, parseIntegrations } from '../../src/config/parse';
import { integrationToRow, type IntegrationRow } from '../../src/config/form';
import { postJson } from '../../src/delivery/sender';
import type { DeliveryService } from '../../src/delivery/service';
import { isAlert } from '../../src/source/lines';
import { endpointSecrets, redact } from '../../src/secrets';
import type { Integration } from '../../src/types';
import type { Parcel } from '../../src/delivery/endpoint';
import type { EndpointConfigNode } from './endpoint-config';

export interface SampleAlert {
  id: string;
  label: string;
  alert: Record<string, unknown>;
}

/** What a deployed delivery node lends the test button: its config node and how it renders. */
export interface TestSend {
  service: DeliveryService;
  config(): EndpointConfigNode | null;
  render?: Parcel['render'];
}

/** What the preview shows in place of the routing key (the key stays in the config node). */
/** Deadline of a test post: the editor waits for it. */
const TEST_TIMEOUT_MS = 10_000;
/** Prefix of a test alert's description, so nobody mistakes it for a real incident. */
const TEST_MARK = '[test from Node-RED] ';

const SAMPLES_FILE = path.join(__dirname, 'sample-alerts.json');
let samples: readonly SampleAlert[] | undefined;

/** The bundled sample alerts (synthetic; shipped as sample-alerts.json beside this module). */
export function sampleAlerts(): readonly SampleAlert[] {
  samples ??= JSON.parse(fs.readFileSync(SAMPLES_FILE, 'utf8')) as SampleAlert[];
  return samples;
}

/** Delivery nodes that can send a test alert, by instance (gone with the instance). */
const testSends = new WeakMap<Node, TestSend>();

/** Lets the editor's "send test" use this deployed delivery node's config node. */
export function allowTestSend(node: Node, spec: TestSend): void {
  testSends.set(node, spec);
}

/** The alert a request names: `alert` (an object or JSON text), else sample `sample`, else the first sample. */
function alertOf(
  RED: NodeAPI,
  body: { alert?: unknown; sample?: unknown },
): { alert: Record<string, unknown>; sample?: string } | { error: string } {
  let alert = body.alert;
  if (typeof alert === 'string') {
    try {
      alert = JSON.parse(alert);
    } catch (e) {
      return { error: RED._('armor-delivery.errors.alertNotJson', { error: (e as Error).message }) };
    }
  }
  if (alert === undefined) {
    const wanted =
      body.sample === undefined || body.sample === null || body.sample === ''
        ? sampleAlerts()[0]
        : sampleAlerts().find((s) => s.id === body.sample);
    if (!wanted) return { error: RED._('armor-delivery.errors.noSample', { sample: JSON.stringify(body.sample) }) };
    return { alert: wanted.alert, sample: wanted.id };
  }
  if (!isAlert(alert)) return { error: RED._('armor-delivery.errors.notAnAlert') };
  return { alert };
}

function parcelOf(alert: unknown, render: Parcel['render'], dedupKey?: string): Parcel {
  return {
    node: 'editor',
    retries: 0,
    queuedAt: Date.now(),
    timeout: TEST_TIMEOUT_MS / 1000,
    render,
    msg: { payload: alert, dedup_key: dedupKey },
  };
}

/** A form row's value equal to what the runtime assumes when the tag is absent is left out. */
const DEFAULT_ROW: IntegrationRow = integrationToRow(
  parseIntegrations('<integration><name>custom-defaults</name></integration>').integrations[0],
);

/** The form row of a parsed integration: no hook_url/api_key (they go to config nodes), no defaults. */
function formRow(integration: Integration): IntegrationRow {
  const row: IntegrationRow = integrationToRow(integration);
  delete row.hook_url;
  delete row.api_key;
  for (const key of Object.keys(row) as Array<keyof IntegrationRow>) {
    if (key !== 'name' && row[key] === DEFAULT_ROW[key]) delete row[key];
  }
  return row;
}

/** Registers the sample endpoint once per admin app (every node module asks for it). */
const servedSamples = new WeakSet<object>();
function serveSamples(RED: NodeAPI): void {
  if (servedSamples.has(RED.httpAdmin)) return;
  servedSamples.add(RED.httpAdmin);
  RED.httpAdmin.get('/armor-integrations/samples', RED.auth.needsPermission('armor-integration.read'), (_req, res) => {
    res.json(sampleAlerts());
  });
}

/** The armor-integration dialog's endpoints: import of a manager's config, sample alerts. */
export function integrationEditorApi(RED: NodeAPI): void {
  serveSamples(RED);
  RED.httpAdmin.post('/armor-integration/import', RED.auth.needsPermission('armor-integration.write'), (req, res) => {
    const xml = (req.body as { xml?: unknown } | undefined)?.xml;
    const result = locateIntegrations(typeof xml === 'string' ? xml : '');
    res.json({
      rows: result.integrations.map((i) => ({
        index: i.index,
        name: i.name,
        row: formRow(i),
        hasHookUrl: i.hookUrl !== undefined,
        hasApiKey: i.apiKey !== undefined,
      })),
      blocks: result.blocks,
      errors: result.errors,
      warnings: result.warnings,
    });
  });
}

/** The armor-slack / armor-pagerduty dialog's endpoints: preview, send test. */
export function deliveryEditorApi(RED: NodeAPI, service: DeliveryService): void {
  serveSamples(RED);
  const type = `armor-${service.id}`;

  RED.httpAdmin.post(`/${type}/preview`, RED.auth.needsPermission(`${type}.read`), (req, res) => {
    const body = (req.body ?? {}) as { alert?: unknown; sample?: unknown; layout?: unknown };
    const found = alertOf(RED, body);
    if ('error' in found) {
      res.status(400).json({ error: found.error });
      return;
    }
    // the same rendering as deliveries
    const rendered = service.message(parcelOf(found.alert, service.editor.previewRender?.(body)), service.editor.previewTarget);
    res.json({ [service.editor.previewKey]: rendered });
  });

  // Straight to the service, not through the outbox: a test answers now, is not retried,
  // digested or paced behind waiting alerts, and does not leave by the node's outputs.
  RED.httpAdmin.post(`/${type}/:id/test`, RED.auth.needsPermission(`${type}.write`), (req, res) => {
    const node = RED.nodes.getNode(String(req.params.id));
    const spec = node ? testSends.get(node) : undefined;
    if (!spec || spec.service !== service) {
      res.sendStatus(404);
      return;
    }
    const found = alertOf(RED, (req.body ?? {}) as { alert?: unknown; sample?: unknown });
    if ('error' in found) {
      res.status(400).json({ error: found.error });
      return;
    }
    const config = spec.config();
    const target = config ? config.endpoint() : { problem: RED._('armor-delivery.errors.noConfig') };
    if ('problem' in target) {
      res.json({ ok: false, kind: 'refused', error: target.problem });
      return;
    }
    const rule = found.alert.rule as Record<string, unknown>;
    const alert = {
      ...found.alert,
      rule: { ...rule, description: TEST_MARK + (typeof rule.description === 'string' ? rule.description : '') },
    };
    const parcel = parcelOf(alert, spec.render, service.editor.testDedupKey?.(found.sample ?? 'alert'));
    const secrets = endpointSecrets(target.url, target.routingKey);
    // the config node's own shape of the service when it has one (a PagerDuty service's client_url)
    postJson(service, target.url, (config?.service ?? service).message(parcel, target), { timeoutMs: TEST_TIMEOUT_MS }).then(
      (result) => {
        const clean = (text: string | undefined) => (text === undefined ? undefined : redact(text, secrets));
        const outcome = result.status ? RED._('armor-delivery.log.testHttp', { kind: result.kind, status: result.status }) : result.kind;
        node.log(RED._('armor-delivery.log.test', { sample: found.sample ?? RED._('armor-delivery.log.pasted'), outcome }));
        res.json({
          ok: result.kind === 'ok',
          kind: result.kind,
          status: result.status,
          error: clean(result.error),
          answer: clean(result.body),
        });
      },
      (e: Error) => res.status(500).json({ error: redact(e.message, secrets) }),
    );
  });
}

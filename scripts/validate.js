'use strict';
/**
 * `npm run validate` (after the build): the Node-RED flow library's scorecard checks, run by
 * node-red-dev's own code (`node-red-dev validate`), installed on first use from the npm
 * registry into node_modules/.cache. Exits 1 when a check fails.
 *
 * Two checks read the flow library's catalogue (catalogue.nodered.org): P08 (a package of a
 * similar name) and N01 (node type names used by another package). Without internet,
 * node-red-dev stops at the first of them and runs nothing after it; here they are reported
 * as not run and every other check runs (the npm registry, which P06, P07, D02 and D03 read,
 * is reachable where this project builds).
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const VERSION = '0.1.6';
const TOOL_DIR = path.join(ROOT, 'node_modules', '.cache', `node-red-dev@${VERSION}`);
const CATALOGUE = 'https://catalogue.nodered.org/catalogue.json';
const CATALOGUE_CHECKS = { P08: 'similar package names', N01: 'node type names unique in the flow library' };

function installTool() {
  const main = path.join(TOOL_DIR, 'node_modules', 'node-red-dev', 'package.json');
  if (fs.existsSync(main)) return path.dirname(main);
  fs.mkdirSync(TOOL_DIR, { recursive: true });
  fs.writeFileSync(path.join(TOOL_DIR, 'package.json'), '{ "private": true }\n');
  console.log(`installing node-red-dev@${VERSION} into ${path.relative(ROOT, TOOL_DIR)} …`);
  execFileSync('npm', ['install', `node-red-dev@${VERSION}`, '--prefix', TOOL_DIR, '--no-audit', '--no-fund', '--omit=dev'], {
    stdio: 'inherit',
  });
  return path.dirname(main);
}

async function reachable(url) {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const tool = installTool();
  const online = await reachable(CATALOGUE);
  if (!online) {
    // node-red-dev's own axios: the catalogue answers empty, and the two checks that read it are reported as not run
    const axios = require(require.resolve('axios', { paths: [tool] }));
    const get = axios.get.bind(axios);
    axios.get = (url, ...rest) => (String(url).startsWith(CATALOGUE) ? Promise.resolve({ data: { modules: [] } }) : get(url, ...rest));
  }
  const silenced = online ? [] : ['✅ No similar named packages found', '✅ Nodes all have unique names'];
  const cli = {
    log: (line) => silenced.includes(line) || console.log(line),
    warn: (line) => console.log(` ›   Warning: ${line}`),
    error: (e) => {
      throw e instanceof Error ? e : new Error(String(e));
    },
  };
  const scorecard = {};
  for (const step of ['checkpackage', 'checknodes', 'checkdeps']) {
    await require(path.join(tool, 'src', 'libs', `${step}.js`))(ROOT, cli, scorecard, false);
  }
  const notRun = online ? [] : Object.keys(CATALOGUE_CHECKS);
  for (const check of notRun) {
    delete scorecard[check];
    console.log(`⏭  ${check} not run (${CATALOGUE_CHECKS[check]}): ${new URL(CATALOGUE).host} is not reachable`);
  }
  const failed = Object.keys(scorecard).filter((k) => scorecard[k] && scorecard[k].test === false);
  const passed = Object.keys(scorecard).filter((k) => scorecard[k] && scorecard[k].test === true);
  console.log(
    `\nnode-red-dev ${VERSION}: ${passed.length} passed, ${failed.length} failed${notRun.length ? `, ${notRun.length} not run (${notRun.join(', ')})` : ''}${failed.length ? `: ${failed.join(', ')}` : ''}`,
  );
  return failed.length === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(`validate: ${e.stack || e.message}`);
    process.exit(1);
  },
);

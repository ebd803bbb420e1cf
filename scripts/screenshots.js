'use strict';
/**
 * `npm run screenshots` (after the build): regenerates the README's pictures in
 * docs/screenshots/ by running the browser test (test/package/browser.test.ts) against Node-RED 4.1,
 * which saves them at the moments it checks: palette.png (the palette and a flow built from
 * it), import-box.png (the manager's sample config pasted into the import box),
 * filter-dialog.png (the imported integrations and the verdicts for a sample alert),
 * example-flow.png (an example imported from the menu and deployed).
 */
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const OUT = path.join('docs', 'screenshots');

const run = spawnSync(
  process.execPath,
  [
    require.resolve('mocha/bin/mocha.js', { paths: [ROOT] }),
    '--grep',
    '^the editor in Chromium, Node-RED 4\\.1',
    path.join('test', 'package', 'browser.test.ts'),
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ARMOR_SCREENSHOTS: OUT } },
);
if (run.status === 0) console.log(`screenshots written to ${OUT}/`);
process.exit(run.status ?? 1);

'use strict';
// `npm start` (after the build): check the example config against the sample alerts.
// The next step of the product replaces this with a local Node-RED and a demo flow.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const config = process.argv[2] || path.join(root, 'examples', 'ossec-integrations.xml');
const samples = path.join(root, '..', 'shared', 'samples', 'alerts.jsonl');
const alerts = process.argv[3] || (fs.existsSync(samples) ? samples : undefined);
const args = [path.join(root, 'dist', 'src', 'cli.js'), config].concat(alerts ? [alerts] : []);
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exitCode = run.status === null ? 1 : run.status;

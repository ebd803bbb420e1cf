'use strict';
// Reproduces the layout Node-RED loads: each node's .html (and its locales/)
// beside the compiled .js of the same base name under dist/nodes/, and icons/ beside
// them too (Node-RED looks for a module's icons only in an icons/ folder next to each
// node file named in package.json; elsewhere the editor shows its default icon).
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const src = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');

function copyTree(from, to) {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, entry.name);
    const b = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(a, b);
    else if (!entry.name.endsWith('.ts')) fs.copyFileSync(a, b);
  }
}

copyTree(src, out);
copyTree(path.join(root, 'icons'), path.join(out, 'icons'));

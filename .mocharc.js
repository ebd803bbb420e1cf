// mocha's settings are in .mocharc.json; this file only makes `npx mocha test/x.test.ts` run
// that file alone (mocha otherwise adds the files named on the command line to the config's
// spec, so every test would run). `npm test`, naming no file, runs every test.
const config = require('./.mocharc.json');
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg));
module.exports = named ? { ...config, spec: [] } : config;

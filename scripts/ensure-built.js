#!/usr/bin/env node
// Run before `npm start`, `npm test` and `npm run bench`: installs dependencies when node_modules is
// missing or was installed from another package-lock.json or other dependency patches (the postinstall
// applies them), then compiles the TypeScript. A fresh clone needs nothing else. Plain JavaScript on
// purpose: it must run before anything is installed.
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const path = require('node:path');
const { ROOT: root, PATCHES, run } = require('./common');

const stamp = path.join(root, 'node_modules', '.sluice-lock-hash');
const lock = path.join(root, 'package-lock.json');

const hash = createHash('sha256').update(readFileSync(lock));
for (const { patch } of PATCHES) hash.update(readFileSync(patch));
const installHash = hash.digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === installHash;
if (!installed) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, installHash);
}
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.json']);

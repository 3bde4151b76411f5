#!/usr/bin/env node
// Run before `npm start`, `npm test` and `npm run bench`: installs dependencies when node_modules is
// missing or was installed from another package-lock.json or node-rdkafka patch (the postinstall
// applies it), then compiles the TypeScript. A fresh clone needs nothing else. Plain JavaScript on
// purpose: it must run before anything is installed.
'use strict';
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const path = require('node:path');
const { ROOT: root, RDKAFKA_PATCH, run } = require('./common');

const stamp = path.join(root, 'node_modules', '.sluice-lock-hash');
const lock = path.join(root, 'package-lock.json');

const installHash = createHash('sha256').update(readFileSync(lock)).update(readFileSync(RDKAFKA_PATCH)).digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === installHash;
if (!installed) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, installHash);
}
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.json']);

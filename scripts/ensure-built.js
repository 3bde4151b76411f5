#!/usr/bin/env node
// Run before `npm start`, `npm test` and `npm run bench`: installs dependencies when node_modules is
// missing or was installed from another package-lock.json or node-rdkafka patch (the postinstall
// applies it), then compiles the TypeScript. A fresh clone needs nothing else. Plain JavaScript on
// purpose: it must run before anything is installed.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'node_modules', '.sluice-lock-hash');
const lock = path.join(root, 'package-lock.json');
const rdkafkaPatch = path.join(root, 'scripts', 'patches', 'node-rdkafka-batched-delivery-reports.patch');

function run(cmd, args) {
  process.stderr.write(`> ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

const installHash = createHash('sha256').update(readFileSync(lock)).update(readFileSync(rdkafkaPatch)).digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === installHash;
if (!installed) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, installHash);
}
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.json']);

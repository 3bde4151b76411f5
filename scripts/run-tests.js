#!/usr/bin/env node
// `npm test`: runs every compiled test file with node's test runner. Node 20's --test takes no
// globs, so the files are listed here.
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const files = testFiles(path.join(root, 'dist', 'test')).sort();
if (files.length === 0) {
  process.stderr.write('no test files found under dist/test\n');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);

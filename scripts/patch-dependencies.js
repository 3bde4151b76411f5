#!/usr/bin/env node
// npm postinstall: applies Sluice's patches to its dependencies (scripts/common.js lists them; each
// patch file says why) and rebuilds the native binding of a module whose native code one changes.
// The rebuild is incremental, a few seconds: only the patched files are compiled, librdkafka is not.
// Plain JavaScript: it runs inside `npm ci`, before the TypeScript is compiled.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { ROOT, PATCHES, run } = require('./common');

for (const { module, version, patch, marker, rebuild } of PATCHES) {
  const moduleDir = path.join(ROOT, 'node_modules', module);
  const installed = JSON.parse(readFileSync(path.join(moduleDir, 'package.json'), 'utf8')).version.replace(/^v/, '');
  if (installed !== version) {
    process.stderr.write(`${module} ${installed} is installed; ${path.relative(ROOT, patch)} is for ${version}. Port the patch, then update its version in scripts/common.js.\n`);
    process.exit(1);
  }
  if (!readFileSync(path.join(moduleDir, marker.file), 'utf8').includes(marker.text)) {
    run('patch', ['-p1', '--forward', '--batch', '-d', moduleDir, '-i', patch]);
  }
  // make, not node-gyp rebuild: the Makefile node-gyp generated at install knows what is out of date.
  if (rebuild) run('make', ['-C', path.join(moduleDir, 'build')]);
}

#!/usr/bin/env node
// npm postinstall: applies scripts/patches/node-rdkafka-batched-delivery-reports.patch (delivery
// reports reach JS in batches; the patch file says why) and rebuilds node-rdkafka's binding. The
// rebuild is incremental, a few seconds: only the patched files are compiled, librdkafka is not.
// Plain JavaScript: it runs inside `npm ci`, before the TypeScript is compiled.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { ROOT, RDKAFKA_PATCH, run } = require('./common');

const moduleDir = path.join(ROOT, 'node_modules', 'node-rdkafka');
/** The release the patch was written against; another one needs the patch looked at again. */
const PATCHED_VERSION = '3.6.1';
/** Present in lib/producer.js once the patch is applied. */
const MARKER = 'dr_batch_cb';

const version = JSON.parse(readFileSync(path.join(moduleDir, 'package.json'), 'utf8')).version.replace(/^v/, '');
if (version !== PATCHED_VERSION) {
  process.stderr.write(`node-rdkafka ${version} is installed; ${path.relative(ROOT, RDKAFKA_PATCH)} is for ${PATCHED_VERSION}. Port the patch, then update PATCHED_VERSION in ${__filename}.\n`);
  process.exit(1);
}
if (!readFileSync(path.join(moduleDir, 'lib', 'producer.js'), 'utf8').includes(MARKER)) {
  run('patch', ['-p1', '--forward', '--batch', '-d', moduleDir, '-i', RDKAFKA_PATCH]);
}
// make, not node-gyp rebuild: the Makefile node-gyp generated at install knows what is out of date.
run('make', ['-C', path.join(moduleDir, 'build')]);

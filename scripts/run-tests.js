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
// One real Kafka broker for the whole run (scripts/kafka-local); tests find it in SLUICE_TEST_KAFKA.
// Files run one at a time: the Kafka tests stop and restart that broker.
const kafkaLocal = path.join(root, 'scripts', 'kafka-local');
const env = { ...process.env, KAFKA_LOCAL_STATE: path.join(require('node:os').tmpdir(), `sluice-test-kafka-${process.pid}.state`) };
const started = spawnSync(kafkaLocal, ['start'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (started.status !== 0) {
  process.stderr.write('could not start the local Kafka broker (scripts/kafka-local start)\n');
  process.exit(1);
}
env.SLUICE_TEST_KAFKA = started.stdout.trim();
process.stderr.write(`local Kafka at ${env.SLUICE_TEST_KAFKA}\n`);
let status = 1;
try {
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { cwd: root, env, stdio: 'inherit' });
  status = result.status ?? 1;
} finally {
  spawnSync(kafkaLocal, ['stop'], { cwd: root, env, stdio: 'inherit' });
}
process.exit(status);

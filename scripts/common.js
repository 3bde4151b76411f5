// What ensure-built.js and patch-node-rdkafka.js share. Plain JavaScript: both run before the
// TypeScript is compiled.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** Sluice's patch to node-rdkafka: the postinstall applies it, and a change to it reinstalls. */
const RDKAFKA_PATCH = path.join(__dirname, 'patches', 'node-rdkafka-batched-delivery-reports.patch');

/** Runs a command in the repository root, echoing it first, with its output on ours. */
function run(cmd, args) {
  process.stderr.write(`> ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

module.exports = { ROOT, RDKAFKA_PATCH, run };

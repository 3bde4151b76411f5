// What ensure-built.js and patch-dependencies.js share. Plain JavaScript: both run before the
// TypeScript is compiled.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/**
 * Sluice's patches to its dependencies: the postinstall applies them in this order, and a change to one
 * reinstalls. Each is written against one release (`version`); `marker` is text the patched `file` contains.
 * `rebuild`: the patch changes native code, so the module's binding is rebuilt.
 */
const PATCHES = [
  {
    module: 'node-rdkafka',
    version: '3.6.1',
    patch: path.join(__dirname, 'patches', 'node-rdkafka-batched-delivery-reports.patch'),
    marker: { file: 'lib/producer.js', text: 'dr_batch_cb' },
    rebuild: true,
  },
  {
    module: 'node-rdkafka',
    version: '3.6.1',
    patch: path.join(__dirname, 'patches', 'node-rdkafka-produce-spans.patch'),
    marker: { file: 'lib/producer.js', text: 'produceSpans' },
    rebuild: true,
  },
  {
    module: 'piscina',
    version: '5.3.2',
    patch: path.join(__dirname, 'patches', 'piscina-worker-interface.patch'),
    marker: { file: 'dist/worker_pool/index.js', text: 'this.publicInterface' },
    rebuild: false,
  },
];

/** Runs a command in the repository root, echoing it first, with its output on ours. */
function run(cmd, args) {
  process.stderr.write(`> ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

module.exports = { ROOT, PATCHES, run };

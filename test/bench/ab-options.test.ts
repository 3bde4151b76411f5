// bench/ab.ts's command line: what it runs with, and the mistakes it refuses before starting anything.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseOptions, UsageError } from '../../bench/ab';

/** This checkout: built, so it can stand as its own baseline. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

describe('bench/ab.js options', () => {
  it('fills the defaults around the baseline', () => {
    const options = parseOptions(['--baseline', REPO_ROOT]);
    assert.deepEqual(options, {
      baseline: REPO_ROOT,
      workload: 'trivial50',
      connections: 100,
      rounds: 5,
      seconds: 8,
      warmup: 3,
      config: 'bench/config/null.yaml',
      rate: null,
      leadIn: 2,
      baselineEnv: {},
    });
  });

  it('reads every option, and an environment variable for the baseline only', () => {
    const options = parseOptions([
      '--baseline', REPO_ROOT, '--workload', 'analytics50', '--connections', '25', '--rounds', '7', '--seconds', '4',
      '--warmup', '1', '--config', 'bench/config/kafka.yaml', '--rate', '3000', '--lead-in', '0.5', '--baseline-env', 'NODE_OPTIONS=--max-semi-space-size=4',
    ]);
    assert.equal(options.workload, 'analytics50');
    assert.deepEqual([options.connections, options.rounds, options.seconds, options.warmup, options.rate, options.leadIn], [25, 7, 4, 1, 3000, 0.5]);
    assert.equal(options.config, 'bench/config/kafka.yaml');
    assert.deepEqual(options.baselineEnv, { NODE_OPTIONS: '--max-semi-space-size=4' });
  });

  it('takes --baseline-env more than once, for a setting made of several variables', () => {
    const options = parseOptions(['--baseline', REPO_ROOT, '--baseline-env', 'SLUICE_POOL_WORKER_NICE=0', '--rate', '20800', '--baseline-env', 'SLUICE_POOL_MAX_BATCH_DELAY_US=1']);
    assert.deepEqual(options.baselineEnv, { SLUICE_POOL_WORKER_NICE: '0', SLUICE_POOL_MAX_BATCH_DELAY_US: '1' });
    assert.equal(options.rate, 20800);
  });

  const refusals: [string, string[], RegExp][] = [
    ['no baseline', [], /--baseline is required/],
    ['a baseline that is not built', ['--baseline', path.join(REPO_ROOT, 'no-such-dir')], /has no dist\/src\/cli\.js/],
    ['an unknown workload', ['--baseline', REPO_ROOT, '--workload', 'huge'], /unknown workload "huge"/],
    ['an unknown option', ['--baseline', REPO_ROOT, '--duration', '5'], /unknown option --duration/],
    ['a count that is not positive', ['--baseline', REPO_ROOT, '--rounds', '0'], /--rounds must be a positive number, not "0"/],
    ['an option without its value', ['--baseline', REPO_ROOT, '--rounds'], /cannot read "--rounds"/],
    ['an environment setting without =', ['--baseline', REPO_ROOT, '--baseline-env', 'SLUICE_POOL_THREADS'], /must be NAME=VALUE/],
    ['a variable set twice', ['--baseline', REPO_ROOT, '--baseline-env', 'SLUICE_POOL_THREADS=1', '--baseline-env', 'SLUICE_POOL_THREADS=2'], /sets SLUICE_POOL_THREADS twice/],
  ];
  for (const [what, argv, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseOptions(argv), (error: unknown) => error instanceof UsageError && message.test(error.message));
    });
  }
});

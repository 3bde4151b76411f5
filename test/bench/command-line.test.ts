import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandLine } from '../../bench/report';

describe('bench report command line', () => {
  it('is the npm command with its arguments', () => {
    assert.equal(commandLine(['--quick', '--targets', 'sluice'], { PATH: '/usr/bin' }), 'npm run bench -- --quick --targets sluice');
    assert.equal(commandLine([], {}), 'npm run bench');
  });

  it('names the SLUICE_* settings every Sluice of the run inherits, sorted, and no other variables', () => {
    const env = { SLUICE_POOL_THREADS: '1', HOME: '/root', SLUICE_POOL_MAX_BATCH_DELAY_US: '300' };
    assert.equal(commandLine(['--targets', 'sluice'], env), 'SLUICE_POOL_MAX_BATCH_DELAY_US=300 SLUICE_POOL_THREADS=1 npm run bench -- --targets sluice');
  });

  it('quotes a value the shell would split or expand, so the line can be run again as it is', () => {
    const env = { SLUICE_LOG__LEVEL: 'warn', SLUICE_SERVICE_NAME: "it's a $name" };
    assert.equal(commandLine([], env), "SLUICE_LOG__LEVEL=warn SLUICE_SERVICE_NAME='it'\\''s a $name' npm run bench");
    assert.equal(commandLine(['--targets', 'a b'], {}), "npm run bench -- --targets 'a b'");
  });
});

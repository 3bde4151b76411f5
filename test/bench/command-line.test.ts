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
});

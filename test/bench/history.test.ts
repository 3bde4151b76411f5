import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { formatHistories, goalHistories, readRuns } from '../../bench/history';

const RATE = 'null sink ≥ 400,000 events/s';
const RSS = 'peak RSS < 400 MB';

/** A results file's fields that the history reads. */
function recordedRun(cpuModel: string, commit: string, targets: object[]): object {
  return { command: 'npm run bench', machine: { cpuModel, commit }, targets };
}

function resultsDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-history-'));
  const write = (file: string, body: object): void => fs.writeFileSync(path.join(dir, file), JSON.stringify(body));
  // Written newest first: the order must come from the names (start times), not from writing.
  write('2026-12-05T10-00-00Z.json', recordedRun('AMD EPYC', 'bbbbbbb', [
    { goal: RATE, met: true, measured: '408,361 events/s' },
    { goal: RSS, met: null, measured: 'case not in this run' },
  ]));
  write('2026-12-04T10-00-00Z.json', recordedRun('Intel Xeon', 'aaaaaaa', [
    { goal: RATE, met: false, measured: '275,257 events/s' },
    { goal: RSS, met: true, measured: '335 MiB' },
  ]));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a run');
  return dir;
}

describe('bench: target history across recorded runs', () => {
  it('reads the runs oldest first and skips files that are not results', () => {
    const runs = readRuns(resultsDir());
    assert.deepEqual(runs.map((run) => [run.file, run.commit, run.cpuModel]), [
      ['2026-12-04T10-00-00Z.json', 'aaaaaaa', 'Intel Xeon'],
      ['2026-12-05T10-00-00Z.json', 'bbbbbbb', 'AMD EPYC'],
    ]);
  });

  it('names the file it cannot read', () => {
    const dir = resultsDir();
    fs.writeFileSync(path.join(dir, '2026-12-06T10-00-00Z.json'), '{"targets": [');
    assert.throws(() => readRuns(dir), /cannot read the results file .*2026-12-06T10-00-00Z\.json: /);
  });

  it('groups verdicts by goal and leaves out runs that did not measure it', () => {
    const histories = goalHistories(readRuns(resultsDir()), null);
    assert.deepEqual(histories.map((h) => [h.goal, h.runs.map((entry) => entry.check.met)]), [
      [RATE, [false, true]],
      [RSS, [true]],
    ]);
  });

  it('keeps only the goals the filter names, case-insensitively', () => {
    const histories = goalHistories(readRuns(resultsDir()), 'PEAK rss');
    assert.deepEqual(histories.map((h) => h.goal), [RSS]);
  });

  it('counts the runs that met each goal and prints each verdict with its run', () => {
    const text = formatHistories(goalHistories(readRuns(resultsDir()), null));
    assert.match(text, new RegExp(`^${RATE}: met in 1 of 2 runs$`, 'm'));
    assert.match(text, /^ {2}2026-12-04T10-00-00Z {2}Intel Xeon +aaaaaaa +NOT met {2}275,257 events\/s$/m);
    assert.match(text, /^ {2}2026-12-05T10-00-00Z {2}AMD EPYC +bbbbbbb +met {6}408,361 events\/s$/m);
    assert.match(text, new RegExp(`^${RSS}: met in 1 of 1 runs$`, 'm'));
  });
});

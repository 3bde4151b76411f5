import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { formatHistories, formatOwnPeak, goalHistories, readRuns } from '../../bench/history';

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

/** A measurement as a results file has it: an open loop at `share` of `of`'s peak, 1 event/req unless said. */
function openLoop(target: string, of: string, share: number, offered: number, p99: number, workload = 'trivial1'): object {
  return { case: { target, workload, connections: 100, load: { kind: 'open', share, of: { target: of, workload, connections: 100 } } }, offeredRequestsPerSecond: offered, median: { latencyMs: { p99 } } };
}

function ownPeakDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-own-peak-'));
  const write = (file: string, measurements: object[]): void =>
    fs.writeFileSync(path.join(dir, file), JSON.stringify({ ...recordedRun('AMD EPYC', file.slice(0, 7), []), measurements }));
  write('2026-12-07T04-45-10Z.json', [
    openLoop('sluice', 'sluice', 0.8, 36_372, 1325.67),
    openLoop('sluice', 'sluice', 0.5, 22_733, 22.0),
    openLoop('sluice', 'sluice', 0.8, 5_100, 44.41, 'trivial50'),
    openLoop('ceiling', 'ceiling', 0.8, 45_246, 224.09),
    openLoop('ceiling-open', 'sluice', 0.8, 36_372, 2.04),
    openLoop('bare-split', 'bare-split', 0.8, 35_653, 10.48),
  ]);
  write('2026-12-05T15-15-33Z.json', [openLoop('sluice', 'sluice', 0.8, 27_227, 25.94), openLoop('ceiling', 'ceiling', 0.8, 36_786, 4.02)]);
  write('2026-11-22T23-39-00Z.json', [{ case: { target: 'sluice', workload: 'trivial1', connections: 100, load: { kind: 'closed' } }, median: { latencyMs: { p99: 3 } } }]);
  return dir;
}

describe('bench: p99 at 80 % of each server’s own peak across recorded runs', () => {
  it('reads only the 1-event open loops at 80 % of the server’s own peak', () => {
    const runs = readRuns(ownPeakDir());
    assert.deepEqual(runs.map((run) => run.atOwnPeak80), [
      [],
      [
        { target: 'sluice', offeredRequestsPerSecond: 27_227, p99Ms: 25.94 },
        { target: 'ceiling', offeredRequestsPerSecond: 36_786, p99Ms: 4.02 },
      ],
      [
        { target: 'sluice', offeredRequestsPerSecond: 36_372, p99Ms: 1325.67 },
        { target: 'ceiling', offeredRequestsPerSecond: 45_246, p99Ms: 224.09 },
        { target: 'bare-split', offeredRequestsPerSecond: 35_653, p99Ms: 10.48 },
      ],
    ]);
  });

  it('counts, per server, the runs under the bound, then lists each run that held one', () => {
    const text = formatOwnPeak(readRuns(ownPeakDir()));
    assert.deepEqual(text.split('\n').slice(0, 4), [
      "p99 < 5 ms at 80 % of a server's own peak (1 event/req, open loop):",
      '  sluice: in 0 of 2 runs',
      '  ceiling: in 1 of 2 runs',
      '  bare-split: in 0 of 1 runs',
    ]);
    assert.match(text, /^ {2}2026-12-05T15-15-33Z {2}AMD EPYC +2026-12 +sluice 25\.94 ms at 27,227, ceiling 4\.02 ms at 36,786$/m);
    assert.match(text, /^ {2}2026-12-07T04-45-10Z .* sluice 1325\.67 ms at 36,372, ceiling 224\.09 ms at 45,246, bare-split 10\.48 ms at 35,653$/m);
    assert.doesNotMatch(text, /2026-11-22/, 'a run with no such case is not listed');
    assert.equal(formatOwnPeak([]), 'no recorded run held a server at 80 % of its own peak\n');
  });
});

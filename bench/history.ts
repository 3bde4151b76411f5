// Issue 6's targets across every recorded run: one run's verdict can be the machine's minute as much as
// the code, so this lists each target's verdicts from all of bench/results/*.json, with the machine and
// commit of each run. --own-peak lists instead what the p99 target's terms gave each server that was
// held to them (Sluice, bare uWS, the bare split): p99 at 80 % of its own peak arrival rate.
//
// Usage: node dist/bench/history.js [--goal <text in the goal> | --own-peak] [--dir bench/results]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOpenAt80, P99_TARGET_MS } from './goals';
import { ms, whole, type Measurement, type TargetCheck } from './report';

/** One server's open loop at 80 % of its own peak, 1 event/req: the p99 target's terms. */
export interface OwnPeakCase {
  readonly target: string;
  readonly offeredRequestsPerSecond: number;
  readonly p99Ms: number;
}

export interface RecordedRun {
  /** The results file's name. */
  readonly file: string;
  readonly cpuModel: string;
  readonly commit: string;
  readonly command: string;
  readonly targets: readonly TargetCheck[];
  readonly atOwnPeak80: readonly OwnPeakCase[];
}

export interface GoalHistory {
  readonly goal: string;
  /** Runs that measured the goal (met true or false), oldest first. */
  readonly runs: ReadonlyArray<{ readonly run: RecordedRun; readonly check: TargetCheck }>;
}

/** The runs recorded in `dir`, oldest first (the files are named by their start time). */
export function readRuns(dir: string): RecordedRun[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = readResults(path.join(dir, file));
      return {
        file,
        cpuModel: json.machine?.cpuModel ?? 'unknown',
        commit: json.machine?.commit ?? 'unknown',
        command: json.command ?? 'unknown',
        targets: json.targets ?? [],
        atOwnPeak80: (json.measurements ?? [])
          .filter((m) => isOpenAt80(m, m.case.target, m.case.target))
          .map((m) => ({ target: m.case.target, offeredRequestsPerSecond: m.offeredRequestsPerSecond ?? 0, p99Ms: m.median.latencyMs.p99 })),
      };
    });
}

interface ResultsFile {
  command?: string;
  machine?: { cpuModel?: string; commit?: string };
  targets?: TargetCheck[];
  measurements?: Measurement[];
}

/** One results file; one that cannot be read says which file it was. */
function readResults(file: string): ResultsFile {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile;
  } catch (err) {
    throw new Error(`cannot read the results file ${file}: ${(err as Error).message}`);
  }
}

/** Per goal (in the order goals first appear), the runs that measured it; `goalFilter` keeps matching goals. */
export function goalHistories(runs: readonly RecordedRun[], goalFilter: string | null): GoalHistory[] {
  const byGoal = new Map<string, Array<{ run: RecordedRun; check: TargetCheck }>>();
  for (const run of runs) {
    for (const check of run.targets) {
      if (check.met === null) continue;
      if (goalFilter !== null && !check.goal.toLowerCase().includes(goalFilter.toLowerCase())) continue;
      let entries = byGoal.get(check.goal);
      if (entries === undefined) byGoal.set(check.goal, (entries = []));
      entries.push({ run, check });
    }
  }
  return [...byGoal].map(([goal, entries]) => ({ goal, runs: entries }));
}

export function formatHistories(histories: readonly GoalHistory[]): string {
  const lines: string[] = [];
  for (const { goal, runs } of histories) {
    const met = runs.filter((entry) => entry.check.met).length;
    lines.push(`${goal}: met in ${met} of ${runs.length} runs`);
    for (const { run, check } of runs) {
      lines.push(`  ${run.file.replace(/\.json$/, '')}  ${run.cpuModel.padEnd(26)} ${run.commit.padEnd(8)} ${check.met ? 'met    ' : 'NOT met'}  ${check.measured}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Per server held to the p99 target's terms, how many runs had p99 under the bound; then each run that
 * held any, its servers' p99 and rates. Sluice's runs are its target's; the others say what the
 * machine (bare uWS) and the thread split (the bare split) allow under the same terms.
 */
export function formatOwnPeak(runs: readonly RecordedRun[]): string {
  const held = runs.filter((run) => run.atOwnPeak80.length > 0);
  if (held.length === 0) return 'no recorded run held a server at 80 % of its own peak\n';
  const servers = [...new Set(held.flatMap((run) => run.atOwnPeak80.map((c) => c.target)))];
  const lines = [`p99 < ${P99_TARGET_MS} ms at 80 % of a server's own peak (1 event/req, open loop):`];
  for (const server of servers) {
    const cases = held.flatMap((run) => run.atOwnPeak80.filter((c) => c.target === server));
    lines.push(`  ${server}: in ${cases.filter((c) => c.p99Ms < P99_TARGET_MS).length} of ${cases.length} runs`);
  }
  for (const run of held) {
    const figures = run.atOwnPeak80.map((c) => `${c.target} ${ms(c.p99Ms)} at ${whole(c.offeredRequestsPerSecond)}`);
    lines.push(`  ${run.file.replace(/\.json$/, '')}  ${run.cpuModel.padEnd(26)} ${run.commit.padEnd(8)} ${figures.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const USAGE = 'usage: node dist/bench/history.js [--goal TEXT | --own-peak] [--dir DIR]\n';

function main(argv: string[]): void {
  let goal: string | null = null;
  let ownPeak = false;
  let dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--own-peak') ownPeak = true;
    else if (argv[i] === '--goal' && value !== undefined) goal = argv[++i]!;
    else if (argv[i] === '--dir' && value !== undefined) dir = path.resolve(argv[++i]!);
    else {
      process.stderr.write(USAGE);
      process.exit(2);
    }
  }
  if (ownPeak && goal !== null) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const runs = readRuns(dir);
  if (ownPeak) {
    process.stdout.write(formatOwnPeak(runs));
    return;
  }
  const histories = goalHistories(runs, goal);
  process.stdout.write(histories.length === 0 ? `no recorded run measured a goal${goal === null ? '' : ` containing "${goal}"`}\n` : formatHistories(histories));
}

if (require.main === module) main(process.argv.slice(2));

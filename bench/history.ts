// Issue 6's targets across every recorded run: one run's verdict can be the machine's minute as much as
// the code, so this lists each target's verdicts from all of bench/results/*.json, with the machine and
// commit of each run.
//
// Usage: node dist/bench/history.js [--goal <text in the goal>] [--dir bench/results]

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TargetCheck } from './report';

export interface RecordedRun {
  /** The results file's name. */
  readonly file: string;
  readonly cpuModel: string;
  readonly commit: string;
  readonly command: string;
  readonly targets: readonly TargetCheck[];
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
      };
    });
}

interface ResultsFile {
  command?: string;
  machine?: { cpuModel?: string; commit?: string };
  targets?: TargetCheck[];
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

function main(argv: string[]): void {
  let goal: string | null = null;
  let dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined || (argv[i] !== '--goal' && argv[i] !== '--dir')) {
      process.stderr.write('usage: node dist/bench/history.js [--goal TEXT] [--dir DIR]\n');
      process.exit(2);
    }
    if (argv[i] === '--goal') goal = value;
    else dir = path.resolve(value);
  }
  const histories = goalHistories(readRuns(dir), goal);
  process.stdout.write(histories.length === 0 ? `no recorded run measured a goal${goal === null ? '' : ` containing "${goal}"`}\n` : formatHistories(histories));
}

if (require.main === module) main(process.argv.slice(2));

// Two builds of Sluice, this checkout's and a baseline checkout's, loaded in turns with the same bodies
// and the same wrk load: the before/after figure for a change. On these shared machines two runs
// minutes apart can differ by 1.5×, so a change is judged on the ratio of runs seconds apart, per round,
// and on the median of those ratios. The order alternates each round, so that drift favours neither.
// A round during which the hypervisor stole over 5 % of the CPU from either side is set aside and
// measured again (at most 3 times, as in run.ts): such a round measures the VM's neighbours.
//
// Usage: node dist/bench/ab.js --baseline <checkout with dist/ built> [--workload trivial50]
//          [--connections 100] [--rounds 5] [--seconds 8] [--warmup 3] [--config bench/config/null.yaml]
//          [--rate <requests/s, an open loop>] [--lead-in 2] [--baseline-env NAME=VALUE]...
// --lead-in loads a side, unmeasured, right before each of its measured runs: in turns, a side has sat
// idle while the other ran, and the first run after that had the worse p99 in all 16 rounds of a trial
// (bench/RESULTS.md, 2026-12-06), whichever build it was.
// --baseline-env sets an environment variable for the baseline only, and may be given more than once:
// with --baseline . it compares a setting (e.g. SLUICE_POOL_THREADS=1) on one build.
// A baseline checkout: git worktree add /tmp/base <rev> && cd /tmp/base &&
//   ln -s <this checkout>/node_modules node_modules && node node_modules/typescript/bin/tsc -p tsconfig.json
// With --config bench/config/kafka.yaml both servers produce to one broker that this run starts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WORKLOADS, writeBodies, type WorkloadId } from './bodies';
import { onInterrupt, stopChildrenOnSignal } from './children';
import { damonReading } from './damon';
import { startBroker, type LocalBroker } from './kafka';
import { measureUndisturbed, median, percent, summarizeRotation, worseStolen } from './report';
import { checkAccepts, freePort, startSluice, stopServer, withStolenShare, type RunningServer } from './targets';
import { answeredPerSecond, ensureLoadGenerators, loadSettings, runLoad, type LoadResult } from './load';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface Options {
  baseline: string;
  workload: WorkloadId;
  connections: number;
  rounds: number;
  seconds: number;
  warmup: number;
  config: string;
  rate: number | null;
  leadIn: number;
  baselineEnv: NodeJS.ProcessEnv;
}

const USAGE = `usage: node dist/bench/ab.js --baseline DIR [--workload ${Object.keys(WORKLOADS).join('|')}] [--connections N] [--rounds N] [--seconds N] [--warmup N] [--config FILE] [--rate N] [--lead-in N] [--baseline-env NAME=VALUE]...`;

/** A command line that cannot be run: said with the usage line, exit status 2. */
export class UsageError extends Error {}

export function parseOptions(argv: string[]): Options {
  const given = new Map<string, string>();
  // The one option that may be repeated: a setting can take more than one variable.
  const baselineAssignments: string[] = [];
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i]!.startsWith('--') || argv[i + 1] === undefined) throw new UsageError(`cannot read "${argv[i]}"`);
    if (argv[i] === '--baseline-env') baselineAssignments.push(argv[i + 1]!);
    else given.set(argv[i]!.slice(2), argv[i + 1]!);
  }
  const number = (name: string, fallback: number | null): number | null => {
    const text = given.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!(value > 0)) throw new UsageError(`--${name} must be a positive number, not "${text}"`);
    return value;
  };
  const baseline = given.get('baseline');
  if (!baseline) throw new UsageError('--baseline is required');
  if (!fs.existsSync(path.join(baseline, 'dist', 'src', 'cli.js'))) throw new UsageError(`${baseline} has no dist/src/cli.js: build it first`);
  const workload = (given.get('workload') ?? 'trivial50') as WorkloadId;
  if (!(workload in WORKLOADS)) throw new UsageError(`unknown workload "${workload}"`);
  const baselineEnv: NodeJS.ProcessEnv = {};
  for (const text of baselineAssignments) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
    if (assignment === null) throw new UsageError(`--baseline-env must be NAME=VALUE, not "${text}"`);
    const name = assignment[1]!;
    if (Object.hasOwn(baselineEnv, name)) throw new UsageError(`--baseline-env sets ${name} twice`);
    baselineEnv[name] = assignment[2]!;
  }
  const known = ['baseline', 'workload', 'connections', 'rounds', 'seconds', 'warmup', 'config', 'rate', 'lead-in'];
  const unknown = [...given.keys()].find((name) => !known.includes(name));
  if (unknown) throw new UsageError(`unknown option --${unknown}`);
  return {
    baseline: path.resolve(baseline),
    workload,
    connections: number('connections', 100)!,
    rounds: number('rounds', 5)!,
    seconds: number('seconds', 8)!,
    warmup: number('warmup', 3)!,
    config: given.get('config') ?? 'bench/config/null.yaml',
    rate: number('rate', null),
    leadIn: number('lead-in', 2)!,
    baselineEnv,
  };
}

interface Side {
  readonly name: string;
  readonly server: RunningServer;
}

/** One side's measured run in a round. */
export interface SideRun {
  readonly run: LoadResult;
  /** The share of the machine's CPU time the hypervisor took meanwhile (bench/report.ts); null: unknown. */
  readonly stolen: number | null;
  /** ms per second the kernel's DAMON monitors ran (bench/damon.ts); null without one. */
  readonly damonMsPerSecond: number | null;
}

export interface Round {
  /** Side names in the order they were loaded. */
  readonly order: string[];
  readonly bySide: Record<string, SideRun>;
}

/** A round is as disturbed as its worse run: the most the hypervisor stole in either side's. */
function roundStolen(round: Round): number | null {
  return Object.values(round.bySide).reduce<number | null>((worst, side) => worseStolen(worst, side.stolen), null);
}

const fixed = (n: number, digits = 2): string => n.toFixed(digits);

/** Events/s of 2xx answers in a round, by side name. */
export function eventsPerSecond(round: Round, eventsPerRequest: number): Record<string, number> {
  return Object.fromEntries(Object.entries(round.bySide).map(([name, side]) => [name, answeredPerSecond(side.run) * eventsPerRequest]));
}

/** A round's line of the table main() prints: numbered as measured, set-aside rounds included. */
export function formatRound(number: number, round: Round, eventsPerRequest: number): string {
  const mine = round.bySide.this!;
  const theirs = round.bySide.baseline!;
  const perSecond = eventsPerSecond(round, eventsPerRequest);
  const stolenCell = (side: SideRun): string => (side.stolen === null ? '-' : percent(side.stolen));
  const damonCell = [mine, theirs].map((side) => (side.damonMsPerSecond === null ? '-' : fixed(side.damonMsPerSecond, 1))).join(' / ');
  return (
    `${String(number).padStart(5)}  ${round.order.join(' → ').padEnd(15)}  ${Math.round(perSecond.this!).toString().padStart(13)}  ` +
    `${Math.round(perSecond.baseline!).toString().padStart(17)}  ${fixed(perSecond.this! / perSecond.baseline!).padStart(5)}  ` +
    `${fixed(mine.run.latencyMs.p99).padStart(8)}  ${fixed(theirs.run.latencyMs.p99).padStart(12)}  ${stolenCell(mine).padStart(11)}  ` +
    `${stolenCell(theirs).padStart(15)}  ${damonCell.padStart(12)}  ${mine.run.non2xx + theirs.run.non2xx}`
  );
}

async function main(): Promise<void> {
  stopChildrenOnSignal();
  const options = parseOptions(process.argv.slice(2));
  ensureLoadGenerators();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ab-'));
  onInterrupt(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const workload = WORKLOADS[options.workload];
  const bodies = writeBodies(scratch, workload);
  let broker: LocalBroker | null = null;
  const sides: Side[] = [];
  try {
    if (options.config.includes('kafka')) broker = await startBroker(REPO_ROOT);
    const env: NodeJS.ProcessEnv = broker ? { SLUICE_KAFKA__BOOTSTRAP_SERVERS: broker.bootstrap } : {};
    const sideSettings = [
      { name: 'this', root: REPO_ROOT, sideEnv: {} },
      { name: 'baseline', root: options.baseline, sideEnv: options.baselineEnv },
    ];
    for (const { name, root, sideEnv } of sideSettings) {
      const server = await startSluice(root, await freePort(), options.config, { target: name, env: { ...env, ...sideEnv, SLUICE_SINK_FILE_DIR: path.join(scratch, `${name}-sink`) } });
      sides.push({ name, server });
      await checkAccepts(server, bodies, 201);
    }
    const load = (side: Side, seconds: number): Promise<LoadResult> => runLoad(loadSettings(side.server.url, bodies, options.connections, seconds, options.rate));
    console.log(`${workload.name}, ${options.connections} connections${options.rate ? `, open loop at ${options.rate} requests/s` : ''}, ${options.config}: warm-up ${options.warmup} s each, ${options.rounds} rounds of ${options.seconds} s, each after ${options.leadIn} s unmeasured`);
    for (const side of sides) await load(side, options.warmup);
    console.log('round  order            events/s this  events/s baseline  ratio  p99 this  p99 baseline  stolen this  stolen baseline  kdamond ms/s  non-2xx');
    let measured = 0;
    const measureRound = async (): Promise<Round> => {
      const order = measured++ % 2 === 0 ? sides : [...sides].reverse();
      const bySide: Record<string, SideRun> = {};
      for (const side of order) {
        await load(side, options.leadIn);
        // DAMON's work follows the memory a server has touched, and its runs land in the tail (bench/damon.ts).
        const damon = damonReading();
        const { result: run, stolen } = await withStolenShare(() => load(side, options.seconds));
        bySide[side.name] = { run, stolen, damonMsPerSecond: damon(run.durationSeconds) };
      }
      const round: Round = { order: order.map((side) => side.name), bySide };
      console.log(formatRound(measured, round, workload.eventsPerRequest));
      return round;
    };
    // A round the hypervisor disturbed says nothing about either build: measured again, as in run.ts.
    const { kept, setAside } = await measureUndisturbed(options.rounds, measureRound, roundStolen, (round) => {
      console.log(`    round set aside, the hypervisor stole ${percent(roundStolen(round)!)} of the CPU during one of its runs: measuring it again`);
    });
    // Events/s of 2xx answers, by side name, per kept round; ratios and medians as in run.ts's rotation.
    const rounds = kept.map((round) => eventsPerSecond(round, workload.eventsPerRequest));
    const ratios = rounds.map((round) => round.this! / round.baseline!);
    const { medianRatio } = summarizeRotation(workload.name, 'baseline', rounds);
    const p99Of = (name: string): string => fixed(median(kept.map((round) => round.bySide[name]!.run.latencyMs.p99)));
    console.log(
      `median: events/s ${Math.round(median(rounds.map((round) => round.this!)))} / ${Math.round(median(rounds.map((round) => round.baseline!)))}, ` +
        `ratio ${fixed(medianRatio.this!)} (per round ${ratios.map((ratio) => fixed(ratio)).join(', ')}), ` +
        `p99 ${p99Of('this')} / ${p99Of('baseline')} ms` +
        (setAside.length > 0 ? `; ${setAside.length} round${setAside.length === 1 ? '' : 's'} set aside` : ''),
    );
    const refused = kept.reduce((sum, round) => sum + round.bySide.this!.run.non2xx + round.bySide.baseline!.run.non2xx, 0);
    if (refused > 0) console.log(`${refused} requests were answered 4xx/5xx: the events/s count only 2xx answers`);
  } finally {
    for (const side of sides) await stopServer(side.server);
    broker?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

// What one bench run measures: the servers (targets) and, per target, its cases (workload, connections,
// closed or open loop), for `npm run bench` and its one-minute `--quick` version.

import * as os from 'node:os';
import { WORKLOADS, type WorkloadId } from './bodies';

export type ServerKind = 'ceiling' | 'bare-split' | 'naive' | 'sluice';

export interface TargetSpec {
  name: string;
  kind: ServerKind;
  /** Sluice's config file (repo-relative). */
  config?: string;
  /** Extra environment for Sluice (worker threads, the file sink's directory is added by run.ts). */
  env?: Record<string, string>;
  /** Query string of the load's URL, e.g. `hasty=true`. */
  query?: string;
  /** Needs the bench's own Kafka broker; its cases are counted in the topic. */
  kafka: boolean;
  /** The status of an accepted request whose events are all valid. */
  accepted: number;
}

export interface ClosedLoad {
  kind: 'closed';
}

/** Fixed arrival rate: `share` of the requests/s measured by an earlier closed-loop case of this run. */
export interface OpenLoad {
  kind: 'open';
  share: number;
  of: { target: string; workload: WorkloadId; connections: number };
}

export interface Case {
  target: string;
  workload: WorkloadId;
  connections: number;
  load: ClosedLoad | OpenLoad;
}

/**
 * Targets measured in turn, round after round, on one workload and closed loop: each ratio to the
 * first target then compares runs seconds apart, not cases minutes apart.
 */
export interface Rotation {
  workload: WorkloadId;
  connections: number;
  /** In the order they run each round; the first is the baseline of every ratio. */
  targets: string[];
  rounds: number;
}

export interface Plan {
  mode: 'quick' | 'default';
  warmupSeconds: number;
  measureSeconds: number;
  /** Measured runs per case; the report gives their median. */
  repetitions: number;
  targets: TargetSpec[];
  cases: Case[];
  /** The 1 event/req share of the ceiling (issue 6), measured in rotation; null when a target is filtered out. */
  rotation: Rotation | null;
}

export const NULL_CONFIG = 'bench/config/null.yaml';
const FILE_CONFIG = 'bench/config/file.yaml';
export const KAFKA_CONFIG = 'bench/config/kafka.yaml';

/** Worker-thread counts below the machine's for the scaling note (the `sluice` target runs with all of them). */
export function scalingThreads(cpus = os.availableParallelism()): number[] {
  const counts: number[] = [];
  for (let threads = 1; threads < cpus; threads *= 2) counts.push(threads);
  return counts;
}

function allTargets(): TargetSpec[] {
  return [
    { name: 'ceiling', kind: 'ceiling', kafka: false, accepted: 201 },
    // DESIGN.md §1's thread split with only the unavoidable work: what the split itself costs.
    { name: 'bare-split', kind: 'bare-split', kafka: false, accepted: 201 },
    { name: 'naive', kind: 'naive', kafka: false, accepted: 201 },
    { name: 'sluice', kind: 'sluice', config: NULL_CONFIG, kafka: false, accepted: 201 },
    // The ceiling again, after sluice: the open loop at sluice's rates, i.e. what the generator, the
    // machine and bare uWS alone add to the latency at the same arrival rate.
    { name: 'ceiling-open', kind: 'ceiling', kafka: false, accepted: 201 },
    // The bare split at sluice's 80 % rate: what DESIGN.md §1's thread split alone adds to the latency.
    { name: 'bare-split-open', kind: 'bare-split', kafka: false, accepted: 201 },
    ...scalingThreads().map((threads): TargetSpec => ({ name: `sluice-${threads}t`, kind: 'sluice', config: NULL_CONFIG, env: { SLUICE_POOL_THREADS: String(threads) }, kafka: false, accepted: 201 })),
    { name: 'sluice-file', kind: 'sluice', config: FILE_CONFIG, kafka: false, accepted: 201 },
    { name: 'kafka', kind: 'sluice', config: KAFKA_CONFIG, kafka: true, accepted: 201 },
    { name: 'kafka-hasty', kind: 'sluice', config: KAFKA_CONFIG, query: 'hasty=true', kafka: true, accepted: 202 },
  ];
}

const closed = (target: string, workload: WorkloadId, connections = 100): Case => ({ target, workload, connections, load: { kind: 'closed' } });
const open = (target: string, workload: WorkloadId, share: number, of: OpenLoad['of']): Case => ({ target, workload, connections: 100, load: { kind: 'open', share, of } });

function defaultCases(): Case[] {
  const everyWorkload = Object.keys(WORKLOADS) as WorkloadId[];
  return [
    closed('ceiling', 'trivial1'),
    closed('ceiling', 'trivial50'),
    closed('ceiling', 'trivial1', 1000),
    // The p99 target's own terms applied to bare uWS: a fixed arrival rate at 50 and 80 % of the
    // ceiling's peak. What the machine and the generator allow any server at that load.
    ...[0.5, 0.8].map((share) => open('ceiling', 'trivial1', share, { target: 'ceiling', workload: 'trivial1', connections: 100 })),
    closed('bare-split', 'trivial1'),
    closed('bare-split', 'trivial50'),
    // The same terms applied to the bare split: what DESIGN.md §1's thread split allows at 50 and 80 %
    // of its own peak, where bare uWS above hands nothing to a worker.
    ...[0.5, 0.8].map((share) => open('bare-split', 'trivial1', share, { target: 'bare-split', workload: 'trivial1', connections: 100 })),
    ...everyWorkload.map((workload) => closed('naive', workload)),
    ...everyWorkload.map((workload) => closed('sluice', workload)),
    closed('sluice', 'trivial1', 1000),
    closed('sluice', 'trivial50', 1000),
    ...[0.5, 0.8].flatMap((share) => [
      open('sluice', 'trivial1', share, { target: 'sluice', workload: 'trivial1', connections: 100 }),
      open('sluice', 'trivial50', share, { target: 'sluice', workload: 'trivial50', connections: 100 }),
    ]),
    ...[0.5, 0.8].map((share) => open('ceiling-open', 'trivial1', share, { target: 'sluice', workload: 'trivial1', connections: 100 })),
    open('bare-split-open', 'trivial1', 0.8, { target: 'sluice', workload: 'trivial1', connections: 100 }),
    ...scalingThreads().flatMap((threads) => [closed(`sluice-${threads}t`, 'trivial1'), closed(`sluice-${threads}t`, 'trivial50')]),
    closed('sluice-file', 'trivial1'),
    closed('sluice-file', 'trivial50'),
    closed('kafka', 'trivial50'),
    // 100 connections × 50 events keep 5,000 events in flight; fewer connections trade throughput for latency.
    closed('kafka', 'trivial50', 50),
    closed('kafka', 'trivial50', 25),
    // Hasty answers before Kafka has the events, so a closed loop only measures how fast 503s come back:
    // offer it the guaranteed rate, and half as much again, at a fixed arrival rate instead.
    open('kafka-hasty', 'trivial50', 1, { target: 'kafka', workload: 'trivial50', connections: 100 }),
    open('kafka-hasty', 'trivial50', 1.5, { target: 'kafka', workload: 'trivial50', connections: 100 }),
  ];
}

function quickCases(): Case[] {
  return [
    closed('ceiling', 'trivial1'),
    closed('ceiling', 'trivial50'),
    closed('bare-split', 'trivial1'),
    closed('naive', 'trivial50'),
    closed('sluice', 'trivial1'),
    closed('sluice', 'trivial50'),
    closed('sluice-file', 'trivial50'),
    closed('kafka', 'trivial50'),
  ];
}

/** On these shared machines the separate cases' sluice / ceiling at 1 event/req went from 32 % to 49 % between two full runs. */
const ROTATION_TARGETS = ['ceiling', 'bare-split', 'sluice'];

export function makePlan(quick: boolean, only: string[] | null): Plan {
  const cases = (quick ? quickCases() : defaultCases()).filter((c) => only === null || only.includes(c.target));
  const rotationTargets = ROTATION_TARGETS.filter((name) => only === null || only.includes(name));
  const rotation: Rotation | null =
    rotationTargets[0] === 'ceiling' && rotationTargets.includes('sluice') ? { workload: 'trivial1', connections: 100, targets: rotationTargets, rounds: quick ? 1 : 5 } : null;
  const used = new Set([...cases.map((c) => c.target), ...(rotation?.targets ?? [])]);
  const targets = allTargets().filter((t) => used.has(t.name));
  return quick
    ? { mode: 'quick', warmupSeconds: 1, measureSeconds: 4, repetitions: 1, targets, cases, rotation }
    : { mode: 'default', warmupSeconds: 3, measureSeconds: 6, repetitions: 3, targets, cases, rotation };
}

export function targetNames(): string[] {
  return allTargets().map((t) => t.name);
}

/** The status a request of this case must get: 207 when some of its events are invalid, 202 when hasty. */
export function expectedStatus(target: TargetSpec, workload: WorkloadId): number {
  if (target.kind === 'ceiling' || target.kind === 'bare-split' || target.accepted === 202) return target.accepted;
  return WORKLOADS[workload].invalidShare > 0 ? 207 : target.accepted;
}

export function caseLabel(c: Case): string {
  const load = c.load.kind === 'open' ? `, open loop ${Math.round(c.load.share * 100)} % of ${c.load.of.target === c.target ? 'peak' : `${c.load.of.target}'s peak`}` : '';
  return `${c.target} · ${WORKLOADS[c.workload].name} · ${c.connections} conn${load}`;
}

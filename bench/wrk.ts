// wrk (the Debian package) with bench/wrk/load.lua: the bench's closed loop. Finding or installing it,
// and its command line; bench/load.ts runs it and reads the `BENCH_RESULT {json}` line load.lua prints.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ensureDebianPackage } from './debian';

export const LOAD_SCRIPT = path.resolve(__dirname, '..', '..', 'bench', 'wrk', 'load.lua');
/** One wrk thread: on the 2-core machine the other core is the server's (Sluice's workers share it). */
export const WRK_THREADS = 1;

/** wrk must be there; installed once from Debian if it is not, else an error that says what to do. */
export function ensureWrk(): void {
  ensureDebianPackage('wrk');
}

export function wrkVersion(): string {
  const output = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return `${output.stdout}${output.stderr}`.split('\n')[0].trim();
}

/** wrk's arguments for a closed loop of `connections` over `durationSeconds`, sending the pool's bodies. */
export function wrkArgs(url: string, bodiesFile: string, contentEncoding: string | null, connections: number, durationSeconds: number): string[] {
  return [
    `-t${WRK_THREADS}`,
    `-c${connections}`,
    `-d${durationSeconds}s`,
    '--latency',
    '-s', LOAD_SCRIPT,
    url,
    '--', bodiesFile, contentEncoding ?? '-',
  ];
}

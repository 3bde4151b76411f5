// bench/openloop/openloop.c, the open loop's load generator (a fixed arrival rate, latency from each
// request's due time): built with the system's C compiler into dist/bench/bin/ on first use, and again
// whenever the source is newer than the binary. bench/load.ts runs it.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDebianPackage } from './debian';

const SOURCE = path.resolve(__dirname, '..', '..', 'bench', 'openloop', 'openloop.c');
// Not dist/bench/openloop: require('./openloop') would find the binary before openloop.js.
export const OPEN_LOOP_BINARY = path.join(__dirname, 'bin', 'openloop');
/** How results files name this generator. */
export const OPEN_LOOP_GENERATOR = 'bench/openloop';

function upToDate(): boolean {
  try {
    return fs.statSync(OPEN_LOOP_BINARY).mtimeMs >= fs.statSync(SOURCE).mtimeMs;
  } catch {
    return false;
  }
}

export function ensureOpenLoop(): void {
  if (upToDate()) return;
  ensureDebianPackage('cc', 'gcc');
  // Built under a private name and renamed into place: test files run in parallel and may both build it.
  fs.mkdirSync(path.dirname(OPEN_LOOP_BINARY), { recursive: true });
  const building = `${OPEN_LOOP_BINARY}.${process.pid}`;
  const args = ['-O2', '-Wall', '-Wextra', '-o', building, SOURCE];
  const built = spawnSync('cc', args, { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the open-loop load generator failed (cc ${args.join(' ')}):\n${built.error?.message ?? built.stderr}`);
  fs.renameSync(building, OPEN_LOOP_BINARY);
}

/** openloop's arguments: `rate` requests/s due over `connections` for `durationSeconds`. */
export function openLoopArgs(url: string, bodiesFile: string, contentEncoding: string | null, rate: number, connections: number, durationSeconds: number): string[] {
  return [url, bodiesFile, contentEncoding ?? '-', String(rate), String(connections), String(durationSeconds)];
}

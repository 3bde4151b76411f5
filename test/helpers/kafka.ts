// A real local Kafka broker for integration tests, through scripts/kafka-local (DESIGN.md §12).
//
// startKafka() reuses a broker that is already running (e.g. a developer's `npm run kafka`, or one
// started by a parallel test process) and only stopKafka() stops one this process started itself.
// haltKafka()/resumeKafka() take the broker down and bring it back on the same address with its
// data, for outage tests.

import { execFile } from 'node:child_process';
import * as path from 'node:path';

/** The repository root: this file runs as dist/test/helpers/kafka.js. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'kafka-local');

// A cold start resolves the jars with Maven first, then waits up to 90 s for the broker.
const START_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 2 * 60_000;
const STATUS_TIMEOUT_MS = 30_000;

let startedHere = false;

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/kafka-local; resolves with its exit code, rejects only if it could not run. */
function kafkaLocal(args: readonly string[], timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      // On timeout the script gets SIGTERM, and its trap removes a half-started broker.
      { cwd: REPO_ROOT, env: process.env, timeout: timeoutMs, killSignal: 'SIGTERM', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr });
        } else if (typeof err.code === 'number') {
          resolve({ code: err.code, stdout, stderr });
        } else {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : err.message;
          reject(new Error(`scripts/kafka-local ${args.join(' ')}: ${why}\n${stderr}`));
        }
      },
    );
  });
}

function failure(args: readonly string[], result: ScriptResult): Error {
  return new Error(`scripts/kafka-local ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}`);
}

/** The bootstrap address is the script's only line on stdout. */
function bootstrapFrom(args: readonly string[], result: ScriptResult): string {
  const lines = result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const bootstrap = lines[lines.length - 1];
  if (bootstrap === undefined || !/^[\w.-]+:\d+$/.test(bootstrap)) {
    throw new Error(`scripts/kafka-local ${args.join(' ')} printed no bootstrap address:\n${result.stdout}\n${result.stderr}`);
  }
  return bootstrap;
}

/** Starts the local broker (or finds the running one) and returns its bootstrap, e.g. "127.0.0.1:24567". */
export async function startKafka(): Promise<string> {
  const status = await kafkaLocal(['status'], STATUS_TIMEOUT_MS);
  if (status.code === 0) return bootstrapFrom(['status'], status);

  const result = await kafkaLocal(['start'], START_TIMEOUT_MS);
  if (result.code !== 0) throw failure(['start'], result);
  // Another process may have started it between our `status` and `start`; then it is theirs.
  if (!result.stderr.includes('already running')) startedHere = true;
  return bootstrapFrom(['start'], result);
}

/** Stops the broker if this process started it; a broker it merely reused is left running. */
export async function stopKafka(): Promise<void> {
  if (!startedHere) return;
  const result = await kafkaLocal(['stop'], STOP_TIMEOUT_MS);
  if (result.code !== 0) throw failure(['stop'], result);
  startedHere = false;
}

/** Takes the broker down (data and address kept): a clean shutdown, or SIGKILL with kill = true. */
export async function haltKafka(kill = false): Promise<void> {
  const args = kill ? ['halt', '--kill'] : ['halt'];
  const result = await kafkaLocal(args, STOP_TIMEOUT_MS);
  if (result.code !== 0) throw failure(args, result);
}

/** Brings a halted broker back on the same address with its data; resolves once it answers. */
export async function resumeKafka(): Promise<string> {
  const result = await kafkaLocal(['resume'], START_TIMEOUT_MS);
  if (result.code !== 0) throw failure(['resume'], result);
  return bootstrapFrom(['resume'], result);
}

import { after, before } from 'node:test';
/**
 * Starts a real Sluice process (`node dist/src/cli.js serve`) on a free port with a temporary config
 * and a temporary file-sink directory. Tests talk to it over real HTTP and read what the file sink wrote.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { stringify } from 'yaml';

/** dist/test/helpers/server.js → the repository root. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO_ROOT, 'dist/src/cli.js');

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface StartOptions {
  /** Deep-merged over the base config; arrays replace; a value of `undefined` deletes the key. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
  startTimeoutMs?: number;
}

export interface Sluice {
  url: string;
  port: number;
  /** Where GET /metrics is served: `url`, or the metrics.port listener's address when one is configured. */
  metricsUrl: string;
  /** The file sink's directory (absolute). */
  dataDir: string;
  /** The temporary directory holding the config file (tests may put more files here). */
  workDir: string;
  configFile: string;
  proc: ChildProcess;
  /** Parsed pino lines seen so far on stdout. */
  logs: Json[];
  /** Raw stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null if killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, wait for exit (SIGKILL after a bound); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Every JSON line of `<dataDir>/<topic>.jsonl`; throws on a line that does not parse (a torn line). */
  readLines(topic: string): Promise<Json[]>;
  /** Polls until `predicate` holds for the topic's lines (or the timeout passes); returns the lines. */
  waitForLines(topic: string, predicate: (lines: Json[]) => boolean, timeoutMs?: number): Promise<Json[]>;
}

/** The test process environment without SLUICE_* overrides, which would change every server's config. */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_')));
}

const tempDirs: string[] = [];
const children: ChildProcess[] = [];
// Temp dirs live until the test file's process ends (tests read sink files after a server stopped).
// A server a failed test left running is killed with it.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (process.env.SLUICE_TEST_KEEP_TMP) return;
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

export function makeTempDir(prefix = 'sluice-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function writeYaml(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, stringify(value));
  return file;
}

export function baseConfig(dataDir: string): Record<string, unknown> {
  return {
    service_name: 'sluice',
    listen: { host: '127.0.0.1', port: 8192 },
    schemas: {
      base_uris: ['file:schemas/'],
      uri_field: '$schema',
      file_extension: '.yaml',
      allow_absolute_uris: false,
      allow_insecure: false,
      negative_cache_seconds: 10,
      precache: ['/error/1.0.0', '/test/event/1.0.0'],
    },
    streams: {
      config: 'file:config/streams.yaml',
      ttl_seconds: 300,
      stream_field: 'meta.stream',
      topic_prefix: '',
    },
    error_stream: 'sluice.error.validation',
    defaults: {
      id_field: 'meta.id',
      dt_field: 'meta.dt',
      headers_to_fields: { 'x-request-id': 'meta.request_id', 'user-agent': 'http.request_headers.user-agent' },
      client_ip_field: 'http.client_ip',
    },
    sink: { type: 'file', file: { dir: dataDir, fsync: 'batch' } },
    pool: { threads: 2, max_batch_requests: 64, max_batch_bytes: 1048576, max_batch_delay_us: 300 },
    limits: { max_body_bytes: 4194304, max_event_bytes: 1000000, max_inflight_bytes: 268435456 },
    cors: false,
    test_events: [{ $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: 'readiness probe' }],
    log: { level: 'info' },
    metrics: { path: '/metrics' },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = deepMerge(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

export async function startSluice(opts: StartOptions = {}): Promise<Sluice> {
  const workDir = makeTempDir();
  const dataDir = path.join(workDir, 'events');
  fs.mkdirSync(dataDir, { recursive: true });
  const config = deepMerge(baseConfig(dataDir), opts.config ?? {});
  const configFile = writeYaml(path.join(workDir, 'sluice.yaml'), config);

  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0', ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const logs: Json[] = [];
  const rawOut: string[] = [];
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  // 'close', not 'exit': it waits for stdout to end, so `logs` holds the lines written while stopping.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));

  let metricsPort: number | null = null;
  const port = await new Promise<number>((resolve, reject) => {
    const timeout = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sluice did not log "listening" within ${opts.startTimeoutMs ?? 20000} ms\nstdout:\n${rawOut.slice(-30).join('\n')}\nstderr:\n${stderr}`));
    }, opts.startTimeoutMs ?? 20000);
    // Always drain stdout: a full pipe would block the server's synchronous logger.
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      rawOut.push(line);
      if (rawOut.length > 500) rawOut.shift();
      let entry: Json;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (logs.length < 5000) logs.push(entry);
      if (entry && entry.msg === 'listening' && typeof entry.port === 'number') {
        clearTimeout(timeout);
        metricsPort = typeof entry.metrics_port === 'number' ? entry.metrics_port : null;
        resolve(entry.port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timeout);
      reject(new Error(`sluice exited (code ${code}) before listening\nstdout:\n${rawOut.slice(-30).join('\n')}\nstderr:\n${stderr}`));
    });
  });

  const stop = async (): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const readLines = async (topic: string): Promise<Json[]> => readJsonl(path.join(dataDir, `${topic}.jsonl`));

  const waitForLines = async (topic: string, predicate: (lines: Json[]) => boolean, timeoutMs = 5000): Promise<Json[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await readJsonl(path.join(dataDir, `${topic}.jsonl`), true);
      if (predicate(lines) || Date.now() > deadline) return lines;
      await sleep(25);
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort ?? port}`,
    dataDir,
    workDir,
    configFile,
    proc,
    logs,
    stderr: () => stderr,
    exited,
    stop,
    readLines,
    waitForLines,
  };
}

/** Parses a JSON-lines file; a missing file is empty; a line that is not JSON fails loudly. */
export async function readJsonl(file: string, tolerateUnfinishedTail = false): Promise<Json[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Json[] = [];
  const lines = text.split('\n');
  // The last element is '' when the file ends with a newline; a non-empty tail is a torn last line.
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1;
    if (line === '' && last) continue;
    // While a writer is appending, a poll may see the first part of the last line.
    if (last && tolerateUnfinishedTail) {
      try {
        out.push(JSON.parse(line));
      } catch {
        /* unfinished: read again later */
      }
      continue;
    }
    try {
      out.push(JSON.parse(line));
    } catch {
      throw new Error(`${file}: line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
    }
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A process's resident memory now (VmRSS) or its peak so far (VmHWM), in bytes (Linux /proc). */
export function memoryBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
}

/** Polls `probe` until it returns a truthy value; fails with `what` after the timeout. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T> | T, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

/**
 * A Sluice started before the enclosing describe block's tests and stopped after them. The returned
 * object forwards to the running instance, so tests read `s.url` as with startSluice().
 */
export function useSluice(opts: StartOptions = {}): Sluice {
  let started: Sluice | undefined;
  before(async () => {
    started = await startSluice(opts);
  });
  after(async () => {
    await started?.stop();
  });
  return new Proxy({} as Sluice, {
    get(_target, key) {
      if (started === undefined) throw new Error('useSluice: the server is not started yet (use it inside a test)');
      return Reflect.get(started, key);
    },
  });
}

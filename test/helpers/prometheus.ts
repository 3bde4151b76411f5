/**
 * A real Prometheus server (Debian package `prometheus`) on loopback, scraping one target every second
 * from a temporary config and data directory. Installed with apt-get when it is not on PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { ensureDebianPackage } from '../../bench/debian';
import { request } from './http';
import { makeTempDir, sleep, type Json } from './server';

export interface Prometheus {
  url: string;
  /** Instant query through /api/v1/query; the `data.result` vector. */
  query(promql: string): Promise<Json[]>;
  stop(): Promise<void>;
}

const running: ChildProcess[] = [];
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `prometheus` from Debian, installed when it is not on PATH. */
export function ensurePrometheus(): void {
  ensureDebianPackage('prometheus');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts Prometheus scraping `target` (host:port) at `metricsPath`; resolves once its API answers. */
export async function startPrometheus(target: string, metricsPath: string): Promise<Prometheus> {
  ensurePrometheus();
  const dir = makeTempDir('sluice-prometheus-');
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'sluice', metrics_path: metricsPath, static_configs: [{ targets: [target] }] }],
    }),
  );
  const port = await freePort();
  const proc = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(proc);
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${stderr}`);
    const ready = await request(url, '/-/ready').catch(() => null);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 15 s:\n${stderr}`);
    }
    await sleep(100);
  }
  return {
    url,
    stop,
    async query(promql: string): Promise<Json[]> {
      const r = await request(url, `/api/v1/query?query=${encodeURIComponent(promql)}`);
      if (r.status !== 200 || r.body?.status !== 'success') throw new Error(`query ${promql}: ${r.status} ${r.text}`);
      return r.body.data.result;
    },
  };
}

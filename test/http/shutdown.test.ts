/**
 * DESIGN.md §7 graceful shutdown: on SIGTERM/SIGINT stop accepting (readyz 503, listen socket closed),
 * finish in-flight requests, flush the sink, exit 0. Nothing answered 2xx is lost.
 */
import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { startSluice, sleep, type Sluice, type Json } from '../helpers/server';
import { postEvents, request, rawHttp, head } from '../helpers/http';
import { testEvent, ids } from '../helpers/events';

interface Outcome {
  events: Json[];
  hasty: boolean;
  status?: number;
  error?: string;
}

describe('§7 graceful shutdown', () => {
  const started: Sluice[] = [];
  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('SIGTERM under load: exit code 0 and every event answered 2xx is in the file', { timeout: 60_000 }, async () => {
    const s = await startSluice();
    started.push(s);
    const outcomes: Outcome[] = [];
    let stopping = false;
    let stopAt = 0;

    const client = async (n: number): Promise<void> => {
      const hasty = n % 4 === 0;
      for (let i = 0; ; i++) {
        const events = Array.from({ length: 5 }, () => testEvent({ test: `c${n}-r${i}` }));
        const o: Outcome = { events, hasty };
        outcomes.push(o);
        try {
          const r = await postEvents(s.url, events, { query: hasty ? 'hasty=true' : undefined, timeoutMs: 20_000 });
          o.status = r.status;
        } catch (err) {
          o.error = (err as Error).message;
          if (stopping) return; // the listen socket is closed: load is over
          await sleep(20);
        }
        if (stopping && (s.proc.exitCode !== null || Date.now() - stopAt > 20_000)) return;
      }
    };

    const clients = Array.from({ length: 16 }, (_, n) => client(n));
    let code: number | null | 'timeout';
    try {
      // Let load flow first (bounded: on a busy machine the first answers can take a while).
      const flowing = Date.now() + 10_000;
      while (outcomes.filter((o) => o.status !== undefined).length < 50 && Date.now() < flowing) await sleep(20);
      stopping = true;
      stopAt = Date.now();
      s.proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      code = await Promise.race([s.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)))]);
      clearTimeout(timer);
    } finally {
      stopping = true; // never leave the clients looping
      stopAt = stopAt || Date.now();
      await Promise.all(clients);
    }
    const answeredBefore = outcomes.filter((o) => o.status !== undefined).length;
    assert.ok(answeredBefore > 10, `load was flowing around SIGTERM (${answeredBefore} answers)`);
    assert.equal(code, 0, 'exit code 0 after SIGTERM');

    const statuses = new Set(outcomes.map((o) => o.status).filter((x) => x !== undefined));
    for (const st of statuses) assert.ok(st === 201 || st === 202 || st === 503, `only 201/202/503 while shutting down, saw ${st}`);

    const stored = new Map<string, number>();
    for (const id of ids(await s.readLines('test.event'))) stored.set(id, (stored.get(id) ?? 0) + 1);
    let acked = 0;
    const lost: string[] = [];
    for (const o of outcomes) {
      if (o.status === 201 || o.status === 202) {
        for (const e of o.events) {
          acked++;
          if (stored.get(e.meta.id) !== 1) lost.push(`${e.meta.id} (${o.hasty ? 'hasty' : 'guaranteed'}, ×${stored.get(e.meta.id) ?? 0})`);
        }
      }
    }
    assert.ok(acked > 0);
    assert.equal(lost.length, 0, `${lost.length} of ${acked} acknowledged events not in the file exactly once: ${lost.slice(0, 5).join(', ')}`);
  });

  it('a request in flight when SIGTERM arrives is finished and its event stored; new connections are refused or 503', { timeout: 60_000 }, async () => {
    const s = await startSluice();
    started.push(s);
    const ev = testEvent({ test: 'in flight at SIGTERM' });
    const body = JSON.stringify([ev]);
    const half = Math.floor(body.length / 2);
    const inflight = rawHttp(
      s.port,
      [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }) + body.slice(0, half), { delayMs: 600 }, body.slice(half)],
      15_000,
    );
    await sleep(200);
    s.proc.kill('SIGTERM');
    await sleep(150);

    try {
      const ready = await request(s.url, '/readyz', { timeoutMs: 3000 });
      assert.equal(ready.status, 503, 'readyz while shutting down');
    } catch (err) {
      assert.match((err as Error).message + String((err as NodeJS.ErrnoException).code), /ECONNREFUSED|ECONNRESET|socket hang up/, 'listen socket closed');
    }

    const r = await inflight;
    assert.equal(r.status, 201, `in-flight request answered ${r.status} (closed=${r.closed}, timedOut=${r.timedOut}) ${r.body.slice(0, 200)}`);
    assert.equal(await s.exited, 0);
    assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id), 'the in-flight event is in the file');
  });

  it('SIGINT drains and exits 0 as well', { timeout: 30_000 }, async () => {
    const s = await startSluice();
    started.push(s);
    const ev = testEvent();
    assert.equal((await postEvents(s.url, ev)).status, 201);
    s.proc.kill('SIGINT');
    assert.equal(await s.exited, 0);
    assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
  });
});

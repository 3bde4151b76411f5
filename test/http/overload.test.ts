/**
 * DESIGN.md §2.3 and §9 (issue 7): offered load well beyond what the in-flight limit admits. The
 * excess is refused at once with 503 + Retry-After, what is accepted is served and stored, the bytes
 * in flight never pass `limits.max_inflight_bytes`, memory stays bounded, and once the load stops the
 * gauges return to 0 and a normal request is accepted.
 *
 * "Capacity" here is structural: the limit admits CAPACITY bodies at once, and 3× as many clients
 * send bodies back to back. No throughput figure is asserted; the figures are reported as diagnostics.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { memoryBytes, useSluice, sleep, type Sluice } from '../helpers/server';
import { chunk, partUpload, postEvents, type PartUpload } from '../helpers/http';
import { assertProblem, ids, testEvent } from '../helpers/events';
import { scrape } from '../helpers/metrics';

const EVENTS_PER_BODY = 16;
const EVENT_FILLER = 'x'.repeat(4000);
/** One body's size: every request of the load has the same shape, so the limit admits a known count. */
const BODY_BYTES = Buffer.byteLength(JSON.stringify(Array.from({ length: EVENTS_PER_BODY }, () => testEvent({ test: EVENT_FILLER }))));
const CAPACITY = 4;
const MAX_INFLIGHT_BYTES = CAPACITY * BODY_BYTES + Math.floor(BODY_BYTES / 2);
/** The largest body allowed is the whole budget: a limit above it could never be admitted. */
const LIMITS = { max_body_bytes: MAX_INFLIGHT_BYTES, max_inflight_bytes: MAX_INFLIGHT_BYTES };
const CLIENTS = 3 * CAPACITY;
const LOAD_MS = 5000;
const SAMPLE_MS = 20;
/** Generous bounds, far above what a healthy run shows; they catch hangs and unbounded queues, not speed. */
const REFUSAL_BOUND_MS = 2000;
const ACCEPTED_BOUND_MS = 10_000;
const RSS_GROWTH_BOUND = 256 * 1024 * 1024;

interface Outcome {
  status: number;
  ms: number;
  retryAfter?: string;
  ids: string[];
  failure?: string;
}

async function client(s: Sluice, until: number, outcomes: Outcome[]): Promise<void> {
  while (Date.now() < until) {
    const events = Array.from({ length: EVENTS_PER_BODY }, () => testEvent({ test: EVENT_FILLER }));
    const started = performance.now();
    const o: Outcome = { status: 0, ms: 0, ids: ids(events) };
    try {
      const r = await postEvents(s.url, events, { timeoutMs: 30_000 });
      o.status = r.status;
      if (typeof r.headers['retry-after'] === 'string') o.retryAfter = r.headers['retry-after'];
      if (r.status === 503) assertProblem(r, 503, 'Overloaded');
    } catch (err) {
      o.failure = (err as Error).message;
    }
    o.ms = performance.now() - started;
    outcomes.push(o);
    // A refused client pauses briefly (as one honouring Retry-After would, much shorter) so the test
    // process itself does not spin.
    if (o.status !== 201) await sleep(5);
  }
}

interface Samples {
  maxInflightBytes: number;
  maxInflightRequests: number;
  maxRss: number;
  scrapes: number;
}

async function sample(s: Sluice, until: number): Promise<Samples> {
  const out: Samples = { maxInflightBytes: 0, maxInflightRequests: 0, maxRss: 0, scrapes: 0 };
  while (Date.now() < until) {
    const m = await scrape(s.metricsUrl);
    out.maxInflightBytes = Math.max(out.maxInflightBytes, m.value('sluice_inflight_bytes'));
    out.maxInflightRequests = Math.max(out.maxInflightRequests, m.value('sluice_inflight_requests'));
    out.maxRss = Math.max(out.maxRss, memoryBytes(s.proc.pid!, 'VmRSS'));
    out.scrapes++;
    await sleep(SAMPLE_MS);
  }
  return out;
}

async function gaugesSettle(s: Sluice, timeoutMs: number): Promise<{ bytes: number; requests: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await scrape(s.metricsUrl);
    const now = { bytes: m.value('sluice_inflight_bytes'), requests: m.value('sluice_inflight_requests') };
    if ((now.bytes === 0 && now.requests === 0) || Date.now() > deadline) return now;
    await sleep(50);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('overload at 3× what the in-flight limit admits', { timeout: 60_000 }, () => {
  const s = useSluice({ config: { limits: LIMITS } });

  it('sheds the excess with fast 503 + Retry-After, stays under the limit, and recovers', async (t) => {
    // Warm the workers (schema compiled, JIT) so the baseline RSS is the server at rest, not at birth.
    for (let i = 0; i < 5; i++) assert.equal((await postEvents(s.url, testEvent())).status, 201);
    const baselineRss = memoryBytes(s.proc.pid!, 'VmRSS');

    const until = Date.now() + LOAD_MS;
    const outcomes: Outcome[] = [];
    const [samples] = await Promise.all([sample(s, until), ...Array.from({ length: CLIENTS }, () => client(s, until, outcomes))]);

    const accepted = outcomes.filter((o) => o.status === 201);
    const refused = outcomes.filter((o) => o.status === 503);
    const other = outcomes.filter((o) => o.status !== 201 && o.status !== 503);
    const acceptedMs = accepted.map((o) => o.ms).sort((a, b) => a - b);
    const refusedMs = refused.map((o) => o.ms).sort((a, b) => a - b);
    t.diagnostic(`body ${BODY_BYTES} B, max_inflight_bytes ${MAX_INFLIGHT_BYTES} (${CAPACITY} bodies), ${CLIENTS} clients for ${LOAD_MS} ms`);
    t.diagnostic(`requests ${outcomes.length}: 201 ${accepted.length}, 503 ${refused.length}, other ${other.length}`);
    t.diagnostic(`201 latency ms p50 ${percentile(acceptedMs, 50).toFixed(1)} p99 ${percentile(acceptedMs, 99).toFixed(1)} max ${percentile(acceptedMs, 100).toFixed(1)}`);
    t.diagnostic(`503 latency ms p50 ${percentile(refusedMs, 50).toFixed(1)} p99 ${percentile(refusedMs, 99).toFixed(1)} max ${percentile(refusedMs, 100).toFixed(1)}`);
    t.diagnostic(`max sluice_inflight_bytes ${samples.maxInflightBytes} over ${samples.scrapes} scrapes; max sluice_inflight_requests ${samples.maxInflightRequests}`);
    t.diagnostic(`RSS baseline ${(baselineRss / 2 ** 20).toFixed(0)} MiB, peak ${(samples.maxRss / 2 ** 20).toFixed(0)} MiB`);

    assert.deepEqual(other.map((o) => o.failure ?? o.status), [], 'every request is answered 201 or 503');
    assert.ok(refused.length > 0, 'the excess is refused');
    assert.ok(accepted.length > 0, 'requests within the limit are served');
    for (const o of refused) assert.equal(o.retryAfter, '1', 'every 503 carries Retry-After');
    assert.ok(percentile(refusedMs, 100) < REFUSAL_BOUND_MS, `every 503 within ${REFUSAL_BOUND_MS} ms`);
    assert.ok(percentile(acceptedMs, 100) < ACCEPTED_BOUND_MS, `every 201 within ${ACCEPTED_BOUND_MS} ms`);
    assert.ok(samples.scrapes >= 10, `metrics answered during the load (${samples.scrapes} scrapes)`);
    assert.ok(samples.maxInflightBytes <= MAX_INFLIGHT_BYTES, `sluice_inflight_bytes peaked at ${samples.maxInflightBytes} > limit ${MAX_INFLIGHT_BYTES}`);
    assert.ok(samples.maxInflightBytes > 0, 'the gauge saw bodies in flight');
    assert.ok(samples.maxRss - baselineRss < RSS_GROWTH_BOUND, `RSS grew by ${samples.maxRss - baselineRss} B`);

    const settled = await gaugesSettle(s, 10_000);
    assert.deepEqual(settled, { bytes: 0, requests: 0 }, 'in-flight gauges back to 0 after the load');
    const after = testEvent();
    const r = await postEvents(s.url, after);
    assert.equal(r.status, 201, 'a normal request is accepted once the load stops');

    const stored = new Set(ids(await s.readLines('test.event')));
    assert.ok(stored.has(after.meta.id));
    for (const o of accepted) assert.ok(o.ids.every((id) => stored.has(id)), 'every event of a 201 is stored');
    for (const o of refused) assert.ok(o.ids.every((id) => !stored.has(id)), 'no event of a 503 is stored');
  });
});

describe('overload: bodies still arriving count against the in-flight limit', { timeout: 30_000 }, () => {
  const s = useSluice({ config: { limits: LIMITS } });

  it('while CAPACITY declared bodies are half-read, further ones get 503 at once; finishing them gets 201', async (t) => {
    const body = Buffer.from(JSON.stringify(Array.from({ length: EVENTS_PER_BODY }, () => testEvent({ test: EVENT_FILLER }))));
    const half = body.length >> 1;
    const uploads: PartUpload[] = [];
    for (let i = 0; i < CLIENTS; i++) uploads.push(await partUpload(s.port, { 'Content-Length': body.length }, body.subarray(0, half)));
    const early = await Promise.all(uploads.map((u) => Promise.race([u.answered, sleep(1000).then(() => null)])));
    const m = await scrape(s.metricsUrl);
    const waiting = early.filter((status) => status === null).length;
    t.diagnostic(`half-read uploads: ${waiting} waiting, ${early.filter((st) => st === 503).length} refused 503; sluice_inflight_bytes ${m.value('sluice_inflight_bytes')}`);
    assert.deepEqual(early.filter((st) => st !== null && st !== 503), [], 'an early answer is a 503');
    assert.equal(waiting, CAPACITY, `the limit admits ${CAPACITY} bodies being read`);
    assert.ok(m.value('sluice_inflight_bytes') <= MAX_INFLIGHT_BYTES, `sluice_inflight_bytes ${m.value('sluice_inflight_bytes')} within the limit`);
    const admitted = uploads.filter((_, i) => early[i] === null);
    for (const u of admitted) u.socket.write(body.subarray(half));
    assert.deepEqual(await Promise.all(admitted.map((u) => u.answered)), admitted.map(() => 201));
    for (const u of uploads) u.socket.destroy();
    assert.deepEqual(await gaugesSettle(s, 5000), { bytes: 0, requests: 0 });
  });

  it('chunked bodies are paid for chunk by chunk: the one that does not fit gets 503 mid-body', async (t) => {
    const body = Buffer.from(JSON.stringify(Array.from({ length: EVENTS_PER_BODY }, () => testEvent({ test: EVENT_FILLER }))));
    const half = body.length >> 1;
    const uploads: PartUpload[] = [];
    for (let i = 0; i < CLIENTS; i++) uploads.push(await partUpload(s.port, { 'Transfer-Encoding': 'chunked' }, chunk(body.subarray(0, half))));
    await sleep(200);
    const held = (await scrape(s.metricsUrl)).value('sluice_inflight_bytes');
    for (const u of uploads) u.socket.write(Buffer.concat([chunk(body.subarray(half)), Buffer.from('0\r\n\r\n')]));
    const statuses = await Promise.all(uploads.map((u) => u.answered));
    for (const u of uploads) u.socket.destroy();
    t.diagnostic(`chunked uploads: sluice_inflight_bytes ${held} with half of each sent; answers ${statuses.join(',')}`);
    assert.ok(held > 0 && held <= MAX_INFLIGHT_BYTES, `half-sent chunked bodies are held (${held}) within the limit`);
    assert.ok(statuses.every((st) => st === 201 || st === 503), `only 201 or 503: ${statuses.join(',')}`);
    assert.ok(statuses.includes(503), 'chunks beyond the limit are refused');
    assert.ok(statuses.includes(201), 'bodies within the limit are served');
    assert.deepEqual(await gaugesSettle(s, 5000), { bytes: 0, requests: 0 });
  });
});

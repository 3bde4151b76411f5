/**
 * Issue 3 / DESIGN.md §7, §9 "Kafka down": the broker is killed under load and brought back. Nothing
 * answered 2xx may be missing afterwards; while the sink is down, /readyz says 503 and requests are
 * refused fast (503 + Retry-After), in-flight ones end within delivery_timeout_ms; when the broker
 * returns, the same Sluice process serves 201 again. Also: Sluice starts while Kafka is down.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { haltKafka, resumeKafka } from '../helpers/kafka';
import { postEvents } from '../helpers/http';
import { readAll, jsonValues } from '../helpers/kafka-consumer';
import { sleep } from '../helpers/server';
import {
  Load,
  acknowledgedMarkers,
  checkAcknowledged,
  isSuccess,
  kafkaBootstrap,
  markedEvent,
  readyz,
  releaseKafka,
  startKafkaSluice,
  summarize,
  tag,
  waitForReady,
  type Attempt,
  type KafkaSluice,
} from './support';

const DELIVERY_TIMEOUT_MS = 5000;
/** New requests while the sink is known to be down must be refused at once. */
const FAST_REFUSAL_MS = 2000;
/** No request may hang past the delivery timeout (plus scheduling slack). */
const MAX_LATENCY_MS = DELIVERY_TIMEOUT_MS + 2500;

describe('kafka outage: broker down and back', { timeout: 170_000 }, () => {
  let bootstrap: string;
  let halted = false;
  const running: KafkaSluice[] = [];

  async function halt(): Promise<void> {
    halted = true;
    await haltKafka(true);
  }
  async function resume(): Promise<void> {
    await resumeKafka();
    halted = false;
  }

  before(async () => {
    bootstrap = await kafkaBootstrap();
  });
  after(async () => {
    // Never leave the shared broker down for the files that run after this one.
    if (halted) await resumeKafka();
    await Promise.all(running.map((k) => k.sluice.stop()));
    await releaseKafka();
  });

  it('broker killed mid-load then restarted: every 2xx event is in Kafka, outage requests got fast 5xx, Sluice recovers by itself', async (t) => {
    const k = await startKafkaSluice(bootstrap, { deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    running.push(k);
    const pid = k.sluice.proc.pid;
    await waitForReady(k.url, 200, 20_000);

    const load = new Load(k.url, { stream: k.plain, concurrency: 8, eventsPerRequest: 5, backoffMs: 50, requestTimeoutMs: 60_000 });
    /** Fresh requests sent only while the sink is known to be down: each must be refused at once. */
    const probes: Attempt[] = [];
    // Every failed expectation is collected, so one run reports all that is wrong.
    const problems: string[] = [];
    let stopped = false;
    try {
      await load.waitForSuccesses(40, 20_000);

      // Outage: SIGKILL the broker while requests are in flight.
      const haltStart = Date.now();
      await halt();
      const down = await waitForReady(k.url, 503, 15_000);
      const downAt = Date.now();
      t.diagnostic(`broker killed; /readyz 503 after ${downAt - haltStart} ms: ${down.text}`);
      if (!/kafka|broker|sink/i.test(String(down.body?.detail))) problems.push(`/readyz 503 does not name the sink as the reason: ${down.text}`);

      // Keep the outage until the load has seen it (requests started after it was known answered),
      // or at most until every in-flight request must have timed out; probe with fresh requests meanwhile.
      const outageUntil = downAt + DELIVERY_TIMEOUT_MS + 4000;
      for (let i = 0; Date.now() < outageUntil; i++) {
        const answered = load.attempts.filter((a) => a.startedAt >= downAt && a.endedAt > 0).length;
        if (answered >= 30 && i >= 10) break;
        const markers = [`probe-${tag()}`];
        const a: Attempt = { client: -1, hasty: false, markers, startedAt: Date.now(), endedAt: 0, status: 0 };
        probes.push(a);
        try {
          const r = await postEvents(k.url, markers.map((m) => markedEvent(k.plain, m)), { timeoutMs: 60_000 });
          Object.assign(a, { status: r.status, resp: r, retryAfter: r.headers['retry-after'] });
        } catch (err) {
          a.failure = (err as Error).message;
        }
        a.endedAt = Date.now();
        await sleep(100);
      }
      const still = await readyz(k.url);
      if (still.status !== 503) problems.push(`/readyz during the outage answered ${still.status}: ${still.text}`);

      const resumeStart = Date.now();
      await resume();
      const up = await waitForReady(k.url, 200, 30_000);
      const upAt = Date.now();
      t.diagnostic(`broker resumed; /readyz 200 ${upAt - resumeStart} ms after the resume started (outage ${resumeStart - haltStart} ms): ${up.text}`);

      await load.waitForSuccesses(30, 30_000, upAt);
      await load.stop();
      stopped = true;
      if (k.sluice.proc.exitCode !== null || k.sluice.proc.pid !== pid) problems.push('Sluice did not keep running through the outage');

      const attempts = [...load.attempts, ...probes];
      const latency = (a: Attempt) => a.endedAt - a.startedAt;
      const describe = (a: Attempt) => `${a.status || a.failure} after ${latency(a)} ms (started ${a.startedAt - haltStart} ms after the kill)`;
      const duringOutage = attempts.filter((a) => a.startedAt >= downAt && a.endedAt <= resumeStart);
      const overlappingHalt = attempts.filter((a) => a.startedAt < downAt && a.endedAt >= haltStart);
      const afterRecovery = attempts.filter((a) => a.startedAt >= upAt);

      // Every request got an HTTP answer, and none waited past the delivery timeout.
      for (const a of attempts.filter((x) => x.status === 0)) problems.push(`no HTTP answer: ${a.failure}`);
      const slow = attempts.filter((a) => latency(a) > MAX_LATENCY_MS);
      if (slow.length > 0) {
        problems.push(`${slow.length} requests took longer than delivery_timeout_ms ${DELIVERY_TIMEOUT_MS} + slack, e.g. ${slow.slice(0, 3).map(describe).join('; ')}`);
      }
      const weird = attempts.filter((a) => a.status !== 0 && ![201, 207, 500, 503].includes(a.status));
      for (const a of weird.slice(0, 5)) problems.push(`unexpected answer ${a.status}: ${a.resp?.text.slice(0, 200)}`);

      // While the sink was known to be down: 5xx at once, with Retry-After on 503.
      if (duringOutage.length < 10) problems.push(`only ${duringOutage.length} requests were sent and answered while the sink was known to be down`);
      for (const a of duringOutage.filter(isSuccess)) problems.push(`answered ${describe(a)} while the broker was down`);
      // Refusals until /readyz said 200 again (the broker restart included) were all immediate.
      const refusedWhileDown = attempts.filter((a) => a.startedAt >= downAt && a.endedAt <= upAt && a.status >= 500);
      const slowRefusals = refusedWhileDown.filter((a) => latency(a) >= FAST_REFUSAL_MS);
      if (slowRefusals.length > 0) problems.push(`${slowRefusals.length} requests during the outage not refused within ${FAST_REFUSAL_MS} ms, e.g. ${slowRefusals.slice(0, 3).map(describe).join('; ')}`);
      if (duringOutage.some((a) => a.status === 503 && a.retryAfter === undefined)) problems.push('a 503 during the outage has no Retry-After');

      // After the restart: served again by the same process.
      const recovered = afterRecovery.filter((a) => a.status === 201).length;
      if (recovered < 30) problems.push(`only ${recovered} requests answered 201 after the broker came back`);

      // Nothing acknowledged is missing (or duplicated).
      const acked = attempts.flatMap(acknowledgedMarkers);
      const check = await checkAcknowledged(bootstrap, k.plain, acked);
      const rejected = attempts.filter((a) => a.status >= 500);
      const rejectedMarkers = new Set(rejected.flatMap((a) => a.markers));
      const rejectedButStored = jsonValues(check.records).filter((v) => rejectedMarkers.has(v.test)).length;
      const counts = {
        requests: attempts.length,
        statuses: summarize(attempts),
        ackedRequests: attempts.filter(isSuccess).length,
        acked: check.acked,
        found: check.found,
        missing: check.missing.length,
        duplicated: check.duplicated.length,
        rejectedRequests: rejected.length,
        rejectedEvents: rejectedMarkers.size,
        rejectedButStoredAnyway: rejectedButStored,
        duringOutage: duringOutage.length,
        duringOutageMaxMs: duringOutage.length ? Math.max(...duringOutage.map(latency)) : 0,
        refusedWhileDown: refusedWhileDown.length,
        refusedWhileDownMaxMs: refusedWhileDown.length ? Math.max(...refusedWhileDown.map(latency)) : 0,
        overlappingHalt: overlappingHalt.length,
        overlappingHaltStatuses: summarize(overlappingHalt),
        overlappingHaltMaxMs: overlappingHalt.length ? Math.max(...overlappingHalt.map(latency)) : 0,
        afterRecovery: afterRecovery.length,
        recordsInTopic: check.records.length,
      };
      // The slow answers, with the first sink error each carried: what happened to in-flight requests.
      const sinkMessage = (a: Attempt) => String(a.resp?.body?.error?.[0]?.context?.message ?? a.resp?.body?.detail ?? a.failure ?? '');
      for (const a of attempts.filter((x) => latency(x) >= FAST_REFUSAL_MS).slice(0, 12)) t.diagnostic(`slow answer: ${describe(a)} ${sinkMessage(a)}`);
      for (const a of attempts.filter((x) => x.status === 500).slice(0, 5)) t.diagnostic(`500: ${describe(a)} ${sinkMessage(a)}`);
      console.log(`kafka outage counts: ${JSON.stringify(counts)}`);
      t.diagnostic(`outage counts: ${JSON.stringify(counts)}`);
      if (check.missing.length > 0) problems.push(`${check.missing.length} events acknowledged 2xx are missing from Kafka, e.g. ${check.missing.slice(0, 5).join(', ')}`);
      if (check.duplicated.length > 0) problems.push(`${check.duplicated.length} acknowledged events are in Kafka more than once, e.g. ${check.duplicated.slice(0, 5).join(', ')}`);
      if (rejected.length === 0) problems.push('no request was rejected: the outage was not seen by clients');
      assert.deepEqual(problems, [], 'kafka outage expectations');
    } finally {
      if (!stopped) await load.stop();
      if (halted) await resume();
    }
  });

  it('Sluice started while Kafka is down: starts anyway, /readyz 503, requests 503 fast, recovers when the broker returns', async (t) => {
    if (!halted) await halt();
    const k = await startKafkaSluice(bootstrap, { deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    running.push(k);
    const pid = k.sluice.proc.pid;

    const ready = await readyz(k.url);
    assert.equal(ready.status, 503, `/readyz while Kafka is down: ${ready.text}`);
    assert.match(String(ready.body?.detail), /kafka|broker|sink/i, `/readyz gives the reason: ${ready.text}`);
    t.diagnostic(`/readyz at start: ${ready.text}`);

    // Give the producers time to try (and fail) to connect: requests must still be refused fast.
    for (let i = 0; i < 6; i++) {
      const startedAt = Date.now();
      const r = await postEvents(k.url, [markedEvent(k.plain, `down-${i}`)]);
      const ms = Date.now() - startedAt;
      assert.equal(r.status, 503, `request ${i} while Kafka is down: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(ms < FAST_REFUSAL_MS, `refused within ${FAST_REFUSAL_MS} ms (took ${ms} ms)`);
      assert.ok(r.headers['retry-after'] !== undefined, '503 carries Retry-After');
      assert.match(r.text, /kafka|sink|broker/i, 'the 503 says why');
      await sleep(500);
    }
    assert.equal((await readyz(k.url)).status, 503, '/readyz still 503 after several seconds down');
    const hasty = await postEvents(k.url, [markedEvent(k.keyed, 'down-hasty')], { query: 'hasty=true' });
    t.diagnostic(`a hasty request while Kafka is down: ${hasty.status}`);

    const resumeStart = Date.now();
    await resume();
    await waitForReady(k.url, 200, 30_000);
    t.diagnostic(`ready ${Date.now() - resumeStart} ms after the broker resume started`);

    const marker = `back-${tag()}`;
    const events = Array.from({ length: 10 }, (_, i) => markedEvent(k.plain, `${marker}-${i}`));
    const r = await postEvents(k.url, events);
    assert.equal(r.status, 201, `after the broker returned: ${r.status} ${r.text.slice(0, 300)}`);
    assert.equal(k.sluice.proc.exitCode, null, 'the same Sluice process serves');
    assert.equal(k.sluice.proc.pid, pid);
    const values = jsonValues(await readAll(bootstrap, k.plain, { expect: events.length }));
    assert.deepEqual(values.map((v) => v.test).sort(), events.map((e) => e.test).sort(), 'exactly the acknowledged events are in the topic; none of the refused ones');
  });
});

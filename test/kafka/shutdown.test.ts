/**
 * Issue 3 / DESIGN.md §7 graceful shutdown with the kafka sink: SIGTERM under load (guaranteed and
 * hasty) stops accepting, answers what is in flight, flushes the producers and exits 0 — and every
 * event answered 2xx is in Kafka afterwards, read back with a real consumer.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import {
  acknowledgedMarkers,
  checkAcknowledged,
  isSuccess,
  kafkaFixture,
  Load,
  markedEvent,
  summarize,
  tag,
  waitForReady,
} from './support';

describe('kafka sink: graceful shutdown', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();

  it('SIGTERM during load: exit code 0 and every event answered 2xx (guaranteed and hasty) is in Kafka exactly once', async (t) => {
    const k = await kafka.start();
    await waitForReady(k.url, 200, 20_000);
    // The first event creates the topic (auto-create): not part of the load being measured.
    const warm = await postEvents(k.url, [markedEvent(k.plain, `warm-up-${tag()}`)]);
    assert.equal(warm.status, 201, warm.text);

    // A quarter of the clients send hasty requests: 202 is an acknowledgement too (§7: nothing
    // answered 2xx is lost).
    const load = new Load(k.url, { stream: k.plain, concurrency: 12, eventsPerRequest: 5, hastyClients: 0.25, backoffMs: 10, requestTimeoutMs: 30_000 });
    let code: number | null | 'timeout';
    let stopAt: number;
    try {
      await load.waitForSuccesses(40, 20_000, 0, 'guaranteed');
      await load.waitForSuccesses(40, 20_000, 0, 'hasty');
      stopAt = Date.now();
      k.sluice.proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      code = await Promise.race([k.sluice.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)))]);
      clearTimeout(timer);
    } finally {
      await load.stop();
    }
    const exitedAt = Date.now();
    assert.equal(code, 0, `exit code after SIGTERM; stderr: ${k.sluice.stderr().slice(-2000)}`);

    const attempts = load.attempts;
    const inFlightAtSigterm = attempts.filter((a) => a.startedAt < stopAt && (a.endedAt === 0 || a.endedAt >= stopAt));
    assert.ok(inFlightAtSigterm.length >= 4, `requests were in flight when SIGTERM came (${inFlightAtSigterm.length})`);
    // Requests after SIGTERM are refused (503 shutting down) or cannot connect; none is lost silently.
    const lateSuccess = attempts.filter((a) => a.startedAt > stopAt + 1000 && isSuccess(a));
    assert.deepEqual(lateSuccess.map((a) => a.status), [], 'no request started a second after SIGTERM is accepted');
    const odd = attempts.filter((a) => a.status !== 0 && ![201, 202, 503].includes(a.status));
    assert.deepEqual(odd.map((a) => `${a.status} ${a.resp?.text.slice(0, 200)}`), [], 'answers are 201/202, or 503 while shutting down');

    const guaranteed = attempts.filter((a) => !a.hasty).flatMap(acknowledgedMarkers);
    const hasty = attempts.filter((a) => a.hasty).flatMap(acknowledgedMarkers);
    const check = await checkAcknowledged(kafka.bootstrap, k.plain, [...guaranteed, ...hasty]);
    const missing = new Set(check.missing);
    const counts = {
      requests: attempts.length,
      statuses: summarize(attempts),
      inFlightAtSigterm: inFlightAtSigterm.length,
      inFlightAtSigtermStatuses: summarize(inFlightAtSigterm),
      shutdownMs: exitedAt - stopAt!,
      guaranteedAcked: guaranteed.length,
      guaranteedFound: guaranteed.filter((m) => !missing.has(m)).length,
      hastyAcked: hasty.length,
      hastyFound: hasty.filter((m) => !missing.has(m)).length,
      duplicated: check.duplicated.length,
      recordsInTopic: check.records.length,
    };
    console.log(`kafka shutdown counts: ${JSON.stringify(counts)}`);
    t.diagnostic(`shutdown counts: ${JSON.stringify(counts)}`);

    assert.ok(guaranteed.length > 0 && hasty.length > 0, 'both guaranteed and hasty events were acknowledged');
    assert.deepEqual(check.missing.filter((m) => guaranteed.includes(m)).slice(0, 20), [], 'every guaranteed event answered 201 is in Kafka');
    assert.deepEqual(check.missing.filter((m) => hasty.includes(m)).slice(0, 20), [], 'every hasty event answered 202 is in Kafka');
    assert.deepEqual(check.duplicated.slice(0, 20), [], 'no acknowledged event is in Kafka twice');
    const incompleteFlush = k.sluice.logs.filter((l) => /flush/i.test(String(l.msg)) && l.level >= 40);
    assert.deepEqual(incompleteFlush.map((l) => l.msg), [], 'the producers flushed completely');
    assert.ok(k.sluice.logs.some((l) => l.msg === 'shut down'), 'Sluice logged its shutdown');
  });
});

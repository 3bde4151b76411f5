/**
 * DESIGN.md §9: slow clients (slowloris, stalled uploads) are cut off, and clients that abort mid-body
 * leak nothing — the in-flight gauges come back to zero. Bodies have limits.body_timeout_s; headers
 * have uWS's own deadline (10 s; a byte every 2 s does not reset it, measured 2026-12-08).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { useSluice, sleep, type Sluice } from '../helpers/server';
import { head, postEvents, rawHttp, request } from '../helpers/http';
import { testEvent } from '../helpers/events';

const BODY_TIMEOUT_S = 1;

async function gauge(s: Sluice, name: string): Promise<number> {
  const text = (await request(s.url, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} exported`);
  return Number(line.split(' ')[1]);
}

async function settlesToZero(s: Sluice, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let value = await gauge(s, name);
  while (value !== 0 && Date.now() < deadline) {
    await sleep(50);
    value = await gauge(s, name);
  }
  assert.equal(value, 0, `${name} back to 0`);
}

describe('§9 slow and aborting clients', () => {
  const s = useSluice({ config: { limits: { body_timeout_s: BODY_TIMEOUT_S } } });

  it('a body that stalls past limits.body_timeout_s is answered 408 and the connection closed', async () => {
    const started = Date.now();
    const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 1000 }), '[{"$schema":'], 10_000);
    const elapsed = Date.now() - started;
    assert.equal(r.status, 408, JSON.stringify(r));
    assert.equal(JSON.parse(r.body).type, 'urn:sluice:problem:RequestTimeout');
    assert.ok(elapsed >= BODY_TIMEOUT_S * 1000 && elapsed < BODY_TIMEOUT_S * 1000 + 3000, `cut off after ${elapsed} ms`);
    await settlesToZero(s, 'sluice_inflight_requests');
  });

  it('a slowloris body dripping a byte at a time is cut off at the same deadline', async () => {
    const drip = Array.from({ length: 40 }, (_, i) => [{ delayMs: 100 }, i === 0 ? '[' : ' ']).flat();
    const started = Date.now();
    const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 1000 }), ...drip], 10_000);
    assert.equal(r.status, 408, JSON.stringify(r));
    assert.ok(Date.now() - started < BODY_TIMEOUT_S * 1000 + 3000);
    await settlesToZero(s, 'sluice_inflight_requests');
  });

  it('a slowloris dripping its headers is closed at uWS\'s 10 s header deadline, though every byte comes in time', { timeout: 30_000 }, async () => {
    const socket = net.connect({ host: '127.0.0.1', port: s.port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const started = Date.now();
    let answered = '';
    socket.on('data', (chunk: Buffer) => (answered += chunk.toString('latin1')));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    socket.write('POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const drip = setInterval(() => socket.write('a'), 500);
    try {
      const elapsed = await Promise.race([closed, sleep(20_000).then(() => -1)]);
      assert.notEqual(elapsed, -1, 'still open after 20 s');
      assert.ok(elapsed >= 9_000 && elapsed < 15_000, `closed after ${elapsed} ms`);
      assert.equal(answered, '', 'closed, not answered: there is no request to answer');
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    await settlesToZero(s, 'sluice_inflight_requests');
  });

  it('clients that abort mid-body leak nothing, and the server keeps serving', async () => {
    for (let i = 0; i < 20; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: s.port });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 5000 }) + '[{"$schema":"/test/event/1.0.0"');
      await sleep(10);
      socket.destroy();
    }
    await settlesToZero(s, 'sluice_inflight_requests');
    await settlesToZero(s, 'sluice_inflight_bytes');
    const r = await postEvents(s.url, testEvent());
    assert.equal(r.status, 201, r.text);
  });
});

// The bench's bare split (bench/bare-split.ts) does the work it stands for: bodies reach a
// worker, are parsed and validated against the bundled schemas, and every request gets its own answer,
// also when more arrive at once than one task carries.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startScriptServer, stopServer, type RunningServer } from '../../bench/targets';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

function testEvent(marker: string): Record<string, unknown> {
  return { $schema: '/test/event/1.0.0', meta: { stream: 'test.event', id: '5b0e2f8a-1c7d-4e52-9a1b-2f4c6d8e0a13', dt: '2026-11-23T04:05:06.007Z' }, test: marker };
}

async function post(server: RunningServer, body: string, requestId: string): Promise<{ status: number; requestId: string | null }> {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body });
  await response.arrayBuffer();
  return { status: response.status, requestId: response.headers.get('x-request-id') };
}

describe('bench bare-split server', () => {
  let server: RunningServer;
  before(async () => {
    const port = await freePort();
    server = await startScriptServer('bare-split', path.join(REPO_ROOT, 'dist', 'bench', 'bare-split.js'), [], REPO_ROOT, port);
  });
  after(() => stopServer(server));

  it('answers 201 to valid events and 400 to an invalid event or a body that is not JSON', async () => {
    assert.equal((await post(server, JSON.stringify(testEvent('one')), 'a')).status, 201);
    assert.equal((await post(server, JSON.stringify([testEvent('x'), testEvent('y'), testEvent('z')]), 'b')).status, 201);
    assert.equal((await post(server, JSON.stringify([testEvent('ok'), { $schema: '/test/event/1.0.0', meta: { stream: 'test.event' } }]), 'c')).status, 400);
    assert.equal((await post(server, '{"$schema":', 'd')).status, 400);
  });

  it('answers each of 150 concurrent requests (more than one task carries) as its own body deserves', async () => {
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => post(server, i % 7 === 3 ? JSON.stringify({ ...testEvent(`bad ${i}`), test: 42 }) : JSON.stringify(testEvent(`good ${i}`)), `r${i}`)),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.requestId, `r${i}`);
      assert.equal(answer.status, i % 7 === 3 ? 400 : 201, `request ${i}`);
    });
  });
});

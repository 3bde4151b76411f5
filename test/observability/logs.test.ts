/**
 * DESIGN.md §8 logs: one start-up line with the effective config (secrets redacted), the log level
 * changed at run time by SIGUSR2 re-reading log.level, and the request id in request-scoped warnings.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { parse, stringify } from 'yaml';
import { sleep, useSluice, type Json, type Sluice } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { invalidTestEvent, testEvent } from '../helpers/events';
import { startWithBrokenStream } from '../helpers/request-mix';

const SECRETS = ['hunter2', 'key-pass', 'oauth-secret'];

async function waitForLog(s: Sluice, predicate: (line: Json) => boolean, what: string): Promise<Json> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const line = s.logs.find(predicate);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no log line: ${what}`);
    await sleep(25);
  }
}

describe('§8 start-up line: the effective config, secrets redacted', () => {
  const s = useSluice({
      config: {
        sink: {
          kafka: {
            conf: { 'bootstrap.servers': 'kafka.example:9092', 'sasl.username': 'sluice', 'sasl.password': 'hunter2', 'ssl.key.password': 'key-pass' },
            hasty: { 'sasl.oauthbearer.client.secret': 'oauth-secret', acks: 1 },
          },
        },
      },
    });

  it('logs one "effective config" line before "listening", with every key of the config', () => {
    const lines = s.logs.filter((l) => l.msg === 'effective config');
    assert.equal(lines.length, 1);
    assert.ok(s.logs.indexOf(lines[0]) < s.logs.findIndex((l) => l.msg === 'listening'));
    const { config } = lines[0];
    assert.equal(config.limits.max_body_bytes, 4194304);
    assert.equal(config.metrics.port, null);
    assert.equal(config.sink.kafka.conf['bootstrap.servers'], 'kafka.example:9092');
    assert.equal(config.sink.kafka.hasty.acks, 1);
  });

  it('replaces SASL, SSL-key and other secret librdkafka properties with [redacted], everywhere', () => {
    const { config } = s.logs.find((l) => l.msg === 'effective config');
    assert.equal(config.sink.kafka.conf['sasl.password'], '[redacted]');
    assert.equal(config.sink.kafka.conf['sasl.username'], '[redacted]');
    assert.equal(config.sink.kafka.conf['ssl.key.password'], '[redacted]');
    assert.equal(config.sink.kafka.hasty['sasl.oauthbearer.client.secret'], '[redacted]');
    const everything = JSON.stringify(s.logs) + s.stderr();
    for (const secret of SECRETS) assert.ok(!everything.includes(secret), secret);
  });

  it('does not warn of a missing stream config when one is set', () => {
    assert.ok(s.logs.some((l) => l.msg === 'listening'));
    assert.ok(!s.logs.some((l) => l.kind === 'no-stream-config'));
  });
});

describe('§8 start-up warning: no streams.config, so any stream takes any schema', () => {
  const s = useSluice({ config: { streams: { config: undefined } } });

  it('warns once, before "listening", and then accepts a stream no config names', async () => {
    const lines = s.logs.filter((l) => l.kind === 'no-stream-config');
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 40, 'pino warn level');
    assert.ok(s.logs.indexOf(lines[0]) < s.logs.findIndex((l) => l.msg === 'listening'));
    assert.equal((await postEvents(s.url, [testEvent({}, { stream: 'a.stream.no.config.names' })])).status, 201);
  });
});

describe('§8 SIGUSR2 re-reads log.level from the config file', () => {
  const s = useSluice();

  function setLevel(level: string): void {
    const doc = parse(fs.readFileSync(s.configFile, 'utf8'));
    doc.log.level = level;
    fs.writeFileSync(s.configFile, stringify(doc));
  }

  it('applies the new level and says so', async () => {
    setLevel('warn');
    s.proc.kill('SIGUSR2');
    const line = await waitForLog(s, (l) => l.msg === 'log level changed', 'log level changed');
    assert.deepEqual([line.from, line.to], ['info', 'warn']);
  });

  it('keeps the level when the config no longer loads, with a warning', async () => {
    fs.writeFileSync(s.configFile, 'log: { level: loud }\n');
    s.proc.kill('SIGUSR2');
    const line = await waitForLog(s, (l) => /config not re-read/.test(l.msg), 'config not re-read');
    assert.equal(line.level, 40);
    assert.equal(line.current, 'warn');
    assert.match(line.err, /level/);
  });

  it('info lines are no longer written at warn', async () => {
    const before = s.logs.length;
    await s.stop();
    assert.ok(!s.logs.some((l) => l.msg === 'shut down'), 'the shutdown info lines are not written');
    assert.deepEqual(s.logs.slice(before).filter((l) => l.level < 40), []);
  });
});

describe('§8 request-scoped warnings carry the request id', () => {
  let s: Sluice;
  before(async () => {
    s = await startWithBrokenStream();
  });
  after(async () => {
    await s?.stop();
  });

  it('a guaranteed request whose events failed in the sink', async () => {
    const r = await postEvents(s.url, [testEvent({}, { stream: 'broken.stream' })], { headers: { 'x-request-id': 'req-sink-failure' } });
    assert.ok(r.status >= 500);
    const line = await waitForLog(s, (l) => l.kind === 'request-failed', 'request-failed');
    assert.equal(line.request_id, 'req-sink-failure');
    assert.equal(line.error, 1);
  });

  it('a hasty request with refused events (already answered 202)', async () => {
    assert.equal((await postEvents(s.url, [invalidTestEvent()], { query: 'hasty=true', headers: { 'x-request-id': 'req-hasty' } })).status, 202);
    const line = await waitForLog(s, (l) => l.kind === 'hasty-refused', 'hasty-refused');
    assert.equal(line.request_id, 'req-hasty');
    assert.equal(line.invalid, 1);
  });

  it('a guaranteed request refused for client-side reasons is answered, not logged', async () => {
    assert.equal((await postEvents(s.url, [invalidTestEvent()], { headers: { 'x-request-id': 'req-invalid' } })).status, 400);
    await sleep(200);
    assert.ok(!s.logs.some((l) => l.request_id === 'req-invalid'));
  });
});

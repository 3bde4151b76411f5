// What recording metrics costs the main thread (issue 5), measured in-process on the real Metrics
// object: the calls one intake request makes, the calls one worker task's result makes (pool.ts,
// sinks/delivery.ts: per task, never per event), and rendering one scrape.
//
// Usage: node dist/bench/metrics-cost.js   prints ns per request, per task and per scrape.

import { Metrics } from '../src/metrics';
import { RouteMetrics } from '../src/http/route-metrics';

const ROUNDS = 1_000_000;
const SCRAPES = 200;

function nsPer(rounds: number, body: () => void): number {
  for (let i = 0; i < rounds / 10; i++) body(); // warm-up: let V8 optimise before measuring
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) body();
  return Number(process.hrtime.bigint() - started) / rounds;
}

async function main(): Promise<void> {
  const metrics = new Metrics();
  const route = new RouteMetrics(metrics, '/v1/events');
  const startedAt = performance.now();
  // intake.ts per request: the answer's counters (the in-flight gauges are read when scraped).
  const perRequest = nsPer(ROUNDS, () => route.record(201, false, startedAt));
  // pool.ts + delivery.ts per task of one stream with invalid events: label objects are hashed here.
  const perTask = nsPer(ROUNDS / 10, () => {
    metrics.batchRequests.observe(8);
    metrics.events.inc({ stream: 'test.event', outcome: 'invalid' }, 1);
    metrics.validationErrors.inc({ stream: 'test.event', schema_uri: 'test/event/1.0.0', error_type: 'ValidationError' }, 1);
    metrics.batchEvents.observe(400);
    metrics.schemaCache.inc({ result: 'hit' }, 8);
    metrics.sinkQueueMessages.inc(399);
    metrics.sinkQueueMessages.dec(399);
    metrics.sinkDelivery.observe(0.002);
    metrics.events.inc({ stream: 'test.event', outcome: 'success' }, 399);
    metrics.eventBytes.inc({ stream: 'test.event' }, 99_750);
  });
  let rendered = 0;
  const scrapeStarted = process.hrtime.bigint();
  for (let i = 0; i < SCRAPES; i++) rendered = (await metrics.registry.metrics()).length;
  const perScrapeUs = Number(process.hrtime.bigint() - scrapeStarted) / SCRAPES / 1000;
  console.log(JSON.stringify({ node: process.version, ns_per_request: Math.round(perRequest), ns_per_task: Math.round(perTask), us_per_scrape: Math.round(perScrapeUs), scrape_bytes: rendered }));
}

void main();

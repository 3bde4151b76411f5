/**
 * A known mix of requests (valid, invalid, sink-failed, unknown stream, hasty, 413, 415, other routes)
 * and the events it must be counted as: shared by the metrics and Prometheus tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, startSluice, writeYaml, type Sluice } from './server';
import { postEvents, request } from './http';
import { invalidTestEvent, testEvent } from './events';
import { scrape, type Scrape } from './metrics';

const MAX_BODY = 20_000;

/** A Sluice whose stream `broken.stream` cannot be written (its topic file is a directory). */
export async function startWithBrokenStream(config: Record<string, unknown> = {}): Promise<Sluice> {
  const dir = makeTempDir();
  const streams = writeYaml(path.join(dir, 'streams.yaml'), {
    'test.event': { schema_title: 'test/event' },
    'broken.stream': { schema_title: 'test/event', topic: 'broken' },
    'sluice.error.validation': { schema_title: 'error' },
  });
  const s = await startSluice({ config: { streams: { config: `file:${streams}` }, limits: { max_body_bytes: MAX_BODY }, ...config } });
  fs.mkdirSync(path.join(s.dataDir, 'broken.jsonl'));
  return s;
}

/** Events the mix below sends, by stream and outcome. */
export const MIX_EVENTS = {
  'test.event': { success: 4, invalid: 2, error: 0 },
  'broken.stream': { success: 0, invalid: 0, error: 1 },
  other: { success: 0, invalid: 1, error: 0 },
};

/** Sends the known mix; returns the statuses answered, in order. */
export async function sendMix(url: string): Promise<number[]> {
  const statuses: number[] = [];
  const post = async (...args: Parameters<typeof postEvents>) => statuses.push((await postEvents(...args)).status);
  await post(url, [testEvent(), testEvent()]); // 201
  await post(url, [invalidTestEvent()]); // 400
  await post(url, [testEvent(), invalidTestEvent()]); // 207
  await post(url, [testEvent({}, { stream: 'broken.stream' })]); // 500 or 503
  await post(url, [testEvent({}, { stream: 'no.such.stream' })]); // 400, stream label `other`
  await post(url, [testEvent()], { query: 'hasty=true' }); // 202
  await post(url, 'x'.repeat(MAX_BODY + 1)); // 413
  await post(url, [testEvent()], { contentType: 'text/html' }); // 415
  statuses.push((await request(url, '/healthz')).status); // 200, route /healthz
  statuses.push((await request(url, '/no/such/route')).status); // 404, route other
  return statuses;
}

/** Scrapes until every event of the mix is counted (hasty and sink outcomes land after the answer). */
export async function settledScrape(url: string): Promise<Scrape> {
  const expected = Object.values(MIX_EVENTS).reduce((n, o) => n + o.success + o.invalid + o.error, 0);
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = await scrape(url);
    const counted = s.labelSets('sluice_events_total').reduce((n, labels) => n + s.value('sluice_events_total', parseLabels(labels)), 0);
    if (counted >= expected || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function parseLabels(rendered: string): Record<string, string> {
  return Object.fromEntries([...rendered.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}


// Request bodies for the load generator: many distinct, valid `/test/event/1.0.0` events, one request
// body per line (JSON has no raw newlines), so bench/wrk/post.lua can rotate through them and no server
// can profit from seeing the same bytes twice in a row.
//
// Standalone use: node dist/bench/bodies.js <dir>   (writes one file per workload into <dir>)

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Workload {
  name: string;
  eventsPerRequest: number;
  /** Distinct bodies in the pool: enough that a repeat is far apart, few enough to keep wrk's memory small. */
  poolSize: number;
}

export const WORKLOADS: readonly Workload[] = [
  { name: '1 event/req', eventsPerRequest: 1, poolSize: 20_000 },
  { name: '50 events/req', eventsPerRequest: 50, poolSize: 1_000 },
];

/** Serialized size each event aims at (±EVENT_BYTES_JITTER), as in the "~250 bytes each". */
const EVENT_BYTES = 250;
const EVENT_BYTES_JITTER = 10;

const WORDS = (
  'the quick brown fox jumps over lazy dog while users click buttons scroll pages search for ' +
  'articles edit sections preview changes save drafts open menus and close dialogs on mobile ' +
  'and desktop browsers across many wikis every second of every day'
).split(' ');

/** Small seeded PRNG (mulberry32): the same sizes and texts on every run, so runs compare. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(random: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    text += (text ? ' ' : '') + WORDS[Math.floor(random() * WORDS.length)];
  }
  return text.slice(0, length);
}

/** One event; its `test` string is sized so the serialized event lands near EVENT_BYTES. */
function makeEvent(random: () => number, dt: Date): Record<string, unknown> {
  const event = {
    $schema: '/test/event/1.0.0',
    meta: { stream: 'test.event', dt: dt.toISOString(), id: randomUUID() },
    test: '',
    test_int: Math.floor(random() * 1_000_000),
    test_map: { k: 'v', platform: random() < 0.5 ? 'desktop' : 'mobile', wiki: `wiki${Math.floor(random() * 900)}` },
  };
  const target = EVENT_BYTES + Math.round((random() * 2 - 1) * EVENT_BYTES_JITTER);
  const room = target - Buffer.byteLength(JSON.stringify(event));
  event.test = sentence(random, Math.max(room, 8));
  return event;
}

function makeBody(random: () => number, eventsPerRequest: number, dt: Date): string {
  if (eventsPerRequest === 1) return JSON.stringify(makeEvent(random, dt));
  const events = Array.from({ length: eventsPerRequest }, () => makeEvent(random, dt));
  return JSON.stringify(events);
}

export interface BodiesFile {
  workload: Workload;
  file: string;
  bodies: number;
  meanBodyBytes: number;
  /** The first body of the pool, for a single checked request before the load. */
  sampleBody: string;
}

/** Writes the pool of one workload to `<dir>/<n>-per-request.jsonl`. */
export function writeBodies(dir: string, workload: Workload, seed = 1): BodiesFile {
  const random = seededRandom(seed + workload.eventsPerRequest);
  const start = Date.now() - workload.poolSize * 1000;
  const lines: string[] = [];
  let totalBytes = 0;
  for (let i = 0; i < workload.poolSize; i++) {
    const body = makeBody(random, workload.eventsPerRequest, new Date(start + i * 1000));
    totalBytes += Buffer.byteLength(body);
    lines.push(body);
  }
  const file = path.join(dir, `${workload.eventsPerRequest}-per-request.jsonl`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { workload, file, bodies: lines.length, meanBodyBytes: Math.round(totalBytes / lines.length), sampleBody: lines[0] };
}

export function writeAllBodies(dir: string): BodiesFile[] {
  fs.mkdirSync(dir, { recursive: true });
  return WORKLOADS.map((workload) => writeBodies(dir, workload));
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/bench/bodies.js <dir>');
    process.exit(2);
  }
  for (const written of writeAllBodies(dir)) {
    console.log(`${written.file}: ${written.bodies} bodies, ${written.meanBodyBytes} bytes mean`);
  }
}

// Request bodies for the load generator: pools of distinct events, so that no server can profit from
// seeing the same bytes twice in a row. A pool file holds one record per body, `<byte length>\n<bytes>`
// (gzip bodies are binary, so lines will not do); bench/wrk/*.lua read it whole at start-up.
//
// Standalone use: node dist/bench/bodies.js <dir>   (writes one file per workload into <dir>)

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export type EventShape = 'trivial' | 'analytics';

export interface Workload {
  /** Short id, also the pool's file name. */
  id: string;
  name: string;
  eventsPerRequest: number;
  /** `trivial`: /test/event/1.0.0 (~250 bytes, two formats); `analytics`: /analytics/click/1.0.0 (nested, enums, formats, a default). */
  shape: EventShape;
  /** Share of each body's events made invalid (wrong type), placed at random. */
  invalidShare: number;
  gzip: boolean;
  /** Distinct bodies in the pool: enough that a repeat is far apart, few enough to keep wrk's memory small. */
  poolSize: number;
}

export const WORKLOADS = {
  trivial1: { id: 'trivial1', name: '1 event/req', eventsPerRequest: 1, shape: 'trivial', invalidShare: 0, gzip: false, poolSize: 20_000 },
  trivial50: { id: 'trivial50', name: '50 events/req', eventsPerRequest: 50, shape: 'trivial', invalidShare: 0, gzip: false, poolSize: 1_000 },
  analytics50: { id: 'analytics50', name: '50 analytics events/req', eventsPerRequest: 50, shape: 'analytics', invalidShare: 0, gzip: false, poolSize: 1_000 },
  invalid50: { id: 'invalid50', name: '50 events/req, 10% invalid', eventsPerRequest: 50, shape: 'trivial', invalidShare: 0.1, gzip: false, poolSize: 1_000 },
  gzip50: { id: 'gzip50', name: '50 events/req, gzip', eventsPerRequest: 50, shape: 'trivial', invalidShare: 0, gzip: true, poolSize: 1_000 },
} as const satisfies Record<string, Workload>;

export type WorkloadId = keyof typeof WORKLOADS;

/** Serialized size each trivial event aims at (±EVENT_BYTES_JITTER), as in the "~250 bytes each". */
const EVENT_BYTES = 250;
const EVENT_BYTES_JITTER = 10;

const WORDS = (
  'the quick brown fox jumps over lazy dog while users click buttons scroll pages search for ' +
  'articles edit sections preview changes save drafts open menus and close dialogs on mobile ' +
  'and desktop browsers across many wikis every second of every day'
).split(' ');

type Random = () => number;

/** Small seeded PRNG (mulberry32): the same sizes and texts on every run, so runs compare. */
function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const below = (random: Random, n: number): number => Math.floor(random() * n);

function sentence(random: Random, length: number): string {
  let text = '';
  while (text.length < length) text += (text ? ' ' : '') + pick(random, WORDS);
  return text.slice(0, length);
}

/** One /test/event/1.0.0 event; its `test` string is sized so the serialized event lands near EVENT_BYTES. */
function trivialEvent(random: Random, dt: Date): Record<string, unknown> {
  const event = {
    $schema: '/test/event/1.0.0',
    meta: { stream: 'test.event', dt: dt.toISOString(), id: randomUUID() },
    test: '',
    test_int: below(random, 1_000_000),
    test_map: { k: 'v', platform: random() < 0.5 ? 'desktop' : 'mobile', wiki: `wiki${below(random, 900)}` },
  };
  const target = EVENT_BYTES + Math.round((random() * 2 - 1) * EVENT_BYTES_JITTER);
  event.test = sentence(random, Math.max(target - Buffer.byteLength(JSON.stringify(event)), 8));
  return event;
}

const ACTIONS = ['click', 'dblclick', 'contextmenu', 'tap', 'longpress'];
const PLATFORMS = ['web', 'ios', 'android', 'desktop'];
const SELECTORS = ['#searchButton', 'a.mw-redirect', 'button.cdx-button--action-progressive', 'nav .vector-menu-content li:nth-child(3) a', 'div.toc > ul > li > a'];

/** One /analytics/click/1.0.0 event as browser instrumentation sends it (~600 bytes); `platform` is often left to the schema default. */
function analyticsEvent(random: Random, dt: Date): Record<string, unknown> {
  const wiki = `wiki${below(random, 900)}`;
  const event: Record<string, unknown> = {
    $schema: '/analytics/click/1.0.0',
    meta: { stream: 'analytics.click', dt: dt.toISOString(), id: randomUUID(), domain: `${wiki}.example.org` },
    dt: new Date(dt.getTime() - below(random, 5000)).toISOString(),
    user_id: `u${below(random, 1_000_000).toString(36)}`,
    session_id: randomUUID().replace(/-/g, ''),
    action: pick(random, ACTIONS),
    element: { selector: pick(random, SELECTORS), text: sentence(random, 8 + below(random, 24)), position: { x: below(random, 1920), y: below(random, 1080) + random() } },
    page: {
      url: `https://${wiki}.example.org/wiki/${sentence(random, 12).replace(/ /g, '_')}`,
      referrer: `https://${wiki}.example.org/w/index.php?search=${sentence(random, 6).replace(/ /g, '+')}`,
      title: sentence(random, 10 + below(random, 30)),
      viewport: { width: 320 + below(random, 1600), height: 480 + below(random, 900) },
    },
    experiments: { toc_pinned: pick(random, ['control', 'treatment']), dark_mode: pick(random, ['off', 'on', 'auto']) },
    custom: { scroll_depth: random(), time_on_page_ms: below(random, 600_000) },
  };
  if (random() < 0.5) event.platform = pick(random, PLATFORMS);
  if (random() < 0.2) event.contact_email = `reader${below(random, 10_000)}@example.org`;
  return event;
}

/** A schema violation a real client makes: a wrong type where the schema wants an integer or an enum. */
function invalidate(event: Record<string, unknown>, shape: EventShape): void {
  if (shape === 'trivial') event.test_int = 'not a number';
  else event.action = 'hover';
}

function makeBody(random: Random, workload: Workload, dt: Date): Buffer {
  const makeEvent = workload.shape === 'trivial' ? trivialEvent : analyticsEvent;
  const events = Array.from({ length: workload.eventsPerRequest }, () => makeEvent(random, dt));
  const invalid = Math.round(workload.eventsPerRequest * workload.invalidShare);
  for (let made = 0; made < invalid; ) {
    const event = events[below(random, events.length)];
    if (event.action === 'hover' || event.test_int === 'not a number') continue;
    invalidate(event, workload.shape);
    made++;
  }
  const json = Buffer.from(JSON.stringify(workload.eventsPerRequest === 1 ? events[0] : events));
  return workload.gzip ? gzipSync(json) : json;
}

export interface BodiesFile {
  workload: Workload;
  file: string;
  bodies: number;
  /** Bytes on the wire (compressed for gzip workloads). */
  meanBodyBytes: number;
  /** The first body of the pool, for a single checked request before the load. */
  sampleBody: Buffer;
}

/** The pool of one workload, in memory (the same bodies on every run for the same seed). */
export function generateBodies(workload: Workload, seed = 1): Buffer[] {
  const random = seededRandom(seed + workload.eventsPerRequest * 31 + workload.id.length);
  const start = Date.now() - workload.poolSize * 1000;
  return Array.from({ length: workload.poolSize }, (_, i) => makeBody(random, workload, new Date(start + i * 1000)));
}

export function meanBytes(bodies: readonly Buffer[]): number {
  return Math.round(bodies.reduce((sum, body) => sum + body.length, 0) / bodies.length);
}

/** Writes the pool of one workload to `<dir>/<id>.bodies`, for wrk. */
export function writeBodies(dir: string, workload: Workload, seed = 1): BodiesFile {
  const bodies = generateBodies(workload, seed);
  const file = path.join(dir, `${workload.id}.bodies`);
  fs.writeFileSync(file, Buffer.concat(bodies.flatMap((body) => [Buffer.from(`${body.length}\n`), body])));
  return { workload, file, bodies: bodies.length, meanBodyBytes: meanBytes(bodies), sampleBody: bodies[0] };
}

/** The bodies of a pool file, in order. */
export function readPool(file: string): Buffer[] {
  const data = fs.readFileSync(file);
  const bodies: Buffer[] = [];
  for (let position = 0; position < data.length; ) {
    const newline = data.indexOf(10, position);
    const length = Number(data.subarray(position, newline).toString());
    if (newline < 0 || !Number.isInteger(length)) throw new Error(`${file} is not a pool file (record at byte ${position})`);
    bodies.push(data.subarray(newline + 1, newline + 1 + length));
    position = newline + 1 + length;
  }
  return bodies;
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/bench/bodies.js <dir>');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const workload of Object.values(WORKLOADS)) {
    const written = writeBodies(dir, workload);
    console.log(`${written.file}: ${written.bodies} bodies, ${written.meanBodyBytes} bytes mean`);
  }
}

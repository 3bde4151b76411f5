/**
 * DESIGN.md §4 schema repository: URI spellings and normalised joining, bases tried in order, YAML and
 * JSON, meta-schema spellings and drafts, $refs, traversal and absolute-URI refusal (nothing fetched
 * outside the bases), unknown schemas, schemas that fail to compile, and the negative cache.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { startSluice, makeTempDir, writeYaml, sleep, waitFor, REPO_ROOT, type Sluice, type Json } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { assertInvalidStatus, eventsBody, testEvent } from '../helpers/events';

const NEGATIVE_CACHE_SECONDS = 2;

function thing(title: string, props: Record<string, unknown>, extra: Record<string, unknown> = {}): Json {
  return {
    title,
    $id: `/${title}/1.0.0`,
    $schema: 'https://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['$schema', 'meta'],
    properties: { $schema: { type: 'string' }, meta: { type: 'object' }, ...props },
    ...extra,
  };
}

describe('§4 schema resolution', () => {
  let s: Sluice;
  let baseA: string; // first base, "file:<dir>/"
  let hits = 0;
  let trap: http.Server;
  let trapPort = 0;

  before(async () => {
    trap = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ title: 'test/event', type: 'object' }));
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapPort = (trap.address() as AddressInfo).port;

    baseA = makeTempDir('sluice-schemas-a-');
    const baseB = makeTempDir('sluice-schemas-b-');

    // A shadow of the bundled test/event in the first base that also requires `test`: which one
    // validates shows the order in which bases are tried.
    const bundled = parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas/test/event/1.0.0.yaml'), 'utf8'));
    writeYaml(path.join(baseA, 'test/event/1.0.0.yaml'), { ...bundled, required: ['$schema', 'meta', 'test'] });

    const json = thing('json/thing', { n: { type: 'integer' } });
    json.required.push('n');
    fs.mkdirSync(path.join(baseA, 'json/thing'), { recursive: true });
    fs.writeFileSync(path.join(baseA, 'json/thing/1.0.0.json'), JSON.stringify(json, null, 2));

    for (const [name, metaSchema] of [
      ['a', 'http://json-schema.org/draft-07/schema'],
      ['b', 'https://json-schema.org/draft-07/schema'],
      ['c', 'http://json-schema.org/draft-07/schema#'],
    ] as const) {
      writeYaml(path.join(baseA, `spell/${name}/1.0.0.yaml`), { ...thing(`spell/${name}`, { n: { type: 'integer' } }), $schema: metaSchema });
    }

    writeYaml(path.join(baseA, 'draft4/thing/1.0.0.yaml'), {
      title: 'draft4/thing',
      id: '/draft4/thing/1.0.0',
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      required: ['$schema', 'meta'],
      properties: { $schema: { type: 'string' }, meta: { type: 'object' }, n: { type: 'integer', maximum: 10, exclusiveMaximum: true } },
    });

    writeYaml(path.join(baseA, 'd2020/thing/1.0.0.yaml'), {
      ...thing('d2020/thing', { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false } }),
      $schema: 'https://json-schema.org/draft/2020-12/schema',
    });

    writeYaml(path.join(baseA, 'common/part/1.0.0.yaml'), {
      title: 'common/part',
      $id: '/common/part/1.0.0',
      $schema: 'https://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' } },
    });
    writeYaml(path.join(baseA, 'ref/thing/1.0.0.yaml'), {
      ...thing('ref/thing', { part: { $ref: '/common/part/1.0.0' }, local: { $ref: '#/definitions/small' } }),
      definitions: { small: { type: 'integer', maximum: 5 } },
    });

    writeYaml(path.join(baseA, 'broken/thing/1.0.0.yaml'), thing('broken/thing', { n: { type: 'nonsense' } }));
    writeYaml(path.join(baseA, 'insecure/thing/1.0.0.yaml'), thing('insecure/thing', { s: { type: 'string', pattern: '^(a+)+$' } }));
    fs.mkdirSync(path.join(baseA, 'badyaml/thing'), { recursive: true });
    fs.writeFileSync(path.join(baseA, 'badyaml/thing/1.0.0.yaml'), 'title: badyaml/thing\ntype: [object\n  : : :\n');

    writeYaml(path.join(baseB, 'slash/thing/1.0.0.yaml'), thing('slash/thing', {}));

    const streamsFile = writeYaml(path.join(baseA, '..', `${path.basename(baseA)}-streams.yaml`), {
      'test.event': { schema_title: 'test/event' },
      '/^analytics\\..+/': { schema_title: 'analytics/click' },
      'json.thing': { schema_title: 'json/thing' },
      'spell.a': { schema_title: 'spell/a' },
      'spell.b': { schema_title: 'spell/b' },
      'spell.c': { schema_title: 'spell/c' },
      'draft4.thing': { schema_title: 'draft4/thing' },
      'd2020.thing': { schema_title: 'd2020/thing' },
      'ref.thing': { schema_title: 'ref/thing' },
      'broken.thing': { schema_title: 'broken/thing' },
      'insecure.thing': { schema_title: 'insecure/thing' },
      'badyaml.thing': { schema_title: 'badyaml/thing' },
      'late.thing': { schema_title: 'late/thing' },
      'slash.thing': { schema_title: 'slash/thing' },
      'sluice.error.validation': { schema_title: 'error' },
    });

    s = await startSluice({
      config: {
        schemas: {
          base_uris: [`file:${baseA}/`, `file:${baseB}`, 'file:schemas/'],
          negative_cache_seconds: NEGATIVE_CACHE_SECONDS,
          precache: ['/error/1.0.0'],
        },
        streams: { config: `file:${streamsFile}` },
        // One worker: the negative cache is per worker, so a single one makes it observable.
        pool: { threads: 1 },
      },
    });
  });

  after(async () => {
    await s?.stop();
    trap?.close();
  });

  async function accepted(ev: Json, what: string): Promise<void> {
    const r = await postEvents(s.url, ev);
    assert.equal(r.status, 201, `${what}: ${r.text.slice(0, 400)}`);
  }

  async function invalidAs(ev: Json, errorType: string | null, what: string): Promise<Json> {
    const r = await postEvents(s.url, [ev]);
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text.slice(0, 400)}`);
    const entry = eventsBody(r).invalid[0];
    if (errorType) assertInvalidStatus(entry, errorType, ev);
    else assert.equal(entry.status, 'invalid', what);
    return entry;
  }

  describe('URI spellings and joining', () => {
    it('/test/event/1.0.0, test/event/1.0.0 and /test/event/1.0.0.yaml all resolve', async () => {
      for (const uri of ['/test/event/1.0.0', 'test/event/1.0.0', '/test/event/1.0.0.yaml']) {
        await accepted({ ...testEvent({ test: 'spelled' }), $schema: uri }, uri);
      }
    });

    it('a base without a trailing slash joins like one with it', async () => {
      await accepted({ $schema: '/slash/thing/1.0.0', meta: { stream: 'slash.thing' } }, 'base "file:<dir>" + "/slash/thing/1.0.0"');
      await accepted({ $schema: 'slash/thing/1.0.0', meta: { stream: 'slash.thing' } }, 'base "file:<dir>" + "slash/thing/1.0.0"');
    });
  });

  describe('bases are tried in order', () => {
    it('the first base that has the schema wins (the shadow test/event requires `test`)', async () => {
      const ev = testEvent();
      delete ev.test;
      const entry = await invalidAs(ev, 'ValidationError', 'shadow schema from the first base');
      assert.match(entry.context.errorsText, /test/);
    });

    it('a schema only in a later base is found there', async () => {
      await accepted(
        {
          $schema: '/analytics/click/1.0.0',
          meta: { stream: 'analytics.click' },
          dt: '2026-11-22T10:00:00.000Z',
          user_id: 'u-1',
          action: 'tap',
          element: { selector: '#a' },
          page: { url: 'https://example.org/', viewport: { width: 10, height: 10 } },
        },
        'analytics/click from schemas/',
      );
    });
  });

  describe('formats, meta-schemas and drafts', () => {
    it('a JSON-format schema loads with and without the .json extension', async () => {
      await accepted({ $schema: '/json/thing/1.0.0', meta: { stream: 'json.thing' }, n: 1 }, 'no extension');
      await accepted({ $schema: '/json/thing/1.0.0.json', meta: { stream: 'json.thing' }, n: 1 }, '.json');
      await invalidAs({ $schema: '/json/thing/1.0.0', meta: { stream: 'json.thing' }, n: 'x' }, 'ValidationError', 'JSON schema validates');
    });

    it('every spelling of the draft-07 meta-schema URI is the same draft', async () => {
      for (const n of ['a', 'b', 'c']) {
        await accepted({ $schema: `/spell/${n}/1.0.0`, meta: { stream: `spell.${n}` }, n: 3 }, `spell ${n}`);
        await invalidAs({ $schema: `/spell/${n}/1.0.0`, meta: { stream: `spell.${n}` }, n: 'x' }, 'ValidationError', `spell ${n} validates`);
      }
    });

    it('a draft-04 schema is validated with draft-04 semantics (boolean exclusiveMaximum)', async () => {
      await accepted({ $schema: '/draft4/thing/1.0.0', meta: { stream: 'draft4.thing' }, n: 9 }, 'n=9');
      await invalidAs({ $schema: '/draft4/thing/1.0.0', meta: { stream: 'draft4.thing' }, n: 10 }, 'ValidationError', 'n=10 is excluded');
    });

    it('a 2020-12 schema is validated with 2020-12 semantics (prefixItems)', async () => {
      await accepted({ $schema: '/d2020/thing/1.0.0', meta: { stream: 'd2020.thing' }, pair: ['a', 1] }, "['a', 1]");
      await invalidAs({ $schema: '/d2020/thing/1.0.0', meta: { stream: 'd2020.thing' }, pair: ['a', 'b'] }, 'ValidationError', "['a', 'b']");
    });

    it('local $refs and $refs to another schema of the repository resolve', async () => {
      await accepted({ $schema: '/ref/thing/1.0.0', meta: { stream: 'ref.thing' }, part: { name: 'x' }, local: 2 }, 'refs ok');
      await invalidAs({ $schema: '/ref/thing/1.0.0', meta: { stream: 'ref.thing' }, part: {} }, 'ValidationError', 'repository $ref enforced');
      await invalidAs({ $schema: '/ref/thing/1.0.0', meta: { stream: 'ref.thing' }, local: 9 }, 'ValidationError', 'local $ref enforced');
    });
  });

  describe('refused URIs: traversal and absolute URIs are invalid and never fetched', () => {
    for (const uri of [
      '/../package.json',
      '../package.json',
      '/test/../../package.json',
      '/test/event/../../../../../../../etc/passwd',
      '../../../../../../etc/passwd',
      '/%2e%2e/package.json',
      '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/test/%2E%2E/%2E%2E/package.json',
    ]) {
      it(`traversal ${uri} is invalid SchemaUriRefused`, async () => {
        await invalidAs({ $schema: uri, meta: { stream: 'test.event' } }, 'SchemaUriRefused', uri);
      });
    }

    it('odd traversal spellings (backslashes, encoded slashes, NUL) are invalid, not served', async () => {
      for (const uri of ['..\\..\\package.json', '/..%2fpackage.json', '/..%5c..%5cpackage.json', '/test/event/1.0.0\u0000.yaml', '/test/event/1.0.0%00']) {
        await invalidAs({ $schema: uri, meta: { stream: 'test.event' } }, null, JSON.stringify(uri));
      }
    });

    it('absolute URIs to other hosts or files are invalid SchemaUriRefused', async () => {
      for (const uri of ['http://evil.example/x', 'https://evil.example/test/event/1.0.0', 'file:///etc/passwd', 'file:/etc/passwd', `http://127.0.0.1:${trapPort}/test/event/1.0.0`]) {
        await invalidAs({ $schema: uri, meta: { stream: 'test.event' } }, 'SchemaUriRefused', uri);
      }
    });

    it('nothing was fetched from outside the bases', async () => {
      await invalidAs({ $schema: `//127.0.0.1:${trapPort}/test/event/1.0.0`, meta: { stream: 'test.event' } }, null, 'protocol-relative');
      await sleep(100);
      assert.equal(hits, 0, 'the trap HTTP server received no request');
    });
  });

  describe('unknown schemas', () => {
    it('a schema that is in no base is invalid SchemaNotFound', async () => {
      await invalidAs({ $schema: '/no/such/schema/1.0.0', meta: { stream: 'test.event' } }, 'SchemaNotFound', 'unknown title');
      await invalidAs({ $schema: '/test/event/9.9.9', meta: { stream: 'test.event' } }, 'SchemaNotFound', 'unknown version');
      await invalidAs({ $schema: '/test/event', meta: { stream: 'test.event' } }, 'SchemaNotFound', 'a directory, no version');
    });
  });

  describe('schemas that cannot be used make their events invalid', () => {
    it('a schema that fails to compile is invalid SchemaInvalid, naming the schema', async () => {
      const entry = await invalidAs({ $schema: '/broken/thing/1.0.0', meta: { stream: 'broken.thing' } }, 'SchemaInvalid', 'broken');
      assert.match(entry.context.message, /broken\/thing/);
    });

    it('a schema that fails the secure-schema check (pattern without maxLength) is invalid SchemaInvalid', async () => {
      await invalidAs({ $schema: '/insecure/thing/1.0.0', meta: { stream: 'insecure.thing' }, s: 'aaa' }, 'SchemaInvalid', 'insecure');
    });

    it('a schema file that is not valid YAML is invalid, not a server error', async () => {
      await invalidAs({ $schema: '/badyaml/thing/1.0.0', meta: { stream: 'badyaml.thing' } }, null, 'bad YAML');
    });

    it('each unusable schema is logged once at error level, naming it, though it is compiled again after the negative cache', async () => {
      const broken = { $schema: '/broken/thing/1.0.0', meta: { stream: 'broken.thing' } };
      await invalidAs(broken, 'SchemaInvalid', 'broken, again');
      await sleep(NEGATIVE_CACHE_SECONDS * 1000 + 700);
      await invalidAs(broken, 'SchemaInvalid', 'broken, after the negative cache expired');
      await invalidAs({ $schema: '/nowhere/thing/1.0.0', meta: { stream: 'test.event' } }, 'SchemaNotFound', 'a client-side miss');
      // Logged before the answers were written, but read from the process's stdout after them: a second
      // line for broken/thing, if deduplication failed, would come with the answer above, so give it time.
      await waitFor('three schema-unusable lines', 5000, () => s.logs.filter((l) => l.kind === 'schema-unusable').length >= 3);
      await sleep(300);
      const lines = s.logs.filter((l) => l.kind === 'schema-unusable');
      const schemas = lines.map((l) => String(l.schema)).sort();
      assert.deepEqual(schemas, ['badyaml/thing/1.0.0', 'broken/thing/1.0.0', 'insecure/thing/1.0.0']);
      for (const line of lines) assert.equal(line.level, 50, 'pino error level');
      assert.match(String(lines.find((l) => l.schema === 'broken/thing/1.0.0')?.detail), /broken\/thing/);
    });
  });

  describe('negative cache', () => {
    it(`a schema that failed to load stays failed for negative_cache_seconds, then loads`, async () => {
      const ev = { $schema: '/late/thing/1.0.0', meta: { stream: 'late.thing' } };
      await invalidAs(ev, 'SchemaNotFound', 'before the file exists');
      writeYaml(path.join(baseA, 'late/thing/1.0.0.yaml'), thing('late/thing', {}));
      await invalidAs(ev, 'SchemaNotFound', 'cached as not found right after the file appears');
      await sleep(NEGATIVE_CACHE_SECONDS * 1000 + 700);
      await accepted(ev, 'after the negative cache expired');
    });
  });

  it('the server is still serving after all of the above', async () => {
    await accepted(testEvent({ test: 'still here' }), 'final');
  });
});

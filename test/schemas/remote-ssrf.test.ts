/**
 * DESIGN.md §4 and §9, issue 4: a `$schema` can only ever resolve under a configured base. Absolute
 * URIs to other hosts, `..` in any spelling, encoded slashes, userinfo tricks and backslashes are
 * refused as `invalid` and never fetched, and a redirect is not followed. A trap server on a second
 * port counts TCP connections: it must see none; the registry must see no path outside its base.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startSluice, sleep, REPO_ROOT, type Sluice } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { assertInvalidStatus, eventsBody, testEvent } from '../helpers/events';
import { startDocServer, type DocServer } from '../helpers/doc-server';

describe('§4 no server-side request forgery through $schema (http base, allow_absolute_uris: true)', () => {
  let registry: DocServer;
  let trap: DocServer;
  let s: Sluice;
  let base: string;

  before(async () => {
    registry = await startDocServer({ '/registry/': path.join(REPO_ROOT, 'schemas') });
    trap = await startDocServer({ '/': path.join(REPO_ROOT, 'schemas') });
    // Outside the base on the registry's own host: reachable only by escaping /registry/.
    registry.set('/secret/thing/1.0.0', JSON.stringify({ title: 'secret/thing', type: 'object' }));
    base = `${registry.url}/registry/`;
    s = await startSluice({
      config: {
        schemas: { base_uris: [base], allow_absolute_uris: true, negative_cache_seconds: 0, precache: ['/error/1.0.0'] },
        streams: { config: null },
        pool: { threads: 1 },
      },
    });
  });

  after(async () => {
    await s?.stop();
    await registry?.close();
    await trap?.close();
  });

  async function refused(uri: string, errorType: string | null = 'SchemaUriRefused'): Promise<void> {
    const ev = { $schema: uri, meta: { stream: 'test.event' }, test: 'x' };
    const r = await postEvents(s.url, [ev]);
    assert.equal(r.status, 400, `${JSON.stringify(uri)}: ${r.text.slice(0, 300)}`);
    const entry = eventsBody(r).invalid[0];
    if (errorType === null) assert.equal(entry.status, 'invalid', uri);
    else assertInvalidStatus(entry, errorType, ev);
  }

  it('control: an absolute URI under the base is accepted', async () => {
    const r = await postEvents(s.url, { ...testEvent(), $schema: `${base}test/event/1.0.0` });
    assert.equal(r.status, 201, r.text.slice(0, 300));
  });

  it('absolute URIs to another host or port are refused', async () => {
    const t = trap.port;
    for (const uri of [
      `http://127.0.0.1:${t}/test/event/1.0.0`,
      `HTTP://127.0.0.1:${t}/test/event/1.0.0`,
      `//127.0.0.1:${t}/test/event/1.0.0`,
      `http:127.0.0.1:${t}/test/event/1.0.0`,
      `https://127.0.0.1:${t}/test/event/1.0.0`,
      `file:///etc/passwd`,
    ]) {
      await refused(uri);
    }
  });

  it('userinfo tricks are refused', async () => {
    const t = trap.port;
    for (const uri of [
      `${registry.url}@127.0.0.1:${t}/registry/test/event/1.0.0`,
      `http://registry@127.0.0.1:${t}/registry/test/event/1.0.0`,
      `http://127.0.0.1:${registry.port}:x@127.0.0.1:${t}/registry/test/event/1.0.0`,
    ]) {
      await refused(uri);
    }
  });

  it('an @ after the base stays a path segment on the registry, never a host', async () => {
    await refused(`${base}@127.0.0.1:${trap.port}/test/event/1.0.0`, 'SchemaNotFound');
    await refused(`/@127.0.0.1:${trap.port}/test/event/1.0.0`, 'SchemaNotFound');
  });

  it("'..' in any spelling is refused", async () => {
    for (const uri of [
      '/../secret/thing/1.0.0',
      '/test/../../secret/thing/1.0.0',
      '/%2e%2e/secret/thing/1.0.0',
      '/%2E%2E/secret/thing/1.0.0',
      '/.%2e/secret/thing/1.0.0',
      `${base}../secret/thing/1.0.0`,
      `${base}%2e%2e/secret/thing/1.0.0`,
    ]) {
      await refused(uri);
    }
  });

  it('encoded slashes, double encoding, backslashes and control characters are refused', async () => {
    for (const uri of [
      '/..%2fsecret/thing/1.0.0',
      '/..%2Fsecret%2Fthing%2F1.0.0',
      '/..%5csecret/thing/1.0.0',
      '/%252e%252e/secret/thing/1.0.0',
      '/test\\..\\..\\secret\\thing\\1.0.0',
      '\\\\127.0.0.1\\secret',
      '/test/event/1.0.0%00',
      '/te\tst/../../secret/thing/1.0.0',
      '/te%0ast/event/1.0.0',
    ]) {
      await refused(uri, null);
    }
  });

  it('a redirect from the registry is not followed: the event is error SchemaUnavailable', async () => {
    const ev = { $schema: '/redirected/thing/1.0.0', meta: { stream: 'test.event' } };
    const r = await registry.during({ redirect: `${trap.url}/test/event/1.0.0` }, () => postEvents(s.url, [ev]));
    assert.equal(r.status, 500, r.text.slice(0, 300));
    assert.equal(eventsBody(r).error[0].context.error_type, 'SchemaUnavailable');
    assert.match(eventsBody(r).error[0].context.message, /HTTP 302/);
  });

  it('nothing was fetched outside the base: no connection to the trap, no registry path outside /registry/', async () => {
    await sleep(100);
    assert.equal(trap.connections(), 0, 'the trap server accepted no TCP connection');
    assert.equal(trap.requests(), 0);
    const outside = registry.paths().filter((p) => !p.startsWith('/registry/'));
    assert.deepEqual(outside, [], 'every registry request was under the base');
    assert.equal(registry.requests('/secret/thing/1.0.0'), 0);
  });
});

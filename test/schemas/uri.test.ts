/**
 * DESIGN.md §4 URI resolution, the pure part: which `$schema` spellings resolve to which path under
 * the bases, which are refused, and how a path is joined under an http(s) base.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { joinUnderBase, resolveSchemaUri, type UriPolicy } from '../../src/schemas/uri';

const BASE = 'https://registry.example/repositories/primary/jsonschema/';
const policy: UriPolicy = { baseUris: ['file:schemas/', BASE], allowAbsoluteUris: true };

function path(uri: string): string {
  const r = resolveSchemaUri(uri, policy);
  assert.ok(r.ok, `${uri} resolves: ${r.ok ? '' : r.reason}`);
  return r.path;
}

function refused(uri: string, reason: RegExp): void {
  const r = resolveSchemaUri(uri, policy);
  assert.ok(!r.ok, `${uri} must be refused, resolved to ${r.ok ? r.path : ''}`);
  assert.match(r.reason, reason, uri);
}

describe('§4 resolveSchemaUri', () => {
  it('relative spellings normalise to one path; query and fragment are dropped', () => {
    for (const uri of ['/test/event/1.0.0', 'test/event/1.0.0', '/test//event/./1.0.0', '/test/event/1.0.0#x', '/test/event/1.0.0?v=1']) {
      assert.equal(path(uri), 'test/event/1.0.0', uri);
    }
  });

  it('an absolute URI under a base resolves to the rest of it', () => {
    assert.equal(path(`${BASE}test/event/1.0.0`), 'test/event/1.0.0');
  });

  it('absolute URIs elsewhere, and userinfo tricks, are refused', () => {
    for (const uri of ['https://evil.example/test/event/1.0.0', '//evil.example/x', 'https://registry.example@evil.example/repositories/primary/jsonschema/x', 'https://registry.example/repositories/primary/jsonschemaX/x']) {
      refused(uri, /not under a configured base/);
    }
    assert.equal(resolveSchemaUri(`${BASE}x/1.0.0`, { ...policy, allowAbsoluteUris: false }).ok, false);
  });

  it("'..' in any spelling, encoded slashes, backslashes and control characters are refused", () => {
    refused('/../x/1.0.0', /'\.\.'/);
    refused('/%2e%2e/x/1.0.0', /'\.\.'/);
    refused('/.%2E/x/1.0.0', /'\.\.'/);
    refused(`${BASE}../x`, /'\.\.'/);
    refused('/..%2fx', /encoded slashes/);
    refused('/a%5Cb', /encoded slashes/);
    refused('/a\\b', /forbidden characters/);
    refused('/a%00b', /forbidden characters/);
    refused('/a\tb', /forbidden characters/);
    refused('/%252e%252e/x', /forbidden characters/);
    refused('/%zz', /malformed/);
    refused('/', /empty/);
  });
});

describe('§4 joinUnderBase', () => {
  const base = new URL(BASE);

  it('joins each segment percent-encoded under the base path', () => {
    assert.equal(joinUnderBase(base, 'test/event/1.0.0')?.href, `${BASE}test/event/1.0.0`);
    assert.equal(joinUnderBase(base, '@evil.example:80/x')?.href, `${BASE}%40evil.example%3A80/x`);
    assert.equal(joinUnderBase(base, 'a?b#c')?.href, `${BASE}a%3Fb%23c`);
  });

  it('refuses whatever would leave the base after URL normalisation', () => {
    assert.equal(joinUnderBase(base, '../x'), null);
    assert.equal(joinUnderBase(base, '..'), null);
  });
});

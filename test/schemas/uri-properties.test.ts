/**
 * Property tests of the only gate between a client's `$schema` and the schema repository
 * (DESIGN.md §4): whatever the spelling, a resolved path has no way out of its base.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { joinUnderBase, resolveSchemaUri } from '../../src/schemas/uri';

const policy = { baseUris: ['file:schemas/', 'https://schema.example.org/repo/'], allowAbsoluteUris: true };
/** Pieces that attack path resolution, mixed with harmless ones. */
const piece = fc.constantFrom('..', '.', '%2e', '%2E%2e', '%2f', '%5c', '\\', '/', '//', 'a', 'test', 'event', '1.0.0', '@', 'evil.example', 'http://', 'https://schema.example.org/repo/', 'file:', '%00', '?', '#', '%', ':');

function assertContained(path: string): void {
  const segments = path.split('/');
  assert.ok(!segments.includes('..') && !segments.includes('.') && !segments.includes(''), `segments of ${JSON.stringify(path)}`);
  assert.ok(!/[\\\0%?#]/.test(path), `no escape characters in ${JSON.stringify(path)}`);
}

describe('§4 schema URI resolution: properties', () => {
  it('never throws, and a resolved path is relative with no dot segments, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (uri) => {
        const r = resolveSchemaUri(uri, policy);
        if (r.ok) assertContained(r.path);
      }),
      { numRuns: 5000 },
    );
  });

  it('adversarial compositions of traversal pieces never resolve outside the base', () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
        const r = resolveSchemaUri(pieces.join(''), policy);
        if (r.ok) assertContained(r.path);
      }),
      { numRuns: 5000 },
    );
  });

  it('an http(s) join of any resolved path stays under the base URL', () => {
    const base = new URL('https://schema.example.org/repo/');
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
        const r = resolveSchemaUri(pieces.join(''), policy);
        if (!r.ok) return;
        const url = joinUnderBase(base, r.path);
        if (url === null) return;
        assert.equal(url.origin, base.origin);
        assert.ok(url.pathname.startsWith(base.pathname), url.href);
        assert.equal(url.username + url.password, '');
      }),
      { numRuns: 3000 },
    );
  });

  it('plain versioned URIs resolve to their path, with or without the leading slash', () => {
    const segment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.nat(99), (parts, minor) => {
        const path = [...parts, `1.${minor}.0`].join('/');
        for (const uri of [`/${path}`, path]) {
          const r = resolveSchemaUri(uri, policy);
          assert.ok(r.ok && r.path === path, `${uri} → ${JSON.stringify(r)}`);
        }
      }),
    );
  });
});

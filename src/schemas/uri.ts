/**
 * Turns an event's `$schema` URI into a path relative to the configured bases, or refuses it.
 * This is the gate between client input and the schema repository: nothing outside a base can be
 * named, whatever the spelling (`..`, `%2e%2e`, encoded slashes, backslashes, absolute URIs to other
 * places). For http(s) bases, joinUnderBase checks the final URL once more.
 */

export type UriResolution =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export interface UriPolicy {
  readonly baseUris: readonly string[];
  readonly allowAbsoluteUris: boolean;
}

/**
 * Resolves `uri` to a normalised relative path such as `test/event/1.0.0` (no leading slash,
 * fragment and query dropped). Absolute URIs are accepted only when `allowAbsoluteUris` is set and
 * they start with one of the bases; the rest after the base is then treated like a relative URI.
 */
export function resolveSchemaUri(uri: string, policy: UriPolicy): UriResolution {
  let relative = uri;
  if (SCHEME.test(uri) || uri.startsWith('//')) {
    if (!policy.allowAbsoluteUris) return refuse(uri, 'absolute schema URIs are not allowed');
    const base = policy.baseUris.find((b) => uri.startsWith(withTrailingSlash(b)));
    if (!base) return refuse(uri, 'absolute schema URI is not under a configured base');
    relative = uri.slice(withTrailingSlash(base).length);
  }
  return normaliseRelative(uri, relative);
}

function normaliseRelative(original: string, relative: string): UriResolution {
  const cut = relative.search(/[?#]/);
  const raw = cut === -1 ? relative : relative.slice(0, cut);
  // An encoded separator can only be an attempt to smuggle one past a naive join.
  if (/%(2f|5c)/i.test(raw)) return refuse(original, 'encoded slashes are not allowed');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return refuse(original, 'malformed percent-encoding');
  }
  if (/[\\\x00-\x1f\x7f%]/.test(decoded)) return refuse(original, 'forbidden characters');
  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return refuse(original, "'..' segments are not allowed");
    segments.push(segment);
  }
  if (segments.length === 0) return refuse(original, 'empty path');
  return { ok: true, path: segments.join('/') };
}

function refuse(uri: string, why: string): UriResolution {
  return { ok: false, reason: `schema URI ${JSON.stringify(uri.slice(0, 200))} refused: ${why}` };
}

export function withTrailingSlash(base: string): string {
  return base.endsWith('/') ? base : base + '/';
}

/**
 * Joins a resolved path under an http(s) base, each segment percent-encoded, and checks the URL
 * as the HTTP client will see it (after WHATWG normalisation): same origin, under the base path, no
 * userinfo, query or fragment. Null when the result would leave the base.
 */
export function joinUnderBase(base: URL, relativePath: string): URL | null {
  const url = new URL(relativePath.split('/').map(encodeURIComponent).join('/'), base);
  const inside =
    url.origin === base.origin && url.pathname.startsWith(base.pathname) && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  return inside ? url : null;
}

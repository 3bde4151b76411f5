import type { Config } from '../config/types';
import { httpGetText, isHttpUri } from '../documents/http-get';
import { ConcurrencyLimit } from './concurrency-limit';
import { NegativeCache } from './negative-cache';
import { ABSENT, type SchemaSource, type SourceResult } from './source';
import { joinUnderBase, withTrailingSlash } from './uri';

export interface HttpSourceOptions {
  /** Bound on one schema read: waiting for a fetch slot, every candidate URL, and the bodies. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly negativeCacheSeconds: number;
  readonly fileExtension: string;
}

/**
 * An http(s) base, such as a schema registry serving `<base>/<title>/<version>` (and often the same
 * with an extension). Found schemas are kept forever (their URIs are versioned, the text never
 * changes); 404s are remembered for negative_cache_seconds; failures (5xx, timeouts) are not kept, so
 * the next event retries. Concurrent reads of one key share one fetch.
 */
export class HttpSchemaSource implements SchemaSource {
  private readonly base: URL;
  private readonly found = new Map<string, SourceResult>();
  private readonly absent: NegativeCache<true>;
  private readonly inflight = new Map<string, Promise<SourceResult>>();

  constructor(
    readonly uri: string,
    private readonly options: HttpSourceOptions,
    private readonly limit: ConcurrencyLimit,
  ) {
    this.base = parseBase(uri);
    this.absent = new NegativeCache(options.negativeCacheSeconds * 1000);
  }

  read(key: string): Promise<SourceResult> {
    const known = this.found.get(key) ?? (this.absent.get(key) ? ABSENT : undefined);
    if (known) return Promise.resolve(known);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string): Promise<SourceResult> {
    const url = joinUnderBase(this.base, key);
    if (url === null) return { kind: 'refused', reason: `${key} resolves outside ${this.uri}` };
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    // Registries serve the bare path; plain web servers need the file's extension.
    for (const candidate of [url.href, url.href + this.options.fileExtension]) {
      const result = await this.limit.run(() => httpGetText(candidate, { signal, maxBytes: this.options.maxBytes }));
      if (result.kind === 'absent') continue;
      if (result.kind === 'found') this.found.set(key, result);
      return result;
    }
    this.absent.set(key, true);
    return ABSENT;
  }
}

/** One source per http(s) base of the config, all sharing one concurrency limit. */
export function openHttpBases(schemas: Config['schemas']): Map<string, HttpSchemaSource> {
  const limit = new ConcurrencyLimit(schemas.http_concurrency);
  const options: HttpSourceOptions = {
    timeoutMs: schemas.http_timeout_ms,
    maxBytes: schemas.http_max_bytes,
    negativeCacheSeconds: schemas.negative_cache_seconds,
    fileExtension: schemas.file_extension,
  };
  return new Map(schemas.base_uris.filter(isHttpUri).map((uri) => [uri, new HttpSchemaSource(uri, options, limit)]));
}

function parseBase(uri: string): URL {
  const base = new URL(withTrailingSlash(uri));
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new Error(`schema base ${uri}: credentials, query and fragment are not supported`);
  }
  return base;
}

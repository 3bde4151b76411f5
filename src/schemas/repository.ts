import type { Config } from '../config/types';
import { parseJsonOrYaml } from '../documents/parse';
import { EventKinds, type EventKind } from '../outcomes';
import { FileSchemaSource, isFileUri } from './file-source';
import { NegativeCache } from './negative-cache';
import type { SchemaSource, SourceResult } from './source';
import { resolveSchemaUri, type UriPolicy } from './uri';

export type SchemaDocument = Record<string, unknown>;

export type SchemaLoad =
  | { readonly ok: true; readonly key: string; readonly document: SchemaDocument }
  | { readonly ok: false; readonly kind: EventKind; readonly message: string };

export interface RepositoryOptions extends UriPolicy {
  readonly fileExtension: string;
  readonly negativeCacheSeconds: number;
  /** Directory that relative `file:` bases resolve against. */
  readonly cwd: string;
  /** The source of each http(s) base: read directly, or relayed to the main thread (workers). */
  readonly httpSources: ReadonlyMap<string, SchemaSource>;
}

const KNOWN_EXTENSIONS = ['.yaml', '.yml', '.json'];

export function repositoryOptions(schemas: Config['schemas'], cwd: string, httpSources: ReadonlyMap<string, SchemaSource>): RepositoryOptions {
  return {
    baseUris: schemas.base_uris,
    allowAbsoluteUris: schemas.allow_absolute_uris,
    fileExtension: schemas.file_extension,
    negativeCacheSeconds: schemas.negative_cache_seconds,
    cwd,
    httpSources,
  };
}

/**
 * Loads schema documents by `$schema` URI from the configured bases, tried in order: a base that does
 * not have the schema passes to the next; one that cannot be reached ends the search with a retryable
 * SchemaUnavailable, since a later base might hold an older or different schema under the same name.
 * Definitive failures are remembered for `negativeCacheSeconds`; successful loads are not cached here
 * (callers compile once and keep the validator; http sources keep the text).
 */
export class SchemaRepository {
  private readonly sources: SchemaSource[];
  private readonly misses: NegativeCache<SchemaLoad>;

  constructor(private readonly options: RepositoryOptions) {
    const extensions = [options.fileExtension, ...KNOWN_EXTENSIONS.filter((e) => e !== options.fileExtension)];
    this.sources = options.baseUris.map((uri) => (isFileUri(uri) ? new FileSchemaSource(uri, options.cwd, extensions) : httpSource(options, uri)));
    this.misses = new NegativeCache(options.negativeCacheSeconds * 1000);
  }

  /** The key under which a URI's schema is cached, or the refusal. */
  resolve(uri: string): { ok: true; key: string } | { ok: false; kind: EventKind; message: string } {
    const resolved = resolveSchemaUri(uri, this.options);
    if (!resolved.ok) return { ok: false, kind: EventKinds.SchemaUriRefused, message: resolved.reason };
    return { ok: true, key: stripKnownExtension(resolved.path) };
  }

  async load(uri: string): Promise<SchemaLoad> {
    const resolved = this.resolve(uri);
    if (!resolved.ok) return resolved;
    return this.loadKey(resolved.key, uri);
  }

  async loadKey(key: string, uri: string = key): Promise<SchemaLoad> {
    const cached = this.misses.get(key);
    if (cached) return cached;
    for (const source of this.sources) {
      const read = await source.read(key);
      if (read.kind !== 'absent') return this.outcome(key, uri, source, read);
    }
    return this.remember(key, EventKinds.SchemaNotFound, `schema ${uri} not found under ${this.options.baseUris.join(', ')}`);
  }

  private outcome(key: string, uri: string, source: SchemaSource, read: Exclude<SourceResult, { kind: 'absent' }>): SchemaLoad {
    switch (read.kind) {
      case 'found':
        return this.parse(key, uri, read.text, read.location);
      case 'unavailable':
        return { ok: false, kind: EventKinds.SchemaUnavailable, message: `schema ${uri}: repository ${source.uri} unavailable (${read.reason})` };
      case 'refused':
        return this.remember(key, EventKinds.SchemaUriRefused, `schema URI ${uri} refused: ${read.reason}`);
      case 'too-large':
        return this.remember(key, EventKinds.SchemaInvalid, `schema ${uri} cannot be used: ${read.reason} (schemas.http_max_bytes)`);
    }
  }

  private parse(key: string, uri: string, text: string, location: string): SchemaLoad {
    let document: unknown;
    try {
      document = parseJsonOrYaml(text);
    } catch (err) {
      return this.remember(key, EventKinds.SchemaInvalid, `schema ${uri} (${location}) cannot be parsed: ${(err as Error).message}`);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      return this.remember(key, EventKinds.SchemaInvalid, `schema ${uri} (${location}) cannot be parsed: not a JSON Schema object`);
    }
    return { ok: true, key, document: document as SchemaDocument };
  }

  private remember(key: string, kind: EventKind, message: string): SchemaLoad {
    const load: SchemaLoad = { ok: false, kind, message };
    this.misses.set(key, load);
    return load;
  }
}

function httpSource(options: RepositoryOptions, uri: string): SchemaSource {
  const source = options.httpSources.get(uri);
  if (!source) throw new Error(`schema base ${uri}: only file: and http(s): bases are supported`);
  return source;
}

function stripKnownExtension(p: string): string {
  const ext = KNOWN_EXTENSIONS.find((e) => p.endsWith(e));
  return ext ? p.slice(0, -ext.length) : p;
}

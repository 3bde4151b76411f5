import { SchemaCompiler, type CompiledSchema, type SchemaFailure } from '../src/schemas/compiler';
import { NegativeCache } from '../src/schemas/negative-cache';
import type { SchemaRepository } from '../src/schemas/repository';
import type { SchemaCacheStats } from '../src/batching/wire';
import { EventKinds } from '../src/outcomes';

export type SchemaEntry = CompiledSchema | SchemaFailure;

const MAX_URI_MEMO = 10_000;

/**
 * This worker's compiled validators, keyed by the normalised schema path, so `/a/1.0.0`,
 * `a/1.0.0` and `/a/1.0.0.yaml` share one compilation. Lookups on the hot path are synchronous:
 * `prepare()` loads and compiles everything a task needs before its events are processed.
 */
export class SchemaCache {
  private readonly compiled = new Map<string, CompiledSchema>();
  private readonly failures: NegativeCache<SchemaFailure>;
  private readonly keyOfUri = new Map<string, string | SchemaFailure>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly compiler: SchemaCompiler;
  private stats = emptyStats();

  constructor(
    private readonly repository: SchemaRepository,
    allowInsecure: boolean,
    negativeCacheMs: number,
  ) {
    this.compiler = new SchemaCompiler(repository, allowInsecure);
    this.failures = new NegativeCache(negativeCacheMs);
  }

  /** The entry for a URI already prepared; undefined if prepare() was not awaited for it. */
  get(uri: string): SchemaEntry | undefined {
    const key = this.keyOfUri.get(uri);
    if (key === undefined) return undefined;
    if (typeof key !== 'string') return key;
    return this.compiled.get(key) ?? this.failures.get(key);
  }

  /** Loads what is missing. A retryable failure (repository unreachable) is kept only until the next prepare. */
  async prepare(uris: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    const missed: string[] = [];
    for (const uri of uris) {
      const known = this.get(uri);
      if (known !== undefined && !isRetryable(known)) {
        this.stats[known.ok ? 'hit' : 'negative']++;
        continue;
      }
      const key = this.keyFor(uri);
      if (typeof key !== 'string') {
        this.stats.negative++;
        continue;
      }
      missed.push(uri);
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = this.loadAndCompile(key, uri).finally(() => this.inflight.delete(key));
        this.inflight.set(key, pending);
      }
      waits.push(pending);
    }
    await Promise.all(waits);
    for (const uri of missed) this.stats[isRetryable(this.get(uri)) ? 'error' : 'miss']++;
  }

  /** The counts since the previous call, for the task result (src/batching/wire.ts). */
  takeStats(): SchemaCacheStats {
    const stats = this.stats;
    this.stats = emptyStats();
    return stats;
  }

  private keyFor(uri: string): string | SchemaFailure {
    let key = this.keyOfUri.get(uri);
    if (key === undefined) {
      const resolved = this.repository.resolve(uri);
      key = resolved.ok ? resolved.key : { ok: false, kind: resolved.kind, message: resolved.message };
      if (this.keyOfUri.size >= MAX_URI_MEMO) this.keyOfUri.clear();
      this.keyOfUri.set(uri, key);
    }
    return key;
  }

  private async loadAndCompile(key: string, uri: string): Promise<void> {
    const started = performance.now();
    const load = await this.repository.loadKey(key, uri);
    const entry = load.ok ? await this.compiler.compile(key, load.document) : { ok: false as const, kind: load.kind, message: load.message };
    this.stats.loadSeconds.push((performance.now() - started) / 1000);
    if (entry.ok) this.compiled.set(key, entry);
    else {
      this.failures.set(key, entry);
      if (entry.kind === EventKinds.SchemaInvalid) this.stats.unusable.push({ key, message: entry.message });
    }
  }
}

function isRetryable(entry: SchemaEntry | undefined): boolean {
  return entry !== undefined && !entry.ok && entry.kind.group === 'error';
}

function emptyStats(): SchemaCacheStats {
  return { hit: 0, negative: 0, miss: 0, error: 0, loadSeconds: [], unusable: [] };
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EventKinds, type EventKind } from '../outcomes';
import { resolveSchemaUri, withTrailingSlash, type UriPolicy } from './uri';

export type SchemaDocument = Record<string, unknown>;

export type SchemaLoad =
  | { readonly ok: true; readonly key: string; readonly document: SchemaDocument }
  | { readonly ok: false; readonly kind: EventKind; readonly message: string };

export interface RepositoryOptions extends UriPolicy {
  readonly fileExtension: string;
  readonly negativeCacheSeconds: number;
  /** Directory that relative `file:` bases resolve against. */
  readonly cwd: string;
}

const KNOWN_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** A base the repository can read from. Only `file:` exists today; `http(s):` comes with remote schemas. */
interface FileBase {
  readonly uri: string;
  readonly dir: string;
}

/**
 * Loads schema documents by `$schema` URI from the configured bases, tried in order. Misses are
 * remembered for `negativeCacheSeconds` so a flood of unknown URIs does not hit the disk each time.
 * Successful loads are not cached here: callers compile once and keep the validator.
 */
export class SchemaRepository {
  private readonly bases: FileBase[];
  private readonly misses = new Map<string, { expires: number; load: SchemaLoad }>();

  constructor(private readonly options: RepositoryOptions) {
    this.bases = options.baseUris.map((uri) => toFileBase(uri, options.cwd));
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
    if (cached && cached.expires > Date.now()) return cached.load;
    for (const base of this.bases) {
      for (const candidate of this.candidates(base, key)) {
        const found = await readCandidate(candidate);
        if (found === undefined) continue;
        if (found instanceof Error) return this.remember(key, EventKinds.SchemaInvalid, `schema ${uri} (${candidate}) cannot be parsed: ${found.message}`);
        return { ok: true, key, document: found };
      }
    }
    return this.remember(key, EventKinds.SchemaNotFound, `schema ${uri} not found under ${this.options.baseUris.join(', ')}`);
  }

  private candidates(base: FileBase, key: string): string[] {
    const file = path.resolve(base.dir, key);
    // Defence in depth: resolveSchemaUri already refuses '..', this makes escaping impossible.
    if (!file.startsWith(base.dir)) return [];
    const exts = [this.options.fileExtension, ...KNOWN_EXTENSIONS.filter((e) => e !== this.options.fileExtension)];
    return exts.map((ext) => file + ext);
  }

  private remember(key: string, kind: EventKind, message: string): SchemaLoad {
    const load: SchemaLoad = { ok: false, kind, message };
    if (this.options.negativeCacheSeconds > 0) this.misses.set(key, { expires: Date.now() + this.options.negativeCacheSeconds * 1000, load });
    return load;
  }
}

function stripKnownExtension(p: string): string {
  const ext = KNOWN_EXTENSIONS.find((e) => p.endsWith(e));
  return ext ? p.slice(0, -ext.length) : p;
}

export function toFileBase(uri: string, cwd: string): FileBase {
  if (!uri.startsWith('file:')) throw new Error(`schema base ${uri}: only file: bases are supported`);
  const dir = uri.startsWith('file://') ? fileURLToPath(uri) : path.resolve(cwd, uri.slice('file:'.length));
  return { uri, dir: withTrailingSlash(dir) };
}

/** The document, `undefined` when there is no such file, or the parse error. */
async function readCandidate(file: string): Promise<SchemaDocument | Error | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    return err as Error;
  }
  try {
    const doc: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return new Error('not a JSON Schema object');
    return doc as SchemaDocument;
  } catch (err) {
    return err as Error;
  }
}

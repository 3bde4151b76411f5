import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABSENT, type SchemaSource, type SourceResult } from './source';
import { withTrailingSlash } from './uri';

/** A `file:` base: `<dir>/<key><extension>`, extensions tried in order. */
export class FileSchemaSource implements SchemaSource {
  private readonly dir: string;

  constructor(
    readonly uri: string,
    cwd: string,
    private readonly extensions: readonly string[],
  ) {
    this.dir = fileBaseDir(uri, cwd);
  }

  async read(key: string): Promise<SourceResult> {
    const file = path.resolve(this.dir, key);
    // Defence in depth: resolveSchemaUri already refuses '..', this makes escaping impossible.
    if (!file.startsWith(this.dir)) return { kind: 'refused', reason: `${key} resolves outside ${this.uri}` };
    for (const extension of this.extensions) {
      const candidate = file + extension;
      try {
        return { kind: 'found', text: await readFile(candidate, 'utf8'), location: candidate };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
        return { kind: 'unavailable', reason: `${candidate}: ${code ?? (err as Error).message}` };
      }
    }
    return ABSENT;
  }
}

export function isFileUri(uri: string): boolean {
  return uri.startsWith('file:');
}

/** The directory of a `file:` base, with a trailing separator; relative bases resolve against `cwd`. */
export function fileBaseDir(uri: string, cwd: string): string {
  if (!isFileUri(uri)) throw new Error(`schema base ${uri} is not a file: base`);
  const dir = uri.startsWith('file://') ? fileURLToPath(uri) : path.resolve(cwd, uri.slice('file:'.length));
  return withTrailingSlash(dir);
}

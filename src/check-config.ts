import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config/types';
import { SchemaCompiler } from './schemas/compiler';
import { fileBaseDir, isFileUri } from './schemas/file-source';
import { openHttpBases } from './schemas/http-source';
import { SchemaRepository, repositoryOptions } from './schemas/repository';
import { loadStreamConfig, streamConfigLocation } from './streams/source';

const SCHEMA_FILE = /\.(ya?ml|json)$/;

export interface CheckReport {
  readonly checked: number;
  readonly failures: string[];
}

/**
 * `sluice check-config`: the config was validated by loading it; this also reads the stream config
 * (and its fallback) and compiles every schema under the file bases with the production compiler
 * settings, so a schema that would make its events invalid never ships.
 */
export async function checkConfig(config: Config, cwd: string): Promise<CheckReport> {
  const failures: string[] = [];
  for (const which of ['config', 'fallback'] as const) {
    const location = streamConfigLocation(config.streams, which, cwd);
    if (location !== null) await loadStreamConfig(location).catch((err: Error) => failures.push(err.message));
  }
  const repository = new SchemaRepository({ ...repositoryOptions(config.schemas, cwd, openHttpBases(config.schemas)), negativeCacheSeconds: 0 });
  let checked = 0;
  for (const base of config.schemas.base_uris.filter(isFileUri)) {
    const dir = fileBaseDir(base, cwd);
    for (const file of listSchemaFiles(dir)) {
      checked++;
      const key = path.relative(dir, file).split(path.sep).join('/');
      // A fresh compiler per schema: one broken schema must not hide behind another's $id.
      const compiler = new SchemaCompiler(repository, config.schemas.allow_insecure);
      const load = await repository.loadKey(key.replace(SCHEMA_FILE, ''), key);
      const result = load.ok ? await compiler.compile(load.key, load.document) : load;
      if (!result.ok) failures.push(`${file}: ${result.message}`);
      else if (load.ok && load.document.title !== undefined && !key.startsWith(`${String(load.document.title)}/`)) {
        failures.push(`${file}: title ${String(load.document.title)} does not match its path`);
      }
    }
  }
  return { checked, failures };
}

function listSchemaFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listSchemaFiles(full);
    return SCHEMA_FILE.test(entry.name) ? [full] : [];
  });
}

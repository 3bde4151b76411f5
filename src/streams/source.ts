import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/types';
import { httpGetText, isHttpUri } from '../documents/http-get';
import { parseJsonOrYaml } from '../documents/parse';
import { StreamConfigError, checkStreamConfig, type StreamConfigDocument } from './stream-config';

export interface StreamConfigLocation {
  /** `file:<path>` (relative to `cwd`) or an http(s) URL. */
  readonly location: string;
  /** Dotted path of the stream map inside the document (an API's response wrapper), or null. */
  readonly path: string | null;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** `streams.config` is read at `streams.config_path`; the fallback is a plain stream map like config/streams.yaml. */
export function streamConfigLocation(streams: Config['streams'], which: 'config' | 'fallback', cwd: string): StreamConfigLocation | null {
  const location = streams[which];
  if (location === null) return null;
  const path = which === 'config' ? streams.config_path : null;
  return { location, path, cwd, timeoutMs: streams.http_timeout_ms, maxBytes: streams.http_max_bytes };
}

/** Reads, parses (JSON or YAML) and checks a stream-config document; throws StreamConfigError. */
export async function loadStreamConfig(source: StreamConfigLocation): Promise<StreamConfigDocument> {
  const text = await readText(source);
  let doc: unknown;
  try {
    doc = parseJsonOrYaml(text);
  } catch (err) {
    throw new StreamConfigError(`stream config ${source.location}: ${(err as Error).message}`);
  }
  return checkStreamConfig(select(doc ?? {}, source), source.location);
}

async function readText(source: StreamConfigLocation): Promise<string> {
  const { location } = source;
  if (isHttpUri(location)) {
    const got = await httpGetText(location, { signal: AbortSignal.timeout(source.timeoutMs), maxBytes: source.maxBytes });
    if (got.kind === 'found') return got.text;
    // The reasons name the URL already.
    throw new StreamConfigError(`stream config ${got.kind === 'absent' ? `${location}: not found` : got.reason}`);
  }
  if (!location.startsWith('file:')) throw new StreamConfigError(`stream config ${location}: only file: and http(s): locations are supported`);
  const file = path.resolve(source.cwd, location.slice('file:'.length));
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new StreamConfigError(`stream config ${file}: ${(err as Error).message}`);
  }
}

function select(doc: unknown, source: StreamConfigLocation): unknown {
  if (source.path === null) return doc;
  let node = doc;
  for (const segment of source.path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, segment)) {
      throw new StreamConfigError(`stream config ${source.location}: no ${source.path} in the document (streams.config_path)`);
    }
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

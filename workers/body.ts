import { gunzipSync, inflateSync } from 'node:zlib';
import { FLAG_DEFLATE, FLAG_GZIP, type RequestProblem, type Task } from '../src/batching/wire';

export type DecodedBody =
  | { readonly ok: true; readonly events: unknown[] }
  | { readonly ok: false; readonly problem: RequestProblem; readonly detail: string };

// fatal: invalid UTF-8 is a client error (400), not something to replace silently with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Inflates, decodes and parses request `r` of a task into its list of events. */
export function decodeBody(task: Task, r: number, maxBodyBytes: number): DecodedBody {
  const start = task.bounds[r * 2]!;
  const end = task.bounds[r * 2 + 1]!;
  let bytes: Uint8Array = new Uint8Array(task.bodies, start, end - start);
  const flags = task.flags[r]!;
  if (flags & (FLAG_GZIP | FLAG_DEFLATE)) {
    try {
      // maxOutputLength stops a gzip bomb at the body limit instead of exhausting memory.
      bytes = flags & FLAG_GZIP ? gunzipSync(bytes, { maxOutputLength: maxBodyBytes }) : inflateSync(bytes, { maxOutputLength: maxBodyBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, problem: 'PayloadTooLarge', detail: `inflated body is larger than limits.max_body_bytes (${maxBodyBytes} bytes)` };
      }
      return { ok: false, problem: 'MalformedBody', detail: `body cannot be inflated: ${(err as Error).message}` };
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'MalformedBody', detail: 'body is not valid UTF-8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') return { ok: false, problem: 'EmptyBody', detail: 'body is empty' };
    return { ok: false, problem: 'MalformedBody', detail: `body is not valid JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { ok: false, problem: 'EmptyBody', detail: 'body is an empty array' };
    return { ok: true, events: parsed };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { ok: false, problem: 'MalformedBody', detail: `body must be an event object or an array of event objects, not ${parsed === null ? 'null' : typeof parsed}` };
  }
  if (Object.keys(parsed).length === 0) return { ok: false, problem: 'EmptyBody', detail: 'body is an empty object' };
  return { ok: true, events: [parsed] };
}

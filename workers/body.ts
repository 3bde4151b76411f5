import { isUtf8 } from 'node:buffer';
import { gunzipSync, inflateSync } from 'node:zlib';
import { FLAG_DEFLATE, FLAG_GZIP, type RequestProblem, type Task } from '../src/batching/wire';

export type DecodedBody =
  /** `text`: the decoded JSON; `isArray`: whether the events came as an array (else one object). */
  | { readonly ok: true; readonly events: unknown[]; readonly text: string; readonly isArray: boolean }
  | { readonly ok: false; readonly problem: RequestProblem; readonly detail: string };

/** Inflates, decodes and parses request `r` of a task into its list of events. */
export function decodeBody(task: Task, r: number, maxBodyBytes: number): DecodedBody {
  return decodeBytes(task.body(r), task.flags(r), maxBodyBytes);
}

/** Inflates (per FLAG_* bits), decodes and parses one request body into its list of events. */
export function decodeBytes(body: Uint8Array, flags: number, maxBodyBytes: number): DecodedBody {
  let bytes = body;
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
  // Invalid UTF-8 is a client error (400), not something to replace silently with U+FFFD.
  if (!isUtf8(bytes)) return { ok: false, problem: 'MalformedBody', detail: 'body is not valid UTF-8' };
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is allowed, not JSON
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') return { ok: false, problem: 'EmptyBody', detail: 'body is empty' };
    return { ok: false, problem: 'MalformedBody', detail: `body is not valid JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { ok: false, problem: 'EmptyBody', detail: 'body is an empty array' };
    return { ok: true, events: parsed, text, isArray: true };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { ok: false, problem: 'MalformedBody', detail: `body must be an event object or an array of event objects, not ${parsed === null ? 'null' : typeof parsed}` };
  }
  if (isEmptyObject(parsed)) return { ok: false, problem: 'EmptyBody', detail: 'body is an empty object' };
  return { ok: true, events: [parsed], text, isArray: false };
}

/** Without Object.keys: that would build an array of every key of every event just to count them. */
function isEmptyObject(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

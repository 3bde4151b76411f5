/**
 * A bounded HTTP GET of a text document (a schema, a stream config). The caller's signal is the
 * deadline for connecting and reading the whole body, the body is cut off past `maxBytes`, and
 * redirects are not followed: a redirect could lead outside the base the URL was checked against.
 * The answer's Content-Type is not consulted; callers parse by content.
 */

export type FetchedText =
  | { readonly kind: 'found'; readonly text: string; readonly location: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'too-large'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface HttpGetLimits {
  readonly signal: AbortSignal;
  readonly maxBytes: number;
}

const ACCEPT = 'application/json, application/yaml;q=0.9, */*;q=0.5';

export function isHttpUri(uri: string): boolean {
  return /^https?:\/\//i.test(uri);
}

export async function httpGetText(url: string, { signal, maxBytes }: HttpGetLimits): Promise<FetchedText> {
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'manual', headers: { accept: ACCEPT } });
  } catch (err) {
    return unavailable(url, signal, err);
  }
  if (response.status === 404 || response.status === 410) {
    await discard(response);
    return { kind: 'absent' };
  }
  if (response.status !== 200) {
    await discard(response);
    return { kind: 'unavailable', reason: `${url} answered HTTP ${response.status}` };
  }
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await discard(response);
    return tooLarge(url, maxBytes);
  }
  try {
    const text = await readCapped(response, maxBytes);
    return text === null ? tooLarge(url, maxBytes) : { kind: 'found', text, location: url };
  } catch (err) {
    return unavailable(url, signal, err);
  }
}

/** The body as UTF-8, or null once it grows past `maxBytes` (the rest is not read). */
async function readCapped(response: Response, maxBytes: number): Promise<string | null> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream, which closes the connection.
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function tooLarge(url: string, maxBytes: number): FetchedText {
  return { kind: 'too-large', reason: `${url} is larger than ${maxBytes} bytes` };
}

function unavailable(url: string, signal: AbortSignal, err: unknown): FetchedText {
  if (signal.aborted) return { kind: 'unavailable', reason: `${url} timed out` };
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return { kind: 'unavailable', reason: `${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
}

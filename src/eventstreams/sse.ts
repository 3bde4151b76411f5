/** Server-Sent Events framing (WHATWG HTML §9.2): the only place that knows the wire format. */

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** No caching or transformation; X-Accel-Buffering keeps nginx-style proxies from holding events back. */
export const SSE_HEADERS: Readonly<Record<string, string>> = { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' };

const LINE_BREAK = /\r\n|\r|\n/;

/** A comment line: ignored by clients, keeps the connection and proxies alive. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/** One `message` event. A line break in the data would end the field, so each line gets its own `data:`. */
export function sseMessage(id: string, data: string): string {
  const body = LINE_BREAK.test(data) ? data.split(LINE_BREAK).join('\ndata: ') : data;
  return `event: message\nid: ${id}\ndata: ${body}\n\n`;
}

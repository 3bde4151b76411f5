const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function isJsonSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/**
 * Start and end offsets (pairs, end exclusive) of each element of the top-level array in `text`,
 * which JSON.parse has already accepted. Finding one failed event's own text this way costs a
 * character scan instead of parsing the whole body again, which was a quarter of a worker's time
 * when one event in ten was invalid.
 */
export function arrayElementSpans(text: string): number[] {
  const spans: number[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) {
        inString = false;
        last = i;
      }
      continue;
    }
    if (isJsonSpace(code)) continue;
    if (depth === 0) {
      if (code === OPEN_BRACKET) depth = 1;
      continue;
    }
    if (depth === 1 && (code === COMMA || code === CLOSE_BRACKET)) {
      if (start >= 0) spans.push(start, last + 1);
      start = -1;
      if (code === CLOSE_BRACKET) break;
      continue;
    }
    if (depth === 1 && start < 0) start = i;
    if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACKET || code === OPEN_BRACE) depth++;
    else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
    last = i;
  }
  return spans;
}

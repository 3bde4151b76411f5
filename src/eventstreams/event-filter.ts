import type { Decoded } from './event-id';

/**
 * `?filter=<dotted.path>:<value>`: only events whose field at the path equals the value (compared as
 * text, so `page_namespace:0` matches the number 0). The id still advances past skipped events.
 */
export class EventFilter {
  private constructor(
    private readonly path: readonly string[],
    private readonly value: string,
  ) {}

  /** An empty parameter is no filter (null). */
  static parse(text: string): Decoded<EventFilter | null> {
    if (text === '') return { ok: true, value: null };
    const colon = text.indexOf(':');
    const path = colon > 0 ? text.slice(0, colon).split('.') : [];
    if (path.length === 0 || path.some((segment) => segment === '')) return { ok: false, error: `filter=${JSON.stringify(text.slice(0, 100))}: expected <dotted.field.path>:<value>` };
    return { ok: true, value: new EventFilter(path, text.slice(colon + 1)) };
  }

  matches(eventJson: string): boolean {
    let node: unknown;
    try {
      node = JSON.parse(eventJson);
    } catch {
      return false;
    }
    for (const segment of this.path) {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment)) return false;
      node = (node as Record<string, unknown>)[segment];
    }
    return (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') && String(node) === this.value;
  }
}

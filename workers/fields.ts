/**
 * Dotted-path access into parsed events. Only own properties are followed and only plain objects are
 * created, so an event carrying `__proto__` or `constructor` keys cannot reach a prototype.
 */

const hasOwn = Object.prototype.hasOwnProperty;

export type FieldPath = readonly string[];

export function parsePath(dotted: string): FieldPath {
  return dotted.split('.');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getField(event: Record<string, unknown>, path: FieldPath): unknown {
  let node: unknown = event;
  for (let i = 0; i < path.length; i++) {
    if (!isPlainObject(node)) return undefined;
    const key = path[i] as string;
    if (!hasOwn.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

export function hasField(event: Record<string, unknown>, path: FieldPath): boolean {
  return getField(event, path) !== undefined;
}

/**
 * Sets the field unless it is already present; creates missing parents; gives up on non-object
 * parents. Plain assignment is safe: paths come from the config, which refuses `__proto__` segments.
 */
export function fillField(event: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let node = event;
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    const key = path[i] as string;
    if (!hasOwn.call(node, key)) node[key] = {};
    const next = node[key];
    if (!isPlainObject(next)) return;
    node = next;
  }
  const leaf = path[last] as string;
  if (!hasOwn.call(node, leaf)) node[leaf] = value;
}

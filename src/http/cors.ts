import type { Config } from '../config/types';

/** Which origins get CORS headers (DESIGN.md §2.4): none by default, `*`, or a configured list. */
export class Cors {
  private readonly origins: ReadonlySet<string> | '*' | null;

  constructor(setting: Config['cors']) {
    this.origins = setting === false ? null : setting === '*' ? '*' : new Set(setting);
  }

  get enabled(): boolean {
    return this.origins !== null;
  }

  /** True when answers depend on the Origin header (a list), so shared caches must key on it. */
  get variesByOrigin(): boolean {
    return this.origins instanceof Set;
  }

  /** The Access-Control-Allow-Origin value for a request's Origin header, or null for none. */
  allowOrigin(origin: string): string | null {
    if (this.origins === null) return null;
    if (this.origins === '*') return '*';
    return origin !== '' && this.origins.has(origin) ? origin : null;
  }
}

export const PREFLIGHT_HEADERS = Object.freeze({
  'Access-Control-Allow-Headers': 'accept, x-requested-with, content-type',
  'Access-Control-Allow-Methods': 'POST',
  'Access-Control-Max-Age': '600',
});

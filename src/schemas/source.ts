import type { FetchedText } from '../documents/http-get';

/**
 * What one base answered for a schema key (`test/event/1.0.0`): its text, nothing (try the next
 * base), a refusal (the key would leave the base), or a failure. Plain data, so a worker can receive
 * it from the main thread (source-relay.ts).
 */
export type SourceResult = FetchedText | { readonly kind: 'refused'; readonly reason: string };

/** One configured base URI (`file:schemas/`, `https://registry.example/jsonschema/`). */
export interface SchemaSource {
  readonly uri: string;
  read(key: string): Promise<SourceResult>;
}

export const ABSENT: SourceResult = Object.freeze({ kind: 'absent' });

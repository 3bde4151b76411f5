/** What one stream accepts and where it goes. Unknown settings are kept for later features. */
export interface StreamSettings {
  readonly schema_title: string;
  readonly message_key_fields?: Readonly<Record<string, string>>;
  readonly topic?: string;
  readonly destination_event_service?: string;
  readonly [setting: string]: unknown;
}

export type StreamConfigDocument = Record<string, StreamSettings>;

export class StreamConfigError extends Error {
  override name = 'StreamConfigError';
}

export function checkStreamConfig(doc: unknown, source: string): StreamConfigDocument {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new StreamConfigError(`${source}: stream config must be a mapping of stream name to settings`);
  for (const [name, settings] of Object.entries(doc)) {
    const where = `${source}: stream ${JSON.stringify(name)}`;
    if (typeof settings !== 'object' || settings === null) throw new StreamConfigError(`${where}: settings must be a mapping`);
    const s = settings as Record<string, unknown>;
    if (typeof s.schema_title !== 'string' || s.schema_title === '') throw new StreamConfigError(`${where}.schema_title: required string`);
    if (s.topic !== undefined && typeof s.topic !== 'string') throw new StreamConfigError(`${where}.topic: must be a string`);
    if (s.message_key_fields !== undefined) {
      const keys = s.message_key_fields;
      if (typeof keys !== 'object' || keys === null || Object.values(keys).some((v) => typeof v !== 'string')) {
        throw new StreamConfigError(`${where}.message_key_fields: must map key names to dotted field paths`);
      }
    }
    if (isRegexKey(name)) compileRegexKey(name, where);
  }
  return doc as StreamConfigDocument;
}

function isRegexKey(name: string): boolean {
  return name.length > 2 && name.startsWith('/') && name.endsWith('/');
}

function compileRegexKey(name: string, where: string): RegExp {
  try {
    return new RegExp(name.slice(1, -1));
  } catch (err) {
    throw new StreamConfigError(`${where}: bad regular expression: ${(err as Error).message}`);
  }
}

export interface StreamMatch {
  readonly name: string;
  /** The config key that matched: the name itself, or the `/regex/` key (a bounded metric label). */
  readonly configKey: string;
  readonly settings: StreamSettings;
  readonly topic: string;
}

/** One loaded stream-config document, indexed for lookup; only its lookup memo changes once built. */
class StreamIndex {
  readonly exact = new Map<string, StreamSettings>();
  readonly patterns: Array<{ key: string; regex: RegExp; settings: StreamSettings }> = [];
  readonly matches = new Map<string, StreamMatch | null>();

  constructor(
    readonly document: StreamConfigDocument,
    serviceName: string,
  ) {
    for (const [key, settings] of Object.entries(document)) {
      if (settings.destination_event_service !== undefined && settings.destination_event_service !== serviceName) continue;
      if (isRegexKey(key)) this.patterns.push({ key, regex: compileRegexKey(key, key), settings });
      else this.exact.set(key, settings);
    }
  }
}

/**
 * Stream lookup: exact names win over regex keys, regex keys are tried in document order.
 * Only streams for this deployment are kept (`destination_event_service`). `replace()` swaps in a
 * refreshed document at once: a lookup sees the old table or the new one, never a mix.
 */
export class StreamTable {
  private index: StreamIndex;

  constructor(
    document: StreamConfigDocument,
    private readonly topicPrefix: string,
    private readonly serviceName: string,
  ) {
    this.index = new StreamIndex(document, serviceName);
  }

  /** The whole document as loaded, other deployments' streams included. */
  get document(): StreamConfigDocument {
    return this.index.document;
  }

  replace(document: StreamConfigDocument): void {
    this.index = new StreamIndex(document, this.serviceName);
  }

  lookup(stream: string): StreamMatch | null {
    const { matches } = this.index;
    let match = matches.get(stream);
    if (match === undefined) {
      match = this.find(stream);
      // Bounded: regex streams could otherwise grow the memo without limit.
      if (matches.size < 10_000) matches.set(stream, match);
    }
    return match;
  }

  private find(stream: string): StreamMatch | null {
    const exact = this.index.exact.get(stream);
    if (exact) return this.match(stream, stream, exact);
    for (const { key, regex, settings } of this.index.patterns) if (regex.test(stream)) return this.match(stream, key, settings);
    return null;
  }

  private match(name: string, configKey: string, settings: StreamSettings): StreamMatch {
    return { name, configKey, settings, topic: settings.topic ?? this.topicPrefix + name };
  }

  /** The loaded settings of the named streams (unknown names omitted), for GET /v1/stream-configs. */
  select(names: readonly string[] | null): StreamConfigDocument {
    const { exact, patterns } = this.index;
    if (names === null) return Object.fromEntries([...exact, ...patterns.map((p) => [p.key, p.settings] as const)]);
    // fromEntries defines own properties: a stream named __proto__ cannot reach the prototype.
    return Object.fromEntries(names.flatMap((name) => {
      const match = this.lookup(name);
      return match ? [[name, match.settings] as const] : [];
    }));
  }
}

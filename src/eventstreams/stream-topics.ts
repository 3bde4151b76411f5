import { decodePathParam } from '../http/path-param';
import type { StreamTable } from '../streams/stream-config';
import type { Decoded } from './event-id';

export interface StreamSelection {
  /** The requested streams, deduplicated, in request order. */
  readonly streams: readonly string[];
  /** Every topic to read, with the stream it belongs to. */
  readonly topics: ReadonlyMap<string, string>;
}

/** Bounds the work one request can ask for; a URL naming more streams is refused. */
const MAX_STREAMS_PER_REQUEST = 64;

/**
 * Maps the `{streams}` of /v2/stream/{streams} to Kafka topics. Only `allowed_streams` are served;
 * when a stream config is loaded the stream must also be in it. A stream's topics are one per topic
 * prefix (e.g. one per datacenter), or the stream's own `topic` setting when it has one.
 */
export class StreamTopics {
  private readonly allowed: ReadonlySet<string>;

  constructor(
    allowedStreams: readonly string[],
    private readonly prefixes: readonly string[],
    private readonly table: StreamTable | null,
  ) {
    this.allowed = new Set(allowedStreams);
  }

  select(param: string): Decoded<StreamSelection> {
    const streams = [...new Set(decodePathParam(param).split(',').filter((s) => s !== ''))];
    if (streams.length === 0) return { ok: false, error: 'no stream named: use /v2/stream/{stream}[,{stream}…]' };
    if (streams.length > MAX_STREAMS_PER_REQUEST) return { ok: false, error: `more than ${MAX_STREAMS_PER_REQUEST} streams requested` };
    const topics = new Map<string, string>();
    for (const stream of streams) {
      const streamTopics = this.topicsOf(stream);
      if (streamTopics === null) return { ok: false, error: `stream ${JSON.stringify(stream.slice(0, 200))} is not available; allowed: ${[...this.allowed].join(', ')}` };
      for (const topic of streamTopics) topics.set(topic, stream);
    }
    return { ok: true, value: { streams, topics } };
  }

  private topicsOf(stream: string): readonly string[] | null {
    if (!this.allowed.has(stream)) return null;
    if (this.table === null) return this.prefixes.map((prefix) => prefix + stream);
    const match = this.table.lookup(stream);
    if (match === null) return null;
    return match.settings.topic !== undefined ? [match.settings.topic] : this.prefixes.map((prefix) => prefix + stream);
  }
}

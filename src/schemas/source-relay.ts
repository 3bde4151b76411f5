import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { SchemaSource, SourceResult } from './source';

/**
 * Workers read http(s) bases through the main thread, so N workers cost one fetch per schema and
 * share one cache and one concurrency limit. A BroadcastChannel reaches every worker piscina starts,
 * replacements of crashed ones included, with no port to hand over. Traffic is one message per
 * schema load, never per event.
 */
const CHANNEL = 'sluice.schema-sources';

interface ReadRequest {
  readonly type: 'read';
  readonly id: string;
  readonly base: string;
  readonly key: string;
}

interface ReadReply {
  readonly type: 'result';
  readonly id: string;
  readonly result: SourceResult;
}

/** Main thread: answers workers' reads from the real sources. */
export class SchemaSourceService {
  private readonly channel = new BroadcastChannel(CHANNEL);

  constructor(private readonly sources: ReadonlyMap<string, SchemaSource>) {
    this.channel.onmessage = (event) => this.answer((event as MessageEvent).data);
    this.channel.unref();
  }

  private answer(message: unknown): void {
    const request = message as ReadRequest;
    if (request?.type !== 'read') return;
    const source = this.sources.get(request.base);
    const reading = source ? source.read(request.key) : Promise.reject(new Error(`${request.base} is not a configured base`));
    // Every request is answered: a worker's task is waiting for it.
    void reading
      .catch((err: Error): SourceResult => ({ kind: 'unavailable', reason: err.message }))
      .then((result) => this.channel.postMessage({ type: 'result', id: request.id, result } satisfies ReadReply));
  }

  close(): void {
    this.channel.close();
  }
}

/**
 * Worker: a SchemaSource per http(s) base that asks the main thread. Answers are read while a task
 * waits for them (an idle piscina worker runs no event loop). `guardMs` bounds the wait in case no
 * answer ever comes (the main thread's own deadline is shorter).
 */
export class SchemaSourceRelay {
  private channel: BroadcastChannel | null = null;
  private readonly waiting = new Map<string, (result: SourceResult) => void>();
  private nextId = 0;

  constructor(private readonly guardMs: number) {}

  sources(baseUris: readonly string[]): Map<string, SchemaSource> {
    return new Map(baseUris.map((uri) => [uri, { uri, read: (key: string) => this.read(uri, key) }]));
  }

  private read(base: string, key: string): Promise<SourceResult> {
    const id = `${threadId}:${this.nextId++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'unavailable', reason: `no answer from the main thread for ${base}${key}` }), this.guardMs);
      const settle = (result: SourceResult): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(result);
      };
      this.waiting.set(id, settle);
      this.open().postMessage({ type: 'read', id, base, key } satisfies ReadRequest);
    });
  }

  private open(): BroadcastChannel {
    if (this.channel === null) {
      this.channel = new BroadcastChannel(CHANNEL);
      this.channel.onmessage = (event) => {
        const reply = (event as MessageEvent).data as ReadReply;
        if (reply?.type === 'result') this.waiting.get(reply.id)?.(reply.result);
      };
      this.channel.unref();
    }
    return this.channel;
  }
}

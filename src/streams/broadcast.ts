import { BroadcastChannel } from 'node:worker_threads';
import type { StreamConfigDocument, StreamTable } from './stream-config';

/**
 * Carries refreshed stream config from the main thread to the workers. An idle piscina worker sleeps
 * in Atomics.wait between tasks and runs no event loop, so a broadcast alone would wait unread: the
 * main thread also bumps a shared version counter, each task starts by comparing it with the
 * version its worker holds (one atomic load), and a stale worker asks for the current document and
 * waits for it. Workers started late (piscina replaces crashed ones with the first workerData) catch
 * up the same way.
 */
const CHANNEL = 'sluice.stream-config';

/** Bound on a catch-up: should the answer never come, the task goes on with the table it has. */
const CATCH_UP_GUARD_MS = 1000;

type Message = { readonly type: 'config'; readonly version: number; readonly document: StreamConfigDocument } | { readonly type: 'sync' };

/** What a worker starts with (workerData). */
export interface StreamConfigSnapshot {
  readonly document: StreamConfigDocument;
  /** The version of `document`. */
  readonly version: number;
  /** [latest version], shared with the main thread. */
  readonly latest: Int32Array;
}

/** Main thread: publishes each new document and answers workers' sync requests. */
export class StreamConfigPublisher {
  private readonly channel = new BroadcastChannel(CHANNEL);
  private readonly latest = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(private document: StreamConfigDocument) {
    Atomics.store(this.latest, 0, 1);
    this.channel.onmessage = (event) => {
      if (((event as MessageEvent).data as Message)?.type === 'sync') this.post();
    };
    this.channel.unref();
  }

  snapshot(): StreamConfigSnapshot {
    return { document: this.document, version: Atomics.load(this.latest, 0), latest: this.latest };
  }

  publish(document: StreamConfigDocument): void {
    this.document = document;
    Atomics.add(this.latest, 0, 1);
    this.post();
  }

  private post(): void {
    this.channel.postMessage({ type: 'config', version: Atomics.load(this.latest, 0), document: this.document } satisfies Message);
  }

  close(): void {
    this.channel.close();
  }
}

/** Worker: keeps `table` at the main thread's latest document. */
export class StreamConfigFollower {
  private version: number;
  private readonly latest: Int32Array;
  private readonly channel = new BroadcastChannel(CHANNEL);
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly table: StreamTable,
    snapshot: StreamConfigSnapshot,
  ) {
    this.version = snapshot.version;
    this.latest = snapshot.latest;
    this.channel.onmessage = (event) => this.receive((event as MessageEvent).data as Message);
    this.channel.unref();
  }

  get stale(): boolean {
    return Atomics.load(this.latest, 0) !== this.version;
  }

  catchUp(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, CATCH_UP_GUARD_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.push(done);
      this.channel.postMessage({ type: 'sync' } satisfies Message);
    });
  }

  private receive(message: Message): void {
    if (message?.type !== 'config' || message.version <= this.version) return;
    this.version = message.version;
    this.table.replace(message.document);
    if (!this.stale) for (const done of this.waiting.splice(0)) done();
  }
}

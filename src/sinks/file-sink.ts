import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { MessageBatch, Sink, SinkFailure, SinkUnavailable } from './types';

const NEWLINE = Buffer.from('\n');

/** Messages waiting for the next group commit, per topic file. */
interface PendingWrites {
  chunks: Buffer[];
  batches: MessageBatch[];
  indexes: number[];
}

/**
 * Appends each message as one line to `<dir>/<topic>.jsonl`. Writes are group-committed: everything
 * that arrives while a write+fsync is in progress goes out in the next one, so many concurrent
 * requests share one fsync. One writer per file at a time, so lines never interleave.
 */
export class FileSink implements Sink {
  readonly type = 'file' as const;
  private pending = new Map<string, PendingWrites>();
  private readonly files = new Map<string, FileHandle>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  send(batch: MessageBatch): void {
    for (let i = 0; i < batch.size; i++) {
      const topic = batch.topic(i);
      let writes = this.pending.get(topic);
      if (!writes) {
        writes = { chunks: [], batches: [], indexes: [] };
        this.pending.set(topic, writes);
      }
      writes.chunks.push(batch.value(i), NEWLINE);
      writes.batches.push(batch);
      writes.indexes.push(i);
    }
    if (!this.flushing) this.flushing = this.flushLoop();
  }

  /** A failed write fails its own messages (500/207) but never refuses other topics' requests. */
  unavailable(): SinkUnavailable | null {
    return null;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    for (const file of this.files.values()) await file.close();
    this.files.clear();
  }

  private async flushLoop(): Promise<void> {
    // Yield once so requests answered in the same event-loop turn join this commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) {
      const commit = this.pending;
      this.pending = new Map();
      await Promise.all([...commit].map(([topic, writes]) => this.commit(topic, writes)));
    }
    this.flushing = null;
  }

  private async commit(topic: string, writes: PendingWrites): Promise<void> {
    let failure: SinkFailure | null = null;
    try {
      const file = await this.fileFor(topic);
      await file.writev(writes.chunks);
      if (this.fsync) await file.datasync();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      failure = { reason: code ? `file_${code.toLowerCase()}` : 'file_write', message: `file sink: ${(err as Error).message}` };
      // Reopen next time: the cause (a full disk, a replaced file) may be gone by then.
      void this.files.get(topic)?.close().catch(() => undefined);
      this.files.delete(topic);
    }
    for (let m = 0; m < writes.batches.length; m++) writes.batches[m]!.settle(writes.indexes[m]!, failure);
  }

  private async fileFor(topic: string): Promise<FileHandle> {
    let file = this.files.get(topic);
    if (!file) {
      // Topic names come from stream config, but never let one name a path outside the directory.
      file = await open(path.join(this.dir, topic.replace(/[/\\]/g, '_') + '.jsonl'), 'a');
      this.files.set(topic, file);
    }
    return file;
  }
}

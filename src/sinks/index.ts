import path from 'node:path';
import type { Config } from '../config/types';
import { FileSink } from './file-sink';
import { NullSink } from './null-sink';
import type { Sink } from './types';

export type { Sink } from './types';

export function createSink(config: Config, cwd: string): Sink {
  switch (config.sink.type) {
    case 'file':
      return new FileSink(path.resolve(cwd, config.sink.file.dir), config.sink.file.fsync === 'batch');
    case 'null':
      return new NullSink();
    case 'kafka':
      throw new Error('sink.type kafka is not available in this build yet; use file or null');
  }
}

import path from 'node:path';
import type { Config } from '../config/types';
import type { Logger } from '../log';
import { FileSink } from './file-sink';
import { KafkaSink } from './kafka-sink';
import { NullSink } from './null-sink';
import type { Sink } from './types';

export type { Sink } from './types';

export function createSink(config: Config, cwd: string, log: Logger): Sink {
  switch (config.sink.type) {
    case 'file':
      return new FileSink(path.resolve(cwd, config.sink.file.dir), config.sink.file.fsync === 'batch');
    case 'null':
      return new NullSink();
    case 'kafka':
      return new KafkaSink(config, log.child({ sink: 'kafka' }));
  }
}

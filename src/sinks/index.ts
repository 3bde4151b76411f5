import path from 'node:path';
import type { Config } from '../config/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { FileSink } from './file-sink';
import { KafkaSink } from './kafka-sink';
import { KafkaStats } from './kafka-stats';
import { NullSink } from './null-sink';
import type { Sink } from './types';

export type { Sink } from './types';

export function createSink(config: Config, cwd: string, log: Logger, metrics: Metrics): Sink {
  switch (config.sink.type) {
    case 'file':
      return new FileSink(path.resolve(cwd, config.sink.file.dir), config.sink.file.fsync === 'batch');
    case 'null':
      return new NullSink();
    case 'kafka':
      return new KafkaSink(config, log.child({ sink: 'kafka' }), new KafkaStats(metrics));
  }
}

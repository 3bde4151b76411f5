import type { Config, RdkafkaConf } from './types';

/** librdkafka properties that carry credentials (sasl.password, sasl.oauthbearer.*, ssl.key.*, …). */
const SECRET_KEY = /password|secret|sasl\.|ssl\.key/i;
/** user:password@ in a URL (schema bases, stream-config locations). */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i;
const REDACTED = '[redacted]';

function redactConf(conf: RdkafkaConf): RdkafkaConf {
  return Object.fromEntries(Object.entries(conf).map(([key, value]) => [key, SECRET_KEY.test(key) ? REDACTED : value]));
}

function redactUrls(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  if (Array.isArray(value)) return value.map(redactUrls);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrls(v)]));
  return value;
}

/** The effective config as it may be logged: Kafka credentials and URL passwords replaced. */
export function redactedConfig(config: Config): unknown {
  const { kafka } = config.sink;
  const sink = { ...config.sink, kafka: { ...kafka, conf: redactConf(kafka.conf), hasty: redactConf(kafka.hasty), guaranteed: redactConf(kafka.guaranteed) } };
  const eventstreams = { ...config.eventstreams, kafka: { ...config.eventstreams.kafka, conf: redactConf(config.eventstreams.kafka.conf) } };
  return redactUrls({ ...config, sink, eventstreams });
}

import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { configSchema } from './schema';
import type { Config } from './types';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigOverrides {
  port?: number;
}

const ENV_PREFIX = 'SLUICE_';

/**
 * The variables Kubernetes (and Docker links) put into every pod for a Service named `sluice` or
 * `sluice-<anything>`: `SLUICE_SERVICE_HOST`, `SLUICE_SERVICE_PORT_HTTP`, `SLUICE_PORT=tcp://…`,
 * `SLUICE_INTAKE_PORT_8192_TCP_ADDR`… They name no config key, and refusing them would stop Sluice from
 * starting next to its own Service. A bare `…_PORT` counts only with its `tcp://` value, so a misspelt
 * `SLUICE_LISTN_PORT=9000` is still refused; config keys are matched first.
 */
const SERVICE_LINK_NAME = /^SLUICE_(?:[A-Z0-9_]+_)?(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT_\d+_(?:TCP|UDP|SCTP)(?:_(?:PROTO|PORT|ADDR))?)$/;
const SERVICE_LINK_PORT = /^SLUICE_(?:[A-Z0-9_]+_)?PORT$/;
const LINK_ADDRESS = /^(?:tcp|udp|sctp):\/\//;

function isServiceLink(name: string, value: string): boolean {
  return SERVICE_LINK_NAME.test(name) || (SERVICE_LINK_PORT.test(name) && LINK_ADDRESS.test(value));
}

/**
 * Reads, overrides and validates the configuration once; the result is deeply frozen so nothing on
 * the request path can change it.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a YAML mapping`);
  const doc = raw as Record<string, unknown>;
  applyEnvOverrides(doc, env);
  if (overrides.port !== undefined) setPath(doc, ['listen', 'port'], overrides.port);
  return validateConfig(doc, file);
}

function validateConfig(doc: Record<string, unknown>, source: string): Config {
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(configSchema);
  if (!validate(doc)) throw new ConfigError(`invalid config ${source}:\n${describeErrors(validate.errors ?? [])}`);
  checkFieldPaths(doc);
  checkLimits(doc);
  return deepFreeze(doc) as unknown as Config;
}

/**
 * A body larger than the in-flight budget but within max_body_bytes could never be admitted: it would
 * be answered 503 with Retry-After on every retry, on an idle server, instead of 413.
 */
function checkLimits(doc: Record<string, unknown>): void {
  const { max_body_bytes: body, max_inflight_bytes: inflight } = doc.limits as { max_body_bytes: number; max_inflight_bytes: number };
  if (inflight < body) {
    throw new ConfigError(
      `invalid config: limits.max_inflight_bytes (${inflight}) is smaller than limits.max_body_bytes (${body}); ` +
        'a body between the two could never be admitted and would get 503 on every retry',
    );
  }
}

const FORBIDDEN_SEGMENT = /(^|\.)(__proto__|constructor|prototype)(\.|$)/;

/** Field paths are followed into parsed events; none may name a prototype. */
function checkFieldPaths(doc: Record<string, unknown>): void {
  const defaults = doc.defaults as Record<string, unknown>;
  const paths: Array<[string, unknown]> = [
    ['defaults.id_field', defaults.id_field],
    ['defaults.dt_field', defaults.dt_field],
    ['defaults.client_ip_field', defaults.client_ip_field],
    ['streams.stream_field', (doc.streams as Record<string, unknown>).stream_field],
    ...Object.entries(defaults.headers_to_fields as Record<string, string>).map(([h, p]): [string, unknown] => [`defaults.headers_to_fields.${h}`, p]),
  ];
  for (const [key, value] of paths) {
    if (typeof value === 'string' && FORBIDDEN_SEGMENT.test(value)) throw new ConfigError(`invalid config: ${key}: path ${value} names a prototype property`);
  }
}

function describeErrors(errors: ErrorObject[]): string {
  const lines = new Set<string>();
  for (const e of errors) {
    const key = e.instancePath.slice(1).replace(/\//g, '.');
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      lines.add(`  ${key ? key + '.' : ''}${extra}: unknown key`);
    } else if (e.keyword !== 'anyOf') {
      lines.add(`  ${key || '(root)'}: ${e.message}`);
    }
  }
  return [...lines].join('\n');
}

/**
 * `SLUICE_<PATH>` sets a key: path segments are matched against the schema's known keys, so
 * `SLUICE_LISTEN_PORT` sets listen.port and `SLUICE_LIMITS_MAX_BODY_BYTES` limits.max_body_bytes.
 * `SLUICE_KAFKA__<NAME>` sets the librdkafka property NAME with `_` read as `.`
 * (`SLUICE_KAFKA__BOOTSTRAP_SERVERS` → sink.kafka.conf["bootstrap.servers"]). Values are parsed as YAML
 * scalars or flow collections (`9000`, `true`, `[a, b]`). Any other `SLUICE_` name stops the start, unless
 * it is a Kubernetes service link (isServiceLink).
 */
function applyEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    if (rest.startsWith('kafka__')) {
      setPath(doc, ['sink', 'kafka', 'conf', rest.slice('kafka__'.length).replace(/_/g, '.')], value);
      continue;
    }
    const path = matchSchemaPath(rest, configSchema);
    if (path) setPath(doc, path, parseEnvValue(value));
    else if (!isServiceLink(name, value)) throw new ConfigError(`environment variable ${name} names no config key`);
  }
}

interface SchemaNode {
  properties?: Record<string, unknown>;
}

function matchSchemaPath(flat: string, node: SchemaNode): string[] | null {
  for (const key of Object.keys(node.properties ?? {})) {
    const child = (node.properties as Record<string, SchemaNode>)[key] as SchemaNode;
    if (flat === key) return [key];
    if (flat.startsWith(key + '_') && child.properties) {
      const rest = matchSchemaPath(flat.slice(key.length + 1), child);
      if (rest) return [key, ...rest];
    }
  }
  return null;
}

function parseEnvValue(value: string): unknown {
  try {
    return parseYaml(value);
  } catch {
    return value;
  }
}

function setPath(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

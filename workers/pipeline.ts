import type { ErrorObject } from 'ajv';
import { MESSAGE_ERROR_EVENT, MESSAGE_EVENT, type Task } from '../src/batching/wire';
import type { Config } from '../src/config/types';
import { EventKinds, type EventKind } from '../src/outcomes';
import { dateTimeMillis } from '../src/schemas/formats';
import type { StreamMatch, StreamTable } from '../src/streams/stream-config';
import { decodeBody } from './body';
import { arrayElementSpans } from './spans';
import { Augmenter } from './augment';
import { getField, isPlainObject, parsePath, type FieldPath } from './fields';
import type { ResultBuilder } from './result-builder';
import type { SchemaCache } from './schema-cache';
import { uuid } from '../src/uuid';

const MAX_RAW_EVENT_CHARS = 10_000;
const MAX_REPORTED_ERRORS = 20;
const ERROR_SCHEMA_URI = '/error/1.0.0';
const UNKNOWN = 'unknown';
/** Metric label for a stream that is not configured, or a schema that did not compile: keeps cardinality bounded. */
const OTHER_LABEL = 'other';

type Event = Record<string, unknown>;

interface Rejection {
  readonly kind: EventKind;
  readonly message: string;
  readonly errors?: ErrorObject[];
}

/** One request's parsed body; `spans` (where each event's text lies) is found only once an event fails. */
interface ParsedBody {
  readonly events: unknown[];
  readonly text: string;
  readonly isArray: boolean;
  spans: number[] | null;
}

interface RequestContext {
  readonly index: number;
  readonly receivedAt: number;
  readonly dt: string;
  readonly requestId: string;
  readonly clientIp: string;
}

/** Everything per-deployment the pipeline needs, computed once per worker from the config. */
export class Pipeline {
  private readonly uriFields: FieldPath[];
  private readonly streamField: FieldPath;
  private readonly dtField: FieldPath | null;
  private readonly augmenter: Augmenter;
  /** Looked up per task: a stream-config refresh may change the error stream's topic. */
  private errorTopic: string | null = null;
  /** The current task's request bodies, by request index (undefined: the body was refused). */
  private bodies: Array<ParsedBody | undefined> = [];
  /** The last receive time formatted: requests of a task mostly share their millisecond. */
  private lastReceivedAt = Number.NaN;
  private lastDt = '';

  constructor(
    private readonly config: Config,
    private readonly streams: StreamTable | null,
    private readonly schemas: SchemaCache,
  ) {
    const uriField = config.schemas.uri_field;
    this.uriFields = (typeof uriField === 'string' ? [uriField] : uriField).map(parsePath);
    this.streamField = parsePath(config.streams.stream_field);
    this.dtField = config.defaults.dt_field ? parsePath(config.defaults.dt_field) : null;
    this.augmenter = new Augmenter(config.defaults);
  }

  async run(task: Task, out: ResultBuilder): Promise<void> {
    const errorStream = this.config.error_stream;
    this.errorTopic = errorStream === null ? null : (this.streams?.lookup(errorStream)?.topic ?? this.config.streams.topic_prefix + errorStream);
    this.bodies = this.parseAll(task, out);
    try {
      await this.schemas.prepare(this.schemaUris());
      for (let r = 0; r < this.bodies.length; r++) {
        const body = this.bodies[r];
        if (body === undefined) continue;
        const request = this.requestContext(task, r);
        for (let e = 0; e < body.events.length; e++) this.processEvent(body.events[e], request, out, task, e);
      }
    } finally {
      this.bodies = []; // the body texts are not kept alive until the next task
    }
  }

  private parseAll(task: Task, out: ResultBuilder): Array<ParsedBody | undefined> {
    const bodies: Array<ParsedBody | undefined> = [];
    for (let r = 0; r < task.count; r++) {
      const decoded = decodeBody(task, r, this.config.limits.max_body_bytes);
      if (decoded.ok) bodies.push({ events: decoded.events, text: decoded.text, isArray: decoded.isArray, spans: null });
      else {
        out.problem(r, decoded.problem, decoded.detail);
        bodies.push(undefined);
      }
    }
    return bodies;
  }

  private *schemaUris(): Iterable<string> {
    if (this.errorTopic !== null) yield ERROR_SCHEMA_URI;
    for (const body of this.bodies) {
      if (!body) continue;
      for (const event of body.events) {
        if (!isPlainObject(event)) continue;
        const uri = this.schemaUriOf(event);
        if (uri !== undefined) yield uri;
      }
    }
  }

  private requestContext(task: Task, r: number): RequestContext {
    const receivedAt = task.receivedAt(r);
    if (receivedAt !== this.lastReceivedAt) {
      this.lastReceivedAt = receivedAt;
      this.lastDt = new Date(receivedAt).toISOString();
    }
    return {
      index: r,
      receivedAt,
      dt: this.lastDt,
      requestId: task.requestId(r),
      clientIp: task.clientIp(r),
    };
  }

  /**
   * The schema_uri metric label: the repository key of a schema that compiled, for a configured
   * stream; anything a client could vary freely (unknown URIs, unknown streams) is `other`.
   */
  private schemaLabel(streamLabel: string, uri: string | null): string {
    if (streamLabel === OTHER_LABEL || uri === null) return OTHER_LABEL;
    const schema = this.schemas.get(uri);
    return schema?.ok ? schema.key : OTHER_LABEL;
  }

  private schemaUriOf(event: Event): string | undefined {
    for (const path of this.uriFields) {
      const uri = getField(event, path);
      if (typeof uri === 'string' && uri !== '') return uri;
    }
    return undefined;
  }

  private processEvent(event: unknown, request: RequestContext, out: ResultBuilder, task: Task, position: number): void {
    if (!isPlainObject(event)) {
      this.reject({ kind: EventKinds.NotAnObject, message: 'event is not a JSON object' }, OTHER_LABEL, null, null, request, out, position);
      return;
    }
    const streamValue = getField(event, this.streamField);
    const stream = typeof streamValue === 'string' && streamValue !== '' ? streamValue : null;
    const uri = this.schemaUriOf(event) ?? null;
    const match = stream === null ? null : (this.streams?.lookup(stream) ?? null);
    const label = match?.configKey ?? OTHER_LABEL;
    const rejection = this.accept(event, position, uri, stream, match, label, request, out, task);
    if (rejection === null) out.valid(request.index, label);
    else this.reject(rejection, label, uri, stream, request, out, position);
  }

  /** Steps 1–6 of DESIGN.md §5: produces the message and returns null, or says why not. */
  private accept(event: Event, position: number, uri: string | null, stream: string | null, match: StreamMatch | null, label: string, request: RequestContext, out: ResultBuilder, task: Task): Rejection | null {
    if (uri === null) return { kind: EventKinds.SchemaUriMissing, message: `event has no schema URI in ${this.describeUriFields()}` };
    if (stream === null) return { kind: EventKinds.StreamMissing, message: `event has no stream name in ${this.config.streams.stream_field}` };
    if (this.streams !== null && match === null) return { kind: EventKinds.StreamNotConfigured, message: `stream ${stream} is not configured` };
    const schema = this.schemas.get(uri);
    if (schema === undefined) return { kind: EventKinds.InternalError, message: `schema ${uri} was not prepared` };
    if (!schema.ok) return schema;
    if (match !== null && schema.title !== match.settings.schema_title) {
      return { kind: EventKinds.SchemaTitleMismatch, message: `stream ${stream} accepts schema title ${match.settings.schema_title}, not ${String(schema.title)} (${uri})` };
    }
    this.augmenter.apply(event, schema, request, task);
    if (!schema.validate(event)) {
      const errors = (schema.validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS);
      return { kind: EventKinds.ValidationError, message: errorsText(errors), errors };
    }
    const value = JSON.stringify(event);
    const limit = this.config.limits.max_event_bytes;
    // UTF-8 is at most 3 bytes per UTF-16 unit: the exact count is needed only near the limit.
    if (value.length > limit || (value.length * 3 > limit && Buffer.byteLength(value) > limit)) {
      return { kind: EventKinds.EventTooLarge, message: `event is larger than limits.max_event_bytes (${limit} bytes)` };
    }
    const key = match === null ? null : messageKey(event, match);
    if (key === undefined) return { kind: EventKinds.MessageKeyMissing, message: `event lacks a message key field of stream ${stream}` };
    const topic = match?.topic ?? this.config.streams.topic_prefix + stream;
    out.message(request.index, position, topic, value, key, this.timestampOf(event, request), MESSAGE_EVENT, label);
    return null;
  }

  private timestampOf(event: Event, request: RequestContext): number {
    const dt = this.dtField ? getField(event, this.dtField) : undefined;
    if (dt === request.dt) return request.receivedAt;
    if (typeof dt !== 'string') return request.receivedAt;
    const exact = dateTimeMillis(dt);
    const ms = Number.isNaN(exact) ? Date.parse(dt) : exact;
    return Number.isFinite(ms) ? ms : request.receivedAt;
  }

  private reject(rejection: Rejection, label: string, uri: string | null, stream: string | null, request: RequestContext, out: ResultBuilder, position: number): void {
    const { kind, message, errors } = rejection;
    const received = this.originalEvent(request.index, position);
    const context = errors ? { error_type: kind.errorType, errors, errorsText: message } : { error_type: kind.errorType, message };
    out.failed(request.index, kind.group, `{"status":${JSON.stringify(kind.group)},"event":${received},"context":${JSON.stringify(context)}}`, label, this.schemaLabel(label, uri), kind.errorType);
    if (kind.group === 'invalid') this.errorEvent(kind, message, received, uri, stream, request, position, out);
  }

  /**
   * The event as the client sent it, serialized: augmentation and Ajv defaults have changed the parsed
   * object by now, so a failure parses its own event's text again. Successes never pay for this.
   */
  private originalEvent(request: number, position: number): string {
    const body = this.bodies[request];
    if (body === undefined) return 'null';
    let text = body.text;
    if (body.isArray) {
      body.spans ??= arrayElementSpans(text);
      text = text.slice(body.spans[2 * position], body.spans[2 * position + 1]);
    }
    try {
      return JSON.stringify(JSON.parse(text)) ?? 'null';
    } catch {
      return '"(unserialisable event)"';
    }
  }

  /** DESIGN.md §6: each invalid event becomes an error event in the error stream, itself validated. */
  private errorEvent(kind: EventKind, message: string, received: string, uri: string | null, stream: string | null, request: RequestContext, position: number, out: ResultBuilder): void {
    if (this.errorTopic === null) return;
    const schema = this.schemas.get(ERROR_SCHEMA_URI);
    if (!schema?.ok) {
      out.errorEventDropped();
      return;
    }
    const now = new Date().toISOString();
    const errorEvent = {
      $schema: ERROR_SCHEMA_URI,
      meta: { stream: this.config.error_stream, id: uuid(), dt: now, request_id: request.requestId },
      dt: now,
      emitter_id: this.config.service_name,
      error_type: kind.errorType,
      message,
      raw_event: received.length > MAX_RAW_EVENT_CHARS ? received.slice(0, MAX_RAW_EVENT_CHARS) : received,
      errored_schema_uri: uri ?? UNKNOWN,
      errored_stream_name: stream ?? UNKNOWN,
    };
    if (!schema.validate(errorEvent)) {
      out.errorEventDropped();
      return;
    }
    out.message(request.index, position, this.errorTopic, JSON.stringify(errorEvent), null, Date.parse(now), MESSAGE_ERROR_EVENT, this.config.error_stream!);
  }

  private describeUriFields(): string {
    const field = this.config.schemas.uri_field;
    return typeof field === 'string' ? field : field.join(' or ');
  }
}

/** JSON of the configured key fields; undefined when one is missing. */
function messageKey(event: Event, match: StreamMatch): string | null | undefined {
  const fields = match.settings.message_key_fields;
  if (!fields) return null;
  const key: Record<string, unknown> = {};
  for (const [name, dotted] of Object.entries(fields)) {
    const value = getField(event, parsePath(dotted));
    if (value === undefined) return undefined;
    key[name] = value;
  }
  return JSON.stringify(key);
}

function errorsText(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join(', ');
}


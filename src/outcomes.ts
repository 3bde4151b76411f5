/**
 * Every outcome Sluice can give, declared once. The HTTP layer, the workers and the error-event
 * builder all read from here, so tests and docs can name an outcome by its `error_type`.
 *
 * Event kinds end one event as `invalid` (the client's fault: retrying cannot help) or `error`
 * (the server's fault: retryable). Request kinds answer a whole request with a problem body.
 */

export type EventGroup = 'invalid' | 'error';

export interface EventKind {
  readonly errorType: string;
  readonly group: EventGroup;
}

function eventKind(errorType: string, group: EventGroup): EventKind {
  return Object.freeze({ errorType, group });
}

export const EventKinds = Object.freeze({
  ValidationError: eventKind('ValidationError', 'invalid'),
  NotAnObject: eventKind('NotAnObject', 'invalid'),
  SchemaUriMissing: eventKind('SchemaUriMissing', 'invalid'),
  StreamMissing: eventKind('StreamMissing', 'invalid'),
  SchemaUriRefused: eventKind('SchemaUriRefused', 'invalid'),
  SchemaNotFound: eventKind('SchemaNotFound', 'invalid'),
  SchemaInvalid: eventKind('SchemaInvalid', 'invalid'),
  StreamNotConfigured: eventKind('StreamNotConfigured', 'invalid'),
  SchemaTitleMismatch: eventKind('SchemaTitleMismatch', 'invalid'),
  EventTooLarge: eventKind('EventTooLarge', 'invalid'),
  MessageKeyMissing: eventKind('MessageKeyMissing', 'invalid'),
  SchemaUnavailable: eventKind('SchemaUnavailable', 'error'),
  SinkError: eventKind('SinkError', 'error'),
  InternalError: eventKind('InternalError', 'error'),
});

export type EventKindName = keyof typeof EventKinds;

export interface RequestKind {
  readonly errorType: string;
  readonly status: number;
  readonly title: string;
}

function requestKind(errorType: string, status: number, title: string): RequestKind {
  return Object.freeze({ errorType, status, title });
}

export const RequestKinds = Object.freeze({
  MalformedBody: requestKind('MalformedBody', 400, 'Request body is not a JSON object or array of objects'),
  EmptyBody: requestKind('EmptyBody', 400, 'Request body holds no events'),
  UnknownStream: requestKind('UnknownStream', 400, 'Stream not available for consumption'),
  BadResumePosition: requestKind('BadResumePosition', 400, 'Bad since parameter or Last-Event-ID'),
  BadFilter: requestKind('BadFilter', 400, 'Bad filter parameter'),
  NotFound: requestKind('NotFound', 404, 'Not found'),
  RequestTimeout: requestKind('RequestTimeout', 408, 'Request body not received in time'),
  PayloadTooLarge: requestKind('PayloadTooLarge', 413, 'Request body too large'),
  UnsupportedMediaType: requestKind('UnsupportedMediaType', 415, 'Unsupported content type'),
  UnsupportedEncoding: requestKind('UnsupportedEncoding', 415, 'Unsupported content encoding'),
  TooManyClients: requestKind('TooManyClients', 429, 'Too many stream clients, retry later'),
  InternalError: requestKind('InternalError', 500, 'Internal error'),
  Overloaded: requestKind('Overloaded', 503, 'Overloaded, retry later'),
  ShuttingDown: requestKind('ShuttingDown', 503, 'Shutting down'),
  NotReady: requestKind('NotReady', 503, 'Not ready'),
  StreamSourceUnavailable: requestKind('StreamSourceUnavailable', 503, 'Kafka not configured or unreachable for streaming'),
});

export type RequestKindName = keyof typeof RequestKinds;

/** An RFC 9457 problem body; `extra` carries machine-readable members such as the limit that was hit. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export function problem(kind: RequestKind, detail: string, extra?: Record<string, unknown>): Problem {
  return { type: `urn:sluice:problem:${kind.errorType}`, title: kind.title, status: kind.status, detail, ...extra };
}

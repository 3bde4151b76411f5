/** The OpenAPI 3 document served at GET /?spec. Hand-written: the API is small and stable. */

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const eventsResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/EventResults' } } } });
const jsonOk = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

const eventStreamsPath = {
  get: {
    summary: 'Server-Sent Events of the named streams, read from Kafka',
    parameters: [
      { name: 'streams', in: 'path', required: true, schema: { type: 'string' }, description: 'Comma-separated names from eventstreams.allowed_streams' },
      { name: 'since', in: 'query', schema: { type: 'string' }, description: 'Start at this time: ISO-8601 or epoch milliseconds' },
      { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'Only events whose field equals a value: <dotted.path>:<value>' },
      { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' }, description: 'Resume after this event id (JSON array of {topic, partition, offset|timestamp})' },
    ],
    responses: {
      '200': { description: 'event: message, id: <positions>, data: <event JSON>; keep-alive comments', content: { 'text/event-stream': {} } },
      '400': problemResponse('Unknown or disallowed stream; bad since, Last-Event-ID or filter'),
      '429': problemResponse('Too many clients (in total or from this address); see Retry-After'),
      '503': problemResponse('No Kafka configured, or Kafka unreachable'),
    },
  },
};

export function openApiDocument(info: { name: string; version: string; description: string }, metricsPath: string | null, servesStreams: boolean): unknown {
  return {
    openapi: '3.0.3',
    info: { title: info.name, version: info.version, description: info.description },
    paths: {
      '/v1/events': {
        post: {
          summary: 'Validate events against their schemas and produce them to their streams',
          parameters: [{ name: 'hasty', in: 'query', schema: { type: 'string', enum: ['true', '1', 'yes', 'false', '0', ''] }, description: 'Answer 202 on receipt; validate and produce afterwards' }],
          requestBody: {
            required: true,
            content: Object.fromEntries(
              ['application/json', 'text/plain', 'application/reports+json'].map((type) => [type, { schema: { oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] } }]),
            ),
          },
          responses: {
            '201': { description: 'Every event accepted' },
            '202': { description: 'Hasty: received, to be validated and produced' },
            '207': eventsResponse('Some events accepted; the others are listed'),
            '400': { description: 'Every event invalid, or a malformed body', content: { 'application/json': { schema: { $ref: '#/components/schemas/EventResults' } }, 'application/problem+json': { schema: problem } } },
            '413': problemResponse('Body larger than limits.max_body_bytes'),
            '415': problemResponse('Unsupported content type or encoding'),
            '500': eventsResponse('No event accepted and at least one failed on the server side'),
            '503': problemResponse('Overloaded, sink unavailable or shutting down; see Retry-After'),
          },
        },
      },
      '/v1/_test/events': { get: { summary: 'Run the configured test events through the intake path', responses: { '201': { description: 'Test events accepted' }, '404': problemResponse('No test events configured') } } },
      '/v1/stream-configs': { get: { summary: 'Loaded stream configs', responses: { '200': jsonOk('Stream name (or /regex/) to settings') } } },
      '/v1/stream-configs/{streams}': {
        get: {
          summary: 'Stream configs of the named streams',
          parameters: [{ name: 'streams', in: 'path', required: true, schema: { type: 'string' }, description: 'Comma- or |-separated stream names' }],
          responses: { '200': jsonOk('Settings of the named streams that are configured') },
        },
      },
      // Present when EventStreams is enabled on this listener.
      ...(servesStreams ? { '/v2/stream/{streams}': eventStreamsPath } : {}),
      // Absent when metrics.port moves scrapes to a listener of their own.
      ...(metricsPath === null ? {} : { [metricsPath]: { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } } } } } }),
      '/healthz': { get: { summary: 'Liveness', responses: { '200': jsonOk('Alive') } } },
      '/readyz': { get: { summary: 'Readiness', responses: { '200': jsonOk('Ready'), '503': problemResponse('Not ready, with the reason') } } },
      '/_info': { get: { summary: 'Service information', responses: { '200': jsonOk('name, version, description, home') } } },
      '/robots.txt': { get: { summary: 'Robots exclusion', responses: { '200': { description: 'Disallow all', content: { 'text/plain': {} } } } } },
    },
    components: {
      schemas: {
        Problem: { type: 'object', required: ['type', 'title', 'status', 'detail'], properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } } },
        EventStatus: {
          type: 'object',
          required: ['status', 'event', 'context'],
          properties: { status: { type: 'string', enum: ['invalid', 'error'] }, event: {}, context: { type: 'object', required: ['error_type'], properties: { error_type: { type: 'string' } } } },
        },
        EventResults: {
          type: 'object',
          properties: { invalid: { type: 'array', items: { $ref: '#/components/schemas/EventStatus' } }, error: { type: 'array', items: { $ref: '#/components/schemas/EventStatus' } } },
        },
      },
    },
  };
}

// The naive gateway of DESIGN.md §11: what one would write in an afternoon with `node:http` and Ajv, on one
// thread. It parses the body (gunzipping it when asked), validates each event against the schema its
// `$schema` names (compiled once, from the same schemas/ files Sluice uses), appends the valid ones as
// JSON lines to one file, and answers 201 / 207 / 400 once the write has been handed to the kernel. No
// stream rules, augmentation, error stream or fsync: it is the baseline Sluice is measured against, so
// everything it skips only flatters it.
//
// Usage: node dist/bench/naive.js <port> <output file>   prints `listening <port>` when ready.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

const SCHEMA_DIR = path.resolve(__dirname, '..', '..', 'schemas');
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const ajv = new Ajv({ allErrors: false, useDefaults: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction | null>();

/** `/test/event/1.0.0` → schemas/test/event/1.0.0.yaml, compiled on first use; null when there is none. */
function validatorFor(uri: unknown): ValidateFunction | null {
  if (typeof uri !== 'string' || uri.includes('..')) return null;
  let validate = validators.get(uri);
  if (validate === undefined) {
    try {
      const schema = parseYaml(fs.readFileSync(path.join(SCHEMA_DIR, `${uri}.yaml`), 'utf8')) as Record<string, unknown>;
      delete schema.$schema; // the https spelling of draft-07 is not one Ajv knows by that name
      delete schema.$id;
      validate = ajv.compile(schema);
    } catch {
      validate = null;
    }
    validators.set(uri, validate);
  }
  return validate;
}

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, out: fs.WriteStream): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return answer(res, 413, { error: 'body too large' });
    let parsed: unknown;
    try {
      const raw = Buffer.concat(chunks);
      parsed = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }) : raw).toString('utf8'));
    } catch {
      return answer(res, 400, { error: 'malformed body' });
    }
    const events = Array.isArray(parsed) ? parsed : [parsed];
    const lines: string[] = [];
    const invalid: { index: number; message: string }[] = [];
    events.forEach((event: unknown, index) => {
      const validate = event !== null && typeof event === 'object' ? validatorFor((event as Record<string, unknown>).$schema) : null;
      if (validate && validate(event)) lines.push(JSON.stringify(event));
      else invalid.push({ index, message: validate ? ajv.errorsText(validate.errors) : 'no schema' });
    });
    if (lines.length === 0) return answer(res, 400, { invalid });
    out.write(lines.join('\n') + '\n', () => (invalid.length ? answer(res, 207, { invalid }) : res.writeHead(201).end()));
  });
}

function main(): void {
  const port = Number(process.argv[2]);
  const outFile = process.argv[3];
  if (!Number.isInteger(port) || port <= 0 || !outFile) {
    console.error('usage: node dist/bench/naive.js <port> <output file>');
    process.exit(2);
  }
  const out = fs.createWriteStream(outFile, { flags: 'a' });
  const server = http.createServer((req, res) => handle(req, res, out));
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
  process.on('SIGTERM', () => out.end(() => process.exit(0)));
}

main();

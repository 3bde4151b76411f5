// The worker half of bare-split.ts: per request body only what DESIGN.md §1 puts in a worker and no
// gateway can skip (UTF-8 decode, JSON.parse, Ajv validation, JSON.stringify of each event), one status
// byte per body back. No stream rules, augmentation, error rows, metrics or result packing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import Piscina from 'piscina';
import { parse as parseYaml } from 'yaml';

const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', 'schemas');
/** Status byte per body; bare-split.ts answers 201 for it, else 400. */
const STATUS_VALID = 1;
const STATUS_INVALID = 2;

const ajv = new Ajv({ strict: false, validateSchema: false });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

function validatorFor(uri: string): ValidateFunction {
  let validate = validators.get(uri);
  if (!validate) {
    // The bench's bodies name bundled schemas only (/test/event/1.0.0, /analytics/click/1.0.0).
    const { $schema: _metaSchema, ...schema } = parseYaml(fs.readFileSync(path.join(SCHEMAS_DIR, `${uri}.yaml`), 'utf8')) as Record<string, unknown>;
    validate = ajv.compile(schema);
    validators.set(uri, validate);
  }
  return validate;
}

function bodyValid(text: string): boolean {
  const parsed = JSON.parse(text) as unknown;
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  let valid = true;
  for (const event of events) {
    if (validatorFor(String(event.$schema))(event)) JSON.stringify(event);
    else valid = false;
  }
  return valid;
}

/** Task layout (bare-split.ts): int32 count, int32 offsets[count + 1], then the bodies back to back. */
export default function checkBodies(buffer: ArrayBuffer): unknown {
  const count = new Int32Array(buffer, 0, 1)[0]!;
  const offsets = new Int32Array(buffer, 4, count + 1);
  const bodiesAt = 4 * (count + 2);
  const bytes = Buffer.from(buffer);
  const statuses = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let valid: boolean;
    try {
      valid = bodyValid(bytes.toString('utf8', bodiesAt + offsets[i]!, bodiesAt + offsets[i + 1]!));
    } catch {
      valid = false;
    }
    statuses[i] = valid ? STATUS_VALID : STATUS_INVALID;
  }
  bytes.set(statuses, 0); // the bodies are read: the statuses go back in the same buffer
  return Piscina.move(buffer);
}

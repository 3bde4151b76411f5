import Ajv, { type AnySchemaObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import secureMetaSchema from 'ajv/dist/refs/json-schema-secure.json';
import { EventKinds } from '../outcomes';
import { compareDateTime, isDateTime, isUuid } from './formats';
import type { SchemaDocument, SchemaRepository } from './repository';

export interface CompiledSchema {
  readonly ok: true;
  readonly key: string;
  readonly title: string | undefined;
  readonly validate: ValidateFunction;
  /** Top-level-rooted property paths the schema declares, e.g. "meta.id"; augmentation only fills these. */
  readonly declares: (path: string) => boolean;
}

export interface SchemaFailure {
  readonly ok: false;
  readonly kind: (typeof EventKinds)[keyof typeof EventKinds];
  readonly message: string;
}

/** A `$ref`d schema could not be loaded for a retryable reason: the referring schema is not broken. */
class ReferenceUnavailable extends Error {}

type Draft = 'draft-04' | 'draft-07' | '2019-09' | '2020-12';

/** Every spelling real repositories use (http/https, with or without '#') maps to one draft. */
const DRAFT_PATTERNS: ReadonlyArray<[RegExp, Draft]> = [
  [/^https?:\/\/json-schema\.org\/draft-04\/schema#?$/, 'draft-04'],
  [/^https?:\/\/json-schema\.org\/draft-0[67]\/schema#?$/, 'draft-07'],
  [/^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/, '2019-09'],
  [/^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/, '2020-12'],
];

const CANONICAL_META: Record<Draft, string> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/**
 * Compiles schemas from the repository with Ajv, one Ajv instance per draft, created on first use.
 * `$ref`s to other schemas resolve through the same repository, so they obey the same base rules.
 */
export class SchemaCompiler {
  private readonly instances = new Map<Draft, Ajv>();
  private readonly checkSecure: ValidateFunction | null;

  constructor(
    private readonly repository: SchemaRepository,
    private readonly allowInsecure: boolean,
  ) {
    this.checkSecure = allowInsecure ? null : new Ajv({ strict: false, allErrors: true }).compile(secureMetaSchema);
  }

  async compile(key: string, document: SchemaDocument): Promise<CompiledSchema | SchemaFailure> {
    const draft = detectDraft(document.$schema);
    if (!draft) return invalid(key, `unsupported meta-schema ${String(document.$schema)}`);
    if (this.checkSecure && !this.checkSecure(document)) {
      const why = (this.checkSecure.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      return invalid(key, `is not secure for untrusted input (${why}); fix it or set schemas.allow_insecure`);
    }
    const ajv = this.instance(draft);
    const normalised: AnySchemaObject = { ...document, $schema: CANONICAL_META[draft] };
    try {
      const validate = ajv.getSchema(String(document.$id ?? '')) ?? (await ajv.compileAsync(normalised));
      return {
        ok: true,
        key,
        title: typeof document.title === 'string' ? document.title : undefined,
        validate,
        declares: declaredPaths(document),
      };
    } catch (err) {
      if (!(err instanceof ReferenceUnavailable)) return invalid(key, `cannot be compiled: ${(err as Error).message}`);
      // Forget the half-compiled schema so the next event retries instead of hitting a missing $ref.
      if (typeof document.$id === 'string') ajv.removeSchema(document.$id);
      return { ok: false, kind: EventKinds.SchemaUnavailable, message: `schema ${key}: ${err.message}` };
    }
  }

  private instance(draft: Draft): Ajv {
    let ajv = this.instances.get(draft);
    if (!ajv) {
      ajv = createAjv(draft, this.options());
      this.instances.set(draft, ajv);
    }
    return ajv;
  }

  private options(): Options {
    return {
      allErrors: true,
      useDefaults: true,
      // Strict schema checking catches typos in keywords; type strictness would refuse common real-world schemas.
      strict: false,
      strictSchema: !this.allowInsecure,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      // A number literal beyond double range parses to Infinity, which Ajv would otherwise accept as a
      // number or even an integer, and JSON.stringify would then store as null: an event that is not
      // what was validated. Strict numbers refuse NaN and ±Infinity wherever a schema asks for a number.
      strictNumbers: true,
      logger: false,
      loadSchema: (uri: string) => this.loadReferenced(uri),
    };
  }

  private async loadReferenced(uri: string): Promise<AnySchemaObject> {
    const load = await this.repository.load(uri);
    if (!load.ok) throw load.kind.group === 'error' ? new ReferenceUnavailable(load.message) : new Error(load.message);
    const draft = detectDraft(load.document.$schema) ?? 'draft-07';
    return { ...load.document, $schema: CANONICAL_META[draft] };
  }
}

function createAjv(draft: Draft, options: Options): Ajv {
  let ajv: Ajv;
  if (draft === 'draft-04') ajv = new AjvDraft04(options) as unknown as Ajv;
  else if (draft === '2019-09') ajv = new Ajv2019(options);
  else if (draft === '2020-12') ajv = new Ajv2020(options);
  else {
    ajv = new Ajv(options);
    ajv.addMetaSchema(draft06);
  }
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime, compare: compareDateTime });
  ajv.addFormat('uuid', { type: 'string', validate: isUuid });
  return ajv;
}

function detectDraft(meta: unknown): Draft | null {
  if (meta === undefined) return 'draft-07';
  if (typeof meta !== 'string') return null;
  for (const [pattern, draft] of DRAFT_PATTERNS) if (pattern.test(meta)) return draft;
  return null;
}

function invalid(key: string, why: string): SchemaFailure {
  return { ok: false, kind: EventKinds.SchemaInvalid, message: `schema ${key} ${why}` };
}

/** Whether a dotted path is declared under `properties` (following local `#/…` refs). */
function declaredPaths(root: SchemaDocument): (path: string) => boolean {
  const memo = new Map<string, boolean>();
  return (dotted) => {
    let known = memo.get(dotted);
    if (known === undefined) {
      known = walk(root, root, dotted.split('.'));
      memo.set(dotted, known);
    }
    return known;
  };
}

function walk(root: SchemaDocument, node: unknown, segments: string[]): boolean {
  const schema = deref(root, node);
  if (segments.length === 0) return schema !== undefined;
  const props = schema?.properties;
  if (typeof props !== 'object' || props === null) return false;
  const [head, ...rest] = segments as [string, ...string[]];
  if (!Object.prototype.hasOwnProperty.call(props, head)) return false;
  return walk(root, (props as Record<string, unknown>)[head], rest);
}

function deref(root: SchemaDocument, node: unknown): Record<string, unknown> | undefined {
  let current = node;
  for (let hops = 0; hops < 8 && typeof current === 'object' && current !== null; hops++) {
    const ref = (current as Record<string, unknown>).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return current as Record<string, unknown>;
    current = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((n, part) => (typeof n === 'object' && n !== null ? (n as Record<string, unknown>)[part] : undefined), root);
  }
  return typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : undefined;
}

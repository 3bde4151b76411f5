import type { Task } from '../src/batching/wire';
import type { Config } from '../src/config/types';
import type { CompiledSchema } from '../src/schemas/compiler';
import { fillField, hasField, parsePath, type FieldPath } from './fields';
import { uuid } from '../src/uuid';

const MAX_HEADER_CHARS = 400;

const enum Source {
  Id,
  Dt,
  Header,
  ClientIp,
}

interface DefaultField {
  readonly dotted: string;
  readonly path: FieldPath;
  readonly source: Source;
  /** For Source.Header: position among the configured headers. */
  readonly header: number;
}

/** What augmentation needs to know about the request an event came in. */
export interface RequestFacts {
  readonly dt: string;
  readonly clientIp: string;
  readonly index: number;
}

/**
 * DESIGN.md §5 step 4: fills meta.id, meta.dt, header-derived fields and the client IP, only where
 * the event's schema declares the field and the event lacks it. Which fields a schema declares is
 * worked out once per schema, not per event.
 */
export class Augmenter {
  private readonly fields: DefaultField[] = [];
  private readonly plans = new WeakMap<CompiledSchema, DefaultField[]>();

  constructor(defaults: Config['defaults']) {
    if (defaults.id_field) this.fields.push(field(defaults.id_field, Source.Id));
    if (defaults.dt_field) this.fields.push(field(defaults.dt_field, Source.Dt));
    Object.values(defaults.headers_to_fields).forEach((dotted, i) => this.fields.push(field(dotted, Source.Header, i)));
    if (defaults.client_ip_field) this.fields.push(field(defaults.client_ip_field, Source.ClientIp));
  }

  apply(event: Record<string, unknown>, schema: CompiledSchema, request: RequestFacts, task: Task): void {
    const plan = this.planFor(schema);
    for (let i = 0; i < plan.length; i++) {
      const f = plan[i]!;
      if (hasField(event, f.path)) continue;
      const value = this.valueFor(f, request, task);
      if (value !== '') fillField(event, f.path, value);
    }
  }

  private valueFor(f: DefaultField, request: RequestFacts, task: Task): string {
    switch (f.source) {
      case Source.Id:
        return uuid();
      case Source.Dt:
        return request.dt;
      case Source.Header:
        return task.header(request.index, f.header).slice(0, MAX_HEADER_CHARS);
      case Source.ClientIp:
        return request.clientIp;
    }
  }

  private planFor(schema: CompiledSchema): DefaultField[] {
    let plan = this.plans.get(schema);
    if (!plan) {
      plan = this.fields.filter((f) => schema.declares(f.dotted));
      this.plans.set(schema, plan);
    }
    return plan;
  }
}

function field(dotted: string, source: Source, header = -1): DefaultField {
  return { dotted, path: parsePath(dotted), source, header };
}

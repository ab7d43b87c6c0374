import * as path from 'node:path';
import { dereference, validate, type Schema } from '@cfworker/json-schema';
import { schemaErrors, type SchemaError } from './schema-errors';
import { isOpenSchema, type CrdEntry, type SchemaStore } from './store';
import { applyDefaults, CORE_ID, linkSwagger, patchFormats, sanitizePatterns, strictify } from './transforms';
import { clone, gvOf, keyOf, type JsonObject } from './util';

/** Everything needed to validate objects of one apiVersion/kind. */
export interface KindSchema {
  /** The schema to validate against (dereferenced into the engine's lookup). */
  readonly schema: Schema;
  /** The CRD schema whose `default`s are applied first; absent for core and swagger kinds. */
  readonly defaults?: JsonObject;
  /** Which schema this is, e.g. `k8s v1.27.0`, `crd kubeflow.org_pytorchjobs.yaml`, `swagger swagger.json`. */
  readonly origin: string;
  /** The CRD schema accepts anything (and no swagger file describes the kind). */
  readonly open: boolean;
  /** The CRD marks this version `served: false`. */
  readonly unserved: boolean;
  /** How many Go-only regular expressions were dropped from the schema. */
  readonly droppedPatterns: number;
}

type Lookup = Record<string, Schema | boolean>;

/** CRDs found among the validated objects; they live only for one `validateObjects` call. */
export class InputScope {
  private static counter = 0;
  /** The CRDs of the input, by `group/version/Kind`. */
  public readonly crds = new Map<string, CrdEntry>();
  /** Schemas compiled from those CRDs. */
  public readonly compiled = new Map<string, KindSchema>();
  /** The engine's lookup plus the input's schemas (own properties only). */
  public readonly lookup: Lookup;
  /** Unique `$id` prefix of this scope. */
  public readonly idBase: string;

  constructor(parent: Lookup) {
    this.lookup = Object.create(parent) as Lookup;
    this.idBase = `https://k8s.schemas.local/input/${++InputScope.counter}/kind/`;
  }
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * Compiles (dereferences) and caches schemas per kind, lazily, on top of a {@link SchemaStore}.
 * The core definitions are dereferenced once, on first use (about 0.1 s).
 */
export class SchemaEngine {
  /** The engine for a store and strictness, created once per module instance. */
  public static for(store: SchemaStore, strict: boolean): SchemaEngine {
    const pair = ENGINES.get(store) ?? {};
    ENGINES.set(store, pair);
    const key = strict ? 'strict' : 'lax';
    return (pair[key] ??= new SchemaEngine(store, strict));
  }

  /** Registered schemas by URI, shared by every kind. */
  public readonly lookup: Lookup = Object.create(null) as Lookup;
  /** The schema files. */
  public readonly store: SchemaStore;
  /** Unknown fields are rejected (`additionalProperties: false` added). */
  public readonly strict: boolean;
  private readonly compiled = new Map<string, KindSchema | null>();
  private readonly swaggerIds = new Map<string, { id: string; dropped: number }>();
  private coreDropped = -1;

  private constructor(store: SchemaStore, strict: boolean) {
    this.store = store;
    this.strict = strict;
    patchFormats();
  }

  /** The schema for an apiVersion/kind, or `null` when none is known. */
  public resolve(apiVersion: string, kind: string, input?: InputScope): KindSchema | null {
    this.ensureCore();
    const key = keyOf(apiVersion, kind);
    const coreName = this.store.coreDefinition(apiVersion, kind);
    if (!coreName && input?.crds.has(key)) {
      let k = input.compiled.get(key);
      if (!k) {
        k = this.compileCrd(input.crds.get(key)!, apiVersion, kind, input.idBase + key, input.lookup);
        input.compiled.set(key, k);
      }
      return k;
    }
    if (this.compiled.has(key)) return this.compiled.get(key)!;
    let k: KindSchema | null = null;
    if (coreName) {
      const schema: Schema = { $id: `https://k8s.schemas.local/kind/${key}`, $ref: `${CORE_ID}#/definitions/${coreName}` };
      dereference(schema, this.lookup);
      k = { schema, origin: `k8s ${this.store.coreVersion}`, open: false, unserved: false, droppedPatterns: this.coreDropped };
    } else {
      const crd = this.store.crd(apiVersion, kind);
      if (crd) k = this.compileCrd(crd, apiVersion, kind, `https://k8s.schemas.local/kind/${key}`, this.lookup);
    }
    this.compiled.set(key, k);
    return k;
  }

  /** Validates `obj` (CRD defaults applied to a copy first) and returns its schema errors. */
  public check(k: KindSchema, obj: JsonObject, input?: InputScope): SchemaError[] {
    const data = clone(obj);
    if (k.defaults) applyDefaults(k.defaults, data);
    const lookup = input ? input.lookup : this.lookup;
    const r = validate(data, k.schema, '7', lookup, false);
    return r.valid ? [] : schemaErrors(r.errors, k.schema, lookup);
  }

  private ensureCore(): void {
    if (this.coreDropped >= 0) return;
    const defs = clone(this.store.coreDefs);
    this.coreDropped = sanitizePatterns(defs);
    dereference({ $id: CORE_ID, definitions: this.strict ? strictify({ definitions: defs }).definitions : defs } as Schema, this.lookup);
  }

  private compileCrd(crd: CrdEntry, apiVersion: string, kind: string, id: string, lookup: Lookup): KindSchema {
    const { version } = gvOf(apiVersion);
    const open = isOpenSchema(crd.schema);
    const unserved = !crd.served;
    const sw = open && crd.dir ? this.store.swaggerFor(crd.dir, version, kind) : undefined;
    if (sw) {
      let reg = this.swaggerIds.get(sw.file);
      if (!reg) {
        const defs = linkSwagger(sw.defs, this.store.coreDefs);
        reg = { id: `https://k8s.schemas.local/swagger/${this.swaggerIds.size}`, dropped: sanitizePatterns(defs) };
        dereference({ $id: reg.id, definitions: this.strict ? strictify({ definitions: defs }).definitions : defs } as Schema, this.lookup);
        this.swaggerIds.set(sw.file, reg);
      }
      const schema: Schema = { $id: id, $ref: `${reg.id}#/definitions/${sw.name}` };
      dereference(schema, lookup);
      return { schema, origin: `swagger ${path.basename(sw.file)}`, open: false, unserved, droppedPatterns: reg.dropped };
    }
    const schema = clone(crd.schema) as Schema;
    schema.$id = id;
    schema.type ??= 'object';
    const props: Record<string, Schema | boolean> = (schema.properties ??= {});
    for (const k of ['apiVersion', 'kind']) props[k] ??= { type: 'string' };
    if (this.store.coreDefs[OBJECT_META]) props.metadata = { $ref: `${CORE_ID}#/definitions/${OBJECT_META}` };
    const dropped = sanitizePatterns(schema);
    if (this.strict && !open) strictify(schema);
    dereference(schema, lookup);
    const origin = `crd ${crd.source === '(input)' ? '(input)' : path.basename(crd.source)}`;
    return { schema, defaults: schema, origin, open, unserved, droppedPatterns: dropped };
  }
}

const ENGINES = new WeakMap<SchemaStore, { strict?: SchemaEngine; lax?: SchemaEngine }>();

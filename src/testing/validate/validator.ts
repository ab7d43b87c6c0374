import { ARGO_PLACEHOLDER, embeddedManifests } from '../../core/checks/embedded';
import { schemasDir } from '../schemas';
import { InputScope, SchemaEngine } from './engine';
import { fieldPath } from './format';
import { podSecurityChecks } from './pss';
import { semanticChecks } from './semantic';
import { registerCrd, SchemaStore } from './store';
import type { Finding, FindingSource, PssLevel, Report, ResolvedValidatorOptions, Validator, ValidatorOptions } from './types';
import { dropNulls, get, gvOf, isObj, keyOf, ptr, str, type JsonObject, type Segments } from './util';
import { parseManifests } from './yaml';

interface Item {
  readonly o: unknown;
  readonly doc: number;
}

/** State of one validateObjects call. */
interface CallState {
  readonly file: string;
  readonly errors: Finding[];
  readonly warnings: Finding[];
  /** CRDs of the input */
  readonly scope?: InputScope;
  /** kinds already warned about (once per call) */
  readonly warned: Set<string>;
}

class ManifestValidator implements Validator {
  public readonly options: ResolvedValidatorOptions;
  private readonly store: SchemaStore;
  private readonly engine: SchemaEngine;
  private readonly allow: ReadonlySet<string>;

  constructor(options: ResolvedValidatorOptions) {
    this.options = options;
    this.store = SchemaStore.for(options.schemaDirs, options.k8sVersion);
    this.engine = SchemaEngine.for(this.store, options.strict);
    this.allow = new Set(options.allowKinds);
  }

  public validateText(yaml: string, file = ''): Report {
    const parsed = parseManifests(yaml, file);
    const report = this.validateObjects(parsed.objects, file);
    return { ...report, errors: [...parsed.errors, ...report.errors] };
  }

  public validateObjects(objects: readonly unknown[], file = ''): Report {
    const errors: Finding[] = [];
    const warnings: Finding[] = [];
    const items: Item[] = [];
    objects.forEach((o, doc) => {
      if (isObj(o) && o.kind === 'List' && Array.isArray(o.items)) o.items.forEach((it) => items.push({ o: it, doc }));
      else if (o !== null && o !== undefined) items.push({ o, doc });
    });
    // CRDs in the input itself apply to this call only
    let input: InputScope | undefined;
    for (const { o } of items) {
      if (!isObj(o) || o.kind !== 'CustomResourceDefinition' || !isObj(o.spec)) continue;
      input ??= new InputScope(this.engine.lookup);
      registerCrd(input.crds, o, '(input)');
    }
    const ids = new Map<string, number>();
    const state: CallState = { file, errors, warnings, scope: input, warned: new Set() };
    for (const { o, doc } of items) {
      this.validateObject(o, doc, state);
      if (!this.options.semantic || !isObj(o) || !isObj(o.metadata) || !o.metadata.name) continue;
      const name = String(o.metadata.name);
      const id = `${gvOf(o.apiVersion).group}/${String(o.kind)}/${str(o.metadata.namespace) ?? ''}/${name}`;
      const first = ids.get(id);
      if (first === undefined) ids.set(id, doc);
      else errors.push({ file, doc, kind: String(o.kind), name, path: '/metadata/name', message: `duplicate object (same group, kind, namespace and name as document ${first})`, source: 'semantic' });
    }
    return { objects: items.length, errors, warnings };
  }

  private validateObject(input: unknown, doc: number, out: CallState): void {
    const { file, scope, warned } = out;
    const obj = dropNulls(input);
    const md = isObj(obj) && isObj(obj.metadata) ? obj.metadata : {};
    const base = {
      file,
      doc,
      kind: isObj(obj) && obj.kind !== undefined ? String(obj.kind) : '?',
      name: md.name !== undefined ? String(md.name) : md.generateName !== undefined ? String(md.generateName) : '?',
    };
    const add = (list: Finding[], segs: Segments | string, message: string, source: FindingSource, origin?: string): void => {
      list.push({ ...base, path: typeof segs === 'string' ? segs : ptr(segs), message, source, ...(origin ? { origin } : {}) });
    };
    const before = out.errors.length;
    if (!isObj(obj)) return add(out.errors, [], 'document is not an object', 'schema');
    if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) add(out.errors, ['apiVersion'], 'missing required field "apiVersion"', 'schema');
    if (typeof obj.kind !== 'string' || !obj.kind) add(out.errors, ['kind'], 'missing required field "kind"', 'schema');
    if (out.errors.length > before) return;
    const apiVersion = obj.apiVersion as string;
    const kind = obj.kind as string;
    const key = keyOf(apiVersion, kind);
    const k = this.engine.resolve(apiVersion, kind, scope);
    if (k) {
      if (k.unserved) add(out.errors, ['apiVersion'], `${apiVersion} ${kind} is not served (served: false in its CRD)`, 'schema', k.origin);
      if (k.open) add(out.warnings, [], `the CRD schema of ${apiVersion} ${kind} accepts anything (x-kubernetes-preserve-unknown-fields)`, 'schema', k.origin);
      if (k.droppedPatterns > 0 && !warned.has(key)) {
        warned.add(key);
        add(out.warnings, [], `${k.droppedPatterns} pattern(s) of the ${apiVersion} ${kind} schema use Go-only regex syntax and were not checked`, 'schema', k.origin);
      }
      for (const e of this.engine.check(k, obj, scope)) add(out.errors, e.path, e.message, 'schema', k.origin);
    }
    const { group } = gvOf(apiVersion);
    const builtinGroup = this.store.isBuiltinGroup(group) && !scope?.crds.has(key) && !this.store.crd(apiVersion, kind);
    if (!k && builtinGroup) {
      add(out.errors, ['apiVersion'], `${apiVersion} ${kind} is not served by Kubernetes ${this.store.coreVersion} (removed or not yet added API)`, 'schema');
    }
    if (!k && !builtinGroup && !this.allow.has(kind) && !this.allow.has(key)) {
      add(out.errors, ['kind'], `unknown kind: no schema for ${apiVersion} ${kind} (add its CRD to a schema folder, or pass allowKinds: ['${kind}'])`, 'schema');
    }
    if (this.options.semantic) semanticChecks(obj, (segs, msg) => add(out.errors, segs, msg, 'semantic'));
    if (this.options.pss) podSecurityChecks(obj, this.options.pss, (segs, msg) => add(out.errors, segs, msg, 'pss'));
    this.validateEmbedded(obj, doc, out, (list, pointer, message, source, origin) => add(list, pointer, message, source, origin));
  }

  /**
   * The objects an Argo `resource` template creates (its `manifest` string), validated like any other
   * object, as Argo's executor would send them to the API server: the `{{…}}` expressions replaced by
   * a placeholder (core `embeddedManifests`). Their findings point at the manifest string and name the
   * field inside it; a finding on a value that holds a placeholder is dropped (the value is known only
   * at run time).
   */
  private validateEmbedded(
    obj: JsonObject, doc: number, out: CallState,
    add: (list: Finding[], pointer: string, message: string, source: FindingSource, origin?: string) => void,
  ): void {
    // Read as the validator reads any manifest text (YAML 1.1, as kubectl): the `parse` layer's rules.
    const parse = (text: string) => {
      const parsed = parseManifests(text);
      if (parsed.errors.length > 0) throw new Error(parsed.errors[0].message);
      return parsed.objects;
    };
    for (const e of embeddedManifests(obj, undefined, parse)) {
      if (e.object === undefined) {
        add(out.errors, e.pointer, `embedded manifest of template "${e.templateName}" does not parse: ${e.error}`, 'parse');
        continue;
      }
      const inner: CallState = { file: out.file, errors: [], warnings: [], scope: out.scope, warned: out.warned };
      this.validateObject(e.object, doc, inner);
      const embedded = e.object;
      for (const [list, found] of [[out.errors, inner.errors], [out.warnings, inner.warnings]] as const) {
        for (const f of found) {
          const value = get(embedded, f.path.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~')));
          if (typeof value === 'string' && value.includes(ARGO_PLACEHOLDER)) continue;
          add(list, e.pointer, `embedded ${f.kind}/${f.name} ${fieldPath(f.path)}: ${f.message}`, f.source, f.origin);
        }
      }
    }
  }
}

const PSS_LEVELS: ReadonlyArray<PssLevel | undefined> = [undefined, 'baseline', 'restricted'];

/**
 * Creates a validator of Kubernetes manifests that works offline, from schema files: the Kubernetes
 * core definitions (`kubernetes/v<k8sVersion>/_definitions.json`), CRD files, any CRD in the input,
 * and swagger files for CRDs whose schema is open (Katib). Layers, each named in its findings:
 * `parse` (YAML 1.1), `schema` (types, enums, patterns, formats, required fields after CRD defaulting,
 * unknown fields when strict, unknown kinds, removed API versions), `semantic` (apiserver rules that
 * OpenAPI cannot express) and `pss` (Pod Security Standards, when `pss` is set).
 *
 * Schemas are loaded once per process (per jest test file) and options, lazily per kind; parsed CRD
 * files are also cached as JSON on disk (see `MLPLATFORM_VALIDATE_CACHE`).
 * @throws when a schema folder or the core definitions of `k8sVersion` are missing
 */
export function createValidator(opts: ValidatorOptions = {}): Validator {
  if (!PSS_LEVELS.includes(opts.pss)) throw new Error(`pss must be 'baseline', 'restricted' or undefined, not ${JSON.stringify(opts.pss)}`);
  const options: ResolvedValidatorOptions = {
    schemaDirs: [...(opts.schemaDirs ?? [schemasDir()])],
    k8sVersion: opts.k8sVersion ?? '1.27.0',
    strict: opts.strict ?? true,
    semantic: opts.semantic ?? true,
    allowKinds: [...(opts.allowKinds ?? [])],
    ...(opts.pss ? { pss: opts.pss } : {}),
  };
  return new ManifestValidator(options);
}

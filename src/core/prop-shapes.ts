import { AcceleratorCatalog } from './accelerators';
import { EndpointExposure, ModelSource, Runtime, Scaling } from './endpoint';
import { Issues, ValidationIssue } from './errors';
import { Dataset } from './pipeline';
import { AddonDelivery, ArtifactStore, BackendStore, Exposure, TrackingAuth } from './platform';
import { FACTORY_SHAPES, NAMED_SHAPES, ROOT_SHAPES } from './prop-shapes-data';
import { Cpu, Duration, Size } from './quantities';
import { Pruner, Sampler, StudyStorage } from './sweep';

/**
 * A run-time shape of a prop, generated from the TypeScript declarations (prop-shapes-data.ts): a
 * JavaScript caller has no compiler, so each construct checks its props against these before any
 * other validation, and a wrong type fails with a {@link ValidationError} naming the prop path
 * instead of a `TypeError` from deep inside.
 * @internal
 */
export type Shape =
  | 'string' | 'number' | 'boolean' | 'any'
  | { readonly lit: readonly string[] }
  | { readonly arr: Shape }
  | { readonly rec: Shape }
  | { readonly obj: Readonly<Record<string, readonly [Shape, 0 | 1]>> }
  | { readonly cls: string }
  | { readonly union: readonly Shape[] }
  | { readonly ref: string };

/** Value classes by name, with how one is built (for the message). */
let classes: Record<string, { readonly cls: { readonly prototype: object }; readonly how: string }> | undefined;

/** Built on first use: the value classes' modules import this one (their factories check their arguments). */
const CLASSES = (): Record<string, { readonly cls: { readonly prototype: object }; readonly how: string }> => classes ??= {
  Size: { cls: Size, how: 'Size.gibibytes(4) or Size.parse("512Mi")' },
  Cpu: { cls: Cpu, how: 'Cpu.cores(2), Cpu.millis(500) or Cpu.parse("500m")' },
  Duration: { cls: Duration, how: 'Duration.minutes(5) or Duration.parse("5m")' },
  AcceleratorCatalog: { cls: AcceleratorCatalog, how: 'AcceleratorCatalog.DEFAULT.with({...})' },
  AddonDelivery: { cls: AddonDelivery, how: 'AddonDelivery.argoCd(), .flux() or .preInstalled()' },
  ArtifactStore: { cls: ArtifactStore, how: 'ArtifactStore.embedded() or ArtifactStore.s3({...})' },
  BackendStore: { cls: BackendStore, how: 'BackendStore.embedded() or BackendStore.external({...})' },
  Exposure: { cls: Exposure, how: 'Exposure.none(), .gateway({...}) or .ingress({...})' },
  TrackingAuth: { cls: TrackingAuth, how: 'TrackingAuth.basic(), .oidc({...}) or .disabled(reason)' },
  Dataset: { cls: Dataset, how: 'Dataset.fromDvc({...}) or Dataset.fromBucket({...})' },
  ModelSource: { cls: ModelSource, how: 'ModelSource.registry(...) or ModelSource.uri(...)' },
  Runtime: { cls: Runtime, how: 'Runtime.mlflow(), .triton(), .vllm() or .custom({...})' },
  Scaling: { cls: Scaling, how: 'Scaling.cpu(...), .concurrency(...) or .requestRate(...)' },
  EndpointExposure: { cls: EndpointExposure, how: 'EndpointExposure.none(), .gateway({...}) or .ingress({...})' },
  Sampler: { cls: Sampler, how: 'Sampler.tpe(), Sampler.random(), …' },
  Pruner: { cls: Pruner, how: 'Pruner.median(), Pruner.none(), …' },
  StudyStorage: { cls: StudyStorage, how: 'StudyStorage.platform(), .postgres({...}) or .fromSecret({...})' },
};

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'object') {
    const ctor = Object.getPrototypeOf(v)?.constructor?.name;
    return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  }
  return `a ${typeof v}`;
}

function resolve(s: Shape): Shape {
  return typeof s === 'object' && 'ref' in s ? NAMED_SHAPES[s.ref] ?? 'any' : s;
}

function describe(s: Shape): string {
  const r = resolve(s);
  if (typeof r === 'string') return r === 'number' ? 'a finite number' : `a ${r}`;
  if ('lit' in r) return `one of ${r.lit.map((l) => JSON.stringify(l)).join(', ')}`;
  if ('arr' in r) return 'a list';
  if ('rec' in r || 'obj' in r) return 'an object';
  if ('cls' in r) return `a ${r.cls}`;
  if ('union' in r) return [...new Set(r.union.map(describe))].join(' or ');
  return 'a value';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Records an issue for each place `value` does not have shape `s`. */
export function checkShape(issues: Issues, path: string, value: unknown, s: Shape): void {
  const r = resolve(s);
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (r === 'any') return;
  if (r === 'string') {
    if (typeof value !== 'string') issues.add(path, value, `must be a string, not ${kindOf(value)}`);
    return;
  }
  if (r === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) issues.add(path, value, `must be a finite number, not ${kindOf(value)}`);
    return;
  }
  // Booleans, the values of string-literal unions and free-form maps (Helm values) have their own
  // checks with their own messages in the constructs; here only what would crash those checks.
  if (r === 'boolean') {
    if (typeof value === 'object' || typeof value === 'function') issues.add(path, value, `must be true or false, not ${kindOf(value)}`);
    return;
  }
  if ('lit' in r) {
    if (typeof value !== 'string') issues.add(path, value, `must be ${describe(r)}`);
    return;
  }
  if ('rec' in r && r.rec === 'any') return;
  if ('cls' in r) {
    for (const i of (value !== null && typeof value === 'object' && pending.get(value)) || []) issues.add(i.path ? (path ? `${path}.${i.path}` : i.path) : path, i.value, i.message);
    const known = CLASSES()[r.cls];
    if (known && !Object.prototype.isPrototypeOf.call(known.cls.prototype, value as object)) issues.add(path, value, `must be a ${r.cls}, built with ${known.how}; not ${kindOf(value)}`);
    if (!known && !isObject(value)) issues.add(path, value, `must be a ${r.cls}, not ${kindOf(value)}`);
    return;
  }
  if ('arr' in r) {
    if (!Array.isArray(value)) { issues.add(path, value, `must be a list, not ${kindOf(value)}`); return; }
    value.forEach((x, i) => checkShape(issues, `${path}[${i}]`, x, r.arr));
    return;
  }
  if ('rec' in r) {
    if (!isObject(value) || ![Object.prototype, null].includes(Object.getPrototypeOf(value))) { issues.add(path, value, `must be an object (a map of names to values), not ${kindOf(value)}`); return; }
    for (const k of Object.keys(value)) checkShape(issues, at(k), value[k], r.rec);
    return;
  }
  if ('obj' in r) {
    // An options object, not a value class's instance (a Size where a version's options go).
    const valueClass = isObject(value) && Object.values(CLASSES()).some((c) => Object.prototype.isPrototypeOf.call(c.cls.prototype, value));
    if (!isObject(value) || valueClass) { issues.add(path, value, `must be an object, not ${kindOf(value)}`); return; }
    for (const [k, [member, optional]] of Object.entries(r.obj)) {
      const v = Object.prototype.hasOwnProperty.call(value, k) || k in value ? value[k] : undefined;
      // A missing string, number or literal is left to the construct's own checks (they name it with the
      // fix); a missing object, list or value class would crash them, so it is reported here.
      if (v === undefined) {
        const m = resolve(member);
        if (!optional && typeof m === 'object' && !('lit' in m)) issues.add(at(k), v, `is required (${describe(member)})`);
        continue;
      }
      checkShape(issues, at(k), v, member);
    }
    return;
  }
  if ('union' in r) {
    const fits = r.union.map((m) => {
      const trial = new Issues('');
      // Inside a union a member fits exactly: `false | {...}` takes a boolean or that object.
      const x = resolve(m);
      if (x === 'boolean' && typeof value !== 'boolean') trial.add(path, value, 'must be true or false');
      else if (typeof x === 'object' && 'lit' in x && !x.lit.includes(value as string)) trial.add(path, value, `must be ${describe(x)}`);
      else checkShape(trial, path, value, m);
      return { m, issues: trial.all };
    });
    // An instance of a member's class: that member's issues (the arguments it was built from).
    const own = fits.find((f) => { const x = resolve(f.m); return typeof x === 'object' && 'cls' in x && CLASSES()[x.cls] && Object.prototype.isPrototypeOf.call(CLASSES()[x.cls].cls.prototype, value as object); });
    if (own) {
      for (const i of own.issues) issues.add(i.path, i.value, i.message);
      return;
    }
    if (fits.some((f) => f.issues.length === 0)) return;
    // An object that matches none: report against the object member whose keys it shares most.
    if (isObject(value)) {
      const objects = fits.filter((f) => { const x = resolve(f.m); return typeof x === 'object' && 'obj' in x; });
      if (objects.length) {
        const keys = Object.keys(value);
        const score = (f: typeof objects[number]) => {
          const x = resolve(f.m) as { obj: Record<string, unknown> };
          return keys.filter((k) => k in x.obj).length * 100 - f.issues.length;
        };
        const best = objects.reduce((a, b) => (score(b) > score(a) ? b : a));
        for (const i of best.issues) issues.add(i.path, i.value, i.message);
        return;
      }
    }
    issues.add(path, value, `must be ${describe(r)}, not ${kindOf(value)}`);
  }
}

/**
 * Checks the props of an entry point (`MlPlatform`, `MlPlatform.addGpuPool#1`, `TrainingPipeline`,
 * …) against their declared shapes; throws one {@link ValidationError} under `subject` listing every
 * mismatch, with the prop path (`prefix` before it, e.g. `options`).
 * @internal
 */
export function assertPropShapes(subject: string, entry: string, props: unknown, prefix = ''): void {
  const shape = ROOT_SHAPES[entry];
  if (!shape) throw new Error(`no run-time shape for ${entry}: regenerate src/core/prop-shapes-data.ts (npx projen shapes)`);
  const issues = new Issues(subject);
  checkShape(issues, prefix, props, shape);
  issues.throwIfAny();
}

/** The entry points with a shape. @internal */
export const PROP_SHAPE_ENTRIES: readonly string[] = Object.keys(ROOT_SHAPES);

/** Issues of the arguments a value was built from, reported where the value is used (under that prop's path). */
const pending = new WeakMap<object, readonly ValidationIssue[]>();

/**
 * Checks the arguments of a value class's static factory (`ModelSource.registry`, `Dataset.fromBucket`, …)
 * against its declared parameters, and returns `instance`. A mismatch does not throw here, where the prop
 * it is for is unknown: the construct that receives the value reports it under the prop's path (an
 * `options` argument's members directly under it, another argument by its name).
 * @internal
 */
export function checkFactoryArgs<T extends object>(instance: T, factory: string, args: Readonly<Record<string, unknown>>): T {
  const params = FACTORY_SHAPES[factory];
  if (!params) throw new Error(`no run-time shape for ${factory}: regenerate src/core/prop-shapes-data.ts (npx projen shapes)`);
  const issues = new Issues(factory);
  Object.entries(args).forEach(([name, value], i) => {
    const [shape, optional] = params[i] ?? ['any', 1];
    const at = name === 'options' ? '' : name;
    if (value === undefined) {
      if (!optional) issues.add(at, value, 'is required');
      return;
    }
    checkShape(issues, at, value, shape);
  });
  if (!issues.ok) pending.set(instance, issues.all);
  return instance;
}

import { get, gvOf, isObj, type JsonObject, type Segments } from './util';

/** Where built-in workloads keep their pod template (`null`: the object is the pod). */
export const WORKLOADS: ReadonlyMap<string, readonly string[] | null> = new Map([
  ['Deployment', ['spec', 'template']],
  ['ReplicaSet', ['spec', 'template']],
  ['StatefulSet', ['spec', 'template']],
  ['DaemonSet', ['spec', 'template']],
  ['Job', ['spec', 'template']],
  ['CronJob', ['spec', 'jobTemplate', 'spec', 'template']],
  ['Pod', null],
  ['PodTemplate', ['template']],
]);

/** A PodSpec found in an object. */
export interface FoundPodSpec {
  /** The PodSpec itself. */
  readonly spec: JsonObject;
  /** Its path in the object. */
  readonly segs: Segments;
  /** Found at the known path of a built-in workload (not by searching a custom resource). */
  readonly builtin: boolean;
}

/** A container of a PodSpec with its path relative to the PodSpec. */
export interface FoundContainer {
  /** The container. */
  readonly c: JsonObject;
  /** e.g. `['containers', 0]`. */
  readonly segs: Segments;
}

/**
 * Every PodSpec in an object: the known path for built-in workloads, else any mapping under `spec`
 * with a non-empty `containers` array of mappings (pod templates nested in custom resources).
 */
export function findPodSpecs(obj: JsonObject): FoundPodSpec[] {
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  if (!gvOf(obj.apiVersion).group.includes('.') && WORKLOADS.has(kind)) {
    const t = WORKLOADS.get(kind);
    const segs = t ? [...t, 'spec'] : ['spec'];
    const spec = get(obj, segs);
    return isObj(spec) ? [{ spec, segs, builtin: true }] : [];
  }
  const out: FoundPodSpec[] = [];
  const walk = (v: unknown, segs: Segments): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, [...segs, i]));
    if (!isObj(v)) return;
    if (Array.isArray(v.containers) && v.containers.length && v.containers.every(isObj)) out.push({ spec: v, segs, builtin: false });
    for (const [k, x] of Object.entries(v)) walk(x, [...segs, k]);
  };
  walk(obj.spec, ['spec']);
  return out;
}

/** The init, regular and ephemeral containers of a PodSpec (mappings only). */
export function containersOf(spec: JsonObject): FoundContainer[] {
  const out: FoundContainer[] = [];
  for (const f of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[f];
    if (Array.isArray(list)) list.forEach((c, i) => { if (isObj(c)) out.push({ c, segs: [f, i] }); });
  }
  return out;
}

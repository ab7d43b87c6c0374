import { parse } from 'yaml';
import { embeddedManifests } from './embedded';
import { CheckFinding } from './types';

/**
 * Kueue 0.19's admission, as far as a synthesized app decides it: which resources a queued pod set
 * requests, whether its ClusterQueue covers each of them, and whether one flavor of each resource
 * group holds the request within its nominal quota. Sources (sigs.k8s.io/kueue@v0.19.2):
 * - pkg/workload/workload.go `totalRequestsFromPodSets`: a pod set requests `PodRequests` of its
 *   template (containers summed, the largest init container when larger) × its count, after
 *   `dropExcludedResources` removed every resource whose name starts with one of
 *   `resources.excludeResourcePrefixes` (a plain string prefix);
 * - pkg/controller/jobs/job/job_controller.go `podsCount`: a Job's count is `parallelism`, or
 *   `completions` when smaller;
 * - pkg/scheduler/flavorassigner/flavorassigner.go `findFlavorForPodSets`: a resource no resource
 *   group covers fails with "resource <name> unavailable in ClusterQueue" (unless the
 *   `IgnoreUndeclared` quota-check strategy is on); `checkFlavorForPodSets`: a flavor fits when the
 *   pod tolerates its `nodeTaints` and its node selector, restricted to the flavor's own label keys,
 *   matches the flavor's `nodeLabels`; then the request of every covered resource must be within
 *   the flavor's quota ("insufficient quota for <r> in flavor <f>"); without a cohort nothing can
 *   be borrowed, so the quota is `nominalQuota`;
 * - pkg/cache/scheduler/clusterqueue.go: a ClusterQueue naming a ResourceFlavor that does not exist
 *   is inactive (`FlavorNotFound`) and admits nothing.
 */
export interface KueueResources {
  /** `resources.excludeResourcePrefixes` of the Kueue configuration. @default [] */
  readonly excludeResourcePrefixes?: readonly string[];
  /** `resources.quotaCheckStrategy`. @default 'BlockUndeclared' */
  readonly quotaCheckStrategy?: 'BlockUndeclared' | 'IgnoreUndeclared';
}

type Obj = Record<string, any>;

/** Label that submits a Job to a LocalQueue. */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

/** The Kueue objects of an app, indexed. */
export interface KueueObjects {
  readonly flavors: ReadonlyMap<string, Obj>;
  readonly clusterQueues: ReadonlyMap<string, Obj>;
  /** By `namespace/name`. */
  readonly localQueues: ReadonlyMap<string, Obj>;
  /** The configuration's `resources`, from the Kueue add-on's Helm values (chart defaults when there is no add-on object). */
  readonly resources: KueueResources;
}

const isKueue = (o: Obj, kind: string) => o?.kind === kind && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('kueue.x-k8s.io/');

/**
 * The `resources` section of the Kueue configuration the add-on installs: the chart's
 * `managerConfig.controllerManagerConfigYaml` (a YAML string) when the values override it. The
 * chart's default configuration (kueue 0.19.2 values.yaml) leaves `resources` commented out: no
 * excluded prefixes, `BlockUndeclared`.
 */
export function kueueResourcesOf(values: unknown): KueueResources {
  const text = (values as Obj | undefined)?.managerConfig?.controllerManagerConfigYaml;
  if (typeof text !== 'string') return {};
  const config = parse(text) as Obj | null;
  const r = config?.resources ?? {};
  return {
    excludeResourcePrefixes: Array.isArray(r.excludeResourcePrefixes) ? r.excludeResourcePrefixes.map(String) : [],
    ...(r.quotaCheckStrategy === 'IgnoreUndeclared' ? { quotaCheckStrategy: 'IgnoreUndeclared' as const } : {}),
  };
}

/** Helm values of the Kueue add-on object (Argo CD Application or Flux HelmRelease), if `o` is one. */
function kueueAddonValues(o: Obj): unknown {
  if (o?.kind === 'Application' && String(o.apiVersion).startsWith('argoproj.io/')) {
    const src = o.spec?.source ?? {};
    if (src.chart === 'kueue' || /\/kueue$/.test(String(src.repoURL ?? ''))) return src.helm?.valuesObject ?? {};
  }
  if (o?.kind === 'HelmRelease' && o.spec?.chart?.spec?.chart === 'kueue') return o.spec.values ?? {};
  return undefined;
}

/** Indexes the Kueue objects (and the Kueue add-on's configuration) among `objects`. */
export function kueueObjects(objects: readonly unknown[]): KueueObjects {
  const flavors = new Map<string, Obj>();
  const clusterQueues = new Map<string, Obj>();
  const localQueues = new Map<string, Obj>();
  let resources: KueueResources = {};
  for (const x of objects) {
    const o = x as Obj;
    if (isKueue(o, 'ResourceFlavor')) {flavors.set(o.metadata?.name, o);} else if (isKueue(o, 'ClusterQueue')) {clusterQueues.set(o.metadata?.name, o);} else if (isKueue(o, 'LocalQueue')) {localQueues.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);} else {
      const values = kueueAddonValues(o);
      if (values !== undefined) resources = kueueResourcesOf(values);
    }
  }
  return { flavors, clusterQueues, localQueues, resources };
}

/** A pod set a Job submits to a LocalQueue. */
export interface QueuedPodSet {
  /** What submits it, e.g. `Job vision/lr-workers` or `WorkflowTemplate llm/sft template "step-fit" Job`. */
  readonly source: string;
  readonly namespace: string;
  readonly queue: string;
  /** Pods admitted together. */
  readonly count: number;
  readonly podSpec: Obj;
}

function queuedJob(o: Obj, source: string, defaultNamespace?: string): QueuedPodSet | undefined {
  if (o?.kind !== 'Job' || !String(o.apiVersion).startsWith('batch/')) return undefined;
  const queue = o.metadata?.labels?.[KUEUE_QUEUE_LABEL];
  if (typeof queue !== 'string') return undefined;
  const parallelism = typeof o.spec?.parallelism === 'number' ? o.spec.parallelism : 1;
  const completions = typeof o.spec?.completions === 'number' ? o.spec.completions : undefined;
  return {
    source,
    namespace: o.metadata?.namespace ?? defaultNamespace ?? 'default',
    queue,
    count: completions !== undefined && completions < parallelism ? completions : parallelism,
    podSpec: o.spec?.template?.spec ?? {},
  };
}

/** The queued pod sets of `objects`: Jobs with the queue-name label, and such Jobs in Argo `resource` templates. */
export function queuedPodSets(objects: readonly unknown[]): QueuedPodSet[] {
  const out: QueuedPodSet[] = [];
  for (const x of objects) {
    const o = x as Obj;
    const own = queuedJob(o, `Job ${o?.metadata?.namespace ?? 'default'}/${o?.metadata?.name}`);
    if (own) out.push(own);
    for (const e of embeddedManifests(o, KUEUE_QUEUE_LABEL)) {
      if (!e.object) continue;
      const job = queuedJob(e.object, `${o.kind} ${o.metadata?.namespace ?? 'default'}/${o.metadata?.name} template "${e.templateName}" Job`, o.metadata?.namespace);
      if (job) out.push(job);
    }
  }
  return out;
}

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity as a number (`500m` → 0.5, `2Gi` → 2147483648); NaN when it is none. */
export function quantityValue(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(String(q ?? '').trim());
  if (!m) return NaN;
  return Number(m[1] + (m[2] ?? '')) * (m[3] ? SUFFIX[m[3]] : 1);
}

/** `PodRequests` of a pod spec (k8s.io/component-helpers): containers summed, the largest init container per resource when larger. */
export function podSpecRequests(spec: Obj): Map<string, number> {
  const sum = new Map<string, number>();
  for (const c of spec.containers ?? []) {
    for (const [r, q] of Object.entries(c.resources?.requests ?? {})) sum.set(r, (sum.get(r) ?? 0) + quantityValue(q));
  }
  for (const c of spec.initContainers ?? []) {
    for (const [r, q] of Object.entries(c.resources?.requests ?? {})) sum.set(r, Math.max(sum.get(r) ?? 0, quantityValue(q)));
  }
  return sum;
}

/** Whether the pod tolerates a NoSchedule/NoExecute taint (k8s.io/api/core/v1 `Toleration.ToleratesTaint`). */
function tolerates(tolerations: readonly Obj[], taint: Obj): boolean {
  if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') return true;
  return tolerations.some((t) => (!t.effect || t.effect === taint.effect)
    && (t.key === undefined || t.key === '' ? t.operator === 'Exists' : t.key === taint.key)
    && (t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '')));
}

/** Why `flavor` does not fit the pod set (`checkFlavorForPodSets`), or undefined when it does. */
function flavorMismatch(flavor: Obj, podSpec: Obj): string | undefined {
  const spec = flavor.spec ?? {};
  const tolerations = [...(podSpec.tolerations ?? []), ...(spec.tolerations ?? [])];
  const taint = (spec.nodeTaints ?? []).find((t: Obj) => !tolerates(tolerations, t));
  if (taint) return `untolerated taint ${taint.key}=${taint.value ?? ''}:${taint.effect} in flavor ${flavor.metadata?.name}`;
  const labels: Record<string, string> = spec.nodeLabels ?? {};
  for (const [k, v] of Object.entries(podSpec.nodeSelector ?? {})) {
    if (k in labels && labels[k] !== v) return `flavor ${flavor.metadata?.name} doesn't match node affinity (${k}=${String(v)}; the flavor has ${k}=${labels[k]})`;
  }
  return undefined;
}

const show = (r: string, n: number) => (r === 'cpu' ? `${Math.round(n * 1000)}m` : Number.isInteger(n) && n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20}Mi` : String(n));

/**
 * Admission findings of queued pod sets against the app's Kueue objects: a missing LocalQueue or
 * ClusterQueue, a requested resource that no resource group covers, a resource group in which no
 * flavor matches the pods or holds the request within its nominal quota. `label(p)` names the
 * workload of a pod set in the findings.
 */
export function checkKueueAdmission(podSets: readonly QueuedPodSet[], kueue: KueueObjects, label: (p: QueuedPodSet) => string = (p) => p.source): CheckFinding[] {
  const out: CheckFinding[] = [];
  const add = (p: QueuedPodSet, message: string, fix: string) => out.push({ check: 'admission', severity: 'error', workload: label(p), message: `${label(p)}: ${p.source} ${message}`, fix });
  const excluded = kueue.resources.excludeResourcePrefixes ?? [];
  for (const p of podSets) {
    const lq = kueue.localQueues.get(`${p.namespace}/${p.queue}`);
    if (!lq) {
      add(p, `is submitted to LocalQueue "${p.queue}" in namespace "${p.namespace}", which the app does not declare: Kueue never admits it`, 'give the tenant a queue (`addTenant(…, { queue: true })`) and declare the workload after it');
      continue;
    }
    const cqName = String(lq.spec?.clusterQueue);
    const cq = kueue.clusterQueues.get(cqName);
    if (!cq) {
      add(p, `is submitted to LocalQueue "${p.queue}", whose ClusterQueue "${cqName}" the app does not declare: Kueue never admits it`, 'declare the tenant with `queue: true` on the platform of the workload');
      continue;
    }
    const requests = [...podSpecRequests(p.podSpec)].filter(([r]) => !excluded.some((x) => r.startsWith(x)));
    const groups: Obj[] = cq.spec?.resourceGroups ?? [];
    const byGroup = new Map<Obj, Array<[string, number]>>();
    for (const [r, q] of requests) {
      const g = groups.find((x) => (x.coveredResources ?? []).includes(r));
      if (!g) {
        if (kueue.resources.quotaCheckStrategy === 'IgnoreUndeclared' || q === 0) continue;
        add(p, `requests ${r}, but "resource ${r} unavailable in ClusterQueue" ${cqName} (its resource groups cover ${groups.flatMap((x) => x.coveredResources ?? []).join(', ') || 'nothing'}): Kueue never admits it`,
          `cover ${r} in ClusterQueue "${cqName}", or exclude it in the Kueue configuration (\`resources.excludeResourcePrefixes\`)`);
        continue;
      }
      byGroup.set(g, [...(byGroup.get(g) ?? []), [r, q * p.count]]);
    }
    for (const [g, want] of byGroup) {
      const tried: string[] = [];
      let admitted = false;
      for (const f of g.flavors ?? []) {
        const flavor = kueue.flavors.get(f.name);
        if (!flavor) {
          tried.push(`flavor ${f.name} not found`);
          continue;
        }
        const mismatch = flavorMismatch(flavor, p.podSpec);
        if (mismatch) {
          tried.push(mismatch);
          continue;
        }
        const short = want.filter(([r, q]) => {
          const quota = (f.resources ?? []).find((x: Obj) => x.name === r);
          return q > (quota ? quantityValue(quota.nominalQuota) : 0);
        });
        if (short.length === 0) {
          admitted = true;
          break;
        }
        const quotaOf = (r: string) => quantityValue((f.resources ?? []).find((x: Obj) => x.name === r)?.nominalQuota ?? 0);
        tried.push(...short.map(([r, q]) => `insufficient quota for ${r} in flavor ${f.name}: ${p.count} pod${p.count === 1 ? '' : 's'} request ${show(r, q)} > ${show(r, quotaOf(r))}`));
      }
      if (!admitted) {
        add(p, `cannot be admitted by ClusterQueue "${cqName}" for ${want.map(([r]) => r).join(', ')}: ${tried.join('; ') || 'the resource group has no flavor'}`,
          'raise the tenant\'s quota for it (the ClusterQueue\'s nominal quota), or lower the pods\' requests or count');
      }
    }
  }
  return out;
}

/** ClusterQueues that name a ResourceFlavor the app does not declare: Kueue keeps them inactive (`FlavorNotFound`). */
export function checkClusterQueueFlavors(kueue: KueueObjects, label: (cq: string) => string = (cq) => `ClusterQueue ${cq}`): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const [name, cq] of kueue.clusterQueues) {
    const named = new Set<string>((cq.spec?.resourceGroups ?? []).flatMap((g: Obj) => (g.flavors ?? []).map((f: Obj) => String(f.name))));
    const missing = [...named].filter((f) => !kueue.flavors.has(f));
    if (missing.length === 0) continue;
    out.push({
      check: 'admission',
      severity: 'error',
      workload: label(name),
      message: `ClusterQueue "${name}" names ResourceFlavor${missing.length === 1 ? '' : 's'} ${missing.map((f) => `"${f}"`).join(', ')}, which the app does not declare: Kueue keeps the ClusterQueue inactive (FlavorNotFound) and admits nothing`,
      fix: 'declare the ResourceFlavor (the platform renders one per GPU pool)',
    });
  }
  return out;
}

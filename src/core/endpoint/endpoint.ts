import { Issues } from '../errors';
import { checkDnsLabel } from '../names';
import { PlatformContext } from '../platform/context';
import { Duration, Size } from '../quantities';
import { checkNamespace, WORKLOAD_NAMESPACE_FIX } from '../reserved';
import { VERSIONS } from '../versions';
import { ComputeOptions } from '../workload';
import { checkExposureVersions, EndpointExposure, EndpointExposureSpec } from './exposure';
import { PayloadLoggingOptions } from './logging';
import { MonitoringOptions, MonitoringSpec, resolveMonitoring } from './monitoring';
import { Runtime, RUNTIME_IMAGES, RuntimeImages } from './runtime';
import { Scaling } from './scaling';
import { planTraffic, TrafficPlan } from './traffic';
import { ModelVersionOptions, ModelVersionSpec, resolveVersion } from './version';
import { checkText } from '../text';

/** What a ModelEndpoint declares (everything but the platform, which the construct resolves). */
export interface ModelEndpointOptions {
  /** Namespace: one of the platform's tenant namespaces when a platform is given. */
  readonly namespace: string;
  /**
   * The versions served: one stable version, optional canary / A/B versions with a `weight`, and
   * optional shadows with a `mirrorPercent`.
   */
  readonly versions: readonly ModelVersionOptions[];
  /** Model server of every version that names none. @default Runtime.mlflow() */
  readonly runtime?: Runtime;
  /** CPU, memory, GPUs and pool placement of each replica. @default 500m CPU (limit 1), 1Gi memory, no GPU */
  readonly resources?: ComputeOptions;
  /** Replicas of each version. @default Scaling.fixed(2); 1 for GPU versions and shadows */
  readonly scaling?: Scaling;
  /**
   * Time from "a replica is wanted" to "it is ready": GPU node start, image pull, model download
   * and load. Sizes the startup probe (so a loading model is never killed), the Deployment's
   * progress deadline, the fetch step's timeout and, when scaling to zero, KEDA's cooldowns (so a
   * starting replica is never scaled away). Scale to zero requires it to be given explicitly.
   * @default Duration.minutes(10); 20 for GPU versions
   */
  readonly startupBudget?: Duration;
  /** Size of the model volume (an emptyDir counted as ephemeral storage). @default Size.gibibytes(10) */
  readonly modelStorage?: Size;
  /** How clients reach it. @default EndpointExposure.none() */
  readonly exposure?: EndpointExposure;
  /** ServiceMonitor and PrometheusRule; `false` emits neither. @default on, see {@link MonitoringOptions} */
  readonly monitoring?: MonitoringOptions | false;
  /**
   * Extra environment of every server container; a name the runtime also sets (vLLM's `HF_HOME`,
   * `HF_HUB_OFFLINE`, …) takes this value; `HOME`, `MODEL_DIR` and `MODEL_NAME` are reserved.
   * @default none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Request/response logging of every version to the platform's object store (a proxy in each pod
   * samples requests and uploads JSON-lines batches); a version's own `logging` replaces it. Needs a
   * platform; not available with `kserve`.
   * @default off
   */
  readonly logging?: PayloadLoggingOptions;
  /**
   * Seconds a terminating replica keeps serving after it leaves the Service endpoints (a `preStop`
   * sleep, so rolling updates drop no request); 0 for images without `sleep`.
   * @default 10
   */
  readonly drainSeconds?: number;
  /**
   * Emit one KServe InferenceService (Standard mode, canaries as `spec.canary`) instead of the
   * Deployments, Services, autoscalers, PDBs and route. Same pods (fetch step included), so every
   * model source works; KServe has no mirroring and exposes services through its own configuration.
   * @default false
   */
  readonly kserve?: boolean;
}

/** A validated endpoint. */
export interface ModelEndpointSpec {
  /** Endpoint name (the construct id). */
  readonly name: string;
  /** Namespace of every object. */
  readonly namespace: string;
  /** The validated versions, in the order given. */
  readonly versions: readonly ModelVersionSpec[];
  /** The split and the mirrors. */
  readonly traffic: TrafficPlan;
  /** How clients reach it. */
  readonly exposure: EndpointExposureSpec;
  /** Scraping and alerts; undefined with `monitoring: false`. */
  readonly monitoring?: MonitoringSpec;
  /** The Prometheus KEDA queries (also when `monitoring` is off). */
  readonly prometheus: MonitoringSpec['prometheus'];
  /** Size of each pod's model volume. */
  readonly modelStorage: Size;
  /** preStop sleep of the server, seconds. */
  readonly drainSeconds: number;
  /** Whether a KServe InferenceService replaces the plain objects. */
  readonly kserve: boolean;
  /** Image of the fetch step (MLflow: Python, boto3 and the artifact clients). */
  readonly fetchImage: string;
}

/** What the resolver needs from outside the props. */
export interface EndpointEnvironment {
  /** The platform, when there is one. */
  readonly platform?: PlatformContext;
  /**
   * Default images: the platform's version table (`MlPlatform.versions.images`). The MLflow image
   * also runs the fetch step.
   * @default VERSIONS.images.mlflow and RUNTIME_IMAGES
   */
  readonly images?: Partial<RuntimeImages>;
}

/** The sum of several scalar-like queries; a version without series yet counts as 0 instead of emptying the sum. */
function sumQueries(qs: readonly string[]): string {
  return qs.length === 1 ? qs[0] : qs.map((q) => `(${q} or vector(0))`).join(' + ');
}

/**
 * Validates `options` for the endpoint `name` into one spec, or throws one ValidationError listing
 * every issue (subject `ModelEndpoint "<name>"`).
 */
export function resolveModelEndpoint(name: string, options: ModelEndpointOptions, env: EndpointEnvironment = {}): ModelEndpointSpec {
  const issues = new Issues(`ModelEndpoint "${name}"`);
  const ctx = env.platform;
  if (checkDnsLabel(issues, 'id', name, 30) && !/^[a-z]/.test(name)) issues.add('id', name, 'must start with a letter (it ends up in Service names)');
  const o = options ?? ({} as ModelEndpointOptions);
  checkText(issues, '', o);
  if (checkNamespace(issues, 'namespace', o.namespace, WORKLOAD_NAMESPACE_FIX) && ctx && !ctx.tenants.some((t) => t.namespace === o.namespace)) {
    issues.add('namespace', o.namespace, `is not a tenant namespace of platform "${ctx.name}"; use one of: ${ctx.tenants.map((t) => t.namespace).join(', ') || '(add a tenant with addTenant first)'}`);
  }
  const versions = Array.isArray(o.versions) ? o.versions : [];
  if (versions.length === 0) issues.add('versions', o.versions, 'must list at least one version: [{ name: "stable", model: ModelSource.registry("…") }]');
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (seen.has(v?.name)) issues.add(`versions[${i}].name`, v.name, 'is already a version of this endpoint; give each version its own name');
    seen.add(v?.name);
  });
  const traffic = planTraffic(issues, 'versions', versions.map((v) => ({ name: v?.name, stable: v?.stable, weight: v?.weight, mirrorPercent: v?.mirrorPercent })));
  const exposure = (o.exposure ?? EndpointExposure.none())._resolve(issues, 'exposure', ctx?.exposure);
  const monitoring = o.monitoring === false ? undefined : resolveMonitoring(issues, 'monitoring', o.monitoring);
  const prometheus = monitoring?.prometheus ?? resolveMonitoring(issues, 'monitoring', {}).prometheus;
  const kserve = o.kserve ?? false;
  // The three runtime images only (env.images is usually the platform's whole version table).
  const given = env.images;
  const images: RuntimeImages = {
    mlflow: given?.mlflow ?? VERSIONS.images.mlflow,
    triton: given?.triton ?? RUNTIME_IMAGES.triton,
    vllm: given?.vllm ?? RUNTIME_IMAGES.vllm,
  };
  const defaults = {
    endpoint: name,
    namespace: o.namespace,
    runtime: o.runtime ?? Runtime.mlflow(),
    resources: o.resources,
    scaling: o.scaling,
    startupBudget: o.startupBudget,
    env: o.env,
    images,
    monitoring: monitoring !== undefined,
    kserve,
    logging: o.logging,
  };
  const weightOf = new Map(traffic.backends.map((b) => [b.name, b.weight]));
  const resolved = versions.map((v, i) => {
    const role = v.mirrorPercent !== undefined ? 'shadow' : v.name === traffic.stable ? 'stable' : 'canary';
    return resolveVersion(issues, `versions[${i}]`, v, role, defaults, ctx);
  });

  // Scale to zero: what wakes each version up, and whether its share of live traffic survives a cold start.
  const warm = resolved.filter((s) => s.role !== 'shadow' && s.scaling.minReplicas > 0);
  const specs = resolved.map((s, i) => {
    if (kserve || s.scaling.kind !== 'keda' || s.scaling.minReplicas !== 0) return s;
    const at = versions[i].scaling ? `versions[${i}].scaling` : 'scaling';
    const live = s.role !== 'shadow' && (weightOf.get(s.name) ?? 0) > 0;
    if (live && warm.length > 0) {
      issues.add(`${at}.minReplicas`, 0, `"${s.name}" takes ${weightOf.get(s.name)}% of live traffic while "${warm[0].name}" stays warm: that share fails while it starts from zero; keep minReplicas ≥ 1, or make it a shadow`);
      return s;
    }
    if (s.scaling.activationQuery !== undefined) return s;
    const signals = warm.map((w) => w.queries.requestRate).filter((q): q is string => q !== undefined);
    if (!live && signals.length > 0) return Object.assign({}, s, { scaling: Object.assign({}, s.scaling, { activationQuery: sumQueries(signals) }) });
    issues.add(`${at}.activationQuery`, undefined,
      'is required to scale this version to zero: nothing else observes demand while it has no pods (give PromQL, e.g. the gateway\'s request counter for this route)');
    return s;
  });

  checkExposureVersions(issues, 'exposure', exposure, specs, traffic);
  if (exposure.kind !== 'gateway' && (traffic.backends.length > 1 || traffic.mirrors.length > 0) && !kserve) {
    issues.add('exposure', exposure.kind, `canary, A/B and shadow versions need EndpointExposure.gateway(...): ${exposure.kind === 'ingress' ? 'Ingress has no standard traffic weights or request mirroring' : 'without a route nothing splits or mirrors traffic'}`);
  }
  if (kserve) {
    if (ctx && !ctx.addons.has('kserve')) issues.add('kserve', true, 'needs KServe, which the platform does not install: set `addons: { kserve: true }` on the platform');
    if (exposure.kind !== 'none') issues.add('exposure', exposure.kind, 'KServe exposes InferenceServices through its own ingress configuration: drop `exposure`, or set `kserve: false`');
    specs.forEach((s, i) => {
      if (s.role === 'shadow') issues.add(`versions[${i}].mirrorPercent`, versions[i].mirrorPercent, 'KServe has no request mirroring: drop the shadow, or set `kserve: false`');
      if (s.role === 'canary' && s.scaling.kind !== 'fixed') issues.add(versions[i].scaling ? `versions[${i}].scaling` : 'scaling', s.scaling.kind, 'KServe canaries run a fixed replica count: use Scaling.fixed(n) for them');
      if (s.scaling.minReplicas === 0) issues.add(versions[i].scaling ? `versions[${i}].scaling.minReplicas` : 'scaling.minReplicas', 0, 'scale to zero is not offered with KServe Standard mode here: set `kserve: false`');
    });
  }
  const modelStorage = o.modelStorage ?? Size.gibibytes(10);
  if (!(modelStorage instanceof Size) || modelStorage.bytes < 2 ** 30) issues.add('modelStorage', o.modelStorage?.toString(), 'must be at least 1Gi (Size.gibibytes(1))');
  const drainSeconds = o.drainSeconds ?? 10;
  if (!Number.isInteger(drainSeconds) || drainSeconds < 0 || drainSeconds > 120) issues.add('drainSeconds', o.drainSeconds, 'must be a whole number of seconds from 0 to 120');
  // Inherited props (runtime, resources, scaling, budget) are checked once per version: report each problem once.
  const unique = new Issues(issues.subject);
  const reported = new Set<string>();
  for (const i of issues.all) {
    const key = `${i.path}\u0000${i.message}`;
    if (!reported.has(key)) unique.add(i.path, i.value, i.message);
    reported.add(key);
  }
  unique.throwIfAny();
  return { name, namespace: o.namespace, versions: specs, traffic, exposure, monitoring, prometheus, modelStorage, drainSeconds, kserve, fetchImage: images.mlflow };
}

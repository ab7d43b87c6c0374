import { Issues } from '../errors';
import { childName, checkDnsLabel } from '../names';
import { PlatformContext } from '../platform/context';
import { Duration } from '../quantities';
import { checkEnvValue, ComputeOptions, ComputeSpec, resolveCompute } from '../workload';
import { ModelAccess, planModelAccess } from './fetch';
import { PayloadLoggingOptions, PayloadLoggingSpec, resolvePayloadLogging } from './logging';
import { ModelSource, ModelSourceSpec } from './model-source';
import { Runtime, RuntimeImages, RuntimeMetricQueries, RuntimeSpec } from './runtime';
import { Scaling, ScalingSpec } from './scaling';

/** One version of the model an endpoint serves: a stable version, a canary or A/B variant, or a shadow. */
export interface ModelVersionOptions {
  /** Version name (a DNS label of at most 20 characters, starting with a letter), e.g. `stable`, `v8`, `shadow`. */
  readonly name: string;
  /** The model it serves. */
  readonly model: ModelSource;
  /**
   * The version that takes the traffic the others do not, and that you roll back to.
   * @default true for the only serving version, or the only serving version without a `weight`
   */
  readonly stable?: boolean;
  /**
   * Share of live traffic, whole percent. Required for canary and A/B versions.
   * @default 100 minus the other weights, for the stable version
   */
  readonly weight?: number;
  /**
   * Makes this a shadow: this percentage (0-100, two decimals at most) of live requests is mirrored
   * to it and its responses are dropped. Excludes `weight` and `stable`.
   * @default not a shadow
   */
  readonly mirrorPercent?: number;
  /** The model server. @default the endpoint's `runtime` */
  readonly runtime?: Runtime;
  /** CPU, memory, GPUs and pool placement (replaces the endpoint's as a whole). @default the endpoint's `resources` */
  readonly resources?: ComputeOptions;
  /** Replicas. @default the endpoint's `scaling` */
  readonly scaling?: Scaling;
  /** Start-up budget (see the endpoint's). @default the endpoint's `startupBudget` */
  readonly startupBudget?: Duration;
  /**
   * Extra environment of the server container. A name the runtime also sets (vLLM: `HF_HUB_OFFLINE`,
   * `HF_HOME`, `XDG_CACHE_HOME`, `VLLM_CACHE_ROOT`, `VLLM_NO_USAGE_STATS`) takes the value given here;
   * `HOME`, `MODEL_DIR` and `MODEL_NAME` are reserved. Only `/tmp` (and the model volume) is writable.
   * @default the endpoint's `env`
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Request/response logging of this version (replaces the endpoint's as a whole); `false` turns
   * the endpoint's off for this version.
   * @default the endpoint's `logging`
   */
  readonly logging?: PayloadLoggingOptions | false;
}

/** Probe timing derived from the start-up budget. */
export interface StartupSpec {
  /** The budget: GPU node start + image pull + model download + load. */
  readonly budget: Duration;
  /** Whether the user gave it (scale to zero requires that). */
  readonly explicit: boolean;
  /** Startup probe `failureThreshold` at a 10 s period, so the probe window equals the budget. */
  readonly probeFailureThreshold: number;
  /** Deployment `progressDeadlineSeconds` (at least the budget, never below Kubernetes' 600). */
  readonly progressDeadlineSeconds: number;
}

/** A validated version. */
export interface ModelVersionSpec extends ModelAccess {
  /** Version name. */
  readonly name: string;
  /** `<endpoint>-<version>`: Deployment, Service, ServiceAccount, PDB and autoscaler name. */
  readonly objectName: string;
  /** Stable, canary / A-B (a weight), or shadow (mirrored). */
  readonly role: 'stable' | 'canary' | 'shadow';
  /** The validated model source. */
  readonly source: ModelSourceSpec;
  /** The validated runtime. */
  readonly runtime: RuntimeSpec;
  /** Resources and GPU placement. */
  readonly compute: ComputeSpec;
  /** Replicas; KEDA queries filled in. */
  readonly scaling: ScalingSpec;
  /** The start-up budget and what it sizes. */
  readonly startup: StartupSpec;
  /** Where the model's files are, inside the server container. */
  readonly modelDir: string;
  /** Server command and args. */
  readonly command: { readonly command?: string[]; readonly args: string[] };
  /** Extra server environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The PromQL label matchers of this version's series. */
  readonly selector: string;
  /** The runtime's queries with `selector` filled in. */
  readonly queries: RuntimeMetricQueries;
  /**
   * The exact bucket key prefix this version writes its payload logs to (request/response logging);
   * the AWS side grants s3:PutObject on `bucket/prefix*` and nothing more. Undefined without logging.
   */
  readonly writeScope?: { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };
  /** Request/response logging; undefined when off. */
  readonly logging?: PayloadLoggingSpec;
}

/** Endpoint-level defaults a version inherits. */
export interface VersionDefaults {
  /** Endpoint name. */
  readonly endpoint: string;
  /** Endpoint namespace. */
  readonly namespace: string;
  /** Endpoint runtime. */
  readonly runtime: Runtime;
  /** Endpoint resources. */
  readonly resources?: ComputeOptions;
  /** Endpoint scaling. */
  readonly scaling?: Scaling;
  /** Endpoint start-up budget. */
  readonly startupBudget?: Duration;
  /** Endpoint environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default runtime images. */
  readonly images: RuntimeImages;
  /** Whether the endpoint's ServiceMonitor collects the runtime's metrics. */
  readonly monitoring: boolean;
  /** Whether KServe runs the pods (other pod and container names). */
  readonly kserve: boolean;
  /** Endpoint request/response logging. @default off */
  readonly logging?: PayloadLoggingOptions | false;
}

/** Default start-up budget of CPU versions. */
export const DEFAULT_CPU_STARTUP_BUDGET = Duration.minutes(10);
/** Default start-up budget of GPU versions (a GPU node from zero, a multi-GB image, a large model). */
export const DEFAULT_GPU_STARTUP_BUDGET = Duration.minutes(20);
/** The shortest budget a GPU version may scale to zero with: GPU nodes take minutes to join (kserve#1247). */
export const MIN_GPU_COLD_START = Duration.minutes(5);
const RESERVED_ENV = ['MODEL_DIR', 'MODEL_NAME', 'HOME'];

/** The version's object name: `<endpoint>-<version>`, a DNS label. */
export function versionObjectName(endpoint: string, version: string): string {
  return childName(endpoint, version);
}

function fill(q: string | undefined, selector: string): string | undefined {
  return q?.split('$selector').join(selector);
}

/** CPU usage / CPU limit of a version's server containers (cAdvisor series carry pod names, not labels). */
function cpuSaturation(d: VersionDefaults, version: string, role: ModelVersionSpec['role'], objectName: string, cores: number): string {
  const deployment = !d.kserve ? objectName : role === 'stable' ? `${d.endpoint}-predictor` : `${d.endpoint}-${version}-predictor`;
  const container = d.kserve ? 'kserve-container' : 'server';
  return `max(rate(container_cpu_usage_seconds_total{namespace="${d.namespace}",pod=~"${deployment}-[a-z0-9]+-[a-z0-9]+",container="${container}"}[5m])) / ${cores}`;
}

/** Validates one version (recorded under `path`, e.g. `versions[1]`) with the endpoint defaults. */
export function resolveVersion(issues: Issues, path: string, v: ModelVersionOptions, role: ModelVersionSpec['role'], d: VersionDefaults, ctx?: PlatformContext): ModelVersionSpec {
  if (checkDnsLabel(issues, `${path}.name`, v.name, 20) && !/^[a-z]/.test(v.name)) issues.add(`${path}.name`, v.name, 'must start with a letter (it ends up in Service names)');
  if (!(v.model instanceof ModelSource)) issues.add(`${path}.model`, v.model, 'is required: ModelSource.registry(...), ModelSource.uri(...) or ModelSource.baked()');
  const source = v.model instanceof ModelSource ? v.model._resolve(issues, `${path}.model`) : { kind: 'baked' as const };
  const runtimePath = v.runtime ? `${path}.runtime` : 'runtime';
  const runtime = (v.runtime ?? d.runtime)._resolve(issues, runtimePath, d.images);
  const resourcesPath = v.resources ? `${path}.resources` : 'resources';
  const compute = resolveCompute(issues, resourcesPath, v.resources ?? d.resources, ctx?.pools ?? []);
  const gpus = (v.resources ?? d.resources)?.gpus;
  if (runtime.requiresGpu && !((gpus ?? 0) >= 1)) {
    issues.add(`${resourcesPath}.gpus`, gpus, `Runtime.${runtime.kind}() needs a GPU: request at least 1 (with an accelerator or pool), or use a CPU runtime`);
  }
  const scalingPath = v.scaling ? `${path}.scaling` : 'scaling';
  let scaling = (v.scaling ?? d.scaling ?? Scaling.fixed(role === 'shadow' || compute.gpu ? 1 : 2))._resolve(issues, scalingPath);
  const budgetPath = v.startupBudget ? `${path}.startupBudget` : 'startupBudget';
  const given = v.startupBudget ?? d.startupBudget;
  if (given !== undefined && (!(given instanceof Duration) || given.toSeconds() < 60 || given.toSeconds() > 6 * 3600)) {
    issues.add(budgetPath, given?.toString(), 'must be a Duration from 1 minute to 6 hours');
  }
  const budget = given ?? (compute.gpu ? DEFAULT_GPU_STARTUP_BUDGET : DEFAULT_CPU_STARTUP_BUDGET);
  const startup: StartupSpec = {
    budget,
    explicit: given !== undefined,
    probeFailureThreshold: Math.ceil(budget.toSeconds() / 10),
    progressDeadlineSeconds: Math.max(600, budget.toSeconds()),
  };
  if (scaling.minReplicas === 0) {
    if (!startup.explicit) {
      issues.add(`${scalingPath}.minReplicas`, 0,
        'scales to zero, so it needs an explicit `startupBudget` covering GPU node start, image pull, model download and load ' +
        '(without one, a replica still starting is removed again, as in kserve#1247)');
    } else if (compute.gpu && budget.compareTo(MIN_GPU_COLD_START) < 0) {
      issues.add(budgetPath, budget.toString(), `is too short for a GPU version that scales to zero: a GPU node alone takes minutes to join; allow at least ${MIN_GPU_COLD_START}`);
    }
  }
  const env = { ...v.env ?? d.env ?? {} };
  const envPath = v.env ? `${path}.env` : 'env';
  for (const k of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || RESERVED_ENV.includes(k)) issues.add(`${envPath}.${k}`, env[k], `must be an environment variable name other than ${RESERVED_ENV.join(', ')}`);
    checkEnvValue(issues, `${envPath}.${k}`, k, env[k]);
  }
  const access = planModelAccess(issues, `${path}.model`, source, ctx, d.namespace);
  // (a missing name is an issue above; a stand-in keeps the names below computable)
  const objectName = versionObjectName(d.endpoint, typeof v.name === 'string' ? v.name : 'v');
  if (source.kind === 'baked' && source.path === undefined && runtime.kind !== 'custom') {
    issues.add(`${path}.model.path`, undefined, `Runtime.${runtime.kind}() needs to know where the baked model is: give ModelSource.baked({ path })`);
  }
  const modelDir = source.kind === 'baked' ? source.path ?? '' : runtime.modelDir(d.endpoint);
  const serveDir = source.kind === 'baked' ? source.path ?? '' : runtime.serveDir(d.endpoint);
  const selector = `namespace="${d.namespace}",mlplatform_io_endpoint="${d.endpoint}",mlplatform_io_version="${v.name}"`;
  const q = runtime.metrics?.queries ?? {};
  const queries: RuntimeMetricQueries = {
    requestRate: fill(q.requestRate, selector),
    inFlight: fill(q.inFlight, selector),
    errorRatio: fill(q.errorRatio, selector),
    latencySeconds: fill(q.latencySeconds, selector),
    saturation: fill(q.saturation, selector) ?? cpuSaturation(d, v.name, role, objectName, compute.cpuLimit.toCores()),
  };
  if (scaling.kind === 'keda') {
    const query = fill(scaling.query, selector) ?? (scaling.signal === 'requestRate' ? queries.requestRate : queries.inFlight);
    if (!query) {
      issues.add(`${scalingPath}.query`, undefined,
        `Runtime.${runtime.kind}() exports no ${scaling.signal === 'requestRate' ? 'request-rate' : 'in-flight'} metric${runtime.kind === 'mlflow' ? ' (mlflow/mlflow#25263)' : ''}: give \`query\`, or use Scaling.cpu()`);
    }
    if (scaling.query === undefined && query && !d.monitoring) {
      issues.add(`${scalingPath}.query`, undefined, 'the default query reads the runtime\'s metrics, which only the endpoint\'s ServiceMonitor collects: keep `monitoring` on, or give `query`');
    }
    if (ctx && !ctx.addons.has('keda')) issues.add(scalingPath, scaling.signal, 'needs KEDA, which the platform does not install: set `addons: { keda: true }` on the platform');
    scaling = Object.assign({}, scaling, { query, activationQuery: fill(scaling.activationQuery, selector) });
  }
  const loggingPath = v.logging !== undefined ? `${path}.logging` : 'logging';
  const loggingOptions = v.logging ?? d.logging;
  const logging = loggingOptions === undefined || loggingOptions === false ? undefined
    : resolvePayloadLogging(issues, loggingPath, loggingOptions, { namespace: d.namespace, endpoint: d.endpoint, version: v.name, runtime, kserve: d.kserve }, ctx);
  let serviceAccountAnnotations = access.serviceAccountAnnotations;
  if (logging) {
    const own = access.serviceAccountAnnotations;
    const clash = Object.keys(logging.serviceAccountAnnotations).find((k) => k in own && own[k] !== logging.serviceAccountAnnotations[k]);
    if (clash) {
      issues.add(`${path}.model.credentials`, own[clash],
        `gives the version's ServiceAccount another workload identity (${clash}) than the platform store's (${logging.serviceAccountAnnotations[clash]}), which payload logging writes with; ` +
        'a ServiceAccount has one: copy the model under the platform\'s store, or turn `logging` off for this version');
    }
    serviceAccountAnnotations = Object.assign({}, logging.serviceAccountAnnotations, own);
  }
  return Object.assign({}, access, {
    serviceAccountAnnotations,
    ...(logging ? { logging, writeScope: { kind: 's3' as const, bucket: logging.bucket, prefix: logging.prefix } } : {}),
    name: v.name,
    objectName,
    role,
    source,
    runtime,
    compute,
    scaling,
    startup,
    modelDir,
    command: runtime.command(serveDir, d.endpoint, compute.gpu?.count ?? 0),
    env,
    selector,
    queries,
  });
}

import { Issues } from '../errors';
import { checkFactoryArgs } from '../prop-shapes';
import { Duration } from '../quantities';
import { isPinnedImage, VERSIONS } from '../versions';

/**
 * Pinned images of the serving runtimes, from {@link VERSIONS} (`images.triton`, `images.vllm`);
 * MLflow serving uses `VERSIONS.images.mlflow`. Override one per endpoint with the runtime's
 * `image` option, or for the whole platform with its `versions`.
 * - Triton `26.08-py3` (Triton 2.x, CUDA 13.4; runs as the image's `triton-server` user, uid 1000).
 * - vLLM `v0.29.0` (`vllm/vllm-openai`, the OpenAI-compatible server; the image runs as root, so
 *   the pod sets uid 1000 and points every cache at `/tmp`).
 */
export const RUNTIME_IMAGES = {
  /** NVIDIA Triton Inference Server. */
  triton: VERSIONS.images.triton,
  /** vLLM OpenAI-compatible server. */
  vllm: VERSIONS.images.vllm,
} as const;

/** The images runtimes default to: the MLflow image (also the fetch step's), Triton's and vLLM's. */
export interface RuntimeImages {
  /** MLflow (`VERSIONS.images.mlflow`). */
  readonly mlflow: string;
  /** NVIDIA Triton. */
  readonly triton: string;
  /** vLLM. */
  readonly vllm: string;
}

/** The request protocol a runtime speaks (KServe's `protocolVersion`, plus MLflow's and OpenAI's). */
export type ServingProtocol = 'mlflow' | 'v1' | 'v2' | 'openai' | 'custom';

/**
 * PromQL of a runtime's serving signals. `$selector` is replaced by the label matchers of one
 * version's pods (`namespace`, `mlplatform_io_endpoint`, `mlplatform_io_version`, which the
 * ServiceMonitor copies from pod labels).
 */
export interface RuntimeMetricQueries {
  /** Requests per second (the `requestRate` autoscaling signal). */
  readonly requestRate?: string;
  /** Requests in flight or queued (the `concurrency` autoscaling signal). */
  readonly inFlight?: string;
  /** Failed requests / all requests, 0–1. */
  readonly errorRatio?: string;
  /** Request latency in seconds (p95 where the runtime exports a histogram). */
  readonly latencySeconds?: string;
  /** Fraction of capacity in use, 0–1. @default CPU usage / CPU limit (cAdvisor) */
  readonly saturation?: string;
}

/** Where a runtime exports Prometheus metrics. */
export interface RuntimeMetrics {
  /** Metrics port. @default the serving port */
  readonly port?: number;
  /** Metrics path. @default '/metrics' */
  readonly path?: string;
  /** The queries behind autoscaling and alerts. @default none (only CPU saturation is watched) */
  readonly queries?: RuntimeMetricQueries;
}

/** Options of {@link Runtime.custom}. */
export interface CustomRuntimeOptions {
  /** Pinned image (a tag other than `latest`, or a digest). */
  readonly image: string;
  /** HTTP serving port (1024–65535: the container runs as non-root). */
  readonly port: number;
  /** gRPC port, when the server has one. @default none */
  readonly grpcPort?: number;
  /** HTTP paths of the liveness and readiness checks. */
  readonly healthPaths: { readonly liveness: string; readonly readiness: string };
  /** Protocol spoken on `port`. */
  readonly protocol: ServingProtocol;
  /** Container command. @default the image's entrypoint */
  readonly command?: readonly string[];
  /** Container args (the model's directory is in `$MODEL_DIR`). @default none */
  readonly args?: readonly string[];
  /** Prometheus metrics. @default none */
  readonly metrics?: RuntimeMetrics;
  /** Whether the server needs a GPU. @default false */
  readonly gpu?: boolean;
  /** uid the server runs as (never 0). @default 1000 */
  readonly runAsUser?: number;
}

/** Options of {@link Runtime.mlflow}. */
export interface MlflowRuntimeOptions {
  /** Pinned image with MLflow and the model's dependencies. @default VERSIONS.images.mlflow */
  readonly image?: string;
  /** Scoring-server worker processes. @default 1 */
  readonly workers?: number;
}

/** Options of {@link Runtime.triton}. */
export interface TritonRuntimeOptions {
  /** Pinned image. @default the platform's `versions.images.triton`, else RUNTIME_IMAGES.triton */
  readonly image?: string;
  /** Whether the models run on a GPU (Triton also serves CPU models). @default true */
  readonly gpu?: boolean;
  /**
   * Whether the artifact is a whole Triton model repository (`<model>/config.pbtxt`, `<model>/1/…`).
   * Otherwise it is one model's files (an MLflow ONNX model holds `model.onnx`), placed at
   * `<repository>/<endpoint>/1/` with the configuration auto-completed.
   * @default false
   */
  readonly repositoryArtifact?: boolean;
  /** HTTP port. @default 8000 */
  readonly httpPort?: number;
  /** gRPC port. @default 8001 */
  readonly grpcPort?: number;
  /** Metrics port. @default 8002 */
  readonly metricsPort?: number;
  /** Extra `tritonserver` flags. @default none */
  readonly extraArgs?: readonly string[];
}

/** Options of {@link Runtime.vllm}. */
export interface VllmRuntimeOptions {
  /** Pinned image. @default the platform's `versions.images.vllm`, else RUNTIME_IMAGES.vllm */
  readonly image?: string;
  /** HTTP port (OpenAI API and `/metrics`). @default 8000 */
  readonly port?: number;
  /** `--max-model-len`. @default the model's */
  readonly maxModelLen?: number;
  /** `--gpu-memory-utilization`, 0–1. @default vLLM's (0.9) */
  readonly gpuMemoryUtilization?: number;
  /** Extra `vllm serve` flags. @default none */
  readonly extraArgs?: readonly string[];
}

/** A validated runtime. */
export interface RuntimeSpec {
  /** Which runtime. */
  readonly kind: 'mlflow' | 'triton' | 'vllm' | 'custom';
  /** Pinned server image. */
  readonly image: string;
  /** HTTP serving port. */
  readonly port: number;
  /** gRPC port, when the server has one. */
  readonly grpcPort?: number;
  /** Metrics endpoint, when the runtime exports one. */
  readonly metrics?: { readonly port: number; readonly path: string; readonly queries: RuntimeMetricQueries };
  /** HTTP paths of the liveness and readiness (and startup) probes. */
  readonly health: { readonly liveness: string; readonly readiness: string };
  /** Protocol spoken on `port`. */
  readonly protocol: ServingProtocol;
  /** Whether a GPU must be requested. */
  readonly requiresGpu: boolean;
  /** uid the server runs as. */
  readonly runAsUser: number;
  /** Request timeout at the gateway when the endpoint sets none. */
  readonly requestTimeout: Duration;
  /** The command and args serving `serveDir` (Triton: the model repository) as `servedName` with `gpus` GPUs. */
  readonly command: (serveDir: string, servedName: string, gpus: number) => { command?: string[]; args: string[] };
  /** Where the fetch step puts the model's files, given the endpoint name. */
  readonly modelDir: (endpoint: string) => string;
  /** What the server is pointed at for a fetched model (Triton: the repository root). */
  readonly serveDir: (endpoint: string) => string;
}

/** The model volume's mount path. */
export const MODEL_MOUNT = '/models';

const sum = (names: string, range: string) => `sum(rate({__name__=~"${names}",$selector}[${range}]))`;
const TRITON_QUERIES: RuntimeMetricQueries = {
  requestRate: sum('nv_inference_request_(success|failure)', '2m'),
  inFlight: 'sum(nv_inference_pending_request_count{$selector})',
  errorRatio: `sum(rate(nv_inference_request_failure{$selector}[5m])) / ${sum('nv_inference_request_(success|failure)', '5m')}`,
  latencySeconds: `sum(rate(nv_inference_request_duration_us{$selector}[5m])) / ${sum('nv_inference_request_(success|failure)', '5m')} / 1e6`,
  saturation: 'avg(nv_gpu_utilization{$selector})',
};
const VLLM_QUERIES: RuntimeMetricQueries = {
  requestRate: 'sum(rate(http_requests_total{handler=~"/v1/.*",$selector}[2m]))',
  inFlight: 'sum({__name__=~"vllm:num_requests_(running|waiting)",$selector})',
  errorRatio: 'sum(rate(http_requests_total{handler=~"/v1/.*",status="5xx",$selector}[5m])) / sum(rate(http_requests_total{handler=~"/v1/.*",$selector}[5m]))',
  latencySeconds: 'histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{$selector}[5m])))',
  saturation: 'max(vllm:kv_cache_usage_perc{$selector})',
};

type Options = { kind: 'mlflow' } & MlflowRuntimeOptions | { kind: 'triton' } & TritonRuntimeOptions | { kind: 'vllm' } & VllmRuntimeOptions | { kind: 'custom' } & CustomRuntimeOptions;

/**
 * The model server (enum-like, extensible with {@link Runtime.custom}): its pinned image, ports,
 * health paths, protocol and metrics.
 */
export class Runtime {
  /**
   * MLflow's pyfunc scoring server (`mlflow models serve --env-manager local`, `/invocations`,
   * health `/ping`) in the MLflow image, which has scikit-learn, pandas and numpy; give an image
   * with your flavor's libraries for others. It exports no Prometheus request metrics
   * (mlflow/mlflow#25263): scale it on CPU, and only CPU saturation is alerted on.
   */
  public static mlflow(options: MlflowRuntimeOptions = {}): Runtime {
    return checkFactoryArgs(new Runtime({ kind: 'mlflow', ...options }), 'Runtime.mlflow', { options });
  }
  /** NVIDIA Triton (Open Inference Protocol v2 on HTTP 8000 and gRPC 8001, metrics on 8002). */
  public static triton(options: TritonRuntimeOptions = {}): Runtime {
    return checkFactoryArgs(new Runtime({ kind: 'triton', ...options }), 'Runtime.triton', { options });
  }
  /** vLLM's OpenAI-compatible server (needs a GPU; tensor parallelism = the GPUs requested). */
  public static vllm(options: VllmRuntimeOptions = {}): Runtime {
    return checkFactoryArgs(new Runtime({ kind: 'vllm', ...options }), 'Runtime.vllm', { options });
  }
  /** Any model server image: its port, health paths, protocol and (optionally) metrics. */
  public static custom(options: CustomRuntimeOptions): Runtime {
    return checkFactoryArgs(new Runtime({ kind: 'custom', ...options }), 'Runtime.custom', { options });
  }

  private constructor(private readonly options: Options) {}

  /** @internal validates and returns the spec; `images` are the defaults (the platform's version table). */
  public _resolve(issues: Issues, path: string, images: RuntimeImages): RuntimeSpec {
    const o = this.options;
    const c = new Checks(issues, path);
    if (o.kind === 'mlflow') return mlflowSpec(c, o, images.mlflow);
    if (o.kind === 'triton') return tritonSpec(c, o, images.triton);
    if (o.kind === 'vllm') return vllmSpec(c, o, images.vllm);
    return customSpec(c, o);
  }
}

/** Shared checks of the runtime resolvers, recording issues under one path. */
class Checks {
  private readonly ports: [string, number | undefined][] = [];

  constructor(public readonly issues: Issues, public readonly path: string) {}

  public add(name: string, value: unknown, message: string): void {
    this.issues.add(`${this.path}.${name}`, value, message);
  }

  public image(image: string): string {
    if (typeof image !== 'string' || !isPinnedImage(image)) this.add('image', image, 'must be a pinned image: a tag other than "latest" (e.g. "registry/server:1.4.2") or a digest');
    return image;
  }

  /** A listener port: non-privileged, and remembered for {@link clashes}. */
  public port(name: string, value: number | undefined): number {
    if (value !== undefined && (!Number.isInteger(value) || value < 1024 || value > 65535)) {
      this.add(name, value, 'must be a port from 1024 to 65535 (the server runs as non-root and cannot bind lower ports)');
    }
    this.ports.push([name, value]);
    return value as number;
  }

  /** Records every port that another listener already uses. */
  public clashes(): void {
    const seen = new Map<number, string>();
    for (const [name, p] of this.ports) {
      if (p === undefined) continue;
      if (seen.has(p)) this.add(name, p, `clashes with \`${this.path}.${seen.get(p)}\` (${p}): give each listener its own port`);
      else seen.set(p, name);
    }
  }

  public strings(xs: readonly string[] | undefined, name: string): string[] {
    (xs ?? []).forEach((x, i) => { if (typeof x !== 'string' || x.length === 0) this.add(`${name}[${i}]`, x, 'must be a non-empty string'); });
    return [...xs ?? []];
  }
}

type BaseFields = 'grpcPort' | 'runAsUser' | 'requestTimeout' | 'modelDir' | 'serveDir';

const BASE: Pick<RuntimeSpec, BaseFields> = {
  grpcPort: undefined,
  runAsUser: 1000,
  requestTimeout: Duration.seconds(60),
  modelDir: () => `${MODEL_MOUNT}/model`,
  serveDir: () => `${MODEL_MOUNT}/model`,
};

/**
 * A runtime's spec: {@link BASE}'s fields, then the runtime's own (which win). `Object.assign` rather
 * than `{ ...BASE, … }`, which gives each spec a hidden class of its own in Node 20 (.projenrc.ts).
 */
function runtimeSpec(own: Omit<RuntimeSpec, BaseFields> & Partial<Pick<RuntimeSpec, BaseFields>>): RuntimeSpec {
  return Object.assign({}, BASE, own);
}

function mlflowSpec(c: Checks, o: MlflowRuntimeOptions, mlflowImage: string): RuntimeSpec {
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) c.add('workers', o.workers, 'must be a whole number from 1 to 64');
  return runtimeSpec({
    kind: 'mlflow',
    image: c.image(o.image ?? mlflowImage),
    port: 8080,
    health: { liveness: '/ping', readiness: '/ping' },
    protocol: 'mlflow',
    requiresGpu: false,
    command: (dir) => ({ command: ['mlflow'], args: ['models', 'serve', '-m', dir, '--env-manager', 'local', '--host', '0.0.0.0', '--port', '8080', '--workers', String(workers)] }),
  });
}

function tritonSpec(c: Checks, o: TritonRuntimeOptions, defaultImage: string): RuntimeSpec {
  const http = c.port('httpPort', o.httpPort ?? 8000);
  const grpc = c.port('grpcPort', o.grpcPort ?? 8001);
  const metrics = c.port('metricsPort', o.metricsPort ?? 8002);
  c.clashes();
  const args = c.strings(o.extraArgs, 'extraArgs');
  const gpu = o.gpu ?? true;
  return runtimeSpec({
    kind: 'triton',
    image: c.image(o.image ?? defaultImage),
    port: http,
    grpcPort: grpc,
    metrics: { port: metrics, path: '/metrics', queries: gpu ? TRITON_QUERIES : Object.assign({}, TRITON_QUERIES, { saturation: undefined }) },
    health: { liveness: '/v2/health/live', readiness: '/v2/health/ready' },
    protocol: 'v2',
    requiresGpu: gpu,
    modelDir: (endpoint) => (o.repositoryArtifact ? `${MODEL_MOUNT}/repository` : `${MODEL_MOUNT}/repository/${endpoint}/1`),
    serveDir: () => `${MODEL_MOUNT}/repository`,
    command: (dir) => ({
      command: ['tritonserver'],
      args: [`--model-repository=${dir}`, `--http-port=${http}`, `--grpc-port=${grpc}`, `--metrics-port=${metrics}`, '--exit-on-error=true', ...args],
    }),
  });
}

function vllmSpec(c: Checks, o: VllmRuntimeOptions, defaultImage: string): RuntimeSpec {
  const p = c.port('port', o.port ?? 8000);
  if (o.maxModelLen !== undefined && (!Number.isInteger(o.maxModelLen) || o.maxModelLen < 1)) c.add('maxModelLen', o.maxModelLen, 'must be a whole number of tokens ≥ 1');
  const util = o.gpuMemoryUtilization;
  if (util !== undefined && !(util > 0 && util <= 1)) c.add('gpuMemoryUtilization', util, 'must be a fraction in (0, 1], e.g. 0.9');
  const args = c.strings(o.extraArgs, 'extraArgs');
  return runtimeSpec({
    kind: 'vllm',
    image: c.image(o.image ?? defaultImage),
    port: p,
    requestTimeout: Duration.minutes(10),
    metrics: { port: p, path: '/metrics', queries: VLLM_QUERIES },
    health: { liveness: '/health', readiness: '/health' },
    protocol: 'openai',
    requiresGpu: true,
    command: (dir, name, gpus) => ({
      command: ['vllm', 'serve'],
      args: [
        dir, '--host', '0.0.0.0', '--port', String(p), '--served-model-name', name,
        ...(gpus > 1 ? ['--tensor-parallel-size', String(gpus)] : []),
        ...(o.maxModelLen !== undefined ? ['--max-model-len', String(o.maxModelLen)] : []),
        ...(util !== undefined ? ['--gpu-memory-utilization', String(util)] : []),
        ...args,
      ],
    }),
  });
}

function customSpec(c: Checks, o: CustomRuntimeOptions): RuntimeSpec {
  const p = c.port('port', o.port);
  if (o.port === undefined) c.add('port', o.port, 'is required: the HTTP port the server listens on');
  const grpc = c.port('grpcPort', o.grpcPort);
  const m = o.metrics;
  if (m?.port !== undefined && m.port !== p) c.port('metrics.port', m.port);
  c.clashes();
  const health = o.healthPaths;
  if (!health?.liveness || !health?.readiness) c.add('healthPaths', health, 'is required: { liveness, readiness } HTTP paths');
  for (const [k, v] of Object.entries(health ?? {})) if (typeof v !== 'string' || !v.startsWith('/')) c.add(`healthPaths.${k}`, v, 'must be an HTTP path starting with "/"');
  if (!['mlflow', 'v1', 'v2', 'openai', 'custom'].includes(o.protocol)) c.add('protocol', o.protocol, 'must be one of mlflow, v1, v2, openai, custom');
  const metricsPath = m?.path ?? '/metrics';
  if (m && !metricsPath.startsWith('/')) c.add('metrics.path', m.path, 'must be an HTTP path starting with "/"');
  for (const [k, q] of Object.entries(m?.queries ?? {})) {
    if (q !== undefined && (typeof q !== 'string' || !q.includes('$selector'))) c.add(`metrics.queries.${k}`, q, 'must be PromQL containing `$selector` (replaced by the version\'s pod labels)');
  }
  const runAsUser = o.runAsUser ?? 1000;
  if (!Number.isInteger(runAsUser) || runAsUser < 1) c.add('runAsUser', o.runAsUser, 'must be a uid ≥ 1 (containers never run as root)');
  const command = o.command ? c.strings(o.command, 'command') : undefined;
  const args = c.strings(o.args, 'args');
  return runtimeSpec({
    kind: 'custom',
    image: c.image(o.image),
    port: p,
    grpcPort: grpc,
    runAsUser,
    metrics: m ? { port: m.port ?? p, path: metricsPath, queries: { ...m.queries } } : undefined,
    health: { liveness: health?.liveness, readiness: health?.readiness },
    protocol: o.protocol,
    requiresGpu: o.gpu ?? false,
    command: () => ({ command, args }),
  });
}

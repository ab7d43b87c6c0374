// Arbitraries of ModelEndpoint props: runtimes (MLflow, Triton, vLLM, custom), model sources,
// stable/canary/A-B/shadow versions, fixed/CPU/KEDA scaling, exposure, monitoring, KServe output.
import * as fc from 'fast-check';
import { compact, cpu, dnsLabel, duration, env, host, image, labels, memory, secretRef } from './common';
import { appHost, checkSeverities, type PlatformFacts } from './ml-platform';
import { gpuPlacement, landsOn } from './workload';
import type { ModelEndpointProps } from '../../../src/cdk8s';
import { ComputeOptions, Duration, EndpointExposure, ModelSource, ModelVersionOptions, PayloadLoggingOptions, Runtime, Scaling, Size } from '../../../src/core';

/** An endpoint declaration: construct id and props (without `platform`). */
export interface EndpointConfig {
  readonly id: string;
  readonly props: Omit<ModelEndpointProps, 'platform'>;
  /**
   * The stable version serves the first pipeline's artifacts (`pipeline.artifacts`), when the
   * scenario has a pipeline: read with the platform's store credentials, granted with
   * `pipeline.artifacts.grantRead(endpoint)` when `grant` (else only across namespaces, as the
   * data-access check requires).
   */
  readonly fromPipeline?: { readonly grant: boolean };
}

/** Payload logging options over their whole range (port above every runtime port drawn here). */
const loggingOptions: fc.Arbitrary<PayloadLoggingOptions> = fc.record({
  mode: fc.constantFrom('all', 'request', 'response') as fc.Arbitrary<'all'>,
  samplePercent: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(0.01, 2.5, 12.75)),
  maxBodyBytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1024 * 1024 })),
  flushInterval: duration(1, 3600),
  batchSize: fc.integer({ min: 1, max: 100000 }),
  port: fc.integer({ min: 30001, max: 65535 }),
}, { requiredKeys: [] });

// Server env may name a variable the runtime sets too (vLLM's HF_HOME): the user's value replaces it.
const endpointEnv = env;

const QUERY = 'sum(rate(http_requests_total{$selector}[2m]))';

const modelSource: fc.Arbitrary<ModelSource> = fc.oneof(
  fc.tuple(fc.constantFrom('resnet50', 'churn.v2', 'bert-base'), fc.oneof(fc.constant({}), fc.record({
    alias: fc.constantFrom('champion', 'challenger',
      'candidate_2'),
  }), fc.record({ version: fc.integer({ min: 1, max: 40 }) })))
    .map(([n, o]) => ModelSource.registry(n, o)),
  fc.record({
    uri: fc.constantFrom('s3://models-bucket/resnet50/7', 's3://acme.models/churn/v2/model', 's3://models-bucket/bert'),
    credentials: fc.oneof(fc.record({ accessKeyId: secretRef, secretAccessKey: secretRef }),
      fc.constant({ workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/models' } } })),
    endpoint: fc.option(fc.constantFrom('https://s3.example.com', 'http://minio.storage.svc:9000'), { nil: undefined }),
    region: fc.option(fc.constantFrom('eu-west-1', 'us-east-2'), { nil: undefined }),
  }, { requiredKeys: ['uri', 'credentials'] }).map(({ uri, ...o }) => ModelSource.uri(uri, o)),
  fc.constantFrom('/opt/model', '/models/baked').map((path) => ModelSource.baked({ path })),
);

const cpuRuntime: fc.Arbitrary<Runtime> = fc.oneof(
  fc.record({
    workers: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    image: fc.option(image,
      { nil: undefined }),
  }).map((o) => Runtime.mlflow(compact(o))),
  fc.record({
    extraArgs: fc.option(fc.constant(['--log-verbose=0']), { nil: undefined }),
    httpPort: fc.option(fc.constant(9000),
      { nil: undefined }),
  }).map((o) => Runtime.triton(compact({ gpu: false, ...o }))),
  fc.record({
    image,
    port: fc.integer({ min: 1024, max: 20000 }),
    grpcPort: fc.option(fc.integer({ min: 20001, max: 30000 }), { nil: undefined }),
    protocol: fc.constantFrom('mlflow', 'v1', 'v2', 'openai', 'custom') as fc.Arbitrary<'v2'>,
    args: fc.option(fc.constant(['--model', '/opt/model']), { nil: undefined }),
    metrics: fc.option(fc.record({
      path: fc.option(fc.constantFrom('/metrics', '/prom'), { nil: undefined }),
      queries: fc.option(fc.constant({ requestRate: 'sum(rate(acme_requests_total{$selector}[2m]))' }), { nil: undefined }),
    }).map(compact), { nil: undefined }),
    runAsUser: fc.option(fc.integer({ min: 1, max: 65534 }), { nil: undefined }),
  }, { requiredKeys: ['image', 'port', 'protocol'] }).map((o) => Runtime.custom({ ...o, healthPaths: { liveness: '/livez', readiness: '/readyz' } })),
);

const gpuRuntime: fc.Arbitrary<Runtime> = fc.oneof(
  fc.constant(Runtime.triton()),
  fc.record({
    maxModelLen: fc.option(fc.integer({ min: 512, max: 32768 }), { nil: undefined }),
    gpuMemoryUtilization: fc.option(fc.constantFrom(0.8, 0.9, 0.95),
      { nil: undefined }),
  }).map((o) => Runtime.vllm(compact(o))),
);

type Role = 'stable' | 'canary' | 'shadow';

/** Endpoint props for platform `f`. */
export function endpointConfig(f: PlatformFacts, index: number): fc.Arbitrary<EndpointConfig> {
  return fc.record({
    name: dnsLabel(12),
    tenant: fc.constantFrom(...f.tenants),
    kserve: f.kserve ? fc.boolean() : fc.constant(false),
    canaries: fc.integer({ min: 0, max: 2 }),
    shadow: fc.boolean(),
    stableWeight: fc.boolean(),
  }).chain((r) => {
    const kserve = r.kserve;
    const canaries = kserve ? Math.min(r.canaries, 1) : r.canaries;
    const shadow = !kserve && r.shadow;
    const roles: Role[] = ['stable', ...Array<Role>(canaries).fill('canary'), ...(shadow ? ['shadow' as Role] : [])];
    const multi = roles.length > 1;
    const tenantPools = f.pools.filter((p) => (r.tenant.gpus[p.pool] ?? 0) > 0);
    const gpu = tenantPools.length ? fc.option(gpuPlacement(f, tenantPools, 1), { nil: undefined, freq: 3 }) : fc.constant(undefined);
    const scaling = (role: Role): fc.Arbitrary<Scaling | undefined> => fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 1, max: 3 }).map((n) => Scaling.fixed(n)),
      ...(kserve && role === 'canary' ? [] : [
        fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined })).map(([min, extra,
          u]) => Scaling.cpu(compact({ minReplicas: min, maxReplicas: min + extra, utilization: u }))),
        ...(f.keda ? [fc.tuple(fc.integer({ min: kserve || role !== 'shadow' ? 1 : 0, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(5, 20, 0.5),
          fc.boolean(), fc.boolean())
          .map(([min, extra, target, rate, idle]) => {
            const o = compact({
              minReplicas: min,
              maxReplicas: min + extra,
              target,
              query: QUERY,
              ...(min === 0 ? {
                activationQuery: QUERY,
                activationThreshold: 1,
              } : {}),
              idleBeforeScaleToZero: idle ? Duration.minutes(30) : undefined,
            });
            return rate ? Scaling.requestRate(o) : Scaling.concurrency(o);
          })] : []),
      ]),
    );
    const version = (role: Role, i: number) => fc.record({
      model: modelSource,
      scaling: scaling(role),
      env: fc.option(endpointEnv, { nil: undefined }),
      weight: fc.integer({ min: 0, max: 30 }),
      mirror: fc.constantFrom(10, 12.5, 50, 100),
      startupBudget: fc.option(duration(300, 3600), { nil: undefined }),
      // A version's own logging replaces the endpoint's; `false` turns it off for that version.
      logging: kserve ? fc.constant(undefined) : fc.option(fc.oneof(fc.constant(false as const), loggingOptions), { nil: undefined, freq: 3 }),
    }).map((o) => ({ role, i, ...o }));
    return fc.record({
      versions: fc.tuple(...roles.map((role, i) => version(role, i))),
      runtimeChoice: fc.record({ cpu: cpuRuntime, gpu: gpuRuntime }),
      placement: gpu,
      resources: fc.record({
        cpu: fc.option(cpu(100, 4000), { nil: undefined }),
        memory: fc.option(memory(512, 16384), { nil: undefined }),
        sharedMemory: fc.option(fc.constant(Size.mebibytes(256)), { nil: undefined }),
      }),
      startupBudget: fc.option(duration(300, 6 * 3600), { nil: undefined }),
      modelStorage: fc.option(fc.integer({ min: 1, max: 50 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
      exposure: kserve ? fc.constant(undefined) : fc.oneof(
        ...(multi ? [] : [fc.constant(undefined), fc.constant(EndpointExposure.none()),
          fc.record({
            host,
            className: fc.constantFrom('nginx', 'traefik'),
            path: fc.option(fc.constantFrom('/', '/v1/models'), { nil: undefined }),
            tls: fc.option(fc.record({ clusterIssuer: fc.constant('letsencrypt') }), { nil: undefined }),
          }, {
            requiredKeys: ['host',
              'className'],
          }).map((o) => EndpointExposure.ingress(o))]),
        fc.record({
          host,
          gateway: fc.record({
            name: dnsLabel(10),
            namespace: dnsLabel(12),
            sectionName: fc.option(fc.constantFrom('https', 'http'),
              { nil: undefined }),
          }, { requiredKeys: ['name', 'namespace'] }),
          path: fc.option(fc.constantFrom('/resnet50', '/api/v1'), { nil: undefined }),
          requestTimeout: fc.option(duration(1, 300), { nil: undefined }),
        }, { requiredKeys: ['host', 'gateway'] })
          .map((o) => EndpointExposure.gateway(o)),
        // On the platform Gateway's apps listeners (no `gateway`), with the gRPC port on a second host when the runtime has one.
        ...(f.apps ? [{
          weight: 3,
          arbitrary: fc.record({
            label: dnsLabel(10),
            pick: fc.nat(5),
            exact: fc.boolean(),
            grpc: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
            path: fc.option(fc.constantFrom('/resnet50', '/api/v1'), { nil: undefined }),
            requestTimeout: fc.option(duration(1, 300), { nil: undefined }),
          }).map((a) => ({ apps: a })),
        }] : []),
      ),
      logging: kserve ? fc.constant(undefined) : fc.option(loggingOptions, { nil: undefined, freq: 3 }),
      checks: fc.option(checkSeverities, { nil: undefined, freq: 4 }),
      fromPipeline: fc.option(fc.record({ grant: fc.boolean() }), { nil: undefined, freq: 3 }),
      monitoring: fc.oneof(
        fc.constant(undefined),
        fc.constant(false as const),
        fc.record({
          prometheus: fc.option(fc.record({
            url: fc.constant('http://prometheus.obs.svc:9090'),
            namespace: fc.constant('obs'),
            podLabels: fc.constant({ 'app.kubernetes.io/instance': 'main' }),
          }), { nil: undefined }),
          labels: fc.option(labels, { nil: undefined }),
          interval: fc.option(duration(5, 120), { nil: undefined }),
          alerts: fc.option(fc.oneof(fc.constant(false as const), fc.record({
            errorRatio: fc.constantFrom(0.01, 0.05, 1),
            latencySeconds: fc.option(fc.constantFrom(0.1, 0.25, 2), { nil: undefined }),
            saturation: fc.option(fc.constantFrom(0.8, 0.9), { nil: undefined }),
            for: fc.option(duration(60, 1800), { nil: undefined }),
          }, { requiredKeys: [] })), { nil: undefined }),
        }, { requiredKeys: [] }).map(compact),
      ),
      env: fc.option(endpointEnv, { nil: undefined }),
      drainSeconds: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
    }).map((o) => {
      const placement = o.placement;
      const pool = placement ? landsOn(f, placement) : undefined;
      const runtime = placement ? o.runtimeChoice.gpu : o.runtimeChoice.cpu;
      const rt = (runtime as any).options as { kind: string; port?: number; grpcPort?: number };
      // Logging's default proxy port (8099) must not be a custom server's port.
      const logPort = (l: PayloadLoggingOptions | false | undefined) => (l && l.port === undefined && rt.port === 8099 ? { ...l, port: 30099 } : l);
      type AppsDraft = { apps: { label: string; pick: number; exact: boolean; grpc: boolean; path?: string; requestTimeout?: Duration } };
      let exposure = o.exposure as EndpointExposure | AppsDraft | undefined;
      if (exposure && 'apps' in exposure) {
        const a = exposure.apps;
        const hasGrpc = rt.kind === 'triton' || rt.grpcPort !== undefined;
        exposure = EndpointExposure.gateway(compact({
          host: appHost(f, `e${index}-${a.label}`, a.pick, a.exact && index === 0)!,
          grpcHost: a.grpc && hasGrpc ? appHost(f, `e${index}-${a.label}-grpc`, a.pick + 1) : undefined,
          path: a.path,
          requestTimeout: a.requestTimeout,
        }));
      }
      // /dev/shm must stay below the memory limit (GPU placements may ask for as little as 256Mi).
      const shm = placement && (placement.memory?.bytes ?? 2 ** 30) <= 2 ** 28 ? undefined : o.resources.sharedMemory;
      const resources: ComputeOptions = placement ? compact({ ...placement, sharedMemory: shm }) : compact(o.resources);
      // GPU quota: every version at maxReplicas must fit the tenant's GPUs of the pool.
      let budget = pool ? (r.tenant.gpus[pool.pool] ?? 0) : Infinity;
      const versions: ModelVersionOptions[] = o.versions.map((v) => {
        const gpus = placement?.gpus ?? 0;
        const given = v.scaling as any;
        const max = given ? (given.options.kind === 'fixed' ? given.options.replicas : given.options.maxReplicas) : (v.role === 'shadow' || placement ? 1 : 2);
        const versionScaling = gpus * max > budget ? Scaling.fixed(1) : v.scaling;
        budget -= gpus * (versionScaling === v.scaling ? max : 1);
        const zero = (versionScaling as any)?.options.minReplicas === 0;
        const name = v.role === 'stable' ? 'stable' : v.role === 'shadow' ? 'shadow' : `canary${v.i}`;
        // Baked models need a path unless the runtime is custom; our generator always gives one.
        return compact({
          name,
          model: v.model,
          ...(v.role === 'stable' && (multi || r.stableWeight) ? { stable: true } : {}),
          ...(v.role === 'canary' ? { weight: v.weight } : {}),
          ...(v.role === 'shadow' ? { mirrorPercent: v.mirror } : {}),
          scaling: versionScaling,
          env: v.env,
          startupBudget: zero ? v.startupBudget ?? Duration.minutes(10) : v.startupBudget,
          // A ServiceAccount has one workload identity: a model read with its own role cannot share the pod with payload logging (the store's role).
          logging: (v.logging ?? o.logging) && (v.model as any).options?.credentials?.workloadIdentity ? false : logPort(v.logging),
        }) as ModelVersionOptions;
      });
      return {
        id: `e${index}-${r.name}`,
        props: compact({
          namespace: r.tenant.namespace,
          versions,
          runtime,
          resources,
          startupBudget: o.startupBudget,
          modelStorage: o.modelStorage,
          exposure,
          monitoring: o.monitoring,
          env: o.env,
          drainSeconds: o.drainSeconds,
          kserve: kserve || undefined,
          logging: logPort(o.logging),
          checks: o.checks,
        }) as EndpointConfig['props'],
        ...(o.fromPipeline ? { fromPipeline: o.fromPipeline } : {}),
      };
    });
  });
}

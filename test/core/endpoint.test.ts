import {
  Cpu, Duration, Issues, PlatformContext, resolveGpuPool, resolveTenant, Size, ValidationError,
} from '../../src/core';
import {
  EndpointExposure, ModelEndpointOptions, ModelSource, resolveModelEndpoint, Runtime, Scaling,
} from '../../src/core/endpoint';

const registry = (alias = 'champion') => ModelSource.registry('resnet50', { alias });

/** A hand-built PlatformContext (the composability path): one a10g pool, tenant `vision`, KEDA on. */
function context(o: { keda?: boolean; kserve?: boolean; gpuQuota?: number; workloadIdentity?: boolean } = {}): PlatformContext {
  const issues = new Issues('fixture');
  const pool = resolveGpuPool(issues, 'pool', 'a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 })!;
  const tenant = resolveTenant(issues, 'tenant', 'vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: o.gpuQuota ?? 4 } } }, [pool]);
  issues.throwIfAny();
  return {
    name: 'ml',
    namespace: 'mlplatform',
    tracking: { uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'basic', credentials: { name: 'ml-tracking', keys: { username: 'username', password: 'password' } }, podLabels: {}, port: 5000 },
    store: {
      root: 's3://ml-artifacts/platform',
      bucket: 'ml-artifacts',
      prefix: 'platform',
      region: 'eu-west-1',
      insecure: false,
      port: 443,
      ...(o.workloadIdentity
        ? { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' } }
        : { credentials: { name: 'ml-store', keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } } }),
    },
    database: { host: 'db', port: 5432, database: 'mlflow', sslMode: 'require', credentials: { name: 'db', keys: { username: 'u', password: 'p' } } },
    pools: [pool],
    tenants: [tenant],
    addons: new Set([...(o.keda ?? true ? ['keda' as const] : []), ...(o.kserve ? ['kserve' as const] : [])]),
  };
}

const gateway = EndpointExposure.gateway({ host: 'resnet50.models.example.com', gateway: { name: 'inference', namespace: 'envoy-gateway-system' } });

/** `null`: no platform at all. */
function resolve(o: Partial<ModelEndpointOptions>, platform: PlatformContext | null = context()) {
  return resolveModelEndpoint('resnet50', { namespace: 'vision', versions: [{ name: 'stable', model: registry() }], ...o }, { platform: platform ?? undefined });
}

function fails(o: Partial<ModelEndpointOptions>, platform: PlatformContext | null = context()): ValidationError {
  try {
    resolve(o, platform);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('ModelEndpoint: the issue\'s required validation errors', () => {
  test('weights that do not add up to 100', () => {
    const e = fails({
      exposure: gateway,
      versions: [
        { name: 'stable', stable: true, weight: 80, model: registry() },
        { name: 'canary', weight: 30, model: registry('challenger') },
      ],
    });
    expect(e.issues).toHaveLength(1);
    expect(e.message).toContain('ModelEndpoint "resnet50": 1 invalid prop');
    expect(e.message).toContain('`versions[*].weight` ({"stable":80,"canary":30}): add up to 110, not 100');
    const over = fails({ exposure: gateway, versions: [{ name: 'stable', stable: true, model: registry() }, { name: 'a', weight: 70, model: registry('a') }, { name: 'b', weight: 40, model: registry('b') }] });
    expect(over.message).toContain('`versions[*].weight` ({"a":70,"b":40}): of the canary and A/B versions add up to 110, leaving nothing for the stable version');
  });

  test('a mirror percentage outside 0-100', () => {
    for (const bad of [150, -5, 0, 12.345]) {
      const e = fails({ exposure: gateway, versions: [{ name: 'stable', model: registry() }, { name: 'shadow', mirrorPercent: bad, model: registry('candidate') }] });
      expect(e.issues[0]).toMatchObject({ path: 'versions[1].mirrorPercent', value: bad });
      expect(e.message).toContain(`\`versions[1].mirrorPercent\` (${bad}): must be a percentage above 0 and at most 100`);
    }
  });

  test('a canary without a stable version', () => {
    const e = fails({ exposure: gateway, versions: [{ name: 'blue', weight: 50, model: registry('blue') }, { name: 'green', weight: 50, model: registry('green') }] });
    expect(e.message).toContain('`versions` (["blue","green"]): has several serving versions but no stable one: mark the version that takes the rest of the traffic');
    const onlyShadow = fails({ exposure: gateway, versions: [{ name: 'shadow', mirrorPercent: 10, model: registry() }] });
    expect(onlyShadow.message).toContain('`versions` (["shadow"]): needs a stable version that serves live traffic');
  });

  test('min replicas > max', () => {
    const e = fails({ scaling: Scaling.cpu({ minReplicas: 5, maxReplicas: 2 }) });
    expect(e.message).toContain('`scaling.minReplicas` (5): must not exceed maxReplicas (2)');
    const v = fails({ versions: [{ name: 'stable', model: registry(), scaling: Scaling.requestRate({ minReplicas: 3, maxReplicas: 1, target: 10 }) }], runtime: Runtime.triton({ gpu: false }) });
    expect(v.issues[0]).toMatchObject({ path: 'versions[0].scaling.minReplicas', value: 3 });
  });

  test('scale to zero without a start-up budget', () => {
    const e = fails({
      runtime: Runtime.triton({ gpu: false }),
      versions: [{ name: 'stable', model: registry(), scaling: Scaling.requestRate({ minReplicas: 0, maxReplicas: 2, target: 20, activationQuery: 'sum(rate(envoy_requests[1m]))' }) }],
    });
    expect(e.issues).toHaveLength(1);
    expect(e.message).toContain('`versions[0].scaling.minReplicas` (0): scales to zero, so it needs an explicit `startupBudget` covering GPU node start, image pull, model download and load');
    expect(e.message).toContain('kserve#1247');
  });

  test('a GPU runtime with no GPU requested', () => {
    expect(fails({ runtime: Runtime.vllm() }).message).toContain('`resources.gpus` (undefined): Runtime.vllm() needs a GPU: request at least 1');
    const t = fails({ versions: [{ name: 'stable', model: registry(), runtime: Runtime.triton(), resources: { cpu: Cpu.cores(2) } }] });
    expect(t.issues[0]).toMatchObject({ path: 'versions[0].resources.gpus' });
    expect(t.message).toContain('Runtime.triton() needs a GPU');
    expect(() => resolve({ runtime: Runtime.triton({ gpu: false }) })).not.toThrow();
  });

  test('a port clash', () => {
    const e = fails({ runtime: Runtime.triton({ gpu: false, httpPort: 9000, grpcPort: 9000 }) });
    expect(e.message).toContain('`runtime.grpcPort` (9000): clashes with `runtime.httpPort` (9000): give each listener its own port');
    const c = fails({
      runtime: Runtime.custom({ image: 'ghcr.io/acme/server:1.2.0', port: 8080, grpcPort: 8081, metrics: { port: 8081 }, healthPaths: { liveness: '/live', readiness: '/ready' }, protocol: 'v2' }),
      versions: [{ name: 'stable', model: ModelSource.baked() }],
    });
    expect(c.message).toContain('`runtime.metrics.port` (8081): clashes with `runtime.grpcPort` (8081)');
    expect(fails({ runtime: Runtime.vllm({ port: 80 }), resources: { gpus: 1 } }).message).toContain('`runtime.port` (80): must be a port from 1024 to 65535 (the server runs as non-root');
  });
});

describe('ModelEndpoint: more validation', () => {
  test('every issue is reported at once', () => {
    const e = fails({
      namespace: 'nlp',
      runtime: Runtime.custom({ image: 'acme/server:latest', port: 8080, healthPaths: { liveness: 'live', readiness: '/ready' }, protocol: 'v2' }),
      versions: [{ name: 'Stable', model: ModelSource.uri('s3://other-bucket/models/x') }],
      drainSeconds: -1,
    });
    expect(e.issues.map((i) => i.path)).toEqual([
      'namespace', 'versions[0].name', 'runtime.healthPaths.liveness', 'runtime.image', 'versions[0].model.credentials', 'drainSeconds',
    ]);
    expect(e.message).toContain('`namespace` ("nlp"): is not a tenant namespace of platform "ml"; use one of: vision');
    expect(e.message).toContain('`runtime.image` ("acme/server:latest"): must be a pinned image');
    expect(e.message).toContain('s3://other-bucket/models/x lies outside the platform\'s store (s3://ml-artifacts/platform), so the version\'s ServiceAccount could not read it');
  });

  test('model sources: names, aliases, versions, URIs, and where credentials come from', () => {
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.registry('res net') }] }).issues[0]).toMatchObject({ path: 'versions[0].model.name' });
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.registry('m', { alias: 'latest' }) }] }).message).toContain('not "latest" or "v<number>"');
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.registry('m', { alias: 'a', version: 3 }) }] }).issues[0]).toMatchObject({ path: 'versions[0].model.version' });
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.uri('gs://b/m') }] }).issues[0]).toMatchObject({ path: 'versions[0].model.uri' });
    expect(fails({}, null).message).toContain('`versions[0].model` ("models:/resnet50@champion"): a registered model is fetched through the tracking server: give `platform`');
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.uri('s3://b1/m') }] }, null).message).toContain('nothing could read s3://b1/m without a platform');
    expect(fails({ versions: [{ name: 'stable', model: ModelSource.baked() }] }).message).toContain('`versions[0].model.path` (undefined): Runtime.mlflow() needs to know where the baked model is');
    const inStore = resolve({ versions: [{ name: 'stable', model: ModelSource.uri('s3://ml-artifacts/platform/models/resnet50/7/') }] }).versions[0];
    expect(inStore.readScope).toEqual({ kind: 's3', bucket: 'ml-artifacts', prefix: 'platform/models/resnet50/7/' });
    expect(inStore.fetch!.env.map((x) => x.name)).toEqual(['AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const wi = resolve({ versions: [{ name: 'stable', model: ModelSource.uri('s3://ml-artifacts/platform/m') }] }, context({ workloadIdentity: true })).versions[0];
    expect(wi.serviceAccountAnnotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' });
    expect(wi.fetch!.env.map((x) => x.name)).toEqual(['AWS_DEFAULT_REGION']);
  });

  // Issue #21 item 2: MLflow resolves `models:/name@alias` to the version's source and downloads it
  // client-side (mlflow/store/artifact/models_artifact_repo.py `_get_model_uri_infos`, then
  // s3_artifact_repo.py for an `s3://` source, which registration steps register): the fetch step
  // needs the store's region and identity, not only MLflow's credentials.
  test('a registry model: MLflow credentials and the store identity for the fetch step, the namespace\'s pipeline root as read scope', () => {
    const reg = resolve({}).versions[0];
    expect(reg.fetch).toEqual({
      uri: 'models:/resnet50@champion',
      env: [
        { name: 'MLFLOW_TRACKING_URI', value: 'http://ml-tracking.mlplatform.svc.cluster.local:5000' },
        { name: 'MLFLOW_TRACKING_USERNAME', secretKeyRef: { name: 'ml-tracking', key: 'username' } },
        { name: 'MLFLOW_TRACKING_PASSWORD', secretKeyRef: { name: 'ml-tracking', key: 'password' } },
        { name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' },
        { name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: 'ml-store', key: 'accessKeyId' } },
        { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: { name: 'ml-store', key: 'secretAccessKey' } },
      ],
    });
    expect(reg.readScope).toEqual({ kind: 'registry', model: 'resnet50', bucket: 'ml-artifacts', prefix: 'platform/pipelines/vision/' });
    expect(reg.serviceAccountAnnotations).toEqual({});
    // An S3-compatible store: its endpoint, for MLflow (MLFLOW_S3_ENDPOINT_URL) and plain boto3 (AWS_ENDPOINT_URL_S3).
    const ctx = context();
    const compatible = resolve({}, { ...ctx, store: { ...ctx.store, endpoint: 'http://s3.internal:8333' } }).versions[0];
    expect(compatible.fetch!.env.filter((x) => /ENDPOINT/.test(x.name))).toEqual([
      { name: 'MLFLOW_S3_ENDPOINT_URL', value: 'http://s3.internal:8333' },
      { name: 'AWS_ENDPOINT_URL_S3', value: 'http://s3.internal:8333' },
    ]);
    // Workload identity: no keys, the role on the version's ServiceAccount.
    const wi = resolve({}, context({ workloadIdentity: true })).versions[0];
    expect(wi.fetch!.env.map((x) => x.name)).toEqual(['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'AWS_DEFAULT_REGION']);
    expect(wi.serviceAccountAnnotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' });
    // A hand-built context whose store gives tenants no identity: nothing could download an `s3://` source.
    const { credentials: _none, ...bare } = ctx.store;
    const e = fails({}, { ...ctx, store: bare });
    expect(e.issues).toEqual([expect.objectContaining({ path: 'versions[0].model', value: 'models:/resnet50@champion' })]);
    expect(e.message).toContain("the platform's store (s3://ml-artifacts/platform) gives tenant workloads no identity (neither `store.credentials` nor `store.serviceAccountAnnotations`)");
    expect(e.message).toContain('give the PlatformContext one of them, or serve the model with ModelSource.uri(..., { credentials })');
  });

  test('traffic needs a Gateway; Ingress and no exposure serve one version', () => {
    const two = [{ name: 'stable', model: registry() }, { name: 'shadow', mirrorPercent: 5, model: registry('c') }];
    expect(fails({ versions: two }).message).toContain('`exposure` ("none"): canary, A/B and shadow versions need EndpointExposure.gateway(...)');
    expect(fails({ versions: two, exposure: EndpointExposure.ingress({ host: 'm.example.com', className: 'traefik' }) }).message).toContain('Ingress has no standard traffic weights or request mirroring');
    expect(fails({ versions: [{ name: 'stable', stable: true, model: registry() }, { name: 'canary', model: registry('c') }], exposure: gateway, scaling: Scaling.fixed(1) }).message)
      .toContain('`versions[1].weight` (undefined): is required for a canary or A/B version');
    expect(fails({ exposure: EndpointExposure.gateway({ host: 'x', gateway: { name: 'g', namespace: 'Bad' }, path: '/a/' }) }).issues.map((i) => i.path))
      .toEqual(['exposure.host', 'exposure.path', 'exposure.gateway.namespace']);
  });

  test('KEDA: the platform must install it, and the runtime must export the signal', () => {
    expect(fails({ runtime: Runtime.triton({ gpu: false }), scaling: Scaling.requestRate({ minReplicas: 1, maxReplicas: 3, target: 50 }) }, context({ keda: false })).message)
      .toContain('`scaling` ("requestRate"): needs KEDA, which the platform does not install: set `addons: { keda: true }`');
    expect(fails({ scaling: Scaling.concurrency({ minReplicas: 1, maxReplicas: 3, target: 4 }) }).message)
      .toContain('`scaling.query` (undefined): Runtime.mlflow() exports no in-flight metric (mlflow/mlflow#25263): give `query`, or use Scaling.cpu()');
    expect(fails({ scaling: Scaling.cpu({ minReplicas: 0, maxReplicas: 3 }) }).message).toContain('a CPU HorizontalPodAutoscaler cannot scale to zero');
    expect(fails({ runtime: Runtime.triton({ gpu: false }), scaling: Scaling.requestRate({ minReplicas: 1, maxReplicas: 3, target: 5 }), monitoring: false }).issues[0])
      .toMatchObject({ path: 'scaling.query' });
  });

  test('scale to zero: live shares, wake-up signals, GPU budgets', () => {
    const zero = Scaling.requestRate({ minReplicas: 0, maxReplicas: 2, target: 10 });
    const base = { runtime: Runtime.triton({ gpu: false }), exposure: gateway, startupBudget: Duration.minutes(10) };
    const canaryCold = fails({ ...base, versions: [{ name: 'stable', model: registry() }, { name: 'canary', weight: 10, model: registry('c'), scaling: zero }] });
    expect(canaryCold.message).toContain('`versions[1].scaling.minReplicas` (0): "canary" takes 10% of live traffic while "stable" stays warm: that share fails while it starts from zero');
    expect(fails({ ...base, scaling: zero }).message).toContain('`scaling.activationQuery` (undefined): is required to scale this version to zero: nothing else observes demand');
    const shadow = resolve({ ...base, versions: [{ name: 'stable', model: registry() }, { name: 'shadow', mirrorPercent: 20, model: registry('c'), scaling: zero }] }).versions[1];
    expect(shadow.scaling).toMatchObject({ kind: 'keda', minReplicas: 0, activationQuery: expect.stringContaining('mlplatform_io_version="stable"') });
    const gpu = { runtime: Runtime.triton(), resources: { gpus: 1 }, exposure: gateway, startupBudget: Duration.minutes(3) };
    expect(fails({ ...gpu, versions: [{ name: 'stable', model: registry() }, { name: 'shadow', mirrorPercent: 20, model: registry('c'), scaling: zero }] }).message)
      .toContain('`startupBudget` ("3m"): is too short for a GPU version that scales to zero');
  });

  test('GPU quota of the tenant, KServe restrictions', () => {
    const gpus = { runtime: Runtime.triton(), resources: { gpus: 1, accelerator: 'nvidia-a10g' } };
    // The tenant's GPU quota is a synth-time check now (test/cdk8s/checks.test.ts, tenancy).
    expect(resolve({ ...gpus, scaling: Scaling.cpu({ minReplicas: 1, maxReplicas: 6 }) }).versions[0].scaling.maxReplicas).toBe(6);
    const ks = fails({ kserve: true, exposure: gateway, versions: [{ name: 'stable', model: registry() }, { name: 'shadow', mirrorPercent: 5, model: registry('c') }] }, context());
    expect(ks.issues.map((i) => i.path)).toEqual(['kserve', 'exposure', 'versions[1].mirrorPercent']);
    expect(ks.message).toContain('KServe has no request mirroring');
    const canary = fails({ kserve: true, versions: [{ name: 'stable', model: registry() }, { name: 'v2', weight: 10, model: registry('c'), scaling: Scaling.cpu({ minReplicas: 1, maxReplicas: 2 }) }] }, context({ kserve: true }));
    expect(canary.message).toContain('`versions[1].scaling` ("cpu"): KServe canaries run a fixed replica count');
  });
});

describe('ModelEndpoint: resolved spec', () => {
  test('defaults: MLflow runtime, two replicas, a 10-minute budget sizing the probes', () => {
    const s = resolve({});
    const v = s.versions[0];
    expect([v.role, v.objectName, v.runtime.kind, v.scaling, v.startup]).toEqual([
      'stable', 'resnet50-stable', 'mlflow', { kind: 'fixed', minReplicas: 2, maxReplicas: 2 },
      { budget: Duration.minutes(10), explicit: false, probeFailureThreshold: 60, progressDeadlineSeconds: 600 },
    ]);
    expect(v.command.args).toEqual(['models', 'serve', '-m', '/models/model', '--env-manager', 'local', '--host', '0.0.0.0', '--port', '8080', '--workers', '1']);
    expect(s.traffic).toEqual({ stable: 'stable', backends: [{ name: 'stable', weight: 100 }], mirrors: [] });
    expect(s.fetchImage).toBe('ghcr.io/mlflow/mlflow:v3.18.0-full');
  });

  test('GPU versions land on the pool, get 20 minutes and tensor parallelism', () => {
    const v = resolve({ runtime: Runtime.vllm({ maxModelLen: 8192 }), resources: { gpus: 1, accelerator: 'nvidia-a10g' } }).versions[0];
    expect(v.compute.gpu).toMatchObject({ count: 1, nodeSelector: { 'mlplatform.io/gpu-pool': 'a10g' } });
    expect(v.startup.budget.toSeconds()).toBe(1200);
    expect(v.command).toEqual({
      command: ['vllm', 'serve'],
      args: ['/models/model', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', 'resnet50', '--max-model-len', '8192'],
    });
    const keys = { accessKeyId: { name: 'hf', key: 'id' }, secretAccessKey: { name: 'hf', key: 'secret' } };
    const tp = resolve({ runtime: Runtime.vllm(), resources: { gpus: 4, accelerator: 'nvidia-h100-80gb' }, versions: [{ name: 'stable', model: ModelSource.uri('s3://llms/llama/3', { credentials: keys }) }] }, null).versions[0];
    expect(tp.command.args).toEqual(expect.arrayContaining(['--tensor-parallel-size', '4']));
    expect(tp.compute.gpu!.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-h100-80gb' });
  });
});

describe('ModelEndpoint: inherited props', () => {
  test('a problem in an endpoint-level prop is reported once, not once per version', () => {
    const e = fails({
      runtime: Runtime.custom({ image: 'acme/server:latest', port: 8080, healthPaths: { liveness: '/l', readiness: '/r' }, protocol: 'v2' }),
      exposure: gateway,
      versions: [{ name: 'stable', model: ModelSource.baked() }, { name: 'canary', weight: 5, model: ModelSource.baked() }],
    });
    expect(e.issues.map((i) => i.path)).toEqual(['runtime.image']);
  });
});

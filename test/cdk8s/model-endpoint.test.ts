import { Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { addModelEndpoint } from '../../examples/cdk8s-platform/endpoint';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';
import { ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s/model-endpoint';
import { ArtifactStore, Cpu, Duration, Size, ValidationError } from '../../src/core';
import { EndpointExposure, ModelSource, Runtime, Scaling } from '../../src/core/endpoint';
import { credentialFilesOf } from '../support/credentials';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

const ENDPOINT_LABEL = 'mlplatform.io/endpoint';
const keys = { accessKeyId: { name: 'models-s3', key: 'id' }, secretAccessKey: { name: 'models-s3', key: 'secret' } };
const gateway = { host: 'resnet50.models.example.com', gateway: { name: 'inference', namespace: 'envoy-gateway-system' } };

/** The endpoint's objects only (every one carries the endpoint label). */
function endpointObjects(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.metadata.labels?.[ENDPOINT_LABEL] !== undefined);
}

/** A platform with an a10g pool, tenant `vision` and (by default) KEDA, plus one endpoint. */
function withPlatform(props: Omit<ModelEndpointProps, 'platform' | 'namespace'>, platformProps: ConstructorParameters<typeof MlPlatform>[2] = { addons: { keda: true } }): K8sObject[] {
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', platformProps);
    platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
    platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } } });
    const endpoint = new ModelEndpoint(chart, 'resnet50', { platform, namespace: 'vision', ...props });
    platform.storeLocation('models').grantRead(endpoint);
  });
  return endpointObjects(objects);
}

function example(): K8sObject[] {
  const { chart, platform } = buildPlatform(Testing.app());
  addModelEndpoint(chart, platform);
  return endpointObjects(chart.toJson() as K8sObject[]);
}

function env(c: any): Record<string, any> {
  return Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

function pod(objects: K8sObject[], name: string): any {
  return find(objects, 'Deployment', name).spec.template.spec;
}

describe('ModelEndpoint: snapshots and strict validation', () => {
  test('minimal props (no platform, an S3 model with its own keys)', () => {
    const { objects } = synthChart((chart) => new ModelEndpoint(chart, 'iris', {
      namespace: 'ml',
      versions: [{ name: 'stable', model: ModelSource.uri('s3://models/iris/3', { credentials: keys }) }],
    }));
    expectValidManifests(objects);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/iris-stable', 'Deployment/iris-stable', 'Service/iris-stable', 'PodDisruptionBudget/iris-stable',
      'Service/iris', 'NetworkPolicy/iris-ingress', 'PrometheusRule/iris',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('the README example: Triton on a10g, a canary and a shadow through the Gateway', () => {
    const objects = example();
    expectValidManifests(objects);
    expect(objects).toMatchSnapshot();
  });

  test('every prop', () => {
    const objects = withPlatform({
      runtime: Runtime.triton({ gpu: false, extraArgs: ['--log-verbose=0'] }),
      resources: { cpu: Cpu.cores(2), cpuLimit: Cpu.cores(4), memory: Size.gibibytes(4), ephemeralStorage: Size.gibibytes(1), sharedMemory: Size.mebibytes(512) },
      scaling: Scaling.requestRate({ minReplicas: 2, maxReplicas: 6, target: 40 }),
      startupBudget: Duration.minutes(12),
      modelStorage: Size.gibibytes(3),
      exposure: EndpointExposure.gateway({ ...gateway, gateway: { ...gateway.gateway, sectionName: 'https' }, path: '/resnet50', requestTimeout: Duration.seconds(30) }),
      monitoring: {
        prometheus: { url: 'http://prometheus.obs.svc:9090', namespace: 'obs', podLabels: { 'app.kubernetes.io/instance': 'main' } },
        labels: { release: 'prom' },
        interval: Duration.seconds(15),
        alerts: { errorRatio: 0.01, latencySeconds: 0.2, saturation: 0.8, for: Duration.minutes(10) },
      },
      env: { OMP_NUM_THREADS: '2' },
      drainSeconds: 20,
      versions: [
        { name: 'stable', stable: true, weight: 80, model: ModelSource.uri('s3://mlplatform/models/resnet50/7') },
        { name: 'b', weight: 20, model: ModelSource.registry('resnet50', { version: 8 }), env: { VARIANT: 'b' } },
        {
          name: 'custom',
          mirrorPercent: 12.5,
          model: ModelSource.baked(),
          runtime: Runtime.custom({
            image: 'ghcr.io/acme/resnet-server:2.1.0',
            port: 8080,
            healthPaths: { liveness: '/livez', readiness: '/readyz' },
            protocol: 'v2',
            args: ['--model', '/opt/model'],
            metrics: { path: '/prom', queries: { requestRate: 'sum(rate(acme_requests_total{$selector}[2m]))' } },
            runAsUser: 65532,
          }),
          resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(2) },
          scaling: Scaling.requestRate({ minReplicas: 0, maxReplicas: 2, target: 20, idleBeforeScaleToZero: Duration.minutes(30) }),
          startupBudget: Duration.minutes(5),
        },
      ],
    });
    expectValidManifests(objects);
    expect(objects).toMatchSnapshot();
  });
});

describe('ModelEndpoint: pods', () => {
  test('a fetch step with read-only, fetch-only credentials; the server gets none and a read-only model volume', () => {
    const objects = example();
    const spec = pod(objects, 'resnet50-stable');
    const [fetch] = spec.initContainers;
    expect(fetch.name).toBe('fetch-model');
    const server = spec.containers[0];
    expect(fetch.image).toBe('ghcr.io/mlflow/mlflow:v3.18.0-full');
    expect(fetch.command.slice(0, 4)).toEqual(['timeout', '900', 'python', '-c']);
    // MLflow resolves the alias through the tracking server, then downloads the version's `s3://`
    // source itself: the store's endpoint, region and the tenant's store keys (issue #21 item 2).
    expect(env(fetch)).toEqual({
      HOME: '/tmp',
      MODEL_URI: 'models:/resnet50@champion',
      MODEL_DIR: '/models/repository/resnet50/1',
      MODEL_STAGING: '/models/.staging',
      MLFLOW_TRACKING_URI: 'http://ml-tracking.mlplatform.svc.cluster.local:5000',
      AWS_DEFAULT_REGION: 'us-east-1',
      MLFLOW_S3_ENDPOINT_URL: 'http://ml-s3.mlplatform.svc.cluster.local:8333',
      AWS_ENDPOINT_URL_S3: 'http://ml-s3.mlplatform.svc.cluster.local:8333',
      // The credentials as files only the fetch step mounts: the paths, never the values (issue #20 item 5).
      MLFLOW_TRACKING_USERNAME_FILE: '/var/run/secrets/mlplatform/fetch/MLFLOW_TRACKING_USERNAME',
      MLFLOW_TRACKING_PASSWORD_FILE: '/var/run/secrets/mlplatform/fetch/MLFLOW_TRACKING_PASSWORD',
      AWS_ACCESS_KEY_ID_FILE: '/var/run/secrets/mlplatform/fetch/AWS_ACCESS_KEY_ID',
      AWS_SECRET_ACCESS_KEY_FILE: '/var/run/secrets/mlplatform/fetch/AWS_SECRET_ACCESS_KEY',
    });
    expect(credentialFilesOf(spec, fetch)).toEqual({
      MLFLOW_TRACKING_USERNAME: { name: 'ml-tracking', key: 'username' },
      MLFLOW_TRACKING_PASSWORD: { name: 'ml-tracking', key: 'password' },
      AWS_ACCESS_KEY_ID: { name: 'ml-store', key: 'accessKeyId' },
      AWS_SECRET_ACCESS_KEY: { name: 'ml-store', key: 'secretAccessKey' },
    });
    // 0440 and group-owned by the pod's fsGroup (the kubelet's fsGroup change), so the fetch step's uid reads them.
    expect(spec.volumes.find((v: any) => v.name === 'credentials-fetch').projected.defaultMode).toBe(0o440);
    expect(spec.securityContext.fsGroup).toBe(spec.securityContext.runAsUser);
    expect(server.volumeMounts.map((m: any) => m.name)).not.toContain('credentials-fetch');
    expect(Object.values(env(server)).filter((v) => typeof v !== 'string')).toEqual([]);
    expect(Object.keys(env(server)).filter((n) => /^(AWS_|MLFLOW_)/.test(n))).toEqual([]);
    expect(server.volumeMounts).toContainEqual({ name: 'model', mountPath: '/models', readOnly: true });
    expect(server.args).toEqual(['--model-repository=/models/repository', '--http-port=8000', '--grpc-port=8001', '--metrics-port=8002', '--exit-on-error=true']);
    expect(find(objects, 'ServiceAccount', 'resnet50-canary').metadata.annotations).toEqual({
      // Where the namespace's registration steps register their `s3://` sources (the AWS side grants exactly this).
      'mlplatform.io/model-read-scope': 's3://ml-artifacts/pipelines/vision/',
      'mlplatform.io/registered-model': 'models:/resnet50',
      // The payload logger writes exactly here (docs/model-endpoint.md, "Payload logging").
      'mlplatform.io/payload-log-scope': 's3://ml-artifacts/endpoints/vision/resnet50/canary/payloads/',
    });
    expect(env(pod(objects, 'resnet50-canary').initContainers[0]).MODEL_URI).toBe('models:/resnet50@challenger');
  });

  test('probes and deadlines sized by the start-up budget, rolling updates that drop nothing', () => {
    const objects = example();
    const d = find(objects, 'Deployment', 'resnet50-stable');
    const server = d.spec.template.spec.containers[0];
    expect(server.startupProbe.failureThreshold * server.startupProbe.periodSeconds).toBe(15 * 60);
    // The probes reach the server itself, not the payload logger in front of it (which owns `http`).
    expect(server.startupProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'server-http' });
    expect(server.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(d.spec.progressDeadlineSeconds).toBe(900);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(server.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(40);
    expect(find(objects, 'PodDisruptionBudget', 'resnet50-stable').spec.maxUnavailable).toBe(1);
    expect(d.spec.replicas).toBe(2);
  });

  test('GPU placement from the pool, the model volume counted as ephemeral storage', () => {
    const spec = pod(example(), 'resnet50-stable');
    expect(spec.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const r = spec.containers[0].resources;
    expect(r.limits['nvidia.com/gpu']).toBe('1');
    expect(r.requests['ephemeral-storage']).toBe('4Gi');
    expect(spec.volumes).toContainEqual({ name: 'model', emptyDir: { sizeLimit: '2Gi' } });
    expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { sizeLimit: '1Gi', medium: 'Memory' } });
  });

  test('vLLM: non-root with caches on /tmp, offline, tensor parallel over the GPUs', () => {
    const { objects } = synthChart((chart) => new ModelEndpoint(chart, 'llm', {
      namespace: 'nlp',
      runtime: Runtime.vllm({ gpuMemoryUtilization: 0.85 }),
      resources: { gpus: 2, accelerator: 'nvidia-l4', memory: Size.gibibytes(48), sharedMemory: Size.gibibytes(8) },
      modelStorage: Size.gibibytes(60),
      versions: [{ name: 'stable', model: ModelSource.uri('s3://llms/qwen/7b', { credentials: keys, endpoint: 'https://s3.example.com' }) }],
    }));
    expectValidManifests(objects);
    const spec = pod(objects, 'llm-stable');
    const server = spec.containers[0];
    expect(server.command).toEqual(['vllm', 'serve']);
    expect(server.args).toEqual(['/models/model', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', 'llm', '--tensor-parallel-size', '2', '--gpu-memory-utilization', '0.85']);
    expect(env(server)).toMatchObject({ HF_HUB_OFFLINE: '1', HOME: '/tmp', XDG_CACHE_HOME: '/tmp/cache' });
    expect(server.securityContext).toMatchObject({ runAsUser: 1000, readOnlyRootFilesystem: true });
    expect(env(spec.initContainers[0])).toMatchObject({ MLFLOW_S3_ENDPOINT_URL: 'https://s3.example.com' });
    expect(credentialFilesOf(spec, spec.initContainers[0])).toMatchObject({ AWS_ACCESS_KEY_ID: { name: 'models-s3', key: 'id' } });
    expect(spec.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-l4' });
    expect(find(objects, 'Deployment', 'llm-stable').spec.replicas).toBe(1);
  });

  test('S3 models under the platform store: the tenant\'s store keys, or its workload identity', () => {
    const shared = withPlatform({ versions: [{ name: 'stable', model: ModelSource.uri('s3://mlplatform/models/iris/2') }] });
    const sharedPod = pod(shared, 'resnet50-stable');
    expect(env(sharedPod.initContainers[0])).toMatchObject({ MLFLOW_S3_ENDPOINT_URL: 'http://ml-s3.mlplatform.svc.cluster.local:8333' });
    expect(credentialFilesOf(sharedPod, sharedPod.initContainers[0])).toMatchObject({ AWS_ACCESS_KEY_ID: { name: 'ml-store', key: 'accessKeyId' } });
    expect(find(shared, 'ServiceAccount', 'resnet50-stable').metadata.annotations).toEqual({ 'mlplatform.io/model-read-scope': 's3://mlplatform/models/iris/2/' });
    const role = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' };
    const wi = withPlatform({ versions: [{ name: 'stable', model: ModelSource.uri('s3://acme-ml/platform/models/iris/2') }] }, {
      addons: { keda: true },
      artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', prefix: 'platform', credentials: { workloadIdentity: { serviceAccountAnnotations: role } } }),
    });
    expect(find(wi, 'ServiceAccount', 'resnet50-stable').metadata.annotations).toEqual({ 'mlplatform.io/model-read-scope': 's3://acme-ml/platform/models/iris/2/', ...role });
    expect(Object.keys(env(pod(wi, 'resnet50-stable').initContainers[0]))).toEqual(['HOME', 'MODEL_URI', 'MODEL_DIR', 'MODEL_STAGING', 'AWS_DEFAULT_REGION']);
  });
  test('a baked model: no fetch step, no model volume, no credentials, the server pointed at the image\'s path', () => {
    const { objects } = synthChart((chart) => new ModelEndpoint(chart, 'ocr', {
      namespace: 'ml',
      runtime: Runtime.triton({ gpu: false, image: 'registry.example.com/ocr-triton:2024.1' }),
      versions: [{ name: 'stable', model: ModelSource.baked({ path: '/opt/models' }) }],
    }));
    expectValidManifests(objects);
    const spec = pod(objects, 'ocr-stable');
    expect(spec.initContainers).toBeUndefined();
    expect(spec.volumes.map((v: any) => v.name)).toEqual(['tmp']);
    expect(spec.containers[0].args[0]).toBe('--model-repository=/opt/models');
    expect(env(spec.containers[0])).toEqual({ HOME: '/tmp', MODEL_NAME: 'ocr', MODEL_DIR: '/opt/models' });
    expect(find(objects, 'ServiceAccount', 'ocr-stable').metadata.annotations).toBeUndefined();
  });
});

describe('ModelEndpoint: routing and network', () => {
  test('one HTTPRoute: weighted backends adding up to 100, the shadow mirrored, a request timeout', () => {
    const route = find(example(), 'HTTPRoute', 'resnet50');
    // The platform Gateway's HTTPS apps listener for *.models.example.com.
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlplatform', namespace: 'mlplatform', sectionName: 'apps-0-https' }]);
    expect(route.spec.hostnames).toEqual(['resnet50.models.example.com']);
    const [rule] = route.spec.rules;
    expect(rule.backendRefs.map((b: any) => [b.name, b.port, b.weight])).toEqual([['resnet50-stable', 8000, 90], ['resnet50-canary', 8000, 10]]);
    expect(rule.filters).toEqual([{ type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'resnet50-shadow', port: 8000 }, percent: 20 } }]);
    expect(rule.timeouts).toEqual({ request: '1m' });
  });

  test('any valid split renders backendRefs whose weights add up to 100 (fast-check)', () => {
    const canaries = fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 4 }).map((ws) => ws.map((w) => Math.floor(w / ws.length)));
    fc.assert(fc.property(canaries, fc.integer({ min: 1, max: 10000 }), (ws, mirror) => {
      const { objects } = synthChart((chart) => new ModelEndpoint(chart, 'm', {
        namespace: 'ml',
        exposure: EndpointExposure.gateway(gateway),
        versions: [
          { name: 'stable', model: ModelSource.uri('s3://models/m/1', { credentials: keys }) },
          ...ws.map((weight, i) => ({ name: `c${i}`, weight, model: ModelSource.uri(`s3://models/m/${i + 2}`, { credentials: keys }) })),
          { name: 'shadow', mirrorPercent: mirror / 100, model: ModelSource.uri('s3://models/m/9', { credentials: keys }) },
        ],
      }));
      const [rule] = find(objects, 'HTTPRoute', 'm').spec.rules;
      expect(rule.backendRefs.reduce((a: number, b: any) => a + b.weight, 0)).toBe(100);
      expect(rule.backendRefs.map((b: any) => b.name)).toEqual(['m-stable', ...ws.map((_, i) => `m-c${i}`)]);
      expect(rule.filters[0].requestMirror.backendRef.name).toBe('m-shadow');
    }), { numRuns: 25 });
  });

  test('a path prefix is rewritten; fractional mirrors use `fraction`', () => {
    const objects = withPlatform({
      exposure: EndpointExposure.gateway({ ...gateway, path: '/v1/resnet' }),
      versions: [{ name: 'stable', model: ModelSource.registry('resnet50') }, { name: 'shadow', mirrorPercent: 0.5, model: ModelSource.registry('resnet50', { alias: 'next' }) }],
    });
    const [rule] = find(objects, 'HTTPRoute', 'resnet50').spec.rules;
    expect(rule.matches).toEqual([{ path: { type: 'PathPrefix', value: '/v1/resnet' } }]);
    expect(rule.filters[0].requestMirror.fraction).toEqual({ numerator: 50, denominator: 10000 });
    expect(rule.filters[1]).toEqual({ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } });
  });

  test('Ingress to the stable version, TLS from cert-manager', () => {
    const objects = withPlatform({
      exposure: EndpointExposure.ingress({ host: 'iris.example.com', className: 'traefik', tls: { clusterIssuer: 'letsencrypt' } }),
      versions: [{ name: 'stable', model: ModelSource.registry('iris') }],
    });
    expectValidManifests(objects);
    const ing = find(objects, 'Ingress', 'resnet50');
    expect(ing.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(ing.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'resnet50', port: { name: 'http' } } });
    expect(find(objects, 'NetworkPolicy', 'resnet50-ingress').spec.ingress[1]).toEqual({ from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 'http' }] });
  });

  test('the NetworkPolicy admits the namespace, the gateway namespaces and Prometheus on the metrics port', () => {
    const np = find(example(), 'NetworkPolicy', 'resnet50-ingress');
    expect(np.spec.podSelector).toEqual({ matchLabels: { [ENDPOINT_LABEL]: 'resnet50' } });
    const serving = [{ protocol: 'TCP', port: 'http' }, { protocol: 'TCP', port: 'grpc' }];
    expect(np.spec.ingress).toEqual([
      { from: [{ podSelector: {} }], ports: serving },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'envoy-gateway-system' } } }], ports: serving },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ protocol: 'TCP', port: 'metrics' }],
      },
    ]);
  });

  test('props are validated once, through the construct, with the fix named', () => {
    const chart = new Chart(Testing.app(), 'c');
    const build = (id: string) => () => new ModelEndpoint(chart, id, { namespace: 'ml', versions: [{ name: 'stable', model: ModelSource.uri('s3://models/m', { credentials: keys }) }], runtime: Runtime.vllm() });
    expect(build('bad')).toThrow(ValidationError);
    expect(build('worse')).toThrow('ModelEndpoint "worse": 1 invalid prop\n  - `resources.gpus` (undefined): Runtime.vllm() needs a GPU');
    expect(findAll(chart.toJson() as K8sObject[], 'Deployment')).toEqual([]);
  });
});

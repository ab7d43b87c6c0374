import { Chart } from 'cdk8s';
import { MlPlatform, workloadDemands } from '../../src/cdk8s';
import { ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s/model-endpoint';
import { program } from '../../src/cdk8s/private/programs';
import { ArtifactStore, Cpu, Duration, shortHash, Size } from '../../src/core';
import { EndpointExposure, ModelSource, PayloadLoggingOptions, payloadLogPrefix, Runtime } from '../../src/core/endpoint';
import { credentialFilesOf } from '../support/credentials';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

const ENDPOINT_LABEL = 'mlplatform.io/endpoint';
const SCOPE = 'mlplatform.io/payload-log-scope';
const role = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' };
const gateway = EndpointExposure.gateway({ host: 'resnet50.models.example.com', gateway: { name: 'inference', namespace: 'envoy-gateway-system' } });
const registry = ModelSource.registry('resnet50', { alias: 'champion' });
const CONFIG_MAP = `resnet50-payload-logger-${shortHash(program('payload_logger.py').text, 8)}`;

type PlatformProps = ConstructorParameters<typeof MlPlatform>[2];

/** A platform with an a10g pool and tenant `vision`, plus the endpoint `resnet50`; every object validated strictly. */
function synth(props: Omit<ModelEndpointProps, 'platform' | 'namespace'>, platformProps: PlatformProps = {}): { objects: K8sObject[]; endpoint: ModelEndpoint } {
  let endpoint!: ModelEndpoint;
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', platformProps);
    platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
    platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } } });
    endpoint = new ModelEndpoint(chart, 'resnet50', { platform, namespace: 'vision', ...props });
  });
  expectValidManifests(objects);
  return { objects: objects.filter((o) => o.metadata.labels?.[ENDPOINT_LABEL] !== undefined), endpoint };
}

function pod(objects: K8sObject[], name: string): any {
  return find(objects, 'Deployment', name).spec.template.spec;
}

function containerNamed(spec: any, name: string): any {
  return spec.containers.find((c: any) => c.name === name);
}

/** The container that owns the pod port called `name`, and the port. */
function portOwner(spec: any, name: string): { container: string; port: number } | undefined {
  for (const c of spec.containers) {
    const p = (c.ports ?? []).find((x: any) => x.name === name);
    if (p) return { container: c.name, port: p.containerPort };
  }
  return undefined;
}

const hardened = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 1000,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

describe('ModelEndpoint payload logging: the objects', () => {
  test('embedded store: the proxy sidecar, its exact env, the ConfigMap, the renamed server port and the probes', () => {
    const { objects, endpoint } = synth({ versions: [{ name: 'stable', model: registry }], logging: { samplePercent: 10, maxBodyBytes: 4096, flushInterval: Duration.seconds(30) } });
    const spec = pod(objects, 'resnet50-stable');
    expect(spec.containers.map((c: any) => c.name)).toEqual(['server', 'payload-logger']);
    const proxy = containerNamed(spec, 'payload-logger');
    expect(proxy).toEqual({
      name: 'payload-logger',
      image: 'ghcr.io/mlflow/mlflow:v3.18.0-full',
      imagePullPolicy: 'IfNotPresent',
      command: ['python', '/etc/payload-logger/payload_logger.py'],
      env: [
        { name: 'HOME', value: '/tmp' },
        { name: 'PYTHONUNBUFFERED', value: '1' },
        { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
        { name: 'PAYLOG_LISTEN_PORT', value: '8099' },
        { name: 'PAYLOG_UPSTREAM_PORT', value: '8080' },
        { name: 'PAYLOG_UPSTREAM_TIMEOUT_SECONDS', value: '60' },
        { name: 'PAYLOG_MODE', value: 'all' },
        { name: 'PAYLOG_SAMPLE_PERCENT', value: '10' },
        { name: 'PAYLOG_MAX_BODY_BYTES', value: '4096' },
        { name: 'PAYLOG_FLUSH_SECONDS', value: '30' },
        { name: 'PAYLOG_BATCH_SIZE', value: '1000' },
        { name: 'PAYLOG_BATCH_BYTES', value: '8388608' },
        { name: 'PAYLOG_BUFFER_BYTES', value: '33554432' },
        { name: 'PAYLOG_DRAIN_SECONDS', value: '10' },
        { name: 'PAYLOG_UPLOAD_GRACE_SECONDS', value: '15' },
        { name: 'PAYLOG_EXCLUDE_PATHS', value: '["/ping"]' },
        { name: 'PAYLOG_BUCKET', value: 'mlplatform' },
        { name: 'PAYLOG_PREFIX', value: 'endpoints/vision/resnet50/stable/payloads/' },
        { name: 'PAYLOG_NAMESPACE', value: 'vision' },
        { name: 'PAYLOG_ENDPOINT', value: 'resnet50' },
        { name: 'PAYLOG_VERSION', value: 'stable' },
        { name: 'PAYLOG_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'AWS_DEFAULT_REGION', value: 'us-east-1' },
        { name: 'PAYLOG_S3_ENDPOINT', value: 'http://ml-s3.mlplatform.svc.cluster.local:8333' },
        // The store keys as files only the proxy mounts (issue #20 item 5): their paths, never the values.
        { name: 'AWS_ACCESS_KEY_ID_FILE', value: '/var/run/secrets/mlplatform/payload-logger/AWS_ACCESS_KEY_ID' },
        { name: 'AWS_SECRET_ACCESS_KEY_FILE', value: '/var/run/secrets/mlplatform/payload-logger/AWS_SECRET_ACCESS_KEY' },
      ],
      ports: [{ name: 'http', containerPort: 8099, protocol: 'TCP' }],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '384Mi' } },
      securityContext: hardened,
      volumeMounts: [
        { name: 'payload-logger', mountPath: '/etc/payload-logger', readOnly: true },
        { name: 'payload-logger-tmp', mountPath: '/tmp' },
        { name: 'credentials-payload-logger', mountPath: '/var/run/secrets/mlplatform/payload-logger', readOnly: true },
      ],
      readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
      livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
      lifecycle: { preStop: { exec: { command: ['sleep', '10'] } } },
    });
    // Only the proxy sees the store's keys: the server has none.
    const server = containerNamed(spec, 'server');
    expect(JSON.stringify(server.env)).not.toContain('ml-store');
    // The server's port is renamed; its probes still hit the server itself.
    expect(server.ports).toEqual([{ name: 'server-http', containerPort: 8080, protocol: 'TCP' }]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(server[probe].httpGet).toEqual({ path: '/ping', port: 'server-http' });
    expect(credentialFilesOf(spec, proxy)).toEqual({ AWS_ACCESS_KEY_ID: { name: 'ml-store', key: 'accessKeyId' }, AWS_SECRET_ACCESS_KEY: { name: 'ml-store', key: 'secretAccessKey' } });
    expect(server.volumeMounts.map((m: any) => m.name)).not.toContain('credentials-payload-logger');
    expect(spec.volumes.filter((v: any) => v.name.startsWith('payload-logger'))).toEqual([
      { name: 'payload-logger', configMap: { name: CONFIG_MAP, defaultMode: 0o444 } },
      { name: 'payload-logger-tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    // The preStop drain, then 10 s for requests in flight and 15 s for the last upload, inside the grace period.
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10 + 10 + 15);
    const cm = find(objects, 'ConfigMap', CONFIG_MAP);
    expect(cm.metadata.namespace).toBe('vision');
    expect(cm.data).toEqual({ 'payload_logger.py': program('payload_logger.py').text });
    // Service port unchanged; its targetPort `http` now names the proxy's port in the pod.
    expect(find(objects, 'Service', 'resnet50-stable').spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(find(objects, 'Service', 'resnet50').spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(portOwner(spec, 'http')).toEqual({ container: 'payload-logger', port: 8099 });
    // The write scope: on the spec and as the ServiceAccount's annotation next to the read scope.
    expect(endpoint.spec.versions[0].writeScope).toEqual({ kind: 's3', bucket: 'mlplatform', prefix: 'endpoints/vision/resnet50/stable/payloads/' });
    expect(find(objects, 'ServiceAccount', 'resnet50-stable').metadata.annotations).toEqual({
      'mlplatform.io/model-read-scope': 's3://mlplatform/pipelines/vision/',
      'mlplatform.io/registered-model': 'models:/resnet50',
      [SCOPE]: 's3://mlplatform/endpoints/vision/resnet50/stable/payloads/',
    });
    // The NetworkPolicy admits `http`, which is the proxy's port; the server's own port is not admitted (no bypass).
    const np = find(objects, 'NetworkPolicy', 'resnet50-ingress');
    const admitted = np.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(new Set(admitted)).toEqual(new Set(['http']));
  });

  test('workload identity: the store role on the ServiceAccount, no keys, AWS S3 (no endpoint), the store prefix', () => {
    const { objects } = synth({ versions: [{ name: 'stable', model: registry }], logging: {} }, {
      artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', prefix: 'platform', credentials: { workloadIdentity: { serviceAccountAnnotations: role } } }),
    });
    expect(find(objects, 'ServiceAccount', 'resnet50-stable').metadata.annotations).toEqual({
      'mlplatform.io/model-read-scope': 's3://acme-ml/platform/pipelines/vision/',
      'mlplatform.io/registered-model': 'models:/resnet50',
      [SCOPE]: 's3://acme-ml/platform/endpoints/vision/resnet50/stable/payloads/',
      ...role,
    });
    const env = containerNamed(pod(objects, 'resnet50-stable'), 'payload-logger').env;
    const names = env.map((e: any) => e.name);
    expect(names).not.toContain('AWS_ACCESS_KEY_ID');
    expect(names).not.toContain('PAYLOG_S3_ENDPOINT');
    expect(env).toEqual(expect.arrayContaining([
      { name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' },
      { name: 'PAYLOG_BUCKET', value: 'acme-ml' },
      { name: 'PAYLOG_PREFIX', value: 'platform/endpoints/vision/resnet50/stable/payloads/' },
      { name: 'PAYLOG_SAMPLE_PERCENT', value: '100' },
      { name: 'PAYLOG_MAX_BODY_BYTES', value: '65536' },
      { name: 'PAYLOG_FLUSH_SECONDS', value: '60' },
    ]));
  });

  test('per version: the canary its own settings, the shadow none; one ConfigMap for the endpoint; one write scope per version', () => {
    const { objects, endpoint } = synth({
      exposure: gateway,
      logging: { samplePercent: 50 },
      versions: [
        { name: 'stable', model: registry },
        { name: 'canary', model: ModelSource.registry('resnet50', { alias: 'challenger' }), weight: 10, logging: { samplePercent: 100, mode: 'response' } },
        { name: 'shadow', model: ModelSource.registry('resnet50', { alias: 'next' }), mirrorPercent: 5, logging: false },
      ],
    });
    const sample = (v: string) => containerNamed(pod(objects, `resnet50-${v}`), 'payload-logger')?.env.find((e: any) => e.name === 'PAYLOG_SAMPLE_PERCENT')?.value;
    expect(sample('stable')).toBe('50');
    expect(sample('canary')).toBe('100');
    expect(containerNamed(pod(objects, 'resnet50-canary'), 'payload-logger').env).toContainEqual({ name: 'PAYLOG_MODE', value: 'response' });
    expect(pod(objects, 'resnet50-shadow').containers.map((c: any) => c.name)).toEqual(['server']);
    expect(pod(objects, 'resnet50-shadow').containers[0].ports[0].name).toBe('http');
    expect(find(objects, 'ServiceAccount', 'resnet50-shadow').metadata.annotations).toEqual({ 'mlplatform.io/model-read-scope': 's3://mlplatform/pipelines/vision/', 'mlplatform.io/registered-model': 'models:/resnet50' });
    expect(findAll(objects, 'ConfigMap').map((c) => c.metadata.name)).toEqual([CONFIG_MAP]);
    expect(endpoint.spec.versions.map((v) => v.writeScope?.prefix)).toEqual([
      'endpoints/vision/resnet50/stable/payloads/', 'endpoints/vision/resnet50/canary/payloads/', undefined,
    ]);
    // The route's backends still name the Service ports (unchanged), so weights and mirrors pass the proxy.
    const route = find(objects, 'HTTPRoute', 'resnet50');
    expect(route.spec.rules[0].backendRefs.map((b: any) => b.port)).toEqual([8080, 8080]);
  });

  test('vLLM (metrics on the serving port): /metrics is forwarded but never logged; Prometheus reaches it through `http`', () => {
    const { objects } = synth({
      runtime: Runtime.vllm(),
      resources: { gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) },
      versions: [{ name: 'stable', model: ModelSource.registry('llama', { alias: 'champion' }) }],
      logging: { maxBodyBytes: 1024 * 1024 },
    }, { addons: { keda: true } });
    const spec = pod(objects, 'resnet50-stable');
    const env = Object.fromEntries(containerNamed(spec, 'payload-logger').env.map((e: any) => [e.name, e.value]));
    expect(env.PAYLOG_UPSTREAM_PORT).toBe('8000');
    expect(env.PAYLOG_UPSTREAM_TIMEOUT_SECONDS).toBe('600');
    expect(JSON.parse(env.PAYLOG_EXCLUDE_PATHS).sort()).toEqual(['/health', '/metrics']);
    expect(find(objects, 'ServiceMonitor', 'resnet50-stable').spec.endpoints[0].port).toBe('http');
    const np = find(objects, 'NetworkPolicy', 'resnet50-ingress');
    expect(np.spec.ingress.at(-1).ports).toEqual([{ protocol: 'TCP', port: 'http' }]);
    expect(portOwner(spec, 'http')).toEqual({ container: 'payload-logger', port: 8099 });
  });

  test('Triton: the gRPC and metrics ports stay the server\'s; only `http` goes through the proxy', () => {
    const { objects } = synth({
      runtime: Runtime.triton({ gpu: false }),
      versions: [{ name: 'stable', model: registry }],
      logging: { port: 9100 },
    });
    const spec = pod(objects, 'resnet50-stable');
    expect(portOwner(spec, 'http')).toEqual({ container: 'payload-logger', port: 9100 });
    expect(portOwner(spec, 'server-http')).toEqual({ container: 'server', port: 8000 });
    expect(portOwner(spec, 'grpc')).toEqual({ container: 'server', port: 8001 });
    expect(portOwner(spec, 'metrics')).toEqual({ container: 'server', port: 8002 });
    const env = Object.fromEntries(containerNamed(spec, 'payload-logger').env.map((e: any) => [e.name, e.value]));
    expect(JSON.parse(env.PAYLOG_EXCLUDE_PATHS)).toEqual(['/v2/health/ready', '/v2/health/live']);
  });

  test('without `logging`: one container, the server owns `http`, no ConfigMap, no write scope', () => {
    const { objects, endpoint } = synth({ versions: [{ name: 'stable', model: registry }] });
    const spec = pod(objects, 'resnet50-stable');
    expect(spec.containers.map((c: any) => c.name)).toEqual(['server']);
    expect(portOwner(spec, 'http')).toEqual({ container: 'server', port: 8080 });
    expect(findAll(objects, 'ConfigMap')).toEqual([]);
    expect(endpoint.spec.versions[0].writeScope).toBeUndefined();
    expect(find(objects, 'ServiceAccount', 'resnet50-stable').metadata.annotations).toEqual({ 'mlplatform.io/model-read-scope': 's3://mlplatform/pipelines/vision/', 'mlplatform.io/registered-model': 'models:/resnet50' });
  });
});

describe('ModelEndpoint payload logging: the key prefix', () => {
  test.each([
    ['', 'endpoints/vision/resnet50/stable/payloads/'],
    ['platform', 'platform/endpoints/vision/resnet50/stable/payloads/'],
    ['platform/', 'platform/endpoints/vision/resnet50/stable/payloads/'],
    ['/teams/ml/', 'teams/ml/endpoints/vision/resnet50/stable/payloads/'],
  ])('store prefix %j', (prefix, expected) => {
    const ctx = { store: { prefix } } as Parameters<typeof payloadLogPrefix>[0];
    expect(payloadLogPrefix(ctx, 'vision', 'resnet50', 'stable')).toBe(expected);
  });
});

describe('ModelEndpoint payload logging: validation', () => {
  function fails(logging: PayloadLoggingOptions, props: Partial<ModelEndpointProps> = {}): string {
    return validationError(() => synth({ versions: [{ name: 'stable', model: registry }], logging, ...props })).message;
  }

  test.each([
    [{ samplePercent: 0 }, '`logging.samplePercent` (0): must be a percentage above 0 and at most 100, with two decimals at most (leave `logging` out to log nothing)'],
    [{ samplePercent: 150 }, '`logging.samplePercent` (150): must be a percentage above 0 and at most 100, with two decimals at most (leave `logging` out to log nothing)'],
    [{ samplePercent: 12.345 }, '`logging.samplePercent` (12.345): must be a percentage above 0 and at most 100, with two decimals at most (leave `logging` out to log nothing)'],
    [{ maxBodyBytes: -1 }, '`logging.maxBodyBytes` (-1): must be a whole number of bytes from 0 (metadata only) to 1048576 (1 MiB)'],
    [{ maxBodyBytes: 2 * 1024 * 1024 }, '`logging.maxBodyBytes` (2097152): must be a whole number of bytes from 0 (metadata only) to 1048576 (1 MiB)'],
    [{ maxBodyBytes: 10.5 }, '`logging.maxBodyBytes` (10.5): must be a whole number of bytes from 0 (metadata only) to 1048576 (1 MiB)'],
    [{ flushInterval: Duration.seconds(0) }, '`logging.flushInterval` ("0s"): must be a Duration from 1 second to 1 hour'],
    [{ flushInterval: Duration.hours(2) }, '`logging.flushInterval` ("2h"): must be a Duration from 1 second to 1 hour'],
    [{ batchSize: 0 }, '`logging.batchSize` (0): must be a whole number of records from 1 to 100000'],
    [{ port: 80 }, '`logging.port` (80): must be a port from 1024 to 65535 (the proxy runs as non-root)'],
    [{ port: 8080 }, '`logging.port` (8080): clashes with the serving port of Runtime.mlflow() (8080): give the logging proxy another port'],
    [{ mode: 'both' as any }, '`logging.mode` ("both"): must be one of all, request, response'],
  ])('%j', (logging, line) => {
    const message = fails(logging);
    expect(message).toBe(`ModelEndpoint "resnet50": 1 invalid prop\n  - ${line}`);
  });

  test('a port clash with Triton\'s metrics port names the listener', () => {
    expect(fails({ port: 8002 }, { runtime: Runtime.triton({ gpu: false }) })).toContain(
      '`logging.port` (8002): clashes with the metrics port of Runtime.triton() (8002): give the logging proxy another port');
  });

  test('per-version paths: an invalid option on one version is reported under versions[i].logging', () => {
    const e = validationError(() => synth({
      exposure: gateway,
      versions: [{ name: 'stable', model: registry }, { name: 'canary', model: registry, weight: 10, logging: { samplePercent: -5 } }],
    }));
    expect(e.message).toContain('`versions[1].logging.samplePercent` (-5): must be a percentage above 0 and at most 100');
  });

  test('without a platform: the path and the fix', () => {
    const e = validationError(() => synthChart((chart) => new ModelEndpoint(chart, 'iris', {
      namespace: 'ml',
      versions: [{ name: 'stable', model: ModelSource.baked({ path: '/opt/model' }) }],
      logging: { samplePercent: 10 },
    })));
    expect(e.message).toBe([
      'ModelEndpoint "iris": 1 invalid prop',
      "  - `logging` ({\"samplePercent\":10}): writes to the platform's object store: give `platform` (an MlPlatform or a PlatformContext with a `store`), or drop `logging`",
    ].join('\n'));
  });

  test('with KServe: rejected, saying why its logger does not fit', () => {
    const message = fails({}, { kserve: true });
    expect(message).toContain(
      "  - `logging` ({}): is not available with KServe: its `logger` posts CloudEvents to a URL, or (blob storage) writes one object per message with a Secret of AWS_* keys that the platform's store credentials are not, " +
      'and has no sampling or body limit: set `kserve: false`, or drop `logging`');
  });

  test('a model read with another workload identity than the store\'s: one ServiceAccount cannot hold both', () => {
    const other = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/models' };
    const e = validationError(() => synth({
      versions: [{ name: 'stable', model: ModelSource.uri('s3://other-bucket/iris/3', { credentials: { workloadIdentity: { serviceAccountAnnotations: other } } }) }],
      logging: {},
    }, { artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', credentials: { workloadIdentity: { serviceAccountAnnotations: role } } }) }));
    expect(e.message).toBe([
      'ModelEndpoint "resnet50": 1 invalid prop',
      '  - `versions[0].model.credentials` ("arn:aws:iam::123456789012:role/models"): gives the version\'s ServiceAccount another workload identity (eks.amazonaws.com/role-arn) ' +
      "than the platform store's (arn:aws:iam::123456789012:role/ml), which payload logging writes with; a ServiceAccount has one: copy the model under the platform's store, or turn `logging` off for this version",
    ].join('\n'));
  });
});

describe('payload logging: what the synth-time checks count', () => {
  test("a logging version's demand is the pod's real request: server + logger, or the fetch step when larger", () => {
    let chart!: Chart;
    const { objects } = synthChart((c) => {
      chart = c;
      const platform = new MlPlatform(c, 'ml');
      platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128) } });
      new ModelEndpoint(c, 'resnet50', {
        platform,
        namespace: 'vision',
        runtime: Runtime.mlflow(),
        resources: { cpu: Cpu.millis(500), memory: Size.gibibytes(1) },
        exposure: gateway,
        versions: [{ name: 'stable', model: registry }, { name: 'quiet', weight: 0, model: registry, logging: false }],
        logging: { samplePercent: 10 },
      });
    });
    const demand = (unit: string) => workloadDemands(chart).find((d) => d.construct === 'ModelEndpoint' && d.unit === unit)!;
    const podRequest = (name: string) => {
      const spec = pod(objects, name);
      // A pod requests the larger of its containers' sum and its largest init container.
      const effective = (of: (requests: any) => number) =>
        Math.max(spec.containers.reduce((n: number, c: any) => n + of(c.resources.requests), 0), ...spec.initContainers.map((c: any) => of(c.resources.requests)));
      return [effective((r) => Cpu.parse(r.cpu).millicores), effective((r) => Size.parse(r.memory).bytes)];
    };
    expect([demand('stable').cpu.millicores, demand('stable').memory.bytes]).toEqual(podRequest('resnet50-stable'));
    expect(demand('stable').cpu.millicores).toBe(600);
    expect([demand('quiet').cpu.millicores, demand('quiet').memory.bytes]).toEqual(podRequest('resnet50-quiet'));
  });
});

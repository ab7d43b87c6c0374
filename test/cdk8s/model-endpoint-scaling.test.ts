import { MlPlatform } from '../../src/cdk8s';
import { ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s/model-endpoint';
import { Cpu, Duration, Size } from '../../src/core';
import { EndpointExposure, ModelSource, Runtime, Scaling } from '../../src/core/endpoint';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

const gateway = EndpointExposure.gateway({ host: 'resnet50.models.example.com', gateway: { name: 'inference', namespace: 'gateways' } });
const model = (alias: string) => ModelSource.registry('resnet50', { alias });

/** An endpoint in tenant `vision` of a platform with an a10g pool, KEDA and KServe; returns its objects and the endpoint. */
function build(props: Omit<ModelEndpointProps, 'platform' | 'namespace'>): { objects: K8sObject[]; endpoint: ModelEndpoint } {
  let endpoint: ModelEndpoint;
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', { addons: { keda: true, kserve: true } });
    platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
    platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } } });
    endpoint = new ModelEndpoint(chart, 'resnet50', { platform, namespace: 'vision', ...props });
  });
  return { objects: objects.filter((o) => o.metadata.labels?.['mlplatform.io/endpoint'] !== undefined), endpoint: endpoint! };
}

describe('ModelEndpoint: autoscaling', () => {
  test('Scaling.cpu renders an HPA and leaves replicas to it', () => {
    const { objects } = build({ scaling: Scaling.cpu({ minReplicas: 2, maxReplicas: 5, utilization: 60 }), versions: [{ name: 'stable', model: model('champion') }] });
    expectValidManifests(objects);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'resnet50-stable');
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: { kind: 'Deployment', name: 'resnet50-stable' },
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    expect(find(objects, 'Deployment', 'resnet50-stable').spec.replicas).toBeUndefined();
    expect(findAll(objects, 'ScaledObject')).toEqual([]);
  });

  test('KEDA on concurrency with the runtime\'s query; a shadow scaling to zero wakes on the live traffic', () => {
    const { objects } = build({
      runtime: Runtime.vllm(),
      resources: { gpus: 1, accelerator: 'nvidia-a10g' },
      startupBudget: Duration.minutes(12),
      exposure: gateway,
      versions: [
        { name: 'stable', model: model('champion'), scaling: Scaling.concurrency({ minReplicas: 1, maxReplicas: 2, target: 8 }) },
        { name: 'shadow', mirrorPercent: 10, model: model('candidate'), scaling: Scaling.requestRate({ minReplicas: 0, maxReplicas: 1, target: 5 }) },
      ],
    });
    expectValidManifests(objects);
    const stable = find(objects, 'ScaledObject', 'resnet50-stable').spec;
    expect(stable.triggers).toEqual([{
      type: 'prometheus',
      name: 'concurrency',
      metricType: 'AverageValue',
      metadata: {
        serverAddress: 'http://prometheus-operated.monitoring.svc.cluster.local:9090',
        query: 'sum({__name__=~"vllm:num_requests_(running|waiting)",namespace="vision",mlplatform_io_endpoint="resnet50",mlplatform_io_version="stable"})',
        threshold: '8',
        activationThreshold: '0',
        ignoreNullValues: 'true',
      },
    }]);
    const shadow = find(objects, 'ScaledObject', 'resnet50-shadow').spec;
    // The start-up budget keeps a starting replica from being scaled away (kserve#1247).
    expect([shadow.minReplicaCount, shadow.cooldownPeriod, shadow.initialCooldownPeriod]).toEqual([0, 720, 720]);
    expect(shadow.triggers.map((t: any) => t.name)).toEqual(['requestRate', 'wake']);
    expect(shadow.triggers[1].metadata.query).toBe('sum(rate(http_requests_total{handler=~"/v1/.*",namespace="vision",mlplatform_io_endpoint="resnet50",mlplatform_io_version="stable"}[2m]))');
    expect(shadow.triggers[1].metadata.threshold).toBe('1000000000');
    const d = find(objects, 'Deployment', 'resnet50-shadow');
    expect(d.spec.replicas).toBeUndefined();
    expect(d.spec.template.spec.containers[0].startupProbe.failureThreshold).toBe(72);
  });

  test('a single version scaling to zero on an explicit activation query', () => {
    const { objects } = build({
      runtime: Runtime.triton({ gpu: false }),
      startupBudget: Duration.minutes(8),
      scaling: Scaling.requestRate({ minReplicas: 0, maxReplicas: 3, target: 30, activationQuery: 'sum(rate(envoy_cluster_upstream_rq_total{envoy_cluster_name=~"httproute/vision/resnet50/.*"}[1m]))', activationThreshold: 0.1 }),
      versions: [{ name: 'stable', model: model('champion') }],
    });
    const so = find(objects, 'ScaledObject', 'resnet50-stable').spec;
    expect(so.triggers.map((t: any) => [t.name, t.metadata.activationThreshold])).toEqual([['requestRate', '0'], ['wake', '0.1']]);
    expect(so.cooldownPeriod).toBe(480);
  });
});

describe('ModelEndpoint: monitoring', () => {
  test('one ServiceMonitor per version with the pod labels copied onto every series, and per-version alerts', () => {
    const { objects } = build({
      runtime: Runtime.vllm(),
      resources: { gpus: 1 },
      exposure: gateway,
      monitoring: { labels: { release: 'kps' }, alerts: { errorRatio: 0.1 } },
      versions: [{ name: 'stable', model: model('champion') }, { name: 'canary', weight: 5, model: model('challenger') }],
    });
    const sm = find(objects, 'ServiceMonitor', 'resnet50-canary');
    expect(sm.metadata.labels).toMatchObject({ release: 'kps' });
    expect(sm.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'resnet50-canary', 'app.kubernetes.io/part-of': 'ml', 'mlplatform.io/endpoint': 'resnet50', 'mlplatform.io/version': 'canary' } },
      podTargetLabels: ['mlplatform.io/endpoint', 'mlplatform.io/version'],
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scheme: 'http' }],
    });
    const rules = find(objects, 'PrometheusRule', 'resnet50').spec.groups[0].rules;
    expect(rules.map((r: any) => `${r.alert}/${r.labels.version}`)).toEqual([
      'ModelEndpointErrorRatioHigh/stable', 'ModelEndpointLatencyHigh/stable', 'ModelEndpointSaturated/stable',
      'ModelEndpointErrorRatioHigh/canary', 'ModelEndpointLatencyHigh/canary', 'ModelEndpointSaturated/canary',
    ]);
    expect(rules[0].expr).toBe('(sum(rate(http_requests_total{handler=~"/v1/.*",status="5xx",namespace="vision",mlplatform_io_endpoint="resnet50",mlplatform_io_version="stable"}[5m])) / sum(rate(http_requests_total{handler=~"/v1/.*",namespace="vision",mlplatform_io_endpoint="resnet50",mlplatform_io_version="stable"}[5m]))) > 0.1');
    expect(rules[1].expr).toMatch(/histogram_quantile\(0\.95, .*\) > 30$/);
    expect(rules[0]).toMatchObject({ for: '5m', labels: { severity: 'warning', endpoint: 'resnet50', version: 'stable', namespace: 'vision' } });
  });

  test('MLflow exports no request metrics: no ServiceMonitor, CPU saturation only; `monitoring: false` emits nothing', () => {
    const on = build({ versions: [{ name: 'stable', model: model('champion') }] }).objects;
    expect(findAll(on, 'ServiceMonitor')).toEqual([]);
    const rules = find(on, 'PrometheusRule', 'resnet50').spec.groups[0].rules;
    expect(rules.map((r: any) => r.alert)).toEqual(['ModelEndpointSaturated']);
    expect(rules[0].expr).toBe('(max(rate(container_cpu_usage_seconds_total{namespace="vision",pod=~"resnet50-stable-[a-z0-9]+-[a-z0-9]+",container="server"}[5m])) / 1) > 0.9');
    const off = build({ monitoring: false, versions: [{ name: 'stable', model: model('champion') }] }).objects;
    expect([...findAll(off, 'ServiceMonitor'), ...findAll(off, 'PrometheusRule')]).toEqual([]);
  });
});

describe('ModelEndpoint: KServe output', () => {
  test('one InferenceService in Standard mode, canaries in spec.canary, the same pods, a PodMonitor', () => {
    const { objects, endpoint } = build({
      kserve: true,
      runtime: Runtime.triton({ gpu: false }),
      scaling: Scaling.cpu({ minReplicas: 2, maxReplicas: 4 }),
      versions: [
        { name: 'stable', model: model('champion') },
        { name: 'v8', weight: 20, model: ModelSource.registry('resnet50', { version: 8 }), scaling: Scaling.fixed(1) },
      ],
    });
    expectValidManifests(objects);
    expect(objects.map((o) => o.kind).sort()).toEqual(['InferenceService', 'NetworkPolicy', 'PodMonitor', 'PodMonitor', 'PrometheusRule', 'ServiceAccount', 'ServiceAccount']);
    const isvc = find(objects, 'InferenceService', 'resnet50');
    expect(isvc.metadata.annotations).toEqual({ 'serving.kserve.io/deploymentMode': 'Standard', 'serving.kserve.io/autoscalerClass': 'hpa' });
    const p = isvc.spec.predictor;
    expect(p).toMatchObject({ minReplicas: 2, maxReplicas: 4, scaleMetric: 'cpu', scaleTarget: 70, serviceAccountName: 'resnet50-stable', timeout: 60 });
    expect(p.containers[0].name).toBe('kserve-container');
    expect(p.initContainers[0].env).toContainEqual({ name: 'MODEL_URI', value: 'models:/resnet50@champion' });
    expect(p.labels).toMatchObject({ 'mlplatform.io/endpoint': 'resnet50', 'mlplatform.io/version': 'stable' });
    expect(isvc.spec.canary).toHaveLength(1);
    expect(isvc.spec.canary[0]).toMatchObject({ trafficPercent: 20, predictor: { name: 'v8', minReplicas: 1, serviceAccountName: 'resnet50-v8' } });
    expect(find(objects, 'PodMonitor', 'resnet50-v8').spec.podMetricsEndpoints).toEqual([{ portNumber: 8002, path: '/metrics', interval: '30s', scheme: 'http' }]);
    const saturation = find(objects, 'PrometheusRule', 'resnet50').spec.groups[0].rules.filter((r: any) => r.alert === 'ModelEndpointSaturated');
    expect(saturation.map((r: any) => r.expr)).toEqual([
      expect.stringContaining('pod=~"resnet50-predictor-[a-z0-9]+-[a-z0-9]+",container="kserve-container"'),
      expect.stringContaining('pod=~"resnet50-v8-predictor-[a-z0-9]+-[a-z0-9]+"'),
    ]);
    expect(endpoint.url).toBe('http://resnet50-predictor.vision.svc.cluster.local');
  });

  test('KEDA through KServe\'s autoScaling.metrics', () => {
    const { objects } = build({
      kserve: true,
      runtime: Runtime.triton({ gpu: false }),
      scaling: Scaling.requestRate({ minReplicas: 1, maxReplicas: 3, target: 25 }),
      versions: [{ name: 'stable', model: model('champion') }],
    });
    expectValidManifests(objects);
    const isvc = find(objects, 'InferenceService', 'resnet50');
    expect(isvc.metadata.annotations).toMatchObject({ 'serving.kserve.io/autoscalerClass': 'keda' });
    expect(isvc.spec.predictor.autoScaling.metrics[0].external).toEqual({
      metric: { backend: 'prometheus', serverAddress: 'http://prometheus-operated.monitoring.svc.cluster.local:9090', query: expect.stringContaining('nv_inference_request_') },
      target: { type: 'AverageValue', averageValue: '25' },
    });
  });
});

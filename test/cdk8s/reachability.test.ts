// Which pod may open which port on which pod, computed by the NetworkPolicy evaluator
// (test/support/network-policy.ts) from the policies a 3-tenant platform synthesizes: the README
// example (tenants `vision`, with a pipeline, a sweep and an endpoint, and `nlp`) plus an endpoint
// in `nlp` and a third tenant `speech` with a pipeline and a sweep, all through the public API.
// The assertions are what holds today and must keep holding (issue #20, "Tenancy you can trust").
// Issue #20 item 4's matrix is asserted below ("least privilege"): PostgreSQL only from the tenants' sweep
// pods (their own role), the platform's tracking server, backup and bootstrap; the API server's ports only
// from Argo's workflow pods and the bootstrap, and only at the API server's ranges — no pod reaches a
// public address on 6443.
import { Testing } from 'cdk8s';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { MlPlatform, ModelEndpoint, TrainingPipeline, TuningSweep } from '../../src/cdk8s';
import { Cpu, Duration, Size } from '../../src/core';
import { ModelSource, Runtime, Scaling } from '../../src/core/endpoint';
import { PortSet, reachability, Reachability } from '../support/network-policy';
import { K8sObject, synthChart } from '../support/synth';

const TENANTS = ['vision', 'nlp', 'speech'] as const;
const PLATFORM_NS = 'mlplatform';

/**
 * What runs in the cluster besides the platform, as the policies expect it: CoreDNS (kubeadm and
 * EKS label it `k8s-app: kube-dns`, ports 53/UDP `dns` and 53/TCP `dns-tcp`), the Envoy Gateway
 * proxy (its default deploy type runs proxies in the controller's namespace
 * `envoy-gateway-system`, labels `app.kubernetes.io/name: envoy`, `app.kubernetes.io/component: proxy`)
 * and Prometheus (`monitoring`, `app.kubernetes.io/name: prometheus`, the endpoint policy's default).
 */
const CLUSTER: K8sObject[] = [
  clusterPod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }]),
  clusterPod('envoy-gateway-system', 'envoy', { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy' }, [{ name: 'https', containerPort: 10443 }]),
  clusterPod('monitoring', 'prometheus', { 'app.kubernetes.io/name': 'prometheus' }, [{ name: 'web', containerPort: 9090 }]),
];
const COREDNS = 'kube-system/Pod/coredns';
const ENVOY = 'envoy-gateway-system/Pod/envoy';
const PROMETHEUS = 'monitoring/Pod/prometheus';

/** Cluster-external addresses: a public one, the API server (a private VPC address, as EKS's endpoint ENIs are), IMDS, a private network. */
const EXTERNAL = [
  { name: 'internet', ip: '203.0.113.7' },
  { name: 'kube-apiserver', ip: '10.0.0.15' },
  { name: 'instance-metadata', ip: '169.254.169.254' },
  { name: 'private-network', ip: '192.168.10.20' },
];

function clusterPod(namespace: string, name: string, labels: Record<string, string>, ports: object[]): K8sObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name, image: `example.com/${name}:1`, ports }] } };
}

/** The 3-tenant platform's objects. */
function platformObjects(): K8sObject[] {
  const { chart, platform } = buildExample(Testing.app());
  new ModelEndpoint(chart, 'sentiment', {
    platform,
    namespace: 'nlp',
    runtime: Runtime.mlflow(),
    resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(2) },
    scaling: Scaling.fixed(1),
    versions: [{ name: 'stable', model: ModelSource.registry('sentiment', { alias: 'champion' }) }],
  });
  platform.addTenant('speech', { quota: { cpu: Cpu.cores(16), memory: Size.gibibytes(64) } });
  const asr = new TrainingPipeline(chart, 'asr', { platform, namespace: 'speech', experiment: 'asr' });
  asr.addStep('train', { image: 'ghcr.io/acme/asr:1.0.0', command: ['python', '-m', 'asr.train'], cpu: Cpu.cores(2), memory: Size.gibibytes(4) });
  new TuningSweep(chart, 'asr-sweep', {
    platform,
    namespace: 'speech',
    trial: { image: 'ghcr.io/acme/asr:1.0.0', command: ['python', '-m', 'asr.trial'], cpu: Cpu.cores(1), memory: Size.gibibytes(2) },
    parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
    objectives: [{ metric: 'wer', direction: 'minimize' }],
    budget: { trials: 4, workers: 2, trialTimeout: Duration.minutes(30) },
  });
  return chart.toJson() as K8sObject[];
}

/** `from → to: ports` for each pair whose reachable ports exceed `allowed(from, to)`. */
function beyond(r: Reachability, froms: string[], tos: string[], allowed: (from: string, to: string) => PortSet): string[] {
  return froms.flatMap((from) => tos.map((to) => [from, to, r.ports(from, to).minus(allowed(from, to))] as const))
    .filter(([, , extra]) => !extra.isEmpty())
    .map(([from, to, extra]) => `${from} -> ${to}: ${extra}`);
}

describe('reachability of a 3-tenant platform', () => {
  const objects = platformObjects();
  const r = reachability([...objects, ...CLUSTER], { external: EXTERNAL });
  const podsIn = (ns: string) => r.pods.filter((p) => p.namespace === ns).map((p) => p.id);
  const tenantPods = TENANTS.flatMap(podsIn);
  const platformPods = podsIn(PLATFORM_NS);
  const one = (prefix: string) => {
    const hits = r.pods.filter((p) => p.id.startsWith(prefix)).map((p) => p.id);
    if (hits.length !== 1) throw new Error(`expected one pod ${prefix}*, found ${hits.join(', ') || 'none'}`);
    return hits[0];
  };
  const TRACKING = one('mlplatform/Deployment/ml-tracking');
  const POSTGRES = one('mlplatform/StatefulSet/ml-postgres');
  const STORE = one('mlplatform/StatefulSet/ml-s3');
  const BACKUP = one('mlplatform/CronJob/ml-backup');
  const BOOTSTRAP = one('mlplatform/Job/ml-bootstrap-');
  const SWEEP_WORKERS = [one('vision/Job/resnet-sweep-workers-'), one('speech/Job/asr-sweep-workers-')];
  const ENDPOINT_PODS = ['vision/Deployment/resnet50-stable', 'vision/Deployment/resnet50-canary', 'vision/Deployment/resnet50-shadow', 'nlp/Deployment/sentiment-stable'];

  test('every tenant runs pods of every kind the matrix is about (the assertions below are not vacuous)', () => {
    expect(podsIn('vision')).toEqual(expect.arrayContaining([
      'vision/WorkflowTemplate/resnet/step-train', 'vision/WorkflowTemplate/resnet/step-finetune/Job', SWEEP_WORKERS[0], ...ENDPOINT_PODS.slice(0, 3),
    ]));
    expect(podsIn('nlp')).toEqual([ENDPOINT_PODS[3]]);
    expect(podsIn('speech')).toEqual(expect.arrayContaining(['speech/WorkflowTemplate/asr/step-train', SWEEP_WORKERS[1]]));
    expect(platformPods).toEqual(expect.arrayContaining([TRACKING, POSTGRES, STORE, BACKUP, BOOTSTRAP]));
  });

  test('default deny between tenants: no pod of one tenant opens any port on a pod of another', () => {
    const crossings = TENANTS.flatMap((a) => TENANTS.filter((b) => b !== a).flatMap((b) => beyond(r, podsIn(a), podsIn(b), () => PortSet.none())));
    expect(crossings).toEqual([]);
  });

  test('every tenant pod reaches the tracking server on its port, allowed by its tenant\'s policy and the server\'s', () => {
    expect(tenantPods.filter((p) => !r.can(p, TRACKING, 'http'))).toEqual([]);
    expect(r.explain('speech/WorkflowTemplate/asr/step-train', TRACKING, 5000)).toEqual({
      allowed: true,
      egress: { isolated: true, allowedBy: ['speech/speech-allow-tracking'] },
      ingress: { isolated: true, allowedBy: ['mlplatform/ml-tracking'] },
    });
  });

  test('tenant pods reach platform pods only on the tracking, store and database ports', () => {
    const allowed = (_: string, to: string) => (
      to === TRACKING ? PortSet.range('TCP', 5000)
        : to === STORE ? PortSet.range('TCP', 8333)
          : to === POSTGRES ? PortSet.range('TCP', 5432) : PortSet.none());
    expect(beyond(r, tenantPods, platformPods, allowed)).toEqual([]);
  });

  test('the pipeline steps and the endpoints (their model fetch) reach the store\'s S3 port', () => {
    for (const p of ['vision/WorkflowTemplate/resnet/step-train', 'vision/WorkflowTemplate/resnet/step-finetune/Job', 'speech/WorkflowTemplate/asr/step-train', ...ENDPOINT_PODS]) {
      expect([p, r.can(p, STORE, 's3')]).toEqual([p, true]);
    }
  });

  test('PostgreSQL: the tracking server, the backup and the sweep workers reach it; nothing outside the tenants and the platform reaches it or the store', () => {
    for (const p of [TRACKING, BACKUP, ...SWEEP_WORKERS]) expect([p, r.can(p, POSTGRES, 'postgres')]).toEqual([p, true]);
    const outsiders = r.ids.filter((id) => !tenantPods.includes(id) && !platformPods.includes(id));
    expect(beyond(r, outsiders, [POSTGRES, STORE], () => PortSet.none())).toEqual([]);
    expect([STORE, POSTGRES].filter((p) => r.can(p, POSTGRES, 5432))).toEqual([]);
  });

  test('the tracking server admits the gateway and the platform\'s own pods on 5000 and nothing from outside', () => {
    expect(r.ports(ENVOY, TRACKING).toString()).toBe('TCP:5000');
    expect(r.can(BOOTSTRAP, TRACKING, 5000)).toBe(true);
    expect([PROMETHEUS, COREDNS, ...EXTERNAL.map((e) => e.name)].filter((id) => !r.ports(id, TRACKING).isEmpty())).toEqual([]);
  });

  test('model endpoints: the gateway reaches the serving port, Prometheus the metrics port, other tenants nothing', () => {
    for (const p of ENDPOINT_PODS.slice(0, 3)) {
      expect(r.render({ from: (id) => id === ENVOY || id === PROMETHEUS, to: (id) => id === p })).toBe([
        ENVOY, `  -> ${p}  TCP:8001,8099`,
        PROMETHEUS, `  -> ${p}  TCP:8002`,
      ].join('\n'));
    }
    expect(r.explain(ENVOY, ENDPOINT_PODS[0], 'http').ingress.allowedBy).toEqual(['vision/resnet50-ingress']);
  });

  test('no pod accepts a connection from outside the cluster', () => {
    expect(beyond(r, EXTERNAL.map((e) => e.name), [...tenantPods, ...platformPods], () => PortSet.none())).toEqual([]);
  });

  test('every platform and tenant pod resolves names: CoreDNS on 53/UDP and 53/TCP', () => {
    expect([...platformPods, ...tenantPods].filter((p) => r.ports(p, COREDNS).toString() !== 'TCP:53 UDP:53')).toEqual([]);
  });

  test('egress out of the cluster is HTTPS(-like) only: nothing on other ports, and the metadata service is out of reach on 80', () => {
    const https = PortSet.range('TCP', 443).union(PortSet.range('TCP', 6443));
    const externals = EXTERNAL.map((e) => e.name);
    expect(beyond(r, [...platformPods, ...tenantPods], externals, () => https)).toEqual([]);
    expect(r.sourcesOf('instance-metadata', 80).filter((p) => platformPods.includes(p) || tenantPods.includes(p))).toEqual([]);
    // Platform pods other than the bootstrap (which calls the API server) have no way out at all.
    expect(beyond(r, platformPods.filter((p) => p !== BOOTSTRAP), externals, () => PortSet.none())).toEqual([]);
  });

  test('least privilege: PostgreSQL admits the tenants\' sweep pods (their own role) and the platform\'s tracking, backup and bootstrap, no other pod', () => {
    const sweepPods = tenantPods.filter((p) => /\/Job\/[a-z-]+-sweep-(create|workers)-|\/Deployment\/[a-z-]+-sweep-dashboard/.test(p));
    expect(sweepPods.length).toBeGreaterThanOrEqual(4);
    expect(r.sourcesOf(POSTGRES, 5432).sort()).toEqual([TRACKING, BACKUP, BOOTSTRAP, ...sweepPods].sort());
    expect(r.explain(SWEEP_WORKERS[1], POSTGRES, 5432)).toEqual({
      allowed: true,
      egress: { isolated: true, allowedBy: ['speech/speech-allow-database'] },
      ingress: { isolated: true, allowedBy: ['mlplatform/ml-postgres'] },
    });
  });

  test('least privilege: the API server\'s ports only from Argo\'s workflow pods and the bootstrap, only at its ranges; nothing reaches a public address on 6443', () => {
    // Argo's own pods (not the Job a resource template creates, whose pods have no executor).
    const workflowPods = tenantPods.filter((p) => p.includes('/WorkflowTemplate/') && !p.endsWith('/Job'));
    expect(workflowPods.length).toBeGreaterThanOrEqual(3);
    const ours = (ps: string[]) => ps.filter((p) => tenantPods.includes(p) || platformPods.includes(p)).sort();
    expect(ours(r.sourcesOf('kube-apiserver', 6443))).toEqual([BOOTSTRAP, ...workflowPods].sort());
    expect(ours(r.sourcesOf('internet', 6443))).toEqual([]);
    // The sweeps, dashboards and endpoints do not call the API server.
    expect(ours(r.sourcesOf('kube-apiserver', 443)).filter((p) => !workflowPods.includes(p) && p !== BOOTSTRAP)).toEqual([]);
    expect(r.explain('speech/WorkflowTemplate/asr/step-train', 'kube-apiserver', 6443).egress.allowedBy).toEqual(['speech/speech-allow-kube-apiserver']);
  });

  test('the HTTPS egress policy keeps private ranges out: tenant pods reach a public address on 443 through it alone', () => {
    const step = 'speech/WorkflowTemplate/asr/step-train';
    expect(r.explain(step, 'internet', 443).egress.allowedBy).toContain('speech/speech-allow-https-egress');
    expect(r.explain(step, 'private-network', 443).egress.allowedBy).not.toContain('speech/speech-allow-https-egress');
    // Nor the link-local range, where the cloud's metadata and credential agents answer.
    expect(r.explain(step, 'instance-metadata', 443).egress.allowedBy).toEqual([]);
  });
});

describe('reachability of the KServe and Katib outputs', () => {
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', { addons: { kserve: true } });
    platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128) } });
    platform.addTenant('nlp', { quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(32) } });
    new ModelEndpoint(chart, 'iris', {
      platform,
      namespace: 'vision',
      kserve: true,
      runtime: Runtime.mlflow(),
      resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(2) },
      versions: [
        { name: 'stable', model: ModelSource.registry('iris', { alias: 'champion' }) },
        { name: 'next', weight: 10, model: ModelSource.registry('iris', { version: 4 }), scaling: Scaling.fixed(1) },
      ],
    });
    new TuningSweep(chart, 'iris-sweep', {
      platform,
      namespace: 'vision',
      engine: 'katib',
      trial: { image: 'ghcr.io/acme/iris:1.0.0', command: ['python', 'train.py'], cpu: Cpu.cores(1), memory: Size.gibibytes(1) },
      parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 4, workers: 2 },
    });
  });
  // A pod of the other tenant, as a user would start one.
  const r = reachability([...objects, ...CLUSTER, clusterPod('nlp', 'client', {}, [])], { external: EXTERNAL });
  const tracking = 'mlplatform/Deployment/ml-tracking';

  test('the predictor and canary pods KServe creates carry its labels, and the endpoint\'s policy selects them', () => {
    const predictors = r.pods.filter((p) => p.id.startsWith('vision/InferenceService/iris/'));
    expect(predictors.map((p) => [p.id, p.labels['serving.kserve.io/inferenceservice'], p.labels['mlplatform.io/endpoint']])).toEqual([
      ['vision/InferenceService/iris/predictor', 'iris', 'iris'],
      ['vision/InferenceService/iris/canary-next', 'iris', 'iris'],
    ]);
    for (const p of predictors) {
      expect(r.explain(ENVOY, p.id, 'http').ingress.allowedBy).toEqual(['vision/iris-ingress']);
      expect(r.ports('nlp/Pod/client', p.id).isEmpty()).toBe(true);
    }
  });

  test('the Katib trial pods are tenant pods: they reach the tracking server, not the other tenant', () => {
    const trial = 'vision/Experiment/iris-sweep/trial';
    // Katib's pod webhook copies the trial's labels (the Experiment's, component `sweep`) over the template's `sweep-trial`.
    expect(r.pods.find((p) => p.id === trial)?.labels).toMatchObject({ 'katib.kubeflow.org/experiment': 'iris-sweep', 'mlplatform.io/sweep': 'iris-sweep', 'app.kubernetes.io/component': 'sweep' });
    expect(r.can(trial, tracking, 5000)).toBe(true);
    expect(r.ports(trial, 'nlp/Pod/client').isEmpty()).toBe(true);
  });
});

import { Chart, Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Cpu, Duration, Exposure, Size } from '../../src/core';
import { Pruner, Sampler, StudyStorage } from '../../src/core/sweep';
import { credentialFilesOf } from '../support/credentials';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject } from '../support/synth';

type Props = Omit<TuningSweepProps, 'platform' | 'namespace'>;

const props: Props = {
  trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'], args: ['--lr={{lr}}'], gpus: 1, accelerator: 'nvidia-a10g' },
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
    { name: 'layers', type: 'int', low: 2, high: 8, step: 2 },
    { name: 'act', type: 'categorical', choices: ['relu', 'gelu', true] },
  ],
  objectives: [{ metric: 'val/acc', direction: 'maximize', strategy: 'max' }],
  budget: { trials: 30, workers: 3, maxFailedTrials: 4, trialTimeout: Duration.minutes(45) },
};

function build(p: Props): { sweep: TuningSweep; objects: K8sObject[] } {
  const { chart, platform } = buildPlatform(Testing.app());
  const sweep = new TuningSweep(chart, 'sweep', { platform, namespace: 'vision', ...p });
  return { sweep, objects: (chart.toJson() as K8sObject[]).filter((o) => o.metadata?.labels?.['mlplatform.io/sweep'] === 'sweep') };
}

/** A platform `ml` whose own Gateway (TLS) has apps listeners for `hostnames`, an a10g pool and tenant `vision`. */
function platformWithApps(hostnames: string[]): { chart: Chart; platform: MlPlatform } {
  const chart = new Chart(Testing.app(), 'platform');
  const platform = new MlPlatform(chart, 'ml', { exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt-dns' }, apps: { hostnames } }) });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 8 });
  platform.addTenant('vision', { quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: 8 } } });
  return { chart, platform };
}

describe('optuna-dashboard', () => {
  test('not exposed: a Deployment and a Service running the sweep program with the dashboard image', () => {
    const { sweep, objects } = build({ ...props, dashboard: true });
    expectValidManifests(objects);
    expect(sweep.dashboardName).toBe('sweep-dashboard');
    const c = find(objects, 'Deployment', 'sweep-dashboard').spec.template.spec.containers[0];
    expect([c.image, c.command, c.ports]).toEqual(['ghcr.io/optuna/optuna-dashboard:v0.20.0', ['python', '/etc/sweep/sweep.py', 'dashboard'], [{ name: 'http', containerPort: 8080 }]]);
    expect(c.startupProbe).toMatchObject({ tcpSocket: { port: 8080 }, failureThreshold: 90 });
    expect(credentialFilesOf(find(objects, 'Deployment', 'sweep-dashboard').spec.template.spec, c)).toEqual({ SWEEP_DB_USER: { name: 'ml-database', key: 'username' }, SWEEP_DB_PASSWORD: { name: 'ml-database', key: 'password' }, SWEEP_DB_NAME: { name: 'ml-database', key: 'database' } });
    expect(find(objects, 'Service', 'sweep-dashboard').spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    expect([...findAll(objects, 'HTTPRoute'), ...findAll(objects, 'NetworkPolicy')]).toEqual([]);
  });

  test('behind a named Gateway: an HTTPRoute in the tenant namespace and a policy admitting the gateway proxies', () => {
    const { objects } = build({ ...props, dashboard: { exposure: Exposure.gateway({ host: 'optuna.example.com', gateway: { name: 'shared', namespace: 'gateways', sectionName: 'https' } }) } });
    expectValidManifests(objects);
    expect(find(objects, 'HTTPRoute', 'sweep-dashboard', 'vision').spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shared', namespace: 'gateways', sectionName: 'https' }]);
    const policy = find(objects, 'NetworkPolicy', 'sweep-dashboard-allow-ingress');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sweep-dashboard', 'app.kubernetes.io/component': 'sweep-dashboard' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['envoy-gateway-system'] }] } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
  });

  test("on the platform Gateway's apps listener: no `gateway`, the route in the tenant namespace, the proxies admitted", () => {
    const { chart, platform } = platformWithApps(['*.ml.example.com', 'optuna.example.com']);
    new TuningSweep(chart, 'sweep', { platform, namespace: 'vision', ...props, dashboard: { exposure: Exposure.gateway({ host: 'optuna.example.com' }) } });
    const all = chart.toJson() as K8sObject[];
    expectValidManifests(all);
    const route = find(all, 'HTTPRoute', 'sweep-dashboard', 'vision');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlplatform', namespace: 'mlplatform', sectionName: 'apps-1-https' }]);
    expect(route.spec.hostnames).toEqual(['optuna.example.com']);
    // The platform Gateway's listener admits the sweep's namespace; the dashboard's policy admits its proxies.
    const listener = find(all, 'Gateway', 'mlplatform').spec.listeners.find((l: any) => l.name === 'apps-1-https');
    expect([listener.hostname, listener.allowedRoutes.namespaces.from]).toEqual(['optuna.example.com', 'Selector']);
    expect(find(all, 'NetworkPolicy', 'sweep-dashboard-allow-ingress').spec.ingress[0].from)
      .toEqual([{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['envoy-gateway-system'] }] } }]);
    expect(findAll(all, 'Gateway').length).toBe(1);
  });

  test('on the platform Gateway: a host outside the apps listeners, `tls` or `apps` on the dashboard fail with the fix', () => {
    const { chart, platform } = platformWithApps(['*.ml.example.com']);
    const e = validationError(() => new TuningSweep(chart, 'sweep', {
      platform,
      namespace: 'vision',
      ...props,
      dashboard: { exposure: Exposure.gateway({ host: 'optuna.example.org', tls: { clusterIssuer: 'other' }, apps: { hostnames: ['*.x.example.org'] } }) },
    }));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "dashboard.exposure.tls: applies only to the platform's own exposure: the apps listener's TLS is the platform Gateway's; drop `tls`",
      "dashboard.exposure.apps: applies only to the platform's own exposure; drop `apps`",
      "dashboard.exposure.host: matches none of the platform Gateway's apps host names (*.ml.example.com); use a host under one of them, or name a `gateway`",
    ]);
  });

  test('behind an Ingress, admitting the named controller namespace', () => {
    const { objects } = build({ ...props, dashboard: { exposure: Exposure.ingress({ host: 'optuna.example.com', className: 'traefik' }), allowFromNamespaces: ['traefik'] } });
    expectValidManifests(objects);
    expect(find(objects, 'Ingress', 'sweep-dashboard').spec.ingressClassName).toBe('traefik');
    expect(find(objects, 'NetworkPolicy', 'sweep-dashboard-allow-ingress').spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values).toEqual(['traefik']);
  });
});

describe('Katib Experiment instead of the Optuna Jobs', () => {
  test('the same search space, objective, algorithm, early stopping, budget and trial', () => {
    const { objects } = build({ ...props, engine: 'katib', sampler: Sampler.tpe({ nStartupTrials: 6, seed: 5 }), pruner: Pruner.median({ nStartupTrials: 4, nWarmupSteps: 2 }) });
    expectValidManifests(objects);
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Experiment']);
    const x = find(objects, 'kubeflow.org/v1beta1/Experiment', 'sweep', 'vision').spec;
    expect(x.objective).toEqual({ type: 'maximize', objectiveMetricName: 'val/acc', metricStrategies: [{ name: 'val/acc', value: 'max' }] });
    expect(x.algorithm).toEqual({ algorithmName: 'tpe', algorithmSettings: [{ name: 'random_state', value: '5' }, { name: 'n_startup_trials', value: '6' }] });
    expect(x.earlyStopping).toEqual({ algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '4' }, { name: 'start_step', value: '2' }] });
    expect([x.parallelTrialCount, x.maxTrialCount, x.maxFailedTrialCount]).toEqual([3, 30, 4]);
    expect(x.parameters).toEqual([
      { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.00001', max: '0.1', distribution: 'logUniform' } },
      { name: 'layers', parameterType: 'int', feasibleSpace: { min: '2', max: '8', step: '2' } },
      { name: 'act', parameterType: 'categorical', feasibleSpace: { list: ['relu', 'gelu', 'true'] } },
    ]);
    expect(x.metricsCollectorSpec.collector.kind).toBe('StdOut');
    const job = x.trialTemplate.trialSpec;
    expect(job.spec.activeDeadlineSeconds).toBe(2700);
    const c = job.spec.template.spec.containers[0];
    expect(x.trialTemplate.primaryContainerName).toBe(c.name);
    expect(c.args).toEqual(['--lr=${trialParameters.lr}', '--lr=${trialParameters.lr}', '--layers=${trialParameters.layers}', '--act=${trialParameters.act}']);
    expect(c.env).toContainEqual({ name: 'SWEEP_PARAM_LAYERS', value: '${trialParameters.layers}' });
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(job.spec.template.spec.nodeSelector['mlplatform.io/gpu-pool']).toBe('a10g');
  });

  test('metrics from a JSON file: the File collector', () => {
    const { objects } = build({
      ...props,
      trial: { ...props.trial, args: [] },
      engine: 'katib',
      metrics: { stdout: false, jsonFile: true },
      sampler: Sampler.grid(),
      parameters: [{ name: 'layers', type: 'int', low: 2, high: 8, step: 2 }],
      budget: { workers: 2 },
    });
    expectValidManifests(objects);
    const x = find(objects, 'Experiment', 'sweep').spec;
    expect(x.metricsCollectorSpec).toEqual({ collector: { kind: 'File' }, source: { fileSystemPath: { path: '/sweep/metrics.json', kind: 'File', format: 'JSON' } } });
    expect(x.algorithm).toEqual({ algorithmName: 'grid' });
    expect(x.maxTrialCount).toBe(4);
  });

  test('what Katib cannot express is a ValidationError naming the prop', () => {
    const e = validationError(() => build({
      ...props,
      trial: { ...props.trial, args: [] },
      engine: 'katib',
      objectives: [{ metric: 'loss', direction: 'minimize' }, { metric: 'ms', direction: 'minimize' }],
      constraints: [{ metric: 'mem', max: 1 }],
      parameters: [{ name: 'opt', type: 'categorical', choices: ['a'] }, { name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'a' } }],
      sampler: Sampler.nsgaII(),
      metrics: { stdout: true, jsonFile: true },
      budget: { trials: 30, workers: 3, deadline: Duration.hours(1) },
      dashboard: true,
      storage: StudyStorage.platform(),
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['objectives', 'constraints', 'parameters[1].when', 'sampler', 'metrics', 'budget.deadline', 'dashboard', 'storage']);
    expect(e.issues[0].message).toMatch(/Katib cannot express it/);
    const p = validationError(() => build({ ...props, engine: 'katib', pruner: Pruner.hyperband() }));
    expect(p.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['pruner: this pruner (Katib has median stopping only); Katib cannot express it — drop it or use the Optuna engine']);
  });
});

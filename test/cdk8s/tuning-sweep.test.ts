import { Chart, Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { addTuningSweep } from '../../examples/cdk8s-platform/sweep';
import { MlPlatform } from '../../src/cdk8s';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Cpu, Duration, Exposure, Size } from '../../src/core';
import { Pruner, Sampler, StudyStorage, sweepRuntimeConfig } from '../../src/core/sweep';
import { credentialFilesOf } from '../support/credentials';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject } from '../support/synth';

type Props = Omit<TuningSweepProps, 'platform' | 'namespace'> & Partial<Pick<TuningSweepProps, 'platform' | 'namespace'>>;

const minimalProps: Props = {
  trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'] },
  parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
  objectives: [{ metric: 'loss', direction: 'minimize' }],
  budget: { trials: 20 },
};

/** A sweep on the example platform (tenants vision and nlp, pools a10g, h100, l4-shared). */
function build(props: Props = minimalProps, id = 'sweep'): { sweep: TuningSweep; objects: K8sObject[]; platform: MlPlatform } {
  const app = Testing.app();
  const { chart, platform } = buildPlatform(app);
  const sweep = new TuningSweep(chart, id, { platform, namespace: 'vision', ...props });
  return { sweep, platform, objects: (chart.toJson() as K8sObject[]).filter((o) => o.metadata?.labels?.['mlplatform.io/sweep'] === id) };
}

/** The objects with each ConfigMap's config.json parsed (the programs beside it show as `<program NAME sha256:…>`). */
function forSnapshot(objects: K8sObject[]): K8sObject[] {
  return objects.map((o) => (o.kind !== 'ConfigMap' ? o : {
    ...o,
    data: Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, k === 'config.json' ? JSON.parse(v) : v])),
  }));
}

function pod(objects: K8sObject[], job: string): any {
  return find(objects, 'Job', job).spec.template.spec;
}

function env(c: any): Record<string, unknown> {
  return Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

const everyProp: Props = {
  trial: {
    image: 'ghcr.io/acme/vision-train:2.3.1',
    command: ['python', '-m', 'train'],
    args: ['--epochs=20', '--opt={{optimizer}}'],
    parametersAs: 'flags',
    env: { DATA: 's3://ml-artifacts/datasets/x' },
    secretEnv: { HF_TOKEN: { name: 'hf', key: 'token' } },
    workingDir: '/workspace',
    cpu: Cpu.cores(4),
    cpuLimit: Cpu.cores(6),
    memory: Size.gibibytes(16),
    ephemeralStorage: Size.gibibytes(20),
    sharedMemory: Size.gibibytes(4),
    gpus: 1,
    accelerator: 'nvidia-a10g',
    pool: 'a10g',
  },
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
    { name: 'layers', type: 'int', low: 2, high: 8, step: 2 },
    { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adamw'] },
    { name: 'momentum', type: 'float', low: 0.5, high: 0.9, step: 0.1, when: { parameter: 'optimizer', in: ['sgd'] } },
  ],
  objectives: [{ metric: 'val_loss', direction: 'minimize', strategy: 'min' }],
  constraints: [{ metric: 'latency_ms', max: 50, strategy: 'latest' }],
  metrics: { stdout: true, jsonFile: true },
  sampler: Sampler.tpe({ nStartupTrials: 8, nEiCandidates: 32, multivariate: true, group: true, constantLiar: true, seed: 42 }),
  pruner: Pruner.hyperband({ minResource: 2, maxResource: 20, reductionFactor: 3 }),
  budget: { trials: 40, workers: 4, maxFailedTrials: 5, trialTimeout: Duration.hours(2), deadline: Duration.hours(24), retries: 2 },
  studyName: 'vision/resnet-2026-11',
  experiment: 'vision-resnet',
  heartbeat: { interval: Duration.seconds(30), gracePeriod: Duration.seconds(90) },
  storage: StudyStorage.platform({ schema: 'optuna_vision' }),
  tracking: true,
  dashboard: { exposure: Exposure.gateway({ host: 'optuna.example.com', gateway: { name: 'shared', namespace: 'gateways' } }), allowFromNamespaces: ['envoy-gateway-system'] },
  engine: 'optuna',
  images: { optuna: 'registry.example.com/optuna/optuna:v4.9.0-py3.12', dashboard: 'registry.example.com/optuna/optuna-dashboard:v0.20.0' },
  runAsUser: 2000,
  queue: true,
};

describe('TuningSweep: snapshots and strict validation', () => {
  test('minimal props', () => {
    const { sweep, objects } = build();
    expectValidManifests(objects);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/sweep', `ConfigMap/${sweep.configMapName}`, `Job/${sweep.createJobName}`, `Job/${sweep.workersJobName}`,
    ]);
    expect(sweep.workersJobName).toMatch(/^sweep-workers-[0-9a-f]{8}$/);
    expect(forSnapshot(objects)).toMatchSnapshot();
  });

  test('every prop', () => {
    const { objects } = build(everyProp);
    expectValidManifests(objects);
    expect(forSnapshot(objects)).toMatchSnapshot();
  });

  test('the README example: a sweep on the A10G GPU pool', () => {
    const app = Testing.app();
    const { chart, platform } = buildPlatform(app);
    const sweep = addTuningSweep(chart, platform);
    const objects = chart.toJson() as K8sObject[];
    expectValidManifests(objects);
    const spec = pod(objects, sweep.workersJobName);
    expect(spec.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(find(objects, 'Job', sweep.workersJobName).spec.parallelism).toBe(4);
  });
});

describe('TuningSweep: the study-creation Job and the workers', () => {
  test('the workers: an Indexed Job of trial + Optuna containers that share an emptyDir; init containers wait for the study and check the image', () => {
    const { sweep, objects } = build({ ...minimalProps, budget: { trials: 20, workers: 3 } });
    const job = find(objects, 'Job', sweep.workersJobName);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 6 });
    expect(job.spec.podFailurePolicy.rules).toEqual([
      { action: 'FailJob', onExitCodes: { containerName: 'optuna', operator: 'In', values: [3] }, onPodConditions: [] },
      { action: 'Ignore', onExitCodes: { containerName: 'optuna', operator: 'In', values: [143] }, onPodConditions: [] },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
    const spec = job.spec.template.spec;
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.initContainers.map((c: any) => [c.name, c.image, c.command])).toEqual([
      ['wait-for-study', 'docker.io/optuna/optuna:v4.9.0-py3.12', ['python', '/etc/sweep/sweep.py', 'wait']],
      ['check-trial-image', 'ghcr.io/acme/train:1.0.0', ['/bin/sh', '-c', expect.stringContaining('command -v sleep')]],
    ]);
    const [trial, optuna] = spec.containers;
    expect([trial.name, trial.image, trial.command]).toEqual(['trial', 'ghcr.io/acme/train:1.0.0', ['/bin/sh', '/etc/sweep/runner.sh']]);
    expect([optuna.name, optuna.command]).toEqual(['optuna', ['python', '/etc/sweep/sweep.py', 'worker']]);
    const shared = (c: any) => c.volumeMounts.find((m: any) => m.name === 'shared').mountPath;
    expect([shared(trial), shared(optuna)]).toEqual(['/sweep', '/sweep']);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(env(optuna)).toMatchObject({
      SWEEP_DB_HOST: 'ml-postgres.mlplatform.svc.cluster.local',
      SWEEP_DB_SCHEMA: 'optuna_vision',
      SWEEP_DB_PASSWORD_FILE: '/var/run/secrets/mlplatform/database/SWEEP_DB_PASSWORD',
      MLFLOW_TRACKING_PASSWORD_FILE: '/var/run/secrets/mlplatform/tracking/MLFLOW_TRACKING_PASSWORD',
      SWEEP_WORKER_INDEX: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    });
    // The credentials as files (issue #20 item 5): 0440 with the pod's fsGroup, mounted by the Optuna containers only.
    expect(credentialFilesOf(spec, optuna)).toEqual({
      SWEEP_DB_USER: { name: 'ml-database', key: 'username' },
      SWEEP_DB_PASSWORD: { name: 'ml-database', key: 'password' },
      SWEEP_DB_NAME: { name: 'ml-database', key: 'database' },
      MLFLOW_TRACKING_USERNAME: { name: 'ml-tracking', key: 'username' },
      MLFLOW_TRACKING_PASSWORD: { name: 'ml-tracking', key: 'password' },
    });
    expect(Object.keys(credentialFilesOf(spec, spec.initContainers[0]))).toEqual(['SWEEP_DB_NAME', 'SWEEP_DB_USER', 'SWEEP_DB_PASSWORD']);
    expect(spec.securityContext.fsGroup).toBe(spec.securityContext.runAsUser);
    expect(spec.volumes.filter((v: any) => v.name.startsWith('credentials-')).map((v: any) => [v.name, v.projected.defaultMode])).toEqual([['credentials-database', 0o440], ['credentials-tracking', 0o440], ['credentials-aws', 0o440]]);
    // The trial mounts only its own credential files: the AWS shared credentials file and MLflow's ~/.mlflow/credentials (HOME=/tmp).
    expect(trial.volumeMounts.filter((m: any) => /^(credentials-|mlflow-credentials)/.test(m.name)).map((m: any) => [m.name, m.mountPath])).toEqual([
      ['credentials-aws', '/var/run/secrets/mlplatform/aws'], ['mlflow-credentials', '/tmp/.mlflow'],
    ]);
    // The trial gets MLflow and the object store; the study database credentials stay with Optuna.
    expect(Object.keys(env(trial))).toEqual(expect.arrayContaining(['MLFLOW_TRACKING_URI', 'MLFLOW_EXPERIMENT_NAME', 'AWS_SHARED_CREDENTIALS_FILE', 'SWEEP_DIR', 'HOME']));
    expect(Object.keys(env(trial)).filter((k) => /^(AWS_ACCESS|AWS_SECRET|MLFLOW_TRACKING_(USERNAME|PASSWORD))/.test(k))).toEqual([]);
    expect(Object.keys(env(trial)).filter((k) => k.startsWith('SWEEP_DB'))).toEqual([]);
    const create = find(objects, 'Job', sweep.createJobName).spec.template.spec;
    expect(credentialFilesOf(create, create.containers[0])).toMatchObject({ SWEEP_DB_USER: { name: 'ml-database', key: 'username' }, MLFLOW_TRACKING_PASSWORD: { name: 'ml-tracking', key: 'password' } });
  });

  test('no credential is ever written in plain text', () => {
    const { objects } = build(everyProp);
    for (const o of objects) {
      for (const spec of [o.spec?.template?.spec].filter(Boolean)) {
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          for (const e of c.env ?? []) {
            // A credential's value never; a credential file's path under the mounted Secrets only.
            if (/_FILE$/.test(e.name)) expect({ [e.name]: e.value }).toEqual({ [e.name]: expect.stringMatching(/^\/var\/run\/secrets\/mlplatform\/[a-z-]+\/([A-Z_]+|credentials)$/) });
            else if (/PASSWORD|SECRET|TOKEN|STORAGE_URL/.test(e.name)) expect({ [e.name]: e.value }).toEqual({ [e.name]: undefined });
          }
        }
      }
    }
  });

  test('the program ConfigMap holds the runtime configuration the Optuna program reads', () => {
    const { sweep, objects } = build(everyProp);
    const cm = find(objects, 'ConfigMap', sweep.configMapName);
    expect(Object.keys(cm.data).sort()).toEqual(['config.json', 'runner.sh', 'sweep.py', 'sweep_lib.py', 'sweep_trial.py']);
    expect(JSON.parse(cm.data['config.json'])).toEqual(JSON.parse(JSON.stringify(sweepRuntimeConfig(sweep.spec, true))));
    expect(cm.data['runner.sh']).toMatch(/^#!\/bin\/sh\n/);
    expect(cm.data['sweep.py']).toContain('def create(cfg)');
    expect(cm.data['sweep_lib.py']).toContain('pg_advisory_lock(:k)');
  });

  test('Job and ConfigMap names carry a hash of the sweep: same sweep, same names; changed sweep, new Jobs', () => {
    const a = build().sweep;
    const b = build().sweep;
    const c = build({ ...minimalProps, budget: { trials: 21 } }).sweep;
    expect([a.createJobName, a.workersJobName, a.configMapName]).toEqual([b.createJobName, b.workersJobName, b.configMapName]);
    expect(c.workersJobName).not.toBe(a.workersJobName);
    expect(c.spec.study).toBe(a.spec.study); // the new Jobs continue the same study
  });

  test('GPU trials: the pool placement, resources and /dev/shm', () => {
    const { sweep, objects } = build(everyProp);
    const spec = pod(objects, sweep.workersJobName);
    expect(spec.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' });
    const trial = spec.containers[0];
    expect(trial.resources).toEqual({
      requests: { 'cpu': '4', 'memory': '16Gi', 'ephemeral-storage': '20Gi', 'nvidia.com/gpu': '1' },
      limits: { 'cpu': '6', 'memory': '16Gi', 'ephemeral-storage': '20Gi', 'nvidia.com/gpu': '1' },
    });
    expect(trial.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
    expect(trial.workingDir).toBe('/workspace');
    expect(spec.securityContext).toMatchObject({ runAsUser: 2000, runAsNonRoot: true });
  });

  test("the tenant's Kueue queue, the deadline and the ServiceAccount", () => {
    const { sweep, objects } = build(everyProp);
    const job = find(objects, 'Job', sweep.workersJobName);
    expect(job.metadata.labels?.['kueue.x-k8s.io/queue-name']).toBe('vision');
    expect(job.spec.activeDeadlineSeconds).toBe(24 * 3600 + 900);
    expect(find(objects, 'ServiceAccount', 'sweep').automountServiceAccountToken).toBe(false);
    expect(pod(objects, sweep.workersJobName).automountServiceAccountToken).toBe(false);
    const noQueue = build({ ...minimalProps, queue: false });
    expect(find(noQueue.objects, 'Job', noQueue.sweep.workersJobName).metadata.labels?.['kueue.x-k8s.io/queue-name']).toBeUndefined();
  });

  test('results: the study, the MLflow experiment and parent run, the tags', () => {
    expect(build(everyProp).sweep.results).toEqual({
      studyName: 'vision/resnet-2026-11',
      schema: 'optuna_vision',
      experiment: 'vision-resnet',
      parentRunName: 'sweep',
      bestParamsTag: 'mlplatform.best_params',
      bestTrialsTag: 'mlplatform.best_trials',
      stdoutPrefix: 'SWEEP_RESULT ',
    });
  });

  test('a study database other than the platform\'s: an egress policy to its port (tenant namespaces deny egress)', () => {
    const storage = StudyStorage.postgres({ host: 'pg.internal.example.com', port: 6432, database: 'optuna', username: { name: 'pg', key: 'user' }, password: { name: 'pg', key: 'password' } });
    const { objects } = build({ ...minimalProps, storage });
    expectValidManifests(objects);
    expect(find(objects, 'NetworkPolicy', 'sweep-allow-study-database').spec).toEqual({
      podSelector: { matchLabels: { 'mlplatform.io/sweep': 'sweep' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 6432 }] }],
    });
    expect(build().objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });

  test('without a platform: a database URL from a Secret, no tracking, a plain namespace', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const sweep = new TuningSweep(chart, 'solo', { ...minimalProps, namespace: 'research', storage: StudyStorage.fromSecret({ name: 'optuna-db', key: 'url' }) });
    const objects = chart.toJson() as K8sObject[];
    expectValidManifests(objects);
    const optuna = pod(objects, sweep.workersJobName).containers[1];
    expect(env(optuna)).toMatchObject({ SWEEP_DB_SCHEMA: 'optuna_research' });
    expect(credentialFilesOf(pod(objects, sweep.workersJobName), optuna)).toEqual({ SWEEP_STORAGE_URL: { name: 'optuna-db', key: 'url' } });
    expect(Object.keys(env(optuna)).filter((k) => k.startsWith('MLFLOW'))).toEqual([]);
    expect(JSON.parse(find(objects, 'ConfigMap', sweep.configMapName).data['config.json']).tracking).toBeNull();
  });
});

describe('TuningSweep: ValidationError names each prop and the fix', () => {
  test('construct-level checks, all in one error', () => {
    const e = validationError(() => build({
      ...minimalProps,
      namespace: 'marketing',
      images: { optuna: 'optuna/optuna:latest' },
      runAsUser: 0,
      dashboard: { exposure: Exposure.gateway({ host: 'optuna.example.com' }) },
    }, 'Sweep_1'));
    expect(e.issues.map((i) => i.path)).toEqual(['id', 'namespace', 'images.optuna', 'runAsUser', 'dashboard.exposure.host']);
    expect(e.message).toContain('`namespace` ("marketing"): must be a tenant namespace of platform "ml" (it has: vision, nlp); add the tenant first with addTenant()');
    expect(e.message).toContain('`dashboard.exposure.host` ("optuna.example.com"): matches none of the platform Gateway\'s apps host names (*.models.example.com); use a host under one of them, or name a `gateway`');
  });

  test('a GPU sweep larger than its pool, and tracking or a queue without a platform', () => {
    // Pool capacity and tenant quota are synth-time checks (docs/checks.md): the quota one is an error.
    expect(() => build({ ...everyProp, budget: { trials: 40, workers: 9 } })).toThrow('error (tenancy): TuningSweep vision/sweep needs up to 9 GPUs of pool "a10g" at once (9 pods × 1 GPU), but tenant "vision" may use 8');
    const app = Testing.app();
    const solo = validationError(() => new TuningSweep(new Chart(app, 'c'), 's', { ...minimalProps, namespace: 'research', tracking: true, queue: true }));
    expect(solo.issues.map((i) => i.path)).toEqual(['storage', 'tracking', 'queue']);
  });

  test('an Ingress exposure needs the ingress controller namespace', () => {
    const e = validationError(() => build({ ...minimalProps, dashboard: { exposure: Exposure.ingress({ host: 'optuna.example.com', className: 'traefik' }) } }));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(["dashboard.allowFromNamespaces: is required with an Ingress: name the ingress controller's namespace"]);
  });
});

import { ApiObject, Chart, Testing } from 'cdk8s';
import { addTrainingPipeline } from '../../examples/cdk8s-platform/pipeline';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { TrainingPipeline, TrainingPipelineProps } from '../../src/cdk8s/training-pipeline';
import { Dataset } from '../../src/core/pipeline';
import { Cpu, Duration, Size } from '../../src/core/quantities';
import { credentialFilesOf } from '../support/credentials';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject, synthChart } from '../support/synth';

const IMAGE = 'ghcr.io/acme/train:1.0.0';


/** The objects a pipeline construct created (not the platform's), synthesized. */
function own(p: TrainingPipeline): K8sObject[] {
  return p.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson() as K8sObject);
}

function template(objects: readonly K8sObject[], pipeline: string, name: string): any {
  const t = find(objects, 'WorkflowTemplate', pipeline).spec.templates.find((x: any) => x.name === name);
  if (!t) throw new Error(`no template ${name}`);
  return t;
}

/** Every container of every Argo template (main and init), with its template's name. */
function argoContainers(wt: K8sObject): { template: string; c: any }[] {
  return wt.spec.templates.flatMap((t: any) => [...(t.container ? [t.container] : []), ...(t.initContainers ?? [])].map((c: any) => ({ template: t.name, c })));
}

/** The targeted PSS check the strict validator cannot do inside Argo templates. */
function expectRestrictedTemplates(wt: K8sObject): void {
  const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
  for (const { template: t, c } of argoContainers(wt)) {
    expect({ t, sc: c.securityContext }).toEqual({ t, sc: expect.objectContaining(restricted) });
    for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
      expect({ t, r, req: c.resources.requests[r] !== undefined, lim: c.resources.limits[r] !== undefined }).toEqual({ t, r, req: true, lim: true });
    }
  }
  for (const t of wt.spec.templates.filter((x: any) => x.container)) {
    expect({ t: t.name, sc: t.securityContext }).toEqual({ t: t.name, sc: expect.objectContaining({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }) });
  }
  expect(wt.spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
}

describe('TrainingPipeline with minimal props', () => {
  const { objects } = synthChart((chart) => {
    new TrainingPipeline(chart, 'train', { namespace: 'team-a', steps: [{ name: 'fit', image: IMAGE, command: ['python', 'fit.py'] }] });
  });

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('validates strictly and passes PSS restricted', () => {
    expectValidManifests(objects);
    expectRestrictedTemplates(find(objects, 'WorkflowTemplate', 'train'));
  });

  test('creates the WorkflowTemplate, its ServiceAccount (no API token) and the least RBAC Argo\'s executor needs, for the executor alone', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/team-a/train-workflow', 'ServiceAccount/team-a/train-executor', 'Secret/team-a/train-executor.service-account-token',
      'Role/team-a/train-executor', 'RoleBinding/team-a/train-executor', 'WorkflowTemplate/team-a/train',
    ]);
    expect(find(objects, 'ServiceAccount', 'train-workflow').automountServiceAccountToken).toBe(false);
    expect(find(objects, 'Role', 'train-executor').rules).toEqual([{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }]);
    expect(find(objects, 'RoleBinding', 'train-executor').subjects).toEqual([{ kind: 'ServiceAccount', name: 'train-executor', namespace: 'team-a' }]);
    // The token Secret Argo mounts into its executor containers only (util/secrets/secret_name.go TokenName); the API server fills it.
    expect(find(objects, 'Secret', 'train-executor.service-account-token')).toMatchObject({
      type: 'kubernetes.io/service-account-token', metadata: { annotations: { 'kubernetes.io/service-account.name': 'train-executor' } },
    });
    expect(find(objects, 'Secret', 'train-executor.service-account-token').data).toBeUndefined();
    const spec = find(objects, 'WorkflowTemplate', 'train').spec;
    expect(spec).toMatchObject({
      entrypoint: 'main',
      serviceAccountName: 'train-workflow',
      automountServiceAccountToken: false,
      executor: { serviceAccountName: 'train-executor' },
      podGC: { strategy: 'OnPodSuccess' },
      ttlStrategy: { secondsAfterSuccess: 86400, secondsAfterFailure: 604800 },
    });
    expect(spec.templates.map((t: any) => t.name)).toEqual(['main', 'step-fit']);
  });

  test('without a platform, steps get no tracking or store wiring', () => {
    const env = template(objects, 'train', 'step-fit').container.env.map((e: any) => e.name);
    expect(env).toEqual(['HOME', 'MLPLATFORM_PIPELINE', 'MLPLATFORM_RUN', 'MLPLATFORM_STEP', 'MLPLATFORM_INPUTS', 'MLPLATFORM_OUTPUTS']);
  });

  test('without a platform, Argo passes an artifact from step to step (`from:`, its default artifact repository); no key parameters, no step I/O', () => {
    const { objects: passing } = synthChart((chart) => {
      new TrainingPipeline(chart, 'pass', {
        namespace: 'team-a',
        steps: [
          { name: 'fit', image: IMAGE, command: ['fit'], outputs: ['model'] },
          { name: 'score', after: ['fit'], image: IMAGE, command: ['score'], inputs: { model: { step: 'fit', output: 'model' } } },
        ],
      });
    });
    const tasks = template(passing, 'pass', 'main').dag.tasks;
    expect(tasks[1].arguments).toEqual({ artifacts: [{ name: 'model', from: '{{tasks.fit.outputs.artifacts.model}}' }] });
    expect(template(passing, 'pass', 'step-score').inputs).toEqual({ artifacts: [{ name: 'model', path: '/mnt/inputs/model' }] });
    expect(template(passing, 'pass', 'step-score').initContainers).toBeUndefined();
    expect(template(passing, 'pass', 'step-fit').outputs).toEqual({ artifacts: [{ name: 'model', path: '/mnt/outputs/model', s3: { key: 'pipelines/team-a/pass/{{workflow.name}}/fit/model' }, archive: { none: {} } }] });
  });
});

describe('TrainingPipeline on the example platform (every prop)', () => {
  const app = Testing.app();
  const { chart, platform } = buildPlatform(app);
  const example = addTrainingPipeline(chart, platform);
  const full = new TrainingPipeline(chart, 'full', everyProp(platform));
  // Data put into the store by other means: granted, or the data-access check fails the synth.
  platform.storeLocation('dvc/vision').grantRead(full);
  platform.storeLocation('datasets/labels/v7').grantRead(full);
  const all = chart.toJson() as K8sObject[];
  const objects = own(full);
  const wt = find(objects, 'WorkflowTemplate', 'nightly');

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('every object validates strictly (and the example pipeline\'s too); templates are PSS restricted', () => {
    expectValidManifests([...objects, ...own(example)]);
    expectRestrictedTemplates(wt);
    expectRestrictedTemplates(find(all, 'WorkflowTemplate', 'resnet'));
  });

  test('the DAG: dependencies equal `after`, fan-out, conditions, registration task', () => {
    const tasks = template(objects, 'nightly', 'main').dag.tasks;
    expect(tasks.map((t: any) => [t.name, t.template, t.dependencies ?? []])).toEqual([
      ['prepare', 'step-prepare', []],
      ['train', 'step-train', ['prepare']],
      ['sweep', 'step-sweep', ['prepare']],
      ['evaluate', 'step-evaluate', ['train', 'sweep']],
      ['evaluate-register', 'register-evaluate', ['evaluate']],
    ]);
    expect(tasks[2].withItems).toEqual([{ lr: '0.1' }, { lr: '0.01' }]);
    expect(tasks[3].when).toBe('{{tasks.train.outputs.parameters.accuracy}} > 0.8');
    expect(tasks[4].when).toBe(tasks[3].when);
    expect(tasks[3].arguments).toEqual({
      parameters: [
        { name: 'from-train-accuracy', value: '{{tasks.train.outputs.parameters.accuracy}}' },
        // On a platform the key of an artifact input, as the producing node reports it (not Argo's `from:`: core/pipeline/io.ts).
        { name: 'mlplatform-artifact-model', value: '{{tasks.train.outputs.parameters.mlplatform-key-model}}' },
      ],
    });
  });

  test('a GPU step gets the pool\'s extended resource, node selector and toleration, and /dev/shm', () => {
    const t = template(objects, 'nightly', 'step-train');
    expect(t.container.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(t.container.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(t.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' });
    expect(t.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(t.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '4Gi' } });
    expect(t.container.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
  });

  test('parameters, retries, timeouts and caching keyed on the inputs', () => {
    expect(wt.spec.arguments.parameters).toEqual([
      { name: 'epochs', value: '10', description: 'Training epochs' },
      { name: 'optimizer', value: 'adam', enum: ['adam', 'sgd'] },
    ]);
    const t = template(objects, 'nightly', 'step-train');
    expect(t.inputs.parameters).toEqual([{ name: 'epochs' }, { name: 'optimizer' }, { name: 'mlplatform-artifact-shards' }]);
    // Each value read with its `$` doubled, so Kubernetes' `$(VAR)` expansion gives it back exactly (test/engine/argo-manifest.test.ts).
    expect(t.container.args).toEqual([
      "--epochs={{=sprig.replace('$', '$$', string(inputs.parameters['epochs']))}}", '--optimizer', "{{=sprig.replace('$', '$$', string(inputs.parameters['optimizer']))}}",
    ]);
    expect(t.retryStrategy).toEqual({ limit: 3, retryPolicy: 'OnError', backoff: { duration: '30s', factor: 2, maxDuration: '10m' } });
    expect(t.activeDeadlineSeconds).toBe(7200);
    expect(t.memoize).toEqual({ key: expect.stringMatching(/^train-[0-9a-f]{16}-\{\{=sprig\.sha256sum\(inputs\.parameters\['epochs'\] \+ '\|' \+ inputs\.parameters\['optimizer'\]\)\}\}$/), maxAge: '24h', cache: { configMap: { name: 'nightly-cache' } } });
    expect(wt.spec).toMatchObject({ activeDeadlineSeconds: 36000, parallelism: 4, podGC: { strategy: 'OnWorkflowSuccess' }, ttlStrategy: { secondsAfterSuccess: 3600, secondsAfterFailure: 172800 }, onExit: 'exit-handler' });
  });

  test('artifacts live in the platform store under pipeline, run and step', () => {
    const train = template(objects, 'nightly', 'step-train');
    expect(train.outputs.artifacts).toEqual([{ name: 'model', path: '/mnt/outputs/model', s3: { key: 'pipelines/vision/nightly/{{workflow.name}}/train/model' }, archive: { none: {} } }]);
    // Each output's key as a value the executor reports as it is (workflow/executor/executor.go SaveParameters reads valueFrom.path only).
    expect(train.outputs.parameters).toEqual([
      { name: 'accuracy', valueFrom: { path: '/mnt/outputs/accuracy' } },
      { name: 'mlplatform-key-model', value: 'pipelines/vision/nightly/{{workflow.name}}/train/model' },
    ]);
    expect(template(objects, 'nightly', 'step-sweep').outputs.artifacts[0].s3.key).toBe('pipelines/vision/nightly/{{workflow.name}}/sweep/{{pod.name}}/curves');
    const prepare = template(objects, 'nightly', 'step-prepare');
    // A bucket dataset is pulled by the step's I/O init container (a prefix: trailing slash), not loaded by Argo's S3 driver.
    expect(prepare.inputs).toBeUndefined();
    expect(prepare.initContainers.find((c: any) => c.name === 'step-io')).toMatchObject({
      command: ['python3', '/opt/mlplatform/step_io.py'],
      args: ['prepare', '/mnt/inputs/labels=s3://ml-artifacts/datasets/labels/v7/'],
      volumeMounts: expect.arrayContaining([{ name: 'inputs', mountPath: '/mnt/inputs' }, { name: 'step-io-programs', mountPath: '/opt/mlplatform', readOnly: true }]),
    });
    expect(prepare.volumes).toContainEqual({ name: 'step-io-programs', configMap: { name: expect.stringMatching(/^nightly-step-io-[0-9a-f]{8}$/), defaultMode: 0o444 } });
    // An earlier step's output is pulled the same way, from the key its node reported (a cache hit's: the run that made it).
    const evaluate = template(objects, 'nightly', 'step-evaluate');
    expect(evaluate.inputs).toEqual({ parameters: [{ name: 'from-train-accuracy' }, { name: 'mlplatform-artifact-model' }] });
    expect(evaluate.initContainers.find((c: any) => c.name === 'step-io').args).toEqual(['prepare', '/mnt/inputs/model=s3://ml-artifacts/{{inputs.parameters.mlplatform-artifact-model}}']);
  });

  test('a DVC input is pulled by an init container at its revision, from the remote in the platform store', () => {
    const [init] = template(objects, 'nightly', 'step-prepare').initContainers;
    expect(init.command).toEqual(['dvc', 'get', 'https://github.com/acme/data.git', 'images', '--rev', '3f2a9c1', '-o', '/mnt/inputs/images', '--remote-config', 'url=s3://ml-artifacts/dvc/vision', 'endpointurl=http://ml-s3.mlplatform.svc.cluster.local:8333']);
    // The store keys as the AWS shared credentials file (the tenant Secret's INI key), which DVC's s3fs/aiobotocore reads.
    expect(init.env).toContainEqual({ name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/var/run/secrets/mlplatform/aws/credentials' });
    expect(init.env.filter((e: any) => e.valueFrom)).toEqual([]);
    expect(credentialFilesOf(template(objects, 'nightly', 'step-prepare'), init)).toEqual({ AWS_SHARED_CREDENTIALS: { name: 'ml-store', key: 'credentials' } });
  });

  test('tracking is wired into every step: URI, experiment, credentials from Secrets, run identity and versions as tags', () => {
    for (const name of ['step-prepare', 'step-train', 'step-sweep', 'step-evaluate']) {
      const env = template(objects, 'nightly', name).container.env;
      expect(env).toContainEqual({ name: 'MLFLOW_TRACKING_URI', value: 'http://ml-tracking.mlplatform.svc.cluster.local:5000' });
      expect(env).toContainEqual({ name: 'MLFLOW_EXPERIMENT_NAME', value: 'vision-nightly' });
      // The MLflow user as ~/.mlflow/credentials (HOME=/tmp), not as variables, which would win over the file.
      expect(env.filter((e: any) => /^(MLFLOW_TRACKING_(USERNAME|PASSWORD)|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY)$/.test(e.name))).toEqual([]);
      expect(template(objects, 'nightly', name).container.volumeMounts).toContainEqual({ name: 'mlflow-credentials', mountPath: '/tmp/.mlflow', readOnly: true });
    }
    const env = template(objects, 'nightly', 'step-prepare').container.env;
    expect(JSON.parse(env.find((e: any) => e.name === 'MLFLOW_RUN_CONTEXT').value)).toEqual({
      'mlplatform.pipeline': 'nightly',
      'mlplatform.run': '{{workflow.name}}',
      'mlplatform.run_uid': '{{workflow.uid}}',
      'mlplatform.step': 'prepare',
      'mlplatform.image': IMAGE,
      'mlflow.source.git.commit': '9c1e0f2',
      'mlplatform.data.images': 'https://github.com/acme/data.git@3f2a9c1:images',
      'mlplatform.data.labels': 'datasets/labels@v7',
    });
    expect(env).toContainEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'hub', key: 'token' } } });
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/password"\s*:\s*"[^{]/i);
  });

  test('data, image and code versions are recorded on every run', () => {
    expect(wt.spec.workflowMetadata).toEqual({
      labels: { 'mlplatform.io/pipeline': 'nightly', 'mlplatform.io/code-revision': '9c1e0f2' },
      annotations: {
        'mlplatform.io/code-revision': '9c1e0f2',
        'image.mlplatform.io/prepare': IMAGE,
        'data.mlplatform.io/prepare.images': 'https://github.com/acme/data.git@3f2a9c1:images',
        'data.mlplatform.io/prepare.labels': 'datasets/labels@v7',
        'image.mlplatform.io/train': IMAGE,
        'image.mlplatform.io/sweep': IMAGE,
        'image.mlplatform.io/evaluate': IMAGE,
      },
    });
  });

  test('a registered model: the MLflow image registers the output\'s S3 location with an alias', () => {
    const t = template(objects, 'nightly', 'register-evaluate');
    expect(t.container.image).toBe(platform.versions.images.mlflow);
    const env = Object.fromEntries(t.container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ MODEL_NAME: 'resnet', MODEL_SOURCE: 's3://ml-artifacts/pipelines/vision/nightly/{{workflow.name}}/evaluate/exported', MODEL_ALIAS: 'candidate' });
    expect(t.outputs.parameters).toEqual([{ name: 'version', valueFrom: { path: '/mnt/outputs/version' } }]);
  });

  test('the schedule is a CronWorkflow running the template', () => {
    expect(find(objects, 'CronWorkflow', 'nightly').spec).toEqual({
      schedules: ['0 2 * * 1-5', '0 6 * * 6'],
      timezone: 'Europe/Berlin',
      concurrencyPolicy: 'Replace',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 5,
      failedJobsHistoryLimit: 10,
      suspend: true,
      workflowMetadata: { labels: { 'mlplatform.io/pipeline': 'nightly', 'mlplatform.io/trigger': 'schedule' } },
      workflowSpec: { workflowTemplateRef: { name: 'nightly' }, arguments: { parameters: [{ name: 'epochs', value: '50' }] } },
    });
  });

  test('the exit handler reads run variables directly', () => {
    const t = template(objects, 'nightly', 'exit-handler');
    expect(t.container.args).toEqual(['{{workflow.status}}', "{{=sprig.replace('$', '$$', string(workflow.parameters['epochs']))}}"]);
    expect(t.inputs).toBeUndefined();
  });
});

describe('caching and the reported output keys', () => {
  test('on a platform, a cached step with outputs keys its cache on the output keys it reports (an entry cached without them is not reused); without outputs the key is unchanged', () => {
    const cacheKeyOf = (onPlatform: boolean, outputs: string[]) => {
      const { chart, platform } = buildPlatform(Testing.app());
      const p = new TrainingPipeline(chart, 'cached', {
        namespace: 'vision',
        ...(onPlatform ? { platform } : {}),
        steps: [{ name: 'fit', image: IMAGE, command: ['fit'], outputs, cache: { maxAge: Duration.hours(1) } }],
      });
      return template(own(p), 'cached', 'step-fit').memoize.key as string;
    };
    expect(cacheKeyOf(true, ['model'])).not.toBe(cacheKeyOf(false, ['model']));
    expect(cacheKeyOf(true, [])).toBe(cacheKeyOf(false, []));
  });
});

describe('TrainingPipeline construction', () => {
  test('steps added after construction show up; the handle feeds later steps', () => {
    const { objects } = synthChart((chart) => {
      const p = new TrainingPipeline(chart, 'late', { namespace: 'team-a' });
      const a = p.addStep('a', { image: IMAGE, outputParameters: ['n'] });
      p.addStep('b', { image: IMAGE, after: [a], args: [a.output('n')] });
      expect(p.step('a')).toBe(a);
    });
    expect(template(objects, 'late', 'main').dag.tasks.map((t: any) => t.name)).toEqual(['a', 'b']);
  });

  test('an invalid step throws at addStep, naming the path, and is not added', () => {
    const chart = new Chart(Testing.app(), 'c');
    const p = new TrainingPipeline(chart, 'p', { namespace: 'team-a' });
    const other = new TrainingPipeline(chart, 'q', { namespace: 'team-a' }).addStep('x', { image: IMAGE });
    p.addStep('fit', { image: IMAGE });
    expect(validationError(() => p.addStep('fit', { image: IMAGE })).message).toContain('`steps[1].name` ("fit"): is already the name of steps[0]');
    expect(validationError(() => p.addStep('eval', { image: IMAGE, after: [other] })).issues[0]).toMatchObject({ path: 'steps.eval.after[0]' });
    expect(validationError(() => p.addStep('gpu', { image: 'ghcr.io/acme/train:latest' })).issues[0]).toMatchObject({ path: 'steps.gpu.image' });
    expect(p.spec.steps.map((s) => s.name)).toEqual(['fit']);
  });

  test('a pipeline without steps fails at synth; a bad namespace at construction', () => {
    expect(() => synthChart((chart) => new TrainingPipeline(chart, 'empty', { namespace: 'team-a' }))).toThrow('`steps` ([]): must have at least one step: give `steps` or call addStep()');
    const { platform } = buildPlatform(Testing.app());
    expect(validationError(() => new TrainingPipeline(platform, 'p', { platform, namespace: 'team-x' })).message)
      .toContain('`namespace` ("team-x"): is not a tenant namespace of platform "ml"; use one of: vision, nlp');
    expect(new TrainingPipeline(platform, 'd', { platform: platform.context, steps: [{ name: 'a', image: IMAGE }] }).namespace).toBe('vision');
  });
});

/** Every prop of the construct and of a step, on the example platform. */
function everyProp(platform: MlPlatform): TrainingPipelineProps {
  const cache = { maxAge: Duration.days(1) };
  return {
    platform,
    name: 'nightly',
    namespace: 'vision',
    experiment: 'vision-nightly',
    codeRevision: '9c1e0f2',
    versions: { images: { mlflow: platform.versions.images.mlflow } },
    parameters: { epochs: { default: '10', description: 'Training epochs' }, optimizer: { default: 'adam', enum: ['adam', 'sgd'] } },
    schedule: {
      cron: ['0 2 * * 1-5', '0 6 * * 6'],
      timezone: 'Europe/Berlin',
      concurrencyPolicy: 'Replace',
      startingDeadline: Duration.minutes(10),
      successfulRunsHistory: 5,
      failedRunsHistory: 10,
      suspend: true,
      parameters: { epochs: '50' },
    },
    timeout: Duration.hours(10),
    parallelism: 4,
    retention: { afterSuccess: Duration.hours(1), afterFailure: Duration.days(2) },
    podGc: 'OnWorkflowSuccess',
    onExit: { image: 'docker.io/curlimages/curl:8.11.1', command: ['notify'], args: ['{{workflow.status}}', '{{workflow.parameters.epochs}}'], cpu: Cpu.millis(50), memory: Size.mebibytes(64) },
    steps: [
      {
        name: 'prepare',
        image: IMAGE,
        command: ['python', '-m', 'prep'],
        env: { LOG_LEVEL: 'debug' },
        secretEnv: { TOKEN: { name: 'hub', key: 'token' } },
        inputs: {
          images: Dataset.fromDvc({ repository: 'https://github.com/acme/data.git', revision: '3f2a9c1', path: 'images', remote: 'dvc/vision', image: 'docker.io/iterativeai/cml:0-dvc3-base1' }),
          labels: Dataset.fromBucket({ prefix: 'datasets/labels', version: 'v7' }),
        },
        outputs: ['shards'],
        cache,
        cpu: Cpu.cores(2),
        cpuLimit: Cpu.cores(4),
        memory: Size.gibibytes(8),
        ephemeralStorage: Size.gibibytes(50),
        runAsUser: 2000,
      },
      {
        name: 'train',
        after: ['prepare'],
        image: IMAGE,
        command: ['python', '-m', 'train'],
        args: ['--epochs={{workflow.parameters.epochs}}', '--optimizer', '{{workflow.parameters.optimizer}}'],
        inputs: { shards: { step: 'prepare', output: 'shards' } },
        outputs: ['model'],
        outputParameters: ['accuracy'],
        gpus: 1,
        accelerator: 'nvidia-a10g',
        pool: 'a10g',
        sharedMemory: Size.gibibytes(4),
        memory: Size.gibibytes(16),
        retry: { limit: 3, policy: 'OnError', backoff: { duration: Duration.seconds(30), factor: 2, maxDuration: Duration.minutes(10) } },
        timeout: Duration.hours(2),
        cache,
      },
      { name: 'sweep', after: ['prepare'], image: IMAGE, command: ['python', '-m', 'sweep', '--lr', '{{item.lr}}'], forEach: [{ lr: '0.1' }, { lr: '0.01' }], outputs: ['curves'] },
      {
        name: 'evaluate',
        after: ['train', 'sweep'],
        image: IMAGE,
        when: '{{tasks.train.outputs.parameters.accuracy}} > 0.8',
        command: ['python', '-m', 'evaluate', '--baseline', '{{tasks.train.outputs.parameters.accuracy}}'],
        inputs: { model: { step: 'train', output: 'model' } },
        outputs: ['exported'],
        registerModel: { output: 'exported', name: 'resnet', alias: 'candidate' },
      },
    ],
  };
}

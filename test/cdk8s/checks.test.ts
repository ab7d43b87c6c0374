import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { checkPlatform, StoreLocation, workloadDemands } from '../../src/cdk8s/checks';
import { MlPlatform, MlPlatformProps } from '../../src/cdk8s/ml-platform';
import { ModelEndpoint, ModelEndpointProps } from '../../src/cdk8s/model-endpoint';
import { platformReport } from '../../src/cdk8s/report';
import { TrainingPipeline, TrainingPipelineProps } from '../../src/cdk8s/training-pipeline';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Cpu, Dataset, ModelSource, Scaling, Size } from '../../src/core';
import { CheckSeverities, StoreWrites } from '../../src/core/checks';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject } from '../support/synth';

/** A platform with one A10G pool (2 nodes of g5.xlarge) and two tenants. */
function platform(props: MlPlatformProps = {}, gpuQuota = 2): { app: App; chart: Chart; ml: MlPlatform; bucket: string } {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const ml = new MlPlatform(chart, 'ml', props);
  ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 2 });
  ml.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: gpuQuota } } });
  ml.addTenant('nlp');
  return { app, chart, ml, bucket: ml.context.store.bucket };
}

const IMAGE = 'ghcr.io/acme/train:1.0.0';

function pipeline(scope: Construct, ml: MlPlatform, o: Partial<TrainingPipelineProps> = {}, id = 'train'): TrainingPipeline {
  return new TrainingPipeline(scope, id, {
    platform: ml,
    namespace: 'vision',
    steps: [{ name: 'fit', image: IMAGE, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8), outputs: ['model'] }],
    ...o,
  });
}

function sweep(scope: Construct, ml: MlPlatform, o: Partial<TuningSweepProps> = {}): TuningSweep {
  return new TuningSweep(scope, 'lr', {
    platform: ml,
    namespace: 'vision',
    trial: { image: IMAGE, command: ['python', 'train.py'], gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) },
    parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 20, workers: 2 },
    ...o,
  });
}

function endpoint(scope: Construct, ml: MlPlatform, uri: string, o: Partial<ModelEndpointProps> = {}, id = 'resnet'): ModelEndpoint {
  return new ModelEndpoint(scope, id, { platform: ml, namespace: 'vision', versions: [{ name: 'stable', model: ModelSource.uri(uri) }], ...o });
}

/** The synth error message (cdk8s collects every validation error into one Error). */
function synthError(chart: Chart): string {
  try {
    Testing.synth(chart);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synthesis to fail');
}

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

describe('a platform that passes every check', () => {
  test('pipeline, sweep and an endpoint serving the pipeline\'s model synthesize; demands list every unit', () => {
    const { chart, ml, bucket } = platform();
    const p = pipeline(chart, ml);
    sweep(chart, ml, { budget: { trials: 20, workers: 1 } });
    endpoint(chart, ml, `s3://${bucket}/pipelines/vision/train/run-1/fit/model`, { resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(4) } });
    const tracking = find(Testing.synth(chart) as K8sObject[], 'Deployment', 'ml-tracking').spec.template.spec;
    expect(tracking.containers).toHaveLength(1);
    const { cpu: TRACKING_CPU, memory: TRACKING_MEMORY } = tracking.containers[0].resources.requests;
    expect(p.artifacts.uri).toBe(`s3://${bucket}/pipelines/vision/train/`);
    const objects = Testing.synth(chart) as K8sObject[];
    expectValidManifests(objects);
    expect(checkPlatform(chart)).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(workloadDemands(chart).map((d) => [d.construct, `${d.namespace}/${d.name}`, d.unit, d.cpu.toString(), d.memory.toString(), d.gpu?.pool, d.gpu?.count, d.pods]))
      .toEqual([
        // The platform's services, from their synthesized pod templates.
        ['MlPlatform', 'mlplatform/ml', 'ml-postgres', '100m', '256Mi', undefined, undefined, { min: 1, max: 1 }],
        ['MlPlatform', 'mlplatform/ml', 'ml-s3', '100m', '192Mi', undefined, undefined, { min: 1, max: 1 }],
        ['MlPlatform', 'mlplatform/ml', 'ml-tracking', TRACKING_CPU, TRACKING_MEMORY, undefined, undefined, { min: 1, max: 1 }],
        ['TrainingPipeline', 'vision/train', 'fit', '2', '8Gi', 'a10g', 1, { min: 1, max: 1 }],
        ['TuningSweep', 'vision/lr', 'worker', '2100m', '8704Mi', 'a10g', 1, { min: 1, max: 1 }],
        ['TuningSweep', 'vision/lr', 'study-creation', '100m', '512Mi', undefined, undefined, { min: 0, max: 1 }],
        ['ModelEndpoint', 'vision/resnet', 'stable', '1', '4Gi', undefined, undefined, { min: 2, max: 2 }],
      ]);
  });
});

describe('errors fail synthesis; the message names the workload, the pool and the numbers', () => {
  test('schedulability: a step larger than a node of its pool fails `app.synth()` and `cdk8s synth`', () => {
    const { app, chart, ml } = platform();
    pipeline(chart, ml, { steps: [{ name: 'fit', image: IMAGE, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(8), memory: Size.gibibytes(8) }] });
    const message = synthError(chart);
    expect(message).toContain('[test/train] error (schedulability): TrainingPipeline vision/train step "fit" cannot be scheduled on pool "a10g" (g5.xlarge): it needs 8000m CPU per pod; one g5.xlarge node of pool "a10g" allocates 3920m of its 4 vCPU');
    expect(message).toContain('Fix: lower the pod\'s requests to fit g5.xlarge (3920m CPU, 13590Mi memory, 1 nvidia.com/gpu allocatable), or give the pool a larger instanceType');
    expect(() => app.synth()).toThrow(/error \(schedulability\): TrainingPipeline vision\/train step "fit"/);
  });

  test('schedulability: a 110Gi endpoint server on g4dn.12xlarge with the default 100 GiB node volume (what the real scheduler refused); a 200 GiB pool holds it', () => {
    const make = (diskSize?: Size) => {
      const chart = new Chart(Testing.app(), 'test');
      const ml = new MlPlatform(chart, 'ml');
      ml.addGpuPool('t4', { accelerator: 'nvidia-t4', instanceType: 'g4dn.12xlarge', maxNodes: 3, ...(diskSize ? { diskSize } : {}) });
      ml.addTenant('serving', { quota: { gpus: { t4: 8 } } });
      new ModelEndpoint(chart, 'llm', {
        platform: ml,
        namespace: 'serving',
        resources: { gpus: 1, accelerator: 'nvidia-t4', ephemeralStorage: Size.gibibytes(100) },
        versions: [{ name: 'stable', model: ModelSource.registry('llm', { alias: 'champion' }) }],
      });
      return chart;
    };
    expect(synthError(make())).toContain('error (schedulability): ModelEndpoint serving/llm version "stable" cannot be scheduled on pool "t4" (g4dn.12xlarge): ' +
      'it needs 112640Mi ephemeral storage per pod; one g4dn.12xlarge node of pool "t4" allocates 91135Mi of its 100Gi volume. ' +
      'Fix: lower the version\'s `ephemeralStorage` plus the endpoint\'s `modelStorage` (the server requests both) so the pod\'s 110Gi fits the 91135Mi one node allocates, ' +
      'or raise pool "t4"\'s `diskSize` to at least Size.gibibytes(124) (now 100Gi)');
    const chart = make(Size.gibibytes(200));
    const pod = findAll(Testing.synth(chart), 'Deployment').find((o) => o.metadata.namespace === 'serving')!.spec.template.spec;
    // The demand is what the rendered pod requests: the server's scratch + model volume (the fetch init container's model volume is smaller).
    expect(pod.containers.map((c: any) => c.resources.requests['ephemeral-storage'])).toEqual(['110Gi']);
    expect(pod.initContainers.map((c: any) => c.resources.requests['ephemeral-storage'])).toEqual(['10Gi']);
    expect(workloadDemands(chart).filter((d) => d.construct === 'ModelEndpoint').map((d) => d.ephemeralStorage.toString())).toEqual(['110Gi']);
  });

  test('schedulability: a multi-node step needs `nodes` nodes of one pool at once', () => {
    const multiNode = (nodes: number) => {
      const { chart, ml } = platform({}, 8);
      pipeline(chart, ml, { steps: [{ name: 'fit', image: IMAGE, command: ['/app/train.py'], nodes, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) }] });
      return chart;
    };
    expectValidManifests(Testing.synth(multiNode(2)));
    const chart = multiNode(3);
    expect(synthError(chart)).toContain('error (schedulability): TrainingPipeline vision/train step "fit" needs 3 nodes of 1 GPU at once, but pool "a10g" holds at most 2 (2 nodes × 1 per node). ' +
      'Fix: raise pool "a10g"\'s maxNodes to 3, or lower `nodes` to 2');
  });

  test('tenancy: endpoint replicas × GPUs beyond the tenant\'s GPU quota (checked at synth, no longer at construction)', () => {
    const { chart, ml } = platform({}, 1);
    new ModelEndpoint(chart, 'resnet', {
      platform: ml,
      namespace: 'vision',
      versions: [{ name: 'stable', model: ModelSource.registry('resnet') }],
      resources: { gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(1), memory: Size.gibibytes(4) },
      scaling: Scaling.fixed(2),
    });
    const message = synthError(chart);
    expect(message).toContain('error (tenancy): ModelEndpoint vision/resnet version "stable" needs up to 2 GPUs of pool "a10g" at once (2 pods × 1 GPU), but tenant "vision" may use 1. ' +
      'Fix: lower the maxReplicas to fit 1 GPUs (1 pods of 1), or raise quota.gpus["a10g"] of tenant "vision" to 2');
  });

  test('tenancy: a GPU sweep in a tenant without GPU quota on the pool', () => {
    const { chart, ml } = platform();
    sweep(chart, ml, { namespace: 'nlp', trial: { image: IMAGE, command: ['train'], gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(1), memory: Size.gibibytes(2) } });
    expect(synthError(chart)).toContain('error (tenancy): TuningSweep nlp/lr uses nvidia-a10g GPUs of pool "a10g", but tenant "nlp" has no GPU quota on that pool (needs 2: 2 pods × 1 GPU)');
  });
});

describe('warnings are printed and collected, and severities can be changed', () => {
  test('capacity: more parallel workers than the pool holds is a warning; synthesis goes on', () => {
    const { chart, ml } = platform({}, 8);
    sweep(chart, ml, { budget: { trials: 20, workers: 3 } });
    expectValidManifests(Testing.synth(chart));
    const expected = 'TuningSweep vision/lr worker asks for 3 parallel workers × 1 nvidia.com/gpu = 3 at once, but pool "a10g" holds at most 2 such pods (2 nodes × 1 per node; 2 nvidia.com/gpu in all): the rest wait for capacity';
    expect(checkPlatform(chart)).toEqual([{ check: 'capacity', severity: 'warning', workload: 'TuningSweep vision/lr worker', message: expected, fix: 'lower budget.workers to 2, or raise pool "a10g"\'s maxNodes' }]);
    expect(warn).toHaveBeenCalledWith(`[mlplatform] warning (capacity): ${expected}. Fix: lower budget.workers to 2, or raise pool "a10g"'s maxNodes`);
  });

  test('the platform downgrades an error to a warning; a construct overrides its platform', () => {
    const over = (platformChecks: CheckSeverities, own?: CheckSeverities) => {
      const { chart, ml } = platform({ checks: platformChecks }, 1);
      sweep(chart, ml, { checks: own });
      return chart;
    };
    const downgraded = over({ tenancy: 'warning' });
    expectValidManifests(Testing.synth(downgraded));
    expect(checkPlatform(downgraded).map((f) => [f.check, f.severity])).toEqual([['tenancy', 'warning']]);
    expect(warn.mock.calls[0][0]).toMatch(/^\[mlplatform\] warning \(tenancy\): TuningSweep vision\/lr needs up to 2 GPUs of pool "a10g" at once/);
    expect(synthError(over({ tenancy: 'warning' }, { tenancy: 'error' }))).toContain('error (tenancy): TuningSweep vision/lr needs up to 2 GPUs');
  });

  test('a construct can make a warning an error (strict capacity)', () => {
    const { chart, ml } = platform({}, 8);
    sweep(chart, ml, { budget: { trials: 20, workers: 3 }, checks: { capacity: 'error' } });
    expect(synthError(chart)).toContain('[test/lr] error (capacity): TuningSweep vision/lr worker asks for 3 parallel workers');
  });

  test('bad overrides fail at construction with the path and the fix', () => {
    expect(validationError(() => platform({ checks: { capacity: 'fatal' } as never })).message).toContain("`checks.capacity` (\"fatal\"): must be 'error' or 'warning'");
    const { chart, ml } = platform();
    expect(validationError(() => pipeline(chart, ml, { checks: { quota: 'warning' } as never })).message)
      .toContain('`checks.quota` ("warning"): is not a check; use one of: schedulability, capacity, tenancy, admission, data-access');
  });
});

describe('data access and the grant verbs', () => {
  test('an endpoint reading a store prefix nothing writes fails; a grant fixes it; the ServiceAccount keeps only the model prefix', () => {
    const fail = platform();
    endpoint(fail.chart, fail.ml, `s3://${fail.bucket}/models/resnet/7`);
    expect(synthError(fail.chart)).toContain(`error (data-access): ModelEndpoint vision/resnet version "stable" reads s3://${fail.bucket}/models/resnet/7/ (versions[0].model), which no pipeline step of its namespace writes and nothing grants it`);

    const ok = platform();
    const e = endpoint(ok.chart, ok.ml, `s3://${ok.bucket}/models/resnet/7`);
    ok.ml.storeLocation('models').grantRead(e);
    const objects = Testing.synth(ok.chart) as K8sObject[];
    expectValidManifests(objects);
    expect(find(objects, 'ServiceAccount', 'resnet-stable').metadata.annotations).toMatchObject({ 'mlplatform.io/model-read-scope': `s3://${ok.bucket}/models/resnet/7/` });
  });

  test('another namespace\'s pipeline output needs `pipeline.artifacts.grantRead(endpoint)`', () => {
    const build = (grant: boolean) => {
      const { chart, ml, bucket } = platform();
      const p = pipeline(chart, ml);
      const e = endpoint(chart, ml, `s3://${bucket}/pipelines/vision/train/run-1/fit/model`, { namespace: 'nlp' });
      if (grant) p.artifacts.grantRead(e);
      return { chart, bucket };
    };
    const denied = build(false);
    expect(synthError(denied.chart)).toContain(`ModelEndpoint nlp/resnet version "stable" reads s3://${denied.bucket}/pipelines/vision/train/run-1/fit/model/ (versions[0].model), which only TrainingPipeline vision/train of another namespace writes, and which is not granted to it`);
    expectValidManifests(Testing.synth(build(true).chart));
  });

  test('a pipeline reading a bucket dataset: its ServiceAccount carries exactly that read scope, and it needs a grant', () => {
    const build = (grant: boolean) => {
      const { chart, ml, bucket } = platform();
      const p = pipeline(chart, ml, { steps: [{ name: 'fit', image: IMAGE, inputs: { data: Dataset.fromBucket({ prefix: 'datasets/cifar10', version: 'v3' }) } }] });
      if (grant) ml.storeLocation('datasets/cifar10').grantRead(p);
      return { chart, bucket };
    };
    const denied = build(false);
    expect(synthError(denied.chart)).toContain(`error (data-access): TrainingPipeline vision/train reads s3://${denied.bucket}/datasets/cifar10/v3/ (steps.fit.inputs.data), which no pipeline step of its namespace writes and nothing grants it`);
    const ok = build(true);
    const objects = Testing.synth(ok.chart) as K8sObject[];
    expectValidManifests(objects);
    expect(find(objects, 'ServiceAccount', 'train-workflow').metadata.annotations).toMatchObject({ 'mlplatform.io/read-scopes': `s3://${ok.bucket}/datasets/cifar10/v3/` });
  });

  test('a ServiceAccount widened by hand (an escape hatch) fails: identities carry exactly the grants', () => {
    const { chart, ml, bucket } = platform();
    const e = endpoint(chart, ml, `s3://${bucket}/models/resnet/7`);
    ml.storeLocation('models').grantRead(e);
    ApiObject.of(e.node.findChild('stable').node.findChild('sa')).metadata.addAnnotation('mlplatform.io/model-read-scope', `s3://${bucket}/`);
    expect(synthError(chart)).toContain(`error (data-access): ServiceAccount "resnet-stable" of ModelEndpoint vision/resnet version "stable" carries read scopes [s3://${bucket}/] but the workload reads [s3://${bucket}/models/resnet/7/]: missing s3://${bucket}/models/resnet/7/; not read s3://${bucket}/`);
  });

  test('a read scope widened by a JSON patch fails too (annotations are read after the patches)', () => {
    const { chart, ml, bucket } = platform();
    const e = endpoint(chart, ml, `s3://${bucket}/models/resnet/7`);
    ml.storeLocation('models').grantRead(e);
    expectValidManifests(Testing.synth(chart));
    ApiObject.of(e.node.findChild('stable').node.findChild('sa')).addJsonPatch(JsonPatch.replace('/metadata/annotations/mlplatform.io~1model-read-scope', `s3://${bucket}/`));
    expect(synthError(chart)).toContain(`carries read scopes [s3://${bucket}/] but the workload reads [s3://${bucket}/models/resnet/7/]`);
  });

  test('grant verbs reject what they cannot grant', () => {
    const { chart, ml } = platform();
    expect(validationError(() => ml.storeLocation('models').grantRead(new Construct(chart, 'plain'))).message).toContain('`grantee` ("test/plain"): must be a TrainingPipeline, TuningSweep or ModelEndpoint');
    expect(validationError(() => StoreLocation.fromUri('https://example.com/x')).message).toContain('`uri` ("https://example.com/x"): must be an object-store URI');
    expect(StoreLocation.fromUri('s3://other-bucket/a/b').uri).toBe('s3://other-bucket/a/b/');
    const bare = new TrainingPipeline(chart, 'bare', { namespace: 'vision', steps: [{ name: 'a', image: IMAGE }] });
    expect(validationError(() => bare.artifacts).message).toContain('`artifacts` (undefined): needs a platform');
  });
});

describe('GPU work without a pool, and capacity fixes per construct', () => {
  test('a GPU step in a tenant of a platform without pools fails schedulability: no pool offers the accelerator (never `quota.gpus[""]`)', () => {
    const chart = new Chart(Testing.app(), 'test');
    const ml = new MlPlatform(chart, 'ml');
    ml.addTenant('vision');
    pipeline(chart, ml);
    const message = synthError(chart);
    expect(message).toContain('error (schedulability): TrainingPipeline vision/train step "fit" needs 1 nvidia-a10g GPU, but no GPU pool of the platform offers nvidia-a10g: ' +
      'tenant "vision"\'s ResourceQuota allows GPUs of declared pools only, so its pods are never admitted. ' +
      'Fix: declare a GPU pool offering it before the workload, e.g. `platform.addGpuPool(\'a10g\', { accelerator: \'nvidia-a10g\', maxNodes: 1 })`, and give tenant "vision" `quota.gpus: { \'a10g\': 1 }`');
    expect(message).not.toContain('quota.gpus[""]');
    expect(checkPlatform(chart).map((f) => f.check)).toEqual(['schedulability']);
    // Following the fix synthesizes.
    const fixed = new Chart(Testing.app(), 'test');
    const ml2 = new MlPlatform(fixed, 'ml');
    ml2.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 1 });
    ml2.addTenant('vision', { quota: { gpus: { a10g: 1 } } });
    pipeline(fixed, ml2);
    expectValidManifests(Testing.synth(fixed));
  });

  test('capacity of a pipeline fan-out names the pipeline\'s `parallelism`, not maxReplicas', () => {
    const { chart, ml } = platform({}, 4);
    pipeline(chart, ml, { steps: [{ name: 'shard', image: IMAGE, forEach: ['a', 'b', 'c', 'd'], gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) }] });
    const [finding] = checkPlatform(chart);
    expect(finding).toMatchObject({ check: 'capacity', severity: 'warning', workload: 'TrainingPipeline vision/train step "shard"' });
    expect(finding.message).toContain('asks for 4 pods × 1 nvidia.com/gpu = 4 at once, but pool "a10g" holds at most 2 such pods');
    expect(finding.fix).toBe('set the pipeline\'s parallelism to 2 (at most 2 pods of step "shard" at once), or raise pool "a10g"\'s maxNodes');
    expectValidManifests(Testing.synth(chart));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Fix: set the pipeline\'s parallelism to 2'));
  });
});

describe('the checks are computed once per synthesis, not once per workload', () => {
  test('what the workloads write is indexed once per synth; a workload added later is seen', () => {
    const { chart, ml, bucket } = platform({}, 100);
    for (let i = 0; i < 20; i++) endpoint(chart, ml, `s3://${bucket}/pipelines/vision/train/run-1/fit/model`, {}, `e${i}`);
    const index = jest.spyOn(StoreWrites, 'of');
    try {
      expect(synthError(chart)).toContain('ModelEndpoint vision/e19 version "stable" reads');
      expect(index).toHaveBeenCalledTimes(1);
      // The pipeline that writes what they read: the next synthesis sees it and passes.
      pipeline(chart, ml);
      expectValidManifests(Testing.synth(chart));
      expect(index).toHaveBeenCalledTimes(2);
      expect(checkPlatform(chart)).toEqual([]);
      expect(index).toHaveBeenCalledTimes(2);
    } finally {
      index.mockRestore();
    }
  });
});

describe('tenancy counts the steps that run at the same time (issue #21 item 8)', () => {
  /** Three 2-node × 8-GPU steps on an H100 pool, in a tenant with 16 H100 GPUs; `chain` makes them run one after another. */
  function build(chain: boolean) {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    const ml = new MlPlatform(chart, 'ml');
    ml.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2 });
    ml.addTenant('llm', { quota: { cpu: Cpu.cores(400), memory: Size.gibibytes(4000), gpus: { h100: 16 } } });
    const step = (name: string, after?: string) => ({
      name, image: IMAGE, command: ['-m', 'trainer.main'], nodes: 2, gpus: 8, accelerator: 'nvidia-h100-80gb', cpu: Cpu.cores(16), memory: Size.gibibytes(128), ...(after ? { after: [after] } : {}),
    });
    new TrainingPipeline(chart, 'sft', { platform: ml, namespace: 'llm', steps: [step('a'), step('b', chain ? 'a' : undefined), step('c', chain ? 'b' : undefined)] });
    return { app, chart };
  }

  test('three parallel 16-GPU steps against a quota of 16: synthesis fails naming the three steps and the 48 GPUs', () => {
    const { chart } = build(false);
    expect(synthError(chart)).toContain('error (tenancy): TrainingPipeline llm/sft steps "a", "b", "c" needs up to 48 GPUs of pool "h100" at once '
      + '(step "a" 2 pods × 8 GPUs + step "b" 2 pods × 8 GPUs + step "c" 2 pods × 8 GPUs), but tenant "llm" may use 16.');
    // The report's pool table and the terminal summary agree with the check.
    const report = platformReport(chart);
    expect(report.pools.map((p) => [p.pool, p.demand, p.capacity])).toEqual([['h100', 48, 16]]);
    expect(report.summary).toMatch(/^h100 +nvidia-h100-80gb +0–2 +48\/16 over by 32 +/m);
    expect(report.markdown).toContain('over by 32');
    expect(report.findings.map((f) => f.check)).toEqual(['capacity', 'tenancy']);
  });

  test('the same steps one after another need 16 at once: synthesis passes, the report shows 16/16', () => {
    const { chart } = build(true);
    expect(() => Testing.synth(chart)).not.toThrow();
    const report = platformReport(chart);
    expect(report.pools.map((p) => [p.pool, p.demand, p.capacity])).toEqual([['h100', 16, 16]]);
    expect(report.summary).not.toContain('over by');
    expect(report.findings).toEqual([]);
  });
});

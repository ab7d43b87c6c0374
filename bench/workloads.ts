// The benchmark platform: shared services, four GPU pools, four tenants and `n` workloads, a
// realistic mix of training pipelines (40 %), tuning sweeps (20 %) and model endpoints (40 %) — or,
// to see what each construct costs, `n` workloads of one kind.
import { Chart } from 'cdk8s';
import { BENCH_MIX, BenchKind } from './mix';
import { MlPlatform, ModelEndpoint, TrainingPipeline, TuningSweep } from '../src/cdk8s';
import {
  Cpu, Dataset, Duration, EndpointExposure, Exposure, ModelSource, Pruner, Runtime, Sampler, Scaling, Size,
} from '../src/core';

const TENANTS = ['vision', 'nlp', 'recsys', 'forecast'];
const IMAGE = 'ghcr.io/acme/train:2.3.1';

/** Declares the benchmark platform with `n` workloads in `chart`: the mix, or only workloads of kind `only`. */
export function buildBenchPlatform(chart: Chart, n: number, only?: BenchKind): MlPlatform {
  const platform = new MlPlatform(chart, 'ml', {
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' } }),
    addons: { keda: true },
  });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 64, capacityType: 'spot' });
  platform.addGpuPool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 16, sharing: { timeSlicing: { replicas: 4 } } });
  platform.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 8 });
  platform.addGpuPool('a100-mig', { accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, maxNodes: 4, sharing: { mig: '1g.10gb' } });
  const gpus = { 'a10g': 100_000, 'l4-shared': 100_000, 'h100': 100_000, 'a100-mig': 100_000 };
  TENANTS.forEach((t, i) => platform.addTenant(t, {
    quota: { cpu: Cpu.cores(100_000), memory: Size.tebibytes(1000), gpus, pods: 100_000 },
    access: { editors: [`${t}-team`] },
    queue: i % 2 === 0,
  }));
  const data = platform.storeLocation('datasets');
  for (let i = 0; i < n; i++) {
    const namespace = TENANTS[i % TENANTS.length];
    const kind = only ?? BENCH_MIX[i % BENCH_MIX.length];
    if (kind === 'pipelines') data.grantRead(pipeline(chart, platform, i, namespace));
    else if (kind === 'sweeps') sweep(chart, platform, i, namespace);
    else endpoint(chart, platform, i, namespace);
  }
  return platform;
}

function pipeline(chart: Chart, platform: MlPlatform, i: number, namespace: string): TrainingPipeline {
  const p = new TrainingPipeline(chart, `train-${i}`, {
    platform,
    namespace,
    parameters: { epochs: { default: '20' }, lr: { default: '0.1' } },
    ...(i % 4 === 0 ? { schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin' } } : {}),
    timeout: Duration.hours(12),
  });
  const prep = p.addStep('prepare', {
    image: IMAGE,
    command: ['python', '-m', 'prepare'],
    inputs: { raw: Dataset.fromBucket({ prefix: 'datasets/events', version: 'v3' }) },
    outputs: ['shards'],
    cpu: Cpu.cores(2),
    memory: Size.gibibytes(8),
    cache: { maxAge: Duration.days(7) },
  });
  const train = p.addStep('train', {
    after: [prep],
    image: IMAGE,
    command: ['python', '-m', 'train'],
    args: ['--epochs', p.parameter('epochs'), '--lr', p.parameter('lr')],
    inputs: { shards: prep.artifact('shards') },
    outputs: ['model'],
    outputParameters: ['accuracy'],
    gpus: 1,
    pool: i % 3 === 0 ? 'l4-shared' : 'a10g',
    cpu: Cpu.cores(2),
    memory: Size.gibibytes(8),
    retry: { limit: 2, policy: 'OnError' },
  });
  if (i % 10 === 0) {
    p.addStep('finetune', {
      after: [train],
      image: IMAGE,
      command: ['-m', 'trainer.finetune'],
      nodes: 2,
      gpus: 8,
      pool: 'h100',
      cpu: Cpu.cores(32),
      memory: Size.gibibytes(256),
    });
  }
  p.addStep('publish', {
    after: [train],
    when: `${train.output('accuracy')} > 0.75`,
    image: IMAGE,
    command: ['python', '-m', 'export'],
    inputs: { model: train.artifact('model') },
    outputs: ['mlflowModel'],
    registerModel: { output: 'mlflowModel', name: `model-${i}`, alias: 'candidate' },
  });
  return p;
}

function sweep(chart: Chart, platform: MlPlatform, i: number, namespace: string): TuningSweep {
  return new TuningSweep(chart, `sweep-${i}`, {
    platform,
    namespace,
    trial: {
      image: IMAGE,
      command: ['python', 'train.py'],
      cpu: Cpu.cores(2),
      memory: Size.gibibytes(8),
      gpus: 1,
      pool: i % 2 === 0 ? 'l4-shared' : 'a100-mig',
    },
    parameters: [
      { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
      { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adamw'] },
      { name: 'momentum', type: 'float', low: 0.5, high: 0.99, when: { parameter: 'optimizer', equals: 'sgd' } },
      { name: 'layers', type: 'int', low: 2, high: 8 },
    ],
    objectives: [{ metric: 'val_loss', direction: 'minimize' }],
    sampler: Sampler.tpe({ multivariate: true, seed: i }),
    pruner: Pruner.median(),
    budget: { trials: 40, workers: 4, trialTimeout: Duration.hours(2) },
  });
}

function endpoint(chart: Chart, platform: MlPlatform, i: number, namespace: string): ModelEndpoint {
  const gpu = i % 3 === 0;
  return new ModelEndpoint(chart, `serve-${i}`, {
    platform,
    namespace,
    runtime: gpu ? Runtime.triton() : Runtime.mlflow(),
    resources: gpu ? { cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, pool: 'a10g' } : { cpu: Cpu.millis(500), memory: Size.gibibytes(2) },
    scaling: gpu ? Scaling.requestRate({ minReplicas: 1, maxReplicas: 4, target: 20 }) : Scaling.cpu({ minReplicas: 2, maxReplicas: 6 }),
    exposure: EndpointExposure.gateway({ host: `serve-${i}.models.example.com`, gateway: { name: 'inference', namespace: 'envoy-gateway-system' } }),
    versions: [
      { name: 'stable', stable: true, model: ModelSource.registry(`model-${i}`, { alias: 'champion' }) },
      { name: 'canary', weight: 10, model: ModelSource.registry(`model-${i}`, { alias: 'challenger' }), scaling: Scaling.fixed(1) },
      ...(i % 2 === 0 ? [{ name: 'shadow', mirrorPercent: 20, model: ModelSource.registry(`model-${i}`, { alias: 'candidate' }), scaling: Scaling.fixed(1) }] : []),
    ],
  });
}

import { App, Chart, Testing } from 'cdk8s';
import { MlPlatform, ModelEndpoint, TrainingPipeline, TuningSweep } from '../../src/cdk8s';
import { Cpu, Duration, Size } from '../../src/core';
import { EndpointExposure, ModelSource, Runtime, Scaling } from '../../src/core/endpoint';
import type { SweepBudget } from '../../src/core/sweep';

/** Options of {@link buildFixture}: what to change from the small, valid default platform. */
export interface FixtureOptions {
  /** The a10g pool's maximum nodes. @default 4 */
  readonly a10gMaxNodes?: number;
  /** GPUs per trial of the sweep. @default 1 */
  readonly sweepGpus?: number;
  /** Parallel sweep workers. @default 2 */
  readonly sweepWorkers?: number;
  /** CPU of the training step `fit`. @default 4 cores */
  readonly fitCpu?: Cpu;
  /** The tenant's GPU quota on a10g. @default 4 */
  readonly a10gQuota?: number;
  /** Replaces the sweep's budget. @default { trials: 10, workers: sweepWorkers, maxFailedTrials: 2, trialTimeout: 1h } */
  readonly sweepBudget?: SweepBudget;
  /** Declare the platform in a chart of its own (`platform`), the workloads staying in `fixture`. @default false */
  readonly separatePlatformChart?: boolean;
}

/**
 * A small platform with every construct, sized so that every number of the report can be checked by
 * hand: pools a10g (g5.2xlarge: 8 vCPU, 32 GiB, 1 A10G, $1.212/h; 1–4 nodes) and h100 (p5.48xlarge,
 * $55.04/h; 0–2 nodes), tenant `team`, pipeline `train` (prep → fit on a10g), sweep `hp` (10 trials,
 * 2 failures allowed, 1h timeout, 2 workers × 1 GPU) and endpoint `serve` (stable 80% + canary 20%,
 * shadow mirrored 5%, 1 replica × 1 GPU each).
 */
export function buildFixture(o: FixtureOptions = {}, app: App = Testing.app()): { app: App; chart: Chart; platform: MlPlatform } {
  const chart = new Chart(app, 'fixture');
  const platform = new MlPlatform(o.separatePlatformChart ? new Chart(app, 'platform') : chart, 'ml');
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', minNodes: 1, maxNodes: o.a10gMaxNodes ?? 4 });
  platform.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2 });
  platform.addTenant('team', { quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: o.a10gQuota ?? 4, h100: 16 } } });

  const pipeline = new TrainingPipeline(chart, 'train', { platform, namespace: 'team', experiment: 'fixture' });
  const prep = pipeline.addStep('prep', { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'prep.py'], cpu: Cpu.cores(1), memory: Size.gibibytes(2) });
  pipeline.addStep('fit', {
    after: [prep],
    image: 'ghcr.io/acme/train:1.0.0',
    command: ['python', 'fit.py'],
    cpu: o.fitCpu ?? Cpu.cores(4),
    memory: Size.gibibytes(16),
    gpus: 1,
    accelerator: 'nvidia-a10g',
  });

  new TuningSweep(chart, 'hp', {
    platform,
    namespace: 'team',
    trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'], cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: o.sweepGpus ?? 1, accelerator: 'nvidia-a10g' },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: o.sweepBudget ?? { trials: 10, workers: o.sweepWorkers ?? 2, maxFailedTrials: 2, trialTimeout: Duration.hours(1) },
  });

  new ModelEndpoint(chart, 'serve', {
    platform,
    namespace: 'team',
    runtime: Runtime.triton(),
    resources: { cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, accelerator: 'nvidia-a10g' },
    scaling: Scaling.fixed(1),
    exposure: EndpointExposure.gateway({ host: 'serve.example.com', gateway: { name: 'inference', namespace: 'gateways' } }),
    versions: [
      { name: 'stable', stable: true, model: ModelSource.registry('fixture', { alias: 'champion' }) },
      { name: 'canary', weight: 20, model: ModelSource.registry('fixture', { alias: 'challenger' }) },
      { name: 'shadow', mirrorPercent: 5, model: ModelSource.registry('fixture', { alias: 'candidate' }) },
    ],
  });
  return { app, chart, platform };
}

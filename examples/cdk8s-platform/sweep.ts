// A hyperparameter sweep of the vision team on the A10G GPU pool: Optuna (TPE + Hyperband pruning)
// with its study in the platform's PostgreSQL and every trial logged to MLflow.
import { Chart } from 'cdk8s';
import { Cpu, Duration, Pruner, Sampler, Size } from 'mlplatform';
import { MlPlatform, TuningSweep } from 'mlplatform/cdk8s';

/** Adds the example sweep (tenant `vision`, four one-GPU workers on pool `a10g`) to `chart`. */
export function addTuningSweep(chart: Chart, platform: MlPlatform): TuningSweep {
  return new TuningSweep(chart, 'resnet-sweep', {
    platform,
    namespace: 'vision',
    trial: {
      image: 'ghcr.io/acme/vision-train:2.3.1',
      // The training script prints `val_loss=0.412 step=3` once per epoch; it never imports Optuna.
      command: ['python', '-m', 'train'],
      args: ['--epochs=20', '--data=s3://ml-artifacts/datasets/imagenette/v2'],
      cpu: Cpu.cores(4),
      memory: Size.gibibytes(16),
      sharedMemory: Size.gibibytes(4),
      gpus: 1,
      accelerator: 'nvidia-a10g',
    },
    parameters: [
      { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
      { name: 'batch_size', type: 'categorical', choices: [32, 64, 128] },
      { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adamw'] },
      { name: 'momentum', type: 'float', low: 0.5, high: 0.99, when: { parameter: 'optimizer', equals: 'sgd' } },
      { name: 'weight_decay', type: 'float', low: 1e-6, high: 1e-2, log: true },
    ],
    objectives: [{ metric: 'val_loss', direction: 'minimize', strategy: 'min' }],
    sampler: Sampler.tpe({ nStartupTrials: 8, multivariate: true, seed: 42 }),
    pruner: Pruner.hyperband({ minResource: 2, maxResource: 20 }),
    budget: { trials: 40, workers: 4, maxFailedTrials: 5, trialTimeout: Duration.hours(2), deadline: Duration.hours(24) },
    dashboard: true,
  });
}

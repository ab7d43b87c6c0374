// The example training pipeline: versioned data in, a GPU training step, a 2-node fine-tune, an
// evaluation gate, and the winning model registered in MLflow for an endpoint to serve. Nightly.
import { Chart } from 'cdk8s';
import { Cpu, Dataset, Duration, Size } from 'mlplatform';
import { MlPlatform, TrainingPipeline } from 'mlplatform/cdk8s';

const IMAGE = 'ghcr.io/acme/vision-train:2.3.1';

/** Adds the example training pipeline to `chart`, running in the platform's `vision` tenant. */
export function addTrainingPipeline(chart: Chart, platform: MlPlatform): TrainingPipeline {
  const pipeline = new TrainingPipeline(chart, 'resnet', {
    platform,
    namespace: 'vision',
    experiment: 'resnet50-imagenet',
    codeRevision: '4f6c2a1d9e0b7c3a5f8e2d1c0b9a8f7e6d5c4b3a',
    parameters: {
      epochs: { default: '30', description: 'Training epochs' },
      lr: { default: '0.1' },
    },
    // Nightly at 03:00 Berlin time; a run still going at the next tick keeps running alone.
    schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' },
    timeout: Duration.hours(12),
    onExit: { image: 'docker.io/curlimages/curl:8.11.1', command: ['sh', '-c', 'echo "run {{workflow.name}} ended: {{workflow.status}}"'] },
  });

  // Data pinned to a Git tag of the DVC repository, whose remote lives in the platform store.
  const prepare = pipeline.addStep('prepare', {
    image: IMAGE,
    command: ['python', '-m', 'vision.prepare'],
    inputs: { raw: Dataset.fromDvc({ repository: 'https://github.com/acme/vision-data.git', revision: 'v2024.05', path: 'imagenet/train', remote: 'dvc/vision' }) },
    outputs: ['shards'],
    cpu: Cpu.cores(4),
    memory: Size.gibibytes(16),
    ephemeralStorage: Size.gibibytes(100),
    cache: { maxAge: Duration.days(7) },
    retry: { limit: 2, policy: 'OnError' },
  });

  // One A10G: gets nvidia.com/gpu, the pool's node selector and toleration automatically.
  const train = pipeline.addStep('train', {
    after: [prepare],
    image: IMAGE,
    command: ['python', '-m', 'vision.train'],
    args: ['--epochs', pipeline.parameter('epochs'), '--lr', pipeline.parameter('lr')],
    inputs: { shards: prepare.artifact('shards') },
    outputs: ['model'],
    outputParameters: ['accuracy'],
    gpus: 1,
    accelerator: 'nvidia-a10g',
    cpu: Cpu.cores(6),
    memory: Size.gibibytes(24),
    sharedMemory: Size.gibibytes(8),
    ephemeralStorage: Size.gibibytes(100),
    timeout: Duration.hours(6),
    retry: { limit: 2, policy: 'OnError', backoff: { duration: Duration.minutes(1), factor: 2 } },
  });

  // Two H100 nodes × 8 GPUs: an Indexed Job + headless Service running torchrun, admitted all at once by Kueue.
  // It starts from the trained model (pulled into /mnt/inputs/model on every node) and node 0's
  // /mnt/outputs/model is uploaded where a single-node step's output would be.
  pipeline.addStep('finetune', {
    after: [train],
    image: IMAGE,
    command: ['-m', 'vision.finetune'],
    args: ['--epochs', pipeline.parameter('epochs')],
    inputs: {
      raw: Dataset.fromDvc({ repository: 'https://github.com/acme/vision-data.git', revision: 'v2024.05', path: 'imagenet/train', remote: 'dvc/vision' }),
      model: train.artifact('model'),
    },
    outputs: ['model'],
    nodes: 2,
    gpus: 8,
    accelerator: 'nvidia-h100-80gb',
    // 31 of the tenant's 64 cores per node: the outputs uploader beside the node requests 0.1.
    cpu: Cpu.cores(31),
    memory: Size.gibibytes(256),
    sharedMemory: Size.gibibytes(64),
    ephemeralStorage: Size.gibibytes(200),
    distributed: { restarts: 2 },
    timeout: Duration.hours(8),
  });

  // Only a model good enough is registered, with the alias an endpoint serves.
  pipeline.addStep('publish', {
    after: [train],
    when: `${train.output('accuracy')} > 0.75`,
    image: IMAGE,
    command: ['python', '-m', 'vision.export', '--accuracy', train.output('accuracy')],
    inputs: { model: train.artifact('model') },
    outputs: ['mlflowModel'],
    registerModel: { output: 'mlflowModel', name: 'resnet50', alias: 'candidate' },
  });
  // The DVC remote is filled by the data team's own jobs, not by a step: grant the read explicitly
  // (the data-access check of `cdk8s synth` fails otherwise).
  platform.storeLocation('dvc/vision').grantRead(pipeline);
  return pipeline;
}

// `addStep` validates and links only the new step (earlier steps can neither depend on it nor
// change); these tests prove it yields exactly what validating the whole pipeline at once yields —
// the same objects, the same ValidationError — and that a platform grown in between is seen.
import { Chart, Testing } from 'cdk8s';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { Cpu, Dataset, Duration, Size, StepDefinition } from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';

const IMAGE = 'ghcr.io/acme/train:2.3.1';

function platform(): { chart: Chart; ml: MlPlatform } {
  const chart = new Chart(Testing.app(), 'test');
  const ml = new MlPlatform(chart, 'ml');
  ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
  ml.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2 });
  ml.addTenant('vision', { quota: { gpus: { a10g: 4, h100: 16 }, cpu: Cpu.cores(200), memory: Size.gibibytes(2048) } });
  return { chart, ml };
}

/** The benchmark's pipeline shape, by step names: datasets, artifacts, outputs, `when`, a multi-node step, model registration. */
const STEPS: StepDefinition[] = [
  { name: 'prepare', image: IMAGE, inputs: { raw: Dataset.fromBucket({ prefix: 'datasets/events', version: 'v3' }) }, outputs: ['shards'], cache: { maxAge: Duration.days(7) } },
  { name: 'train', after: ['prepare'], image: IMAGE, args: ['--lr', '{{workflow.parameters.lr}}'], inputs: { shards: { step: 'prepare', output: 'shards' } }, outputs: ['model'], outputParameters: ['accuracy'], gpus: 1, pool: 'a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) },
  { name: 'finetune', after: ['train'], image: IMAGE, command: ['-m', 'trainer.finetune'], nodes: 2, gpus: 8, pool: 'h100', cpu: Cpu.cores(32), memory: Size.gibibytes(256) },
  { name: 'publish', after: ['train'], when: '{{tasks.train.outputs.parameters.accuracy}} > 0.75', image: IMAGE, inputs: { model: { step: 'train', output: 'model' } }, outputs: ['mlflowModel'], registerModel: { output: 'mlflowModel', name: 'm', alias: 'candidate' } },
];

function build(how: 'at once' | 'one by one', steps: StepDefinition[] = STEPS): { chart: Chart; pipeline: TrainingPipeline } {
  const { chart, ml } = platform();
  const props = { platform: ml, namespace: 'vision', parameters: { lr: { default: '0.1' } } };
  const pipeline = how === 'at once' ? new TrainingPipeline(chart, 'train', { ...props, steps }) : new TrainingPipeline(chart, 'train', props);
  if (how === 'one by one') for (const { name, ...options } of steps) pipeline.addStep(name, options);
  ml.storeLocation('datasets').grantRead(pipeline);
  return { chart, pipeline };
}

test('steps added one by one give the spec and the objects of the same steps given at once', () => {
  const once = build('at once');
  const added = build('one by one');
  expect(added.pipeline.spec).toEqual(once.pipeline.spec);
  const objects = Testing.synth(added.chart);
  expect(objects).toEqual(Testing.synth(once.chart));
  expectValidManifests(objects);
});

test('an invalid added step throws the ValidationError of the whole pipeline, and is not added', () => {
  const bad: StepDefinition[] = [
    // Reads an output "train" does not declare, and a parameter nobody declared.
    { name: 'eval', after: ['train'], image: IMAGE, args: ['{{workflow.parameters.nope}}'], inputs: { m: { step: 'train', output: 'weights' } } },
    // A second step of the same name.
    { name: 'train', image: IMAGE },
    // Collides with the task registering publish's model.
    { name: 'publish-register', image: IMAGE },
  ];
  for (const step of bad) {
    const all = [...STEPS, step];
    const atOnce = validationError(() => build('at once', all));
    const { pipeline } = build('one by one');
    const { name, ...options } = step;
    expect(validationError(() => pipeline.addStep(name, options)).message).toBe(atOnce.message);
    expect(pipeline.spec.steps.map((s) => s.name)).toEqual(STEPS.map((s) => s.name));
  }
});

test('a pool declared between two addStep calls is seen by the steps added after it', () => {
  const chart = new Chart(Testing.app(), 'test');
  const ml = new MlPlatform(chart, 'ml');
  ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
  ml.addTenant('vision', { quota: { gpus: { a10g: 4 } } });
  const p = new TrainingPipeline(chart, 'train', { platform: ml, namespace: 'vision' });
  p.addStep('a', { image: IMAGE, gpus: 1, accelerator: 'nvidia-a10g' });
  ml.addGpuPool('a10g-big', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 2 });
  // 6 cores fit only the g5.2xlarge pool's nodes: placement prefers the pool that holds the whole container.
  p.addStep('b', { image: IMAGE, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(6), memory: Size.gibibytes(16) });
  expect(p.spec.steps.map((s) => s.compute.gpu?.pool?.pool)).toEqual(['a10g', 'a10g-big']);
});

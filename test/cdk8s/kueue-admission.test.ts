// The synth-time Kueue admission check (issue #21 items 1 and 8): it runs Kueue 0.19's admission rules
// (sigs.k8s.io/kueue@v0.19.2, cited in src/core/checks/kueue.ts) on the objects the app synthesizes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { checkPlatform } from '../../src/cdk8s/checks';
import { MlPlatform, MlPlatformProps } from '../../src/cdk8s/ml-platform';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { TuningSweep } from '../../src/cdk8s/tuning-sweep';
import { Cpu, Size } from '../../src/core';
import { checkKueueAdmission, kueueObjects, kueueResourcesOf, queuedPodSets } from '../../src/core/checks';
import { chartsDir } from '../support/charts';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

/** A queued tenant `vision` with 2 A10G GPUs and 16 cores, a 2-worker GPU sweep and a 2-node multi-node step in it. */
function build(props: MlPlatformProps = {}, o: { workers?: number; gpuQuota?: number } = {}) {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const ml = new MlPlatform(chart, 'ml', props);
  ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 4 });
  ml.addTenant('vision', { quota: { cpu: Cpu.cores(16), memory: Size.gibibytes(64), gpus: { a10g: o.gpuQuota ?? 2 } }, queue: true });
  new TuningSweep(chart, 'lr', {
    platform: ml,
    namespace: 'vision',
    trial: { image: IMAGE, command: ['python', 'train.py'], gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) },
    parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 20, workers: o.workers ?? 2 },
    checks: { tenancy: 'warning', capacity: 'warning' },
  });
  return { app, chart, ml };
}

const objectsOf = (scope: Chart | App) => scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((c) => c.toJson());
const admission = (scope: Chart) => checkPlatform(scope).filter((f) => f.check === 'admission');

function synthError(chart: Chart): string {
  try {
    Testing.synth(chart);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synthesis to fail');
}

describe('Kueue admission of the queued workloads, on the synthesized objects', () => {
  test('the README example: the sweep workers Job and the multi-node step\'s Job (inside the WorkflowTemplate) are admitted', () => {
    const { chart } = buildExample(Testing.app());
    const objects = objectsOf(chart);
    const sets = queuedPodSets(objects);
    // Both queued Jobs are found, with every resource they request.
    expect(sets.map((p) => [p.source, p.queue, p.count])).toEqual(expect.arrayContaining([
      [expect.stringMatching(/^WorkflowTemplate vision\/resnet template "step-finetune" Job$/), 'vision', 2],
      [expect.stringMatching(/^Job vision\/resnet-sweep-workers-[0-9a-f]{8}$/), 'vision', expect.any(Number)],
    ]));
    for (const p of sets) expect(Object.keys(p.podSpec.containers[0].resources.requests)).toContain('ephemeral-storage');
    expect(checkKueueAdmission(sets, kueueObjects(objects))).toEqual([]);
    expect(admission(chart)).toEqual([]);
  });

  test('a ClusterQueue that does not cover ephemeral-storage (issue #21 item 1): synthesis fails with Kueue\'s own message', () => {
    const { chart } = build();
    const cq = chart.node.findAll().find((c): c is ApiObject => c instanceof ApiObject && c.kind === 'ClusterQueue')!;
    cq.addJsonPatch(JsonPatch.replace('/spec/resourceGroups/0/coveredResources', ['cpu', 'memory']));
    cq.addJsonPatch(JsonPatch.remove('/spec/resourceGroups/0/flavors/0/resources/2'));
    const message = synthError(chart);
    expect(message).toMatch(/error \(admission\): TuningSweep vision\/lr: Job vision\/lr-workers-[0-9a-f]{8} requests ephemeral-storage, but "resource ephemeral-storage unavailable in ClusterQueue" ml-vision /);
    expect(message).toContain('(its resource groups cover cpu, memory, nvidia.com/gpu): Kueue never admits it. Fix: cover ephemeral-storage in ClusterQueue "ml-vision", or exclude it in the Kueue configuration (`resources.excludeResourcePrefixes`)');
  });

  test('the same ClusterQueue with ephemeral-storage excluded in the Kueue configuration (the add-on\'s values): admitted', () => {
    const { chart } = build({ addons: { values: { kueue: { managerConfig: { controllerManagerConfigYaml: 'apiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nresources:\n  excludeResourcePrefixes: [ephemeral-storage]\n' } } } } });
    const cq = chart.node.findAll().find((c): c is ApiObject => c instanceof ApiObject && c.kind === 'ClusterQueue')!;
    cq.addJsonPatch(JsonPatch.replace('/spec/resourceGroups/0/coveredResources', ['cpu', 'memory']));
    cq.addJsonPatch(JsonPatch.remove('/spec/resourceGroups/0/flavors/0/resources/2'));
    expect(kueueObjects(objectsOf(chart)).resources).toEqual({ excludeResourcePrefixes: ['ephemeral-storage'] });
    expect(admission(chart)).toEqual([]);
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test('the chart\'s default configuration excludes nothing and blocks undeclared resources', () => {
    const values = parse(fs.readFileSync(path.join(chartsDir(), 'kueue', 'values.yaml'), 'utf8'));
    expect(typeof values.managerConfig.controllerManagerConfigYaml).toBe('string');
    expect(kueueResourcesOf(values)).toEqual({ excludeResourcePrefixes: [] });
  });

  test('quota per flavor: 3 workers × 1 GPU against a flavor quota of 2 GPUs is never admitted (all workers are one pod set)', () => {
    const { chart } = build({}, { workers: 3 });
    const found = admission(chart);
    expect(found.map((f) => f.message.replace(/-[0-9a-f]{8} /, ' '))).toEqual([
      'TuningSweep vision/lr: Job vision/lr-workers cannot be admitted by ClusterQueue "ml-vision" for nvidia.com/gpu: insufficient quota for nvidia.com/gpu in flavor ml-a10g: 3 pods request 3 > 2',
    ]);
    expect(synthError(chart)).toMatch(/error \(admission\): TuningSweep vision\/lr: Job vision\/lr-workers-[0-9a-f]{8} cannot be admitted/);
    // Within the quota: admitted.
    expect(admission(build({}, { workers: 2 }).chart)).toEqual([]);
  });

  test('a flavor whose node labels the pods do not match: Kueue tries the next flavor, and none is left', () => {
    const { chart } = build();
    const flavor = chart.node.findAll().find((c): c is ApiObject => c instanceof ApiObject && c.kind === 'ResourceFlavor' && c.name === 'ml-a10g')!;
    flavor.addJsonPatch(JsonPatch.replace('/spec/nodeLabels/mlplatform.io~1gpu-pool', 'h100'));
    expect(admission(chart).map((f) => f.message.replace(/-[0-9a-f]{8} /, ' '))).toEqual([
      'TuningSweep vision/lr: Job vision/lr-workers cannot be admitted by ClusterQueue "ml-vision" for nvidia.com/gpu: flavor ml-a10g doesn\'t match node affinity (mlplatform.io/gpu-pool=a10g; the flavor has mlplatform.io/gpu-pool=h100)',
    ]);
  });

  test('a multi-node step in a queued tenant: its Job is admitted within the quota, refused beyond it', () => {
    const step = (nodes: number) => {
      const { chart, ml } = build({}, { gpuQuota: 2 });
      new TrainingPipeline(chart, 'ddp', {
        platform: ml,
        namespace: 'vision',
        steps: [{ name: 'fit', image: IMAGE, command: ['-m', 'trainer'], nodes, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) }],
        checks: { tenancy: 'warning', capacity: 'warning' },
      });
      return admission(chart);
    };
    expect(step(2)).toEqual([]);
    expect(step(3).map((f) => f.message)).toEqual([
      'TrainingPipeline vision/ddp: WorkflowTemplate vision/ddp template "step-fit" Job cannot be admitted by ClusterQueue "ml-vision" for nvidia.com/gpu: insufficient quota for nvidia.com/gpu in flavor ml-a10g: 3 pods request 3 > 2',
    ]);
  });
});

// Issue #21 item 8: two constructs that emit the same object (same API group, kind, namespace and
// name) fail synthesis with a ValidationError naming both construct paths; cdk8s itself does not check it.
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { TuningSweep } from '../../src/cdk8s/tuning-sweep';
import { Cpu, Size, ValidationError } from '../../src/core';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

function platform(app: App = Testing.app()) {
  const chart = new Chart(app, 'platform');
  const ml = new MlPlatform(chart, 'ml');
  ml.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128) } });
  return { app, chart, ml };
}

const pipeline = (scope: Chart, ml: MlPlatform, id: string) =>
  new TrainingPipeline(scope, id, { platform: ml, namespace: 'vision', steps: [{ name: 'fit', image: IMAGE, command: ['python', 'fit.py'] }] });

/** The error `run` throws. */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('duplicate objects', () => {
  test('two pipelines named "p" in one namespace (two charts of one app): app.synth() and chart.toJson() fail naming both', () => {
    const { app, ml } = platform();
    pipeline(new Chart(app, 'team-a'), ml, 'p');
    pipeline(new Chart(app, 'team-b'), ml, 'p');
    for (const run of [() => app.synth(), () => Testing.synth(app.charts[1])]) {
      const e = thrown(run);
      expect(e).toBeInstanceOf(ValidationError);
      expect(e.message).toMatch(/^Synthesis: \d+ invalid props\n/);
      expect(e.message).toContain('  - `team-b/p/workflow-template` ("WorkflowTemplate vision/p"): emits the same object as team-a/p/workflow-template (same API group, kind, namespace and name)');
      expect((e as ValidationError).issues.map((i) => i.value)).toContain('ServiceAccount vision/p-workflow');
    }
  });

  test('a pipeline "x" and a sweep "x-workflow" both emit ServiceAccount vision/x-workflow', () => {
    const { app, chart, ml } = platform();
    pipeline(chart, ml, 'x');
    new TuningSweep(chart, 'x-workflow', {
      platform: ml,
      namespace: 'vision',
      trial: { image: IMAGE, command: ['python', 'train.py'] },
      parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 4, workers: 1 },
    });
    const e = thrown(() => app.synth()) as ValidationError;
    expect(e).toBeInstanceOf(ValidationError);
    const sa = e.issues.find((i) => i.value === 'ServiceAccount vision/x-workflow')!;
    expect(sa.path).toMatch(/^platform\/x-workflow\//);
    expect(sa.message).toMatch(/^emits the same object as platform\/x\/\S+ \(same API group, kind, namespace and name\)/);
  });

  test('the same name in another namespace, another kind or another API group is no duplicate; a JSON patch that renames one is seen', () => {
    const { app, chart } = platform();
    const raw = (id: string, apiVersion: string, kind: string, namespace: string, name: string) =>
      new ApiObject(chart, id, { apiVersion, kind, metadata: { name, namespace } });
    raw('a', 'v1', 'ConfigMap', 'vision', 'same');
    raw('b', 'v1', 'ConfigMap', 'other', 'same');
    raw('c', 'v1', 'Secret', 'vision', 'same');
    raw('d', 'example.com/v1', 'ConfigMap', 'vision', 'same');
    expect(() => app.synth()).not.toThrow();
    // Same group, another version: one object to the API server.
    raw('e', 'example.com/v2', 'ConfigMap', 'vision', 'same');
    expect(thrown(() => app.synth()).message).toContain('`platform/e` ("ConfigMap vision/same"): emits the same object as platform/d');
    chart.node.tryRemoveChild('e');
    // A JSON patch renames an object: its rendered name counts.
    raw('f', 'v1', 'ConfigMap', 'vision', 'unique').addJsonPatch(JsonPatch.replace('/metadata/name', 'same'));
    expect(thrown(() => app.synth()).message).toContain('`platform/f` ("ConfigMap vision/same"): emits the same object as platform/a');
  });
});

/**
 * Props that would carry text into structure another engine parses are refused with a
 * ValidationError naming the prop and the fix (issue #22). The run-time side of multi-node steps is
 * proven against Argo's own code in test/engine/argo-manifest.test.ts.
 */
import { Chart, Testing } from 'cdk8s';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { ValidationError } from '../../src/core/errors';
import { StepOptions } from '../../src/core/pipeline';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

/** The ValidationError `build` throws (fails the test when it throws nothing or something else). */
function validationError(build: () => unknown): ValidationError {
  try {
    build();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('no ValidationError');
}

function pipeline(step: Partial<StepOptions>, props: Record<string, unknown> = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const p = new TrainingPipeline(chart, 'llm', { namespace: 'team-a', ...props });
  p.addStep('train', { image: IMAGE, command: ['/app/train.py'], ...step });
  return Testing.synth(chart);
}

describe('multi-node steps: run variables whose text no expression can name are refused', () => {
  const multi: Partial<StepOptions> = { nodes: 2, gpus: 1, accelerator: 'nvidia-l4' };
  test.each(['{{node.name}}', '{{workflow.annotations.team}}'])('%s in args', (tag) => {
    const e = validationError(() => pipeline({ ...multi, args: [`--x=${tag}`] }));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'steps.train.args[0]', value: `--x=${tag}` })]);
    expect(e.message).toContain(`uses ${tag}, which cannot be passed into a multi-node step's Job; pass the value as a pipeline parameter instead`);
  });
  test('single-node steps keep them (Argo substitutes them into the pod spec as JSON)', () => {
    expect(() => pipeline({ args: ['{{node.name}}', '{{workflow.annotations.team}}'] })).not.toThrow();
  });
});

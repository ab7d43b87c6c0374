// Issue #22, part 2: run-time shape checks. A JavaScript caller has no compiler: a wrong type in any prop
// fails with a ValidationError naming the prop path, never a TypeError from deep inside (the shapes are
// generated from the declarations: src/core/prop-shapes-data.ts, `npx projen shapes`).
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { MlPlatform, ModelEndpoint, TrainingPipeline } from '../../src/cdk8s';
import { AddonDelivery, Cpu, Dataset, ModelSource, Scaling, Size, ValidationError } from '../../src/core';
import { shapesModuleText } from '../fuzz/prop-paths';
import { validationError as error } from '../support/errors';


function platform(props: Record<string, unknown> = {}) {
  const chart = new Chart(new App({ outdir: '/dev/null' }), 'c');
  return { chart, ml: new MlPlatform(chart, 'ml', props as never) };
}

describe('run-time shapes of the props', () => {
  test('the generated shapes are those of the current declarations (regenerate with `npx projen shapes`)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'core', 'prop-shapes-data.ts'), 'utf8');
    expect(committed).toBe(shapesModuleText());
  }, 60_000);

  test('a string where a Size is expected names the prop and how a Size is built', () => {
    const { ml } = platform();
    const e = error(() => ml.addTenant('vision', { quota: { memory: '64Gi' } } as never));
    expect(e.message).toContain('`options.quota.memory` ("64Gi"): must be a Size, built with Size.gibibytes(4) or Size.parse("512Mi"); not a string');
  });

  test('an object where a string is expected names the step path instead of a TypeError', () => {
    const { chart, ml } = platform();
    ml.addTenant('vision');
    const e = error(() => new TrainingPipeline(chart, 'p', { platform: ml, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0', args: [{}] }] } as never));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['steps[0].args[0]: must be a string, not an object']);
  });

  test('null options, NaN, Infinity and arrays for objects are named', () => {
    const { chart, ml } = platform();
    ml.addTenant('vision');
    const e = error(() => new ModelEndpoint(chart, 'e', {
      platform: ml,
      versions: [{ name: 'v1', model: ModelSource.uri('s3://b/m/', null as never) }],
      scaling: Scaling.fixed(NaN),
      startupBudget: [] as never,
    } as never));
    expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['versions[0].model', 'scaling.replicas', 'startupBudget']));
    expect(e.message).toContain('`scaling.replicas` (NaN): must be a finite number, not NaN');
  });

  test('a factory\'s wrong argument is reported where the value is used, under that prop\'s path', () => {
    const { ml } = platform();
    const e = error(() => platform({ addons: { delivery: AddonDelivery.argoCd(null as never) } }));
    expect(e.message).toContain('`addons.delivery` (null): must be an object, not null');
    const bucket = Dataset.fromBucket({ prefix: {} as never, version: 'v1' });
    const { chart } = { chart: ml.node.scope as Chart };
    ml.addTenant('vision');
    const e2 = error(() => new TrainingPipeline(chart, 'p', { platform: ml, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0', inputs: { d: bucket } }] }));
    expect(e2.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['steps[0].inputs.d.prefix: must be a string, not an object']);
  });

  test('Cpu.cores with an object fails with a ValidationError, not a TypeError', () => {
    expect(() => Cpu.cores({ valueOf: 'x' } as never)).toThrow(ValidationError);
    expect(() => Size.gibibytes({ toString: 'x' } as never)).toThrow(ValidationError);
  });

  test('add-on values that YAML cannot hold, or that would vanish, are named', () => {
    const e = error(() => platform({ addons: { values: { certManager: { prometheus: { enabled: undefined, since: new Date(0) } } } } }));
    expect(e.issues.map((i) => i.path)).toEqual(['addons.values.certManager.prometheus.enabled', 'addons.values.certManager.prometheus.since']);
    expect(e.message).toContain('key would be dropped from the chart values silently');
  });

  test('an empty pipeline fails synthesis with its own ValidationError, not an Error wrapped by cdk8s', () => {
    const { chart, ml } = platform();
    ml.addTenant('vision');
    new TrainingPipeline(chart, 'empty', { platform: ml });
    const e = error(() => Testing.synth(chart));
    expect(e.message).toBe('TrainingPipeline "empty": 1 invalid prop\n  - `steps` ([]): must have at least one step: give `steps` or call addStep()');
  });
});

import * as fc from 'fast-check';
import { Issues, ValidationError } from '../../src/core/errors';
import { isDnsLabel } from '../../src/core/names';
import {
  Dataset, findCycle, parameterRef, PipelineDefinition, PipelineStep, resolvePipeline, rewriteReferences, StepDefinition,
} from '../../src/core/pipeline';
import { CANONICAL_TIME_ZONES } from '../../src/core/pipeline/time-zones';
import { PlatformContext } from '../../src/core/platform/context';
import { resolveGpuPool } from '../../src/core/platform/pools';
import { resolveTenant } from '../../src/core/platform/tenants';
import { Duration } from '../../src/core/quantities';
import { validationError } from '../support/errors';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

const OWNER = {};

function def(steps: StepDefinition[], o: Partial<PipelineDefinition> = {}): PipelineDefinition {
  return { name: 'train', namespace: 'team-a', owner: OWNER, steps, ...o };
}

function context(): PlatformContext {
  const issues = new Issues('test');
  const pool = resolveGpuPool(issues, 'p', 'a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 })!;
  const tenant = resolveTenant(issues, 't', 'team-a', { queue: true }, [pool]);
  expect(issues.all).toEqual([]);
  return {
    name: 'ml',
    namespace: 'mlplatform',
    tracking: { uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'basic', podLabels: {}, port: 5000, credentials: { name: 'ml-tracking', keys: { username: 'username', password: 'password' } } },
    store: { root: 's3://ml-artifacts/team', bucket: 'ml-artifacts', prefix: 'team', region: 'us-east-1', insecure: true, port: 8333, endpoint: 'http://ml-s3.mlplatform.svc.cluster.local:8333' },
    database: { host: 'db', port: 5432, database: 'mlflow', sslMode: 'disable', credentials: { name: 'ml-database', keys: {} } },
    pools: [pool],
    tenants: [tenant],
    addons: new Set(['argoWorkflows', 'kueue']),
  };
}

/** The one issue of a failing definition, as `path`, value and message. */
function only(d: PipelineDefinition, ctx?: PlatformContext) {
  const e = validationError(() => resolvePipeline(d, ctx));
  expect(e.issues).toHaveLength(1);
  return e.issues[0];
}

describe('resolvePipeline: the ValidationErrors the issue lists', () => {
  test('a cycle in the DAG names the cycle and where to break it', () => {
    const e = validationError(() => resolvePipeline(def([
      { name: 'a', image: IMAGE, after: ['c'] },
      { name: 'b', image: IMAGE, after: ['a'] },
      { name: 'c', image: IMAGE, after: ['b'] },
    ])));
    expect(e.message).toBe([
      'TrainingPipeline "train": 1 invalid prop',
      '  - `steps.a.after` (["c"]): closes the cycle a → c → b → a; remove one of these dependencies',
    ].join('\n'));
  });

  test('a dependency on a step of another pipeline', () => {
    const other = new PipelineStep('prepare', 'other', {});
    expect(only(def([{ name: 'prepare', image: IMAGE }, { name: 'fit', image: IMAGE, after: [other] }]))).toEqual({
      path: 'steps.fit.after[0]',
      value: 'prepare',
      message: 'is step "prepare" of pipeline "other"; a step can only run after steps of its own pipeline',
    });
  });

  test('a duplicate step name', () => {
    expect(only(def([{ name: 'fit', image: IMAGE }, { name: 'eval', image: IMAGE }, { name: 'fit', image: IMAGE }]))).toEqual({
      path: 'steps[2].name',
      value: 'fit',
      message: 'is already the name of steps[0]; step names must be unique in a pipeline',
    });
  });

  test('an invalid cron expression', () => {
    expect(only(def([{ name: 'fit', image: IMAGE }], { schedule: { cron: '0 25 * * *' } }))).toEqual({
      path: 'schedule.cron',
      value: '0 25 * * *',
      message: 'hour field: "25" is outside 0-23',
    });
  });

  test('a GPU count that is not a positive whole number', () => {
    const e = validationError(() => resolvePipeline(def([{ name: 'fit', image: IMAGE, gpus: 1.5, accelerator: 'nvidia-a10g' }])));
    expect(e.message).toContain('`steps.fit.gpus` (1.5): must be a whole number ≥ 0 (GPUs cannot be fractional; use a MIG or time-sliced pool to share one)');
    expect(only(def([{ name: 'fit', image: IMAGE, gpus: -2 }])).path).toBe('steps.fit.gpus');
  });

  test('nodes > 1 without an accelerator', () => {
    expect(only(def([{ name: 'ddp', image: IMAGE, command: ['train.py'], nodes: 2 }]))).toEqual({
      path: 'steps.ddp.nodes',
      value: 2,
      message: 'needs an accelerator: a multi-node step runs torchrun with one process per GPU; set `gpus` ≥ 1 (and `accelerator` or `pool`), or use nodes: 1',
    });
  });

  test('a parameter referenced but not declared', () => {
    expect(only(def([{ name: 'fit', image: IMAGE, args: ['--lr', parameterRef('lr'), `--epochs=${parameterRef('epochs')}`] }], { parameters: { lr: { default: '0.1' } } }))).toEqual({
      path: 'steps.fit.args[2]',
      value: '--epochs={{workflow.parameters.epochs}}',
      message: 'references parameter "epochs", which is not declared; declare it in `parameters` (declared: lr)',
    });
  });
});

describe('resolvePipeline: other checks', () => {
  const prep = (o: Partial<StepDefinition> = {}): StepDefinition => ({ name: 'prep', image: IMAGE, outputs: ['data'], outputParameters: ['rows'], ...o });

  test('every issue is reported at once', () => {
    const e = validationError(() => resolvePipeline(def([
      { name: 'Fit', image: 'python' },
      { name: 'eval', image: 'python:latest', after: ['nope'], env: { MLFLOW_RUN_ID: 'x' } },
    ], { namespace: 'Bad_NS', schedule: { cron: '* * *' }, parallelism: 0 })));
    expect(e.issues.map((i) => i.path)).toEqual([
      'namespace', 'steps[0].name', 'steps[0].image', 'steps.eval.image', 'steps.eval.env.MLFLOW_RUN_ID', 'steps.eval.after[0]', 'schedule.cron', 'parallelism',
    ]);
  });

  test('outputs must come from an earlier step that declares them', () => {
    const read = (o: Partial<StepDefinition>) => only(def([prep(), { name: 'fit', image: IMAGE, ...o }]));
    expect(read({ args: ['{{tasks.prep.outputs.parameters.rows}}'] })).toMatchObject({ path: 'steps.fit.args[0]', message: 'reads step "prep", which does not run before it; add "prep" to `after`' });
    expect(read({ after: ['prep'], args: ['{{tasks.prep.outputs.parameters.cols}}'] }).message).toBe('step "prep" declares no output parameter "cols" (it has: rows); add it to its `outputParameters`');
    expect(read({ after: ['prep'], inputs: { d: { step: 'prep', output: 'model' } } })).toMatchObject({ path: 'steps.fit.inputs.d', message: 'step "prep" declares no output "model" (it has: data); add it to its `outputs`' });
    expect(read({ args: ['{{tasks.ghost.outputs.parameters.x}}'] }).message).toBe('references step "ghost", which is not a step of this pipeline');
    expect(read({ args: ['{{inputs.parameters.x}}'] }).message).toMatch(/^is not a reference mlplatform knows/);
    expect(read({ args: ['{{item}}'] }).message).toBe('uses {{item}}, but the step has no `forEach`');
  });

  test('a cached step may not read artifacts of an uncached one', () => {
    expect(only(def([prep(), { name: 'fit', image: IMAGE, after: ['prep'], inputs: { d: { step: 'prep', output: 'data' } }, cache: { maxAge: Duration.days(1) } }]))).toMatchObject({ path: 'steps.fit.cache', value: '24h' });
  });

  test('the namespace must be a tenant of the platform; by default the first tenant', () => {
    const ctx = context();
    expect(resolvePipeline(def([prep()], { namespace: undefined }), ctx)).toMatchObject({ namespace: 'team-a', queueName: 'team-a', artifactPrefix: 'team/pipelines/team-a/train' });
    expect(only(def([prep()], { namespace: 'other' }), ctx)).toEqual({ path: 'namespace', value: 'other', message: 'is not a tenant namespace of platform "ml"; use one of: team-a' });
    expect(only(def([prep()], { namespace: undefined }))).toMatchObject({ path: 'namespace', message: 'is required without a platform: give the namespace the pipeline runs in' });
  });

  test('multi-node steps: pool size, command, outputs, datasets', () => {
    const ctx = context();
    // Whether the pool holds `nodes` pods at once is a synth-time check now (test/cdk8s/checks.test.ts, schedulability).
    expect(resolvePipeline(def([{ name: 'ddp', image: IMAGE, command: ['t.py'], nodes: 8, gpus: 1, pool: 'a10g' }]), ctx).steps[0].nodes).toBe(8);
    expect(only(def([{ name: 'ddp', image: IMAGE, nodes: 2, gpus: 1 }]), ctx).path).toBe('steps.ddp.command');
    // Store inputs and outputs move through the step's own I/O containers (core/pipeline/io.ts): they need the platform's store.
    const ddp = { name: 'ddp', image: IMAGE, command: ['t.py'], nodes: 2, gpus: 1, accelerator: 'nvidia-a10g' };
    const io = resolvePipeline(def([prep(), { ...ddp, after: ['prep'], outputs: ['m'], inputs: { d: Dataset.fromBucket({ prefix: 'ds', version: 'v1' }), p: { step: 'prep', output: 'data' } } }]), ctx);
    expect(io.steps[1]).toMatchObject({ outputs: ['m'], inputs: [{ name: 'd', kind: 'dataset' }, { name: 'p', kind: 'artifact', step: 'prep', output: 'data' }] });
    expect(only(def([{ ...ddp, outputs: ['m'] }]))).toEqual({ path: 'steps.ddp.outputs', value: ['m'], message: 'of a multi-node step are uploaded to the platform\'s store, but no `platform` is given; give one' });
    expect(only(def([{ ...ddp, inputs: { d: Dataset.fromBucket({ prefix: 'ds', version: 'v1' }) } }]))).toMatchObject({ path: 'steps.ddp.inputs.d', value: 'ds@v1' });
    expect(only(def([{ ...ddp, outputParameters: ['loss'] }]), ctx)).toMatchObject({ path: 'steps.ddp.outputParameters', value: ['loss'] });
    expect(only(def([{ ...ddp, outputs: ['m'], cache: { maxAge: Duration.days(1) } }]), ctx)).toMatchObject({ path: 'steps.ddp.cache', value: '24h' });
    expect(only(def([{ ...ddp, outputs: ['m'], forEach: ['a', 'b'] }]), ctx)).toMatchObject({ path: 'steps.ddp.outputs', value: ['m'], message: expect.stringContaining('multi-node fan-out') });
    // A cached producer's outputs lie under the run that made them on a cache hit: a multi-node step could not find them.
    expect(only(def([{ ...prep(), cache: { maxAge: Duration.days(1) } }, { ...ddp, after: ['prep'], inputs: { p: { step: 'prep', output: 'data' } } }]), ctx))
      .toMatchObject({ path: 'steps.ddp.inputs.p', value: 'prep.data', message: expect.stringContaining('is an output of cached step "prep"') });
  });

  test('datasets: pinned versions, valid locations', () => {
    const ctx = context();
    const step = (d: Dataset): StepDefinition => ({ name: 'fit', image: IMAGE, inputs: { d } });
    expect(only(def([step(Dataset.fromDvc({ repository: 'https://git.example.com/data.git', revision: 'main', path: 'train' }))]), ctx)).toMatchObject({ path: 'steps.fit.inputs.d.revision', value: 'main' });
    expect(only(def([step(Dataset.fromBucket({ prefix: 'ds/cifar', version: 'latest' }))]), ctx)).toMatchObject({ path: 'steps.fit.inputs.d.version' });
    expect(only(def([step(Dataset.fromDvc({ repository: 'https://g/x.git', revision: 'v1', path: 'd', remote: 'dvc' }))]))).toMatchObject({ path: 'steps.fit.inputs.d.remote' });
    const ok = resolvePipeline(def([step(Dataset.fromDvc({ repository: 'https://g/x.git', revision: 'v1', path: 'd', remote: 'dvc/vision' }))]), ctx);
    expect(ok.steps[0].inputs[0]).toMatchObject({ kind: 'dataset', dataset: { kind: 'dvc', remoteUrl: 's3://ml-artifacts/team/dvc/vision', version: 'https://g/x.git@v1:d' } });
  });

  test('schedule parameters must be declared, and required parameters set', () => {
    const e = validationError(() => resolvePipeline(def([prep()], { parameters: { lr: {} }, schedule: { cron: '@daily', parameters: { epochs: '3' } } })));
    expect(e.issues.map((i) => [i.path, i.message.split(';')[0]])).toEqual([
      ['schedule.parameters.epochs', 'is not a parameter of the pipeline'],
      ['schedule.parameters.lr', 'is required: the parameter has no default, so scheduled runs must set it'],
    ]);
  });

  test('time zones: listed zones, zones only Intl knows, and no others', () => {
    const zone = (timezone: string) => resolvePipeline(def([prep()], { schedule: { cron: '@daily', timezone } })).schedule?.timezone;
    // Every listed zone is one the runtime's tz database knows (the list only saves asking it).
    for (const z of CANONICAL_TIME_ZONES.split(/\s+/).filter((x) => x !== '')) expect(() => new Intl.DateTimeFormat('en-US', { timeZone: z })).not.toThrow();
    expect(CANONICAL_TIME_ZONES.split(/\s+/).filter((x) => x !== '').length).toBeGreaterThan(400);
    expect(zone('Europe/Berlin')).toBe('Europe/Berlin');
    // Aliases and UTC are not in the list: Intl accepts them.
    expect(zone('US/Eastern')).toBe('US/Eastern');
    expect(zone('UTC')).toBe('UTC');
    expect(only(def([prep()], { schedule: { cron: '@daily', timezone: 'Mars/Olympus' } }))).toMatchObject({ path: 'schedule.timezone', value: 'Mars/Olympus' });
    expect(only(def([prep()], { schedule: { cron: '@daily', timezone: 'europe/berlin' } }))).toMatchObject({ path: 'schedule.timezone' });
  });

  test('model registration needs a platform and a declared output', () => {
    expect(only(def([prep({ registerModel: { output: 'data', name: 'm' } })])).message).toBe('needs a platform (its MLflow registry and object store); give `platform`');
    expect(only(def([prep({ registerModel: { output: 'model', name: 'm' } })]), context())).toMatchObject({ path: 'steps.prep.registerModel.output' });
  });
});

describe('resolvePipeline: template inputs', () => {
  test('a step gets one input per parameter, output and item it references', () => {
    const spec = resolvePipeline(def([
      { name: 'split', image: IMAGE, outputParameters: ['shards'] },
      { name: 'fit', image: IMAGE, after: ['split'], forEach: '{{tasks.split.outputs.parameters.shards}}', args: ['{{item.path}}', parameterRef('lr'), parameterRef('lr')] },
    ], { parameters: { lr: { default: '0.1' } } }));
    expect(spec.steps[1].parameterInputs.map((r) => r.text)).toEqual(['{{item.path}}', '{{workflow.parameters.lr}}']);
    expect(spec.steps[1].forEach).toEqual({ parameter: '{{tasks.split.outputs.parameters.shards}}' });
  });

  test('a cached step also keys on the inputs of the cached steps it reads from', () => {
    const cache = { maxAge: Duration.days(1) };
    const spec = resolvePipeline(def([
      { name: 'prep', image: IMAGE, outputs: ['data'], args: [parameterRef('rows')], cache },
      { name: 'fit', image: IMAGE, after: ['prep'], inputs: { data: { step: 'prep', output: 'data' } }, args: [parameterRef('lr')], cache },
    ], { parameters: { lr: { default: '0.1' }, rows: { default: '100' } } }));
    expect(spec.steps[1].parameterInputs.map((r) => r.text)).toEqual(['{{workflow.parameters.lr}}', '{{workflow.parameters.rows}}']);
  });

  test('rewriteReferences maps references to template inputs and leaves run variables', () => {
    expect(rewriteReferences('--lr={{workflow.parameters.lr}} {{tasks.a.outputs.parameters.acc}} {{item}} {{item.x}} {{workflow.name}}'))
      .toBe('--lr={{inputs.parameters.lr}} {{inputs.parameters.from-a-acc}} {{inputs.parameters.item}} {{inputs.parameters.item-x}} {{workflow.name}}');
  });
});

describe('properties', () => {
  /** A random DAG: step i may depend on any earlier step, so it is acyclic by construction. */
  const dag = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(
    fc.constant(n),
    fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: n, maxLength: n }),
    fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/), { minLength: n, maxLength: n }),
  ));

  test('any acyclic DAG validates, in any declaration order, with dependencies equal to `after`', () => {
    fc.assert(fc.property(dag, fc.func(fc.integer()), ([n, deps, rawNames], order) => {
      const names = rawNames.map((r, i) => `${r.slice(0, 30)}-${i}`);
      const after = deps.map((d, i) => (i === 0 ? [] : [...new Set(d.map((x) => names[x % i]))]));
      const steps = names.map((name, i) => ({ name, image: IMAGE, after: after[i] }));
      const shuffled = [...steps].sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
      const spec = resolvePipeline(def(shuffled));
      return spec.steps.length === n && spec.steps.every((s) => {
        const i = names.indexOf(s.name);
        return JSON.stringify(s.dependencies) === JSON.stringify(after[i]) && isDnsLabel(s.name);
      });
    }), { numRuns: 100 });
  });

  test('a ring of any length is one cycle, reported once with every step on it', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 10 }), (n) => {
      const names = Array.from({ length: n }, (_, i) => `s${i}`);
      const after = new Map(names.map((name, i) => [name, i === 0 ? [names[n - 1]] : [names[i - 1]]]));
      const cycle = findCycle(after);
      if (!cycle || cycle[0] !== cycle[cycle.length - 1] || cycle.length !== n + 1) return false;
      const e = validationError(() => resolvePipeline(def(names.map((name) => ({ name, image: IMAGE, after: after.get(name)! })))));
      return e.issues.length === 1 && e.issues[0].message === `closes the cycle ${[...cycle].join(' → ')}; remove one of these dependencies`;
    }));
  });

  test('step names that are not DNS labels are rejected with a valid suggestion', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 60 }), (name) => {
      try {
        resolvePipeline(def([{ name, image: IMAGE }]));
        return isDnsLabel(name) && name.length <= 40;
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        const i = e.issues.find((x) => x.path === 'steps[0].name');
        const suggestion = /for example "([^"]*)"/.exec(i?.message ?? '')?.[1];
        return i !== undefined && (suggestion === undefined || (isDnsLabel(suggestion) && suggestion.length <= 40));
      }
    }));
  });
});

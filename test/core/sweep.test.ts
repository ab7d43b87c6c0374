import { Duration, Issues, ValidationError } from '../../src/core';
import {
  defaultStudySchema, Pruner, resolveSearchSpace, resolveSweep, Sampler, SearchParameter, StudyStorage, SweepOptions, SweepSpec, sweepRuntimeConfig,
} from '../../src/core/sweep';
import { validationError } from '../support/errors';

const storage = StudyStorage.postgres({ host: 'db.example.com', database: 'optuna', username: { name: 'db', key: 'user' }, password: { name: 'db', key: 'password' } });

const base: SweepOptions = {
  trial: { image: 'ghcr.io/acme/train:1.4.2', command: ['python', 'train.py'] },
  parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
  objectives: [{ metric: 'loss', direction: 'minimize' }],
  budget: { trials: 20 },
  storage,
};

function resolve(o: Partial<SweepOptions> = {}): SweepSpec {
  const issues = new Issues('TuningSweep "s"');
  const spec = resolveSweep(issues, 's', 'team', { ...base, ...o });
  issues.throwIfAny();
  return spec;
}

function fails(o: Partial<SweepOptions>): ValidationError {
  return validationError(() => resolve(o));
}

/** The one issue at `path` (fails when there is none or several). */
function issueAt(e: ValidationError, path: string): string {
  const hits = e.issues.filter((i) => i.path === path);
  if (hits.length !== 1) throw new Error(`expected one issue at ${path}, got: ${e.message}`);
  return hits[0].message;
}

function spaceIssues(parameters: SearchParameter[]): Record<string, string> {
  const issues = new Issues('space');
  resolveSearchSpace(issues, 'parameters', parameters);
  return Object.fromEntries(issues.all.map((i) => [i.path, i.message]));
}

describe('search space: invalid spaces fail with the path and the fix', () => {
  test.each<[string, SearchParameter[], string, RegExp]>([
    ['int low ≥ high', [{ name: 'n', type: 'int', low: 5, high: 5 }], 'parameters[0].high', /must be greater than low \(5\)/],
    ['float low > high', [{ name: 'x', type: 'float', low: 2, high: 1 }], 'parameters[0].high', /must be greater than low \(2\)/],
    ['float log with low 0', [{ name: 'lr', type: 'float', low: 0, high: 1, log: true }], 'parameters[0].low', /must be > 0 on a log scale/],
    ['float log with a negative low', [{ name: 'lr', type: 'float', low: -1, high: 1, log: true }], 'parameters[0].low', /must be > 0 on a log scale/],
    ['int log with low 0', [{ name: 'n', type: 'int', low: 0, high: 8, log: true }], 'parameters[0].low', /must be ≥ 1 on a log scale/],
    ['empty choices', [{ name: 'opt', type: 'categorical', choices: [] }], 'parameters[0].choices', /must list at least one value/],
    ['duplicate choices', [{ name: 'opt', type: 'categorical', choices: ['sgd', 'adam', 'sgd'] }], 'parameters[0].choices[2]', /is listed twice/],
    ['condition on an unknown parameter', [{ name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'optimizer', equals: 'sgd' } }], 'parameters[0].when.parameter', /names no earlier parameter/],
    ['duplicate names', [{ name: 'lr', type: 'float', low: 0, high: 1 }, { name: 'lr', type: 'int', low: 1, high: 3 }], 'parameters[1].name', /duplicates parameter 0 \("lr"\)/],
    ['an invalid name', [{ name: '2fast', type: 'float', low: 0, high: 1 }], 'parameters[0].name', /must start with a letter or "_"/],
    ['float range not a whole number of steps', [{ name: 'x', type: 'float', low: 0, high: 1, step: 0.3 }], 'parameters[0].high', /whole number of steps .*silently lower/],
    ['int range not a whole number of steps', [{ name: 'n', type: 'int', low: 0, high: 10, step: 4 }], 'parameters[0].high', /silently lower it to 8/],
    ['log and step', [{ name: 'x', type: 'float', low: 1, high: 10, step: 1, log: true }], 'parameters[0].step', /left out on a log scale/],
    ['int log and step', [{ name: 'n', type: 'int', low: 1, high: 9, step: 2, log: true }], 'parameters[0].step', /must be 1 .* on a log scale/],
    ['a non-finite bound', [{ name: 'x', type: 'float', low: 0, high: Infinity }], 'parameters[0].high', /must be a finite number/],
    ['a fractional int bound', [{ name: 'n', type: 'int', low: 0.5, high: 3 }], 'parameters[0].low', /must be a whole number/],
    ['an unknown type', [{ name: 'x', type: 'double', low: 0, high: 1 } as unknown as SearchParameter], 'parameters[0].type', /"int", "float" or "categorical"/],
  ])('%s', (_, parameters, path, message) => {
    const got = spaceIssues(parameters);
    expect(got[path]).toMatch(message);
  });

  test('conditions: on a later, non-categorical or self parameter, on a value that is not a choice, with both equals and in', () => {
    const got = spaceIssues([
      { name: 'a', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'sgd' } },
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam', 1, true] },
      { name: 'b', type: 'float', low: 0, high: 1, when: { parameter: 'a', equals: 1 } },
      { name: 'c', type: 'float', low: 0, high: 1, when: { parameter: 'c', equals: 1 } },
      { name: 'd', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'rmsprop' } },
      { name: 'e', type: 'float', low: 0, high: 1, when: { parameter: 'opt', in: ['sgd', '1'] } },
      { name: 'f', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'sgd', in: ['adam'] } },
    ]);
    expect(got).toEqual({
      'parameters[0].when.parameter': expect.stringMatching(/names no earlier parameter .*declared earlier in the list\); known: \(none\)/),
      'parameters[2].when.parameter': expect.stringMatching(/names no earlier parameter/),
      'parameters[3].when.parameter': expect.stringMatching(/cannot depend on itself/),
      'parameters[4].when.equals': 'is not a choice of "opt" ("sgd", "adam", 1, true)',
      'parameters[5].when.in[1]': expect.stringMatching(/is not a choice of "opt"/), // "1" is not 1
      'parameters[6].when': 'give exactly one of `equals` or `in`',
    });
  });

  test('a condition on a numeric parameter is refused, naming why', () => {
    expect(spaceIssues([{ name: 'n', type: 'int', low: 1, high: 3 }, { name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'n', equals: 2 } }]))
      .toEqual({ 'parameters[1].when.parameter': 'must name a categorical parameter ("n" is int); make it categorical to branch on it' });
  });

  test('a valid space keeps its order, with defaults and conditions resolved', () => {
    const issues = new Issues('space');
    const out = resolveSearchSpace(issues, 'parameters', [
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      { name: 'momentum', type: 'float', low: 0, high: 0.9, step: 0.1, when: { parameter: 'opt', equals: 'sgd' } },
      { name: 'layers', type: 'int', low: 1, high: 4 },
    ]);
    expect(issues.ok).toBe(true);
    expect(out).toEqual([
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      { name: 'momentum', type: 'float', low: 0, high: 0.9, step: 0.1, log: false, when: { parameter: 'opt', values: ['sgd'] } },
      { name: 'layers', type: 'int', low: 1, high: 4, step: 1, log: false },
    ]);
  });

  test('an empty space is refused', () => {
    expect(issueAt(fails({ parameters: [] }), 'parameters')).toMatch(/at least one parameter/);
  });
});

describe('sampler and pruner combinations Optuna rejects or silently degrades', () => {
  const two = [{ metric: 'loss', direction: 'minimize' as const }, { metric: 'latency', direction: 'minimize' as const }];
  const cat: SearchParameter = { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] };

  test('a pruner with several objectives: pruning is single-objective only', () => {
    expect(issueAt(fails({ objectives: two, pruner: Pruner.median() }), 'pruner')).toBe(
      "cannot be used with 2 objectives: pruning is single-objective only (Optuna's trial.report() and pruners handle one intermediate value per step); use Pruner.none() or a single objective");
  });

  test('grid search over a float range without a step', () => {
    const e = fails({ sampler: Sampler.grid(), parameters: [cat, { name: 'x', type: 'float', low: 0, high: 1 }] });
    expect(issueAt(e, 'parameters[1].step')).toMatch(/is required with Sampler.grid\(\): "x" is a continuous float range, which has no finite set of grid points/);
  });

  test('grid search: conditional parameters and a budget beyond the grid', () => {
    const e = fails({
      sampler: Sampler.grid(),
      parameters: [cat, { name: 'm', type: 'float', low: 0, high: 0.5, step: 0.25, when: { parameter: 'opt', equals: 'sgd' } }],
      budget: { trials: 7 },
    });
    expect(issueAt(e, 'parameters[1].when')).toMatch(/a grid is a fixed product of every parameter/);
    expect(issueAt(e, 'budget.trials')).toBe('exceeds the grid size (6); grid search runs each point once, so ask for at most 6');
  });

  test('grid search defaults the budget to the grid size', () => {
    const spec = resolve({ sampler: Sampler.grid(), parameters: [cat, { name: 'n', type: 'int', low: 1, high: 7, step: 2 }, { name: 'x', type: 'float', low: 0, high: 1, step: 0.25 }], budget: {} });
    expect([spec.gridSize, spec.budget.trials]).toEqual([2 * 4 * 5, 40]);
  });

  test('CMA-ES and QMC with categorical or conditional parameters (they would fall back to random sampling)', () => {
    const cond: SearchParameter = { name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'sgd' } };
    const cma = fails({ sampler: Sampler.cmaEs(), parameters: [cat, cond] });
    expect(issueAt(cma, 'parameters[0].type')).toMatch(/cannot be searched by CMA-ES: Optuna would sample "opt" at random .* with only a warning/);
    expect(issueAt(cma, 'parameters[1].when')).toMatch(/CMA-ES cannot model/);
    expect(issueAt(fails({ sampler: Sampler.qmc(), parameters: [cat] }), 'parameters[0].type')).toMatch(/cannot be searched by QMC/);
  });

  test('CMA-ES with several objectives', () => {
    expect(issueAt(fails({ sampler: Sampler.cmaEs(), objectives: two }), 'sampler')).toMatch(/supports a single objective only .* use Sampler.nsgaII\(\)/);
  });

  test('constraints with a sampler that ignores them', () => {
    expect(issueAt(fails({ sampler: Sampler.random(), constraints: [{ metric: 'latency', max: 50 }] }), 'constraints'))
      .toBe('are not supported by the random sampler (Optuna would ignore them); use Sampler.tpe() or Sampler.nsgaII()');
  });

  test('a pruner without stdout metrics has no intermediate values', () => {
    expect(issueAt(fails({ pruner: Pruner.hyperband(), metrics: { stdout: false, jsonFile: true } }), 'pruner')).toMatch(/needs intermediate values/);
  });

  test('accepted: NSGA-II and TPE with several objectives and constraints; TPE with conditional parameters and a pruner', () => {
    expect(resolve({ sampler: Sampler.nsgaII(), objectives: two, constraints: [{ metric: 'mem', max: 4 }] }).sampler.kind).toBe('nsga2');
    expect(resolve({ objectives: two, constraints: [{ metric: 'mem', min: 1 }] }).sampler.kind).toBe('tpe');
    expect(resolve({ parameters: [cat, { name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'opt', in: ['sgd'] } }], pruner: Pruner.successiveHalving() }).pruner.kind)
      .toBe('successive-halving');
  });

  test('sampler settings', () => {
    const e = validationError(() => {
      const issues = new Issues('s');
      Sampler.tpe({ group: true, nStartupTrials: -1, seed: -3 })._resolve(issues, 'sampler', 1);
      Sampler.nsgaII({ populationSize: 1, mutationProb: 2 })._resolve(issues, 'sampler', 1);
      Sampler.cmaEs({ sigma0: 0, useSeparableCma: true, withMargin: true })._resolve(issues, 'sampler', 1);
      Sampler.qmc({ qmcType: 'latin' as 'sobol' })._resolve(issues, 'sampler', 1);
      issues.throwIfAny();
    });
    expect(e.issues.map((i) => i.path)).toEqual([
      'sampler.seed', 'sampler.nStartupTrials', 'sampler.group', 'sampler.populationSize', 'sampler.mutationProb', 'sampler.sigma0', 'sampler.withMargin', 'sampler.qmcType',
    ]);
    expect(issueAt(e, 'sampler.group')).toMatch(/needs `multivariate: true`/);
  });

  test('pruner settings', () => {
    const e = validationError(() => {
      const issues = new Issues('s');
      Pruner.percentile(120)._resolve(issues, 'p1');
      Pruner.hyperband({ minResource: 3, maxResource: 2, reductionFactor: 1 })._resolve(issues, 'p2');
      Pruner.threshold({})._resolve(issues, 'p3');
      Pruner.threshold({ lower: 2, upper: 1 })._resolve(issues, 'p4');
      Pruner.successiveHalving({ minResource: 0 })._resolve(issues, 'p5');
      Pruner.median({ intervalSteps: 0 })._resolve(issues, 'p6');
      issues.throwIfAny();
    });
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'p1.percentile: must be a number from 0 to 100',
      'p2.maxResource: must be greater than minResource (3)',
      'p2.reductionFactor: must be a whole number ≥ 2',
      'p3: give `lower`, `upper` or both',
      'p4.lower: must not exceed upper (1)',
      'p5.minResource: must be a whole number ≥ 1',
      'p6.intervalSteps: must be a whole number ≥ 1',
    ]);
  });
});

describe('budget, heartbeat, objectives, trial and storage', () => {
  test('one ValidationError lists every issue as `path` (value): fix', () => {
    const e = fails({
      budget: { workers: 30, maxFailedTrials: -1, trialTimeout: Duration.hours(2), deadline: Duration.hours(1) },
      heartbeat: { interval: Duration.seconds(60), gracePeriod: Duration.seconds(30) },
      objectives: [{ metric: 'step', direction: 'minimize' }],
      trial: { image: 'ghcr.io/acme/train:latest', command: [], args: ['--lr={{lrate}}'], env: { SWEEP_X: '1' }, workingDir: 'src' },
    });
    expect(e.message).toBe([
      'TuningSweep "s": 10 invalid props',
      '  - `objectives[0].metric` ("step"): must be a metric name: a letter or "_", then letters, digits, "_", ".", "-" or "/" (and not "step", which the output grammar reserves)',
      '  - `budget.trials` (undefined): is required: how many trials should finish (e.g. 50)',
      '  - `budget.maxFailedTrials` (-1): must be a whole number ≥ 0',
      '  - `budget.deadline` ("1h"): is shorter than one trial\'s timeout (2h); no trial could finish',
      '  - `heartbeat.gracePeriod` ("30s"): must exceed the interval (60s), or live trials would be failed as lost',
      '  - `trial.image` ("ghcr.io/acme/train:latest"): must be a pinned image reference (a tag other than "latest", or a digest), e.g. "ghcr.io/acme/train:1.4.2"',
      '  - `trial.command` ([]): must be a non-empty list of non-empty strings, e.g. ["python", "train.py"]',
      '  - `trial.args[0]` ("--lr={{lrate}}"): refers to "{{lrate}}", which is no parameter; known: lr',
      '  - `trial.env.SWEEP_X` ("1"): is reserved: the sweep sets SWEEP_* and MLFLOW_RUN_ID for each trial',
      '  - `trial.workingDir` ("src"): must be an absolute path',
    ].join('\n'));
  });

  test('more workers than trials', () => {
    expect(issueAt(fails({ budget: { trials: 2, workers: 3 } }), 'budget.workers')).toBe('exceeds the trials (2); extra workers would have nothing to do');
  });

  test('objectives and constraints', () => {
    const e = fails({
      objectives: [{ metric: 'loss', direction: 'minimize' }, { metric: 'loss', direction: 'down' as 'minimize', strategy: 'mean' as 'min' }],
      constraints: [{ metric: 'mem' }, { metric: 'lat', min: 5, max: 1 }],
      metrics: { stdout: false },
    });
    expect(e.issues.map((i) => i.path)).toEqual([
      'objectives[1].metric', 'objectives[1].direction', 'objectives[1].strategy', 'constraints[0]', 'constraints[1].min', 'metrics',
    ]);
  });

  test('a placeholder for a conditional parameter, secretEnv clashes, a relative working directory', () => {
    const e = fails({
      parameters: [{ name: 'opt', type: 'categorical', choices: ['sgd'] }, { name: 'm', type: 'float', low: 0, high: 1, when: { parameter: 'opt', equals: 'sgd' } }],
      trial: { image: 'ghcr.io/a/b:1', command: ['run'], args: ['--m={{m}}', '{{ opt }}'], env: { TOKEN: 'x' }, secretEnv: { TOKEN: { name: 's', key: 'k' } }, workingDir: 'src' },
    });
    expect(issueAt(e, 'trial.args[0]')).toMatch(/conditional parameter "m", which some trials do not have/);
    expect(issueAt(e, 'trial.secretEnv.TOKEN')).toBe('is also set in `env`; set each variable once');
    expect(issueAt(e, 'trial.workingDir')).toBe('must be an absolute path');
    expect(e.issues.some((i) => i.path === 'trial.args[1]')).toBe(false);
  });

  test('storage: the platform database needs a platform; a PostgreSQL server is checked', () => {
    expect(issueAt(fails({ storage: undefined }), 'storage')).toMatch(/needs `platform` .* StudyStorage.postgres/);
    const e = fails({ storage: StudyStorage.postgres({ host: 'db', port: 70000, database: 'a b', username: { name: 'db', key: '' }, password: { name: 'Db', key: 'p' }, schema: 'Optuna' }) });
    expect(e.issues.map((i) => i.path)).toEqual(['storage.port', 'storage.database', 'storage.username.key', 'storage.password.name', 'storage.schema']);
  });

  test('defaults: study name, experiment, schema, failure budget, retries, heartbeat, TPE constant liar with parallel workers', () => {
    const spec = resolve({ budget: { trials: 50, workers: 4 } });
    expect(spec.study).toBe('team/s');
    expect(spec.experiment).toBe('team/s');
    expect(spec.storage).toMatchObject({ kind: 'postgres', port: 5432, sslMode: 'require', schema: 'optuna_team' });
    expect(spec.budget).toEqual({ trials: 50, workers: 4, maxFailedTrials: 5, retries: 3, trialTimeoutSeconds: undefined, deadlineSeconds: undefined });
    expect(spec.heartbeat).toEqual({ intervalSeconds: 60, gracePeriodSeconds: 120 });
    expect(spec.sampler).toEqual({ kind: 'tpe', seed: undefined, settings: { constant_liar: true } });
    expect(resolve().sampler.settings).toEqual({ constant_liar: false });
    expect(spec.trial.compute.cpu.toString()).toBe('500m');
  });

  test('QMC workers share one sequence: a seed derived from the study name', () => {
    const a = resolve({ sampler: Sampler.qmc({ scramble: true }) });
    expect(a.sampler.seed).toEqual(resolve({ sampler: Sampler.qmc({ scramble: true }) }).sampler.seed);
    expect(resolve({ sampler: Sampler.qmc({ seed: 7 }) }).sampler.seed).toBe(7);
  });

  test('the default schema is a PostgreSQL identifier per namespace', () => {
    expect(defaultStudySchema('vision-team')).toBe('optuna_vision_team');
    const long = defaultStudySchema('a'.repeat(63));
    expect(long).toMatch(/^optuna_a+_[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(63);
  });

  test('the runtime configuration omits undefined fields and carries the tracking experiment', () => {
    const spec = resolve({ constraints: [{ metric: 'mem', max: 2 }], budget: { trials: 5, trialTimeout: Duration.minutes(10) } });
    const config = sweepRuntimeConfig(spec, true);
    expect(config.constraints).toEqual([{ metric: 'mem', max: 2, strategy: 'latest' }]);
    expect(config.budget).toEqual({ trials: 5, workers: 1, maxFailedTrials: 3, retries: 3, trialTimeoutSeconds: 600 });
    expect(config.tracking).toEqual({ experiment: 'team/s' });
    expect(sweepRuntimeConfig(spec, false).tracking).toBeNull();
    expect(JSON.stringify(config)).not.toContain('undefined');
  });
});

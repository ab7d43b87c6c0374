// Arbitraries of TuningSweep props: search spaces (int, float, log, step, categorical, conditional)
// with the samplers and pruners Optuna accepts for them, objectives, budgets, storage, Katib output.
import * as fc from 'fast-check';
import { compact, dnsLabel, duration, host, image, secretRef } from './common';
import { appHost, checkSeverities, type PlatformFacts } from './ml-platform';
import { cpuCompute, gpuPlacement, landsOn } from './workload';
import type { TuningSweepProps } from '../../../src/cdk8s';
import { Duration, Exposure, Pruner, Sampler, SearchParameter, StudyStorage } from '../../../src/core';

/** A sweep declaration: construct id and props (without `platform`). */
export interface SweepConfig {
  readonly id: string;
  readonly props: Omit<TuningSweepProps, 'platform'>;
}

type Kind = 'tpe' | 'random' | 'grid' | 'cmaes' | 'nsga2' | 'qmc';

const intParam = (name: string, finite: boolean) => fc.record({
  low: fc.integer({ min: 1, max: 50 }), span: fc.integer({ min: 1, max: 20 }), step: fc.integer({ min: 1, max: 4 }), log: fc.boolean(),
}).map(({ low, span, step, log }): SearchParameter => (log && !finite
  ? { name, type: 'int', low, high: low + span, log: true }
  : { name, type: 'int', low, high: low + span * step, ...(step > 1 ? { step } : {}) }));

const floatParam = (name: string, finite: boolean) => fc.record({
  low: fc.integer({ min: 1, max: 100 }), span: fc.integer({ min: 1, max: 10 }), log: fc.boolean(),
}).map(({ low, span, log }): SearchParameter => (finite
  ? { name, type: 'float', low: low / 4, high: low / 4 + span * 0.25, step: 0.25 }
  : log ? { name, type: 'float', low: low * 1e-5, high: low * 1e-5 * (1 + span), log: true } : { name, type: 'float', low: -low / 10, high: span }));

const choices = fc.oneof(
  fc.uniqueArray(fc.constantFrom('sgd', 'adamw', 'adam', 'lion'), { minLength: 1, maxLength: 3 }),
  fc.uniqueArray(fc.constantFrom(16, 32, 64, 128), { minLength: 1, maxLength: 3 }),
  fc.constant([true, false]),
);

/** A search space suited to `kind`: conditional and categorical parameters only where the sampler models them. */
export function searchSpace(kind: Kind, forKatib: boolean): fc.Arbitrary<SearchParameter[]> {
  const finite = kind === 'grid';
  const categorical = kind !== 'cmaes' && kind !== 'qmc';
  const conditional = categorical && kind !== 'grid' && !forKatib;
  const one = (i: number) => fc.oneof(intParam(`p${i}`, finite), floatParam(`p${i}`, finite),
    ...(categorical ? [choices.map((c): SearchParameter => ({ name: `p${i}`, type: 'categorical', choices: c }))] : []));
  return fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => one(i)), fc.boolean(), fc.boolean()).map((xs) => {
    const ps = xs.slice(0, n) as SearchParameter[];
    const useIn = xs[n + 1] as boolean;
    if (!conditional || !xs[n]) return ps;
    // A parameter that exists only for one (or some) choices of an earlier categorical one.
    const parent = ps.find((p) => p.type === 'categorical') as Extract<SearchParameter, { type: 'categorical' }> | undefined;
    if (!parent) return ps;
    return [...ps, {
      name: 'momentum',
      type: 'float',
      low: 0.5,
      high: 0.99,
      when: useIn ? {
        parameter: parent.name,
        in: [...parent.choices],
      } : { parameter: parent.name, equals: parent.choices[0] },
    } as SearchParameter];
  }));
}

function gridSize(ps: readonly SearchParameter[]): number {
  return ps.reduce((n, p) => n * (p.type === 'categorical' ? p.choices.length : Math.round((p.high - p.low) / (p.step ?? 1)) + 1), 1);
}

const samplerOf = (kind: Kind, katib: boolean): fc.Arbitrary<Sampler | undefined> => {
  const seed = fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined });
  switch (kind) {
    case 'tpe': return fc.oneof(fc.constant(undefined), fc.record({
      nStartupTrials: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      nEiCandidates: fc.option(fc.integer({ min: 1, max: 48 }), { nil: undefined }),
      multivariate: fc.option(fc.boolean(), { nil: undefined }),
      group: katib ? fc.constant(undefined) : fc.option(fc.boolean(), { nil: undefined }),
      constantLiar: fc.option(fc.boolean(), { nil: undefined }),
      seed,
    })
      .map((o) => Sampler.tpe(compact({ ...o, group: o.group && o.multivariate ? true : undefined }))));
    case 'random': return seed.map((s) => Sampler.random(compact({ seed: s })));
    case 'grid': return seed.map((s) => Sampler.grid(compact({ seed: s })));
    case 'cmaes': return fc.record({
      sigma0: fc.option(fc.double({ min: 0.01, max: 5, noNaN: true }), { nil: undefined }),
      nStartupTrials: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      sep: fc.constantFrom<'sep' | 'margin' | 'none'>('sep', 'margin', 'none'),
      seed,
    })
      .map((o) => Sampler.cmaEs(compact({
        sigma0: o.sigma0,
        nStartupTrials: o.nStartupTrials,
        seed: o.seed,
        ...(katib || o.sep === 'none' ? {} : o.sep === 'sep' ? { useSeparableCma: true } : { withMargin: true }),
      })));
    case 'nsga2': return fc.record({
      populationSize: fc.option(fc.integer({ min: 2, max: 100 }), { nil: undefined }),
      mutationProb: fc.option(fc.double({
        min: 0,
        max: 1,
        noNaN: true,
      }), { nil: undefined }),
      crossoverProb: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      swappingProb: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      seed,
    })
      .map((o) => Sampler.nsgaII(compact(o)));
    case 'qmc': return fc.record({
      qmcType: katib ? fc.constant(undefined) : fc.option(fc.constantFrom('sobol', 'halton') as fc.Arbitrary<'sobol'>,
        { nil: undefined }),
      scramble: katib ? fc.constant(undefined) : fc.option(fc.boolean(), { nil: undefined }),
      seed,
    })
      .map((o) => Sampler.qmc(compact(o)));
  }
};

const prunerArb = (katib: boolean): fc.Arbitrary<Pruner | undefined> => (katib
  ? fc.constantFrom(undefined, Pruner.none(), Pruner.median({ nStartupTrials: 3 }))
  : fc.oneof(
    fc.constant(undefined),
    fc.constant(Pruner.none()),
    fc.record({
      nStartupTrials: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
      nWarmupSteps: fc.option(fc.integer({ min: 0, max: 10 }),
        { nil: undefined }),
      intervalSteps: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      nMinTrials: fc.option(fc.integer({ min: 1, max: 5 }),
        { nil: undefined }),
    }).map((o) => Pruner.median(compact(o))),
    fc.tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined })).map(([p, n]) => Pruner.percentile(p,
      compact({ nWarmupSteps: n }))),
    fc.record({
      minResource: fc.option(fc.oneof(fc.constant('auto' as const), fc.integer({ min: 1, max: 5 })), { nil: undefined }),
      reductionFactor: fc.option(fc.integer({ min: 2, max: 5 }), { nil: undefined }),
      minEarlyStoppingRate: fc.option(fc.integer({ min: 0, max: 3 }),
        { nil: undefined }),
    }).map((o) => Pruner.successiveHalving(compact(o))),
    fc.record({
      minResource: fc.integer({ min: 1, max: 5 }),
      extra: fc.option(fc.oneof(fc.constant('auto' as const), fc.integer({ min: 1, max: 50 })),
        { nil: undefined }),
      reductionFactor: fc.option(fc.integer({ min: 2, max: 5 }), { nil: undefined }),
    })
      .map((o) => Pruner.hyperband(compact({
        minResource: o.minResource,
        maxResource: o.extra === 'auto' ? 'auto' as const : o.extra === undefined ? undefined : o.minResource + o.extra,
        reductionFactor: o.reductionFactor,
      }))),
    fc.tuple(fc.option(fc.integer({ min: -10, max: 0 }), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined })).map(([lower,
      upper]) => Pruner.threshold(compact({ lower, upper: upper ?? (lower === undefined ? 5 : undefined) }))),
  ));

/** Sweep props for platform `f`. */
export function sweepConfig(f: PlatformFacts, index: number): fc.Arbitrary<SweepConfig> {
  return fc.record({
    name: dnsLabel(14),
    tenant: fc.constantFrom(...f.tenants),
    engine: fc.constantFrom<'optuna' | 'katib'>('optuna', 'optuna', 'optuna', 'katib'),
    kind: fc.constantFrom<Kind>('tpe', 'tpe', 'random', 'grid', 'cmaes', 'nsga2', 'qmc'),
  }).chain((r) => {
    const katib = r.engine === 'katib';
    const kind: Kind = katib && r.kind === 'nsga2' ? 'tpe' : r.kind;
    const tenantPools = f.pools.filter((p) => (r.tenant.gpus[p.pool] ?? 0) > 0);
    const multiOk = kind !== 'cmaes' && !katib;
    return fc.record({
      parameters: searchSpace(kind, katib),
      sampler: samplerOf(kind, katib),
      objectives: fc.integer({ min: 1, max: multiOk ? 2 : 1 }).map((n) => [
        { metric: 'val_loss', direction: 'minimize' as const },
        { metric: 'latency_ms', direction: 'minimize' as const, strategy: 'latest' as const },
      ].slice(0, n).map((o, i) => (i === 0 ? { ...o, strategy: 'min' as const } : o))),
      constraints: (kind === 'tpe' || kind === 'nsga2') && !katib ? fc.option(fc.constant([{ metric: 'model_mb', max: 200 }, {
        metric: 'accuracy',
        min: 0.5,
        max: 1,
      }]), { nil: undefined }) : fc.constant(undefined),
      metrics: fc.constantFrom<{ stdout?: boolean; jsonFile?: boolean } | undefined>(undefined, { stdout: true }, { stdout: false, jsonFile: true },
        { jsonFile: true }, { stdout: true, jsonFile: true }),
      pruner: prunerArb(katib),
      compute: cpuCompute,
      gpu: tenantPools.length ? fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, {
        weight: 1,
        arbitrary: gpuPlacement(f, tenantPools,
          2),
      }) : fc.constant(undefined),
      trial: fc.record({
        image,
        command: fc.constantFrom(['python', 'train.py'], ['python', '-m', 'trainer']),
        parametersAs: fc.option(fc.constantFrom('flags', 'env', 'flags-and-env') as fc.Arbitrary<'flags'>, { nil: undefined }),
        env: fc.option(fc.dictionary(fc.constantFrom('EPOCHS', 'DATA_DIR', 'log.level'), fc.constantFrom('20', '/data', 'info'), { maxKeys: 2 }), { nil: undefined }),
        secretEnv: fc.option(fc.dictionary(fc.constantFrom('HF_TOKEN', 'WANDB_API_KEY'), secretRef, { maxKeys: 1 }), { nil: undefined }),
        workingDir: fc.option(fc.constantFrom('/app', '/workspace/src'), { nil: undefined }),
        argRef: fc.boolean(),
      }, { requiredKeys: ['image', 'command', 'argRef'] }),
      workers: fc.integer({ min: 1, max: 4 }),
      trials: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      maxFailedTrials: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      trialTimeout: fc.option(duration(60, 6 * 3600), { nil: undefined }),
      deadline: katib ? fc.constant(undefined) : fc.option(duration(6 * 3600, 72 * 3600), { nil: undefined }),
      retries: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      heartbeat: fc.option(fc.tuple(fc.integer({ min: 5, max: 120 }), fc.integer({ min: 1, max: 300 })).map(([i, g]) => ({
        interval: Duration.seconds(i),
        grace: i + g,
      })), { nil: undefined }),
      studyName: fc.option(fc.constantFrom('resnet/lr-search', 'nightly sweep'), { nil: undefined }),
      experiment: fc.option(fc.constantFrom('sweeps', 'Resnet sweeps'), { nil: undefined }),
      storage: katib ? fc.constant(undefined) : fc.oneof(
        fc.constant(undefined),
        fc.option(fc.constantFrom('optuna_custom', 'studies'), { nil: undefined }).map((schema) => StudyStorage.platform(compact({ schema }))),
        fc.record({
          host: fc.constantFrom('optuna-db.example.com', '10.1.2.3'),
          port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
          database: fc.constantFrom('optuna', 'studies'),
          username: secretRef,
          password: secretRef,
          sslMode: fc.option(fc.constantFrom('disable',
            'require') as fc.Arbitrary<'require'>, { nil: undefined }),
        }, {
          requiredKeys: ['host', 'database', 'username',
            'password'],
        }).map((o) => StudyStorage.postgres(o)),
        secretRef.map((ref) => StudyStorage.fromSecret(ref)),
      ),
      tracking: fc.option(fc.boolean(), { nil: undefined }),
      dashboard: katib ? fc.constant(undefined) : fc.option(fc.oneof(
        fc.constant(true as const),
        // Reached through the platform Gateway's apps listener for its host (no `gateway`) when it has one,
        // else a named Gateway, or an Ingress (whose controller namespace must be allowed).
        ...(f.apps ? [{ weight: 3, arbitrary: fc.tuple(dnsLabel(10), fc.nat(5)).map(([label, pick]) => ({ exposure: Exposure.gateway({ host: appHost(f, `d${index}-${label}`, pick)! }) })) }] : []),
        fc.record({ host, name: dnsLabel(10), namespace: dnsLabel(12) }).map((g) => ({
          exposure: Exposure.gateway({ host: g.host, gateway: { name: g.name, namespace: g.namespace } }),
          allowFromNamespaces: [g.namespace],
        })),
        fc.record({ host, className: fc.constantFrom('nginx', 'traefik') }).map((i) => ({ exposure: Exposure.ingress(i), allowFromNamespaces: ['ingress-controllers'] })),
      ), { nil: undefined }),
      images: fc.option(fc.record({ optuna: image, dashboard: image }, { requiredKeys: [] }), { nil: undefined, freq: 4 }),
      checks: fc.option(checkSeverities, { nil: undefined, freq: 4 }),
      queue: fc.option(fc.boolean(), { nil: undefined }),
      runAsUser: fc.option(fc.integer({ min: 1, max: 65534 }), { nil: undefined }),
    }).map((o) => {
      const single = o.objectives.length === 1;
      let metrics = o.metrics;
      const pruner = single ? o.pruner : undefined;
      // Pruners need stdout metric lines (stdout is read unless `stdout: false`).
      if (pruner && pruner.kind !== 'none' && metrics?.stdout === false) metrics = { stdout: true, jsonFile: true };
      // Katib's collector reads one source.
      if (katib && metrics?.jsonFile && metrics.stdout !== false) metrics = { stdout: true };
      const grid = kind === 'grid' ? gridSize(o.parameters) : undefined;
      let trials = o.trials;
      if (grid !== undefined && trials !== undefined && trials > grid) trials = grid;
      const total = trials ?? grid ?? 1;
      const needTrials = trials === undefined && grid === undefined;
      if (needTrials) trials = Math.max(o.workers, 10);
      const placement = o.gpu;
      const pool = placement ? landsOn(f, placement) : undefined;
      let workers = Math.min(o.workers, trials ?? total);
      if (pool && placement) {
        workers = Math.max(1, Math.min(workers, Math.floor(pool.allocatablePerNode / placement.gpus) * pool.maxNodes,
          Math.floor((r.tenant.gpus[pool.pool] ?? 0) / placement.gpus)));
      }
      const unconditional = o.parameters.find((p) => !p.when);
      const hb = o.heartbeat;
      return {
        id: `w${index}-${r.name}`,
        props: compact({
          namespace: r.tenant.namespace,
          engine: katib ? 'katib' as const : undefined,
          trial: compact({
            image: o.trial.image,
            command: o.trial.command,
            parametersAs: o.trial.parametersAs,
            env: o.trial.env,
            secretEnv: o.trial.secretEnv && Object.fromEntries(Object.entries(o.trial.secretEnv).filter(([k]) => !(k in (o.trial.env ?? {})))),
            workingDir: o.trial.workingDir,
            args: o.trial.argRef && unconditional ? ['--epochs=20', `--tag={{${unconditional.name}}}`] : undefined,
            ...(placement ?? o.compute),
          }),
          parameters: o.parameters,
          objectives: o.objectives,
          constraints: o.constraints,
          metrics,
          sampler: o.sampler,
          pruner,
          budget: compact({ trials, workers, maxFailedTrials: o.maxFailedTrials, trialTimeout: o.trialTimeout, deadline: o.deadline, retries: o.retries }),
          heartbeat: hb ? { interval: hb.interval, gracePeriod: Duration.seconds(hb.grace) } : undefined,
          studyName: o.studyName,
          experiment: o.experiment,
          storage: o.storage,
          tracking: o.tracking,
          dashboard: o.dashboard,
          images: o.images && Object.keys(o.images).length ? o.images : undefined,
          checks: o.checks,
          queue: o.queue && r.tenant.queue && f.config.props.addons?.kueue !== false ? true : o.queue === false ? false : undefined,
          runAsUser: o.runAsUser,
        }) as SweepConfig['props'],
      };
    });
  });
}

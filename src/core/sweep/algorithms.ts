import { Issues } from '../errors';
import { checkFactoryArgs } from '../prop-shapes';

/** Settings of the TPE sampler (Optuna's default). */
export interface TpeOptions {
  /** Random trials before TPE models the results. @default 10 */
  readonly nStartupTrials?: number;
  /** Candidates scored per suggestion. @default 24 */
  readonly nEiCandidates?: number;
  /** Model the parameters jointly (multivariate TPE). @default false */
  readonly multivariate?: boolean;
  /** With `multivariate`, model conditional parameters in groups. @default false */
  readonly group?: boolean;
  /**
   * Treat running trials as bad results so parallel workers do not propose the same point.
   * @default true when the sweep has more than one worker
   */
  readonly constantLiar?: boolean;
  /** Seed (each worker adds its index). @default random */
  readonly seed?: number;
}

/** Settings of the CMA-ES sampler (int and float parameters only, single objective). */
export interface CmaEsOptions {
  /** Initial step size. @default Optuna's (a sixth of the widest range) */
  readonly sigma0?: number;
  /** Random trials before CMA-ES starts. @default 1 */
  readonly nStartupTrials?: number;
  /** Separable CMA-ES (diagonal covariance; faster in many dimensions). @default false */
  readonly useSeparableCma?: boolean;
  /** CMA-ES with margin, for integer and stepped parameters. @default false */
  readonly withMargin?: boolean;
  /** Seed (each worker adds its index). @default random */
  readonly seed?: number;
}

/** Settings of the NSGA-II sampler (the usual choice for several objectives). */
export interface NsgaIIOptions {
  /** Individuals per generation (at least 2). @default 50 */
  readonly populationSize?: number;
  /** Mutation probability. @default 1 / number of parameters */
  readonly mutationProb?: number;
  /** Crossover probability. @default 0.9 */
  readonly crossoverProb?: number;
  /** Probability of swapping each parameter during crossover. @default 0.5 */
  readonly swappingProb?: number;
  /** Seed (each worker adds its index). @default random */
  readonly seed?: number;
}

/** Settings of the quasi-Monte Carlo sampler (int and float parameters only). */
export interface QmcOptions {
  /** Low-discrepancy sequence. @default 'sobol' */
  readonly qmcType?: 'sobol' | 'halton';
  /** Randomize the sequence. @default false */
  readonly scramble?: boolean;
  /** Seed, shared by every worker (they walk one sequence). @default derived from the study name */
  readonly seed?: number;
}

/** A validated sampler: its kind and the settings passed to Optuna (snake_case). */
export interface SamplerSpec {
  readonly kind: 'tpe' | 'random' | 'grid' | 'cmaes' | 'nsga2' | 'qmc';
  /** The seed, when given. */
  readonly seed?: number;
  /** Keyword arguments of the Optuna sampler (besides seed, search space and constraints). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
}

type SamplerOptions = { kind: 'tpe'; o: TpeOptions } | { kind: 'random'; o: { seed?: number } } | { kind: 'grid'; o: { seed?: number } }
| { kind: 'cmaes'; o: CmaEsOptions } | { kind: 'nsga2'; o: NsgaIIOptions } | { kind: 'qmc'; o: QmcOptions };

function checkInt(issues: Issues, path: string, v: unknown, min: number): void {
  if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min)) issues.add(path, v, `must be a whole number ≥ ${min}`);
}

function checkProbability(issues: Issues, path: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) issues.add(path, v, 'must be a probability from 0 to 1');
}

function checkBool(issues: Issues, path: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') issues.add(path, v, 'must be true or false');
}

function checkSeed(issues: Issues, path: string, seed: unknown): void {
  if (seed !== undefined && !(Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) < 2 ** 31)) issues.add(path, seed, 'must be a whole number from 0 to 2^31 - 1');
}

/** Drops undefined settings. */
function defined(o: Record<string, string | number | boolean | undefined>): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
}

/** How the next trial's parameters are chosen (Optuna samplers). */
export class Sampler {
  /** Tree-structured Parzen Estimator: Optuna's default; single or several objectives; constraints. */
  public static tpe(options: TpeOptions = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'tpe', o: options }), 'Sampler.tpe', { options });
  }
  /** Independent uniform sampling (a baseline; any number of objectives). */
  public static random(options: { readonly seed?: number } = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'random', o: options }), 'Sampler.random', { options });
  }
  /**
   * Every combination once (GridSampler). Needs every parameter discrete (categorical, int, or float
   * with `step`) and unconditional; the trial budget defaults to the grid size and may not exceed it.
   */
  public static grid(options: { readonly seed?: number } = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'grid', o: options }), 'Sampler.grid', { options });
  }
  /** CMA-ES: strong for continuous spaces; int and float parameters only, one objective, no constraints. */
  public static cmaEs(options: CmaEsOptions = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'cmaes', o: options }), 'Sampler.cmaEs', { options });
  }
  /** NSGA-II: the genetic algorithm for several objectives; supports constraints. */
  public static nsgaII(options: NsgaIIOptions = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'nsga2', o: options }), 'Sampler.nsgaII', { options });
  }
  /** Quasi-Monte Carlo (Sobol or Halton): even coverage of int and float parameters. */
  public static qmc(options: QmcOptions = {}): Sampler {
    return checkFactoryArgs(new Sampler({ kind: 'qmc', o: options }), 'Sampler.qmc', { options });
  }

  private constructor(private readonly options: SamplerOptions) {}

  /** The sampler's kind. */
  public get kind(): SamplerSpec['kind'] {
    return this.options.kind;
  }

  /** @internal validates the settings (not the combination with the space: see `resolveSweep`). */
  public _resolve(issues: Issues, path: string, workers: number): SamplerSpec {
    const { kind, o } = this.options;
    checkSeed(issues, `${path}.seed`, o.seed);
    switch (kind) {
      case 'tpe':
        checkInt(issues, `${path}.nStartupTrials`, o.nStartupTrials, 0);
        checkInt(issues, `${path}.nEiCandidates`, o.nEiCandidates, 1);
        checkBool(issues, `${path}.multivariate`, o.multivariate);
        checkBool(issues, `${path}.group`, o.group);
        checkBool(issues, `${path}.constantLiar`, o.constantLiar);
        if (o.group && !o.multivariate) issues.add(`${path}.group`, o.group, 'needs `multivariate: true` (Optuna rejects group without multivariate)');
        return {
          kind,
          seed: o.seed,
          settings: defined({
            n_startup_trials: o.nStartupTrials,
            n_ei_candidates: o.nEiCandidates,
            multivariate: o.multivariate,
            group: o.group,
            constant_liar: o.constantLiar ?? workers > 1,
          }),
        };
      case 'cmaes':
        if (o.sigma0 !== undefined && !(typeof o.sigma0 === 'number' && Number.isFinite(o.sigma0) && o.sigma0 > 0)) issues.add(`${path}.sigma0`, o.sigma0, 'must be a number > 0');
        checkInt(issues, `${path}.nStartupTrials`, o.nStartupTrials, 0);
        checkBool(issues, `${path}.useSeparableCma`, o.useSeparableCma);
        checkBool(issues, `${path}.withMargin`, o.withMargin);
        if (o.useSeparableCma && o.withMargin) issues.add(`${path}.withMargin`, o.withMargin, 'cannot be combined with useSeparableCma (Optuna rejects it); choose one');
        return { kind, seed: o.seed, settings: defined({ sigma0: o.sigma0, n_startup_trials: o.nStartupTrials, use_separable_cma: o.useSeparableCma, with_margin: o.withMargin }) };
      case 'nsga2':
        checkInt(issues, `${path}.populationSize`, o.populationSize, 2);
        checkProbability(issues, `${path}.mutationProb`, o.mutationProb);
        checkProbability(issues, `${path}.crossoverProb`, o.crossoverProb);
        checkProbability(issues, `${path}.swappingProb`, o.swappingProb);
        return {
          kind,
          seed: o.seed,
          settings: defined({ population_size: o.populationSize, mutation_prob: o.mutationProb, crossover_prob: o.crossoverProb, swapping_prob: o.swappingProb }),
        };
      case 'qmc':
        if (o.qmcType !== undefined && o.qmcType !== 'sobol' && o.qmcType !== 'halton') issues.add(`${path}.qmcType`, o.qmcType, 'must be "sobol" or "halton"');
        checkBool(issues, `${path}.scramble`, o.scramble);
        return { kind, seed: o.seed, settings: defined({ qmc_type: o.qmcType, scramble: o.scramble }) };
      default:
        return { kind, seed: o.seed, settings: {} };
    }
  }
}

/** Settings shared by the median and percentile pruners. */
export interface MedianPrunerOptions {
  /** Trials that finish before any is pruned. @default 5 */
  readonly nStartupTrials?: number;
  /** Steps of a trial before it may be pruned. @default 0 */
  readonly nWarmupSteps?: number;
  /** Check every this many steps. @default 1 */
  readonly intervalSteps?: number;
  /** Trials that must have reported a step before it is compared. @default 1 */
  readonly nMinTrials?: number;
}

/** Settings of successive halving (asynchronous, ASHA). */
export interface SuccessiveHalvingOptions {
  /** Steps before the first rung, or 'auto'. @default 'auto' */
  readonly minResource?: number | 'auto';
  /** Keep 1 / reductionFactor at each rung (≥ 2). @default 4 */
  readonly reductionFactor?: number;
  /** Skip this many rungs. @default 0 */
  readonly minEarlyStoppingRate?: number;
}

/** Settings of Hyperband. */
export interface HyperbandOptions {
  /** Steps before the first rung. @default 1 */
  readonly minResource?: number;
  /** Steps of a full trial, or 'auto' (the most any trial reported). @default 'auto' */
  readonly maxResource?: number | 'auto';
  /** Keep 1 / reductionFactor at each rung (≥ 2). @default 3 */
  readonly reductionFactor?: number;
}

/** Settings of the threshold pruner: stop a trial whose metric leaves [lower, upper]. */
export interface ThresholdPrunerOptions {
  /** Prune below this value. @default none */
  readonly lower?: number;
  /** Prune above this value. @default none */
  readonly upper?: number;
  /** Steps of a trial before it may be pruned. @default 0 */
  readonly nWarmupSteps?: number;
  /** Check every this many steps. @default 1 */
  readonly intervalSteps?: number;
}

/** A validated pruner. */
export interface PrunerSpec {
  readonly kind: 'none' | 'median' | 'percentile' | 'successive-halving' | 'hyperband' | 'threshold';
  /** Keyword arguments of the Optuna pruner. */
  readonly settings: Readonly<Record<string, string | number>>;
}

type PrunerOptions = { kind: 'none' } | { kind: 'median'; o: MedianPrunerOptions } | { kind: 'percentile'; percentile: number; o: MedianPrunerOptions }
| { kind: 'successive-halving'; o: SuccessiveHalvingOptions } | { kind: 'hyperband'; o: HyperbandOptions } | { kind: 'threshold'; o: ThresholdPrunerOptions };

/**
 * How unpromising trials are stopped early, from the intermediate values they report (Optuna
 * pruners). Pruning is single-objective only.
 */
export class Pruner {
  /** No pruning: every trial runs to the end. */
  public static none(): Pruner {
    return new Pruner({ kind: 'none' });
  }
  /** Stop a trial whose value is worse than the median of earlier trials at the same step. */
  public static median(options: MedianPrunerOptions = {}): Pruner {
    return checkFactoryArgs(new Pruner({ kind: 'median', o: options }), 'Pruner.median', { options });
  }
  /** Stop a trial outside the best `percentile` % of earlier trials at the same step. */
  public static percentile(percentile: number, options: MedianPrunerOptions = {}): Pruner {
    return checkFactoryArgs(new Pruner({ kind: 'percentile', percentile, o: options }), 'Pruner.percentile', { percentile, options });
  }
  /** Asynchronous successive halving (ASHA). */
  public static successiveHalving(options: SuccessiveHalvingOptions = {}): Pruner {
    return checkFactoryArgs(new Pruner({ kind: 'successive-halving', o: options }), 'Pruner.successiveHalving', { options });
  }
  /** Hyperband: several successive-halving brackets. */
  public static hyperband(options: HyperbandOptions = {}): Pruner {
    return checkFactoryArgs(new Pruner({ kind: 'hyperband', o: options }), 'Pruner.hyperband', { options });
  }
  /** Stop a trial whose value leaves [lower, upper] (or is NaN). */
  public static threshold(options: ThresholdPrunerOptions): Pruner {
    return checkFactoryArgs(new Pruner({ kind: 'threshold', o: options }), 'Pruner.threshold', { options });
  }

  private constructor(private readonly options: PrunerOptions) {}

  /** The pruner's kind. */
  public get kind(): PrunerSpec['kind'] {
    return this.options.kind;
  }

  /** @internal validates the settings. */
  public _resolve(issues: Issues, path: string): PrunerSpec {
    const p = this.options;
    switch (p.kind) {
      case 'none':
        return { kind: 'none', settings: {} };
      case 'median':
      case 'percentile': {
        const o = p.o;
        checkInt(issues, `${path}.nStartupTrials`, o.nStartupTrials, 0);
        checkInt(issues, `${path}.nWarmupSteps`, o.nWarmupSteps, 0);
        checkInt(issues, `${path}.intervalSteps`, o.intervalSteps, 1);
        checkInt(issues, `${path}.nMinTrials`, o.nMinTrials, 1);
        const common = defined({
          n_startup_trials: o.nStartupTrials, n_warmup_steps: o.nWarmupSteps, interval_steps: o.intervalSteps, n_min_trials: o.nMinTrials,
        }) as Record<string, number>;
        if (p.kind === 'median') return { kind: 'median', settings: common };
        if (!(typeof p.percentile === 'number' && p.percentile >= 0 && p.percentile <= 100)) issues.add(`${path}.percentile`, p.percentile, 'must be a number from 0 to 100');
        return { kind: 'percentile', settings: { percentile: p.percentile, ...common } };
      }
      case 'successive-halving': {
        const o = p.o;
        if (o.minResource !== undefined && o.minResource !== 'auto') checkInt(issues, `${path}.minResource`, o.minResource, 1);
        checkInt(issues, `${path}.reductionFactor`, o.reductionFactor, 2);
        checkInt(issues, `${path}.minEarlyStoppingRate`, o.minEarlyStoppingRate, 0);
        const settings = defined({ min_resource: o.minResource, reduction_factor: o.reductionFactor, min_early_stopping_rate: o.minEarlyStoppingRate });
        return { kind: p.kind, settings: settings as Record<string, string | number> };
      }
      case 'hyperband': {
        const o = p.o;
        checkInt(issues, `${path}.minResource`, o.minResource, 1);
        if (o.maxResource !== undefined && o.maxResource !== 'auto') {
          checkInt(issues, `${path}.maxResource`, o.maxResource, 1);
          if (Number.isInteger(o.maxResource) && o.maxResource <= (o.minResource ?? 1)) issues.add(`${path}.maxResource`, o.maxResource, `must be greater than minResource (${o.minResource ?? 1})`);
        }
        checkInt(issues, `${path}.reductionFactor`, o.reductionFactor, 2);
        const settings = defined({ min_resource: o.minResource, max_resource: o.maxResource, reduction_factor: o.reductionFactor });
        return { kind: p.kind, settings: settings as Record<string, string | number> };
      }
      case 'threshold': {
        const o = p.o ?? {};
        for (const k of ['lower', 'upper'] as const) {
          if (o[k] !== undefined && !(typeof o[k] === 'number' && Number.isFinite(o[k]))) issues.add(`${path}.${k}`, o[k], 'must be a finite number');
        }
        if (o.lower === undefined && o.upper === undefined) issues.add(path, o, 'give `lower`, `upper` or both');
        if (typeof o.lower === 'number' && typeof o.upper === 'number' && o.lower > o.upper) issues.add(`${path}.lower`, o.lower, `must not exceed upper (${o.upper})`);
        checkInt(issues, `${path}.nWarmupSteps`, o.nWarmupSteps, 0);
        checkInt(issues, `${path}.intervalSteps`, o.intervalSteps, 1);
        return { kind: 'threshold', settings: defined({ lower: o.lower, upper: o.upper, n_warmup_steps: o.nWarmupSteps, interval_steps: o.intervalSteps }) as Record<string, number> };
      }
    }
  }
}

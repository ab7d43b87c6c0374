import { Pruner, PrunerSpec, Sampler, SamplerSpec } from './algorithms';
import { MetricConstraint, MetricsOptions, Objective, ObjectivesSpec, resolveObjectives } from './objectives';
import { ParameterSpec, resolveSearchSpace, SearchParameter, valueCount } from './search-space';
import { StudyStorage, StudyStorageSpec } from './storage';
import { Issues } from '../errors';
import { shortHash } from '../names';
import { PlatformContext } from '../platform/context';
import { Duration } from '../quantities';
import { checkNamespace, WORKLOAD_NAMESPACE_FIX } from '../reserved';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';
import { checkText } from '../text';
import { isPinnedImage } from '../versions';
import { checkEnvValue, ComputeOptions, ComputeSpec, resolveCompute } from '../workload';

/** How a trial's parameters reach its command. */
export type ParameterPassing = 'flags' | 'env' | 'flags-and-env';

/** The user's trial: an image with a shell and their code, the command, and its resources. */
export interface TrialOptions extends ComputeOptions {
  /** Image with the training code and a POSIX shell (`/bin/sh`, `sleep`); pinned (no `latest`). */
  readonly image: string;
  /** The command, e.g. `['python', 'train.py']`. */
  readonly command: readonly string[];
  /** Fixed arguments; `{{name}}` is replaced by the value of (unconditional) parameter `name`. @default [] */
  readonly args?: readonly string[];
  /**
   * How parameters are passed: `--name=value` flags appended to the arguments, environment
   * variables `SWEEP_PARAM_<NAME>` (upper case), or both. `SWEEP_PARAMS_JSON` always holds them all.
   * @default 'flags-and-env'
   */
  readonly parametersAs?: ParameterPassing;
  /** Extra environment variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra environment variables read from Secrets in the sweep's namespace. @default {} */
  readonly secretEnv?: Readonly<Record<string, SecretKeyRef>>;
  /** Working directory of the command. @default the image's */
  readonly workingDir?: string;
}

/** Trials, parallelism, failures and time. */
export interface SweepBudget {
  /** Finished (complete or pruned) trials the sweep runs. Required, except with grid search (the grid size). */
  readonly trials?: number;
  /** Workers running trials in parallel (an Indexed Job's `parallelism`). @default 1 */
  readonly workers?: number;
  /** Trials that may fail (non-zero exit, timeout, missing metric) before the sweep stops and its Job fails. @default max(3, 10 % of trials) */
  readonly maxFailedTrials?: number;
  /** A trial running longer is stopped and counted failed. @default no limit */
  readonly trialTimeout?: Duration;
  /** The sweep stops starting trials after this long (running ones are stopped). @default no limit */
  readonly deadline?: Duration;
  /** Times a trial lost with its worker (pod deleted, node gone) is retried with the same parameters. @default 3 */
  readonly retries?: number;
}

/** Optuna's RDB heartbeat: how a trial whose worker died is noticed. */
export interface HeartbeatOptions {
  /** How often a running trial records a heartbeat. @default Duration.seconds(60) */
  readonly interval?: Duration;
  /** A running trial silent this long is failed and retried; must exceed `interval`. @default Duration.seconds(120) */
  readonly gracePeriod?: Duration;
}

/** Everything a sweep declares, independent of Kubernetes. */
export interface SweepOptions {
  /** The trial. */
  readonly trial: TrialOptions;
  /** The search space, in order (a conditional parameter follows the parameter it depends on). */
  readonly parameters: readonly SearchParameter[];
  /** One objective, or several (then a Pareto front is searched). */
  readonly objectives: readonly Objective[];
  /** Constraints on other metrics (TPE and NSGA-II only). @default none */
  readonly constraints?: readonly MetricConstraint[];
  /** Where metrics are read from. @default { stdout: true } */
  readonly metrics?: MetricsOptions;
  /** @default Sampler.tpe() */
  readonly sampler?: Sampler;
  /** @default Pruner.none() */
  readonly pruner?: Pruner;
  /** Trials, workers, failures, time. */
  readonly budget?: SweepBudget;
  /** Optuna study name. @default `<namespace>/<name>` */
  readonly studyName?: string;
  /** MLflow experiment trials are logged to. @default the study name */
  readonly experiment?: string;
  /** Heartbeat of running trials. @default 60 s interval, 120 s grace period */
  readonly heartbeat?: HeartbeatOptions;
  /** Study storage. @default StudyStorage.platform() */
  readonly storage?: StudyStorage;
}

/** CPU, memory and ephemeral storage of the Optuna worker container beside each trial (Python, Optuna, NumPy). */
export const SWEEP_WORKER_RESOURCES = { cpuMillicores: 100, cpuLimitMillicores: 1000, memoryMiB: 512, ephemeralStorageMiB: 256 } as const;

/** The validated sweep: what the renderers and the Optuna program use. */
export interface SweepSpec {
  readonly name: string;
  readonly namespace: string;
  readonly study: string;
  readonly experiment: string;
  readonly trial: {
    readonly image: string;
    readonly command: readonly string[];
    readonly args: readonly string[];
    readonly parametersAs: ParameterPassing;
    readonly env: Readonly<Record<string, string>>;
    readonly secretEnv: Readonly<Record<string, SecretKeyRef>>;
    readonly workingDir?: string;
    readonly compute: ComputeSpec;
  };
  readonly parameters: readonly ParameterSpec[];
  readonly objectives: ObjectivesSpec['objectives'];
  readonly constraints: ObjectivesSpec['constraints'];
  readonly metrics: ObjectivesSpec['metrics'];
  readonly sampler: SamplerSpec;
  readonly pruner: PrunerSpec;
  readonly budget: {
    readonly trials: number;
    readonly workers: number;
    readonly maxFailedTrials: number;
    readonly retries: number;
    readonly trialTimeoutSeconds?: number;
    readonly deadlineSeconds?: number;
  };
  readonly heartbeat: { readonly intervalSeconds: number; readonly gracePeriodSeconds: number };
  /** The study storage (undefined for a Katib Experiment, which keeps trials in Katib's database). */
  readonly storage?: StudyStorageSpec;
  /** The grid size, with grid search. */
  readonly gridSize?: number;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;
/** Largest grid accepted (every worker keeps the grid in memory). */
export const MAX_GRID_SIZE = 1_000_000;

function wholeAtLeast(issues: Issues, path: string, v: unknown, min: number): boolean {
  if (!(Number.isInteger(v) && (v as number) >= min)) {
    issues.add(path, v, `must be a whole number ≥ ${min}`);
    return false;
  }
  return true;
}

/**
 * Validates a sweep into its spec: the search space, objectives, sampler and pruner and the
 * combinations Optuna rejects or silently degrades, the budget, the trial, the storage, and — with
 * a platform — the tenant namespace, GPU placement and what the pool and the tenant quota can hold.
 * Records every problem in `issues`; the result is only meaningful when `issues.ok`. With
 * `options.storage: false` (a Katib Experiment) the study storage is not resolved.
 */
export function resolveSweep(issues: Issues, name: string, namespace: string, o: SweepOptions, ctx?: PlatformContext, options: { readonly storage?: boolean } = {}): SweepSpec {
  checkText(issues, '', Object.assign({}, o, { platform: undefined }));
  if (checkNamespace(issues, 'namespace', namespace, WORKLOAD_NAMESPACE_FIX) && ctx && !ctx.tenants.some((t) => t.namespace === namespace)) {
    issues.add('namespace', namespace, `must be a tenant namespace of platform "${ctx.name}" (it has: ${ctx.tenants.map((t) => t.namespace).join(', ') || 'no tenant'}); add the tenant first with addTenant()`);
  }
  const parameters = resolveSearchSpace(issues, 'parameters', o.parameters);
  const obj = resolveObjectives(issues, o.objectives, o.constraints, o.metrics);
  const b = o.budget ?? {};
  const workers = b.workers ?? 1;
  wholeAtLeast(issues, 'budget.workers', workers, 1);
  const sampler = (o.sampler ?? Sampler.tpe())._resolve(issues, 'sampler', Number.isInteger(workers) ? workers : 1);
  const pruner = (o.pruner ?? Pruner.none())._resolve(issues, 'pruner');
  const gridSize = checkCombinations(issues, o, parameters, obj, sampler, pruner);

  let trials = b.trials ?? gridSize;
  if (trials === undefined) {
    issues.add('budget.trials', b.trials, 'is required: how many trials should finish (e.g. 50)');
    trials = 1;
  } else if (wholeAtLeast(issues, 'budget.trials', trials, 1)) {
    if (gridSize !== undefined && trials > gridSize) issues.add('budget.trials', trials, `exceeds the grid size (${gridSize}); grid search runs each point once, so ask for at most ${gridSize}`);
    if (Number.isInteger(workers) && workers > trials) issues.add('budget.workers', workers, `exceeds the trials (${trials}); extra workers would have nothing to do`);
  }
  const maxFailedTrials = b.maxFailedTrials ?? Math.max(3, Math.ceil(trials / 10));
  wholeAtLeast(issues, 'budget.maxFailedTrials', maxFailedTrials, 0);
  const retries = b.retries ?? 3;
  wholeAtLeast(issues, 'budget.retries', retries, 0);
  const trialTimeoutSeconds = b.trialTimeout?.toSeconds();
  const deadlineSeconds = b.deadline?.toSeconds();
  if (trialTimeoutSeconds !== undefined && trialTimeoutSeconds < 1) issues.add('budget.trialTimeout', b.trialTimeout?.toString(), 'must be at least 1s');
  if (deadlineSeconds !== undefined && deadlineSeconds < 1) issues.add('budget.deadline', b.deadline?.toString(), 'must be at least 1s');
  if (trialTimeoutSeconds !== undefined && deadlineSeconds !== undefined && deadlineSeconds < trialTimeoutSeconds) {
    issues.add('budget.deadline', b.deadline?.toString(), `is shorter than one trial's timeout (${b.trialTimeout}); no trial could finish`);
  }

  const interval = o.heartbeat?.interval?.toSeconds() ?? 60;
  const grace = o.heartbeat?.gracePeriod?.toSeconds() ?? Math.max(120, interval * 2);
  if (interval < 1) issues.add('heartbeat.interval', o.heartbeat?.interval?.toString(), 'must be at least 1s');
  if (grace <= interval) issues.add('heartbeat.gracePeriod', o.heartbeat?.gracePeriod?.toString(), `must exceed the interval (${interval}s), or live trials would be failed as lost`);

  const trial = resolveTrial(issues, o.trial, parameters, ctx);
  const study = o.studyName ?? `${namespace}/${name}`;
  if (typeof study !== 'string' || study.length === 0 || study.length > 512) issues.add('studyName', o.studyName, 'must be a non-empty string of at most 512 characters');
  const experiment = o.experiment ?? study;
  if (typeof experiment !== 'string' || experiment.trim().length === 0 || experiment.length > 500) issues.add('experiment', o.experiment, 'must be a non-empty MLflow experiment name of at most 500 characters');
  const storage = options.storage === false ? undefined : (o.storage ?? StudyStorage.platform())._resolve(issues, 'storage', ctx, namespace);
  const seededSampler = sampler.kind === 'qmc' && sampler.seed === undefined ? Object.assign({}, sampler, { seed: parseInt(shortHash(study), 16) % 2 ** 31 }) : sampler;

  return {
    name,
    namespace,
    study,
    experiment,
    trial,
    parameters,
    objectives: obj.objectives,
    constraints: obj.constraints,
    metrics: obj.metrics,
    sampler: seededSampler,
    pruner,
    budget: { trials, workers, maxFailedTrials, retries, trialTimeoutSeconds, deadlineSeconds },
    heartbeat: { intervalSeconds: interval, gracePeriodSeconds: grace },
    storage,
    gridSize,
  };
}

/** The sampler × search space × objectives × pruner combinations Optuna rejects or silently degrades. */
function checkCombinations(issues: Issues, o: SweepOptions, params: readonly ParameterSpec[], obj: ObjectivesSpec, sampler: SamplerSpec, pruner: PrunerSpec): number | undefined {
  const multi = obj.objectives.length > 1;
  const indexOf = (p: ParameterSpec) => (o.parameters ?? []).findIndex((q) => q?.name === p.name);
  if (multi && pruner.kind !== 'none') {
    issues.add('pruner', pruner.kind, `cannot be used with ${obj.objectives.length} objectives: pruning is single-objective only (Optuna's trial.report() and pruners handle one intermediate value per step); use Pruner.none() or a single objective`);
  }
  if (pruner.kind !== 'none' && !obj.metrics.stdout) {
    issues.add('pruner', pruner.kind, 'needs intermediate values, which only stdout metric lines (`loss=0.3 step=2`) carry; set `metrics.stdout: true` or use Pruner.none()');
  }
  if (obj.constraints.length > 0 && sampler.kind !== 'tpe' && sampler.kind !== 'nsga2') {
    issues.add('constraints', obj.constraints.map((c) => c.metric), `are not supported by the ${sampler.kind} sampler (Optuna would ignore them); use Sampler.tpe() or Sampler.nsgaII()`);
  }
  if (sampler.kind === 'cmaes' && multi) {
    issues.add('sampler', 'cmaes', `supports a single objective only (Optuna's CmaEsSampler rejects ${obj.objectives.length}); use Sampler.nsgaII() or Sampler.tpe() for several objectives`);
  }
  if (sampler.kind === 'cmaes' || sampler.kind === 'qmc') {
    const label = sampler.kind === 'cmaes' ? 'CMA-ES' : 'QMC';
    for (const p of params) {
      if (p.type === 'categorical') {
        issues.add(`parameters[${indexOf(p)}].type`, 'categorical', `cannot be searched by ${label}: Optuna would sample "${p.name}" at random (its independent sampler) with only a warning; use Sampler.tpe(), or make it an int or float parameter`);
      } else if (p.when) {
        issues.add(`parameters[${indexOf(p)}].when`, p.when, `makes "${p.name}" conditional, which ${label} cannot model (Optuna would sample it at random); use Sampler.tpe()`);
      }
    }
  }
  if (sampler.kind !== 'grid') return undefined;
  let size = 1;
  for (const p of params) {
    if (p.when) issues.add(`parameters[${indexOf(p)}].when`, p.when, `makes "${p.name}" conditional: a grid is a fixed product of every parameter, so its points would repeat; drop the condition or use Sampler.tpe()`);
    const n = valueCount(p);
    if (n === undefined) {
      issues.add(`parameters[${indexOf(p)}].step`, undefined, `is required with Sampler.grid(): "${p.name}" is a continuous float range, which has no finite set of grid points; give a step or use another sampler`);
    } else {
      size *= n;
    }
  }
  if (size > MAX_GRID_SIZE) issues.add('parameters', size, `make a grid of ${size} points (more than ${MAX_GRID_SIZE}); coarsen the steps or use Sampler.tpe()`);
  return size;
}

function resolveTrial(issues: Issues, t: TrialOptions | undefined, params: readonly ParameterSpec[], ctx?: PlatformContext): SweepSpec['trial'] {
  if (!t || typeof t !== 'object') {
    issues.add('trial', t, 'is required: { image, command }');
    return { image: '', command: [], args: [], parametersAs: 'flags-and-env', env: {}, secretEnv: {}, compute: resolveCompute(new Issues(''), 'trial') };
  }
  if (typeof t.image !== 'string' || !isPinnedImage(t.image)) issues.add('trial.image', t.image, 'must be a pinned image reference (a tag other than "latest", or a digest), e.g. "ghcr.io/acme/train:1.4.2"');
  if (!Array.isArray(t.command) || t.command.length === 0 || t.command.some((c) => typeof c !== 'string' || c.length === 0)) {
    issues.add('trial.command', t.command, 'must be a non-empty list of non-empty strings, e.g. ["python", "train.py"]');
  }
  const args = t.args ?? [];
  args.forEach((a, i) => {
    if (typeof a !== 'string') {
      issues.add(`trial.args[${i}]`, a, 'must be a string');
      return;
    }
    for (const m of a.matchAll(PLACEHOLDER)) {
      const p = params.find((q) => q.name === m[1]);
      if (!p) issues.add(`trial.args[${i}]`, a, `refers to "{{${m[1]}}}", which is no parameter; known: ${params.map((q) => q.name).join(', ')}`);
      else if (p.when) issues.add(`trial.args[${i}]`, a, `refers to conditional parameter "${p.name}", which some trials do not have; receive it as a flag or environment variable`);
    }
  });
  const parametersAs = t.parametersAs ?? 'flags-and-env';
  if (!['flags', 'env', 'flags-and-env'].includes(parametersAs)) issues.add('trial.parametersAs', t.parametersAs, 'must be "flags", "env" or "flags-and-env"');
  const env = t.env ?? {};
  const secretEnv = t.secretEnv ?? {};
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) issues.add(`trial.env.${k}`, v, 'has an invalid variable name (letters, digits, "_", "-", "."; not starting with a digit)');
    else if (k.startsWith('SWEEP_') || k === 'MLFLOW_RUN_ID') issues.add(`trial.env.${k}`, v, 'is reserved: the sweep sets SWEEP_* and MLFLOW_RUN_ID for each trial');
    if (typeof v !== 'string') issues.add(`trial.env.${k}`, v, 'must be a string (put secrets in secretEnv)');
    checkEnvValue(issues, `trial.env.${k}`, k, v);
  }
  for (const [k, ref] of Object.entries(secretEnv)) {
    if (!ENV_NAME.test(k) || k.startsWith('SWEEP_')) issues.add(`trial.secretEnv.${k}`, k, 'must be a valid variable name outside the reserved SWEEP_ prefix');
    checkSecretKeyRef(issues, `trial.secretEnv.${k}`, ref);
    if (k in env) issues.add(`trial.secretEnv.${k}`, k, 'is also set in `env`; set each variable once');
  }
  if (t.workingDir !== undefined && !(typeof t.workingDir === 'string' && t.workingDir.startsWith('/'))) issues.add('trial.workingDir', t.workingDir, 'must be an absolute path');
  const compute = resolveCompute(issues, 'trial', t, ctx?.pools ?? []);
  return {
    image: t.image,
    command: [...(t.command ?? [])],
    args: [...args],
    parametersAs,
    env: { ...env },
    secretEnv: { ...secretEnv },
    workingDir: t.workingDir,
    compute,
  };
}

import { SweepSpec } from './sweep';

/** Version of the runtime configuration format the Optuna program reads. */
export const SWEEP_CONFIG_VERSION = 1;

/**
 * The JSON document (`config.json`) the Optuna worker program reads: everything about the study
 * except connection details and credentials, which arrive as environment variables.
 */
export interface SweepRuntimeConfig {
  readonly version: number;
  readonly sweep: string;
  readonly namespace: string;
  readonly study: string;
  readonly objectives: SweepSpec['objectives'];
  readonly constraints: SweepSpec['constraints'];
  readonly metrics: SweepSpec['metrics'];
  readonly parameters: SweepSpec['parameters'];
  readonly sampler: SweepSpec['sampler'];
  readonly pruner: SweepSpec['pruner'];
  readonly budget: SweepSpec['budget'];
  readonly heartbeat: SweepSpec['heartbeat'];
  readonly trial: {
    readonly command: readonly string[];
    readonly args: readonly string[];
    readonly parametersAs: SweepSpec['trial']['parametersAs'];
    readonly workingDir?: string;
  };
  /** MLflow logging: the experiment, or null when the sweep has no tracking server. */
  readonly tracking: { readonly experiment: string } | null;
}

/** The runtime configuration of a validated sweep. */
export function sweepRuntimeConfig(spec: SweepSpec, tracking: boolean): SweepRuntimeConfig {
  return {
    version: SWEEP_CONFIG_VERSION,
    sweep: spec.name,
    namespace: spec.namespace,
    study: spec.study,
    objectives: spec.objectives,
    constraints: spec.constraints.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as SweepSpec['constraints'][number]),
    metrics: spec.metrics,
    parameters: spec.parameters,
    sampler: spec.sampler,
    pruner: spec.pruner,
    budget: Object.fromEntries(Object.entries(spec.budget).filter(([, v]) => v !== undefined)) as SweepSpec['budget'],
    heartbeat: spec.heartbeat,
    trial: {
      command: spec.trial.command,
      args: spec.trial.args,
      parametersAs: spec.trial.parametersAs,
      ...(spec.trial.workingDir ? { workingDir: spec.trial.workingDir } : {}),
    },
    tracking: tracking ? { experiment: spec.experiment } : null,
  };
}

/**
 * Where a finished sweep's results are, for people and for later constructs: the Optuna study
 * (`optuna.load_study(study_name, storage)`: `best_trial`, `best_trials`), and — with tracking — the
 * MLflow parent run of the sweep, tagged with the best trial(s) when the budget is reached; every
 * trial is a child run of it. Each worker also prints a `SWEEP_RESULT {json}` line when it ends.
 */
export interface SweepResults {
  /** Optuna study name. */
  readonly studyName: string;
  /** PostgreSQL schema of the study's tables. */
  readonly schema?: string;
  /** MLflow experiment of the sweep's runs, when tracked. */
  readonly experiment?: string;
  /** Name of the MLflow parent run (the sweep's name); tagged `mlplatform.sweep=<name>`. */
  readonly parentRunName?: string;
  /** Tag of the parent run holding the best trial's parameters as JSON. */
  readonly bestParamsTag: string;
  /** Tag of the parent run holding the best trial(s) — the Pareto front with several objectives — as JSON. */
  readonly bestTrialsTag: string;
  /** Prefix of the stdout line each worker prints when it ends. */
  readonly stdoutPrefix: string;
}

/** The results locations of a validated sweep. */
export function sweepResults(spec: SweepSpec, tracking: boolean): SweepResults {
  return {
    studyName: spec.study,
    schema: spec.storage?.schema,
    experiment: tracking ? spec.experiment : undefined,
    parentRunName: tracking ? spec.name : undefined,
    bestParamsTag: 'mlplatform.best_params',
    bestTrialsTag: 'mlplatform.best_trials',
    stdoutPrefix: 'SWEEP_RESULT ',
  };
}

import { Issues } from '../errors';

/** Whether a metric should go down or up. */
export type Direction = 'minimize' | 'maximize';

/**
 * Which of the values a trial reported becomes its result (Katib `metricStrategies`):
 * the last one, the lowest or the highest.
 */
export type MetricStrategy = 'latest' | 'min' | 'max';

/** One objective: a metric the trial reports and which way it should go. */
export interface Objective {
  /** Metric name, as the trial prints it (`loss=0.25`) or writes it in its JSON file. */
  readonly metric: string;
  /** Minimize or maximize. */
  readonly direction: Direction;
  /** Which reported value is the trial's result. @default 'latest' */
  readonly strategy?: MetricStrategy;
}

/**
 * A constraint on another metric (Optuna `constraints_func`): a trial is feasible when the metric
 * is at most `max` and at least `min`. Give one or both. Feasible trials are preferred by the
 * sampler; infeasible ones still count towards the budget.
 */
export interface MetricConstraint {
  /** Metric name. */
  readonly metric: string;
  /** Upper bound (included). @default none */
  readonly max?: number;
  /** Lower bound (included). @default none */
  readonly min?: number;
  /** Which reported value is checked. @default 'latest' */
  readonly strategy?: MetricStrategy;
}

/**
 * Where a trial's metrics are read from. The formats are documented in `docs/tuning-sweep.md`:
 * - stdout: every output line is split on whitespace; each `name=value` token whose name is a
 *   declared metric and whose value is a number is a report; a `step=N` token on the same line
 *   gives the step (else the metric's own count of earlier reports);
 * - JSON file: a flat object `{"name": number, ...}` the trial writes to `$SWEEP_METRICS_FILE`
 *   before it exits; its values are final (they win over stdout).
 */
export interface MetricsOptions {
  /** Read `name=value [step=N]` tokens from the trial's output. @default true */
  readonly stdout?: boolean;
  /** Read `$SWEEP_METRICS_FILE` (JSON) when the trial exits. @default false */
  readonly jsonFile?: boolean;
}

/** Validated objectives, constraints and metric sources. */
export interface ObjectivesSpec {
  readonly objectives: readonly { readonly metric: string; readonly direction: Direction; readonly strategy: MetricStrategy }[];
  readonly constraints: readonly { readonly metric: string; readonly max?: number; readonly min?: number; readonly strategy: MetricStrategy }[];
  readonly metrics: { readonly stdout: boolean; readonly jsonFile: boolean };
}

/** Pattern of metric names: what the `name=value` grammar accepts as a name. */
export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.\-/]{0,127}$/;

const STRATEGIES: readonly MetricStrategy[] = ['latest', 'min', 'max'];

function checkMetric(issues: Issues, path: string, metric: unknown): boolean {
  if (typeof metric !== 'string' || !METRIC_NAME.test(metric) || metric === 'step') {
    issues.add(path, metric, 'must be a metric name: a letter or "_", then letters, digits, "_", ".", "-" or "/" (and not "step", which the output grammar reserves)');
    return false;
  }
  return true;
}

function strategyOf(issues: Issues, path: string, s: unknown): MetricStrategy {
  if (s === undefined) return 'latest';
  if (!STRATEGIES.includes(s as MetricStrategy)) issues.add(path, s, 'must be "latest", "min" or "max"');
  return s as MetricStrategy;
}

/** Validates objectives, constraints and metric sources. */
export function resolveObjectives(
  issues: Issues, objectives: readonly Objective[] | undefined, constraints: readonly MetricConstraint[] | undefined, metrics: MetricsOptions | undefined,
): ObjectivesSpec {
  const outObjectives: ObjectivesSpec['objectives'][number][] = [];
  if (!Array.isArray(objectives) || objectives.length === 0) {
    issues.add('objectives', objectives, 'must list at least one objective, e.g. [{ metric: "loss", direction: "minimize" }]');
  } else {
    const seen = new Set<string>();
    objectives.forEach((o, i) => {
      const at = `objectives[${i}]`;
      if (!checkMetric(issues, `${at}.metric`, o?.metric)) return;
      if (seen.has(o.metric)) issues.add(`${at}.metric`, o.metric, 'is already an objective; each metric can be optimized once');
      seen.add(o.metric);
      if (o.direction !== 'minimize' && o.direction !== 'maximize') issues.add(`${at}.direction`, o.direction, 'must be "minimize" or "maximize"');
      outObjectives.push({ metric: o.metric, direction: o.direction, strategy: strategyOf(issues, `${at}.strategy`, o.strategy) });
    });
  }
  const outConstraints: ObjectivesSpec['constraints'][number][] = [];
  (constraints ?? []).forEach((c, i) => {
    const at = `constraints[${i}]`;
    if (!checkMetric(issues, `${at}.metric`, c?.metric)) return;
    if (c.max === undefined && c.min === undefined) issues.add(at, c, 'give `max`, `min` or both');
    for (const k of ['max', 'min'] as const) {
      if (c[k] !== undefined && !(typeof c[k] === 'number' && Number.isFinite(c[k]))) issues.add(`${at}.${k}`, c[k], 'must be a finite number');
    }
    if (typeof c.max === 'number' && typeof c.min === 'number' && c.min > c.max) issues.add(`${at}.min`, c.min, `must not exceed max (${c.max}): no value could be feasible`);
    outConstraints.push({ metric: c.metric, max: c.max, min: c.min, strategy: strategyOf(issues, `${at}.strategy`, c.strategy) });
  });
  const stdout = metrics?.stdout ?? true;
  const jsonFile = metrics?.jsonFile ?? false;
  if (!stdout && !jsonFile) issues.add('metrics', metrics, 'must read at least one source: set `stdout` or `jsonFile` to true');
  return { objectives: outObjectives, constraints: outConstraints, metrics: { stdout, jsonFile } };
}

import { Issues } from '../errors';

/** A value a categorical parameter can take (what Optuna stores and the trial receives). */
export type ChoiceValue = string | number | boolean;

/**
 * Makes a parameter exist only when an earlier categorical parameter has one of some values
 * (SigOpt's conditionals; natural in Optuna's define-by-run API). Give `equals` or `in`.
 */
export interface ParameterCondition {
  /** Name of the categorical parameter this one depends on; it must be declared before this one. */
  readonly parameter: string;
  /** The parameter exists when the parent has this value. */
  readonly equals?: ChoiceValue;
  /** The parameter exists when the parent has any of these values. */
  readonly in?: readonly ChoiceValue[];
}

/** Fields every search parameter has. */
interface ParameterBase {
  /**
   * Name: a letter or `_`, then letters, digits or `_` (it becomes a `--name=value` flag, an
   * environment variable `SWEEP_PARAM_<NAME>` and an Optuna parameter).
   */
  readonly name: string;
  /** Exists only under this condition. @default always */
  readonly when?: ParameterCondition;
}

/** An integer range, `low` and `high` included (Optuna `suggest_int`). */
export interface IntParameter extends ParameterBase {
  readonly type: 'int';
  /** Lowest value (included). */
  readonly low: number;
  /** Highest value (included): `low + k × step`. */
  readonly high: number;
  /** Spacing of the values. @default 1 */
  readonly step?: number;
  /** Sample on a log scale (then `low` ≥ 1 and `step` 1). @default false */
  readonly log?: boolean;
}

/** A real range, `low` and `high` included (Optuna `suggest_float`). */
export interface FloatParameter extends ParameterBase {
  readonly type: 'float';
  /** Lowest value (included). */
  readonly low: number;
  /** Highest value (included; with `step`, `low + k × step`). */
  readonly high: number;
  /** Discretization step (required for grid search). @default continuous */
  readonly step?: number;
  /** Sample on a log scale (then `low` > 0 and no `step`). @default false */
  readonly log?: boolean;
}

/** A choice among listed values (Optuna `suggest_categorical`). */
export interface CategoricalParameter extends ParameterBase {
  readonly type: 'categorical';
  /** The values, at least one, no duplicates. */
  readonly choices: readonly ChoiceValue[];
}

/** One dimension of a sweep's search space. */
export type SearchParameter = IntParameter | FloatParameter | CategoricalParameter;

/** A validated parameter, as the Optuna worker program reads it. */
export type ParameterSpec =
  | { readonly name: string; readonly type: 'int'; readonly low: number; readonly high: number; readonly step: number; readonly log: boolean; readonly when?: ConditionSpec }
  | { readonly name: string; readonly type: 'float'; readonly low: number; readonly high: number; readonly step?: number; readonly log: boolean; readonly when?: ConditionSpec }
  | { readonly name: string; readonly type: 'categorical'; readonly choices: readonly ChoiceValue[]; readonly when?: ConditionSpec };

/** A validated condition: the parent and the values under which the parameter exists. */
export interface ConditionSpec {
  readonly parameter: string;
  readonly values: readonly ChoiceValue[];
}

/** Pattern of parameter names. */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Relative tolerance when checking that a float range is a whole number of steps. */
const STEP_TOLERANCE = 1e-9;

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isChoice(v: unknown): v is ChoiceValue {
  return typeof v === 'string' || typeof v === 'boolean' || isFiniteNumber(v);
}

/** Whether `(high - low) / step` is a whole number, within floating-point noise. */
export function isWholeSteps(low: number, high: number, step: number): boolean {
  const k = (high - low) / step;
  return Math.abs(k - Math.round(k)) <= STEP_TOLERANCE * Math.max(1, Math.abs(k));
}

/** How many values a discrete parameter has, or undefined for a continuous one. */
export function valueCount(p: ParameterSpec): number | undefined {
  if (p.type === 'categorical') return p.choices.length;
  if (p.step === undefined) return undefined;
  return Math.round((p.high - p.low) / p.step) + 1;
}

/**
 * Validates a search space: names, ranges, steps, log scales, choices and conditions. Records each
 * problem under `path[i].field` and returns the parameters that are valid.
 */
export function resolveSearchSpace(issues: Issues, path: string, parameters: readonly SearchParameter[] | undefined): ParameterSpec[] {
  if (!Array.isArray(parameters) || parameters.length === 0) {
    issues.add(path, parameters, 'must list at least one parameter, e.g. [{ name: "lr", type: "float", low: 1e-5, high: 1e-1, log: true }]');
    return [];
  }
  const out: ParameterSpec[] = [];
  const seen = new Map<string, number>();
  parameters.forEach((p, i) => {
    const at = `${path}[${i}]`;
    if (typeof p !== 'object' || p === null) {
      issues.add(at, p, 'must be a parameter object with `name` and `type`');
      return;
    }
    const nameOk = checkName(issues, at, p.name, seen);
    const spec = resolveOne(issues, at, p);
    const when = resolveCondition(issues, `${at}.when`, p.when, out, p.name);
    if (nameOk) seen.set(p.name, i);
    if (nameOk && spec && when !== null) out.push(when ? Object.assign({}, spec, { when }) : spec);
  });
  return out;
}

function checkName(issues: Issues, at: string, name: unknown, seen: Map<string, number>): boolean {
  if (typeof name !== 'string' || !PARAMETER_NAME.test(name)) {
    issues.add(`${at}.name`, name, 'must start with a letter or "_" and contain only letters, digits and "_" (at most 63), e.g. "learning_rate"');
    return false;
  }
  const first = seen.get(name);
  if (first !== undefined) {
    issues.add(`${at}.name`, name, `duplicates parameter ${first} ("${name}"); give each parameter its own name`);
    return false;
  }
  // Each parameter is also the environment variable SWEEP_PARAM_<NAME>: names that differ only in case would set one variable.
  for (const [other, j] of seen) {
    if (other.toUpperCase() === name.toUpperCase()) {
      issues.add(`${at}.name`, name, `maps to the same environment variable SWEEP_PARAM_${name.toUpperCase()} as parameter ${j} ("${other}"); give names that differ in more than case`);
      return false;
    }
  }
  return true;
}

function resolveOne(issues: Issues, at: string, p: SearchParameter): ParameterSpec | undefined {
  const before = issues.all.length;
  const name = p.name;
  switch (p.type) {
    case 'int': {
      const step = p.step ?? 1;
      const log = p.log ?? false;
      if (!Number.isInteger(p.low)) issues.add(`${at}.low`, p.low, 'must be a whole number');
      if (!Number.isInteger(p.high)) issues.add(`${at}.high`, p.high, 'must be a whole number');
      if (!Number.isInteger(step) || step < 1) issues.add(`${at}.step`, p.step, 'must be a whole number ≥ 1');
      if (typeof log !== 'boolean') issues.add(`${at}.log`, p.log, 'must be true or false');
      if (issues.all.length > before) return undefined;
      if (p.low >= p.high) issues.add(`${at}.high`, p.high, `must be greater than low (${p.low}); for a fixed value use a categorical parameter with one choice`);
      else if ((p.high - p.low) % step !== 0) issues.add(`${at}.high`, p.high, `must be low + a whole number of steps (${p.low} + k × ${step}); Optuna would silently lower it to ${p.high - ((p.high - p.low) % step)}`);
      if (log && p.low < 1) issues.add(`${at}.low`, p.low, 'must be ≥ 1 on a log scale (log of 0 or a negative number is undefined)');
      if (log && step !== 1) issues.add(`${at}.step`, step, 'must be 1 (or left out) on a log scale: Optuna does not combine log and step');
      return issues.all.length > before ? undefined : { name, type: 'int', low: p.low, high: p.high, step, log };
    }
    case 'float': {
      const log = p.log ?? false;
      if (!isFiniteNumber(p.low)) issues.add(`${at}.low`, p.low, 'must be a finite number');
      if (!isFiniteNumber(p.high)) issues.add(`${at}.high`, p.high, 'must be a finite number');
      if (p.step !== undefined && !(isFiniteNumber(p.step) && p.step > 0)) issues.add(`${at}.step`, p.step, 'must be a number > 0');
      if (typeof log !== 'boolean') issues.add(`${at}.log`, p.log, 'must be true or false');
      if (issues.all.length > before) return undefined;
      if (p.low >= p.high) issues.add(`${at}.high`, p.high, `must be greater than low (${p.low}); for a fixed value use a categorical parameter with one choice`);
      else if (p.step !== undefined && !isWholeSteps(p.low, p.high, p.step)) issues.add(`${at}.high`, p.high, `must be low + a whole number of steps (${p.low} + k × ${p.step}); Optuna would silently lower it`);
      if (log && p.low <= 0) issues.add(`${at}.low`, p.low, 'must be > 0 on a log scale (log of 0 or a negative number is undefined)');
      if (log && p.step !== undefined) issues.add(`${at}.step`, p.step, 'must be left out on a log scale: Optuna does not combine log and step');
      if (issues.all.length > before) return undefined;
      return p.step === undefined ? { name, type: 'float', low: p.low, high: p.high, log } : { name, type: 'float', low: p.low, high: p.high, step: p.step, log };
    }
    case 'categorical': {
      if (!Array.isArray(p.choices) || p.choices.length === 0) {
        issues.add(`${at}.choices`, p.choices, 'must list at least one value');
        return undefined;
      }
      const seen = new Set<string>();
      p.choices.forEach((c, j) => {
        if (!isChoice(c)) issues.add(`${at}.choices[${j}]`, c, 'must be a string, a finite number or a boolean');
        else if (seen.has(choiceKey(c))) issues.add(`${at}.choices[${j}]`, c, 'is listed twice; list each value once');
        else seen.add(choiceKey(c));
      });
      return issues.all.length > before ? undefined : { name, type: 'categorical', choices: [...p.choices] };
    }
    default:
      issues.add(`${at}.type`, (p as { type?: unknown }).type, 'must be "int", "float" or "categorical"');
      return undefined;
  }
}

/** A key that tells `1` from `"1"` and `true` from `"true"`. */
export function choiceKey(c: ChoiceValue): string {
  return `${typeof c}:${String(c)}`;
}

/** @returns the condition, undefined when there is none, null when it is invalid. */
function resolveCondition(issues: Issues, at: string, w: ParameterCondition | undefined, earlier: readonly ParameterSpec[], self: unknown): ConditionSpec | undefined | null {
  if (w === undefined) return undefined;
  if (typeof w !== 'object' || w === null) {
    issues.add(at, w, 'must be { parameter, equals } or { parameter, in }');
    return null;
  }
  const parent = earlier.find((p) => p.name === w.parameter);
  if (!parent) {
    const why = w.parameter === self ? 'a parameter cannot depend on itself' : 'conditions may only name a categorical parameter declared earlier in the list';
    issues.add(`${at}.parameter`, w.parameter, `names no earlier parameter (${why}); known: ${earlier.map((p) => p.name).join(', ') || '(none)'}`);
    return null;
  }
  if (parent.type !== 'categorical') {
    issues.add(`${at}.parameter`, w.parameter, `must name a categorical parameter ("${parent.name}" is ${parent.type}); make it categorical to branch on it`);
    return null;
  }
  const given = [w.equals !== undefined, w.in !== undefined].filter(Boolean).length;
  if (given !== 1) {
    issues.add(at, w, 'give exactly one of `equals` or `in`');
    return null;
  }
  const values = w.equals !== undefined ? [w.equals] : w.in;
  if (!Array.isArray(values) || values.length === 0) {
    issues.add(`${at}.in`, w.in, 'must list at least one value');
    return null;
  }
  const known = new Set(parent.choices.map(choiceKey));
  let ok = true;
  values.forEach((v, j) => {
    if (!isChoice(v) || !known.has(choiceKey(v))) {
      issues.add(w.equals !== undefined ? `${at}.equals` : `${at}.in[${j}]`, v, `is not a choice of "${parent.name}" (${parent.choices.map((c) => JSON.stringify(c)).join(', ')})`);
      ok = false;
    }
  });
  return ok ? { parameter: parent.name, values: [...values] } : null;
}

import { Issues } from '../errors';

/** One version's traffic settings, as the user gave them. */
export interface TrafficInput {
  /** Version name. */
  readonly name: string;
  /** Marked stable. */
  readonly stable?: boolean;
  /** Share of live traffic, percent. */
  readonly weight?: number;
  /** Mirrored percentage (a shadow). */
  readonly mirrorPercent?: number;
}

/** How live traffic is split and mirrored across an endpoint's versions. */
export interface TrafficPlan {
  /** The version that takes the rest of the traffic and is rolled back to. */
  readonly stable: string;
  /** Serving versions with their share of live traffic, in percent: the weights add up to 100. */
  readonly backends: readonly { readonly name: string; readonly weight: number }[];
  /** Shadow versions with the percentage of live requests mirrored to them (responses dropped). */
  readonly mirrors: readonly { readonly name: string; readonly percent: number }[];
}

/** Gateway API `RequestMirror` amount: `percent` for whole numbers, else a `fraction` of 10 000. */
export function mirrorAmount(percent: number): { percent: number } | { fraction: { numerator: number; denominator: number } } {
  return Number.isInteger(percent) ? { percent } : { fraction: { numerator: Math.round(percent * 100), denominator: 10000 } };
}

function isPercent(v: unknown, allowFraction: boolean): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) return false;
  return allowFraction ? Math.abs(Math.round(v * 100) - v * 100) < 1e-9 : Number.isInteger(v);
}

/**
 * Validates the traffic settings of `versions` (recorded under `path`, e.g. `versions`) and plans
 * the split: one stable version (marked `stable: true`, else the only serving version, else the
 * only one without a `weight`), canary and
 * A/B versions with an explicit `weight`, the stable version's weight given or the remainder, the
 * total exactly 100; shadows get `mirrorPercent` in (0, 100] instead of a weight.
 */
export function planTraffic(issues: Issues, path: string, versions: readonly TrafficInput[]): TrafficPlan {
  const serving: { v: TrafficInput; i: number }[] = [];
  const mirrors: { name: string; percent: number }[] = [];
  versions.forEach((v, i) => {
    const at = `${path}[${i}]`;
    if (v.mirrorPercent === undefined) {
      serving.push({ v, i });
      return;
    }
    if (!isPercent(v.mirrorPercent, true) || v.mirrorPercent === 0) {
      issues.add(`${at}.mirrorPercent`, v.mirrorPercent, 'must be a percentage above 0 and at most 100 (two decimals at most, e.g. 12.5)');
    }
    if (v.weight !== undefined) issues.add(`${at}.weight`, v.weight, 'a shadow gets mirrored copies only (its responses are dropped): drop `weight` or `mirrorPercent`');
    if (v.stable) issues.add(`${at}.stable`, true, 'a shadow cannot be the stable version: the stable version serves live traffic');
    mirrors.push({ name: v.name, percent: v.mirrorPercent });
  });
  if (serving.length === 0) {
    if (versions.length > 0) issues.add(path, versions.map((v) => v.name), 'needs a stable version that serves live traffic (a version without `mirrorPercent`)');
    return { stable: '', backends: [], mirrors };
  }
  const marked = serving.filter((s) => s.v.stable);
  marked.slice(1).forEach((s) => issues.add(`${path}[${s.i}].stable`, true, `only one version can be stable; "${marked[0].v.name}" already is`));
  const unweighted = serving.filter((s) => s.v.weight === undefined);
  let stable = marked[0] ?? (serving.length === 1 ? serving[0] : unweighted.length === 1 ? unweighted[0] : undefined);
  if (!stable) {
    issues.add(path, serving.map((s) => s.v.name),
      'has several serving versions but no stable one: mark the version that takes the rest of the traffic (and that you roll back to) with `stable: true`');
    stable = serving[0];
  }
  let others = 0;
  let ok = true;
  for (const s of serving) {
    if (s === stable) continue;
    if (s.v.weight === undefined) {
      issues.add(`${path}[${s.i}].weight`, undefined, 'is required for a canary or A/B version: its share of live traffic in percent (0-100)');
      ok = false;
    } else if (!isPercent(s.v.weight, false)) {
      issues.add(`${path}[${s.i}].weight`, s.v.weight, 'must be a whole percentage from 0 to 100');
      ok = false;
    } else {
      others += s.v.weight;
    }
  }
  const given = stable.v.weight;
  if (given !== undefined && !isPercent(given, false)) {
    issues.add(`${path}[${stable.i}].weight`, given, 'must be a whole percentage from 0 to 100');
    ok = false;
  }
  const stableWeight = given ?? 100 - others;
  if (ok && (stableWeight < 0 || stableWeight + others !== 100)) {
    const weights = Object.fromEntries(serving.map((s) => [s.v.name, s === stable ? given : s.v.weight]));
    const total = (given ?? 0) + others;
    issues.add(`${path}[*].weight`, weights, given === undefined
      ? `of the canary and A/B versions add up to ${total}, leaving nothing for the stable version: they must add up to 100 at most`
      : `add up to ${total}, not 100: lower the canary weights, or leave the stable version's weight out so it takes the rest`);
  }
  return {
    stable: stable.v.name,
    backends: serving.map((s) => ({ name: s.v.name, weight: s === stable ? stableWeight : s.v.weight ?? 0 })),
    mirrors,
  };
}

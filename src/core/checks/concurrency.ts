import { WorkloadDemand } from './types';

/** The units of one construct that can run at the same time, and what they need then. */
export interface AtOnce {
  /** The peak: the largest sum of `weight` over units that can run at the same time (pods × weight per pod). */
  readonly total: number;
  /** Units that reach it together (with a pipeline `parallelism`, a superset of those that can: see {@link peakAtOnce}). */
  readonly units: readonly WorkloadDemand[];
}

/**
 * Whether `a` must finish before `b` starts: `b` depends on `a`, directly or through other units
 * (`WorkloadDemand.after`), in one construct (the step DAG of a pipeline). Returns the strict
 * partial order as a matrix over `units`' indices.
 */
function precedence(units: readonly WorkloadDemand[]): boolean[][] {
  const cached = PRECEDENCE.get(units);
  if (cached) return cached;
  const index = new Map(units.map((u, i) => [u.unit, i]));
  const before: boolean[][] = units.map(() => units.map(() => false));
  const done = units.map(() => false);
  const visit = (i: number, path: Set<number>): void => {
    if (done[i] || path.has(i)) return;
    path.add(i);
    for (const dep of units[i].after ?? []) {
      const j = index.get(dep);
      if (j === undefined || j === i) continue;
      visit(j, path);
      before[j][i] = true;
      for (let k = 0; k < units.length; k++) if (before[k][j]) before[k][i] = true;
    }
    path.delete(i);
    done[i] = true;
  };
  units.forEach((_, i) => visit(i, new Set()));
  PRECEDENCE.set(units, before);
  return before;
}

/** The order of a list of units, computed once per list (the checks ask for the peak of several resources of one construct). */
const PRECEDENCE = new WeakMap<readonly WorkloadDemand[], boolean[][]>();

/**
 * The maximum-weight antichain of a partial order (the heaviest set of pairwise unordered units)
 * by Fulkerson's reduction of Dilworth's theorem: with every unit split into a left and a right
 * node, `source → left(u)` and `right(u) → sink` of capacity `w(u)`, `left(u) → right(v)` unbounded
 * when `u` precedes `v`, the heaviest antichain weighs `Σ w − maxflow`, and it is the set of units
 * whose left node is on the source side of the minimum cut and whose right node is not.
 */
function heaviestAntichain(weights: readonly number[], before: readonly (readonly boolean[])[]): number[] {
  const n = weights.length;
  // A chain (every two units ordered, the usual pipeline): the heaviest single unit.
  let chained = true;
  for (let u = 0; u < n && chained; u++) for (let v = u + 1; v < n && chained; v++) if (!before[u][v] && !before[v][u]) chained = false;
  if (chained) {
    let best = -1;
    for (let u = 0; u < n; u++) if (weights[u] > 0 && (best < 0 || weights[u] > weights[best])) best = u;
    return best < 0 ? [] : [best];
  }
  const S = 2 * n;
  const T = 2 * n + 1;
  // Residual capacities, dense (pipelines have tens of steps).
  const cap: number[][] = Array.from({ length: 2 * n + 2 }, () => new Array<number>(2 * n + 2).fill(0));
  for (let u = 0; u < n; u++) {
    cap[S][u] = weights[u];
    cap[n + u][T] = weights[u];
    for (let v = 0; v < n; v++) if (before[u][v]) cap[u][n + v] = Infinity;
  }
  const reach = (): number[] => {
    const from = new Array<number>(2 * n + 2).fill(-1);
    from[S] = S;
    const queue = [S];
    for (let q = 0; q < queue.length; q++) {
      const x = queue[q];
      for (let y = 0; y < 2 * n + 2; y++) {
        if (from[y] === -1 && cap[x][y] > 0) {
          from[y] = x;
          queue.push(y);
        }
      }
    }
    return from;
  };
  // Edmonds–Karp: every augmenting path saturates a finite edge, so it ends.
  for (;;) {
    const from = reach();
    if (from[T] === -1) break;
    let push = Infinity;
    for (let y = T; y !== S; y = from[y]) push = Math.min(push, cap[from[y]][y]);
    for (let y = T; y !== S; y = from[y]) {
      cap[from[y]][y] -= push;
      cap[y][from[y]] += push;
    }
  }
  const side = reach();
  const out: number[] = [];
  for (let u = 0; u < n; u++) if (side[u] !== -1 && side[n + u] === -1 && weights[u] > 0) out.push(u);
  return out;
}

/**
 * The peak of `weight` (per pod) over the units of one construct that can run at the same time.
 *
 * Units with no `after` run together (a sweep's workers and its study-creation Job, an endpoint's
 * versions): the peak is their sum. A pipeline's steps form a DAG: Argo starts a step once its
 * dependencies are done, so any set of steps none of which depends on another (an antichain) can
 * run at once, and the peak is the heaviest antichain, each step counting `pods.max × weight`
 * (its fan-out items, or its nodes). A `parallelism` of the pipeline also caps the pods running at
 * once ("Parallelism limits the max total parallel pods that can execute at the same time in a
 * workflow": argo-workflows v4 pkg/apis/workflow/v1alpha1/workflow_types.go, `WorkflowSpec.Parallelism`);
 * a multi-node step is one Argo pod (its Job's pods are not the workflow's). The capped peak is the
 * upper bound `min over θ of (parallelism × θ + heaviest antichain of Σ pods × max(0, weight − θ))`,
 * exact when the pods weigh the same (the usual case: GPUs per pod of one pool).
 */
export function peakAtOnce(units: readonly WorkloadDemand[], weight: (d: WorkloadDemand) => number): AtOnce {
  const per = units.map(weight);
  const total = (i: number) => units[i].pods.max * per[i];
  const cap = units.find((u) => u.parallelism !== undefined)?.parallelism;
  // Units without dependencies (a sweep, an endpoint, a platform) all run at once: their sum, no flow to solve.
  if (cap === undefined && units.every((u) => u.after === undefined || u.after.length === 0)) {
    const positive = units.filter((_, i) => total(i) > 0);
    return { total: units.reduce((sum, _, i) => sum + total(i), 0), units: positive };
  }
  const before = precedence(units);
  const chain = heaviestAntichain(units.map((_, i) => total(i)), before);
  let peak = chain.reduce((s, i) => s + total(i), 0);
  if (cap !== undefined && peak > 0) {
    // Each candidate θ: one pod weight (a gang's whole weight counts as one Argo pod).
    const thetas = [...new Set(units.map((u, i) => (u.gang ? u.pods.max * per[i] : per[i])).filter((x) => x > 0))];
    for (const theta of thetas) {
      const weights = units.map((u, i) => (u.gang ? Math.max(0, u.pods.max * per[i] - theta) : u.pods.max * Math.max(0, per[i] - theta)));
      const rest = heaviestAntichain(weights, before).reduce((s, i) => s + weights[i], 0);
      peak = Math.min(peak, cap * theta + rest);
    }
  }
  return { total: peak, units: chain.map((i) => units[i]) };
}

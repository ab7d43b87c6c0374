// The benchmark's workload kinds and its mix, apart from the library so the bench's main process
// (which only spawns the measured children) need not load it.

/** The workload kinds of the benchmark: one construct each. */
export const BENCH_KINDS = ['pipelines', 'sweeps', 'endpoints'] as const;
/** One of {@link BENCH_KINDS}. */
export type BenchKind = typeof BENCH_KINDS[number];

/** The mix, workload by workload (workload `i` is of kind `BENCH_MIX[i % 5]`): 40 % pipelines, 20 % sweeps, 40 % endpoints. */
export const BENCH_MIX: readonly BenchKind[] = ['pipelines', 'pipelines', 'sweeps', 'endpoints', 'endpoints'];

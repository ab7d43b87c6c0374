// Compute (CPU, memory, GPU placement) shared by the workload arbitraries.
import * as fc from 'fast-check';
import { cpu, memory } from './common';
import type { PlatformFacts } from './ml-platform';
import { ComputeOptions, GpuPoolSpec, Size } from '../../../src/core';

/** A GPU placement on a pool: GPUs per container and how the pool is named. */
export interface GpuChoice {
  readonly pool: GpuPoolSpec;
  readonly gpus: number;
}

/**
 * Compute without GPUs: requests, an optional limit above the request, memory, scratch and /dev/shm.
 * GPU pods use the smaller bounds, so that one pod fits the smallest GPU instance (4 vCPU, 16 GiB) and
 * the smallest generated node volume (100 GiB: 91135Mi allocatable), even with an endpoint's model
 * volume (up to 50 GiB) on top of the scratch.
 */
export function computeArb(gpu = false): fc.Arbitrary<ComputeOptions> {
  return fc.record({
    cpu: fc.option(cpu(50, gpu ? 2000 : 4000), { nil: undefined }),
    burst: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    memory: fc.option(memory(256, gpu ? 8192 : 16384), { nil: undefined }),
    ephemeralStorage: fc.option(fc.integer({ min: 1, max: gpu ? 32 : 100 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
    shm: fc.option(fc.integer({ min: 16, max: 128 }).map((m) => Size.mebibytes(m)), { nil: undefined }),
  }, { requiredKeys: [] }).map((r) => {
    const out: Record<string, unknown> = {};
    if (r.cpu) out.cpu = r.cpu;
    if (r.cpu && r.burst) out.cpuLimit = r.cpu.times(r.burst);
    if (r.memory) out.memory = r.memory;
    if (r.ephemeralStorage) out.ephemeralStorage = r.ephemeralStorage;
    if (r.shm) out.sharedMemory = r.shm; // at most 128Mi, below the 256Mi memory floor
    return out as ComputeOptions;
  });
}

/** CPU-only compute. */
export const cpuCompute = computeArb(false);

/**
 * A GPU placement among `pools` (callers only ask when there is one: with no pool declared, the
 * tenancy check rejects every GPU workload, see the report): GPUs per container
 * up to `maxGpus` and what the pool allows; named by `pool`, `accelerator` or both.
 */
export function gpuPlacement(f: PlatformFacts, pools: readonly GpuPoolSpec[], maxGpus = 2): fc.Arbitrary<ComputeOptions & { readonly gpus: number }> {
  const compute = computeArb(true);
  if (pools.length === 0) throw new Error('gpuPlacement: no pool to place on (callers check first)');
  return fc.constantFrom(...pools).chain((pool) => fc.record({
    compute,
    gpus: fc.integer({ min: 1, max: Math.max(1, Math.min(maxGpus, pool.maxPerContainer)) }),
    // A pool is chosen by name, or by accelerator when it is the first pool of that accelerator.
    how: f.pools.find((p) => p.accelerator === pool.accelerator) === pool ? fc.constantFrom('pool', 'accelerator', 'both') : fc.constantFrom('pool', 'both'),
  }).map(({ compute: c, gpus, how }) => ({
    ...c,
    gpus,
    ...(how !== 'accelerator' ? { pool: pool.pool } : {}),
    ...(how !== 'pool' ? { accelerator: pool.accelerator } : {}),
  })))
    // An accelerator-only request lands on the first pool whose containers fit the GPUs: keep it to the intended pool.
    .filter((c) => c.pool !== undefined || f.pools.filter((p) => p.accelerator === c.accelerator && c.gpus <= p.maxPerContainer)[0]?.accelerator === c.accelerator);
}

/** The pool a placement lands on (as the resolver chooses it). */
export function landsOn(f: PlatformFacts, c: ComputeOptions): GpuPoolSpec | undefined {
  if (!c.gpus) return undefined;
  return f.pools.filter((p) => (c.pool === undefined || p.pool === c.pool) && (c.accelerator === undefined || p.accelerator === c.accelerator) && c.gpus! <= p.maxPerContainer)[0];
}

import { Issues } from './errors';
import { nodeAllocatable, Toleration } from './gpu-conventions';
import { GpuPoolSpec } from './platform/pools';
import { Cpu, Size } from './quantities';

/**
 * What one container of a workload (a pipeline step, a sweep trial, an endpoint replica) needs.
 * Requests equal limits for memory and GPUs; CPU may burst up to `cpuLimit`.
 */
export interface ComputeOptions {
  /** CPU request. @default Cpu.millis(500) */
  readonly cpu?: Cpu;
  /** CPU limit. @default 2 × cpu */
  readonly cpuLimit?: Cpu;
  /** Memory request and limit. @default Size.gibibytes(1) */
  readonly memory?: Size;
  /** Ephemeral storage request and limit (scratch space, pip caches). @default Size.gibibytes(2) */
  readonly ephemeralStorage?: Size;
  /**
   * Shared memory: a memory-backed emptyDir at `/dev/shm` of this size (PyTorch DataLoader workers
   * need more than the runtime's 64 MiB). Counts against the memory limit.
   * @default none
   */
  readonly sharedMemory?: Size;
  /**
   * GPUs per container (per node for multi-node steps): a positive whole number.
   * @default 0
   */
  readonly gpus?: number;
  /**
   * Accelerator id (`nvidia-a10g`, …). With the platform's pools, the workload lands on a pool of
   * this accelerator; without, it selects nodes by the `mlplatform.io/accelerator` label.
   * @default any accelerator of the chosen pool
   */
  readonly accelerator?: string;
  /**
   * GPU pool name, to choose among several pools of the same accelerator.
   * @default the first declared pool that matches `accelerator` and fits `gpus` (preferring one whose nodes also fit `cpu` and `memory`)
   */
  readonly pool?: string;
}

/** A validated compute request, with its placement when it uses GPUs. */
export interface ComputeSpec {
  readonly cpu: Cpu;
  readonly cpuLimit: Cpu;
  readonly memory: Size;
  readonly ephemeralStorage: Size;
  readonly sharedMemory?: Size;
  /** GPU placement, when `gpus` > 0. */
  readonly gpu?: {
    /** GPUs (or MIG slices, or time-sliced shares) per container. */
    readonly count: number;
    /** Extended resource name (`nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`). */
    readonly resourceName: string;
    /** The pool it lands on, when the platform declared pools. */
    readonly pool?: GpuPoolSpec;
    /** nodeSelector for the pool (or the accelerator label). */
    readonly nodeSelector: Readonly<Record<string, string>>;
    /** Tolerations of the pool's taints. */
    readonly tolerations: readonly Toleration[];
  };
}

/**
 * Validates compute options and, for GPU workloads, chooses the pool they land on: the named
 * `pool`, else the first pool of `accelerator` (or of any accelerator) whose nodes advertise at
 * least `gpus` of their resource. No matching pool is an error naming the pools there are.
 */
export function resolveCompute(issues: Issues, path: string, o: ComputeOptions = {}, pools: readonly GpuPoolSpec[] = []): ComputeSpec {
  const cpu = o.cpu ?? Cpu.millis(500);
  const cpuLimit = o.cpuLimit ?? cpu.times(2);
  const memory = o.memory ?? Size.gibibytes(1);
  const ephemeralStorage = o.ephemeralStorage ?? Size.gibibytes(2);
  if (cpu.millicores < 1) issues.add(`${path}.cpu`, cpu.toString(), 'must be at least 1m');
  if (cpuLimit.compareTo(cpu) < 0) issues.add(`${path}.cpuLimit`, cpuLimit.toString(), `must be at least the CPU request (${cpu})`);
  if (memory.bytes < 2 ** 20 * 16) issues.add(`${path}.memory`, memory.toString(), 'must be at least 16Mi');
  if (o.sharedMemory && o.sharedMemory.compareTo(memory) >= 0) issues.add(`${path}.sharedMemory`, o.sharedMemory.toString(), `must be below the memory limit (${memory}): /dev/shm counts against it`);
  const base = { cpu, cpuLimit, memory, ephemeralStorage, sharedMemory: o.sharedMemory };
  const gpus = o.gpus ?? 0;
  if (!Number.isInteger(gpus) || gpus < 0) {
    issues.add(`${path}.gpus`, o.gpus, 'must be a whole number ≥ 0 (GPUs cannot be fractional; use a MIG or time-sliced pool to share one)');
    return base;
  }
  if (gpus === 0) {
    if (o.accelerator !== undefined || o.pool !== undefined) issues.add(`${path}.gpus`, o.gpus, 'must be ≥ 1 when `accelerator` or `pool` is given');
    return base;
  }
  if (pools.length === 0) {
    if (o.pool !== undefined) issues.add(`${path}.pool`, o.pool, 'names a pool, but no GPU pool is declared (give `platform` with pools, or drop `pool`)');
    if (o.accelerator === undefined) {
      issues.add(`${path}.accelerator`, undefined, 'is required for a GPU workload when no GPU pool is declared (e.g. "nvidia-a10g")');
      return base;
    }
    return Object.assign({}, base, {
      gpu: {
        count: gpus,
        resourceName: 'nvidia.com/gpu',
        nodeSelector: { 'mlplatform.io/accelerator': o.accelerator },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    } satisfies Pick<ComputeSpec, 'gpu'>);
  }
  let candidates = pools;
  if (o.pool !== undefined) {
    candidates = pools.filter((p) => p.pool === o.pool);
    if (candidates.length === 0) {
      issues.add(`${path}.pool`, o.pool, `names no declared GPU pool; use one of: ${pools.map((p) => p.pool).join(', ')}`);
      return base;
    }
  }
  if (o.accelerator !== undefined) {
    const before = candidates;
    candidates = candidates.filter((p) => p.accelerator === o.accelerator);
    if (candidates.length === 0) {
      issues.add(`${path}.accelerator`, o.accelerator, `matches no ${o.pool ? `accelerator of pool "${o.pool}"` : 'declared GPU pool'}; pools have: ${[...new Set(before.map((p) => `${p.pool} (${p.accelerator})`))].join(', ')}`);
      return base;
    }
  }
  const fitting = candidates.filter((p) => gpus <= p.maxPerContainer);
  if (fitting.length === 0) {
    issues.add(`${path}.gpus`, gpus, `exceeds what one node of ${candidates.map((p) => `${p.pool} (${p.maxPerContainer} per container)`).join(', ')} offers; ask for fewer or declare a larger pool`);
    return base;
  }
  // Prefer a pool whose nodes also hold the container's CPU, memory and ephemeral storage (the synth-time schedulability check reports the rest).
  const roomy = fitting.filter((p) => {
    const a = nodeAllocatable(p.instance, { diskSize: p.diskSize });
    return cpu.millicores <= a.cpuMillicores && memory.bytes <= a.memoryMiB * 2 ** 20 && ephemeralStorage.bytes <= a.ephemeralStorageMiB * 2 ** 20;
  });
  const pool = roomy[0] ?? fitting[0];
  return Object.assign({}, base, { gpu: { count: gpus, resourceName: pool.resourceName, pool, nodeSelector: pool.nodeSelector, tolerations: pool.tolerations } });
}

/**
 * The longest environment string the kernel passes to a container's process: `MAX_ARG_STRLEN`, 32
 * pages of 4 KiB (linux include/uapi/linux/binfmts.h). A longer `NAME=value` makes execve fail with
 * E2BIG, so the container never starts, although the API server takes objects up to 3 MiB
 * (k8s.io/apiserver pkg/server/config.go: `MaxRequestBodyBytes`) and etcd up to 1.5 MiB.
 */
export const MAX_ENV_STRING_BYTES = 32 * 4096;

/** Checks an environment value given as a prop: `NAME=value` plus the terminating NUL within {@link MAX_ENV_STRING_BYTES}. */
export function checkEnvValue(issues: Issues, path: string, name: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const bytes = new TextEncoder().encode(`${name}=${value}`).length + 1;
  if (bytes > MAX_ENV_STRING_BYTES) {
    issues.add(path, `${value.slice(0, 20)}… (${bytes} bytes)`, `is longer than the kernel passes to a process (${MAX_ENV_STRING_BYTES} bytes for NAME=value, MAX_ARG_STRLEN): the container would fail to start; mount large values as a file (a ConfigMap or Secret volume)`);
  }
}

import { SWEEP_WORKER_RESOURCES, SweepSpec } from './sweep';
import { Issues } from '../errors';
import { PlatformContext } from '../platform/context';
import { Cpu, Size } from '../quantities';

/** What one worker pod of a sweep requests (the trial container plus the Optuna container). */
export interface SweepPodRequest {
  readonly cpu: Cpu;
  readonly memory: Size;
  /** GPUs (of the trial container's pool). */
  readonly gpus: number;
}

/** The requests of one worker pod. */
export function sweepPodRequest(spec: SweepSpec): SweepPodRequest {
  const c = spec.trial.compute;
  return {
    cpu: c.cpu.plus(Cpu.millis(SWEEP_WORKER_RESOURCES.cpuMillicores)),
    memory: c.memory.plus(Size.mebibytes(SWEEP_WORKER_RESOURCES.memoryMiB)),
    gpus: c.gpu?.count ?? 0,
  };
}

/**
 * Cross-construct checks no single resource has: the sweep's parallel trials must fit the GPU
 * pool's maximum size and the tenant's quota (GPUs, CPU, memory, pods), or some workers could
 * never be scheduled. `extraPods` counts the sweep's other pods (study creation, dashboard).
 */
export function checkSweepCapacity(issues: Issues, spec: SweepSpec, ctx: PlatformContext, extraPods: number): void {
  const workers = spec.budget.workers;
  const per = sweepPodRequest(spec);
  const gpu = spec.trial.compute.gpu;
  if (gpu?.pool) {
    const pool = gpu.pool;
    const perNode = Math.floor(pool.allocatablePerNode / gpu.count);
    const most = perNode * pool.maxNodes;
    if (workers > most) {
      issues.add('budget.workers', workers,
        `× ${gpu.count} GPU${gpu.count === 1 ? '' : 's'} per trial exceeds what pool "${pool.pool}" can run at once ` +
        `(${pool.maxNodes} node${pool.maxNodes === 1 ? '' : 's'} × ${perNode} trial${perNode === 1 ? '' : 's'} per node = ${most}); lower workers to ${most} or raise the pool's maxNodes`);
    }
  }
  const tenant = ctx.tenants.find((t) => t.namespace === spec.namespace);
  if (!tenant) return;
  const q = tenant.quota;
  if (gpu?.pool) {
    const quota = q.gpus[gpu.pool.pool] ?? 0;
    if (quota < gpu.count) {
      issues.add('trial.gpus', gpu.count, `exceeds tenant "${tenant.name}"'s GPU quota on pool "${gpu.pool.pool}" (${quota}); raise quota.gpus["${gpu.pool.pool}"] or use another pool`);
    } else if (workers * gpu.count > quota) {
      issues.add('budget.workers', workers, `× ${gpu.count} GPUs exceeds tenant "${tenant.name}"'s GPU quota on pool "${gpu.pool.pool}" (${quota}); lower workers to ${Math.floor(quota / gpu.count)} or raise the quota`);
    }
  }
  const cpu = per.cpu.times(workers);
  if (cpu.compareTo(q.cpu) > 0) {
    issues.add('budget.workers', workers, `× ${per.cpu} CPU per worker (trial + Optuna) = ${cpu} exceeds tenant "${tenant.name}"'s CPU quota (${q.cpu}); lower workers or trial.cpu, or raise the quota`);
  }
  const memory = per.memory.times(workers);
  if (memory.compareTo(q.memory) > 0) {
    issues.add('budget.workers', workers, `× ${per.memory} memory per worker (trial + Optuna) = ${memory} exceeds tenant "${tenant.name}"'s memory quota (${q.memory}); lower workers or trial.memory, or raise the quota`);
  }
  if (workers + extraPods > q.pods) {
    issues.add('budget.workers', workers, `+ ${extraPods} other sweep pod${extraPods === 1 ? '' : 's'} exceeds tenant "${tenant.name}"'s pod quota (${q.pods})`);
  }
}

import { InstanceType } from '../accelerators';
import { nodeAllocatable, NodeAllocatable, Taint, Toleration } from '../gpu-conventions';
import { Size } from '../quantities';
import { WorkloadDemand } from './types';
import { GpuPoolSpec } from '../platform/pools';

/** How one pod of a workload fits one node of a pool. */
export interface PoolFit {
  /** The node's allocatable share the pod was checked against. */
  readonly allocatable: NodeAllocatable;
  /** One sentence per unmet need (empty when a pod fits a node). */
  readonly reasons: readonly string[];
  /** Pods of this shape one node holds at once (0 when one does not fit). */
  readonly podsPerNode: number;
  /** Pods of this shape the pool holds at its maximum size (`podsPerNode × maxNodes`). */
  readonly podsAtMaxNodes: number;
  /** The pod's ephemeral storage exceeds what one node allocates (one of `reasons`). */
  readonly ephemeralStorageShort: boolean;
}

/** Whether `toleration` tolerates `taint` (the Kubernetes matching rules). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.key === undefined) return toleration.operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  return toleration.operator === 'Exists' || (toleration.value ?? '') === (taint.value ?? '');
}

/**
 * Checks one pod of `demand` against one node of `pool`: accelerator, GPUs per node (per container on
 * time-sliced pools), CPU and memory within the instance's allocatable share (EKS kubelet reservation,
 * eviction threshold and VM overhead taken off), ephemeral storage within the allocatable share of the
 * pool's `diskSize`, and tolerations of every taint of the pool.
 */
export function fitPool(demand: Pick<WorkloadDemand, 'cpu' | 'memory' | 'gpu'> & { readonly ephemeralStorage?: Size }, pool: GpuPoolSpec): PoolFit {
  const allocatable = poolAllocatable(pool);
  const reasons: string[] = [];
  const cpu = demand.cpu.millicores;
  const memMiB = Math.ceil(demand.memory.bytes / 2 ** 20);
  const diskMiB = Math.ceil((demand.ephemeralStorage?.bytes ?? 0) / 2 ** 20);
  const gpu = demand.gpu;
  const node = `one ${pool.instance.name} node of pool "${pool.pool}"`;
  if (gpu && gpu.accelerator !== pool.accelerator) reasons.push(`needs ${gpu.accelerator}; pool "${pool.pool}" has ${pool.accelerator}`);
  if (gpu && gpu.count > pool.maxPerContainer) {
    reasons.push(pool.maxPerContainer < pool.allocatablePerNode
      ? `needs ${gpu.count} GPUs per pod; pool "${pool.pool}" shares its GPUs by time-slicing (1 share per container)`
      : `needs ${gpu.count} ${pool.resourceName} per pod; ${node} has ${pool.allocatablePerNode}`);
  }
  if (cpu > allocatable.cpuMillicores) reasons.push(`needs ${cpu}m CPU per pod; ${node} allocates ${allocatable.cpuMillicores}m of its ${pool.instance.vcpu} vCPU`);
  if (memMiB > allocatable.memoryMiB) reasons.push(`needs ${memMiB}Mi memory per pod; ${node} allocates ${allocatable.memoryMiB}Mi of its ${pool.instance.memoryGiB}Gi`);
  const ephemeralStorageShort = diskMiB > allocatable.ephemeralStorageMiB;
  if (ephemeralStorageShort) {
    reasons.push(`needs ${diskMiB}Mi ephemeral storage per pod; ${node} allocates ${allocatable.ephemeralStorageMiB}Mi of its ${pool.diskSize} volume`);
  }
  const tolerations = gpu?.tolerations ?? pool.tolerations;
  for (const t of pool.taints) {
    if (!tolerations.some((x) => tolerates(x, t))) reasons.push(`does not tolerate the taint ${t.key}${t.value ? `=${t.value}` : ''}:${t.effect} of pool "${pool.pool}"`);
  }
  if (reasons.length > 0) return { allocatable, reasons, podsPerNode: 0, podsAtMaxNodes: 0, ephemeralStorageShort };
  const byGpu = gpu && gpu.count > 0 ? Math.floor(pool.allocatablePerNode / gpu.count) : Infinity;
  const byCpu = cpu > 0 ? Math.floor(allocatable.cpuMillicores / cpu) : Infinity;
  const byMem = memMiB > 0 ? Math.floor(allocatable.memoryMiB / memMiB) : Infinity;
  const byDisk = diskMiB > 0 ? Math.floor(allocatable.ephemeralStorageMiB / diskMiB) : Infinity;
  const podsPerNode = Math.min(byGpu, byCpu, byMem, byDisk, 110);
  return { allocatable, reasons, podsPerNode, podsAtMaxNodes: podsPerNode * pool.maxNodes, ephemeralStorageShort };
}

const ALLOCATABLE = new WeakMap<InstanceType, Map<number, NodeAllocatable>>();

/** `nodeAllocatable` of a pool's nodes (default options but the pool's `diskSize`), computed once per instance type and disk size. */
export function poolAllocatable(pool: Pick<GpuPoolSpec, 'instance' | 'diskSize'>): NodeAllocatable {
  let bySize = ALLOCATABLE.get(pool.instance);
  if (!bySize) ALLOCATABLE.set(pool.instance, bySize = new Map());
  let a = bySize.get(pool.diskSize.bytes);
  if (!a) bySize.set(pool.diskSize.bytes, a = nodeAllocatable(pool.instance, { diskSize: pool.diskSize }));
  return a;
}

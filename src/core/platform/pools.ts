import { AcceleratorCatalog, InstanceType } from '../accelerators';
import { Issues, ValidationError } from '../errors';
import { CapacityType, DEFAULT_NODE_DISK_GIB, GpuPoolConventions, gpuPoolConventions, GpuSharing } from '../gpu-conventions';
import { checkDnsLabel } from '../names';
import { Size } from '../quantities';

/** A GPU node pool: which accelerator, how many per node, how many nodes, and how GPUs are shared. */
export interface GpuPoolOptions {
  /** Accelerator id from the catalog, e.g. `nvidia-a10g`, `nvidia-h100-80gb`. */
  readonly accelerator: string;
  /**
   * EC2 instance type of the nodes (fixes vCPU, memory and GPUs per node).
   * @default the cheapest catalog instance type with `gpusPerNode` GPUs of `accelerator`
   */
  readonly instanceType?: string;
  /**
   * GPUs per node, when `instanceType` is not given.
   * @default 1
   */
  readonly gpusPerNode?: number;
  /**
   * Fewest nodes. 0 lets the pool scale to zero when idle.
   * @default 0
   */
  readonly minNodes?: number;
  /** Most nodes (at least 1). */
  readonly maxNodes: number;
  /**
   * On-demand or spot capacity.
   * @default 'on-demand'
   */
  readonly capacityType?: CapacityType;
  /**
   * Share GPUs: `{ mig: '1g.10gb' }` or `{ timeSlicing: { replicas: 4 } }`.
   * @default whole GPUs
   */
  readonly sharing?: GpuSharing;
  /**
   * Size of each node's volume (the root volume on AL2023, the data volume on Bottlerocket: an
   * encrypted gp3 EBS volume on the AWS side). It holds images, logs, the pods' writable layers and
   * disk-backed emptyDirs, so it bounds the `ephemeral-storage` a pod may request: the kubelet keeps
   * 1 GiB and 10 % of it back (`nodeAllocatable`). A whole number of GiB from 20 GiB to 16 TiB.
   * @default Size.gibibytes(100)
   */
  readonly diskSize?: Size;
}

/** A validated GPU pool: the declaration plus the labels, taints and resource names workloads use. */
export interface GpuPoolSpec extends GpuPoolConventions {
  /** Fewest nodes. */
  readonly minNodes: number;
  /** Most nodes. */
  readonly maxNodes: number;
  /** Physical GPUs per node. */
  readonly gpusPerNode: number;
  /** On-demand or spot. */
  readonly capacityType: CapacityType;
  /** The instance type, from the catalog. */
  readonly instance: InstanceType;
  /** Size of each node's volume (whole GiB), which bounds the pods' ephemeral storage. */
  readonly diskSize: Size;
}

/** Smallest node volume a pool may declare, GiB. */
export const MIN_DISK_GIB = 20;
/** Largest node volume a pool may declare, GiB (16 TiB, the largest gp3 volume). */
export const MAX_DISK_GIB = 16384;

/**
 * Validates a pool declaration against the catalog and derives its conventions.
 * Records issues under `path` and returns undefined when invalid.
 */
export function resolveGpuPool(issues: Issues, path: string, name: string, o: GpuPoolOptions, catalog: AcceleratorCatalog = AcceleratorCatalog.DEFAULT): GpuPoolSpec | undefined {
  const before = issues.all.length;
  checkDnsLabel(issues, `${path}.name`, name, 40);
  const minNodes = o.minNodes ?? 0;
  if (!Number.isInteger(o.maxNodes) || o.maxNodes < 1) issues.add(`${path}.maxNodes`, o.maxNodes, 'must be a whole number ≥ 1 (a pool that can never have a node schedules nothing)');
  if (!Number.isInteger(minNodes) || minNodes < 0) issues.add(`${path}.minNodes`, o.minNodes, 'must be a whole number ≥ 0');
  else if (Number.isInteger(o.maxNodes) && minNodes > o.maxNodes) issues.add(`${path}.minNodes`, minNodes, `must not exceed maxNodes (${o.maxNodes})`);
  const diskSize = o.diskSize ?? Size.gibibytes(DEFAULT_NODE_DISK_GIB);
  const diskGiB = diskSize instanceof Size ? diskSize.bytes / 2 ** 30 : NaN;
  if (!Number.isInteger(diskGiB) || diskGiB < MIN_DISK_GIB || diskGiB > MAX_DISK_GIB) {
    issues.add(`${path}.diskSize`, diskSize instanceof Size ? diskSize.toString() : diskSize, `must be a whole number of GiB from ${MIN_DISK_GIB}Gi to ${MAX_DISK_GIB}Gi (the EBS gp3 volume of each node), e.g. Size.gibibytes(${DEFAULT_NODE_DISK_GIB})`);
  }
  const capacityType = o.capacityType ?? 'on-demand';
  if (capacityType !== 'on-demand' && capacityType !== 'spot') issues.add(`${path}.capacityType`, o.capacityType, "must be 'on-demand' or 'spot'");
  const known = catalog.accelerators.map((a) => a.id);
  if (!known.includes(o.accelerator)) {
    issues.add(`${path}.accelerator`, o.accelerator, `must be an accelerator of the catalog: ${known.join(', ')} (or declare a custom one)`);
    return undefined;
  }
  let instance: InstanceType | undefined;
  if (o.instanceType !== undefined) {
    instance = catalog.instanceTypes.find((t) => t.name === o.instanceType);
    if (!instance) {
      issues.add(`${path}.instanceType`, o.instanceType, `must be an instance type of the catalog with ${o.accelerator} GPUs: ${catalog.instanceTypes.filter((t) => t.accelerator === o.accelerator).map((t) => t.name).join(', ')}`);
    } else if (instance.accelerator !== o.accelerator) {
      issues.add(`${path}.instanceType`, o.instanceType, `has ${instance.accelerator} GPUs, not ${o.accelerator}; pick one of ${catalog.instanceTypes.filter((t) => t.accelerator === o.accelerator).map((t) => t.name).join(', ')}`);
      instance = undefined;
    }
    if (o.gpusPerNode !== undefined && instance && o.gpusPerNode !== instance.gpuCount) {
      issues.add(`${path}.gpusPerNode`, o.gpusPerNode, `contradicts instanceType ${instance.name} (${instance.gpuCount} GPUs); drop one of the two`);
    }
  } else {
    const gpus = o.gpusPerNode ?? 1;
    const candidates = catalog.instanceTypes.filter((t) => t.accelerator === o.accelerator && t.gpuCount === gpus)
      .sort((a, b) => (a.onDemandUsdPerHour ?? Infinity) - (b.onDemandUsdPerHour ?? Infinity));
    instance = candidates[0];
    if (!instance) {
      const counts = [...new Set(catalog.instanceTypes.filter((t) => t.accelerator === o.accelerator).map((t) => t.gpuCount))].sort((a, b) => a - b);
      issues.add(`${path}.gpusPerNode`, o.gpusPerNode, `no ${o.accelerator} instance type has ${gpus} GPUs; choose one of ${counts.join(', ')}`);
    }
  }
  if (!instance || issues.all.length > before) return undefined;
  try {
    const conventions = gpuPoolConventions({ name, accelerator: o.accelerator, instanceType: instance.name, capacityType, sharing: o.sharing }, catalog);
    return Object.assign({}, conventions, { minNodes, maxNodes: o.maxNodes, gpusPerNode: instance.gpuCount, capacityType, instance, diskSize });
  } catch (e) {
    if (e instanceof ValidationError) {
      for (const i of e.issues) issues.add(`${path}.${i.path.replace(/^pool\./, '')}`, i.value, i.message);
      return undefined;
    }
    throw e;
  }
}

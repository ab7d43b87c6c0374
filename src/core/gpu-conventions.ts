import { AcceleratorCatalog, byOnDemandPrice } from './accelerators';
import type { Accelerator, InstanceType, MigProfile } from './accelerators';
import { Issues } from './errors';
import { checkDnsLabel } from './names';
import { Size } from './quantities';

/*
 * The node label / taint convention every construct uses for GPU pools, and the allocatable model the
 * synth-time schedulability checks use. Pure data shaped like the Kubernetes fields; no cdk8s types.
 *
 * Every GPU node carries:
 * - `mlplatform.io/accelerator=<accelerator id>`, `mlplatform.io/gpu-pool=<pool name>` and
 *   `mlplatform.io/capacity-type=<on-demand|spot>` (ours, so selection never depends on cloud labels);
 * - `nvidia.com/device-plugin.config=<name>`, which makes the NVIDIA device plugin apply that pool's
 *   sharing config, and for MIG pools `nvidia.com/mig.config=all-<profile>`, which makes the GPU
 *   Operator's MIG manager partition the GPUs;
 * - the taint `nvidia.com/gpu=present:NoSchedule` (the EKS / ai-on-eks convention), so only pods that
 *   tolerate it (`GPU_TOLERATION`) land there.
 *
 * Sharing and the resource workloads request:
 * - whole GPUs: `nvidia.com/gpu`, `gpuCount` per node;
 * - MIG: homogeneous `all-<profile>` layouts under the device plugin's `mixed` strategy, so
 *   `nvidia.com/mig-<profile>`, `maxPerGpu x gpuCount` per node. Karpenter cannot provision for
 *   `nvidia.com/mig-*` (it does not know the resource before the node boots): such pools need fixed
 *   capacity or a managed node group with a minimum size;
 * - time-slicing: `renameByDefault: false`, so workloads keep requesting `nvidia.com/gpu` (Karpenter and
 *   the cluster autoscaler can still scale from zero, counting one share per physical GPU, so they
 *   over-provision rather than stall) and `failRequestsGreaterThanOne: true`, so a container asks for
 *   at most one share (a second share would add no compute). `gpuCount x replicas` per node. GPU Feature
 *   Discovery then suffixes `nvidia.com/gpu.product` with `-SHARED`; we select on our own labels instead.
 */

/** Node label holding the accelerator id, e.g. `mlplatform.io/accelerator=nvidia-a100-80gb`. */
export const ACCELERATOR_LABEL = 'mlplatform.io/accelerator';
/** Node label holding the GPU pool name, e.g. `mlplatform.io/gpu-pool=a100-spot`. */
export const GPU_POOL_LABEL = 'mlplatform.io/gpu-pool';
/** Node label holding the pool's capacity type, `on-demand` or `spot`. */
export const CAPACITY_TYPE_LABEL = 'mlplatform.io/capacity-type';
/** Node label the NVIDIA device plugin reads to pick its per-node config. */
export const DEVICE_PLUGIN_CONFIG_LABEL = 'nvidia.com/device-plugin.config';
/** Node label the GPU Operator's MIG manager reads to partition GPUs, e.g. `all-1g.10gb`. */
export const MIG_CONFIG_LABEL = 'nvidia.com/mig.config';
/** Key of the taint on every GPU node. */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';
/** Value of the taint on every GPU node. */
export const GPU_TAINT_VALUE = 'present';

/** A taint effect. */
export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** A node taint, shaped like the Kubernetes `Taint`. */
export interface Taint {
  /** Taint key. */
  readonly key: string;
  /** Taint value. @default - none */
  readonly value?: string;
  /** Effect on pods that do not tolerate it. */
  readonly effect: TaintEffect;
}

/** A pod toleration, shaped like the Kubernetes `Toleration`. */
export interface Toleration {
  /** Taint key it matches. @default - every key (only with `Exists`) */
  readonly key?: string;
  /** `Exists` matches any value; `Equal` matches `value`. */
  readonly operator: 'Exists' | 'Equal';
  /** Value to match with `Equal`. @default - none */
  readonly value?: string;
  /** Effect it tolerates. @default - every effect */
  readonly effect?: TaintEffect;
}

/** The taint on every GPU node: `nvidia.com/gpu=present:NoSchedule`. */
export const GPU_TAINT: Taint = Object.freeze({ key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: 'NoSchedule' });

/** The toleration every GPU workload carries: `nvidia.com/gpu` `Exists` for `NoSchedule`. */
export const GPU_TOLERATION: Toleration = Object.freeze({ key: GPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });

/** Whether a pool runs on-demand or spot capacity. */
export type CapacityType = 'on-demand' | 'spot';

/** Partition every GPU of the pool into one MIG profile. */
export interface MigSharing {
  /** Profile name, e.g. `1g.10gb`; must be one of the accelerator's `migProfiles`. */
  readonly mig: string;
}

/** Time-slicing settings. */
export interface TimeSlicing {
  /** Shares advertised per physical GPU (2 or more). */
  readonly replicas: number;
}

/** Share every GPU of the pool by time-slicing. */
export interface TimeSlicingSharing {
  /** Time-slicing settings. */
  readonly timeSlicing: TimeSlicing;
}

/** How a pool shares its GPUs: one MIG profile or time-slicing (omit for whole GPUs). */
export type GpuSharing = MigSharing | TimeSlicingSharing;

/** The sharing mode a pool ends up with. */
export type GpuSharingMode = 'none' | 'mig' | 'time-slicing';

/** The GPU-relevant part of a pool declaration. */
export interface GpuPoolDeclaration {
  /** Pool name (DNS-1123 label); the `mlplatform.io/gpu-pool` value. */
  readonly name: string;
  /** Accelerator id. */
  readonly accelerator: string;
  /** The EC2 instance type the pool launches (fixes the GPUs per node). */
  readonly instanceType: string;
  /** On-demand or spot. */
  readonly capacityType: CapacityType;
  /** GPU sharing. @default - whole GPUs */
  readonly sharing?: GpuSharing;
}

/** The NVIDIA device plugin config file (`config.map` entry) a pool's nodes use. */
export interface DevicePluginConfig {
  /** Config schema version. */
  readonly version: 'v1';
  /** Plugin flags. */
  readonly flags: { readonly migStrategy: 'none' | 'mixed' };
  /** Time-slicing, when the pool shares GPUs that way. @default - none */
  readonly sharing?: {
    readonly timeSlicing: {
      readonly renameByDefault: boolean;
      readonly failRequestsGreaterThanOne: boolean;
      readonly resources: readonly { readonly name: string; readonly replicas: number }[];
    };
  };
}

/** What a GPU pool's nodes carry and what a workload needs to land there. */
export interface GpuPoolConventions {
  /** Pool name. */
  readonly pool: string;
  /** Accelerator id. */
  readonly accelerator: string;
  /** Instance type name. */
  readonly instanceType: string;
  /** Sharing mode. */
  readonly sharing: GpuSharingMode;
  /** Labels every node of the pool carries. */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints every node of the pool carries. */
  readonly taints: readonly Taint[];
  /** Extended resource workloads request (`nvidia.com/gpu` or `nvidia.com/mig-<profile>`). */
  readonly resourceName: string;
  /** How many of `resourceName` one node advertises. */
  readonly allocatablePerNode: number;
  /** The most of `resourceName` one container may request (1 on time-sliced pools). */
  readonly maxPerContainer: number;
  /** The nodeSelector a workload uses to land on this pool. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** The tolerations a workload needs to land on this pool. */
  readonly tolerations: readonly Toleration[];
  /** Name of the device plugin config (the `nvidia.com/device-plugin.config` label value). */
  readonly devicePluginConfigName: string;
  /** The device plugin config itself. */
  readonly devicePluginConfig: DevicePluginConfig;
  /** Whether Karpenter can provision nodes for `resourceName` (false for MIG resources). */
  readonly karpenterAware: boolean;
}

/** The nodeSelector that lands a workload on any pool of accelerator `id`. */
export function acceleratorNodeSelector(id: string): Readonly<Record<string, string>> {
  return { [ACCELERATOR_LABEL]: id };
}

/**
 * The labels, taints, resource name and per-node count of a GPU pool, plus the nodeSelector and
 * tolerations a workload needs to land there. Throws one `ValidationError` (subject `GPU pool "<name>"`)
 * naming every bad field: `name`, `accelerator`, `instanceType`, `capacityType`, `sharing.mig`,
 * `sharing.timeSlicing.replicas`.
 */
export function gpuPoolConventions(pool: GpuPoolDeclaration, catalog: AcceleratorCatalog = AcceleratorCatalog.DEFAULT): GpuPoolConventions {
  const p = (pool ?? {}) as Partial<GpuPoolDeclaration>;
  const issues = new Issues(typeof p.name === 'string' ? `GPU pool "${p.name}"` : 'GPU pool');
  checkDnsLabel(issues, 'name', p.name);
  if (p.capacityType !== 'on-demand' && p.capacityType !== 'spot') issues.add('capacityType', p.capacityType, 'must be "on-demand" or "spot"');
  const acc = issues.capture('', () => catalog.accelerator(p.accelerator as string));
  const type = issues.capture('', () => catalog.instanceType(p.instanceType as string));
  if (acc && type && type.accelerator !== acc.id) {
    const fits = catalog.instanceTypesFor(acc.id).map((t) => t.name);
    issues.add('instanceType', type.name, `carries ${type.accelerator}, not ${acc.id}; use one of ${fits.join(', ') || `the ${acc.id} types`}`);
  }
  const sharing = checkSharing(p.sharing, acc, catalog, issues);
  issues.throwIfAny();
  const gpus = type!.gpuCount;
  const { mode, profile, replicas } = sharing!;
  const configName = mode === 'mig' ? 'mlplatform-mig-mixed' : mode === 'time-slicing' ? `mlplatform-time-sliced-${replicas}` : 'mlplatform-whole-gpu';
  const labels: Record<string, string> = {
    [ACCELERATOR_LABEL]: acc!.id,
    [GPU_POOL_LABEL]: p.name!,
    [CAPACITY_TYPE_LABEL]: p.capacityType!,
    [DEVICE_PLUGIN_CONFIG_LABEL]: configName,
    ...(profile ? { [MIG_CONFIG_LABEL]: `all-${profile.name}` } : {}),
  };
  const allocatablePerNode = profile ? profile.maxPerGpu * gpus : gpus * replicas;
  const devicePluginConfig: DevicePluginConfig = mode === 'time-slicing'
    ? {
      version: 'v1',
      flags: { migStrategy: 'none' },
      sharing: { timeSlicing: { renameByDefault: false, failRequestsGreaterThanOne: true, resources: [{ name: acc!.resourceName, replicas }] } },
    }
    : { version: 'v1', flags: { migStrategy: mode === 'mig' ? 'mixed' : 'none' } };
  return Object.freeze({
    pool: p.name!,
    accelerator: acc!.id,
    instanceType: type!.name,
    sharing: mode,
    labels: Object.freeze(labels),
    taints: Object.freeze([GPU_TAINT]),
    resourceName: profile ? profile.resourceName : acc!.resourceName,
    allocatablePerNode,
    maxPerContainer: mode === 'time-slicing' ? 1 : allocatablePerNode,
    nodeSelector: Object.freeze({ [ACCELERATOR_LABEL]: acc!.id, [GPU_POOL_LABEL]: p.name! }),
    tolerations: Object.freeze([GPU_TOLERATION]),
    devicePluginConfigName: configName,
    devicePluginConfig,
    karpenterAware: mode !== 'mig',
  });
}

interface CheckedSharing {
  readonly mode: GpuSharingMode;
  readonly profile?: MigProfile;
  readonly replicas: number;
}

function checkSharing(raw: unknown, acc: Accelerator | undefined, catalog: AcceleratorCatalog, issues: Issues): CheckedSharing | undefined {
  if (raw === undefined) return { mode: 'none', replicas: 1 };
  const s = raw as { mig?: unknown; timeSlicing?: { replicas?: unknown } };
  const shape = 'must be { mig: "<profile>" } or { timeSlicing: { replicas: <2 or more> } }; omit it for whole GPUs';
  if (typeof raw !== 'object' || raw === null || (s.mig === undefined) === (s.timeSlicing === undefined)) {
    issues.add('sharing', raw, shape);
    return undefined;
  }
  if (s.mig !== undefined) {
    if (!acc) return undefined;
    if (!acc.migCapable) {
      const capable = catalog.accelerators.filter((a) => a.migCapable).map((a) => a.id);
      issues.add('sharing.mig', s.mig, `${acc.id} does not support MIG; use timeSlicing, or an accelerator with MIG (${capable.join(', ')})`);
      return undefined;
    }
    const profile = acc.migProfiles.find((m) => m.name === s.mig);
    if (!profile) {
      issues.add('sharing.mig', s.mig, `is not a MIG profile of ${acc.id}; use one of ${acc.migProfiles.map((m) => m.name).join(', ')}`);
      return undefined;
    }
    return { mode: 'mig', profile, replicas: 1 };
  }
  const replicas = s.timeSlicing?.replicas;
  if (!Number.isInteger(replicas) || (replicas as number) < 2) {
    issues.add('sharing.timeSlicing.replicas', replicas, 'must be an integer of 2 or more; omit sharing for whole GPUs');
    return undefined;
  }
  return { mode: 'time-slicing', replicas: replicas as number };
}

/** Memory the kubelet's hard eviction threshold keeps free on EKS AMIs (`memory.available<100Mi`). */
export const EVICTION_HARD_MEMORY_MIB = 100;

/**
 * Ephemeral storage the kubelet reserves for itself on EKS AL2023 (`kubeReserved.ephemeral-storage: 1Gi`):
 * nodeadm's `withDefaultReservedResources`, awslabs/amazon-eks-ami `nodeadm/internal/kubelet/config.go`
 * (commit e48b98ad). Bottlerocket's default was not confirmed here; the model assumes the same.
 */
export const EKS_KUBE_RESERVED_EPHEMERAL_STORAGE_MIB = 1024;

/**
 * Share of the node filesystem the kubelet's hard eviction threshold keeps free on EKS AL2023
 * (`evictionHard: nodefs.available: "10%"`, nodeadm's `defaultKubeletSubConfig`, same file).
 */
export const EVICTION_HARD_NODEFS_AVAILABLE = 0.1;

/** Size of a GPU node's volume (the root volume on AL2023, the data volume on Bottlerocket) when a pool does not say: 100 GiB. */
export const DEFAULT_NODE_DISK_GIB = 100;

/** How the allocatable share of a node is computed. */
export interface AllocatableOptions {
  /** Pods the kubelet admits; sizes its memory reservation (11 MiB each + 255 MiB). @default 110 */
  readonly maxPods?: number;
  /** Share of memory the hypervisor and OS keep (Karpenter's `vmMemoryOverheadPercent`). @default 0.075 */
  readonly vmMemoryOverhead?: number;
  /** CPU the DaemonSets of every node request (device plugin, DCGM exporter, CNI, …). @default 0 */
  readonly daemonSetCpuMillicores?: number;
  /** Memory the DaemonSets of every node request. @default 0 */
  readonly daemonSetMemoryMiB?: number;
  /**
   * The node's volume that holds the kubelet's filesystem (pods' writable layers, logs and disk-backed
   * emptyDirs): a pool's `diskSize`. Instance-store NVMe counts only when RAID0 is configured, which
   * mlplatform does not do. @default Size.gibibytes(100)
   */
  readonly diskSize?: Size;
}

/** What pods can request on one node of an instance type. */
export interface NodeAllocatable {
  /** Allocatable CPU in millicores. */
  readonly cpuMillicores: number;
  /** Allocatable memory in MiB. */
  readonly memoryMiB: number;
  /** Allocatable ephemeral storage in MiB (rounded down). */
  readonly ephemeralStorageMiB: number;
  /** Whole GPUs. */
  readonly gpus: number;
  /** Accelerator id. */
  readonly accelerator: string;
  /** EFA interfaces. */
  readonly efaInterfaces: number;
}

/** CPU the kubelet reserves on EKS: 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% of the rest. */
export function eksReservedCpuMillicores(vcpu: number): number {
  const tier = (from: number, to: number) => Math.max(0, Math.min(vcpu, to) - from);
  return Math.ceil(tier(0, 1) * 60 + tier(1, 2) * 10 + tier(2, 4) * 5 + tier(4, Infinity) * 2.5);
}

/** Memory the kubelet reserves on EKS for `maxPods` pods: 11 MiB per pod + 255 MiB. */
export function eksReservedMemoryMiB(maxPods: number): number {
  return 11 * maxPods + 255;
}

/**
 * Allocatable ephemeral storage of a node whose kubelet filesystem is `disk`, in MiB (rounded down), as
 * the kubelet computes it (k8s.io/kubernetes `pkg/kubelet/cm` `GetNodeAllocatableReservation` and
 * `hardEvictionReservation`): capacity less `kubeReserved` (1 GiB) less the `nodefs.available` threshold,
 * which `GetThresholdQuantity` takes as `int64(float64(capacity) * float64(float32(0.1)))` bytes (a 10%
 * parsed as float32, so a hair above a tenth). The capacity is taken as the whole volume: the
 * filesystem cAdvisor reports is slightly smaller (partition table, XFS metadata), by well under 1%.
 */
export function eksAllocatableEphemeralStorageMiB(disk: Size): number {
  const capacity = disk.bytes;
  const eviction = Math.floor(capacity * Math.fround(EVICTION_HARD_NODEFS_AVAILABLE));
  const bytes = capacity - EKS_KUBE_RESERVED_EPHEMERAL_STORAGE_MIB * 2 ** 20 - eviction;
  return Math.max(0, Math.floor(bytes / 2 ** 20));
}

/** The smallest whole-GiB volume whose allocatable ephemeral storage holds `request`. */
export function diskSizeGiBFor(request: Size): number {
  let gib = Math.max(1, Math.floor((request.bytes / 2 ** 30 + EKS_KUBE_RESERVED_EPHEMERAL_STORAGE_MIB / 1024) / (1 - EVICTION_HARD_NODEFS_AVAILABLE)) - 1);
  while (eksAllocatableEphemeralStorageMiB(Size.gibibytes(gib)) * 2 ** 20 < request.bytes) gib++;
  return gib;
}

/**
 * The allocatable share of one node, as EKS and Karpenter compute it for AL2023: capacity less the
 * VM overhead, the kubelet reservation (`eksReserved*`), the eviction thresholds and the DaemonSets;
 * ephemeral storage from the node's volume (`eksAllocatableEphemeralStorageMiB`).
 */
export function nodeAllocatable(type: InstanceType, options: AllocatableOptions = {}): NodeAllocatable {
  const maxPods = options.maxPods ?? 110;
  const overhead = options.vmMemoryOverhead ?? 0.075;
  const dsCpu = options.daemonSetCpuMillicores ?? 0;
  const dsMem = options.daemonSetMemoryMiB ?? 0;
  const disk = options.diskSize ?? Size.gibibytes(DEFAULT_NODE_DISK_GIB);
  const issues = new Issues('Allocatable options');
  if (!(Number.isInteger(maxPods) && maxPods > 0)) issues.add('maxPods', maxPods, 'must be a positive integer, e.g. 110');
  if (!(overhead >= 0 && overhead < 1)) issues.add('vmMemoryOverhead', overhead, 'must be a fraction from 0 up to (not including) 1, e.g. 0.075');
  if (!(dsCpu >= 0 && Number.isFinite(dsCpu))) issues.add('daemonSetCpuMillicores', dsCpu, 'must be 0 or more');
  if (!(dsMem >= 0 && Number.isFinite(dsMem))) issues.add('daemonSetMemoryMiB', dsMem, 'must be 0 or more');
  if (!(disk instanceof Size)) issues.add('diskSize', disk, 'must be a Size, e.g. Size.gibibytes(100)');
  issues.throwIfAny();
  const capacityMiB = type.memoryGiB * 1024;
  return {
    cpuMillicores: Math.max(0, type.vcpu * 1000 - eksReservedCpuMillicores(type.vcpu) - dsCpu),
    memoryMiB: Math.max(0, capacityMiB - Math.ceil(capacityMiB * overhead - 1e-9) - eksReservedMemoryMiB(maxPods) - EVICTION_HARD_MEMORY_MIB - dsMem),
    ephemeralStorageMiB: eksAllocatableEphemeralStorageMiB(disk),
    gpus: type.gpuCount,
    accelerator: type.accelerator,
    efaInterfaces: type.efaInterfaces,
  };
}

/** What one pod (or one gang member) needs from a single node. */
export interface NodeRequest {
  /** Accelerator id. @default - any accelerator */
  readonly accelerator?: string;
  /** Whole GPUs. @default 0 */
  readonly gpus?: number;
  /** CPU in cores, e.g. 0.5. @default 0 */
  readonly cpuCores?: number;
  /** Memory in GiB. @default 0 */
  readonly memoryGiB?: number;
  /** Ephemeral storage in GiB (the pod's requests: its containers', or its largest init container's when larger). @default 0 */
  readonly ephemeralStorageGiB?: number;
  /** Needs EFA (multi-node NCCL). @default false */
  readonly efa?: boolean;
}

/** `fitInstanceType` options. */
export interface FitOptions extends AllocatableOptions {
  /** Catalog to resolve names in. @default AcceleratorCatalog.DEFAULT */
  readonly catalog?: AcceleratorCatalog;
}

/** Whether a request fits one node, and why not. */
export interface FitResult {
  /** True when every need is met. */
  readonly fits: boolean;
  /** One sentence per unmet need (empty when it fits). */
  readonly reasons: readonly string[];
  /** The node's allocatable share the request was checked against. */
  readonly allocatable: NodeAllocatable;
}

/** Checks `request` against the allocatable share of one node of `instanceType`. Throws a `ValidationError` for a malformed request. */
export function fitInstanceType(instanceType: string | InstanceType, request: NodeRequest, options: FitOptions = {}): FitResult {
  const catalog = options.catalog ?? AcceleratorCatalog.DEFAULT;
  const t = typeof instanceType === 'string' ? catalog.instanceType(instanceType) : instanceType;
  checkRequest(request, catalog);
  const a = nodeAllocatable(t, options);
  const reasons: string[] = [];
  const gpus = request.gpus ?? 0;
  const cpu = Math.ceil((request.cpuCores ?? 0) * 1000 - 1e-9);
  const mem = Math.ceil((request.memoryGiB ?? 0) * 1024 - 1e-9);
  const disk = Math.ceil((request.ephemeralStorageGiB ?? 0) * 1024 - 1e-9);
  if (request.accelerator !== undefined && request.accelerator !== t.accelerator) reasons.push(`${t.name} carries ${t.accelerator}, not ${request.accelerator}`);
  if (gpus > t.gpuCount) reasons.push(`needs ${gpus} GPUs on one node; ${t.name} has ${t.gpuCount}`);
  if (cpu > a.cpuMillicores) reasons.push(`needs ${cpu}m CPU; ${t.name} allocates ${a.cpuMillicores}m of its ${t.vcpu} vCPU`);
  if (mem > a.memoryMiB) reasons.push(`needs ${mem}Mi memory; ${t.name} allocates ${a.memoryMiB}Mi of its ${t.memoryGiB}Gi`);
  if (disk > a.ephemeralStorageMiB) reasons.push(`needs ${disk}Mi ephemeral storage; a ${t.name} node with a ${(options.diskSize ?? Size.gibibytes(DEFAULT_NODE_DISK_GIB)).toString()} volume allocates ${a.ephemeralStorageMiB}Mi`);
  if (request.efa && t.efaInterfaces === 0) reasons.push(`needs EFA; ${t.name} has none`);
  return { fits: reasons.length === 0, reasons, allocatable: a };
}

/** The cheapest priced instance type one of whose nodes fits `request`, or undefined when none does. */
export function cheapestInstanceType(request: NodeRequest, options: FitOptions = {}): InstanceType | undefined {
  const catalog = options.catalog ?? AcceleratorCatalog.DEFAULT;
  checkRequest(request, catalog);
  const candidates = request.accelerator !== undefined
    ? catalog.instanceTypesFor(request.accelerator)
    : [...catalog.instanceTypes].sort(byOnDemandPrice);
  return candidates.find((t) => t.onDemandUsdPerHour !== undefined && fitInstanceType(t, request, options).fits);
}

function checkRequest(r: NodeRequest, catalog: AcceleratorCatalog): void {
  const issues = new Issues('Node request');
  const nonNegative = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
  if (r.gpus !== undefined && !(Number.isInteger(r.gpus) && r.gpus >= 0)) issues.add('gpus', r.gpus, 'must be an integer of 0 or more (whole GPUs)');
  if (!nonNegative(r.cpuCores)) issues.add('cpuCores', r.cpuCores, 'must be a number of cores, 0 or more, e.g. 0.5');
  if (!nonNegative(r.memoryGiB)) issues.add('memoryGiB', r.memoryGiB, 'must be a number of GiB, 0 or more');
  if (!nonNegative(r.ephemeralStorageGiB)) issues.add('ephemeralStorageGiB', r.ephemeralStorageGiB, 'must be a number of GiB, 0 or more');
  if (r.accelerator !== undefined) issues.capture('', () => catalog.accelerator(r.accelerator!));
  issues.throwIfAny();
}

import { BUILTIN_ACCELERATORS, BUILTIN_INSTANCE_TYPES } from './accelerator-catalog';
import type {
  AcceleratorProps, AcceleratorVendor, CpuArchitecture, EksAmiType, GpuArchitecture, InstanceTypeProps, MigProfileProps,
} from './accelerator-catalog';
import { Issues, ValidationError } from './errors';
import { checkDnsLabel, isLabelValue as isLabelValueOrEmpty } from './names';

/**
 * The NVIDIA AMI types GPU nodes need, per CPU architecture, AL2023 first (AL2 and its `AL2_x86_64_GPU`
 * are past end of support). Karpenter's `al2023@…` / `bottlerocket@…` aliases pick the same NVIDIA variants.
 */
export const NVIDIA_AMI_TYPES: Readonly<Record<CpuArchitecture, readonly EksAmiType[]>> = {
  x86_64: ['AL2023_x86_64_NVIDIA', 'BOTTLEROCKET_x86_64_NVIDIA'],
  arm64: ['AL2023_ARM_64_NVIDIA', 'BOTTLEROCKET_ARM_64_NVIDIA'],
};

/** The extended resource the NVIDIA device plugin advertises a whole GPU as. */
export const NVIDIA_GPU_RESOURCE = 'nvidia.com/gpu';

/** The extended resource of a MIG profile under the device plugin's `mixed` strategy, e.g. `nvidia.com/mig-1g.10gb`. */
export function migResourceName(profile: string): string {
  return `nvidia.com/mig-${profile}`;
}

/** A validated MIG profile. */
export interface MigProfile extends MigProfileProps {
  /** Compute slices (the number before `g`). */
  readonly computeSlices: number;
  /** Nominal memory in GB (the number before `gb`). */
  readonly memoryGB: number;
  /** The extended resource workloads request under the `mixed` strategy. */
  readonly resourceName: string;
}

/** A validated GPU model. */
export interface Accelerator {
  /** Stable DNS-1123 label id. */
  readonly id: string;
  /** Human name. */
  readonly displayName: string;
  /** Vendor. */
  readonly vendor: AcceleratorVendor;
  /** GPU memory in GB as NVIDIA publishes it. */
  readonly memoryGB: number;
  /** Micro-architecture. */
  readonly architecture: GpuArchitecture;
  /** The extended resource a whole GPU is requested as. */
  readonly resourceName: string;
  /** The `nvidia.com/gpu.product` label value (whole GPUs, no time-slicing). */
  readonly gfdProduct: string;
  /** The `karpenter.k8s.aws/instance-gpu-name` value, when the GPU is sold on EC2. */
  readonly karpenterGpuName?: string;
  /** The `karpenter.k8s.aws/instance-gpu-memory` value (MiB), when known. */
  readonly ec2GpuMemoryMiB?: number;
  /** Whether the GPU supports Multi-Instance GPU partitioning. */
  readonly migCapable: boolean;
  /** Supported MIG profiles (empty when `migCapable` is false). */
  readonly migProfiles: readonly MigProfile[];
  /** Compute slices of the GPU (meaningful when `migCapable`). */
  readonly migComputeSlices: number;
  /** Memory slices of the GPU (meaningful when `migCapable`). */
  readonly migMemorySlices: number;
}

/** A validated EC2 GPU instance type. */
export interface InstanceType {
  /** EC2 name, also the `node.kubernetes.io/instance-type` label value. */
  readonly name: string;
  /** EC2 family (the part before the dot). */
  readonly family: string;
  /** Id of the accelerator it carries. */
  readonly accelerator: string;
  /** GPUs per instance. */
  readonly gpuCount: number;
  /** vCPUs per instance. */
  readonly vcpu: number;
  /** Memory per instance in GiB. */
  readonly memoryGiB: number;
  /** Total GPU memory in GB (per-GPU GB × `gpuCount`). */
  readonly totalGpuMemoryGB: number;
  /** On-demand Linux USD per hour in `PRICES_REGION`; undefined when AWS publishes none. */
  readonly onDemandUsdPerHour?: number;
  /** Why the price is missing or unusual. */
  readonly priceNote?: string;
  /** Maximum EFA interfaces; 0 means no EFA. */
  readonly efaInterfaces: number;
  /** Whether the GPUs are linked by NVLink/NVSwitch. */
  readonly nvlink: boolean;
  /** CPU architecture. */
  readonly cpuArchitecture: CpuArchitecture;
  /** EKS AMI types that can run it (NVIDIA variants). */
  readonly eksAmiTypes: readonly EksAmiType[];
}

const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const MIG_NAME = /^([1-9])g\.([1-9][0-9]*)gb$/;
const INSTANCE_NAME = /^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/;
const ARCHITECTURES: readonly GpuArchitecture[] = ['turing', 'ampere', 'ada-lovelace', 'hopper', 'blackwell'];
const LABEL_FIX = "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

const isLabelValue = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && isLabelValueOrEmpty(v);
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * Validates a GPU model and returns it complete. Throws one `ValidationError` listing every bad field
 * (`id`, `memoryGB`, `migProfiles[2].maxPerGpu`, …) with its value and the fix.
 */
export function defineAccelerator(props: AcceleratorProps): Accelerator {
  const p = (props ?? {}) as Partial<AcceleratorProps>;
  const issues = new Issues(typeof p.id === 'string' ? `Accelerator "${p.id}"` : 'Accelerator');
  checkDnsLabel(issues, 'id', p.id);
  if (typeof p.displayName !== 'string' || p.displayName.trim() === '') issues.add('displayName', p.displayName, 'must be a non-empty string, e.g. "NVIDIA A100 80GB"');
  if (p.vendor !== undefined && p.vendor !== 'nvidia') issues.add('vendor', p.vendor, 'must be "nvidia", the only vendor modelled');
  if (!isPositive(p.memoryGB)) issues.add('memoryGB', p.memoryGB, 'must be a positive number of GB as NVIDIA publishes it, e.g. 80');
  if (!ARCHITECTURES.includes(p.architecture as GpuArchitecture)) issues.add('architecture', p.architecture, `must be one of ${ARCHITECTURES.join(', ')}`);
  if (p.resourceName !== undefined && !(typeof p.resourceName === 'string' && RESOURCE_NAME.test(p.resourceName))) {
    issues.add('resourceName', p.resourceName, 'must be an extended resource name "<domain>/<name>", e.g. "nvidia.com/gpu"');
  }
  if (!isLabelValue(p.gfdProduct)) issues.add('gfdProduct', p.gfdProduct, `${LABEL_FIX}, as GPU Feature Discovery writes it, e.g. "NVIDIA-A100-SXM4-80GB"`);
  if (p.karpenterGpuName !== undefined && !isLabelValue(p.karpenterGpuName)) issues.add('karpenterGpuName', p.karpenterGpuName, `${LABEL_FIX}, e.g. "a100"`);
  if (p.ec2GpuMemoryMiB !== undefined && !isPositiveInt(p.ec2GpuMemoryMiB)) issues.add('ec2GpuMemoryMiB', p.ec2GpuMemoryMiB, 'must be a positive integer of MiB, e.g. 81920');
  const [computeSlices, memorySlices] = [p.migComputeSlices ?? 7, p.migMemorySlices ?? 8];
  if (!isPositiveInt(computeSlices)) issues.add('migComputeSlices', computeSlices, 'must be a positive integer, e.g. 7');
  if (!isPositiveInt(memorySlices)) issues.add('migMemorySlices', memorySlices, 'must be a positive integer, e.g. 8');
  const profiles: MigProfile[] = [];
  if (p.migProfiles !== undefined && !Array.isArray(p.migProfiles)) {
    issues.add('migProfiles', p.migProfiles, 'must be a list of { name, memorySlices, maxPerGpu }');
  } else {
    const seen = new Map<string, number>();
    (p.migProfiles ?? []).forEach((mp, i) => {
      const profile = checkMigProfile(mp, `migProfiles[${i}]`, p.memoryGB, computeSlices, memorySlices, issues);
      if (!profile) return;
      const first = seen.get(profile.name);
      if (first !== undefined) issues.add(`migProfiles[${i}].name`, profile.name, `duplicates migProfiles[${first}]; list each profile once`);
      else seen.set(profile.name, i);
      profiles.push(profile);
    });
  }
  issues.throwIfAny();
  const a: Accelerator = {
    id: p.id!,
    displayName: p.displayName!,
    vendor: 'nvidia',
    memoryGB: p.memoryGB!,
    architecture: p.architecture!,
    resourceName: p.resourceName ?? NVIDIA_GPU_RESOURCE,
    gfdProduct: p.gfdProduct!,
    ...(p.karpenterGpuName !== undefined ? { karpenterGpuName: p.karpenterGpuName } : {}),
    ...(p.ec2GpuMemoryMiB !== undefined ? { ec2GpuMemoryMiB: p.ec2GpuMemoryMiB } : {}),
    migCapable: profiles.length > 0,
    migProfiles: Object.freeze(profiles),
    migComputeSlices: computeSlices,
    migMemorySlices: memorySlices,
  };
  return Object.freeze(a);
}

function checkMigProfile(
  mp: MigProfileProps, path: string, gpuGB: unknown, computeMax: number, memoryMax: number, issues: Issues,
): MigProfile | undefined {
  const before = issues.all.length;
  const m = typeof mp?.name === 'string' ? MIG_NAME.exec(mp.name) : null;
  if (!m) issues.add(`${path}.name`, mp?.name, 'must be "<compute slices>g.<memory>gb", e.g. "1g.10gb"');
  if (!isPositiveInt(mp?.memorySlices) || mp.memorySlices > memoryMax) issues.add(`${path}.memorySlices`, mp?.memorySlices, `must be an integer from 1 to ${memoryMax}`);
  if (!isPositiveInt(mp?.maxPerGpu)) issues.add(`${path}.maxPerGpu`, mp?.maxPerGpu, 'must be a positive integer (instances per GPU)');
  if (issues.all.length > before || !m) return undefined;
  const computeSlices = Number(m[1]);
  const memoryGB = Number(m[2]);
  if (computeSlices > computeMax) issues.add(`${path}.name`, mp.name, `uses ${computeSlices} compute slices; the GPU has ${computeMax}`);
  const share = isPositive(gpuGB) ? (gpuGB * mp.memorySlices) / memoryMax : Infinity;
  if (memoryGB > share + 1) issues.add(`${path}.name`, mp.name, `names ${memoryGB} GB but ${mp.memorySlices} of ${memoryMax} memory slices of ${gpuGB} GB hold about ${Math.round(share)} GB`);
  const fit = Math.min(Math.floor(memoryMax / mp.memorySlices), Math.floor(computeMax / computeSlices));
  if (fit > 0 && mp.maxPerGpu > fit) issues.add(`${path}.maxPerGpu`, mp.maxPerGpu, `at most ${fit} fit one GPU (${memoryMax} memory and ${computeMax} compute slices)`);
  if (issues.all.length > before) return undefined;
  const { name, memorySlices, maxPerGpu } = mp;
  return Object.freeze({ name, memorySlices, maxPerGpu, computeSlices, memoryGB, resourceName: migResourceName(name) });
}

/**
 * Validates an EC2 GPU instance type against the accelerators it may reference (the default catalog's
 * unless given) and returns it complete. Throws one `ValidationError` listing every bad field.
 */
export function defineInstanceType(props: InstanceTypeProps, accelerators?: AcceleratorCatalog | readonly Accelerator[]): InstanceType {
  const known: readonly Accelerator[] = Array.isArray(accelerators) ? accelerators
    : ((accelerators as AcceleratorCatalog | undefined) ?? AcceleratorCatalog.DEFAULT).accelerators;
  const p = (props ?? {}) as Partial<InstanceTypeProps>;
  const issues = new Issues(typeof p.name === 'string' ? `Instance type "${p.name}"` : 'Instance type');
  if (!(isLabelValue(p.name) && INSTANCE_NAME.test(p.name))) issues.add('name', p.name, 'must be an EC2 instance type "<family>.<size>" in lowercase, at most 63 characters, e.g. "g5.xlarge"');
  const acc = known.find((a) => a.id === p.accelerator);
  if (!acc) issues.add('accelerator', p.accelerator, `is not a known accelerator; use one of ${known.map((a) => a.id).join(', ')} or define it with defineAccelerator`);
  if (!isPositiveInt(p.gpuCount)) issues.add('gpuCount', p.gpuCount, 'must be a positive integer (GPUs per instance)');
  if (!isPositiveInt(p.vcpu)) issues.add('vcpu', p.vcpu, 'must be a positive integer (vCPUs per instance)');
  if (!isPositive(p.memoryGiB)) issues.add('memoryGiB', p.memoryGiB, 'must be a positive number of GiB');
  const total = acc && isPositiveInt(p.gpuCount) ? acc.memoryGB * p.gpuCount : undefined;
  if (p.totalGpuMemoryGB !== undefined && total !== undefined && p.totalGpuMemoryGB !== total) {
    issues.add('totalGpuMemoryGB', p.totalGpuMemoryGB, `must equal gpuCount x ${acc!.id} memoryGB (${p.gpuCount} x ${acc!.memoryGB} = ${total}); fix whichever is wrong`);
  }
  if (p.onDemandUsdPerHour !== undefined && !isPositive(p.onDemandUsdPerHour)) issues.add('onDemandUsdPerHour', p.onDemandUsdPerHour, 'must be a positive number of USD per hour, or omitted when AWS publishes no on-demand price');
  if (p.efaInterfaces !== undefined && !isCount(p.efaInterfaces)) issues.add('efaInterfaces', p.efaInterfaces, 'must be an integer of 0 or more (0 = no EFA)');
  if (p.nvlink !== undefined && typeof p.nvlink !== 'boolean') issues.add('nvlink', p.nvlink, 'must be true or false');
  if (p.nvlink === true && isPositiveInt(p.gpuCount) && p.gpuCount < 2) issues.add('nvlink', p.nvlink, 'needs at least 2 GPUs; set it to false for a single-GPU size');
  const arch = p.cpuArchitecture ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'arm64') issues.add('cpuArchitecture', arch, 'must be "x86_64" or "arm64"');
  const allowed = NVIDIA_AMI_TYPES[arch as CpuArchitecture] ?? [];
  const amis = p.eksAmiTypes ?? allowed;
  if (!Array.isArray(amis) || amis.length === 0 || amis.some((t) => !allowed.includes(t))) {
    issues.add('eksAmiTypes', p.eksAmiTypes, `must be a non-empty subset of ${allowed.join(', ') || 'the NVIDIA AMI types of the CPU architecture'}`);
  }
  issues.throwIfAny();
  const t: InstanceType = {
    name: p.name!,
    family: p.name!.split('.')[0],
    accelerator: acc!.id,
    gpuCount: p.gpuCount!,
    vcpu: p.vcpu!,
    memoryGiB: p.memoryGiB!,
    totalGpuMemoryGB: total!,
    ...(p.onDemandUsdPerHour !== undefined ? { onDemandUsdPerHour: p.onDemandUsdPerHour } : {}),
    ...(p.priceNote !== undefined ? { priceNote: p.priceNote } : {}),
    efaInterfaces: p.efaInterfaces ?? 0,
    nvlink: p.nvlink ?? false,
    cpuArchitecture: arch,
    eksAmiTypes: Object.freeze([...amis]),
  };
  return Object.freeze(t);
}

/** Entries to add to a catalog; each goes through `defineAccelerator` / `defineInstanceType`. */
export interface AcceleratorCatalogProps {
  /** GPU models to add (ids must be new). @default [] */
  readonly accelerators?: readonly AcceleratorProps[];
  /** Instance types to add (names must be new; accelerators from this catalog or `accelerators`). @default [] */
  readonly instanceTypes?: readonly InstanceTypeProps[];
}

/** Which instance types `instanceTypesFor` returns. */
export interface InstanceTypeFilter {
  /** Fewest GPUs per instance. @default 1 */
  readonly minGpus?: number;
  /** Most GPUs per instance. @default - no limit */
  readonly maxGpus?: number;
  /** Only types with EFA (multi-node training). @default false */
  readonly efa?: boolean;
}

/**
 * The GPUs and GPU instance types the platform knows, looked up by id or name. `DEFAULT` holds the
 * built-in table (`accelerator-catalog.ts`); `with(...)` returns a copy with custom entries added.
 *
 * ```ts
 * const catalog = AcceleratorCatalog.DEFAULT.with({ accelerators: [myGpu], instanceTypes: [myType] });
 * catalog.instanceTypesFor('nvidia-a100-40gb', { minGpus: 8 }); // [p4d.24xlarge]
 * ```
 */
export class AcceleratorCatalog {
  /** The built-in catalog: NVIDIA T4 to H200 and every size of g4dn, g5, g6, g6e, p4d, p4de, p5, p5e, p5en. */
  public static readonly DEFAULT: AcceleratorCatalog = AcceleratorCatalog.create({
    accelerators: BUILTIN_ACCELERATORS,
    instanceTypes: BUILTIN_INSTANCE_TYPES,
  });

  /** Builds a catalog from declarations; throws one `ValidationError` naming every bad entry (`accelerators[2].memoryGB`, …). */
  public static create(props: AcceleratorCatalogProps): AcceleratorCatalog {
    return AcceleratorCatalog.build(props, new Map(), new Map());
  }

  private static build(props: AcceleratorCatalogProps, accs: Map<string, Accelerator>, types: Map<string, InstanceType>): AcceleratorCatalog {
    const issues = new Issues('Accelerator catalog');
    (props.accelerators ?? []).forEach((ap, i) => {
      const a = issues.capture(`accelerators[${i}]`, () => defineAccelerator(ap));
      if (a && accs.has(a.id)) issues.add(`accelerators[${i}].id`, a.id, 'is already in the catalog; choose another id');
      else if (a) accs.set(a.id, a);
    });
    const known = [...accs.values()];
    (props.instanceTypes ?? []).forEach((tp, i) => {
      const t = issues.capture(`instanceTypes[${i}]`, () => defineInstanceType(tp, known));
      if (t && types.has(t.name)) issues.add(`instanceTypes[${i}].name`, t.name, 'is already in the catalog; choose another name');
      else if (t) types.set(t.name, t);
    });
    issues.throwIfAny();
    return new AcceleratorCatalog(accs, types);
  }

  private constructor(private readonly accs: ReadonlyMap<string, Accelerator>, private readonly types: ReadonlyMap<string, InstanceType>) {}

  /** A copy of this catalog with `props` added; the receiver is unchanged. */
  public with(props: AcceleratorCatalogProps): AcceleratorCatalog {
    return AcceleratorCatalog.build(props, new Map(this.accs), new Map(this.types));
  }

  /** Every accelerator, in declaration order. */
  public get accelerators(): readonly Accelerator[] {
    return [...this.accs.values()];
  }

  /** Every instance type, in declaration order. */
  public get instanceTypes(): readonly InstanceType[] {
    return [...this.types.values()];
  }

  /** Whether `id` names an accelerator of this catalog. */
  public hasAccelerator(id: string): boolean {
    return this.accs.has(id);
  }

  /** The accelerator `id`; throws a `ValidationError` at path `accelerator` listing the known ids. */
  public accelerator(id: string): Accelerator {
    const a = this.accs.get(id);
    if (!a) throw unknown('accelerator', id, 'accelerator', [...this.accs.keys()]);
    return a;
  }

  /** The instance type `name`; throws a `ValidationError` at path `instanceType` listing the known names. */
  public instanceType(name: string): InstanceType {
    const t = this.types.get(name);
    if (!t) throw unknown('instanceType', name, 'GPU instance type', [...this.types.keys()]);
    return t;
  }

  /**
   * The instance types carrying `acceleratorId` that pass `filter`, cheapest first (types without an
   * on-demand price last, then by name). Throws like `accelerator(id)` for an unknown id.
   */
  public instanceTypesFor(acceleratorId: string, filter: InstanceTypeFilter = {}): readonly InstanceType[] {
    this.accelerator(acceleratorId);
    const min = filter.minGpus ?? 1;
    const max = filter.maxGpus ?? Infinity;
    return this.instanceTypes
      .filter((t) => t.accelerator === acceleratorId && t.gpuCount >= min && t.gpuCount <= max && (!filter.efa || t.efaInterfaces > 0))
      .sort(byOnDemandPrice);
  }
}

/** Orders instance types cheapest first; unpriced ones last; ties by name. */
export function byOnDemandPrice(a: InstanceType, b: InstanceType): number {
  const pa = a.onDemandUsdPerHour ?? Infinity;
  const pb = b.onDemandUsdPerHour ?? Infinity;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function unknown(path: string, value: string, what: string, known: readonly string[]): ValidationError {
  return new ValidationError('Accelerator catalog', [{ path, value, message: `is not a known ${what}; use one of ${known.join(', ')}` }]);
}

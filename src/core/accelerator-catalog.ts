/*
 * The pinned data behind `AcceleratorCatalog.DEFAULT`: the GPUs and the AWS GPU instance types users
 * actually pick. Plain declarations only; `accelerators.ts` runs every entry through the same
 * `defineAccelerator` / `defineInstanceType` validation that custom entries get.
 *
 * Sources (read 2026-11):
 * - GPU memory: NVIDIA data sheets (marketing GB: T4 16, A10/A10G 24, L4 24, L40S 48, A100 40/80,
 *   H100 SXM 80, H200 141).
 * - `nvidia.com/gpu.product`: GPU Feature Discovery replaces the spaces of the `nvidia-smi` name with
 *   '-' ("NVIDIA H100 80GB HBM3" -> "NVIDIA-H100-80GB-HBM3"); values as seen on real nodes.
 * - `karpenter.k8s.aws/instance-gpu-name` / `-gpu-memory`, vCPU, memory and EFA interface counts:
 *   Karpenter's generated instance-type reference (aws/karpenter-provider-aws,
 *   website/content/en/docs/reference/instance-types.md), cross-checked with torchx's AWS named resources.
 * - MIG profiles and instance counts: NVIDIA MIG user guide ("Supported MIG Profiles") and the GPU
 *   Operator's default mig-parted config (assets/state-mig-manager/0400_configmap.yaml).
 * - Prices: see PRICES_SOURCE.
 */

/** GPU vendors the catalog models. Only NVIDIA today (AMD and Neuron devices bring other resource names and taints). */
export type AcceleratorVendor = 'nvidia';

/** GPU micro-architectures, lowercase as NVIDIA names them. */
export type GpuArchitecture = 'turing' | 'ampere' | 'ada-lovelace' | 'hopper' | 'blackwell';

/** The CPU architecture of an instance type, as EC2 names it (`kubernetes.io/arch` is `amd64` / `arm64`). */
export type CpuArchitecture = 'x86_64' | 'arm64';

/** EKS managed node group AMI types that ship the NVIDIA driver and container toolkit. */
export type EksAmiType = 'AL2023_x86_64_NVIDIA' | 'BOTTLEROCKET_x86_64_NVIDIA' | 'AL2023_ARM_64_NVIDIA' | 'BOTTLEROCKET_ARM_64_NVIDIA';

/** A MIG profile as declared: the homogeneous layout `all-<name>` of one GPU. */
export interface MigProfileProps {
  /** NVIDIA's profile name `<compute slices>g.<memory>gb`, e.g. `1g.10gb`. */
  readonly name: string;
  /** Memory slices the profile takes (eighths of the GPU on A100/H100/H200). */
  readonly memorySlices: number;
  /** How many instances of this profile one GPU holds when every slice uses it. */
  readonly maxPerGpu: number;
}

/** A GPU model as declared, for `defineAccelerator`. */
export interface AcceleratorProps {
  /** Stable DNS-1123 label id, e.g. `nvidia-a100-80gb`; also the `mlplatform.io/accelerator` label value. */
  readonly id: string;
  /** Human name, e.g. `NVIDIA A100 80GB (SXM4)`. */
  readonly displayName: string;
  /** @default 'nvidia' */
  readonly vendor?: AcceleratorVendor;
  /** GPU memory in GB exactly as NVIDIA publishes it (141 for H200); `nvidia-smi` shows a little less usable. */
  readonly memoryGB: number;
  /** Micro-architecture. */
  readonly architecture: GpuArchitecture;
  /** @default 'nvidia.com/gpu' */
  readonly resourceName?: string;
  /** The `nvidia.com/gpu.product` value GPU Feature Discovery writes on the node, e.g. `NVIDIA-H100-80GB-HBM3`. */
  readonly gfdProduct: string;
  /** The `karpenter.k8s.aws/instance-gpu-name` value, e.g. `a100` (shared by A100 40GB and 80GB: `ec2GpuMemoryMiB` tells them apart). @default - none */
  readonly karpenterGpuName?: string;
  /** GPU memory as EC2 reports it (`karpenter.k8s.aws/instance-gpu-memory`, MiB). @default - none */
  readonly ec2GpuMemoryMiB?: number;
  /** The MIG profiles the GPU supports. @default [] (no MIG) */
  readonly migProfiles?: readonly MigProfileProps[];
  /** Compute slices of a MIG-capable GPU. @default 7 */
  readonly migComputeSlices?: number;
  /** Memory slices of a MIG-capable GPU. @default 8 */
  readonly migMemorySlices?: number;
}

/** An EC2 GPU instance type as declared, for `defineInstanceType`. */
export interface InstanceTypeProps {
  /** EC2 name `<family>.<size>`, e.g. `p4d.24xlarge`. */
  readonly name: string;
  /** Id of the accelerator it carries. */
  readonly accelerator: string;
  /** GPUs per instance. */
  readonly gpuCount: number;
  /** vCPUs per instance. */
  readonly vcpu: number;
  /** Memory per instance in GiB. */
  readonly memoryGiB: number;
  /** AWS's published total GPU memory; must equal `gpuCount` × the accelerator's `memoryGB`. @default computed */
  readonly totalGpuMemoryGB?: number;
  /** On-demand Linux price in USD per hour in `PRICES_REGION`. @default - none published */
  readonly onDemandUsdPerHour?: number;
  /** Why the price is missing or unusual. @default - none */
  readonly priceNote?: string;
  /** Maximum EFA interfaces (`vpc.amazonaws.com/efa`); 0 means no EFA, so no multi-node NCCL over EFA. @default 0 */
  readonly efaInterfaces?: number;
  /** Whether the GPUs are linked by NVLink/NVSwitch. @default false */
  readonly nvlink?: boolean;
  /** @default 'x86_64' */
  readonly cpuArchitecture?: CpuArchitecture;
  /** EKS AMI types that can run it. @default NVIDIA_AMI_TYPES[cpuArchitecture] */
  readonly eksAmiTypes?: readonly EksAmiType[];
}

/** The date the pinned on-demand prices were last confirmed (ISO 8601). */
export const PRICES_AS_OF = '2026-11-09';

/** The AWS region the pinned prices apply to. Other regions differ (us-west-1 is ~25% dearer). */
export const PRICES_REGION = 'us-east-1';

/**
 * Where the pinned prices come from: on-demand, Linux, shared tenancy, USD per hour.
 *
 * - P-family prices are those in force after AWS's June 2025 reduction for P4d, P4de, P5 and P5en
 *   (up to 45%), confirmed from two independent transcriptions of the AWS price list dated 2026-08
 *   and 2026-11-09 (p5en.48xlarge $63.296 also shown by `dstack offer` on 2026-08-06).
 * - G-family prices have not changed since launch; the same figures appear in every source read.
 * - p5e.48xlarge has no on-demand Linux price in us-east-1 (sold through EC2 Capacity Blocks for ML),
 *   so it carries none rather than a guess.
 */
export const PRICES_SOURCE =
  'AWS EC2 on-demand price list (Linux, shared tenancy, us-east-1), post-June-2025 P-family reduction; confirmed 2026-11-09';

/**
 * The homogeneous MIG layouts of a GPU with 7 compute and 8 memory slices (A100, H100, H200), named
 * by the memory of 1, 2, 4 and 8 memory slices.
 */
function sevenSliceMig(one: string, two: string, four: string, eight: string): MigProfileProps[] {
  return [
    { name: `1g.${one}`, memorySlices: 1, maxPerGpu: 7 },
    { name: `1g.${two}`, memorySlices: 2, maxPerGpu: 4 },
    { name: `2g.${two}`, memorySlices: 2, maxPerGpu: 3 },
    { name: `3g.${four}`, memorySlices: 4, maxPerGpu: 2 },
    { name: `4g.${four}`, memorySlices: 4, maxPerGpu: 1 },
    { name: `7g.${eight}`, memorySlices: 8, maxPerGpu: 1 },
  ];
}

/** The built-in GPUs. */
export const BUILTIN_ACCELERATORS: readonly AcceleratorProps[] = [
  {
    id: 'nvidia-t4',
    displayName: 'NVIDIA T4',
    memoryGB: 16,
    architecture: 'turing',
    gfdProduct: 'Tesla-T4',
    karpenterGpuName: 't4',
    ec2GpuMemoryMiB: 16384,
  },
  {
    // A10G is the AWS variant of the A10; NVIDIA publishes no separate sheet, AWS lists 24 GB.
    id: 'nvidia-a10g',
    displayName: 'NVIDIA A10G',
    memoryGB: 24,
    architecture: 'ampere',
    gfdProduct: 'NVIDIA-A10G',
    karpenterGpuName: 'a10g',
    ec2GpuMemoryMiB: 22888,
  },
  {
    id: 'nvidia-l4',
    displayName: 'NVIDIA L4',
    memoryGB: 24,
    architecture: 'ada-lovelace',
    gfdProduct: 'NVIDIA-L4',
    karpenterGpuName: 'l4',
    ec2GpuMemoryMiB: 22888,
  },
  {
    id: 'nvidia-l40s',
    displayName: 'NVIDIA L40S',
    memoryGB: 48,
    architecture: 'ada-lovelace',
    gfdProduct: 'NVIDIA-L40S',
    karpenterGpuName: 'l40s',
    ec2GpuMemoryMiB: 45776,
  },
  {
    // On A100-40GB, 1g.10gb is a 1-compute/2-memory-slice profile (R525+ drivers), 4 per GPU.
    id: 'nvidia-a100-40gb',
    displayName: 'NVIDIA A100 40GB (SXM4)',
    memoryGB: 40,
    architecture: 'ampere',
    gfdProduct: 'NVIDIA-A100-SXM4-40GB',
    karpenterGpuName: 'a100',
    ec2GpuMemoryMiB: 40960,
    migProfiles: sevenSliceMig('5gb', '10gb', '20gb', '40gb'),
  },
  {
    id: 'nvidia-a100-80gb',
    displayName: 'NVIDIA A100 80GB (SXM4)',
    memoryGB: 80,
    architecture: 'ampere',
    gfdProduct: 'NVIDIA-A100-SXM4-80GB',
    karpenterGpuName: 'a100',
    ec2GpuMemoryMiB: 81920,
    migProfiles: sevenSliceMig('10gb', '20gb', '40gb', '80gb'),
  },
  {
    id: 'nvidia-h100-80gb',
    displayName: 'NVIDIA H100 80GB (SXM5)',
    memoryGB: 80,
    architecture: 'hopper',
    gfdProduct: 'NVIDIA-H100-80GB-HBM3',
    karpenterGpuName: 'h100',
    ec2GpuMemoryMiB: 81920,
    migProfiles: sevenSliceMig('10gb', '20gb', '40gb', '80gb'),
  },
  {
    // 141 GB / 8 memory slices = 17.6 GB, so NVIDIA names the profiles 18, 35, 71 and 141 GB.
    id: 'nvidia-h200-141gb',
    displayName: 'NVIDIA H200 141GB (SXM5)',
    memoryGB: 141,
    architecture: 'hopper',
    gfdProduct: 'NVIDIA-H200',
    karpenterGpuName: 'h200',
    ec2GpuMemoryMiB: 144384,
    migProfiles: sevenSliceMig('18gb', '35gb', '71gb', '141gb'),
  },
];

/** One row of the instance table: [size, GPUs, vCPU, memory GiB, USD/hour, EFA interfaces]. */
type Row = readonly [size: string, gpus: number, vcpu: number, memoryGiB: number, usd: number | undefined, efa: number];

/** Family-level facts shared by every size of an EC2 GPU instance family. */
export interface InstanceFamily {
  /** EC2 family prefix, e.g. `p5`. */
  readonly name: string;
  /** The accelerator every size carries. */
  readonly accelerator: string;
  /** Whether multi-GPU sizes connect their GPUs with NVLink/NVSwitch (otherwise PCIe only). */
  readonly nvlink: boolean;
  /** What the family is for, in one line. */
  readonly summary: string;
}

/** The built-in EC2 GPU families (all x86_64, all run the EKS NVIDIA AMIs). */
export const INSTANCE_FAMILIES: readonly InstanceFamily[] = [
  { name: 'g4dn', accelerator: 'nvidia-t4', nvlink: false, summary: 'T4: cheapest inference and small training' },
  { name: 'g5', accelerator: 'nvidia-a10g', nvlink: false, summary: 'A10G: inference and single-node fine-tuning' },
  { name: 'g6', accelerator: 'nvidia-l4', nvlink: false, summary: 'L4: efficient inference' },
  { name: 'g6e', accelerator: 'nvidia-l40s', nvlink: false, summary: 'L40S: large-model inference, mid-size training' },
  { name: 'p4d', accelerator: 'nvidia-a100-40gb', nvlink: true, summary: 'A100 40GB: multi-node training (400 Gbps EFA)' },
  { name: 'p4de', accelerator: 'nvidia-a100-80gb', nvlink: true, summary: 'A100 80GB: multi-node training (400 Gbps EFA)' },
  { name: 'p5', accelerator: 'nvidia-h100-80gb', nvlink: true, summary: 'H100: large-scale training (3200 Gbps EFA)' },
  { name: 'p5e', accelerator: 'nvidia-h200-141gb', nvlink: true, summary: 'H200: memory-bound training (3200 Gbps EFA)' },
  { name: 'p5en', accelerator: 'nvidia-h200-141gb', nvlink: true, summary: 'H200 + Sapphire Rapids, EFAv3 (3200 Gbps)' },
];

const ROWS: Readonly<Record<string, readonly Row[]>> = {
  g4dn: [
    ['xlarge', 1, 4, 16, 0.526, 0],
    ['2xlarge', 1, 8, 32, 0.752, 0],
    ['4xlarge', 1, 16, 64, 1.204, 0],
    ['8xlarge', 1, 32, 128, 2.176, 1],
    ['12xlarge', 4, 48, 192, 3.912, 1],
    ['16xlarge', 1, 64, 256, 4.352, 1],
    ['metal', 8, 96, 384, 7.824, 1],
  ],
  g5: [
    ['xlarge', 1, 4, 16, 1.006, 0],
    ['2xlarge', 1, 8, 32, 1.212, 0],
    ['4xlarge', 1, 16, 64, 1.624, 0],
    ['8xlarge', 1, 32, 128, 2.448, 1],
    ['12xlarge', 4, 48, 192, 5.672, 1],
    ['16xlarge', 1, 64, 256, 4.096, 1],
    ['24xlarge', 4, 96, 384, 8.144, 1],
    ['48xlarge', 8, 192, 768, 16.288, 1],
  ],
  g6: [
    ['xlarge', 1, 4, 16, 0.8048, 0],
    ['2xlarge', 1, 8, 32, 0.9776, 0],
    ['4xlarge', 1, 16, 64, 1.3232, 0],
    ['8xlarge', 1, 32, 128, 2.0144, 1],
    ['12xlarge', 4, 48, 192, 4.6016, 1],
    ['16xlarge', 1, 64, 256, 3.3968, 1],
    ['24xlarge', 4, 96, 384, 6.6752, 1],
    ['48xlarge', 8, 192, 768, 13.3504, 1],
  ],
  g6e: [
    ['xlarge', 1, 4, 32, 1.861, 0],
    ['2xlarge', 1, 8, 64, 2.24208, 0],
    ['4xlarge', 1, 16, 128, 3.00424, 0],
    ['8xlarge', 1, 32, 256, 4.52856, 1],
    ['12xlarge', 4, 48, 384, 10.49264, 1],
    ['16xlarge', 1, 64, 512, 7.57719, 1],
    ['24xlarge', 4, 96, 768, 15.06559, 2],
    ['48xlarge', 8, 192, 1536, 30.13118, 4],
  ],
  // Post-June-2025 prices (was 32.7726 and 40.9661 before the reduction).
  p4d: [['24xlarge', 8, 96, 1152, 21.95764, 4]],
  p4de: [['24xlarge', 8, 96, 1152, 27.44705, 4]],
  // p5.4xlarge: the single-H100 size (launched 2025); 1 EFA interface, 100 Gbps.
  p5: [
    ['4xlarge', 1, 16, 256, 6.88, 1],
    ['48xlarge', 8, 192, 2048, 55.04, 32],
  ],
  // No on-demand Linux price is published for p5e in us-east-1; see PRICES_SOURCE.
  p5e: [['48xlarge', 8, 192, 2048, undefined, 32]],
  p5en: [['48xlarge', 8, 192, 2048, 63.296, 16]],
};

/** GPU memory per GPU as NVIDIA publishes it, used for AWS's published per-instance totals. */
const GPU_GB: Readonly<Record<string, number>> = Object.fromEntries(BUILTIN_ACCELERATORS.map((a) => [a.id, a.memoryGB]));

/** The built-in instance types: every size of g4dn, g5, g6, g6e, p4d, p4de, p5, p5e and p5en. */
export const BUILTIN_INSTANCE_TYPES: readonly InstanceTypeProps[] = INSTANCE_FAMILIES.flatMap((family) =>
  ROWS[family.name].map(([size, gpus, vcpu, memoryGiB, usd, efa]): InstanceTypeProps => ({
    name: `${family.name}.${size}`,
    accelerator: family.accelerator,
    gpuCount: gpus,
    vcpu,
    memoryGiB,
    // AWS publishes the instance total (e.g. p4d 320 GB, p5e 1128 GB): per-GPU figure x GPU count.
    totalGpuMemoryGB: GPU_GB[family.accelerator] * gpus,
    onDemandUsdPerHour: usd,
    priceNote: usd === undefined ? 'no on-demand price published; EC2 Capacity Blocks for ML only' : undefined,
    efaInterfaces: efa,
    nvlink: family.nvlink && gpus > 1,
  })),
);

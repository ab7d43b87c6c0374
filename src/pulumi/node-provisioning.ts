import * as pulumi from '@pulumi/pulumi';
import { Chart } from 'cdk8s';
import { K8sObject } from '../cdk8s/private/object';
import { EksAmiType, GpuPoolSpec, Issues, MAX_DISK_GIB, MIN_DISK_GIB } from '../core';
import { AWS_VERSIONS } from './cluster';

/** A managed node group's options (see {@link NodeProvisioning.managedNodeGroup}). */
export interface ManagedNodeGroupOptions {
  /** ARN of the IAM role the nodes run as (AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly, AmazonEKS_CNI_Policy). */
  readonly nodeRoleArn?: pulumi.Input<string>;
  /** Subnets of the nodes. @default the cluster's private subnets */
  readonly subnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** NVIDIA AMI type; must be one the instance type supports. @default the instance type's first (AL2023_x86_64_NVIDIA for x86) */
  readonly amiType?: EksAmiType;
  /**
   * AMI release to pin (e.g. `1.33.4-20260818`). Changing it later is an in-place rolling update,
   * never a replacement. @default the latest at creation, then left alone (no surprise upgrades)
   */
  readonly releaseVersion?: pulumi.Input<string>;
  /** Kubernetes version of the nodes. @default the cluster's */
  readonly kubernetesVersion?: pulumi.Input<string>;
  /**
   * Size of the encrypted gp3 volume, GiB.
   * @deprecated declare it on the pool (`GpuPoolOptions.diskSize`), which the schedulability check reads;
   * given here, it must equal the pool's.
   * @default the pool's `diskSize` (100 GiB unless declared)
   */
  readonly diskSizeGiB?: number;
  /** IMDSv2 response hop limit: 1 keeps pods (which use Pod Identity or IRSA) off the node's credentials. @default 1 */
  readonly imdsHopLimit?: 1 | 2;
}

/** A Karpenter selector term: by tags, or by id. */
export interface KarpenterSelectorTerm {
  /** Tags the subnet or security group carries. */
  readonly tags?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Its id (`subnet-…`, `sg-…`). */
  readonly id?: string;
}

/** A Karpenter pool's options (see {@link NodeProvisioning.karpenter}). */
export interface KarpenterOptions {
  /** Name of the IAM role of the nodes (Karpenter creates the instance profile). Required. */
  readonly nodeRole?: pulumi.Input<string>;
  /** AMI family. @default 'al2023' */
  readonly amiFamily?: 'al2023' | 'bottlerocket';
  /** AMI alias to pin, e.g. `al2023@v20260818`. @default AWS_VERSIONS.karpenterAmiAliases[amiFamily] */
  readonly amiAlias?: string;
  /** Subnets. @default tag `karpenter.sh/discovery` = the cluster name */
  readonly subnetSelectorTerms?: readonly KarpenterSelectorTerm[];
  /** Security groups (include the cluster security group, which the database admits). @default tag `karpenter.sh/discovery` = the cluster name */
  readonly securityGroupSelectorTerms?: readonly KarpenterSelectorTerm[];
  /** `WhenEmpty` never evicts running GPU work to repack nodes. @default 'WhenEmpty' */
  readonly consolidationPolicy?: 'WhenEmpty' | 'WhenEmptyOrUnderutilized';
  /** Idle time before an empty node is removed. @default '5m' */
  readonly consolidateAfter?: string;
  /** Node lifetime before Karpenter replaces it. @default '720h' */
  readonly expireAfter?: string;
  /** How long a draining node waits for its pods before it is forced down. @default '24h' */
  readonly terminationGracePeriod?: string;
  /** Most nodes disrupted at once (count or percentage). @default '10%' */
  readonly disruptionBudget?: string;
  /**
   * Size of the encrypted gp3 volume, GiB.
   * @deprecated declare it on the pool (`GpuPoolOptions.diskSize`), which the schedulability check reads;
   * given here, it must equal the pool's.
   * @default the pool's `diskSize` (100 GiB unless declared)
   */
  readonly diskSizeGiB?: number;
  /** IMDSv2 response hop limit. @default 1 */
  readonly imdsHopLimit?: 1 | 2;
}

/** The chosen provisioning. */
export type NodeProvisioningSpec =
  | ({ readonly kind: 'managed-node-group' } & ManagedNodeGroupOptions)
  | ({ readonly kind: 'karpenter' } & KarpenterOptions);

/** How a GPU pool gets its nodes: an EKS managed node group, or a Karpenter NodePool + EC2NodeClass. */
export class NodeProvisioning {
  /**
   * An EKS managed node group of the pool's instance type with an NVIDIA AMI, the pool's labels and
   * taints, min/max from the pool (from zero, scaled by the Cluster Autoscaler), spot or on-demand,
   * and a launch template that requires IMDSv2.
   */
  public static managedNodeGroup(options: ManagedNodeGroupOptions): NodeProvisioning {
    return new NodeProvisioning({ kind: 'managed-node-group', ...options });
  }
  /**
   * A Karpenter `NodePool` + `EC2NodeClass` pair (Karpenter v1 must run on the cluster): the pool's
   * instance type and capacity type as requirements, its labels and taints, limits of `maxNodes`
   * nodes' worth of GPUs, CPU and memory, consolidation, and a pinned AMI alias.
   */
  public static karpenter(options: KarpenterOptions): NodeProvisioning {
    return new NodeProvisioning({ kind: 'karpenter', ...options });
  }
  private constructor(
    /** The chosen provisioning. */
    public readonly spec: NodeProvisioningSpec,
  ) {}
}

const DURATION = /^(([0-9]+(s|m|h))+|Never)$/;

/** Checks the Karpenter options for `pool`, recording issues under `path`. */
export function checkKarpenter(issues: Issues, path: string, pool: GpuPoolSpec, o: KarpenterOptions, hasClusterName: boolean): void {
  if (o.nodeRole === undefined || o.nodeRole === '') issues.add(`${path}.nodeRole`, o.nodeRole, 'is required for a Karpenter pool: the name of the IAM role its nodes run as');
  if (pool.minNodes !== 0) issues.add('pool.minNodes', pool.minNodes, 'must be 0 on Karpenter, which keeps no idle nodes; use NodeProvisioning.managedNodeGroup for a warm minimum');
  if (!pool.karpenterAware) issues.add('pool.sharing', 'mig', `Karpenter cannot provision for ${pool.resourceName} (it learns MIG resources only after a node boots); use NodeProvisioning.managedNodeGroup with minNodes ≥ 1`);
  for (const k of ['consolidateAfter', 'expireAfter', 'terminationGracePeriod'] as const) {
    const v = o[k];
    if (v !== undefined && !DURATION.test(v)) issues.add(`${path}.${k}`, v, 'must be a duration such as "5m", "24h" or "Never"');
  }
  if (o.disruptionBudget !== undefined && !/^((100|[0-9]{1,2})%|[0-9]+)$/.test(o.disruptionBudget)) issues.add(`${path}.disruptionBudget`, o.disruptionBudget, 'must be a node count ("1") or a percentage ("10%")');
  if (o.amiAlias !== undefined && !/^(al2023|bottlerocket)@(v[0-9.]+|latest)$/.test(o.amiAlias)) issues.add(`${path}.amiAlias`, o.amiAlias, 'must be "al2023@v<YYYYMMDD>" or "bottlerocket@v<x.y.z>"');
  if (o.amiAlias?.endsWith('@latest')) issues.add(`${path}.amiAlias`, o.amiAlias, 'must be pinned: "@latest" makes Karpenter replace every GPU node whenever AWS publishes an AMI');
  if (!hasClusterName && (!o.subnetSelectorTerms || !o.securityGroupSelectorTerms)) {
    issues.add(path, '(no cluster name)', 'needs subnetSelectorTerms and securityGroupSelectorTerms, or a cluster name for the karpenter.sh/discovery tag');
  }
  checkDisk(issues, path, o, pool);
}

/**
 * Checks the hop limit and the deprecated `diskSizeGiB`: the nodes' volume is the pool's `diskSize`
 * (what the schedulability check counts on), so a `diskSizeGiB` that differs from it is an error.
 */
export function checkDisk(issues: Issues, path: string, o: { readonly diskSizeGiB?: number; readonly imdsHopLimit?: number }, pool?: Pick<GpuPoolSpec, 'pool' | 'diskSize'>): void {
  if (o.diskSizeGiB !== undefined && (!Number.isInteger(o.diskSizeGiB) || o.diskSizeGiB < MIN_DISK_GIB || o.diskSizeGiB > MAX_DISK_GIB)) {
    issues.add(`${path}.diskSizeGiB`, o.diskSizeGiB, `must be a whole number of GiB from ${MIN_DISK_GIB} to ${MAX_DISK_GIB}`);
  } else if (o.diskSizeGiB !== undefined && pool && o.diskSizeGiB * 2 ** 30 !== pool.diskSize.bytes) {
    issues.add(`${path}.diskSizeGiB`, o.diskSizeGiB, `contradicts pool "${pool.pool}"'s diskSize (${pool.diskSize}), which the schedulability check counts on; declare the disk on the pool (\`diskSize: Size.gibibytes(${o.diskSizeGiB})\`) and drop diskSizeGiB`);
  }
  if (o.imdsHopLimit !== undefined && o.imdsHopLimit !== 1 && o.imdsHopLimit !== 2) issues.add(`${path}.imdsHopLimit`, o.imdsHopLimit, 'must be 1 or 2');
}

/** What the Karpenter renderer needs beside the pool; strings may be cloud value placeholders. */
export interface KarpenterInput {
  /** The validated pool. */
  readonly pool: GpuPoolSpec;
  /** The Karpenter options. */
  readonly options: KarpenterOptions;
  /** The node role name (or its placeholder). */
  readonly nodeRole: string;
  /** Subnet and security group selector terms, with tag values resolved to strings or placeholders. */
  readonly subnetSelectorTerms: readonly { readonly tags?: Record<string, string>; readonly id?: string }[];
  /** Security group selector terms, likewise. */
  readonly securityGroupSelectorTerms: readonly { readonly tags?: Record<string, string>; readonly id?: string }[];
  /** Labels of both objects. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Renders the pool's Karpenter `NodePool` (karpenter.sh/v1) and `EC2NodeClass` (karpenter.k8s.aws/v1),
 * both named after the pool, into `chart` (cdk8s objects, validated against Karpenter's CRDs in tests).
 */
export function renderKarpenterPool(chart: Chart, i: KarpenterInput): void {
  const { pool, options: o } = i;
  const family = o.amiFamily ?? 'al2023';
  const alias = o.amiAlias ?? AWS_VERSIONS.karpenterAmiAliases[family];
  // The pool's volume, as the schedulability check counts it (a differing diskSizeGiB was refused).
  const disk = pool.diskSize.bytes / 2 ** 30;
  new K8sObject(chart, 'ec2-node-class', {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: pool.pool, labels: { ...i.labels } },
    spec: {
      role: i.nodeRole,
      amiSelectorTerms: [{ alias }],
      subnetSelectorTerms: i.subnetSelectorTerms.map((t) => ({ ...t })),
      securityGroupSelectorTerms: i.securityGroupSelectorTerms.map((t) => ({ ...t })),
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: o.imdsHopLimit ?? 1, httpProtocolIPv6: 'disabled' },
      blockDeviceMappings: [{
        deviceName: family === 'bottlerocket' ? '/dev/xvdb' : '/dev/xvda',
        ebs: { volumeSize: `${disk}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
      }],
      tags: { 'mlplatform.io/gpu-pool': pool.pool },
    },
  });
  const t = pool.instance;
  new K8sObject(chart, 'node-pool', {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: pool.pool, labels: { ...i.labels } },
    spec: {
      template: {
        metadata: { labels: { ...pool.labels } },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: pool.pool },
          requirements: [
            { key: 'node.kubernetes.io/instance-type', operator: 'In', values: [t.name] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: [pool.capacityType] },
            { key: 'kubernetes.io/arch', operator: 'In', values: [t.cpuArchitecture === 'arm64' ? 'arm64' : 'amd64'] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          ],
          taints: pool.taints.map((x) => ({ key: x.key, ...(x.value !== undefined ? { value: x.value } : {}), effect: x.effect })),
          expireAfter: o.expireAfter ?? '720h',
          terminationGracePeriod: o.terminationGracePeriod ?? '24h',
        },
      },
      limits: {
        // Physical GPUs, as Karpenter counts instance capacity (shared pools advertise more per node).
        'nvidia.com/gpu': String(pool.maxNodes * t.gpuCount),
        'cpu': String(pool.maxNodes * t.vcpu),
        'memory': `${pool.maxNodes * t.memoryGiB}Gi`,
      },
      disruption: {
        consolidationPolicy: o.consolidationPolicy ?? 'WhenEmpty',
        consolidateAfter: o.consolidateAfter ?? '5m',
        budgets: [{ nodes: o.disruptionBudget ?? '10%' }],
      },
    },
  });
}

import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { AcceleratorCatalog, GpuPoolOptions, GpuPoolSpec, Issues, resolveGpuPool, TaintEffect } from '../core';
import { CloudValues } from './cloud-values';
import { checkSubnetCount, EksCluster, validatedSubnets } from './cluster';
import { KubernetesObjects, ManifestObject } from './kubernetes-objects';
import { checkDisk, checkKarpenter, KarpenterOptions, KarpenterSelectorTerm, ManagedNodeGroupOptions, NodeProvisioning, renderKarpenterPool } from './node-provisioning';

/** A GPU pool declared here (rather than taken from `MlPlatform.addGpuPool`): its name and options. */
export interface GpuPoolDeclarationArgs extends GpuPoolOptions {
  /** Pool name (the `mlplatform.io/gpu-pool` label value). */
  readonly name: string;
}

/** Arguments of {@link GpuNodePool}. */
export interface GpuNodePoolArgs {
  /**
   * The pool: the spec `MlPlatform.addGpuPool` (cdk8s) returned — so labels, taints and instance
   * type are exactly the ones workloads select and tolerate — or a declaration, validated here
   * against `catalog` (an instance type without GPUs of the accelerator is a `ValidationError`).
   */
  readonly pool: GpuPoolSpec | GpuPoolDeclarationArgs;
  /** The accelerator catalog a declaration is checked against. @default AcceleratorCatalog.DEFAULT */
  readonly catalog?: AcceleratorCatalog;
  /** The cluster: its name, private subnets, and Kubernetes provider (for Karpenter objects). */
  readonly cluster: Pick<EksCluster, 'name' | 'privateSubnetIds' | 'provider'>;
  /** Managed node group or Karpenter. */
  readonly nodes: NodeProvisioning;
  /** Tags of the AWS resources. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

const EKS_TAINT_EFFECT: Readonly<Record<TaintEffect, string>> = { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' };

/**
 * The nodes of one GPU pool (`mlplatform:index:GpuNodePool`), from the same declaration and
 * accelerator catalog as the cdk8s side.
 *
 * Managed node group: `<name>-launch-template` (IMDSv2 required, hop limit 1, an encrypted gp3 volume
 * of the pool's `diskSize` on the AMI's data device) and `<name>-node-group` (`aws.eks.NodeGroup`:
 * the NVIDIA AMI type, the pool's instance type, capacity type, labels and taints, `minNodes`..`maxNodes` starting at
 * `minNodes`, one node replaced at a time). `scalingConfig.desiredSize` is in `ignoreChanges`, so the
 * Cluster Autoscaler's decisions are not undone by the next `pulumi up`; the AMI release changes only
 * when `releaseVersion` does (an in-place rolling update). The node group is auto-named, so a change
 * that forces replacement creates the new group before deleting the old one.
 *
 * Karpenter: `<name>-objects` (a {@link KubernetesObjects}) with the pool's `EC2NodeClass` and
 * `NodePool` (see `NodeProvisioning.karpenter`).
 */
export class GpuNodePool extends pulumi.ComponentResource {
  /** The validated pool (labels, taints, instance type, bounds). */
  public readonly spec: GpuPoolSpec;
  /** The managed node group, when provisioned that way. */
  public readonly nodeGroup?: aws.eks.NodeGroup;
  /** Its launch template. */
  public readonly launchTemplate?: aws.ec2.LaunchTemplate;
  /** The Karpenter objects, when provisioned that way. */
  public readonly karpenterObjects?: KubernetesObjects;

  constructor(name: string, args: GpuNodePoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:GpuNodePool', name, {}, opts);
    const issues = new Issues(`GpuNodePool "${name}"`);
    const pool = resolvePool(issues, args);
    const nodes = args.nodes?.spec;
    if (!nodes) issues.add('nodes', nodes, 'is required: NodeProvisioning.managedNodeGroup({...}) or NodeProvisioning.karpenter({...})');
    let subnets: pulumi.Output<string[]> | undefined;
    if (pool && nodes?.kind === 'karpenter') {
      checkKarpenter(issues, 'nodes', pool, nodes, args.cluster?.name !== undefined);
    } else if (pool && nodes?.kind === 'managed-node-group') {
      if (nodes.nodeRoleArn === undefined || nodes.nodeRoleArn === '') issues.add('nodes.nodeRoleArn', nodes.nodeRoleArn, 'is required: the ARN of the IAM role the nodes run as');
      if (nodes.amiType !== undefined && !pool.instance.eksAmiTypes.includes(nodes.amiType)) {
        issues.add('nodes.amiType', nodes.amiType, `does not run ${pool.instance.name}; use one of ${pool.instance.eksAmiTypes.join(', ')}`);
      }
      checkDisk(issues, 'nodes', nodes, pool);
      const path = nodes.subnetIds ? 'nodes.subnetIds' : 'cluster.privateSubnetIds';
      const given = nodes.subnetIds ?? args.cluster?.privateSubnetIds;
      checkSubnetCount(issues, path, given, 1, 'for the nodes');
      if (given) subnets = validatedSubnets(path, given, 1, 'for the nodes');
    }
    issues.throwIfAny();
    this.spec = pool!;
    const tags = { ...(args.tags ?? {}), 'mlplatform.io/gpu-pool': this.spec.pool };

    if (nodes!.kind === 'managed-node-group') {
      const made = this.managedNodeGroup(name, args.cluster.name, this.spec, nodes!, subnets!, tags);
      this.launchTemplate = made.launchTemplate;
      this.nodeGroup = made.nodeGroup;
    } else {
      this.karpenterObjects = this.karpenter(name, args, this.spec, nodes!);
    }
    this.registerOutputs({});
  }

  private managedNodeGroup(
    name: string, clusterName: pulumi.Input<string>, pool: GpuPoolSpec, o: ManagedNodeGroupOptions, subnetIds: pulumi.Output<string[]>, tags: Record<string, string>,
  ) {
    const amiType = o.amiType ?? pool.instance.eksAmiTypes[0];
    const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-launch-template`, {
      description: `mlplatform GPU pool ${pool.pool}: IMDSv2 only, encrypted gp3 volume`,
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: o.imdsHopLimit ?? 1, instanceMetadataTags: 'disabled' },
      blockDeviceMappings: [{
        // AL2023 keeps images on its root volume; Bottlerocket on its second (data) volume.
        deviceName: amiType.startsWith('BOTTLEROCKET') ? '/dev/xvdb' : '/dev/xvda',
        // The pool's volume, as the schedulability check counts it (a differing diskSizeGiB was refused).
        ebs: { volumeSize: pool.diskSize.bytes / 2 ** 30, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
      }],
      tagSpecifications: [{ resourceType: 'instance', tags }, { resourceType: 'volume', tags }],
      updateDefaultVersion: true,
      tags,
    }, { parent: this });
    const nodeGroup = new aws.eks.NodeGroup(`${name}-node-group`, {
      clusterName,
      nodeRoleArn: o.nodeRoleArn!,
      subnetIds,
      amiType,
      releaseVersion: o.releaseVersion,
      version: o.kubernetesVersion,
      capacityType: pool.capacityType === 'spot' ? 'SPOT' : 'ON_DEMAND',
      instanceTypes: [pool.instance.name],
      scalingConfig: { minSize: pool.minNodes, maxSize: pool.maxNodes, desiredSize: pool.minNodes },
      labels: { ...pool.labels },
      taints: pool.taints.map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: EKS_TAINT_EFFECT[t.effect] })),
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply((v) => `${v}`) },
      updateConfig: { maxUnavailable: 1 },
      tags,
    }, { parent: this, ignoreChanges: ['scalingConfig.desiredSize'] });
    return { launchTemplate, nodeGroup };
  }

  private karpenter(name: string, args: GpuNodePoolArgs, pool: GpuPoolSpec, o: KarpenterOptions): KubernetesObjects {
    const values = new CloudValues();
    const discovery = args.cluster.name !== undefined ? values.add('clustername', args.cluster.name) : undefined;
    let n = 0;
    const terms = (given: readonly KarpenterSelectorTerm[] | undefined) => (given ?? [{ tags: { 'karpenter.sh/discovery': discovery! } }]).map((t) => ({
      ...(t.id !== undefined ? { id: t.id } : {}),
      ...(t.tags ? { tags: Object.fromEntries(Object.entries(t.tags).map(([k, v]) => [k, values.add(`selector${n++}`, v)])) } : {}),
    }));
    const chart = new Chart(new App(), name);
    renderKarpenterPool(chart, {
      pool,
      options: o,
      nodeRole: values.add('noderole', o.nodeRole!),
      subnetSelectorTerms: terms(o.subnetSelectorTerms),
      securityGroupSelectorTerms: terms(o.securityGroupSelectorTerms),
      labels: { 'app.kubernetes.io/managed-by': 'mlplatform', 'mlplatform.io/gpu-pool': pool.pool },
    });
    return new KubernetesObjects(`${name}-objects`, {
      objects: chart.toJson() as ManifestObject[],
      provider: args.cluster.provider,
      cloudValues: values,
    }, { parent: this });
  }
}

function resolvePool(issues: Issues, args: GpuNodePoolArgs): GpuPoolSpec | undefined {
  const p = args?.pool as Partial<GpuPoolSpec & GpuPoolDeclarationArgs> | undefined;
  if (!p || typeof p !== 'object') {
    issues.add('pool', p, 'is required: a GpuPoolSpec from MlPlatform.addGpuPool, or { name, accelerator, maxNodes, ... }');
    return undefined;
  }
  if ('instance' in p && 'labels' in p) return p as GpuPoolSpec;
  return resolveGpuPool(issues, 'pool', p.name as string, p as GpuPoolOptions, args.catalog ?? AcceleratorCatalog.DEFAULT);
}

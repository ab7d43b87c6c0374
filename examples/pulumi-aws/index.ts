// The example Pulumi stack: what a cloud team commits and runs `pulumi up` on. It puts the example
// platform (the same declarations as examples/cdk8s-platform) on an existing EKS cluster: an S3 bucket
// and RDS PostgreSQL instead of the embedded stores, GPU node pools (managed node groups and Karpenter),
// the add-ons as Helm releases, and the exact Kubernetes objects `cdk8s synth` writes.
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { EksCluster, MlPlatform, NodeProvisioning, WorkloadIdentityMode } from 'mlplatform/pulumi';
import { Cpu, Exposure, Size, TrackingAuth } from 'mlplatform';

/** What the stack needs from its environment: the cluster, two node roles and the database password. */
export interface ExampleSettings {
  /** The existing EKS cluster. */
  readonly cluster: EksCluster;
  /** ARN of the IAM role of the managed GPU node groups. */
  readonly gpuNodeRoleArn: pulumi.Input<string>;
  /** Name of the IAM role of Karpenter-launched nodes. */
  readonly karpenterNodeRole: pulumi.Input<string>;
  /** The RDS master password, a Pulumi secret. */
  readonly databasePassword: pulumi.Input<string>;
}

/** Declares the example platform; the tests run this under Pulumi mocks. */
export function buildPlatform(s: ExampleSettings): MlPlatform {
  return new MlPlatform('ml', {
    cluster: s.cluster,
    namespace: 'mlplatform',
    tracking: { workers: 2, auth: TrackingAuth.basic({ defaultPermission: 'READ' }) },
    // The tracking UI on the platform's own Gateway (Envoy Gateway), TLS from cert-manager.
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' } }),

    // GPU pools: managed node groups scaling from zero unless a pool says otherwise.
    nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: s.gpuNodeRoleArn }),
    gpuPools: {
      'a10g': { accelerator: 'nvidia-a10g', gpusPerNode: 1, maxNodes: 8, capacityType: 'spot' },
      'h100': { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2, nodes: NodeProvisioning.karpenter({ nodeRole: s.karpenterNodeRole }) },
      'l4-shared': { accelerator: 'nvidia-l4', maxNodes: 4, sharing: { timeSlicing: { replicas: 4 } } },
    },

    // Teams: namespace, quota (GPUs per pool), defaults, RBAC, policies, Kueue queue.
    tenants: {
      vision: {
        quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: 8, h100: 16 } },
        access: { admins: ['ml-platform-admins'], editors: ['vision-team'] },
        queue: true,
      },
      nlp: {
        quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { 'l4-shared': 8 } },
        access: { editors: ['nlp-team'], viewers: ['analysts'] },
      },
    },

    // AWS: a private, versioned, TLS-only bucket and an encrypted, backed-up, private database.
    artifacts: { noncurrentVersionDays: 30 },
    database: { password: s.databasePassword, instanceClass: 'db.t4g.medium', backupRetentionDays: 14 },
    tags: { 'cost-center': 'ml-platform' },
  });
}

/**
 * The program `pulumi up` runs (Pulumi calls the default export): reads the cluster stack's outputs
 * and this stack's config, then declares the platform. Its result becomes the stack outputs.
 */
export default function main(): Record<string, pulumi.Input<string>> {
  const config = new pulumi.Config();
  const clusterStack = new pulumi.StackReference(config.require('clusterStack'));
  const provider = new k8s.Provider('cluster', { kubeconfig: clusterStack.requireOutput('kubeconfig') });
  const region = aws.config.region;
  if (!region) throw new Error('set the AWS region: pulumi config set aws:region us-east-1');
  const platform = buildPlatform({
    cluster: {
      name: clusterStack.requireOutput('clusterName') as pulumi.Output<string>,
      region,
      vpcId: clusterStack.requireOutput('vpcId') as pulumi.Output<string>,
      privateSubnetIds: clusterStack.requireOutput('privateSubnetIds') as pulumi.Output<string[]>,
      securityGroupId: clusterStack.requireOutput('clusterSecurityGroupId') as pulumi.Output<string>,
      identity: WorkloadIdentityMode.podIdentity(),
      provider,
    },
    gpuNodeRoleArn: config.require('gpuNodeRoleArn'),
    karpenterNodeRole: config.require('karpenterNodeRole'),
    databasePassword: config.requireSecret('dbPassword'),
  });
  return {
    bucketName: platform.bucket.bucketName,
    databaseAddress: platform.database.address,
    trackingUri: platform.trackingUri,
  };
}

import * as pulumi from '@pulumi/pulumi';
import { ChartRef, Issues } from '../core';

/**
 * What the AWS side pins beside `VERSIONS` (core): the charts only it installs, the AMI releases
 * Karpenter pools launch, and the PostgreSQL major of RDS. Nothing floats: override an entry through
 * the args that take one (`amiAlias`, `chart`, `engineVersion`).
 *
 * - AWS Load Balancer Controller chart 3.5.0 (controller v3.5.0), from aws/eks-charts; its default
 *   values are in shared/charts/aws-load-balancer-controller and every key we set is checked there.
 * - Karpenter AMI aliases: `al2023@v20260818` (amazon-eks-ami release v20260818) and
 *   `bottlerocket@v1.53.0` (the first Bottlerocket with the R580 NVIDIA driver on every variant).
 *   A pinned alias means nodes change only when the alias does; `@latest` makes Karpenter replace
 *   (drift) every GPU node whenever AWS publishes an AMI.
 * - PostgreSQL 17 on RDS: the major only, with automatic minor upgrades in the maintenance window
 *   (a pinned minor would turn each of AWS's minor upgrades into a downgrade attempt on the next
 *   `pulumi up`). Same major as the embedded database image.
 */
export interface AwsVersionTable {
  /** Helm charts only the AWS side installs. */
  readonly charts: { readonly awsLoadBalancerController: ChartRef };
  /** Karpenter `amiSelectorTerms` aliases per AMI family. */
  readonly karpenterAmiAliases: { readonly al2023: string; readonly bottlerocket: string };
  /** RDS PostgreSQL engine version (major). */
  readonly postgresEngineVersion: string;
}

/** The versions the AWS side ships with. */
export const AWS_VERSIONS: AwsVersionTable = {
  charts: {
    awsLoadBalancerController: {
      repoUrl: 'https://aws.github.io/eks-charts',
      chart: 'aws-load-balancer-controller',
      version: '3.5.0',
      appVersion: 'v3.5.0',
      namespace: 'kube-system',
    },
  },
  karpenterAmiAliases: { al2023: 'al2023@v20260818', bottlerocket: 'bottlerocket@v1.53.0' },
  postgresEngineVersion: '17',
};

/** How a Kubernetes ServiceAccount gets its IAM role. */
export type WorkloadIdentitySpec =
  | { readonly kind: 'pod-identity' }
  | { readonly kind: 'irsa'; readonly oidcProviderArn: pulumi.Input<string>; readonly oidcIssuerUrl: pulumi.Input<string> };

/** EKS Pod Identity (the default) or IRSA, for every role the platform creates. */
export class WorkloadIdentityMode {
  /**
   * EKS Pod Identity: one `aws.eks.PodIdentityAssociation` per ServiceAccount; nothing is written
   * into the ServiceAccount. Needs the `eks-pod-identity-agent` EKS add-on on the cluster.
   */
  public static podIdentity(): WorkloadIdentityMode {
    return new WorkloadIdentityMode({ kind: 'pod-identity' });
  }

  /**
   * IAM Roles for Service Accounts: each role trusts the cluster's OIDC provider for exactly one
   * `system:serviceaccount:<namespace>:<name>` subject; the ServiceAccount carries the
   * `eks.amazonaws.com/role-arn` annotation.
   * @param oidcProviderArn ARN of the cluster's `aws.iam.OpenIdConnectProvider`
   * @param oidcIssuerUrl the cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/<id>`)
   */
  public static irsa(options: { readonly oidcProviderArn: pulumi.Input<string>; readonly oidcIssuerUrl: pulumi.Input<string> }): WorkloadIdentityMode {
    return new WorkloadIdentityMode({ kind: 'irsa', ...options });
  }

  private constructor(
    /** The chosen mechanism. */
    public readonly spec: WorkloadIdentitySpec,
  ) {}
}

/**
 * The existing EKS cluster the platform goes into (creating the cluster is not this library's job).
 * Take the values from the cluster's stack (e.g. a `StackReference` or `@pulumi/eks` outputs).
 */
export interface EksCluster {
  /** Cluster name. */
  readonly name: pulumi.Input<string>;
  /** AWS region of the cluster (written into workload environments, so a plain string). */
  readonly region: string;
  /** VPC of the cluster. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets for node groups and the database (at least two, in different AZs). */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The cluster security group (`vpcConfig.clusterSecurityGroupId`), which EKS attaches to managed
   * nodes; the database admits PostgreSQL from it and from nothing else.
   */
  readonly securityGroupId: pulumi.Input<string>;
  /**
   * How ServiceAccounts get IAM roles.
   * @default WorkloadIdentityMode.podIdentity()
   */
  readonly identity?: WorkloadIdentityMode;
  /** The Kubernetes provider of the cluster (its kubeconfig). */
  readonly provider: pulumi.ProviderResource;
  /**
   * The VPC's IPv4 CIDR, needed only when an Application Load Balancer sends traffic straight to
   * pods (the NetworkPolicy admitting it names the VPC range).
   * @default none
   */
  readonly vpcCidr?: string;
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Records an issue when `region` is not an AWS region name such as `us-east-1`. */
export function checkRegion(issues: Issues, path: string, region: unknown): void {
  if (typeof region !== 'string' || !REGION.test(region)) issues.add(path, region, 'must be an AWS region such as "us-east-1"');
}

/**
 * Records an issue under `path` when `subnets` is known at construction (a list) and has fewer than
 * `min` entries, or is missing. A list that arrives as an Output is checked by {@link validatedSubnets}.
 */
export function checkSubnetCount(issues: Issues, path: string, subnets: pulumi.Input<pulumi.Input<string>[]> | undefined, min: number, why: string): void {
  if (subnets === undefined || subnets === null || (Array.isArray(subnets) && subnets.length < min)) issues.add(path, subnets, `needs at least ${min} subnets ${why}`);
}

/**
 * `subnets` as an Output that fails, when it resolves to fewer than `min` subnets, with a
 * `pulumi.InputPropertyError` naming `path` (so a list that arrives as an Output still fails the
 * deployment with the arg path).
 */
export function validatedSubnets(path: string, subnets: pulumi.Input<pulumi.Input<string>[]>, min: number, why: string): pulumi.Output<string[]> {
  if (Array.isArray(subnets)) return pulumi.all(subnets as pulumi.Input<string>[]);
  return pulumi.output(subnets).apply((ids) => {
    if (!Array.isArray(ids) || ids.length < min) throw new pulumi.InputPropertyError({ propertyPath: path, reason: `needs at least ${min} subnets ${why}; got ${JSON.stringify(ids)}` });
    return ids;
  });
}

/** The tags every AWS resource of the platform carries, merged with the user's. */
export function platformTags(platform: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { 'mlplatform.io/platform': platform, 'app.kubernetes.io/managed-by': 'mlplatform', ...extra };
}

import * as pulumi from '@pulumi/pulumi';
import {
  AcceleratorCatalog, AddonsOptions, Exposure, GpuPoolOptions, TenantOptions, TrackingOptions, VersionOverrides,
} from '../core';
import { ArtifactBucketArgs } from './artifact-bucket';
import { EksCluster } from './cluster';
import { DatabaseArgs } from './database';
import { AwsLoadBalancerControllerArgs } from './ingress';
import { NodeProvisioning } from './node-provisioning';
import { CheckSeverities } from '../core/checks';

/** A GPU pool of the platform: the cdk8s declaration plus how its nodes are provisioned. */
export interface MlPlatformGpuPool extends GpuPoolOptions {
  /** How this pool gets nodes. @default MlPlatformArgs.nodes */
  readonly nodes?: NodeProvisioning;
}

/** The artifact bucket of the platform. */
export interface MlPlatformArtifactsArgs extends ArtifactBucketArgs {
  /** Key prefix under which everything of the platform lives. @default '' (the bucket root) */
  readonly prefix?: string;
}

/** An existing Kubernetes Secret (in the platform namespace) with the database credentials. */
export interface DatabaseCredentialsSecret {
  /** Secret name. */
  readonly name: string;
  /** Key of the user name. @default 'username' */
  readonly usernameKey?: string;
  /** Key of the password. @default 'password' */
  readonly passwordKey?: string;
}

/** The RDS database of the platform. */
export interface MlPlatformDatabaseArgs extends Omit<DatabaseArgs, 'cluster' | 'tags'> {
  /**
   * With an RDS-managed password (no `password`): the Secret in the platform namespace that an
   * operator such as External Secrets keeps in step with the RDS secret in Secrets Manager (its
   * `username` and `password` JSON keys). Ignored when `password` is given: then the platform
   * creates `<name>-rds-credentials` itself from the Pulumi secret.
   * @default none (required without `password`)
   */
  readonly credentialsSecret?: DatabaseCredentialsSecret;
}

/** How the tracking UI is reached on AWS. */
export interface MlPlatformIngressArgs {
  /**
   * An ACM certificate for the exposure's host, used by the load balancer controller's IngressClass
   * (needs `Exposure.ingress({ className: <the controller's class> })`).
   * @default none
   */
  readonly certificate?: {
    /** Host. @default the exposure's host */
    readonly domainName?: string;
    /** More hosts. @default none */
    readonly subjectAlternativeNames?: readonly string[];
    /** Route 53 zone for the validation records. @default none (create them yourself) */
    readonly zoneId?: pulumi.Input<string>;
  };
  /** Install the AWS Load Balancer Controller. @default not installed */
  readonly loadBalancerController?: Omit<AwsLoadBalancerControllerArgs, 'cluster' | 'certificateArns' | 'tags'>;
}

/** Arguments of the Pulumi {@link MlPlatform}: the cdk8s declarations, the cluster, and the AWS pieces. */
export interface MlPlatformArgs {
  /** The EKS cluster the platform goes into. */
  readonly cluster: EksCluster;
  /** Namespace of the shared services. @default 'mlplatform' */
  readonly namespace?: string;
  /** The MLflow tracking server (as in cdk8s). @default one replica, two workers, basic-auth */
  readonly tracking?: TrackingOptions;
  /** How the tracking UI is reached (as in cdk8s). @default Exposure.none() */
  readonly exposure?: Exposure;
  /** Which cluster add-ons to install as Helm releases (as in cdk8s; `delivery` is always Helm here). @default as cdk8s */
  readonly addons?: Omit<AddonsOptions, 'delivery'>;
  /** Replacement images or chart versions. @default VERSIONS */
  readonly versions?: VersionOverrides;
  /** The accelerator catalog. @default AcceleratorCatalog.DEFAULT */
  readonly catalog?: AcceleratorCatalog;
  /** GPU pools by name (as `addGpuPool` in cdk8s), each with its nodes. @default none */
  readonly gpuPools?: Readonly<Record<string, MlPlatformGpuPool>>;
  /** How pools without their own `nodes` get nodes. @default none (then every pool must say) */
  readonly nodes?: NodeProvisioning;
  /** Tenants by name (as `addTenant` in cdk8s). @default none */
  readonly tenants?: Readonly<Record<string, TenantOptions>>;
  /** The artifact bucket. @default an auto-named bucket, SSE-S3 */
  readonly artifacts?: MlPlatformArtifactsArgs;
  /** The RDS database; give a `password` (Pulumi secret) or a `credentialsSecret`. */
  readonly database?: MlPlatformDatabaseArgs;
  /** ACM certificate and load balancer controller. @default none */
  readonly ingress?: MlPlatformIngressArgs;
  /**
   * Severity of the synth-time checks (GPU fit, pool capacity, tenant quota, data access) for the
   * platform and every workload component on it (as in cdk8s; a workload's own `checks` win).
   * @default every check at its own severity
   */
  readonly checks?: CheckSeverities;
  /** Tags of every AWS resource (beside `mlplatform.io/platform`). @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

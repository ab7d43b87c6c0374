import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { ArtifactBucket, checkArtifactBucketArgs } from './artifact-bucket';
import { renderAwsGlue } from './aws-glue';
import { captureIssues } from './capture';
import { CloudValues, cloudValuePlaceholder } from './cloud-values';
import { checkRegion, platformTags, WorkloadIdentityMode } from './cluster';
import { ClusterAddons } from './cluster-addons';
import { checkDatabaseArgs, Database } from './database';
import { GpuNodePool } from './gpu-node-pool';
import { AwsLoadBalancerController, TlsCertificate } from './ingress';
import { KubernetesObjects, ManifestObject } from './kubernetes-objects';
import { MlPlatformArgs } from './ml-platform-args';
import { checkPrefixes, normalizePrefix, S3PrefixAccess, WorkloadIdentity } from './workload-identity';
import { MlPlatform as Cdk8sMlPlatform } from '../cdk8s/ml-platform';
import { platformNames } from '../cdk8s/private/names';
import { addonValuesInput } from '../cdk8s/private/platform-addons';
import { OIDC_PROXY_PORT, TRACKING_PORT, trackingPodLabels } from '../cdk8s/private/tracking';
import {
  AddonDelivery, ArtifactStore, BackendStore, childName, Exposure, ExposureSpec, Issues, PlatformContext,
} from '../core';

/** The ServiceAccount annotation under Pod Identity (informational: the association does the work). */
export const POD_IDENTITY_ANNOTATION = { 'mlplatform.io/aws-identity': 'eks-pod-identity' } as const;

/**
 * The whole platform on AWS (`mlplatform:index:MlPlatform`), from the same declarations as the cdk8s
 * `MlPlatform`, into an existing EKS cluster.
 *
 * Creates `<name>-artifacts` ({@link ArtifactBucket}), `<name>-database` ({@link Database}),
 * `<name>-tracking-identity` (a {@link WorkloadIdentity}: the tracking server reads and writes
 * `<prefix>/mlartifacts`), one `<name>-pool-<pool>` ({@link GpuNodePool}) per GPU pool,
 * `<name>-certificate` and `<name>-load-balancer-controller` when asked, `<name>-addons`
 * ({@link ClusterAddons}: the add-ons the platform needs, as Helm releases) and `<name>-objects`: the
 * Kubernetes objects of the cdk8s `MlPlatform` built in memory with `ArtifactStore.s3` (workload
 * identity), `BackendStore.external` (the RDS instance behind a `<name>-rds` ExternalName Service) and
 * pre-installed add-ons — exactly the objects `cdk8s synth` writes for those declarations — plus the
 * AWS glue objects (`renderAwsGlue`). Bucket name and role ARN reach the objects as cloud values
 * (placeholders substituted inside an `apply`), so every object's kind and name show in
 * `pulumi preview` before the bucket or database exist.
 *
 * The database credentials: a `password` Pulumi secret becomes the Secret `<name>-rds-credentials`
 * (encrypted in the Pulumi state, never in a file); with an RDS-managed password, name the Secret
 * External Secrets keeps in step (`database.credentialsSecret`).
 */
export class MlPlatform extends pulumi.ComponentResource {
  /** The cdk8s platform, built in memory (its `context` carries cloud value placeholders). */
  public readonly platform: Cdk8sMlPlatform;
  /** The cloud values behind the placeholders of {@link MlPlatform.context}. */
  public readonly cloudValues: CloudValues;
  /** The artifact bucket. */
  public readonly bucket: ArtifactBucket;
  /** The database. */
  public readonly database: Database;
  /** The tracking server's role. */
  public readonly trackingIdentity: WorkloadIdentity;
  /** Node pools, by pool name. */
  public readonly nodePools: Readonly<Record<string, GpuNodePool>>;
  /** The add-on releases. */
  public readonly addons: ClusterAddons;
  /** The ACM certificate, when asked for. */
  public readonly certificate?: TlsCertificate;
  /** The AWS Load Balancer Controller, when asked for. */
  public readonly loadBalancerController?: AwsLoadBalancerController;
  /** The Kubernetes objects. */
  public readonly objects: KubernetesObjects;
  /** In-cluster URI of the tracking server. */
  public readonly trackingUri: string;

  private readonly args: MlPlatformArgs;

  constructor(name: string, args: MlPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:MlPlatform', name, {}, opts);
    this.args = args;
    const issues = new Issues(`MlPlatform "${name}"`);
    const cluster = args.cluster ?? ({} as MlPlatformArgs['cluster']);
    checkRegion(issues, 'cluster.region', cluster.region);
    if (!cluster.provider) issues.add('cluster.provider', cluster.provider, 'is required: the Kubernetes provider of the cluster');
    const namespace = args.namespace ?? 'mlplatform';
    const db = args.database ?? {};
    if (db.password === undefined && !db.credentialsSecret) {
      issues.add('database.password', undefined, 'give the master password as a Pulumi secret, or set database.credentialsSecret to the Secret External Secrets keeps for the RDS-managed password');
    }
    checkArtifactBucketArgs(issues, `${name}-artifacts`, args.artifacts ?? {}, 'artifacts');
    checkDatabaseArgs(issues, { ...db, cluster }, 'database');
    const prefix = normalizePrefix(args.artifacts?.prefix ?? '');
    checkPrefixes(issues, 'artifacts.prefix', { write: [prefix] });
    const pools = Object.entries(args.gpuPools ?? {});
    for (const [pool, o] of pools) if (!o.nodes && !args.nodes) issues.add(`gpuPools.${pool}.nodes`, undefined, 'say how the pool gets nodes, here or in `nodes` for every pool');
    issues.throwIfAny();

    const tags = platformTags(name, args.tags);
    const identity = (cluster.identity ?? WorkloadIdentityMode.podIdentity()).spec;
    const names = platformNames(name);
    const child = { parent: this };

    // First the cdk8s platform, with placeholders for the cloud values: every declaration is
    // validated before any resource is created.
    const annotations: Record<string, string> = identity.kind === 'pod-identity'
      ? { ...POD_IDENTITY_ANNOTATION }
      : { 'eks.amazonaws.com/role-arn': cloudValuePlaceholder('trackingrole') };
    const rdsService = childName(name, 'rds');
    const ownSecret = db.password !== undefined;
    const credentials = ownSecret ? { name: childName(name, 'rds-credentials') } : db.credentialsSecret!;
    const app = new App();
    const chart = new Chart(app, name);
    const platform = captureIssues(issues, '', () => new Cdk8sMlPlatform(chart, name, {
      namespace,
      tracking: args.tracking,
      exposure: args.exposure,
      addons: { ...args.addons, delivery: AddonDelivery.preInstalled() },
      versions: args.versions,
      catalog: args.catalog,
      checks: args.checks,
      artifactStore: ArtifactStore.s3({
        bucket: cloudValuePlaceholder('bucket'),
        region: cluster.region,
        prefix,
        credentials: { workloadIdentity: { serviceAccountAnnotations: annotations } },
      }),
      backendStore: BackendStore.external({
        host: `${rdsService}.${namespace}.svc.cluster.local`,
        port: 5432,
        database: db.databaseName ?? 'mlflow',
        username: { name: credentials.name, key: credentials.usernameKey ?? 'username' },
        password: { name: credentials.name, key: credentials.passwordKey ?? 'password' },
        sslMode: 'require',
      }),
    }));
    issues.throwIfAny();
    this.platform = platform!;
    const poolSpecs = pools.map(([pool, o]) => [pool, o, captureIssues(issues, `gpuPools.${pool}`, () => this.platform.addGpuPool(pool, stripNodes(o)))] as const);
    for (const [tenant, o] of Object.entries(args.tenants ?? {})) captureIssues(issues, `tenants.${tenant}`, () => this.platform.addTenant(tenant, o));
    const exposure = (args.exposure ?? Exposure.none())._resolve(new Issues(''), 'exposure', namespace);
    const albToTracking = this.checkIngress(issues, exposure);
    issues.throwIfAny();
    const ctx = this.platform.context;
    this.trackingUri = ctx.tracking.uri;

    // The AWS pieces, and their outputs bound to the placeholders.
    const values = new CloudValues();
    this.cloudValues = values;
    this.bucket = new ArtifactBucket(`${name}-artifacts`, { ...args.artifacts, tags }, child);
    this.database = new Database(`${name}-database`, { ...db, cluster, tags }, child);
    this.trackingIdentity = new WorkloadIdentity(`${name}-tracking-identity`, {
      cluster,
      serviceAccount: { namespace, name: names.tracking },
      s3: { bucketArn: this.bucket.bucketArn, write: [prefix ? `${prefix}/mlartifacts` : 'mlartifacts'], kmsKeyArn: this.bucket.kmsKeyArn, region: cluster.region },
      tags,
    }, child);
    values.bind('bucket', this.bucket.bucketName);
    if (identity.kind === 'irsa') values.bind('trackingrole', this.trackingIdentity.roleArn);

    // Node pools from the very specs the workloads select and tolerate.
    const nodePools: Record<string, GpuNodePool> = {};
    for (const [pool, o, spec] of poolSpecs) {
      nodePools[pool] = new GpuNodePool(`${name}-pool-${pool}`, { pool: spec!, cluster, nodes: o.nodes ?? args.nodes!, tags }, child);
    }
    this.nodePools = nodePools;

    const ingress = this.ingress(name, exposure, tags);
    this.certificate = ingress.certificate;
    this.loadBalancerController = ingress.controller;

    // AWS glue objects, rendered by cdk8s into their own chart.
    const glue = new Chart(app, `${name}-aws`);
    const trackingLabels = trackingPodLabels({ platform: name, names });
    renderAwsGlue(glue, {
      platform: name,
      namespace,
      database: {
        serviceName: rdsService,
        address: values.add('dbaddress', this.database.address),
        port: 5432,
        credentials: ownSecret ? { secretName: credentials.name, username: this.database.username, password: values.add('dbpassword', db.password!) } : undefined,
      },
      podIdentity: identity.kind === 'pod-identity' ? { trackingPodLabels: trackingLabels, tenants: ctx.tenants } : undefined,
      loadBalancer: albToTracking
        ? { vpcCidr: cluster.vpcCidr!, trackingPodLabels: trackingLabels, port: ctx.tracking.auth === 'oidc' ? OIDC_PROXY_PORT : TRACKING_PORT }
        : undefined,
    });

    this.addons = new ClusterAddons(`${name}-addons`, {
      addons: ctx.addons,
      values: addonValuesInput(ctx, { gatewayApi: exposure.kind === 'gateway' && exposure.tls !== undefined, overrides: args.addons?.values }),
      versions: this.platform.versions,
      cloudValues: values,
      provider: cluster.provider,
    }, child);
    this.objects = new KubernetesObjects(`${name}-objects`, {
      objects: [...chart.toJson(), ...glue.toJson()] as ManifestObject[],
      provider: cluster.provider,
      cloudValues: values,
      dependsOn: [this.addons, this.trackingIdentity, ...(this.loadBalancerController ? [this.loadBalancerController] : [])],
    }, child);
    this.registerOutputs({ bucketName: this.bucket.bucketName, databaseAddress: this.database.address, trackingUri: this.trackingUri });
  }

  /** How workload ServiceAccounts get their roles: EKS Pod Identity associations, or IRSA annotations. */
  public get workloadIdentityMode(): 'pod-identity' | 'irsa' {
    return (this.args.cluster.identity ?? WorkloadIdentityMode.podIdentity()).spec.kind;
  }

  /**
   * A new chart `id` in the in-memory cdk8s app of {@link MlPlatform.platform}, for one workload
   * construct: built there, the workload takes part in the synth-time checks (GPU fit, pool capacity,
   * tenant quota, data access) with the platform and every workload declared before it, as it would
   * in one `cdk8s synth`.
   */
  public workloadChart(id: string): Chart {
    return new Chart(this.platform.node.root as App, id);
  }

  /** Everything workload constructs need from this platform; strings may hold cloud value placeholders. */
  public get context(): PlatformContext {
    return this.platform.context;
  }

  /**
   * A role for one workload ServiceAccount, scoped to exact prefixes of the platform's bucket (keys
   * relative to the bucket; the platform's own root is `context.store.prefix`): how the Pulumi
   * wrappers of TrainingPipeline, TuningSweep and ModelEndpoint give a pipeline write access to its
   * own prefix and an endpoint read access to exactly its model's.
   */
  public workloadIdentity(
    name: string, serviceAccount: { readonly namespace: string; readonly name: string }, access: S3PrefixAccess, opts: pulumi.ComponentResourceOptions = {},
  ): WorkloadIdentity {
    return new WorkloadIdentity(name, {
      cluster: this.args.cluster,
      serviceAccount,
      s3: { ...access, bucketArn: this.bucket.bucketArn, kmsKeyArn: this.bucket.kmsKeyArn, region: this.args.cluster.region },
      tags: platformTags(this.platform.platformName, this.args.tags),
    }, { parent: this, ...opts });
  }

  /** Checks the ingress args against the exposure; returns whether an ALB sends traffic to the tracking pods. */
  private checkIngress(issues: Issues, exposure: ExposureSpec): boolean {
    const i = this.args.ingress ?? {};
    const lbc = i.loadBalancerController;
    const albClass = lbc ? lbc.ingressClass ?? 'alb' : undefined;
    const albToTracking = exposure.kind === 'ingress' && exposure.className === albClass;
    if (i.certificate && !albToTracking) {
      issues.add('ingress.certificate', i.certificate.domainName ?? '(exposure host)', 'ACM certificates terminate TLS on AWS load balancers only: use Exposure.ingress({ className: \'alb\' }) with ingress.loadBalancerController, or let cert-manager issue the certificate');
    }
    if (albToTracking && !this.args.cluster.vpcCidr) issues.add('cluster.vpcCidr', undefined, 'is required when an ALB sends traffic to the tracking pods (their NetworkPolicy admits the VPC range)');
    return albToTracking;
  }

  /**
   * Creates the objects of `chart` — a cdk8s chart with workload constructs built against
   * {@link MlPlatform.platform} (so they mention this platform's cloud value placeholders) — with the
   * platform's cloud values and Kubernetes provider, after the platform's own objects and add-ons.
   * How the Pulumi wrappers of TrainingPipeline, TuningSweep and ModelEndpoint deploy (pass
   * `{ parent: wrapper }`). Every object also waits for `dependsOn` (e.g. the workload's
   * {@link WorkloadIdentity}: a Pod Identity association must exist before the pods start).
   */
  public deploy(name: string, chart: Chart, opts: pulumi.ComponentResourceOptions = {}, dependsOn: readonly pulumi.Resource[] = []): KubernetesObjects {
    return new KubernetesObjects(name, {
      objects: chart.toJson() as ManifestObject[],
      provider: this.args.cluster.provider,
      cloudValues: this.cloudValues,
      dependsOn: [this.objects, this.addons, ...dependsOn],
    }, { parent: this, ...opts });
  }

  private ingress(name: string, exposure: ExposureSpec, tags: Record<string, string>) {
    const i = this.args.ingress ?? {};
    const host = exposure.kind === 'none' ? undefined : exposure.host;
    const certificate = i.certificate
      ? new TlsCertificate(`${name}-certificate`, { ...i.certificate, domainName: i.certificate.domainName ?? host!, tags }, { parent: this })
      : undefined;
    const controller = i.loadBalancerController
      ? new AwsLoadBalancerController(`${name}-load-balancer-controller`, {
        ...i.loadBalancerController,
        cluster: this.args.cluster,
        certificateArns: certificate ? [certificate.certificateArn] : [],
        tags,
      }, { parent: this })
      : undefined;
    return { certificate, controller };
  }
}

function stripNodes<T extends { readonly nodes?: unknown }>(o: T): Omit<T, 'nodes'> {
  const { nodes: _nodes, ...rest } = o;
  return rest;
}

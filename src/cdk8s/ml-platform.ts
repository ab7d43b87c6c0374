import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AcceleratorCatalog, AddonDelivery, AddonDeliverySpec, checkAddonValues, AddonName, AddonsOptions, ArtifactStore, ArtifactStoreSpec,
  BackendStore, BackendStoreSpec, checkDnsLabel, checkNamespace, enabledAddons, Exposure, ExposureSpec, GpuPoolOptions, GpuPoolSpec,
  Issues, joinKey, PlatformContext, resolveGpuPool, resolveTenant, resolveTracking, TenantOptions, TenantSpec, TrackingOptions,
  TrackingSpec, VersionOverrides, VersionTable, withVersions,
} from '../core';
import { checksWiring, servicePodDemands, StoreLocation } from './checks';
import { CheckSeverities, resolveCheckSeverities } from '../core/checks';
import { uriHost } from '../core/hosts';
import { assertPropShapes } from '../core/prop-shapes';
import { checkText } from '../core/text';
import { checkVersionOverrides } from '../core/versions';
import { awsCredentialsFile, Bootstrap, BootstrapPlan, CREDENTIALS_FILE_KEY, DatabaseLogin, mlflowCredentialsFile, secretRef } from './private/bootstrap';
import { EMBEDDED_DATABASE, POSTGRES_PORT, databasePodLabels, renderBackup, renderDatabase, tenantDatabase, trackingRole } from './private/database';
import { renderExposure } from './private/exposure';
import { platformNames, PlatformNames } from './private/names';
import { Json, KUBE, kube } from './private/object';
import { STORE_PORT, renderObjectStore, storeEndpoint, storePodLabels } from './private/object-store';
import { PlatformAddons } from './private/platform-addons';
import { renderPlatformNetwork } from './private/platform-policies';
import { appLabels, DATABASE_CA_FILE, DATABASE_CA_PATH, secretEnv } from './private/pod';
import { renderResourceFlavors, renderTenant } from './private/tenant';
import { ARGO_WORKFLOW_POD_LABEL, DATABASE_CLIENT_LABEL, ExternalService, PRIVATE_IPV4_RANGES } from './private/tenant-network';
import { OIDC_PROXY_PORT, TRACKING_PORT, renderTracking, trackingPodLabels } from './private/tracking';

/** Props of {@link MlPlatform}. */
export interface MlPlatformProps {
  /**
   * Namespace of the shared services (tracking, database, object store).
   * @default 'mlplatform'
   */
  readonly namespace?: string;
  /**
   * Metadata store of the tracking server (and of sweeps).
   * @default BackendStore.embedded()
   */
  readonly backendStore?: BackendStore;
  /**
   * Artifact and data store.
   * @default ArtifactStore.embedded()
   */
  readonly artifactStore?: ArtifactStore;
  /**
   * The MLflow tracking server.
   * @default one replica, two workers, basic-auth
   */
  readonly tracking?: TrackingOptions;
  /**
   * How the tracking UI is reached from outside the cluster; with `apps`, the platform's own
   * Gateway also carries listeners for the tenants' model endpoints and sweep dashboards.
   * @default Exposure.none()
   */
  readonly exposure?: Exposure;
  /**
   * Cluster add-ons and how they are installed.
   * @default Argo Workflows as an Argo CD Application, plus what pools, queues and exposure need
   */
  readonly addons?: AddonsOptions;
  /**
   * Replacement images or chart versions (e.g. a private registry mirror).
   * @default VERSIONS
   */
  readonly versions?: VersionOverrides;
  /**
   * The accelerator catalog GPU pools are checked against (extend it with custom accelerators).
   * @default AcceleratorCatalog.DEFAULT
   */
  readonly catalog?: AcceleratorCatalog;
  /**
   * Severity of the synth-time checks (schedulability, capacity, tenancy, data-access) for every
   * workload on this platform: `{ capacity: 'error' }` makes capacity warnings fail synthesis,
   * `{ tenancy: 'warning' }` lets an over-quota workload synthesize with a warning. A workload's own
   * `checks` prop overrides these.
   * @default each check at its own severity: capacity warns, the others fail synthesis
   */
  readonly checks?: CheckSeverities;
  /**
   * Address ranges (IPv4 CIDRs) of the Kubernetes API server as pods reach it (the endpoints behind the
   * `kubernetes` Service, after its ClusterIP is translated): the only egress to ports 443/6443 the
   * bootstrap Job and Argo Workflows' executors get. On EKS those endpoints are network interfaces in
   * the cluster's VPC subnets, so the private ranges cover them; give the exact ones (`kubectl get
   * endpoints kubernetes -n default`) to narrow it.
   * @default the private IPv4 ranges of RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
   */
  readonly apiServerCidrs?: readonly string[];
}

/** An IPv4 CIDR such as `10.0.0.0/8`. */
const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

interface Resolved {
  readonly namespace: string;
  readonly backend: BackendStoreSpec;
  readonly artifacts: ArtifactStoreSpec;
  readonly tracking: TrackingSpec;
  readonly exposure: ExposureSpec;
  readonly delivery: AddonDeliverySpec;
  readonly apiServerCidrs: readonly string[];
}

/**
 * The shared half of the platform, for any Kubernetes cluster.
 *
 * Creates, in its namespace: the MLflow tracking server and model registry (Deployment, Service,
 * PodDisruptionBudget, optional HorizontalPodAutoscaler, probes), an embedded PostgreSQL
 * (StatefulSet, PVC, nightly backup CronJob) unless an external one is given, an embedded
 * S3-compatible store (SeaweedFS StatefulSet, PVC) unless an S3 bucket is given, a credentials
 * bootstrap Job that generates every password inside the cluster, default-deny NetworkPolicies with
 * the allows the platform's traffic needs, the exposure (HTTPRoute / Gateway, with apps listeners
 * admitting routes from tenant namespaces, or Ingress), and the
 * cluster add-ons as Argo CD Applications or Flux HelmReleases. `addGpuPool` declares GPU node
 * pools; `addTenant` creates a team's namespace with quota, RBAC, policies and an optional Kueue
 * queue. Workload constructs take the platform (its {@link MlPlatform.context}) as one prop.
 */
export class MlPlatform extends Construct {
  /** Name prefix of every object. */
  public readonly platformName: string;
  /** Namespace of the shared services. */
  public readonly namespace: string;
  /** The pinned versions in use. */
  public readonly versions: VersionTable;
  /** The accelerator catalog in use. */
  public readonly catalog: AcceleratorCatalog;
  /** Severity overrides of the synth-time checks for the workloads on this platform. */
  public readonly checkSeverities: CheckSeverities;

  private readonly names: PlatformNames;
  private readonly spec: Resolved;
  private readonly pools: GpuPoolSpec[] = [];
  private readonly tenants: TenantSpec[] = [];
  private readonly addonOptions: AddonsOptions;
  private readonly addons = new Set<AddonName>();
  private readonly plan: BootstrapPlan;
  private readonly bootstrap: Bootstrap;
  private readonly labels: Record<string, string>;
  private readonly addonRenderer: PlatformAddons;
  private flavorsRendered = false;
  /** The composed Secret holding the embedded store's identities (s3.json), when the store is embedded. */
  private storeIdentities?: { namespace: string; name: string; keys: Record<string, string>; files?: ReturnType<typeof awsCredentialsFile> };
  /** The MLflow admin's user name (a Secret key), when MLflow runs its auth app. */
  private trackingAdmin?: { readonly name: string; readonly key: string };

  constructor(scope: Construct, id: string, props: MlPlatformProps = {}) {
    super(scope, id);
    assertPropShapes(`MlPlatform "${id}"`, 'MlPlatform', props);
    const issues = new Issues(`MlPlatform "${id}"`);
    checkText(issues, '', props);
    checkVersionOverrides(issues, 'versions', props.versions);
    this.platformName = id;
    checkDnsLabel(issues, 'id', id, 30);
    const namespace = props.namespace ?? 'mlplatform';
    checkNamespace(issues, 'namespace', namespace, 'give the platform a namespace of its own (the default is "mlplatform")',
      { versions: withVersions(props.versions), deliveryNamespace: props.addons?.delivery?._namespace });
    const backend = (props.backendStore ?? BackendStore.embedded())._resolve(issues, 'backendStore');
    const artifacts = (props.artifactStore ?? ArtifactStore.embedded())._resolve(issues, 'artifactStore');
    const tracking = resolveTracking(issues, 'tracking', props.tracking);
    const exposure = (props.exposure ?? Exposure.none())._resolve(issues, 'exposure', namespace);
    const delivery = (props.addons?.delivery ?? AddonDelivery.argoCd())._resolve(issues, 'addons.delivery');
    checkAddonValues(issues, 'addons.values', props.addons?.values);
    const checks = resolveCheckSeverities(issues, 'checks', props.checks);
    const apiServerCidrs = props.apiServerCidrs ?? PRIVATE_IPV4_RANGES;
    if (!Array.isArray(apiServerCidrs) || apiServerCidrs.length === 0) {
      issues.add('apiServerCidrs', apiServerCidrs, 'must be a non-empty list of IPv4 CIDRs, e.g. ["10.0.0.0/8"]');
    } else {
      apiServerCidrs.forEach((c, i) => {
        if (typeof c !== 'string' || !IPV4_CIDR.test(c)) issues.add(`apiServerCidrs[${i}]`, c, 'must be an IPv4 CIDR such as "10.0.0.0/16"');
        else if (c.endsWith('/0')) issues.add(`apiServerCidrs[${i}]`, c, 'opens the API-server ports to every address; give the ranges of the API server\'s endpoints');
      });
    }
    if (tracking.auth.kind === 'oidc' && exposure.kind === 'none') {
      issues.add('tracking.auth', 'oidc', 'needs an exposure with a public host for the OIDC redirect; set `exposure` or use TrackingAuth.basic()');
    }
    issues.throwIfAny();

    this.namespace = namespace;
    this.versions = withVersions(props.versions);
    this.catalog = props.catalog ?? AcceleratorCatalog.DEFAULT;
    this.checkSeverities = checks;
    this.names = platformNames(id);
    this.spec = { namespace, backend, artifacts, tracking, exposure, delivery, apiServerCidrs: [...apiServerCidrs] };
    this.addonOptions = props.addons ?? {};
    this.labels = appLabels(id, 'platform', id);
    for (const a of enabledAddons(this.addonOptions, {
      gpuPools: false,
      queues: false,
      tls: exposure.kind !== 'none' && exposure.tls !== undefined,
      ownGateway: exposure.kind === 'gateway' && exposure.createGateway,
    })) this.addons.add(a);

    kube(this, 'namespace', KUBE.Namespace, {
      metadata: {
        name: namespace,
        labels: Object.assign({}, this.labels, {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.27',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        }),
      },
    });

    this.plan = { labels: { 'app.kubernetes.io/managed-by': 'mlplatform', 'app.kubernetes.io/part-of': id }, generate: [], compose: [], copy: [] };
    const databaseCaRef = backend.kind === 'external' ? backend.caCertificate : undefined;
    this.bootstrap = new Bootstrap(this, 'bootstrap', {
      platform: id, namespace, names: this.names, image: this.versions.images.mlflow, plan: this.plan, finalize: () => this.finalizePlan(), databaseCa: databaseCaRef,
    });
    this.planCredentials();
    this.bootstrap.writesPlannedSecrets();

    const store = this.storeAccess();
    if (backend.kind === 'embedded') {
      renderDatabase(this, { platform: id, namespace, names: this.names, image: this.versions.images.postgres, spec: backend });
      renderBackup(this, {
        platform: id,
        namespace,
        names: this.names,
        image: this.versions.images.postgres,
        spec: backend,
        uploaderImage: this.versions.images.mlflow,
        store: { endpoint: store.endpoint, bucket: artifacts.bucket, prefix: artifacts.prefix, region: artifacts.region, credentialEnv: store.env },
      });
    }
    if (artifacts.kind === 'embedded') {
      renderObjectStore(this, { platform: id, namespace, names: this.names, image: this.versions.images.objectStore, spec: artifacts });
    }
    renderTracking(this, {
      platform: id,
      namespace,
      names: this.names,
      image: this.versions.images.mlflow,
      oauth2ProxyImage: this.versions.images.oauth2Proxy,
      spec: tracking,
      exposure,
      artifactsDestination: `s3://${artifacts.bucket}/${artifacts.prefix ? `${artifacts.prefix}/` : ''}mlartifacts`,
      storeEndpoint: store.endpoint,
      storeRegion: artifacts.region,
      // On the embedded store the server reads its identity from the INI file the bootstrap writes (botocore:
      // the key variables would win over the file, so they are not set).
      storeCredentialEnv: artifacts.kind === 'embedded' ? [] : store.env,
      storeCredentialsFile: artifacts.kind === 'embedded' ? { name: this.names.storeSecret, key: CREDENTIALS_FILE_KEY } : undefined,
      serviceAccountAnnotations: store.annotations,
      databaseCa: databaseCaRef,
      oidc: tracking.auth.kind === 'oidc' && this.trackingAdmin ? {
        admin: this.trackingAdmin,
        // Lazy: tenants declared later map their groups too.
        mapping: () => ({
          adminGroups: tracking.auth.kind === 'oidc' ? [...tracking.auth.adminGroups] : [],
          tenants: this.tenants.map((t) => ({ username: t.name, groups: [...t.access.admins, ...t.access.editors] })),
        }),
      } : undefined,
    });
    renderExposure(this, {
      namespace,
      name: this.names.tracking,
      labels: this.labels,
      spec: exposure,
      service: this.names.tracking,
      port: tracking.auth.kind === 'oidc' ? OIDC_PROXY_PORT : TRACKING_PORT,
      envoyGatewayAddon: this.addons.has('envoyGateway') && delivery.kind !== 'preinstalled',
      platform: id,
    });
    renderPlatformNetwork(this, {
      platform: id,
      namespace,
      names: this.names,
      labels: this.labels,
      exposure,
      tracking: { labels: trackingPodLabels({ platform: id, names: this.names }), port: TRACKING_PORT, oidcPort: tracking.auth.kind === 'oidc' ? OIDC_PROXY_PORT : undefined },
      database: backend.kind === 'embedded' ? { labels: databasePodLabels({ platform: id, names: this.names }), port: POSTGRES_PORT } : undefined,
      store: artifacts.kind === 'embedded' ? { labels: storePodLabels({ platform: id, names: this.names }), port: STORE_PORT } : undefined,
      externalDatabasePort: backend.kind === 'external' ? backend.port : undefined,
      apiServerCidrs: this.spec.apiServerCidrs,
      backups: backend.kind === 'embedded' && backend.backup !== undefined,
    });
    this.addonRenderer = new PlatformAddons(this, {
      delivery,
      versions: this.versions,
      context: () => this.context,
      gatewayApi: exposure.kind === 'gateway' && exposure.tls !== undefined,
      overrides: this.addonOptions.values,
    });
    this.addonRenderer.ensure(this.addons);
    // Its own services are demands too (the platform report counts them); their namespace is no tenant's.
    checksWiring.registerDemands(this, () => servicePodDemands(this, this.platformName));
  }

  /**
   * Declares a GPU node pool. Workloads that ask for its accelerator get its node selector,
   * toleration and extended resource name automatically; the NVIDIA device plugin add-on gets its
   * sharing configuration; the AWS side creates the node group itself.
   *
   * @returns the validated pool, with its labels, taints and resource names
   */
  public addGpuPool(name: string, options: GpuPoolOptions): GpuPoolSpec {
    assertPropShapes(`MlPlatform "${this.platformName}": addGpuPool("${name}")`, 'MlPlatform.addGpuPool#1', options, 'options');
    const issues = new Issues(`MlPlatform "${this.platformName}": addGpuPool("${name}")`);
    if (this.pools.some((p) => p.pool === name)) issues.add('name', name, 'is already a pool of this platform; choose another name');
    checkText(issues, 'options', options);
    const pool = resolveGpuPool(issues, 'options', name, options, this.catalog);
    issues.throwIfAny();
    this.pools.push(pool!);
    // A pool declared after the flavors were rendered gets its own: any order of pools and tenants renders the same flavors.
    if (this.flavorsRendered) renderResourceFlavors(this, this.platformName, this.pools);
    if (this.addonOptions.nvidiaDevicePlugin !== false) this.addons.add('nvidiaDevicePlugin');
    this.addonRenderer.ensure(this.addons);
    return pool!;
  }

  /**
   * Adds a tenant: a namespace with a ResourceQuota (CPU, memory, GPUs per pool), a LimitRange,
   * RoleBindings for its groups, default-deny NetworkPolicies with the platform allows, the
   * platform's credentials (store, database, its own MLflow user) copied in by the bootstrap Job,
   * and an optional Kueue ClusterQueue/LocalQueue. Declare the pools its quota names first.
   */
  public addTenant(name: string, options: TenantOptions = {}): TenantSpec {
    assertPropShapes(`MlPlatform "${this.platformName}": addTenant("${name}")`, 'MlPlatform.addTenant#1', options, 'options');
    const issues = new Issues(`MlPlatform "${this.platformName}": addTenant("${name}")`);
    if (this.tenants.some((t) => t.name === name)) issues.add('name', name, 'is already a tenant of this platform; choose another name');
    checkText(issues, 'options', options);
    const tenant = resolveTenant(issues, 'options', name, options, this.pools, { versions: this.versions, deliveryNamespace: this.spec.delivery.kind === 'preinstalled' ? undefined : this.spec.delivery.namespace });
    if (this.tenants.some((t) => t.namespace === tenant.namespace) || tenant.namespace === this.namespace) {
      issues.add('options.namespace', tenant.namespace, 'is already used by this platform; give the tenant its own namespace');
    }
    const a = this.spec.artifacts;
    if (a.kind === 's3' && !('workloadIdentity' in a.credentials) && !tenant.storeCredentials) {
      issues.add('options.storeCredentials', undefined, 'the platform store uses static access keys, which never leave the platform namespace: give the tenant keys of its own, ' +
        `limited to its prefixes (${this.tenantStorePrefixes(tenant).readWrite.join(', ')}), or use workload identity`);
    } else if (tenant.storeCredentials && !(a.kind === 's3' && !('workloadIdentity' in a.credentials))) {
      issues.add('options.storeCredentials', '(given)', 'is only for a store reached with static access keys; remove it (the embedded store makes one identity per tenant, workload identity one role per workload)');
    }
    if (tenant.queueName && this.addonOptions.kueue === false) {
      issues.add('options.queue', true, 'needs Kueue, which `addons.kueue: false` turned off');
    }
    issues.throwIfAny();
    this.tenants.push(tenant);
    if (tenant.queueName) this.addons.add('kueue');
    this.addonRenderer.ensure(this.addons);
    const kueue = this.addons.has('kueue');
    if (kueue) {
      this.flavorsRendered = true;
      renderResourceFlavors(this, this.platformName, this.pools);
    }
    renderTenant(this, tenant, {
      name: this.platformName,
      namespace: this.namespace,
      pools: this.pools,
      tracking: { podLabels: trackingPodLabels({ platform: this.platformName, names: this.names }), port: TRACKING_PORT },
      store: this.spec.artifacts.kind === 'embedded' ? { podLabels: storePodLabels({ platform: this.platformName, names: this.names }), port: STORE_PORT } : undefined,
      database: this.spec.backend.kind === 'embedded' ? { podLabels: databasePodLabels({ platform: this.platformName, names: this.names }), port: POSTGRES_PORT } : undefined,
      kueue,
      externalServices: this.tenantExternalServices(),
    });
    this.planTenantCredentials(tenant);
    this.bootstrap.writesPlannedSecrets();
    return tenant;
  }

  /**
   * Shares a registered model of one tenant read-only with other tenants: their MLflow users get READ
   * on it (given by the bootstrap with the admin login; the model need not exist yet). Tenants see only
   * what they created otherwise (`defaultPermission` is NO_PERMISSIONS). An endpoint of a reader tenant
   * serving `models:/<name>@<alias>` fetches through this grant with its tenant's MLflow user; the files
   * the version points to must still be readable by the reader: an `s3://` source (what TrainingPipeline
   * registration steps register) with the reader's store access (grant the prefix, e.g.
   * `pipeline.artifacts.grantRead(endpoint)`); an `mlflow-artifacts:/` source (a model logged through the
   * tracking server, e.g. `mlflow.pyfunc.log_model`) through the tracking server, which asks for READ on
   * the run's experiment: share that experiment too ({@link shareExperiment}).
   */
  public shareRegisteredModel(name: string, options: { readonly owner: string; readonly readers: readonly string[] }): void {
    const readers = this.checkShare(`shareRegisteredModel("${name}")`, 'registered model', name, options);
    for (const r of readers) {
      if (!this.plan.mlflowUsers!.grants.some((g) => g.username === r && g.resourceType === 'registered_model' && g.resourceId === name)) {
        this.plan.mlflowUsers!.grants.push({ username: r, resourceType: 'registered_model', resourceId: name, permission: 'READ' });
      }
    }
  }

  /**
   * Shares an experiment of one tenant read-only with other tenants: their MLflow users get READ on it
   * (its runs, metrics, logged models and artifacts). Needed to download a shared model version whose files
   * were logged through the tracking server (`mlflow-artifacts:/…` sources, logged models `models:/m-…`):
   * MLflow's artifact proxy checks READ on the run's experiment, not on the registered model
   * (mlflow/server/auth `_get_permission_from_experiment_id_artifact_proxy`). MLflow keys experiment
   * permissions by id, so the bootstrap looks the experiment up by name; when it does not exist yet it
   * creates it and gives the owner MANAGE (what MLflow gives a creator), so the owner's runs log into it.
   * An experiment of that name that exists must be the owner's (MANAGE): one another tenant created fails
   * the bootstrap with the fix named, instead of being shared on its behalf.
   */
  public shareExperiment(name: string, options: { readonly owner: string; readonly readers: readonly string[] }): void {
    const readers = this.checkShare(`shareExperiment("${name}")`, 'experiment', name, options);
    const shares = this.plan.mlflowUsers!.experimentShares ??= [];
    const existing = shares.find((x) => x.name === name);
    if (existing && existing.owner !== options.owner) {
      const issues = new Issues(`MlPlatform "${this.platformName}": shareExperiment("${name}")`);
      issues.add('options.owner', options.owner, `differs from the owner of an earlier share of the same experiment (${existing.owner}); an experiment has one owner`);
      issues.throwIfAny();
    }
    if (existing) existing.readers.push(...readers.filter((r) => !existing.readers.includes(r)));
    else shares.push({ name, owner: options.owner, readers: [...new Set(readers)] });
  }

  /** Validates a share's name, owner and readers; returns the readers. */
  private checkShare(method: string, what: string, name: string, options: { readonly owner: string; readonly readers: readonly string[] }): readonly string[] {
    const issues = new Issues(`MlPlatform "${this.platformName}": ${method}`);
    if (typeof name !== 'string' || name.trim() === '' || name.length > 256 || /[\u0000-\u001f]/.test(name)) issues.add('name', name, `must be the ${what}'s name (1–256 printable characters)`);
    const tenant = (path: string, t: unknown) => {
      if (!this.tenants.some((x) => x.name === t)) issues.add(path, t, `must be a tenant of this platform (${this.tenants.map((x) => x.name).join(', ') || 'none declared yet'}); declare it with addTenant first`);
    };
    tenant('options.owner', options?.owner);
    const readers = Array.isArray(options?.readers) ? options.readers : [];
    if (!Array.isArray(options?.readers) || readers.length === 0) issues.add('options.readers', options?.readers, 'must list at least one tenant to share with');
    readers.forEach((r, i) => {
      tenant(`options.readers[${i}]`, r);
      if (r === options.owner) issues.add(`options.readers[${i}]`, r, `is the owner, which manages the ${what} already`);
    });
    if (!this.plan.mlflowUsers) issues.add('name', name, 'needs MLflow users: tracking auth is disabled on this platform');
    issues.throwIfAny();
    return readers;
  }

  /**
   * A key prefix of the platform's store (below its own prefix), e.g. `datasets/cifar10`, to grant
   * workloads read access to data put there by other means than a pipeline:
   * `platform.storeLocation('datasets/cifar10').grantRead(pipeline)`.
   */
  public storeLocation(prefix: string): StoreLocation {
    const key = [this.spec.artifacts.prefix, prefix].map((p) => String(p ?? '').replace(/^\/+|\/+$/g, '')).filter((p) => p).join('/');
    return StoreLocation.fromUri(`s3://${this.spec.artifacts.bucket}/${key}`);
  }

  /** Everything workload constructs need from this platform (a live view: later pools and tenants show up). */
  public get context(): PlatformContext {
    const a = this.spec.artifacts;
    const b = this.spec.backend;
    const names = this.names;
    const store = this.storeAccess();
    return {
      name: this.platformName,
      namespace: this.namespace,
      tracking: {
        uri: `http://${names.tracking}.${this.namespace}.svc.cluster.local:${TRACKING_PORT}`,
        auth: this.spec.tracking.auth.kind,
        credentials: this.spec.tracking.auth.kind !== 'disabled' ? { name: names.tenantTrackingSecret, keys: { username: 'username', password: 'password', file: CREDENTIALS_FILE_KEY } } : undefined,
        podLabels: trackingPodLabels({ platform: this.platformName, names }),
        port: TRACKING_PORT,
      },
      store: {
        root: `s3://${a.bucket}${a.prefix ? `/${a.prefix}` : ''}`,
        bucket: a.bucket,
        prefix: a.prefix,
        region: a.region,
        endpoint: store.endpoint,
        insecure: store.endpoint?.startsWith('http://') ?? false,
        credentials: store.tenantSecret,
        serviceAccountAnnotations: store.annotations,
        podLabels: a.kind === 'embedded' ? storePodLabels({ platform: this.platformName, names }) : undefined,
        port: a.kind === 'embedded' ? STORE_PORT : 443,
      },
      database: b.kind === 'embedded'
        ? {
          host: `${names.postgres}.${this.namespace}.svc.cluster.local`,
          port: POSTGRES_PORT,
          database: EMBEDDED_DATABASE,
          sslMode: 'disable',
          credentials: { name: names.tenantDatabaseSecret, keys: { username: 'username', password: 'password', database: 'database' } },
          podLabels: databasePodLabels({ platform: this.platformName, names }),
          maxConnections: b.maxConnections,
        }
        : {
          host: b.host,
          port: b.port,
          database: b.database,
          sslMode: b.sslMode,
          // The bootstrap copies the CA bundle into each tenant namespace (planTenantCredentials).
          ...(b.caCertificate ? { caCertificate: { name: names.tenantDatabaseCaSecret, key: DATABASE_CA_FILE } } : {}),
          credentials: { name: names.tenantDatabaseSecret, keys: { username: 'username', password: 'password', database: 'database' } },
          maxConnections: b.maxConnections,
        },
      pools: this.pools,
      tenants: this.tenants,
      addons: this.addons,
      exposure: this.exposureContext(),
    };
  }

  private exposureContext(): PlatformContext['exposure'] {
    const e = this.spec.exposure;
    if (e.kind === 'gateway') {
      // The tracking listeners admit routes of the platform namespace only; the apps listeners admit
      // the tenants' routes, and Envoy Gateway runs the Gateway's proxies in its own namespace.
      const https = e.createGateway ? e.tls !== undefined : e.gateway.sectionName === 'https';
      const apps = e.apps && {
        name: e.gateway.name,
        namespace: e.gateway.namespace,
        listeners: e.apps.map((a) => ({ hostname: a.hostname, sectionName: a.sectionName })),
        https,
        proxyNamespace: this.versions.charts.envoyGateway.namespace,
      };
      return { kind: 'gateway', gateway: { ...e.gateway }, https, host: e.host, ...(apps ? { apps } : {}) };
    }
    if (e.kind === 'ingress') return { kind: 'ingress', className: e.className, tls: e.tls };
    return { kind: 'none' };
  }

  /** Services tenants reach by port only: an external database, a store endpoint on another port, the API server. */
  private tenantExternalServices(): ExternalService[] {
    const out: ExternalService[] = [];
    const b = this.spec.backend;
    // Only the pods that connect with the tenant's own role (a sweep's Optuna pods).
    if (b.kind === 'external') out.push({ name: 'database', ports: [b.port], pods: { [DATABASE_CLIENT_LABEL]: 'true' } });
    const a = this.spec.artifacts;
    if (a.kind === 's3' && a.endpoint) {
      const url = new URL(a.endpoint);
      const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
      if (port !== 443) out.push({ name: 'store', ports: [port] });
    }
    // Argo Workflows' executor (the wait container of a workflow's pods) talks to the API server: only
    // those pods, only to the API server's declared ranges.
    if (this.addons.has('argoWorkflows')) {
      out.push({ name: 'kube-apiserver', ports: [443, 6443], cidrs: this.spec.apiServerCidrs, podsWithLabel: ARGO_WORKFLOW_POD_LABEL });
    }
    return out;
  }

  /** How the platform's own pods reach the store: endpoint, credential env vars, tenant Secret, SA annotations. */
  private storeAccess(): { endpoint?: string; env: Json<k8s.EnvVar>[]; tenantSecret?: { name: string; keys: Record<string, string> }; annotations?: Record<string, string> } {
    const a = this.spec.artifacts;
    const tenantSecret = { name: this.names.tenantStoreSecret, keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey', file: CREDENTIALS_FILE_KEY } };
    if (a.kind === 'embedded') {
      return {
        endpoint: storeEndpoint(this.names, this.namespace),
        env: [secretEnv('AWS_ACCESS_KEY_ID', this.names.storeSecret, 'accessKeyId'), secretEnv('AWS_SECRET_ACCESS_KEY', this.names.storeSecret, 'secretAccessKey')],
        tenantSecret,
      };
    }
    const c = a.credentials;
    if ('workloadIdentity' in c) {
      return { endpoint: a.endpoint, env: [], annotations: { ...c.workloadIdentity.serviceAccountAnnotations } };
    }
    return {
      endpoint: a.endpoint,
      env: [secretEnv('AWS_ACCESS_KEY_ID', c.accessKeyId.name, c.accessKeyId.key), secretEnv('AWS_SECRET_ACCESS_KEY', c.secretAccessKey.name, c.secretAccessKey.key)],
      tenantSecret,
    };
  }

  /**
   * The object-store prefixes tenant `t` may use: its own (`pipelines/<namespace>/`, where its pipelines
   * and Argo write; `endpoints/<namespace>/`, where its endpoints log payloads) read-write, and what its
   * workloads read elsewhere in the platform's store (which the data-access check admits only when a
   * pipeline of the same namespace writes it or it was granted) read-only.
   */
  public tenantStorePrefixes(t: TenantSpec): { readWrite: string[]; readOnly: string[] } {
    const a = this.spec.artifacts;
    // The same keys the pipelines (pipeline.ts artifactPrefix) and the payload logs (logging.ts) are under.
    const readWrite = ['pipelines', 'endpoints'].map((area) => `${joinKey(a.prefix, area, t.namespace)}/`);
    const readOnly = new Set<string>();
    for (const w of checksWiring.dataAccessOf(this)) {
      if (w.namespace !== t.namespace) continue;
      for (const r of w.reads) {
        if (r.ownCredentials || r.path.bucket !== a.bucket || readWrite.some((p) => r.path.prefix.startsWith(p))) continue;
        readOnly.add(r.path.prefix);
      }
    }
    return { readWrite, readOnly: [...readOnly].sort() };
  }

  /** Completes the bootstrap plan at synthesis: the embedded store's identities, one per tenant. */
  private finalizePlan(): void {
    const s = this.storeIdentities;
    if (!s) return;
    const bucket = this.spec.artifacts.bucket;
    const identity = (name: string, secret: { namespace: string; name: string }, actions: string[]) => ({
      name,
      credentials: [{ accessKey: secretRef(secret.namespace, secret.name, 'accessKeyId'), secretKey: secretRef(secret.namespace, secret.name, 'secretAccessKey') }],
      actions,
    });
    // SeaweedFS matches an action `Read:<bucket>/<prefix>*` against `Read:<bucket>/<key>` (`*` spans `/`), and a
    // listing against the request's `prefix` parameter (weed/s3api/auth_credentials.go, Identity.CanDo).
    const scoped = (verbs: string[], prefixes: string[]) => prefixes.flatMap((p) => verbs.map((v) => `${v}:${bucket}/${p}*`));
    s.keys['s3.json'] = JSON.stringify({
      identities: [
        identity('platform', { namespace: this.namespace, name: this.names.storeSecret }, ['Admin', 'Read', 'Write', 'List', 'Tagging']),
        ...this.tenants.map((t) => {
          const p = this.tenantStorePrefixes(t);
          return identity(`tenant-${t.name}`, { namespace: t.namespace, name: this.names.tenantStoreSecret },
            [...scoped(['Read', 'Write', 'List', 'Tagging'], p.readWrite), ...scoped(['Read', 'List'], p.readOnly)]);
        }),
      ],
    });
  }

  /** Fills the bootstrap plan for the platform namespace. */
  private planCredentials(): void {
    const { names, namespace, plan, bootstrap } = this;
    const ns = namespace;
    const use = (name: string) => bootstrap.useSecret(ns, name);
    const b = this.spec.backend;
    const a = this.spec.artifacts;
    const auth = this.spec.tracking.auth;
    // The superuser (embedded) or master user (external) stays in this namespace: only the bootstrap
    // uses it, to create the tracking server's role and each tenant's role and database.
    let dbAdmin: DatabaseLogin;
    if (b.kind === 'embedded') {
      plan.generate.push({ namespace: ns, name: names.postgresSecret, keys: { username: { value: EMBEDDED_DATABASE }, password: { randomBytes: 24 } } });
      use(names.postgresSecret);
      dbAdmin = { namespace: ns, name: names.postgresSecret, usernameKey: 'username', passwordKey: 'password' };
    } else {
      use(b.username.name);
      use(b.password.name);
      // Read for the copies into tenant namespaces (planTenantCredentials).
      if (b.caCertificate) use(b.caCertificate.name);
      dbAdmin = { namespace: ns, name: b.username.name, usernameKey: b.username.key, passwordKey: b.password.key };
      if (b.password.name !== b.username.name) {
        // The program reads both keys from one Secret: compose one when the user split them.
        const joined = `${names.postgresSecret}-joined`;
        const keys = { username: secretRef(ns, b.username.name, b.username.key), password: secretRef(ns, b.password.name, b.password.key) };
        plan.compose.push({ namespace: ns, name: joined, keys });
        use(joined);
        dbAdmin = { namespace: ns, name: joined, usernameKey: 'username', passwordKey: 'password' };
      }
    }
    const role = trackingRole(this.platformName);
    plan.generate.push({ namespace: ns, name: names.trackingDatabaseSecret, keys: { username: { value: role }, password: { randomBytes: 24 } }, replaceWhenDifferent: true });
    use(names.trackingDatabaseSecret);
    const database = b.kind === 'embedded' ? EMBEDDED_DATABASE : b.database;
    const host = b.kind === 'embedded' ? `${names.postgres}.${ns}.svc.cluster.local` : b.host;
    const port = b.kind === 'embedded' ? POSTGRES_PORT : b.port;
    const sslMode = b.kind === 'embedded' ? 'disable' : b.sslMode;
    plan.database = {
      host,
      port,
      database,
      sslMode,
      // The CA bundle, mounted into the bootstrap pod (Bootstrap's databaseCa), for verify-ca/verify-full.
      ...(b.kind === 'external' && b.caCertificate ? { sslRootCert: DATABASE_CA_PATH } : {}),
      admin: dbAdmin,
      tracking: { role, secret: { namespace: ns, name: names.trackingDatabaseSecret, passwordKey: 'password' } },
      tenants: [],
    };
    // Host (validated: a host name or an IP address, core/hosts.ts) and database name are literals of the URI's grammar.
    const dbHost = `${uriHost(host)}:${port}/${database}${b.kind === 'embedded' ? '' : `?sslmode=${sslMode}`}`;
    // The password is percent-encoded into the URI; in basic_auth.ini, `%` is doubled for configparser
    // (MLflow reads it with interpolation: mlflow/server/auth/config.py `read_auth_config`).
    const uri = (ini: boolean) =>
      `postgresql+psycopg2://${secretRef(ns, names.trackingDatabaseSecret, 'username', true, ini)}:${secretRef(ns, names.trackingDatabaseSecret, 'password', true, ini)}@${ini ? dbHost.replace(/%/g, '%%') : dbHost}`;
    const backendUri = uri(false);
    if (a.kind === 'embedded') {
      plan.generate.push({ namespace: ns, name: names.storeSecret, keys: { accessKeyId: { randomBytes: 10 }, secretAccessKey: { randomBytes: 20 } }, files: awsCredentialsFile() });
      use(names.storeSecret);
      // s3.json lives in the same Secret as the keys it is made of: composed after generation, from the
      // platform's identity (its own services) and one identity per tenant, limited to that tenant's
      // prefixes (completed at synthesis, when every tenant and workload is known: finalizePlan).
      const keys = { 'accessKeyId': secretRef(ns, names.storeSecret, 'accessKeyId'), 'secretAccessKey': secretRef(ns, names.storeSecret, 'secretAccessKey'), 's3.json': '' };
      // With the AWS shared credentials file the tracking server reads (its artifact proxy's boto3).
      this.storeIdentities = { namespace: ns, name: names.storeSecret, keys, files: awsCredentialsFile() };
      plan.compose.push(this.storeIdentities);
      // SeaweedFS reads its identities once, at start: a changed file needs a restart.
      plan.restarts = [{ secret: { namespace: ns, name: names.storeSecret }, workload: { resource: 'statefulsets', namespace: ns, name: names.store } }];
      bootstrap.allowRestart(ns, 'statefulsets', names.store);
      plan.bucket = {
        name: a.bucket,
        endpoint: storeEndpoint(names, ns),
        region: a.region,
        credentials: { namespace: ns, name: names.storeSecret, accessKeyIdKey: 'accessKeyId', secretAccessKeyKey: 'secretAccessKey' },
      };
    } else if (!('workloadIdentity' in a.credentials)) {
      use(a.credentials.accessKeyId.name);
      use(a.credentials.secretAccessKey.name);
    }
    const config: Record<string, string> = { 'backend-store-uri': backendUri };
    if (auth.kind !== 'disabled') {
      // MLflow's basic-auth app runs in OIDC mode too: its API port never answers without a login.
      let admin = auth.kind === 'basic' ? auth.admin : undefined;
      if (!admin) {
        plan.generate.push({ namespace: ns, name: names.adminSecret, keys: { username: { value: 'admin' }, password: { randomBytes: 16 } } });
        admin = { username: { name: names.adminSecret, key: 'username' }, password: { name: names.adminSecret, key: 'password' } };
      }
      use(admin.username.name);
      use(admin.password.name);
      plan.generate.push({ namespace: ns, name: `${names.trackingConfigSecret}-key`, keys: { 'flask-secret-key': { randomBytes: 32 } } });
      use(`${names.trackingConfigSecret}-key`);
      config['flask-secret-key'] = secretRef(ns, `${names.trackingConfigSecret}-key`, 'flask-secret-key');
      config['basic_auth.ini'] = [
        '[mlflow]',
        `default_permission = ${auth.defaultPermission}`,
        `database_uri = ${uri(true)}`,
        `admin_username = ${secretRef(ns, admin.username.name, admin.username.key, false, true)}`,
        `admin_password = ${secretRef(ns, admin.password.name, admin.password.key, false, true)}`,
        `authorization_function = ${auth.kind === 'oidc' ? 'mlflow_oidc_auth:authenticate_request' : 'mlflow.server.auth:authenticate_request_basic_auth'}`,
        '',
      ].join('\n');
      this.trackingAdmin = admin.username;
      if (auth.kind === 'oidc') {
        // The password OAuth2 Proxy sends upstream for the people it signed in (only the tracking pod holds it).
        plan.generate.push({ namespace: ns, name: names.oidcProxySecret, keys: { password: { randomBytes: 24 } } });
        use(names.oidcProxySecret);
      }
      plan.mlflowUsers = {
        uri: `http://${names.tracking}.${ns}.svc.cluster.local:${TRACKING_PORT}`,
        admin: { namespace: ns, name: admin.username.name, usernameKey: admin.username.key, passwordKey: admin.password.key },
        users: [],
        grants: [],
      };
      if (admin.password.name !== admin.username.name) {
        // The program reads both keys from one Secret: compose one when the user split them.
        const joined = `${names.adminSecret}-joined`;
        plan.compose.push({
          namespace: ns,
          name: joined,
          keys: { username: secretRef(ns, admin.username.name, admin.username.key), password: secretRef(ns, admin.password.name, admin.password.key) },
        });
        use(joined);
        plan.mlflowUsers.admin = { namespace: ns, name: joined, usernameKey: 'username', passwordKey: 'password' };
      }
    }
    plan.compose.push({ namespace: ns, name: names.trackingConfigSecret, keys: config });
    use(names.trackingConfigSecret);
  }

  /** Adds a tenant's Secrets to the bootstrap plan: copies of the store and database credentials, its MLflow user. */
  private planTenantCredentials(t: TenantSpec): void {
    const { names, namespace: ns, plan, bootstrap } = this;
    const tenantUse = (name: string) => bootstrap.useSecret(t.namespace, name);
    const use = (name: string) => bootstrap.useSecret(ns, name);
    const a = this.spec.artifacts;
    if (a.kind === 'embedded') {
      // The tenant's own store identity (its prefixes only, see finalizePlan), never the platform's.
      plan.generate.push({
        namespace: t.namespace,
        name: names.tenantStoreSecret,
        keys: { accessKeyId: { randomBytes: 10 }, secretAccessKey: { randomBytes: 20 } },
        files: awsCredentialsFile(),
        replaceWhenDifferent: true,
      });
      tenantUse(names.tenantStoreSecret);
    } else if (t.storeCredentials) {
      // Static keys: the tenant's own, which the user made for an identity limited to its prefixes.
      const c = t.storeCredentials;
      use(c.accessKeyId.name);
      use(c.secretAccessKey.name);
      plan.compose.push({
        namespace: t.namespace,
        name: names.tenantStoreSecret,
        keys: { accessKeyId: secretRef(ns, c.accessKeyId.name, c.accessKeyId.key), secretAccessKey: secretRef(ns, c.secretAccessKey.name, c.secretAccessKey.key) },
        files: awsCredentialsFile(),
      });
      tenantUse(names.tenantStoreSecret);
    }
    // The tenant's own database role and study database: a generated password, never the platform's login.
    const db = tenantDatabase(this.platformName, t.name);
    plan.generate.push({
      namespace: t.namespace,
      name: names.tenantDatabaseSecret,
      keys: { username: { value: db.role }, password: { randomBytes: 24 }, database: { value: db.database } },
      replaceWhenDifferent: true,
    });
    tenantUse(names.tenantDatabaseSecret);
    const b = this.spec.backend;
    if (b.kind === 'external' && b.caCertificate) {
      // Sweeps verify the server too, and a pod can mount only Secrets of its own namespace: a copy of the
      // CA bundle (public, but kept a Secret like the key it comes from), rewritten on every run.
      plan.copy.push({
        from: { namespace: ns, name: b.caCertificate.name },
        to: { namespace: t.namespace, name: names.tenantDatabaseCaSecret },
        keys: { [DATABASE_CA_FILE]: b.caCertificate.key },
      });
      tenantUse(names.tenantDatabaseCaSecret);
    }
    plan.database!.tenants.push({ role: db.role, database: db.database, secret: { namespace: t.namespace, name: names.tenantDatabaseSecret, passwordKey: 'password' } });
    if (plan.mlflowUsers) {
      plan.mlflowUsers.users.push({ username: t.name, secret: { namespace: t.namespace, name: names.tenantTrackingSecret }, files: mlflowCredentialsFile() });
      tenantUse(names.tenantTrackingSecret);
    }
  }
}

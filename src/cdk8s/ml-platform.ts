import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AcceleratorCatalog, AddonDelivery, AddonDeliverySpec, checkAddonValues, AddonName, AddonsOptions, ArtifactStore, ArtifactStoreSpec,
  BackendStore, BackendStoreSpec, checkDnsLabel, enabledAddons, Exposure, ExposureSpec, GpuPoolOptions, GpuPoolSpec,
  Issues, PlatformContext, resolveGpuPool, resolveTenant, resolveTracking, TenantOptions, TenantSpec, TrackingOptions,
  TrackingSpec, VersionOverrides, VersionTable, withVersions,
} from '../core';
import { checksWiring, servicePodDemands, StoreLocation } from './checks';
import { CheckSeverities, resolveCheckSeverities } from '../core/checks';
import { Bootstrap, BootstrapPlan, secretRef } from './private/bootstrap';
import { EMBEDDED_DATABASE, POSTGRES_PORT, databasePodLabels, renderBackup, renderDatabase } from './private/database';
import { renderExposure } from './private/exposure';
import { platformNames, PlatformNames } from './private/names';
import { Json, KUBE, kube } from './private/object';
import { STORE_PORT, renderObjectStore, storeEndpoint, storePodLabels } from './private/object-store';
import { PlatformAddons } from './private/platform-addons';
import { renderPlatformNetwork } from './private/platform-policies';
import { appLabels, secretEnv } from './private/pod';
import { renderResourceFlavors, renderTenant } from './private/tenant';
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
}

interface Resolved {
  readonly namespace: string;
  readonly backend: BackendStoreSpec;
  readonly artifacts: ArtifactStoreSpec;
  readonly tracking: TrackingSpec;
  readonly exposure: ExposureSpec;
  readonly delivery: AddonDeliverySpec;
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

  constructor(scope: Construct, id: string, props: MlPlatformProps = {}) {
    super(scope, id);
    const issues = new Issues(`MlPlatform "${id}"`);
    this.platformName = id;
    checkDnsLabel(issues, 'id', id, 30);
    const namespace = props.namespace ?? 'mlplatform';
    checkDnsLabel(issues, 'namespace', namespace);
    const backend = (props.backendStore ?? BackendStore.embedded())._resolve(issues, 'backendStore');
    const artifacts = (props.artifactStore ?? ArtifactStore.embedded())._resolve(issues, 'artifactStore');
    const tracking = resolveTracking(issues, 'tracking', props.tracking);
    const exposure = (props.exposure ?? Exposure.none())._resolve(issues, 'exposure', namespace);
    const delivery = (props.addons?.delivery ?? AddonDelivery.argoCd())._resolve(issues, 'addons.delivery');
    checkAddonValues(issues, 'addons.values', props.addons?.values);
    const checks = resolveCheckSeverities(issues, 'checks', props.checks);
    if (tracking.auth.kind === 'oidc' && exposure.kind === 'none') {
      issues.add('tracking.auth', 'oidc', 'needs an exposure with a public host for the OIDC redirect; set `exposure` or use TrackingAuth.basic()');
    }
    issues.throwIfAny();

    this.namespace = namespace;
    this.versions = withVersions(props.versions);
    this.catalog = props.catalog ?? AcceleratorCatalog.DEFAULT;
    this.checkSeverities = checks;
    this.names = platformNames(id);
    this.spec = { namespace, backend, artifacts, tracking, exposure, delivery };
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
    this.bootstrap = new Bootstrap(this, 'bootstrap', { platform: id, namespace, names: this.names, image: this.versions.images.mlflow, plan: this.plan });
    this.planCredentials();

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
      storeCredentialEnv: store.env,
      serviceAccountAnnotations: store.annotations,
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
    const issues = new Issues(`MlPlatform "${this.platformName}": addGpuPool("${name}")`);
    if (this.pools.some((p) => p.pool === name)) issues.add('name', name, 'is already a pool of this platform; choose another name');
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
    const issues = new Issues(`MlPlatform "${this.platformName}": addTenant("${name}")`);
    if (this.tenants.some((t) => t.name === name)) issues.add('name', name, 'is already a tenant of this platform; choose another name');
    const tenant = resolveTenant(issues, 'options', name, options, this.pools);
    if (this.tenants.some((t) => t.namespace === tenant.namespace) || tenant.namespace === this.namespace) {
      issues.add('options.namespace', tenant.namespace, 'is already used by this platform; give the tenant its own namespace');
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
    return tenant;
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
        credentials: this.spec.tracking.auth.kind === 'basic' ? { name: names.tenantTrackingSecret, keys: { username: 'username', password: 'password' } } : undefined,
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
          credentials: { name: names.tenantDatabaseSecret, keys: { username: 'username', password: 'password' } },
          podLabels: databasePodLabels({ platform: this.platformName, names }),
        }
        : {
          host: b.host,
          port: b.port,
          database: b.database,
          sslMode: b.sslMode,
          credentials: { name: names.tenantDatabaseSecret, keys: { username: 'username', password: 'password' } },
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
  private tenantExternalServices(): { name: string; ports: number[] }[] {
    const out: { name: string; ports: number[] }[] = [];
    const b = this.spec.backend;
    if (b.kind === 'external') out.push({ name: 'database', ports: [b.port] });
    const a = this.spec.artifacts;
    if (a.kind === 's3' && a.endpoint) {
      const url = new URL(a.endpoint);
      const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
      if (port !== 443) out.push({ name: 'store', ports: [port] });
    }
    // Argo Workflows' executor (wait container) talks to the API server, whose address is not known here.
    if (this.addons.has('argoWorkflows')) out.push({ name: 'kube-apiserver', ports: [443, 6443] });
    return out;
  }

  /** How the platform's own pods reach the store: endpoint, credential env vars, tenant Secret, SA annotations. */
  private storeAccess(): { endpoint?: string; env: Json<k8s.EnvVar>[]; tenantSecret?: { name: string; keys: Record<string, string> }; annotations?: Record<string, string> } {
    const a = this.spec.artifacts;
    const tenantSecret = { name: this.names.tenantStoreSecret, keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } };
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

  /** Fills the bootstrap plan for the platform namespace. */
  private planCredentials(): void {
    const { names, namespace, plan, bootstrap } = this;
    const ns = namespace;
    const use = (name: string) => bootstrap.useSecret(ns, name);
    const b = this.spec.backend;
    const a = this.spec.artifacts;
    const auth = this.spec.tracking.auth;
    let db: { ns: string; user: [string, string]; password: [string, string] };
    let dbHost: string;
    if (b.kind === 'embedded') {
      plan.generate.push({ namespace: ns, name: names.postgresSecret, keys: { username: { value: EMBEDDED_DATABASE }, password: { randomBytes: 24 } } });
      use(names.postgresSecret);
      db = { ns, user: [names.postgresSecret, 'username'], password: [names.postgresSecret, 'password'] };
      dbHost = `${names.postgres}.${ns}.svc.cluster.local:${POSTGRES_PORT}/${EMBEDDED_DATABASE}`;
    } else {
      use(b.username.name);
      use(b.password.name);
      db = { ns, user: [b.username.name, b.username.key], password: [b.password.name, b.password.key] };
      dbHost = `${b.host}:${b.port}/${b.database}?sslmode=${b.sslMode}`;
    }
    // The password is percent-encoded into the URI; in basic_auth.ini, `%` is doubled for configparser.
    const uri = (ini: boolean) =>
      `postgresql+psycopg2://${secretRef(db.ns, ...db.user, true, ini)}:${secretRef(db.ns, ...db.password, true, ini)}@${dbHost}`;
    const backendUri = uri(false);
    if (a.kind === 'embedded') {
      plan.generate.push({ namespace: ns, name: names.storeSecret, keys: { accessKeyId: { randomBytes: 10 }, secretAccessKey: { randomBytes: 20 } } });
      use(names.storeSecret);
      const s3json = JSON.stringify({
        identities: [{
          name: 'platform',
          credentials: [{ accessKey: secretRef(ns, names.storeSecret, 'accessKeyId'), secretKey: secretRef(ns, names.storeSecret, 'secretAccessKey') }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        }],
      });
      // s3.json lives in the same Secret as the keys it is made of: composed after generation.
      plan.compose.push({ namespace: ns, name: names.storeSecret, keys: { 'accessKeyId': secretRef(ns, names.storeSecret, 'accessKeyId'), 'secretAccessKey': secretRef(ns, names.storeSecret, 'secretAccessKey'), 's3.json': s3json } });
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
    if (auth.kind === 'basic') {
      let admin = auth.admin;
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
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n');
      plan.mlflowUsers = {
        uri: `http://${names.tracking}.${ns}.svc.cluster.local:${TRACKING_PORT}`,
        admin: { namespace: ns, name: admin.username.name, usernameKey: admin.username.key, passwordKey: admin.password.key },
        users: [],
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
    const a = this.spec.artifacts;
    if (a.kind === 'embedded') {
      plan.copy.push({ from: { namespace: ns, name: names.storeSecret }, to: { namespace: t.namespace, name: names.tenantStoreSecret }, keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } });
      tenantUse(names.tenantStoreSecret);
    } else if (!('workloadIdentity' in a.credentials)) {
      plan.compose.push({
        namespace: t.namespace,
        name: names.tenantStoreSecret,
        keys: {
          accessKeyId: secretRef(ns, a.credentials.accessKeyId.name, a.credentials.accessKeyId.key),
          secretAccessKey: secretRef(ns, a.credentials.secretAccessKey.name, a.credentials.secretAccessKey.key),
        },
      });
      tenantUse(names.tenantStoreSecret);
    }
    const b = this.spec.backend;
    const dbKeys = b.kind === 'embedded'
      ? { username: secretRef(ns, names.postgresSecret, 'username'), password: secretRef(ns, names.postgresSecret, 'password') }
      : { username: secretRef(ns, b.username.name, b.username.key), password: secretRef(ns, b.password.name, b.password.key) };
    plan.compose.push({ namespace: t.namespace, name: names.tenantDatabaseSecret, keys: dbKeys });
    tenantUse(names.tenantDatabaseSecret);
    if (plan.mlflowUsers) {
      plan.mlflowUsers.users.push({ username: t.name, secret: { namespace: t.namespace, name: names.tenantTrackingSecret } });
      tenantUse(names.tenantTrackingSecret);
    }
  }
}

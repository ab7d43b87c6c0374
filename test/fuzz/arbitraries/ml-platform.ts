// Arbitraries of MlPlatform props, GPU pools (addGpuPool) and tenants (addTenant).
import * as fc from 'fast-check';
import { cpu, dnsLabel, host, image, memory, secretRef } from './common';
import type { MlPlatformProps } from '../../../src/cdk8s';
import {
  AcceleratorCatalog, AddonDelivery, ArtifactStore, BackendStore, CheckSeverities, Cpu, Exposure, GpuPoolOptions, GpuPoolSpec, Issues,
  reservedNamespaceOwner, resolveGpuPool, Size, TenantOptions, TrackingAuth,
} from '../../../src/core';
import { B200, P6_B200 } from '../../support/accelerators';

/** A platform declaration: constructor props, then pools, then tenants, in that order. */
export interface PlatformConfig {
  readonly id: string;
  readonly props: MlPlatformProps;
  readonly pools: readonly { readonly name: string; readonly options: GpuPoolOptions }[];
  readonly tenants: readonly { readonly name: string; readonly options: TenantOptions }[];
  /** The artifact store's bucket (workload sources inside it need no credentials of their own). */
  readonly bucket: string;
}

/** What workload arbitraries need to know of a platform (pools resolved, tenants, add-ons). */
export interface PlatformFacts {
  readonly config: PlatformConfig;
  readonly pools: readonly GpuPoolSpec[];
  readonly tenants: readonly { readonly name: string; readonly namespace: string; readonly queue: boolean; readonly gpus: Readonly<Record<string, number>> }[];
  readonly keda: boolean;
  readonly kserve: boolean;
  /** The store bucket workloads may read without their own credentials. */
  readonly bucket: string;
  /** Host names of the platform Gateway's apps listeners (routes without a `gateway` attach there); undefined without. */
  readonly apps?: readonly string[];
}

/** The built-in catalog extended with a custom accelerator and its instance type (`MlPlatformProps.catalog`). */
export const CUSTOM_CATALOG = AcceleratorCatalog.DEFAULT.with({
  accelerators: [B200],
  instanceTypes: [P6_B200],
});

/**
 * Host names of the platform Gateway's apps listeners. Workload hosts are drawn under the
 * wildcards; the tracking hosts (`<label>.example.com`, `.ml.acme.io`, `.internal.example.org`)
 * match none of them.
 */
export const APP_HOSTNAMES = ['*.models.example.com', '*.apps.example.net', 'dash.example.net'] as const;

/** Severity overrides of the synth-time checks that keep a valid scenario valid: any check downgraded, an error check kept an error. */
export const checkSeverities: fc.Arbitrary<CheckSeverities> = fc.record({
  'schedulability': fc.constantFrom('error', 'warning'),
  // `capacity: 'error'` turns the capacity warnings of pools smaller than a peak into failures: the mutations and tests cover it.
  'capacity': fc.constant('warning'),
  'tenancy': fc.constantFrom('error', 'warning'),
  'data-access': fc.constantFrom('error', 'warning'),
}, { requiredKeys: [] }) as fc.Arbitrary<CheckSeverities>;

const cron = fc.constantFrom('0 3 * * *', '*/30 * * * *', '15 2 * * 0', '0 0 1 * *', '5 4 * * 1-5');

export const backendStore: fc.Arbitrary<BackendStore> = fc.oneof(
  fc.record({
    storage: fc.option(fc.integer({ min: 1, max: 500 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
    storageClassName: fc.option(fc.constantFrom('gp3', 'standard', 'fast.ssd'), { nil: undefined }),
    backup: fc.option(fc.oneof(fc.constant(false as const), fc.record({
      schedule: fc.option(cron, { nil: undefined }),
      keep: fc.option(fc.integer({
        min: 1,
        max: 60,
      }), { nil: undefined }),
    })), { nil: undefined }),
  }, { requiredKeys: [] }).map((o) => BackendStore.embedded(o)),
  fc.record({
    host: fc.oneof(host, fc.constant('10.0.12.7')),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    database: fc.constantFrom('mlflow', 'ml_platform', 'tracking-db'),
    username: secretRef,
    password: secretRef,
    sslMode: fc.option(fc.constantFrom('disable', 'prefer', 'require', 'verify-ca', 'verify-full') as fc.Arbitrary<'require'>, { nil: undefined }),
    caCertificate: secretRef,
  }, { requiredKeys: ['host', 'database', 'username', 'password', 'caCertificate'] }).map(({ caCertificate, ...o }) => BackendStore.external({
    ...o,
    // The CA is required with the verifying modes, and refused with the others.
    ...((o.sslMode as string) === 'verify-ca' || (o.sslMode as string) === 'verify-full' ? { caCertificate } : {}),
  })),
);

const bucketName = fc.tuple(dnsLabel(20, 3), fc.constantFrom('', '-ml', '.artifacts')).map(([a, b]) => `${a}${b}`.replace(/[-.]+$/,
  '')).filter((b) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b) && !b.includes('..'));

export const artifactStore: fc.Arbitrary<{ store: ArtifactStore; bucket: string; staticKeys?: boolean }> = fc.oneof(
  fc.record({
    storage: fc.option(fc.integer({ min: 1, max: 2000 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
    storageClassName: fc.option(fc.constantFrom('gp3', 'standard'), { nil: undefined }),
    bucket: fc.option(dnsLabel(20, 3).filter((b) => /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(b)), { nil: undefined }),
  }, { requiredKeys: [] }).map((o) => ({ store: ArtifactStore.embedded(o), bucket: o.bucket ?? 'mlplatform' })),
  fc.record({
    bucket: bucketName,
    region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
    prefix: fc.option(fc.constantFrom('platform', 'ml/prod', 'teams/a'), { nil: undefined }),
    endpoint: fc.option(fc.constantFrom('https://s3.example.com', 'http://minio.storage.svc:9000', 'https://storage.example.org:8443'), { nil: undefined }),
    credentials: fc.oneof(
      fc.record({ accessKeyId: secretRef, secretAccessKey: secretRef }),
      fc.constant({ workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' } } }),
    ),
  }, { requiredKeys: ['bucket', 'region', 'credentials'] }).map((o) => ({ store: ArtifactStore.s3(o), bucket: o.bucket, staticKeys: 'accessKeyId' in o.credentials })),
);

const tls = fc.oneof(fc.record({ clusterIssuer: fc.constantFrom('letsencrypt', 'corp-ca') }), fc.record({ issuer: fc.constantFrom('local-ca', 'vault') }));

/** The platform's own Gateway: TLS or not, with or without apps listeners. */
const ownGateway: fc.Arbitrary<Exposure> = fc.record({
  host,
  tls: fc.option(tls, { nil: undefined }),
  gatewayClassName: fc.option(fc.constantFrom('envoy-gateway', 'eg'), { nil: undefined }),
  // At least one wildcard, under which workloads draw their hosts.
  apps: fc.option(fc.subarray([...APP_HOSTNAMES], { minLength: 1 }).filter((hs) => hs.some((h) => h.startsWith('*.'))).map((hostnames) => ({ hostnames })),
    { nil: undefined, freq: 2 }),
}, { requiredKeys: ['host'] })
  .map((o) => Exposure.gateway(o));

/**
 * Platform exposure: none, the platform's own Gateway (TLS or not, with or without apps
 * listeners; drawn twice as often, as endpoints and dashboards attach to its apps listeners),
 * a user Gateway, or an Ingress.
 */
export const exposure: fc.Arbitrary<Exposure> = fc.oneof(
  fc.constant(Exposure.none()),
  { weight: 2, arbitrary: ownGateway },
  fc.record({
    host,
    gateway: fc.record({ name: dnsLabel(10), namespace: dnsLabel(12), sectionName: fc.option(fc.constantFrom('http', 'https'), { nil: undefined }) },
      { requiredKeys: ['name', 'namespace'] }),
  })
    .map((o) => Exposure.gateway(o)),
  fc.record({ host, className: fc.constantFrom('nginx', 'traefik', 'alb'), tls: fc.option(tls, { nil: undefined }) }, { requiredKeys: ['host', 'className'] })
    .map((o) => Exposure.ingress(o)),
);

const oidc = fc.record({
  issuerUrl: fc.constantFrom('https://login.example.com', 'https://accounts.google.com', 'https://keycloak.acme.io/realms/ml'),
  clientId: fc.constantFrom('mlflow', 'ml-platform'),
  clientSecret: secretRef,
  cookieSecret: secretRef,
  emailDomains: fc.array(fc.constantFrom('example.com', 'acme.io'), { minLength: 1, maxLength: 2 }),
  allowedGroups: fc.option(fc.array(fc.constantFrom('ml', 'data'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  adminGroups: fc.option(fc.array(fc.constantFrom('ml-admins', 'platform'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: ['issuerUrl', 'clientId', 'clientSecret', 'cookieSecret', 'emailDomains'] }).map((o) => TrackingAuth.oidc(o));

const basic = fc.record({
  admin: fc.option(fc.record({ username: secretRef, password: secretRef }), { nil: undefined }),
  defaultPermission: fc.option(fc.constantFrom('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS') as fc.Arbitrary<'READ'>, { nil: undefined }),
}, { requiredKeys: [] }).map((o) => TrackingAuth.basic(o));

/** A delivery namespace: never a tenant's (`t-…`). */
const deliveryNamespace = dnsLabel(10).filter((n) => !n.startsWith('t-'));
const delivery = fc.oneof(
  fc.constant(undefined),
  fc.record({
    namespace: fc.option(deliveryNamespace, { nil: undefined }),
    project: fc.option(dnsLabel(10), { nil: undefined }),
    destinationServer: fc.option(fc.constant('https://kubernetes.default.svc'), { nil: undefined }),
  }, { requiredKeys: [] }).map((o) => AddonDelivery.argoCd(o)),
  fc.record({ namespace: fc.option(deliveryNamespace, { nil: undefined }), intervalMinutes: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }) },
    { requiredKeys: [] }).map((o) => AddonDelivery.flux(o)),
  fc.constant(AddonDelivery.preInstalled()),
);

/** MlPlatform props over the whole API (stores, tracking and its auth, exposure, add-ons, versions). */
export const platformProps: fc.Arbitrary<{ props: MlPlatformProps; bucket: string; staticKeys: boolean }> = fc.record({
  // Never a tenant's (`t-…`) nor one Kubernetes or an add-on uses (rejected: test/fuzz mutations, test/cdk8s/reserved-names.test.ts).
  namespace: fc.option(dnsLabel(14).filter((n) => !n.startsWith('t-') && reservedNamespaceOwner(n) === undefined), { nil: undefined }),
  backendStore: fc.option(backendStore, { nil: undefined }),
  artifacts: fc.option(artifactStore, { nil: undefined }),
  exposure: fc.option(exposure, { nil: undefined }),
  replicasOrScaling: fc.oneof(
    fc.record({ replicas: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) }),
    fc.record({
      autoscaling: fc.integer({ min: 1, max: 3 }).chain((min) => fc.record({
        minReplicas: fc.constant(min),
        maxReplicas: fc.integer({ min, max: 8 }),
        cpuUtilization: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
      }, { requiredKeys: ['minReplicas', 'maxReplicas'] })),
    }),
  ),
  workers: fc.option(fc.integer({ min: 1, max: 32 }), { nil: undefined }),
  serverOptions: fc.option(fc.constantFrom('--timeout-keep-alive 120', '--limit-concurrency 200'), { nil: undefined }),
  auth: fc.option(fc.oneof(basic, oidc, fc.constant(TrackingAuth.disabled('behind the corporate VPN proxy'))), { nil: undefined }),
  addons: fc.record({
    delivery,
    // Extra Helm values, deep-merged over the platform's (keys of the charts' own values files).
    values: fc.option(fc.oneof(
      fc.constant({ argoWorkflows: { server: { enabled: true } } }),
      fc.constant({ certManager: { prometheus: { enabled: false } }, keda: { resources: { operator: { limits: { memory: '2Gi' } } } } }),
    ), { nil: undefined }),
    keda: fc.option(fc.boolean(), { nil: undefined }),
    kserve: fc.option(fc.boolean(), { nil: undefined }),
    certManager: fc.option(fc.constant(true), { nil: undefined }),
    kueue: fc.option(fc.boolean(), { nil: undefined }),
    argoWorkflows: fc.option(fc.boolean(), { nil: undefined }),
  }, { requiredKeys: [] }),
  mlflowImage: fc.option(image, { nil: undefined }),
  checks: fc.option(checkSeverities, { nil: undefined, freq: 3 }),
  // The add-on delivery's namespace is reserved: the platform's must differ from it.
}, { requiredKeys: ['replicasOrScaling', 'addons'] }).filter((r) => (r.namespace ?? 'mlplatform') !== r.addons.delivery?._namespace).map((r) => {
  // OIDC needs a public host for its redirect: give it one when the generator drew none.
  const auth = r.auth;
  const needsHost = auth !== undefined && (auth as any).options?.kind === 'oidc';
  const ex = needsHost && (r.exposure === undefined || (r.exposure as any).options?.kind === 'none')
    ? Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' } })
    : r.exposure;
  const props: MlPlatformProps = {
    ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
    ...(r.backendStore ? { backendStore: r.backendStore } : {}),
    ...(r.artifacts ? { artifactStore: r.artifacts.store } : {}),
    ...(ex ? { exposure: ex } : {}),
    tracking: {
      ...r.replicasOrScaling,
      ...(r.workers ? { workers: r.workers } : {}),
      ...(r.serverOptions ? { serverOptions: r.serverOptions } : {}),
      ...(auth ? { auth } : {}),
    } as any,
    addons: Object.fromEntries(Object.entries(r.addons).filter(([, v]) => v !== undefined)),
    ...(r.mlflowImage ? { versions: { images: { mlflow: r.mlflowImage } } } : {}),
    ...(r.checks ? { checks: r.checks } : {}),
  };
  return { props, bucket: r.artifacts?.bucket ?? 'mlplatform', staticKeys: (r.artifacts as { staticKeys?: boolean } | undefined)?.staticKeys === true };
});

/** One GPU pool of any accelerator of `catalog`: by instance type or GPU count, whole, MIG or time-sliced. */
export function gpuPoolOf(catalog: AcceleratorCatalog, only?: string): fc.Arbitrary<GpuPoolOptions> {
  return fc.constantFrom(...catalog.accelerators.filter((a) => (only === undefined || a.id === only) && catalog.instanceTypes.some((t) => t.accelerator === a.id)))
    .chain((acc) => {
      const types = catalog.instanceTypes.filter((t) => t.accelerator === acc.id);
      const counts = [...new Set(types.map((t) => t.gpuCount))];
      const sharing: fc.Arbitrary<GpuPoolOptions['sharing']> = fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: 2, max: 8 }).map((replicas) => ({ timeSlicing: { replicas } })),
        ...(acc.migProfiles.length ? [fc.constantFrom(...acc.migProfiles.map((p) => p.name)).map((mig) => ({ mig }))] : []),
      );
      return fc.record({
        accelerator: fc.constant(acc.id),
        size: fc.oneof(fc.constantFrom(...types.map((t) => t.name)).map((instanceType) => ({ instanceType })),
          fc.constantFrom(...counts).map((gpusPerNode) => ({ gpusPerNode })), fc.constant({})),
        nodes: fc.integer({ min: 1, max: 16 }).chain((max) => fc.record({
          maxNodes: fc.constant(max),
          minNodes: fc.option(fc.integer({ min: 0, max }),
            { nil: undefined }),
        }, { requiredKeys: ['maxNodes'] })),
        capacityType: fc.option(fc.constantFrom('on-demand', 'spot') as fc.Arbitrary<'spot'>, { nil: undefined }),
        sharing,
        // At least the default 100 GiB, so every generated GPU pod's ephemeral storage fits (see computeArb).
        diskSize: fc.option(fc.integer({ min: 100, max: 2048 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
      }).map((r) => {
        const size = 'gpusPerNode' in r.size || 'instanceType' in r.size ? r.size : (counts.includes(1) ? {} : { gpusPerNode: counts[0] });
        return {
          accelerator: r.accelerator,
          ...size,
          ...r.nodes,
          ...(r.capacityType ? { capacityType: r.capacityType } : {}),
          ...(r.sharing ? { sharing: r.sharing } : {}),
          ...(r.diskSize ? { diskSize: r.diskSize } : {}),
        } as GpuPoolOptions;
      });
    });
}

/** One GPU pool of the built-in catalog. */
export const gpuPool: fc.Arbitrary<GpuPoolOptions> = gpuPoolOf(AcceleratorCatalog.DEFAULT);

/** One GPU pool of {@link CUSTOM_CATALOG}: its custom accelerator or a built-in one, even odds. */
const customPool: fc.Arbitrary<GpuPoolOptions> = fc.oneof(gpuPoolOf(CUSTOM_CATALOG, 'nvidia-b200'), gpuPool);

/**
 * A host for a workload route on the platform's apps listeners (under one of their wildcards, or
 * the exact host name when `exact`), or undefined when the platform has none.
 */
export function appHost(f: PlatformFacts, label: string, pick: number, exact = false): string | undefined {
  if (!f.apps) return undefined;
  const exactNames = f.apps.filter((h) => !h.startsWith('*.'));
  if (exact && exactNames.length) return exactNames[pick % exactNames.length];
  const wildcards = f.apps.filter((h) => h.startsWith('*.'));
  return wildcards.length ? `${label}${wildcards[pick % wildcards.length].slice(1)}` : undefined;
}

/** Tenant options given the pool names (quota GPUs for some pools; generous CPU and memory). */
export function tenantOptions(pools: readonly string[], queues: boolean): fc.Arbitrary<TenantOptions> {
  return fc.record({
    // Quotas large enough for any generated workload (the tenancy check is exercised by the mutations).
    quota: fc.record({
      cpu: fc.integer({ min: 512, max: 2048 }).map((c) => Cpu.cores(c)),
      memory: fc.integer({ min: 4, max: 16 }).map((t) => Size.tebibytes(t)),
      gpus: fc.tuple(...pools.map(() => fc.integer({ min: 256, max: 1024 }))).map((ns) => Object.fromEntries(pools.map((p, i) => [p, ns[i]]))),
      pods: fc.integer({ min: 2000, max: 5000 }),
      storage: fc.option(fc.integer({ min: 10, max: 5000 }).map((g) => Size.gibibytes(g)), { nil: undefined }),
    }, { requiredKeys: ['cpu', 'memory', 'gpus', 'pods'] }),
    containerDefaults: fc.option(fc.record({ cpuRequest: cpu(50, 500), memoryRequest: memory(64, 512), cpuLimit: cpu(1000, 4000), memoryLimit: memory(1024, 8192) },
      { requiredKeys: [] }), { nil: undefined }),
    access: fc.option(fc.record({
      admins: fc.array(fc.constantFrom('ml-platform-admins', 'sre'), { maxLength: 2 }),
      editors: fc.array(fc.constantFrom('vision-team', 'nlp-team', 'oidc:data'), { maxLength: 2 }),
      viewers: fc.array(fc.constantFrom('analysts', 'auditors'), { maxLength: 2 }),
    }, { requiredKeys: [] }), { nil: undefined }),
    queue: queues ? fc.option(fc.boolean(), { nil: undefined }) : fc.constant(undefined),
  }, { requiredKeys: ['quota'] }).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as TenantOptions);
}

/** A platform with 0-3 pools and 1-3 tenants (namespaces `t-…`, so they never clash with the platform's). */
export const platformConfig: fc.Arbitrary<PlatformConfig> = fc.record({
  id: dnsLabel(10),
  platform: platformProps,
  custom: fc.boolean(),
  tenantNames: fc.uniqueArray(dnsLabel(10), { minLength: 1, maxLength: 3 }),
}).chain((r0) => fc.uniqueArray(fc.tuple(dnsLabel(12), r0.custom ? customPool : gpuPool), { maxLength: 3, selector: ([n]) => n }).map((pools) => ({
  ...r0,
  // A custom catalog only when a pool uses its accelerator (else it is the built-in catalog again).
  platform: pools.some(([, p]) => p.accelerator === 'nvidia-b200') ? { ...r0.platform, props: { ...r0.platform.props, catalog: CUSTOM_CATALOG } } : r0.platform,
  pools,
}))).chain((r) => {
  const queues = (r.platform.props.addons as any)?.kueue !== false;
  const poolNames = r.pools.map(([n]) => n);
  return fc.tuple(...r.tenantNames.map(() => fc.tuple(tenantOptions(poolNames, queues), fc.boolean()))).map((ts) => ({
    id: r.id,
    props: r.platform.props,
    pools: r.pools.map(([name, options]) => ({ name, options })),
    tenants: r.tenantNames.map((n, i) => {
      const options = ts[i][1] ? { ...ts[i][0], namespace: `t-${n}-ns` } : ts[i][0];
      // A store reached with static keys: each tenant brings keys of its own (the platform's never leave its namespace).
      return { name: `t-${n}`, options: r.platform.staticKeys ? { ...options, storeCredentials: { accessKeyId: { name: `t-${n}-s3`, key: 'id' }, secretAccessKey: { name: `t-${n}-s3`, key: 'secret' } } } : options };
    }),
    bucket: r.platform.bucket,
  }));
});

/** Resolves what the workload arbitraries need from a platform config (pure core, no synthesis). */
export function platformFacts(config: PlatformConfig): PlatformFacts {
  const pools = config.pools.map((p) => {
    const issues = new Issues('fuzz');
    const spec = resolveGpuPool(issues, 'options', p.name, p.options, config.props.catalog ?? AcceleratorCatalog.DEFAULT);
    if (!spec) throw new Error(`arbitrary produced an invalid pool: ${issues.all.map((i) => i.path).join(', ')}`);
    return spec;
  });
  const addons = (config.props.addons ?? {}) as Record<string, unknown>;
  return {
    config,
    pools,
    tenants: config.tenants.map((t) => ({ name: t.name, namespace: t.options.namespace ?? t.name, queue: t.options.queue === true, gpus: t.options.quota?.gpus ?? {} })),
    keda: addons.keda === true,
    kserve: addons.kserve === true,
    bucket: config.bucket,
    apps: ((config.props.exposure as any)?.options?.apps as { hostnames: string[] } | undefined)?.hostnames,
  };
}


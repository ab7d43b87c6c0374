import { Issues } from '../errors';
import { checkDnsLabel } from '../names';
import { Cpu, Size } from '../quantities';
import { checkNamespace, checkRbacSubject, ReservedNamespaceOptions } from '../reserved';
import { GpuPoolSpec } from './pools';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';

/** Resource limits of a tenant's namespace (a ResourceQuota). */
export interface TenantQuota {
  /** Total CPU requests. @default Cpu.cores(8) */
  readonly cpu?: Cpu;
  /** Total memory requests. @default Size.gibibytes(32) */
  readonly memory?: Size;
  /** Most GPUs in use at once, per GPU pool name. @default {} (no GPU) */
  readonly gpus?: Readonly<Record<string, number>>;
  /** Most pods. @default 50 */
  readonly pods?: number;
  /** Total PersistentVolumeClaim storage requested. @default Size.gibibytes(100) */
  readonly storage?: Size;
  /**
   * Total `ephemeral-storage` (containers' scratch space and disk-backed emptyDirs) requested at once by
   * the tenant's queued workloads: the Kueue ClusterQueue's quota for it (with `queue: true`). Kueue
   * admits nothing that requests a resource its ClusterQueue does not cover, and every workload
   * mlplatform renders requests ephemeral-storage. The namespace's ResourceQuota does not limit it.
   * @default Size.tebibytes(1)
   */
  readonly ephemeralStorage?: Size;
}

/** Defaults applied to containers that set no resources (a LimitRange). */
export interface TenantContainerDefaults {
  /** Default CPU request. @default Cpu.millis(100) */
  readonly cpuRequest?: Cpu;
  /** Default memory request. @default Size.mebibytes(128) */
  readonly memoryRequest?: Size;
  /** Default CPU limit. @default Cpu.cores(1) */
  readonly cpuLimit?: Cpu;
  /** Default memory limit. @default Size.gibibytes(1) */
  readonly memoryLimit?: Size;
}

/**
 * Who may do what in a tenant's namespace: groups of your identity provider, bound to the built-in
 * ClusterRoles. Kubernetes' own groups (`system:…`, such as `system:authenticated`, every signed-in
 * user) are rejected unless `allowSystemGroups` is set.
 */
export interface TenantAccess {
  /** Groups bound to `admin`. @default [] */
  readonly admins?: readonly string[];
  /** Groups bound to `edit`. @default [] */
  readonly editors?: readonly string[];
  /** Groups bound to `view`. @default [] */
  readonly viewers?: readonly string[];
  /**
   * Allow Kubernetes system groups (names starting with `system:`) in `admins`, `editors` and
   * `viewers`. They are rejected by default because they stand for far more than a team:
   * `system:authenticated` is every authenticated user and ServiceAccount, `system:serviceaccounts`
   * every pod of the cluster. Set it only to bind such a group on purpose, e.g.
   * `system:serviceaccounts:ci` (every ServiceAccount of the `ci` namespace) as viewers.
   * @default false
   */
  readonly allowSystemGroups?: boolean;
}

/** A team: its namespace, quota, defaults, access and (optionally) a Kueue queue. */
export interface TenantOptions {
  /** Namespace name. @default the tenant name */
  readonly namespace?: string;
  /** ResourceQuota. @default see {@link TenantQuota} */
  readonly quota?: TenantQuota;
  /** LimitRange defaults. @default see {@link TenantContainerDefaults} */
  readonly containerDefaults?: TenantContainerDefaults;
  /** RBAC bindings. @default no binding */
  readonly access?: TenantAccess;
  /**
   * A Kueue ClusterQueue + LocalQueue with the tenant's quota (all-or-nothing admission of
   * multi-node jobs and sweeps). Requires the Kueue add-on.
   * @default false
   */
  readonly queue?: boolean;
  /**
   * The tenant's own object-store access keys, when the platform's store is an S3-compatible one
   * reached with static access keys (`ArtifactStore.s3({ credentials: { accessKeyId, secretAccessKey } })`):
   * Secret keys in the platform namespace holding an identity you made in that store, limited to the
   * tenant's prefixes (`<prefix>/pipelines/<namespace>/` and `<prefix>/endpoints/<namespace>/` read-write,
   * plus what it was granted read-only; `MlPlatform.tenantStorePrefixes` lists them). The bootstrap puts
   * them into the tenant's `<platform>-store` Secret; the platform's own keys never leave its namespace.
   * Not used with the embedded store (the bootstrap makes one identity per tenant) or workload identity
   * (each workload gets its own role).
   * @default none: required with static keys
   */
  readonly storeCredentials?: { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

/** A validated tenant. */
export interface TenantSpec {
  /** Tenant name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Quota with defaults applied. */
  readonly quota: {
    readonly cpu: Cpu;
    readonly memory: Size;
    readonly gpus: Readonly<Record<string, number>>;
    readonly pods: number;
    readonly storage: Size;
    readonly ephemeralStorage: Size;
  };
  /** Container defaults applied. */
  readonly containerDefaults: { readonly cpuRequest: Cpu; readonly memoryRequest: Size; readonly cpuLimit: Cpu; readonly memoryLimit: Size };
  /** Access. */
  readonly access: { readonly admins: readonly string[]; readonly editors: readonly string[]; readonly viewers: readonly string[] };
  /** Kueue LocalQueue name when the tenant has a queue. */
  readonly queueName?: string;
  /** The tenant's own store access keys (static-key stores only). */
  readonly storeCredentials?: { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

/**
 * Validates a tenant against the declared pools. Its namespace (`o.namespace`, else the tenant
 * name) must be none of the namespaces Kubernetes or the platform's add-ons use
 * ({@link reservedNamespaces}, given `reserved`): the tenant's default-deny policies, quota and
 * RBAC would land on their pods.
 */
export function resolveTenant(
  issues: Issues, path: string, name: string, o: TenantOptions, pools: readonly GpuPoolSpec[], reserved: ReservedNamespaceOptions = {},
): TenantSpec {
  const namespace = o.namespace ?? name;
  if (o.namespace !== undefined) {
    checkDnsLabel(issues, `${path}.name`, name);
    checkNamespace(issues, `${path}.namespace`, o.namespace, 'give the tenant a namespace of its own in `namespace`', reserved);
  } else {
    checkNamespace(issues, `${path}.name`, name, 'rename the tenant, or give it a namespace of its own in `namespace` (the name is the namespace by default)', reserved);
  }
  const d = o.containerDefaults ?? {};
  const containerDefaults = {
    cpuRequest: d.cpuRequest ?? Cpu.millis(100),
    memoryRequest: d.memoryRequest ?? Size.mebibytes(128),
    cpuLimit: d.cpuLimit ?? Cpu.cores(1),
    memoryLimit: d.memoryLimit ?? Size.gibibytes(1),
  };
  if (containerDefaults.cpuRequest.compareTo(containerDefaults.cpuLimit) > 0) issues.add(`${path}.containerDefaults.cpuRequest`, containerDefaults.cpuRequest.toString(), `must not exceed cpuLimit (${containerDefaults.cpuLimit})`);
  if (containerDefaults.memoryRequest.compareTo(containerDefaults.memoryLimit) > 0) issues.add(`${path}.containerDefaults.memoryRequest`, containerDefaults.memoryRequest.toString(), `must not exceed memoryLimit (${containerDefaults.memoryLimit})`);
  const q = o.quota ?? {};
  const quota = {
    cpu: q.cpu ?? Cpu.cores(8),
    memory: q.memory ?? Size.gibibytes(32),
    gpus: q.gpus ?? {},
    pods: q.pods ?? 50,
    storage: q.storage ?? Size.gibibytes(100),
    ephemeralStorage: q.ephemeralStorage ?? Size.tebibytes(1),
  };
  // A quota below one pod makes the namespace unusable: every pod is rejected at admission.
  if (quota.cpu.compareTo(containerDefaults.cpuRequest) < 0) issues.add(`${path}.quota.cpu`, quota.cpu.toString(), `is below one pod's default CPU request (${containerDefaults.cpuRequest}); raise it`);
  if (quota.memory.compareTo(containerDefaults.memoryRequest) < 0) issues.add(`${path}.quota.memory`, quota.memory.toString(), `is below one pod's default memory request (${containerDefaults.memoryRequest}); raise it`);
  if (!Number.isInteger(quota.pods) || quota.pods < 1) issues.add(`${path}.quota.pods`, quota.pods, 'must be a whole number ≥ 1');
  for (const [pool, n] of Object.entries(quota.gpus)) {
    if (!pools.some((p) => p.pool === pool)) issues.add(`${path}.quota.gpus.${pool}`, n, `names no GPU pool; declare it with addGpuPool('${pool}', …) first, or use one of: ${pools.map((p) => p.pool).join(', ') || '(no pool declared)'}`);
    if (!Number.isInteger(n) || n < 0) issues.add(`${path}.quota.gpus.${pool}`, n, 'must be a whole number ≥ 0');
  }
  const a = o.access ?? {};
  const access = { admins: a.admins ?? [], editors: a.editors ?? [], viewers: a.viewers ?? [] };
  if (a.allowSystemGroups !== undefined && typeof a.allowSystemGroups !== 'boolean') issues.add(`${path}.access.allowSystemGroups`, a.allowSystemGroups, 'must be true or false');
  for (const [role, groups] of Object.entries(access)) {
    groups.forEach((g, i) => checkRbacSubject(issues, `${path}.access.${role}[${i}]`, g, a.allowSystemGroups === true, `${path}.access.allowSystemGroups`));
  }
  if (o.storeCredentials !== undefined) {
    checkSecretKeyRef(issues, `${path}.storeCredentials.accessKeyId`, o.storeCredentials?.accessKeyId);
    checkSecretKeyRef(issues, `${path}.storeCredentials.secretAccessKey`, o.storeCredentials?.secretAccessKey);
  }
  return { name, namespace, quota, containerDefaults, access, queueName: o.queue ? namespace : undefined, ...(o.storeCredentials ? { storeCredentials: o.storeCredentials } : {}) };
}

import { ApiObject, Chart, JsonPatch, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { K8sObject, KUBE, kube } from './object';
import { appLabels } from './pod';
import { ExternalService, NAMESPACE_NAME_LABEL, renderTenantNetworkPolicies, TenantServicePeer } from './tenant-network';
import { Issues } from '../../core/errors';
import { GPU_POOL_LABEL } from '../../core/gpu-conventions';
import { childName } from '../../core/names';
import type { GpuPoolSpec } from '../../core/platform/pools';
import type { TenantSpec } from '../../core/platform/tenants';
import type { Size } from '../../core/quantities';

/** What {@link renderTenant} needs from the platform a tenant belongs to. */
export interface TenantPlatform {
  /** Platform name: the `app.kubernetes.io/part-of` value and the prefix of Kueue object names. */
  readonly name: string;
  /** Namespace of the platform's shared services (tracking, store, database). */
  readonly namespace: string;
  /** Every declared GPU pool (the tenant's GPU quota names some of them). */
  readonly pools: readonly GpuPoolSpec[];
  /** The tracking server's pods and port, which tenant pods may reach. */
  readonly tracking: TenantServicePeer;
  /** The embedded object store's pods and port. @default - none: the store is external, reached over HTTPS */
  readonly store?: TenantServicePeer;
  /** The embedded database's pods and port. @default - none: the database is external */
  readonly database?: TenantServicePeer;
  /** Whether the Kueue add-on is present; without it no ClusterQueue or LocalQueue is rendered. */
  readonly kueue: boolean;
  /** Services reached by port only (see {@link TenantNetworkPeers.externalServices}). @default - none */
  readonly externalServices?: readonly ExternalService[];
}

/**
 * The Pod Security Standards version tenant namespaces pin (`pod-security.kubernetes.io/*-version`):
 * the Kubernetes API version this library renders (cdk8s-plus-27). Pinned, so a cluster upgrade
 * never tightens or loosens the policy silently.
 */
export const POD_SECURITY_VERSION = 'v1.27';

/** Label on every tenant object holding the tenant name. */
export const TENANT_LABEL = 'mlplatform.io/tenant';

/** Kueue API version rendered (stored and served by Kueue 0.19; `v1beta1` is deprecated). */
export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta2';

/**
 * How much the memory limits of a tenant's pods may add up to, as a multiple of its memory
 * quota (`limits.memory` = this × `requests.memory`). See {@link renderTenant}.
 */
export const MEMORY_LIMIT_OVERCOMMIT = 2;

/** The extended resource every whole or time-sliced NVIDIA GPU is requested as. */
const WHOLE_GPU_RESOURCE = 'nvidia.com/gpu';

/** Name of the Kueue ResourceFlavor for CPU and memory on any node: `<platform>-default`. */
export function defaultFlavorName(platformName: string): string {
  return childName(platformName, 'default');
}

/** Name of the Kueue ResourceFlavor of one GPU pool: `<platform>-<pool>`. */
export function poolFlavorName(platformName: string, pool: string): string {
  return childName(platformName, pool);
}

/** Name of a tenant's Kueue ClusterQueue: `<platform>-<tenant>`. */
export function clusterQueueName(platformName: string, tenant: string): string {
  return childName(platformName, tenant);
}

/**
 * Renders one tenant under a child construct named after it. Creates, and nothing else (no pod):
 * - the Namespace, enforcing Pod Security `restricted` (audit and warn too), pinned to
 *   {@link POD_SECURITY_VERSION};
 * - a ResourceQuota `<tenant>-quota`:
 *   - `requests.cpu`, `requests.memory`, `pods`, `requests.storage` from the tenant quota;
 *   - `persistentvolumeclaims` = the pod quota (a count bound against leaked claims; the size bound
 *     is `requests.storage`);
 *   - `limits.memory` = {@link MEMORY_LIMIT_OVERCOMMIT} × `requests.memory` (at least the default
 *     container memory limit, so one defaulted pod always fits): memory cannot be reclaimed from a
 *     running container, so limits above requests are an overcommit the node pays for with OOM
 *     kills; this caps it. There is deliberately no `limits.cpu`: CPU over the request
 *     is only throttled, and a CPU-limit quota would count the LimitRange's default limit against
 *     every small pod and run out long before `requests.cpu` does;
 *   - GPUs: `requests.<resourceName>` (extended resources can only be quota'd with the `requests.`
 *     prefix) summed over the tenant's pools per resource name, and `0` for every other GPU
 *     resource name of the platform's pools and for `nvidia.com/gpu` always. A tenant without GPU
 *     quota is so refused GPU pods at admission, and one with MIG slices cannot take whole GPUs.
 *     Pools sharing a resource name share its quota here; Kueue (below) keeps them apart;
 * - a LimitRange `<tenant>-container-defaults`: default requests and limits of containers that set none;
 * - RoleBindings `<tenant>-admin`, `-edit`, `-view` to the built-in ClusterRoles, for the groups
 *   given (a role without groups gets no binding);
 * - the NetworkPolicies of {@link renderTenantNetworkPolicies};
 * - with `t.queueName` and Kueue: a ClusterQueue `<platform>-<tenant>` admitting workloads of the
 *   namespace only, with one resource group for `cpu` + `memory` (flavor `<platform>-default`,
 *   the tenant's CPU and memory quota) and one per GPU resource name (a flavor `<platform>-<pool>`
 *   per pool of the tenant with that resource, its GPU quota), and a LocalQueue `t.queueName`.
 *   The flavors are rendered once per platform by {@link renderResourceFlavors}.
 *
 * @throws ValidationError when the GPU quota names a pool that is not in `platform.pools`
 */
export function renderTenant(scope: Construct, t: TenantSpec, platform: TenantPlatform): void {
  const tenantPools = gpuPoolsOf(t, platform.pools);
  const c = new Construct(scope, t.name);
  const labels = Object.assign({}, appLabels(t.name, 'tenant', platform.name), { [TENANT_LABEL]: t.name });
  const metadata = (suffix: string) => ({ name: childName(t.name, suffix), namespace: t.namespace, labels: { ...labels } });

  const ns = kube(c, 'namespace', KUBE.Namespace, {
    metadata: {
      name: t.namespace,
      labels: Object.assign({}, labels, {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': POD_SECURITY_VERSION,
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': POD_SECURITY_VERSION,
      }),
    },
  });
  clusterScoped(ns);

  const hard: Record<string, string> = {
    'requests.cpu': t.quota.cpu.toKubernetes(),
    'requests.memory': t.quota.memory.toKubernetes(),
    'limits.memory': memoryLimitQuota(t).toKubernetes(),
    'pods': String(t.quota.pods),
    'requests.storage': t.quota.storage.toKubernetes(),
    'persistentvolumeclaims': String(t.quota.pods),
  };
  // The GPU resource names of every pool, those declared after the tenant too (`platform.pools` is the platform's live list):
  // any order of the same pools and tenants renders the same quota.
  const withGpus = Lazy.any({
    produce: () => {
      const out = Object.assign({}, hard);
      for (const [resource, n] of gpuQuota(t, tenantPools, platform.pools)) out[`requests.${resource}`] = String(n);
      return out;
    },
  });
  kube(c, 'quota', KUBE.ResourceQuota, { metadata: metadata('quota'), spec: { hard: withGpus as unknown as Record<string, string> } });

  const d = t.containerDefaults;
  kube(c, 'container-defaults', KUBE.LimitRange, {
    metadata: metadata('container-defaults'),
    spec: {
      limits: [{
        type: 'Container',
        default: { cpu: d.cpuLimit.toKubernetes(), memory: d.memoryLimit.toKubernetes() },
        defaultRequest: { cpu: d.cpuRequest.toKubernetes(), memory: d.memoryRequest.toKubernetes() },
      }],
    },
  });

  const roles: Array<[string, readonly string[]]> = [['admin', t.access.admins], ['edit', t.access.editors], ['view', t.access.viewers]];
  for (const [role, groups] of roles) {
    if (groups.length === 0) continue;
    kube(c, `rolebinding-${role}`, KUBE.RoleBinding, {
      metadata: metadata(role),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [...new Set(groups)].map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name })),
    });
  }

  renderTenantNetworkPolicies(c, t, platform, labels);

  if (t.queueName !== undefined && platform.kueue) renderQueues(c, t, platform, tenantPools, labels);
}

/**
 * Renders the Kueue ResourceFlavors of a platform, once for all tenants (they are cluster-scoped):
 * `<platform>-default` without node labels (CPU and memory on any node), and `<platform>-<pool>`
 * per GPU pool, whose `nodeLabels` (the `mlplatform.io/gpu-pool` label) and `tolerations` Kueue
 * adds to the pods it admits on that flavor, so a queued GPU workload lands on its pool.
 * Idempotent: called again with more pools, it renders only the flavors not rendered yet, so that
 * a pool declared after the first queued tenant gets its flavor too (a later tenant's ClusterQueue
 * names it) and any order of the same pools and tenants renders the same flavors.
 */
export function renderResourceFlavors(scope: Construct, platformName: string, pools: readonly GpuPoolSpec[]): void {
  const labels = { 'app.kubernetes.io/part-of': platformName, 'app.kubernetes.io/managed-by': 'mlplatform' };
  const flavor = (id: string, name: string, spec: Record<string, unknown>) => scope.node.tryFindChild(id) ?? clusterScoped(new K8sObject(scope, id, {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ResourceFlavor',
    metadata: { name, labels: { ...labels } },
    spec,
  }));
  flavor('flavor-default', defaultFlavorName(platformName), {});
  for (const p of pools) {
    flavor(`flavor-${p.pool}`, poolFlavorName(platformName, p.pool), {
      nodeLabels: { [GPU_POOL_LABEL]: p.labels[GPU_POOL_LABEL] ?? p.pool },
      tolerations: p.tolerations.map((tol) => ({ ...tol })),
    });
  }
}

/** The ClusterQueue and LocalQueue of a tenant. */
function renderQueues(
  c: Construct, t: TenantSpec, platform: TenantPlatform, tenantPools: readonly GpuPoolSpec[], labels: Record<string, string>,
): void {
  const gpuGroups = new Map<string, Array<{ name: string; resources: Array<{ name: string; nominalQuota: number }> }>>();
  for (const p of tenantPools) {
    const flavors = gpuGroups.get(p.resourceName) ?? [];
    flavors.push({ name: poolFlavorName(platform.name, p.pool), resources: [{ name: p.resourceName, nominalQuota: t.quota.gpus[p.pool] }] });
    gpuGroups.set(p.resourceName, flavors);
  }
  const cqName = clusterQueueName(platform.name, t.name);
  clusterScoped(new K8sObject(c, 'cluster-queue', {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ClusterQueue',
    metadata: { name: cqName, labels: { ...labels } },
    spec: {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: t.namespace } },
      resourceGroups: [
        {
          // Every resource a workload requests must be covered, or Kueue never admits it ("resource
          // ephemeral-storage unavailable in ClusterQueue", kueue#4848): every mlplatform container requests
          // ephemeral-storage.
          coveredResources: ['cpu', 'memory', 'ephemeral-storage'],
          flavors: [{
            name: defaultFlavorName(platform.name),
            resources: [
              { name: 'cpu', nominalQuota: t.quota.cpu.toKubernetes() },
              { name: 'memory', nominalQuota: t.quota.memory.toKubernetes() },
              { name: 'ephemeral-storage', nominalQuota: t.quota.ephemeralStorage.toKubernetes() },
            ],
          }],
        },
        ...[...gpuGroups].map(([resource, flavors]) => ({ coveredResources: [resource], flavors })),
      ],
    },
  }));
  new K8sObject(c, 'local-queue', {
    apiVersion: KUEUE_API_VERSION,
    kind: 'LocalQueue',
    metadata: { name: t.queueName, namespace: t.namespace, labels: { ...labels } },
    spec: { clusterQueue: cqName },
  });
}

/** The pools the tenant's GPU quota names, in declaration order; throws on a name no pool has. */
function gpuPoolsOf(t: TenantSpec, pools: readonly GpuPoolSpec[]): GpuPoolSpec[] {
  const issues = new Issues(`Tenant "${t.name}"`);
  for (const [pool, n] of Object.entries(t.quota.gpus)) {
    if (!pools.some((p) => p.pool === pool)) {
      issues.add(`quota.gpus.${pool}`, n, `names no GPU pool; declare it first, or use one of: ${pools.map((p) => p.pool).join(', ') || '(no pool declared)'}`);
    }
  }
  issues.throwIfAny();
  return pools.filter((p) => t.quota.gpus[p.pool] !== undefined);
}

/** The `limits.memory` quota: the overcommit cap, but never below one default container limit. */
function memoryLimitQuota(t: TenantSpec): Size {
  const cap = t.quota.memory.times(MEMORY_LIMIT_OVERCOMMIT);
  return cap.compareTo(t.containerDefaults.memoryLimit) < 0 ? t.containerDefaults.memoryLimit : cap;
}

/**
 * `[resourceName, quota]` for `nvidia.com/gpu` and every resource name of the platform's pools:
 * the sum of the tenant's quota over its pools with that resource name, 0 for the others.
 */
function gpuQuota(t: TenantSpec, tenantPools: readonly GpuPoolSpec[], allPools: readonly GpuPoolSpec[]): Map<string, number> {
  const out = new Map<string, number>([[WHOLE_GPU_RESOURCE, 0]]);
  for (const p of allPools) out.set(p.resourceName, 0);
  for (const p of tenantPools) out.set(p.resourceName, out.get(p.resourceName)! + t.quota.gpus[p.pool]);
  return out;
}

/**
 * Drops the namespace a Chart with a default namespace would give a cluster-scoped object
 * (Namespace, ClusterQueue, ResourceFlavor), which the API server would reject.
 */
function clusterScoped<T extends ApiObject>(obj: T): T {
  if (Chart.of(obj).namespace !== undefined) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  return obj;
}

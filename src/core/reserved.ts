import { DEFAULT_PROMETHEUS_NAMESPACE } from './endpoint/monitoring';
import { Issues } from './errors';
import { checkDnsLabel } from './names';
import { DEFAULT_ARGOCD_NAMESPACE, DEFAULT_FLUX_NAMESPACE } from './platform/addons';
import { AddonName, VERSIONS, VersionTable } from './versions';

/**
 * Prefix of the namespaces Kubernetes keeps for itself: kube-system and kube-public
 * (k8s.io/apimachinery pkg/apis/meta/v1/types.go `NamespaceSystem`, `NamespacePublic`),
 * kube-node-lease (k8s.io/api core/v1/types.go `NamespaceNodeLease`), and the `kube-*` namespaces
 * cluster tools create. `default` (`NamespaceDefault`) is reserved too, in {@link reservedNamespaces}.
 */
export const KUBERNETES_NAMESPACE_PREFIX = 'kube-';

/**
 * Prefix Kubernetes reserves for its own users and groups (k8s.io/apiserver
 * pkg/authentication/user/user.go: `system:masters`, `system:authenticated`,
 * `system:unauthenticated`, `system:nodes`…; pkg/authentication/serviceaccount/util.go:
 * `system:serviceaccounts`, `system:serviceaccounts:<namespace>`).
 */
export const SYSTEM_SUBJECT_PREFIX = 'system:';

/** What the platform installs or expects beyond the pinned defaults, for {@link reservedNamespaces}. */
export interface ReservedNamespaceOptions {
  /**
   * The version table in use: an add-on whose chart namespace was overridden reserves that
   * namespace too (the pinned defaults stay reserved, as add-ons installed by other means use them).
   * @default VERSIONS
   */
  readonly versions?: VersionTable;
  /**
   * Namespace of the add-on delivery's objects (Argo CD Applications, Flux HelmReleases), when it is
   * not Argo CD's or Flux's default.
   * @default none beyond `argocd` and `flux-system`
   */
  readonly deliveryNamespace?: string;
}

/**
 * Every namespace the platform installs into or expects another system in, with who owns it:
 * `default`, each add-on chart's namespace (derived from {@link VERSIONS} and `options.versions`),
 * Argo CD's and Flux's namespaces (and `options.deliveryNamespace`), and the Prometheus namespace
 * endpoints expect. Names starting with `kube-` are reserved as well (a prefix, not listed here).
 * A platform, tenant or workload in one of them would put its default-deny NetworkPolicies,
 * quota and RBAC over that system's pods.
 */
export function reservedNamespaces(options: ReservedNamespaceOptions = {}): ReadonlyMap<string, string> {
  const owners = new Map<string, string>();
  const add = (namespace: string | undefined, owner: string) => {
    if (namespace && !owners.has(namespace)) owners.set(namespace, owner);
  };
  add('default', "Kubernetes' default namespace (the `kubernetes` Service and every object without a namespace)");
  const addons = new Map<string, AddonName[]>();
  for (const table of [VERSIONS, options.versions ?? VERSIONS]) {
    for (const [name, chart] of Object.entries(table.charts) as [AddonName, VersionTable['charts'][AddonName]][]) {
      const names = addons.get(chart.namespace) ?? [];
      if (!names.includes(name)) addons.set(chart.namespace, [...names, name]);
    }
  }
  for (const [namespace, names] of addons) {
    const props = names.map((n) => `versions.charts.${n}.namespace`).join(', ');
    add(namespace, names.length === 1 ? `the ${names[0]} add-on's namespace (${props})` : `the ${names.join(' and ')} add-ons' namespace (${props})`);
  }
  add(DEFAULT_ARGOCD_NAMESPACE, "Argo CD's namespace (AddonDelivery.argoCd())");
  add(DEFAULT_FLUX_NAMESPACE, "Flux's namespace (AddonDelivery.flux())");
  add(options.deliveryNamespace, 'the namespace of the add-on delivery (addons.delivery)');
  add(DEFAULT_PROMETHEUS_NAMESPACE, "the Prometheus namespace endpoints expect (monitoring.prometheus.namespace's default)");
  return owners;
}

/**
 * Why `namespace` is reserved for Kubernetes or for a system the platform installs or expects, or
 * `undefined` when it is free for the platform, a tenant or a workload.
 */
export function reservedNamespaceOwner(namespace: string, options: ReservedNamespaceOptions = {}): string | undefined {
  if (namespace.startsWith(KUBERNETES_NAMESPACE_PREFIX)) return `reserved for Kubernetes (every "${KUBERNETES_NAMESPACE_PREFIX}*" namespace: kube-system, kube-public, kube-node-lease…)`;
  return reservedNamespaces(options).get(namespace);
}

/**
 * Checks a namespace the user gives for the platform, a tenant or a workload: a DNS-1123 label
 * that is none of the {@link reservedNamespaces} (nor `kube-*`). Records one issue under `path`
 * naming the owner and `fix` (what to do instead).
 *
 * @returns whether the namespace is valid and free
 */
export function checkNamespace(issues: Issues, path: string, value: unknown, fix: string, options: ReservedNamespaceOptions = {}): boolean {
  if (!checkDnsLabel(issues, path, value)) return false;
  const owner = reservedNamespaceOwner(value as string, options);
  if (owner === undefined) return true;
  issues.add(path, value, `is ${owner}; ${fix}`);
  return false;
}

/** What a well-known system group stands for, for the error message. */
function systemGroupMeaning(group: string): string {
  if (group === 'system:authenticated') return 'every authenticated user and every ServiceAccount of the cluster';
  if (group === 'system:unauthenticated') return 'every anonymous request';
  if (group === 'system:masters') return 'the cluster administrators, who bypass RBAC anyway';
  if (group === 'system:nodes') return 'every kubelet';
  if (group === 'system:serviceaccounts') return 'every ServiceAccount of every namespace, so every pod';
  if (group.startsWith('system:serviceaccounts:')) return `every ServiceAccount of namespace "${group.slice('system:serviceaccounts:'.length)}", so every pod there`;
  return 'a name Kubernetes reserves for its own users and groups';
}

/**
 * Checks one RBAC subject (a group name) the user gives: non-empty, and no Kubernetes system
 * subject (`system:…`) unless `allowSystem` — the documented opt-in prop at `optInPath` — is set.
 * Records one issue under `path` naming the fix.
 *
 * @returns whether the subject is acceptable
 */
export function checkRbacSubject(issues: Issues, path: string, value: unknown, allowSystem: boolean, optInPath: string): boolean {
  if (typeof value !== 'string' || value.trim() === '') {
    issues.add(path, value, 'must be a non-empty group name');
    return false;
  }
  if (!allowSystem && value.trim().startsWith(SYSTEM_SUBJECT_PREFIX)) {
    issues.add(path, value,
      `is a Kubernetes system group (${systemGroupMeaning(value.trim())}); bind a group of your identity provider instead, ` +
      `or set \`${optInPath}: true\` to bind system groups on purpose`);
    return false;
  }
  return true;
}

/** The fix {@link checkNamespace} names for a workload (pipeline, sweep, endpoint) in a reserved namespace. */
export const WORKLOAD_NAMESPACE_FIX = 'run the workload in a tenant namespace (MlPlatform.addTenant) or in a namespace of your own';

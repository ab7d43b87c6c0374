/**
 * Applies synthesized objects to the real API server with server-side apply, in the order
 * docs/ml-platform.md ("Applying the objects") documents: CRDs first (the add-ons' come from
 * crds.ts), then Namespaces, other cluster-scoped objects, the namespaced objects that others refer
 * to (ServiceAccounts, Secrets, ConfigMaps, RBAC, quotas, policies, claims, Services), and last the
 * workloads and the add-ons' custom resources.
 */
import { Kube, KubeError, Manifest } from './kube';

/** Kinds in apply order; any kind not listed goes last. */
const ORDER = [
  'CustomResourceDefinition', 'Namespace', 'PriorityClass', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding',
  'ResourceFlavor', 'WorkloadPriorityClass', 'ClusterQueue', 'GatewayClass',
  'ServiceAccount', 'Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ResourceQuota', 'LimitRange', 'NetworkPolicy',
  'PersistentVolumeClaim', 'Service', 'LocalQueue',
];

/** The rank of a kind in {@link ORDER}. */
export function applyRank(kind: string): number {
  const i = ORDER.indexOf(kind);
  return i < 0 ? ORDER.length : i;
}

/** One object the server refused, or accepted with warnings. */
export interface ApplyProblem {
  readonly object: string;
  readonly error?: string;
  readonly warnings: string[];
}

/** `kind namespace/name` of an object. */
export function ref(o: Manifest): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** Applies `objects` in order; returns every refusal and every warning (none means all accepted cleanly). */
export async function applyAll(kube: Kube, objects: readonly Manifest[]): Promise<ApplyProblem[]> {
  const sorted = [...objects].sort((a, b) => applyRank(a.kind) - applyRank(b.kind));
  const problems: ApplyProblem[] = [];
  for (const o of sorted) {
    const warnings: string[] = [];
    try {
      await kube.apply(o, 'mlplatform', warnings);
      if (warnings.length) problems.push({ object: ref(o), warnings });
    } catch (e) {
      problems.push({ object: ref(o), error: e instanceof KubeError ? e.message : String(e), warnings });
    }
  }
  return problems;
}

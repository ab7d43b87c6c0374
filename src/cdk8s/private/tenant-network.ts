import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, KUBE, kube } from './object';
import { childName } from '../../core/names';
import type { TenantSpec } from '../../core/platform/tenants';

/** Pods of a platform service a tenant's pods may reach: their labels and the port they serve. */
export interface TenantServicePeer {
  /** Labels of the service's pods (the NetworkPolicy `podSelector`). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** TCP port the pods serve. */
  readonly port: number;
}

/** The platform services a tenant's NetworkPolicies open egress to. */
export interface TenantNetworkPeers {
  /** Namespace of the platform's shared services. */
  readonly namespace: string;
  /** The tracking server's pods. */
  readonly tracking: TenantServicePeer;
  /** The embedded object store's pods. @default - none (an external store is reached over HTTPS) */
  readonly store?: TenantServicePeer;
  /** The embedded database's pods. @default - none */
  readonly database?: TenantServicePeer;
  /**
   * Services outside the cluster's pods whose address is not known at synth time (an external
   * database in the VPC, an S3-compatible endpoint on another port, the Kubernetes API server that
   * Argo Workflows' executor calls): egress to any address on their TCP ports.
   * @default - none
   */
  readonly externalServices?: readonly ExternalService[];
}

/** A service reached by port only (its address is not known at synth time). */
export interface ExternalService {
  /** Short name, used in the policy name (`<tenant>-allow-<name>`). */
  readonly name: string;
  /** TCP ports. */
  readonly ports: readonly number[];
  /** The address ranges it may be at. @default ['0.0.0.0/0'] */
  readonly cidrs?: readonly string[];
  /** Only the tenant pods with these labels may reach it. @default every pod */
  readonly pods?: Readonly<Record<string, string>>;
  /** Only the tenant pods that carry this label (any value) may reach it. @default every pod */
  readonly podsWithLabel?: string;
}

/**
 * Label of the tenant pods that may reach the platform's PostgreSQL (a sweep's Optuna pods, which
 * connect with the tenant's own role): no other pod of a tenant gets that egress, and the platform's
 * database admits no other tenant pod.
 */
export const DATABASE_CLIENT_LABEL = 'mlplatform.io/database-client';

/**
 * Label Argo Workflows' controller puts on every pod of a workflow (`common.LabelKeyWorkflow`, set in
 * workflow/controller/workflowpod.go): the pods whose executor calls the API server.
 */
export const ARGO_WORKFLOW_POD_LABEL = 'workflows.argoproj.io/workflow';

/** Label the API server sets on every Namespace to its own name (Kubernetes ≥ 1.22). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * The private IPv4 ranges (RFC 1918) the HTTPS egress rule leaves out, so a tenant's pods reach
 * the internet (code, packages, datasets, cloud APIs) but not other workloads, nodes or cloud
 * services inside the cluster's network.
 */
export const PRIVATE_IPV4_RANGES: readonly string[] = Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);

/**
 * What the HTTPS egress rule leaves out: the private ranges, and the link-local range (RFC 3927), where
 * the cloud's instance metadata and credential agents answer (169.254.169.254, EKS Pod Identity's
 * 169.254.170.23): a tenant pod gets credentials only through its own ServiceAccount.
 */
export const HTTPS_EGRESS_EXCLUDED: readonly string[] = Object.freeze([...PRIVATE_IPV4_RANGES, '169.254.0.0/16']);

/**
 * Renders a tenant namespace's NetworkPolicies under `scope`. Policies are additive, so the
 * result is "deny everything, then allow exactly":
 * - `<tenant>-default-deny`: every pod, Ingress and Egress, no rule;
 * - `<tenant>-allow-dns`: egress to kube-dns (`k8s-app: kube-dns` in `kube-system`) on UDP and TCP 53;
 * - `<tenant>-allow-same-namespace`: ingress from and egress to every pod of the namespace, for
 *   multi-node training rendezvous (torchrun, NCCL bootstrap) and sweep workers;
 * - `<tenant>-allow-tracking`, `-allow-store`, `-allow-database`: egress to those pods of the
 *   platform namespace on their port (the last two only when given, i.e. embedded);
 * - `<tenant>-allow-https-egress`: egress on TCP 443 to any address outside
 *   {@link HTTPS_EGRESS_EXCLUDED} (private and link-local ranges), so steps can pull code, packages and data over HTTPS and reach
 *   cloud APIs such as S3. Nothing inside the private ranges is reachable this way: a service in
 *   the VPC (an external database, an internal Git server) needs a policy of its own.
 */
export function renderTenantNetworkPolicies(
  scope: Construct, t: TenantSpec, peers: TenantNetworkPeers, labels: Readonly<Record<string, string>>,
): void {
  const policy = (suffix: string, spec: Json<k8s.NetworkPolicySpec>) => kube(scope, suffix, KUBE.NetworkPolicy, {
    metadata: { name: childName(t.name, suffix), namespace: t.namespace, labels: { ...labels } },
    spec,
  });
  const everyPod: Json<k8s.LabelSelector> = {};
  const databaseClients: Json<k8s.LabelSelector> = { matchLabels: { [DATABASE_CLIENT_LABEL]: 'true' } };

  policy('default-deny', { podSelector: everyPod, policyTypes: ['Ingress', 'Egress'] });

  policy('allow-dns', {
    podSelector: everyPod,
    policyTypes: ['Egress'],
    egress: [{
      to: [{
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      }],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    }],
  });

  policy('allow-same-namespace', {
    podSelector: everyPod,
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: {} }] }],
    egress: [{ to: [{ podSelector: {} }] }],
  });

  const services: Array<[string, TenantServicePeer | undefined]> = [
    ['tracking', peers.tracking],
    ['store', peers.store],
    ['database', peers.database],
  ];
  for (const [role, peer] of services) {
    if (!peer) continue;
    policy(`allow-${role}`, {
      podSelector: role === 'database' ? databaseClients : everyPod,
      policyTypes: ['Egress'],
      egress: [{
        to: [{
          namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peers.namespace } },
          podSelector: { matchLabels: { ...peer.podLabels } },
        }],
        ports: [{ protocol: 'TCP', port: peer.port }],
      }],
    });
  }

  for (const ext of peers.externalServices ?? []) {
    policy(`allow-${ext.name}`, {
      podSelector: ext.pods ? { matchLabels: { ...ext.pods } } : ext.podsWithLabel ? { matchExpressions: [{ key: ext.podsWithLabel, operator: 'Exists' }] } : everyPod,
      policyTypes: ['Egress'],
      egress: [{
        to: (ext.cidrs ?? ['0.0.0.0/0']).map((cidr) => ({ ipBlock: { cidr } })),
        ports: ext.ports.map((port) => ({ protocol: 'TCP', port })),
      }],
    });
  }

  policy('allow-https-egress', {
    podSelector: everyPod,
    policyTypes: ['Egress'],
    egress: [{
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [...HTTPS_EGRESS_EXCLUDED] } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    }],
  });
}

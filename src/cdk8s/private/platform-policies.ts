import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PlatformNames } from './names';
import type { Json } from './object';
import { allow, allowDns, ANYWHERE, defaultDeny, peer, PodGroup, tcp, tenantsPeer } from './platform-network';
import { selectorLabels } from './pod';
import { DATABASE_CLIENT_LABEL } from './tenant-network';
import { ExposureSpec } from '../../core';

/** What the platform namespace's NetworkPolicies need. */
export interface PlatformNetworkInput {
  readonly platform: string;
  readonly namespace: string;
  readonly names: PlatformNames;
  readonly labels: Record<string, string>;
  readonly exposure: ExposureSpec;
  readonly tracking: { readonly labels: Record<string, string>; readonly port: number; readonly oidcPort?: number };
  /** The embedded database, when there is one. */
  readonly database?: { readonly labels: Record<string, string>; readonly port: number };
  /** The embedded store, when there is one. */
  readonly store?: { readonly labels: Record<string, string>; readonly port: number };
  /** Port of an external database. */
  readonly externalDatabasePort?: number;
  /** Whether the backup CronJob exists. */
  readonly backups: boolean;
  /** Where the API server's endpoints are (the bootstrap's only egress on 443/6443). */
  readonly apiServerCidrs: readonly string[];
}

/**
 * The platform namespace's policies: deny everything, allow DNS, then exactly the platform's own
 * traffic — tenants → tracking/store/database, tracking → database/store, backup → database/store,
 * bootstrap → API server/store/tracking, and the gateway or ingress controller → the UI port.
 */
export function renderPlatformNetwork(scope: Construct, i: PlatformNetworkInput): void {
  const ns = i.namespace;
  const group = (labels: Record<string, string>): PodGroup => ({ namespace: ns, labels });
  const tracking = group(i.tracking.labels);
  const bootstrap = group(selectorLabels(i.names.bootstrap, i.platform));
  const backup = group(selectorLabels(i.names.backup, i.platform));
  const tenants = tenantsPeer(i.platform);
  const uiPort = i.tracking.oidcPort ?? i.tracking.port;

  defaultDeny(scope, 'netpol-deny', ns, `${i.platform}-default-deny`, i.labels);
  allowDns(scope, 'netpol-dns', ns, `${i.platform}-allow-dns`, i.labels);

  // Who may open the UI port from outside the namespace.
  const uiFrom: Json<k8s.NetworkPolicyPeer>[] = [];
  if (i.exposure.kind === 'gateway') {
    // Envoy Gateway runs the proxies of every Gateway in its own namespace.
    uiFrom.push({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'envoy-gateway-system' } } });
    if (i.exposure.gateway.namespace !== 'envoy-gateway-system') uiFrom.push({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': i.exposure.gateway.namespace } } });
  } else if (i.exposure.kind === 'ingress') {
    // The ingress controller's namespace is not known: any namespace, on the UI port only.
    uiFrom.push({ namespaceSelector: {} });
  }
  const trackingEgress: { to: Json<k8s.NetworkPolicyPeer>[]; ports: Json<k8s.NetworkPolicyPort>[] }[] = [];
  if (i.database) trackingEgress.push({ to: [peer(group(i.database.labels))], ports: [tcp(i.database.port)] });
  else trackingEgress.push({ to: [ANYWHERE], ports: [tcp(i.externalDatabasePort ?? 5432)] });
  if (i.store) trackingEgress.push({ to: [peer(group(i.store.labels))], ports: [tcp(i.store.port)] });
  // External stores (S3, STS for workload identity) and the OIDC issuer are reached over HTTPS.
  if (!i.store || i.tracking.oidcPort) trackingEgress.push({ to: [ANYWHERE], ports: [tcp(443)] });
  allow(scope, 'netpol-tracking', {
    name: `${i.names.tracking}`,
    pods: tracking,
    ingress: [
      { from: [tenants, peer(bootstrap)], ports: [tcp(i.tracking.port)] },
      ...(uiFrom.length ? [{ from: uiFrom, ports: [tcp(uiPort)] }] : []),
    ],
    egress: trackingEgress,
  }, i.labels);

  if (i.database) {
    allow(scope, 'netpol-database', {
      name: i.names.postgres,
      pods: group(i.database.labels),
      // Tenants: only their sweeps' Optuna pods, which log in with the tenant's own role.
      ingress: [{ from: [peer(tracking), peer(bootstrap), ...(i.backups ? [peer(backup)] : []), Object.assign({}, tenants, { podSelector: { matchLabels: { [DATABASE_CLIENT_LABEL]: 'true' } } })], ports: [tcp(i.database.port)] }],
    }, i.labels);
  }
  if (i.store) {
    allow(scope, 'netpol-store', {
      name: i.names.store,
      pods: group(i.store.labels),
      ingress: [{ from: [peer(tracking), peer(bootstrap), ...(i.backups ? [peer(backup)] : []), tenants], ports: [tcp(i.store.port)] }],
    }, i.labels);
  }
  allow(scope, 'netpol-bootstrap', {
    name: i.names.bootstrap,
    pods: bootstrap,
    egress: [
      // The API server, at its declared ranges.
      { to: i.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(443), tcp(6443)] },
      // The database, to create the tracking server's and the tenants' roles.
      i.database ? { to: [peer(group(i.database.labels))], ports: [tcp(i.database.port)] } : { to: [ANYWHERE], ports: [tcp(i.externalDatabasePort ?? 5432)] },
      { to: [peer(tracking)], ports: [tcp(i.tracking.port)] },
      ...(i.store ? [{ to: [peer(group(i.store.labels))], ports: [tcp(i.store.port)] }] : []),
    ],
  }, i.labels);
  if (i.backups) {
    allow(scope, 'netpol-backup', {
      name: i.names.backup,
      pods: backup,
      egress: [
        ...(i.database ? [{ to: [peer(group(i.database.labels))], ports: [tcp(i.database.port)] }] : []),
        i.store ? { to: [peer(group(i.store.labels))], ports: [tcp(i.store.port)] } : { to: [ANYWHERE], ports: [tcp(443)] },
      ],
    }, i.labels);
  }
}

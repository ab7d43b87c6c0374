import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, KUBE, kube } from './object';

/** A set of pods in a namespace: the unit NetworkPolicy rules are written in. */
export interface PodGroup {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

const NS_LABEL = 'kubernetes.io/metadata.name';

/** A peer: pods with `labels` in `namespace` (all pods when labels are empty). */
export function peer(g: PodGroup): Json<k8s.NetworkPolicyPeer> {
  return { namespaceSelector: { matchLabels: { [NS_LABEL]: g.namespace } }, podSelector: { matchLabels: { ...g.labels } } };
}

/** A peer for every pod of the namespaces labelled `part-of` this platform (its tenants). */
export function tenantsPeer(platform: string): Json<k8s.NetworkPolicyPeer> {
  return {
    namespaceSelector: {
      matchLabels: { 'app.kubernetes.io/part-of': platform },
      matchExpressions: [{ key: 'mlplatform.io/tenant', operator: 'Exists' }],
    },
  };
}

/** TCP port. */
export function tcp(port: number): Json<k8s.NetworkPolicyPort> {
  return { protocol: 'TCP', port };
}

/** Deny all ingress and egress to every pod of `namespace` not allowed by another policy. */
export function defaultDeny(scope: Construct, id: string, namespace: string, name: string, labels: Record<string, string>): void {
  kube(scope, id, KUBE.NetworkPolicy, {
    metadata: { name, namespace, labels },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
}

/** Allow DNS lookups through kube-dns from every pod of `namespace`. */
export function allowDns(scope: Construct, id: string, namespace: string, name: string, labels: Record<string, string>): void {
  kube(scope, id, KUBE.NetworkPolicy, {
    metadata: { name, namespace, labels },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, tcp(53)],
      }],
    },
  });
}

/** One pod group's allowed traffic: who may connect to it on which ports, and where it may connect. */
export interface PodPolicy {
  readonly name: string;
  readonly pods: PodGroup;
  readonly ingress?: readonly { readonly from: Json<k8s.NetworkPolicyPeer>[]; readonly ports: Json<k8s.NetworkPolicyPort>[] }[];
  readonly egress?: readonly { readonly to: Json<k8s.NetworkPolicyPeer>[]; readonly ports: Json<k8s.NetworkPolicyPort>[] }[];
}

/** Renders one pod group's allow policy. */
export function allow(scope: Construct, id: string, p: PodPolicy, labels: Record<string, string>): void {
  const types: string[] = [];
  if (p.ingress?.length) types.push('Ingress');
  if (p.egress?.length) types.push('Egress');
  kube(scope, id, KUBE.NetworkPolicy, {
    metadata: { name: p.name, namespace: p.pods.namespace, labels },
    spec: {
      podSelector: { matchLabels: { ...p.pods.labels } },
      policyTypes: types,
      ...(p.ingress?.length ? { ingress: p.ingress.map((r) => ({ from: r.from, ports: r.ports })) } : {}),
      ...(p.egress?.length ? { egress: p.egress.map((r) => ({ to: r.to, ports: r.ports })) } : {}),
    },
  });
}

/** Any address outside the private ranges (the internet, cloud APIs such as S3 and STS). */
export const PUBLIC_INTERNET: Json<k8s.NetworkPolicyPeer> = {
  ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
};

/** Any address (the API server's address is not known at synth time). */
export const ANYWHERE: Json<k8s.NetworkPolicyPeer> = { ipBlock: { cidr: '0.0.0.0/0' } };

import { Chart } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Json, kube, KUBE } from '../cdk8s/private/object';
import { appLabels } from '../cdk8s/private/pod';
import { childName, TenantSpec } from '../core';

/*
 * The few Kubernetes objects only an AWS deployment needs beside the platform's own (which the cdk8s
 * MlPlatform renders): rendered with cdk8s too, into their own chart, validated like every other
 * object, and created by the same KubernetesObjects component.
 */

/** The EKS Pod Identity agent's link-local addresses (IPv4, IPv6) and port. */
export const POD_IDENTITY_AGENT = { ipv4: '169.254.170.23/32', ipv6: 'fd00:ec2::23/128', port: 80 } as const;

/** What {@link renderAwsGlue} renders. Strings may be cloud value placeholders. */
export interface AwsGlueInput {
  /** Platform name. */
  readonly platform: string;
  /** Platform namespace. */
  readonly namespace: string;
  /** The RDS instance behind a stable in-cluster name. */
  readonly database: {
    /** Name of the ExternalName Service (`<service>.<namespace>.svc.cluster.local` is the host every client uses). */
    readonly serviceName: string;
    /** The instance's address (placeholder). */
    readonly address: string;
    /** Port. */
    readonly port: number;
    /** A Secret with the master credentials, when the password is a Pulumi secret. */
    readonly credentials?: { readonly secretName: string; readonly username: string; readonly password: string };
  };
  /** With EKS Pod Identity: the tracking pods' labels and the tenants, whose pods get egress to the agent. */
  readonly podIdentity?: { readonly trackingPodLabels: Readonly<Record<string, string>>; readonly tenants: readonly TenantSpec[] };
  /** With an ALB sending traffic straight to the tracking pods (IP targets): the VPC range and the UI port. */
  readonly loadBalancer?: { readonly vpcCidr: string; readonly trackingPodLabels: Readonly<Record<string, string>>; readonly port: number };
}

/**
 * Renders into `chart`:
 * - `Service <platform>-rds` (ExternalName → the RDS address): every client, and the credentials
 *   bootstrap's plan, name the database by this stable in-cluster host, so nothing synthesized depends
 *   on the RDS endpoint and replacing the instance updates one Service;
 * - `Secret <platform>-rds-credentials` (`username`, `password`) when the password is a Pulumi secret
 *   (created from the secret Output, stored encrypted in the Pulumi state, never in a file);
 * - with Pod Identity, `NetworkPolicy <platform>-allow-eks-pod-identity` (tracking pods) and
 *   `<tenant>-allow-eks-pod-identity` (every pod of each tenant): egress to the agent on TCP 80 — the
 *   platform's default-deny policies open only 443 to the outside, and the agent listens on a
 *   link-local address on port 80;
 * - with an ALB in front of the tracking UI, `NetworkPolicy <platform>-tracking-from-load-balancer`:
 *   ingress to the UI port from the VPC range (ALB targets are pod IPs, its traffic comes from its
 *   own addresses in the VPC, which no pod selector matches).
 */
export function renderAwsGlue(chart: Chart, i: AwsGlueInput): void {
  const labels = appLabels(i.platform, 'aws', i.platform);
  kube(chart, 'database', KUBE.Service, {
    metadata: { name: i.database.serviceName, namespace: i.namespace, labels },
    spec: {
      type: 'ExternalName',
      externalName: i.database.address,
      ports: [{ name: 'postgres', port: i.database.port, protocol: 'TCP' }],
    },
  });
  const c = i.database.credentials;
  if (c) {
    kube(chart, 'database-credentials', KUBE.Secret, {
      metadata: { name: c.secretName, namespace: i.namespace, labels },
      type: 'Opaque',
      stringData: { username: c.username, password: c.password },
    });
  }
  const agentEgress: Json<k8s.NetworkPolicyEgressRule>[] = [{
    to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.ipv4 } }, { ipBlock: { cidr: POD_IDENTITY_AGENT.ipv6 } }],
    ports: [{ protocol: 'TCP', port: POD_IDENTITY_AGENT.port }],
  }];
  if (i.podIdentity) {
    kube(chart, 'pod-identity-platform', KUBE.NetworkPolicy, {
      metadata: { name: childName(i.platform, 'allow-eks-pod-identity'), namespace: i.namespace, labels },
      spec: { podSelector: { matchLabels: { ...i.podIdentity.trackingPodLabels } }, policyTypes: ['Egress'], egress: agentEgress },
    });
    for (const t of i.podIdentity.tenants) {
      kube(chart, `pod-identity-${t.name}`, KUBE.NetworkPolicy, {
        metadata: { name: childName(t.name, 'allow-eks-pod-identity'), namespace: t.namespace, labels },
        spec: { podSelector: {}, policyTypes: ['Egress'], egress: agentEgress },
      });
    }
  }
  const lb = i.loadBalancer;
  if (lb) {
    kube(chart, 'tracking-from-load-balancer', KUBE.NetworkPolicy, {
      metadata: { name: childName(i.platform, 'tracking-from-load-balancer'), namespace: i.namespace, labels },
      spec: {
        podSelector: { matchLabels: { ...lb.trackingPodLabels } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: lb.vpcCidr } }], ports: [{ protocol: 'TCP', port: lb.port }] }],
      },
    });
  }
}

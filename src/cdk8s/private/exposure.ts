import { Construct } from 'constructs';
import { K8sObject, KUBE, kube } from './object';
import { tenantsPeer } from './platform-network';
import { AppListenerSpec, ExposureSpec } from '../../core';

/** GatewayClass controller of Envoy Gateway. */
export const ENVOY_GATEWAY_CONTROLLER = 'gateway.envoyproxy.io/gatewayclass-controller';

/** What the exposure renderer needs. */
export interface ExposureInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly spec: ExposureSpec;
  /** Service and port to expose. */
  readonly service: string;
  readonly port: number;
  /** Whether the Envoy Gateway add-on is installed by the platform (then the GatewayClass is created too). */
  readonly envoyGatewayAddon: boolean;
  /**
   * Name of the platform whose tenant namespaces the apps listeners admit routes from.
   * @default - no apps listeners can be rendered (only the platform passes it)
   */
  readonly platform?: string;
}

/**
 * The apps listeners of one host name: `apps-<i>-http` (port 80) and, with TLS, `apps-<i>-https`
 * (port 443, a certificate Secret cert-manager fills from the Gateway's issuer annotation). Without
 * TLS, the HTTP listener admits HTTPRoutes and GRPCRoutes from the platform's tenant namespaces; with
 * TLS, only the HTTPS one does, and the HTTP listener admits the platform's own redirect route alone
 * (plain HTTP answers 301 to HTTPS instead of 404).
 */
function appListeners(a: AppListenerSpec, platform: string | undefined): unknown[] {
  if (platform === undefined) throw new Error('renderExposure: apps listeners need the platform whose tenants they admit');
  const allowedRoutes = {
    // The tenant namespaces of this platform, exactly as its own NetworkPolicies select them.
    namespaces: { from: 'Selector', selector: tenantsPeer(platform).namespaceSelector },
    kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }],
  };
  const httpRoutes = a.https ? { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] } : allowedRoutes;
  const out: unknown[] = [{ name: a.httpListener, protocol: 'HTTP', port: 80, hostname: a.hostname, allowedRoutes: httpRoutes }];
  if (a.https) {
    out.push({
      name: a.https.listener,
      protocol: 'HTTPS',
      port: 443,
      hostname: a.hostname,
      tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: a.https.secretName }] },
      allowedRoutes,
    });
  }
  return out;
}

function issuerAnnotations(tls: { clusterIssuer?: string; issuer?: string } | undefined): Record<string, string> {
  if (!tls) return {};
  return tls.clusterIssuer ? { 'cert-manager.io/cluster-issuer': tls.clusterIssuer } : { 'cert-manager.io/issuer': tls.issuer! };
}

/**
 * Exposes the tracking UI: an HTTPRoute on a Gateway (the platform's own Gateway — with its
 * GatewayClass, a cert-manager-issued certificate when TLS is on, and the apps listeners for
 * tenant routes — or one the user names), or an Ingress of the given class.
 */
export function renderExposure(scope: Construct, i: ExposureInput): void {
  const s = i.spec;
  if (s.kind === 'none') return;
  const tlsSecret = `${i.name}-tls`;
  if (s.kind === 'ingress') {
    kube(scope, 'ingress', KUBE.Ingress, {
      metadata: { name: i.name, namespace: i.namespace, labels: i.labels, annotations: issuerAnnotations(s.tls) },
      spec: {
        ingressClassName: s.className,
        ...(s.tls ? { tls: [{ hosts: [s.host], secretName: tlsSecret }] } : {}),
        rules: [{
          host: s.host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: i.service, port: { number: i.port } } } }] },
        }],
      },
    });
    return;
  }
  if (s.createGateway) {
    if (i.envoyGatewayAddon) {
      new K8sObject(scope, 'gateway-class', {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: s.gatewayClassName, labels: i.labels },
        spec: { controllerName: ENVOY_GATEWAY_CONTROLLER },
      });
    }
    const listeners: any[] = [{ name: 'http', protocol: 'HTTP', port: 80, hostname: s.host, allowedRoutes: { namespaces: { from: 'Same' } } }];
    if (s.tls) {
      listeners.push({
        name: 'https',
        protocol: 'HTTPS',
        port: 443,
        hostname: s.host,
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: tlsSecret }] },
        allowedRoutes: { namespaces: { from: 'Same' } },
      });
    }
    for (const a of s.apps ?? []) listeners.push(...appListeners(a, i.platform));
    new K8sObject(scope, 'gateway', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: s.gateway.name, namespace: i.namespace, labels: i.labels, annotations: issuerAnnotations(s.tls) },
      spec: { gatewayClassName: s.gatewayClassName, listeners },
    });
    // With TLS, every plain-HTTP listener of the Gateway redirects to HTTPS (Gateway API's RequestRedirect filter).
    if (s.tls) {
      const redirects: [string, string][] = [['http', s.host], ...(s.apps ?? []).filter((a) => a.https).map((a): [string, string] => [a.httpListener, a.hostname])];
      new K8sObject(scope, 'https-redirect', {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: `${i.name}-https-redirect`, namespace: i.namespace, labels: i.labels },
        spec: {
          parentRefs: redirects.map(([sectionName]) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: s.gateway.name, namespace: i.namespace, sectionName })),
          hostnames: [...new Set(redirects.map(([, host]) => host))],
          rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
        },
      });
    }
  }
  new K8sObject(scope, 'route', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: i.name, namespace: i.namespace, labels: i.labels },
    spec: {
      parentRefs: [{
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: s.gateway.name,
        namespace: s.gateway.namespace,
        ...(s.gateway.sectionName ? { sectionName: s.gateway.sectionName } : {}),
      }],
      hostnames: [s.host],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ group: '', kind: 'Service', name: i.service, port: i.port, weight: 1 }],
      }],
    },
  });
}

import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ENDPOINT_LABEL, versionLabels } from './endpoint-pod';
import { Json, K8sObject, KUBE, kube } from './object';
import { NAMESPACE_NAME_LABEL } from './tenant-network';
import { GatewayRef } from '../../core';
import { EndpointGrpcSpec, mirrorAmount, ModelEndpointSpec, ModelVersionSpec } from '../../core/endpoint';

/** Namespace of Envoy Gateway, which runs the proxies of every Gateway it manages. */
export const ENVOY_GATEWAY_NAMESPACE = 'envoy-gateway-system';

function byName(e: ModelEndpointSpec, name: string): ModelVersionSpec {
  return e.versions.find((v) => v.name === name)!;
}

function serviceRef(v: ModelVersionSpec): { group: string; kind: string; name: string; port: number } {
  return { group: '', kind: 'Service', name: v.objectName, port: v.runtime.port };
}

/**
 * The endpoint's entry points: a Service `<endpoint>` for in-cluster clients (the stable version),
 * and, with a Gateway, one HTTPRoute whose rule carries the weighted backendRefs (stable, canary and
 * A/B versions; weights add up to 100) and one RequestMirror filter per shadow, plus a GRPCRoute
 * with the same split on `grpcHost`; or an Ingress to the stable version.
 */
export function renderRouting(scope: Construct, e: ModelEndpointSpec, labels: Record<string, string>, platform: string): void {
  const stable = byName(e, e.traffic.stable);
  const metadata = { name: e.name, namespace: e.namespace, labels };
  kube(scope, 'service', KUBE.Service, {
    metadata,
    spec: {
      selector: versionLabels(e, stable, platform).selector,
      ports: [{ name: 'http', port: stable.runtime.port, targetPort: 'http', protocol: 'TCP' }],
    },
  });
  const x = e.exposure;
  if (x.kind === 'ingress') {
    const tls = x.tls;
    kube(scope, 'ingress', KUBE.Ingress, {
      metadata: tls ? Object.assign({}, metadata, { annotations: tls.clusterIssuer ? { 'cert-manager.io/cluster-issuer': tls.clusterIssuer } : { 'cert-manager.io/issuer': tls.issuer! } }) : metadata,
      spec: {
        ingressClassName: x.className,
        ...(tls ? { tls: [{ hosts: [x.host], secretName: `${e.name}-tls` }] } : {}),
        rules: [{ host: x.host, http: { paths: [{ path: x.path, pathType: 'Prefix', backend: { service: { name: e.name, port: { name: 'http' } } } }] } }],
      },
    });
  }
  if (x.kind !== 'gateway') return;
  const filters: unknown[] = e.traffic.mirrors.map((m) => ({
    type: 'RequestMirror',
    requestMirror: { backendRef: serviceRef(byName(e, m.name)), ...mirrorAmount(m.percent) },
  }));
  if (x.path !== '/') filters.push({ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } });
  new K8sObject(scope, 'route', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata,
    spec: {
      parentRefs: [parentRef(x.gateway)],
      hostnames: [x.host],
      rules: [{
        name: 'serve',
        matches: [{ path: { type: 'PathPrefix', value: x.path } }],
        ...(filters.length ? { filters } : {}),
        backendRefs: e.traffic.backends.map((b) => Object.assign({}, serviceRef(byName(e, b.name)), { weight: b.weight })),
        timeouts: { request: (x.requestTimeout ?? stable.runtime.requestTimeout).toGo() },
      }],
    },
  });
  if (x.grpc) renderGrpcRoute(scope, e, metadata, x.grpc);
}

function parentRef(g: GatewayRef): Record<string, string> {
  return {
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    name: g.name,
    namespace: g.namespace,
    ...(g.sectionName ? { sectionName: g.sectionName } : {}),
  };
}

/**
 * The GRPCRoute `<endpoint>` (gateway.networking.k8s.io/v1, standard channel): every gRPC call on
 * `grpc.host` goes to the versions' `grpc` Service ports (h2c, `appProtocol: kubernetes.io/h2c`)
 * with the HTTPRoute's weights, and one RequestMirror filter per shadow (GRPCRoute filters carry
 * `percent` or `fraction` like HTTPRoute's). GRPCRoute has no path rewrite and no timeouts in
 * the standard channel: the route matches every service and method.
 */
function renderGrpcRoute(scope: Construct, e: ModelEndpointSpec, metadata: { name: string; namespace: string; labels: Record<string, string> }, grpc: EndpointGrpcSpec): void {
  const grpcRef = (v: ModelVersionSpec) => ({ group: '', kind: 'Service', name: v.objectName, port: v.runtime.grpcPort! });
  const filters = e.traffic.mirrors.map((m) => ({
    type: 'RequestMirror',
    requestMirror: { backendRef: grpcRef(byName(e, m.name)), ...mirrorAmount(m.percent) },
  }));
  new K8sObject(scope, 'grpc-route', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: Object.assign({}, metadata, { labels: { ...metadata.labels } }),
    spec: {
      parentRefs: [parentRef(grpc.gateway)],
      hostnames: [grpc.host],
      rules: [{
        name: 'serve',
        ...(filters.length ? { filters } : {}),
        backendRefs: e.traffic.backends.map((b) => Object.assign({}, grpcRef(byName(e, b.name)), { weight: b.weight })),
      }],
    },
  });
}

/**
 * One NetworkPolicy `<endpoint>-ingress` on every pod of the endpoint: the serving port from the
 * gateway's proxy namespaces (the platform's Envoy Gateway namespace for its apps listeners;
 * Envoy Gateway's and the Gateway's own for a Gateway the user names), from any namespace with an
 * Ingress or KServe (their controller's namespace is not known here), from the pods of its own
 * namespace; the metrics port from Prometheus. Mirrored copies come from the gateway proxy too.
 */
export function renderEndpointNetwork(scope: Construct, e: ModelEndpointSpec, labels: Record<string, string>): void {
  const named = (name: string): Json<k8s.NetworkPolicyPort> => ({ protocol: 'TCP', port: name });
  const ns = (name: string): Json<k8s.NetworkPolicyPeer> => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: name } } });
  const serving = [named('http'), ...(e.versions.some((v) => v.runtime.grpcPort !== undefined) ? [named('grpc')] : [])];
  const ingress: Json<k8s.NetworkPolicyIngressRule>[] = [{ from: [{ podSelector: {} }], ports: serving }];
  const x = e.exposure;
  if (x.kind === 'gateway') {
    const from = x.proxyNamespaces.map(ns);
    ingress.push({ from, ports: serving });
  } else if (x.kind === 'ingress' || e.kserve) {
    ingress.push({ from: [{ namespaceSelector: {} }], ports: serving });
  }
  const m = e.monitoring;
  const scraped = e.versions.filter((v) => v.runtime.metrics);
  if (m && scraped.length) {
    const ports = [...new Set(scraped.map((v) => (v.runtime.metrics!.port === v.runtime.port ? 'http' : 'metrics')))];
    ingress.push({
      from: [Object.assign({}, ns(m.prometheus.namespace), { podSelector: { matchLabels: { ...m.prometheus.podLabels } } })],
      ports: ports.map(named),
    });
  }
  kube(scope, 'netpol', KUBE.NetworkPolicy, {
    metadata: { name: `${e.name}-ingress`, namespace: e.namespace, labels },
    spec: { podSelector: { matchLabels: { [ENDPOINT_LABEL]: e.name } }, policyTypes: ['Ingress'], ingress },
  });
}

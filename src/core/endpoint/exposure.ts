import { Issues } from '../errors';
import { checkDnsLabel, isDnsSubdomain } from '../names';
import type { PlatformExposure } from '../platform/context';
import { attachToPlatformApps, GatewayRef, TlsOptions } from '../platform/exposure';
import { Duration } from '../quantities';
import { VERSIONS } from '../versions';
import type { TrafficPlan } from './traffic';
import type { ModelVersionSpec } from './version';
import { checkFactoryArgs } from '../prop-shapes';

/** Exposure of an endpoint through a Gateway API Gateway (weighted canaries and mirroring work here). */
export interface EndpointGatewayOptions {
  /** Host name clients call, e.g. `resnet50.models.example.com`. */
  readonly host: string;
  /**
   * The Gateway the routes attach to. Its listener must admit routes from the endpoint's namespace
   * (`allowedRoutes.namespaces`) and match `host`; TLS is the Gateway's business. When omitted, the
   * routes attach to the platform Gateway's apps listener whose host name matches `host` (see
   * `Exposure.gateway({ apps })` on the platform).
   * @default the platform's apps listener for `host`; required without one
   */
  readonly gateway?: GatewayRef;
  /** Path prefix; rewritten to `/` before the request reaches the server. @default '/' */
  readonly path?: string;
  /** Gateway request timeout (`timeouts.request`). @default the runtime's (60s; 10m for vLLM) */
  readonly requestTimeout?: Duration;
  /**
   * Also publish the runtime's gRPC port (Triton's 8001, or a custom runtime's `grpcPort`) through
   * a GRPCRoute on this host, with the same weighted split and mirrors as the HTTPRoute. It must
   * differ from `host`: on one listener, Gateway API gives a host name to one route kind only.
   * Every served and shadow version needs a gRPC port.
   * @default gRPC is not published outside the cluster
   */
  readonly grpcHost?: string;
}

/** Exposure of an endpoint through an Ingress (one version only: Ingress has no standard weights or mirroring). */
export interface EndpointIngressOptions {
  /** Host name. */
  readonly host: string;
  /** IngressClass name. */
  readonly className: string;
  /** Path prefix (not rewritten: the server sees it). @default '/' */
  readonly path?: string;
  /** TLS via cert-manager annotations. @default plain HTTP */
  readonly tls?: TlsOptions;
}

/** The validated gRPC publication of a Gateway exposure. */
export interface EndpointGrpcSpec {
  /** Host of the GRPCRoute. */
  readonly host: string;
  /** Gateway and listener the GRPCRoute attaches to. */
  readonly gateway: GatewayRef;
}

/** The validated exposure. */
export type EndpointExposureSpec =
  | { readonly kind: 'none' }
  | {
    readonly kind: 'gateway';
    readonly host: string;
    readonly gateway: GatewayRef;
    readonly path: string;
    readonly requestTimeout?: Duration;
    /** Namespaces of the gateway's proxy pods, which the endpoint's NetworkPolicy admits. */
    readonly proxyNamespaces: readonly string[];
    /** The GRPCRoute, when `grpcHost` is given. */
    readonly grpc?: EndpointGrpcSpec;
  }
  | { readonly kind: 'ingress'; readonly host: string; readonly className: string; readonly path: string; readonly tls?: TlsOptions };

function isHost(h: unknown): h is string {
  return typeof h === 'string' && isDnsSubdomain(h) && h.includes('.');
}

/** How clients reach an endpoint (union-like): not at all from outside, a Gateway API HTTPRoute, or an Ingress. */
export class EndpointExposure {
  /** Only inside the cluster, through the stable version's Service (no canary, no shadow). */
  public static none(): EndpointExposure {
    return new EndpointExposure({ kind: 'none' });
  }
  /**
   * One HTTPRoute with weighted backendRefs and RequestMirror filters (the default way), and
   * optionally a GRPCRoute with the same split; on a Gateway you name, or on the platform Gateway's
   * apps listener for `host`.
   */
  public static gateway(options: EndpointGatewayOptions): EndpointExposure {
    return checkFactoryArgs(new EndpointExposure({ kind: 'gateway', ...options }), 'EndpointExposure.gateway', { options });
  }
  /** A networking.k8s.io Ingress to the stable version (rejects canaries and shadows). */
  public static ingress(options: EndpointIngressOptions): EndpointExposure {
    return checkFactoryArgs(new EndpointExposure({ kind: 'ingress', ...options }), 'EndpointExposure.ingress', { options });
  }

  private constructor(private readonly options: { kind: 'none' } | ({ kind: 'gateway' } & EndpointGatewayOptions) | ({ kind: 'ingress' } & EndpointIngressOptions)) {}

  /**
   * @internal validates and returns the spec.
   * @param platform the platform's exposure: a Gateway exposure without `gateway` attaches to its apps listeners
   */
  public _resolve(issues: Issues, path: string, platform?: PlatformExposure): EndpointExposureSpec {
    const o = this.options;
    if (o.kind === 'none') return o;
    if (!isHost(o.host)) issues.add(`${path}.host`, o.host, 'must be a fully qualified host name such as "resnet50.models.example.com"');
    const prefix = o.path ?? '/';
    if (typeof prefix !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(prefix) || (prefix.length > 1 && prefix.endsWith('/'))) {
      issues.add(`${path}.path`, o.path, 'must be a path prefix starting with "/" and not ending with "/", e.g. "/resnet50"');
    }
    if (o.kind === 'ingress') {
      if (!isDnsSubdomain(o.className ?? '')) issues.add(`${path}.className`, o.className, 'must be an IngressClass name');
      const tls = o.tls;
      if (tls && [tls.clusterIssuer, tls.issuer].filter((x) => x !== undefined).length !== 1) issues.add(`${path}.tls`, tls, 'give exactly one of clusterIssuer or issuer');
      return { kind: 'ingress', host: o.host, className: o.className, path: prefix, tls };
    }
    let gateway = o.gateway;
    let proxyNamespaces: string[] = [];
    if (gateway === undefined) {
      const at = attachToPlatformApps(issues, path, o.host, platform);
      if (at) {
        gateway = at.gateway;
        proxyNamespaces = [at.proxyNamespace];
      }
    } else if (typeof gateway !== 'object' || gateway === null) {
      issues.add(`${path}.gateway`, gateway, 'must be { name, namespace } of the Gateway the route attaches to');
    } else {
      checkDnsLabel(issues, `${path}.gateway.name`, gateway.name);
      checkDnsLabel(issues, `${path}.gateway.namespace`, gateway.namespace);
      if (gateway.sectionName !== undefined && !isDnsSubdomain(gateway.sectionName)) issues.add(`${path}.gateway.sectionName`, gateway.sectionName, 'must be a listener name');
      // Envoy Gateway runs proxies in its own namespace; other implementations in the Gateway's.
      proxyNamespaces = [...new Set([VERSIONS.charts.envoyGateway.namespace, gateway.namespace])];
    }
    if (o.requestTimeout !== undefined && (!(o.requestTimeout instanceof Duration) || o.requestTimeout.toSeconds() < 1)) {
      issues.add(`${path}.requestTimeout`, o.requestTimeout?.toString(), 'must be a Duration of at least 1 second');
    }
    let grpc: EndpointGrpcSpec | undefined;
    if (o.grpcHost !== undefined) {
      if (!isHost(o.grpcHost)) {
        issues.add(`${path}.grpcHost`, o.grpcHost, 'must be a fully qualified host name such as "resnet50-grpc.models.example.com"');
      } else if (o.grpcHost === o.host) {
        issues.add(`${path}.grpcHost`, o.grpcHost, 'must differ from `host`: on one listener Gateway API gives a host name to either an HTTPRoute or a GRPCRoute, never both; use e.g. "resnet50-grpc.models.example.com"');
      } else if (o.gateway === undefined) {
        // Its own apps listener (a repeated "gateway is required" issue is reported once).
        const at = attachToPlatformApps(issues, path, o.grpcHost, platform, 'grpcHost');
        if (at) grpc = { host: o.grpcHost, gateway: at.gateway };
      } else if (gateway) {
        grpc = { host: o.grpcHost, gateway };
      }
    }
    return { kind: 'gateway', host: o.host, gateway: gateway!, path: prefix, requestTimeout: o.requestTimeout, proxyNamespaces, ...(grpc ? { grpc } : {}) };
  }
}

/**
 * Checks the exposure against the validated versions: a GRPCRoute needs a gRPC port on every
 * version it routes or mirrors to.
 */
export function checkExposureVersions(issues: Issues, path: string, exposure: EndpointExposureSpec, versions: readonly ModelVersionSpec[], traffic: TrafficPlan): void {
  if (exposure.kind !== 'gateway' || !exposure.grpc) return;
  const routed = new Set([...traffic.backends.map((b) => b.name), ...traffic.mirrors.map((m) => m.name)]);
  const without = versions.filter((v) => routed.has(v.name) && v.runtime.grpcPort === undefined);
  if (without.length) {
    issues.add(`${path}.grpcHost`, exposure.grpc.host,
      `needs a gRPC port on every routed version, but ${without.map((v) => `"${v.name}" (Runtime.${v.runtime.kind}())`).join(', ')} ${without.length > 1 ? 'have' : 'has'} none: use Runtime.triton() (gRPC on 8001) or a custom runtime with \`grpcPort\`, or drop \`grpcHost\``);
  }
}

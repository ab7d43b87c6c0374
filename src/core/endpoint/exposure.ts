import { Issues } from '../errors';
import { checkDnsLabel, isDnsSubdomain } from '../names';
import { GatewayRef, TlsOptions } from '../platform/exposure';
import { Duration } from '../quantities';

/** Exposure of an endpoint through a Gateway API Gateway (weighted canaries and mirroring work here). */
export interface EndpointGatewayOptions {
  /** Host name clients call, e.g. `resnet50.models.example.com`. */
  readonly host: string;
  /**
   * The Gateway the HTTPRoute attaches to. Its listener must admit routes from the endpoint's
   * namespace (`allowedRoutes.namespaces`) and match `host`; TLS is the Gateway's business.
   */
  readonly gateway: GatewayRef;
  /** Path prefix; rewritten to `/` before the request reaches the server. @default '/' */
  readonly path?: string;
  /** Gateway request timeout (`timeouts.request`). @default the runtime's (60s; 10m for vLLM) */
  readonly requestTimeout?: Duration;
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

/** The validated exposure. */
export type EndpointExposureSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'gateway'; readonly host: string; readonly gateway: GatewayRef; readonly path: string; readonly requestTimeout?: Duration }
  | { readonly kind: 'ingress'; readonly host: string; readonly className: string; readonly path: string; readonly tls?: TlsOptions };

/** How clients reach an endpoint (union-like): not at all from outside, a Gateway API HTTPRoute, or an Ingress. */
export class EndpointExposure {
  /** Only inside the cluster, through the stable version's Service (no canary, no shadow). */
  public static none(): EndpointExposure {
    return new EndpointExposure({ kind: 'none' });
  }
  /** One HTTPRoute with weighted backendRefs and RequestMirror filters (the default way). */
  public static gateway(options: EndpointGatewayOptions): EndpointExposure {
    return new EndpointExposure({ kind: 'gateway', ...options });
  }
  /** A networking.k8s.io Ingress to the stable version (rejects canaries and shadows). */
  public static ingress(options: EndpointIngressOptions): EndpointExposure {
    return new EndpointExposure({ kind: 'ingress', ...options });
  }

  private constructor(private readonly options: { kind: 'none' } | ({ kind: 'gateway' } & EndpointGatewayOptions) | ({ kind: 'ingress' } & EndpointIngressOptions)) {}

  /** @internal validates and returns the spec. */
  public _resolve(issues: Issues, path: string): EndpointExposureSpec {
    const o = this.options;
    if (o.kind === 'none') return o;
    if (typeof o.host !== 'string' || !isDnsSubdomain(o.host) || !o.host.includes('.')) issues.add(`${path}.host`, o.host, 'must be a fully qualified host name such as "resnet50.models.example.com"');
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
    const g = o.gateway;
    if (!g || typeof g !== 'object') {
      issues.add(`${path}.gateway`, g, 'is required: { name, namespace } of the Gateway the route attaches to');
    } else {
      checkDnsLabel(issues, `${path}.gateway.name`, g.name);
      checkDnsLabel(issues, `${path}.gateway.namespace`, g.namespace);
      if (g.sectionName !== undefined && !isDnsSubdomain(g.sectionName)) issues.add(`${path}.gateway.sectionName`, g.sectionName, 'must be a listener name');
    }
    if (o.requestTimeout !== undefined && (!(o.requestTimeout instanceof Duration) || o.requestTimeout.toSeconds() < 1)) {
      issues.add(`${path}.requestTimeout`, o.requestTimeout?.toString(), 'must be a Duration of at least 1 second');
    }
    return { kind: 'gateway', host: o.host, gateway: g, path: prefix, requestTimeout: o.requestTimeout };
  }
}

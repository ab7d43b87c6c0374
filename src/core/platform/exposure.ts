import { Issues } from '../errors';
import { checkDnsLabel, isDnsSubdomain } from '../names';

/** TLS through cert-manager: name the issuer that signs the certificate. */
export interface TlsOptions {
  /** A cert-manager ClusterIssuer. Give this or `issuer`. */
  readonly clusterIssuer?: string;
  /** A cert-manager Issuer in the platform namespace. */
  readonly issuer?: string;
}

/** A Gateway API Gateway to attach routes to. */
export interface GatewayRef {
  /** Gateway name. */
  readonly name: string;
  /** Gateway namespace. */
  readonly namespace: string;
  /** Listener (`sectionName`) to attach to. @default all listeners */
  readonly sectionName?: string;
}

/** Exposure through Gateway API. */
export interface GatewayExposureOptions {
  /** Public host name of the tracking UI, e.g. `mlflow.example.com`. */
  readonly host: string;
  /**
   * The Gateway to attach the HTTPRoute to. When omitted, the platform creates its own Gateway
   * (class `gatewayClassName`, HTTP and HTTPS listeners) served by the Envoy Gateway add-on.
   * @default a Gateway named `mlplatform` in the platform namespace
   */
  readonly gateway?: GatewayRef;
  /** GatewayClass of the Gateway the platform creates. @default 'envoy-gateway' */
  readonly gatewayClassName?: string;
  /** TLS for the platform's own Gateway (ignored with `gateway`: the Gateway's owner manages TLS). @default plain HTTP */
  readonly tls?: TlsOptions;
}

/** Exposure through an Ingress. */
export interface IngressExposureOptions {
  /** Public host name. */
  readonly host: string;
  /** IngressClass name (ingress-nginx is retired: pick a maintained controller). */
  readonly className: string;
  /** TLS via cert-manager annotations. @default plain HTTP */
  readonly tls?: TlsOptions;
}

/** The validated exposure. */
export type ExposureSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'gateway'; readonly host: string; readonly gateway: GatewayRef; readonly createGateway: boolean; readonly gatewayClassName: string; readonly tls?: TlsOptions }
  | { readonly kind: 'ingress'; readonly host: string; readonly className: string; readonly tls?: TlsOptions };

/** How the tracking UI (and later endpoints) are reached from outside the cluster. */
export class Exposure {
  /** Not exposed: reach it with `kubectl port-forward`. */
  public static none(): Exposure {
    return new Exposure({ kind: 'none' });
  }
  /** A Gateway API HTTPRoute (the default way: Ingress NGINX is retired). */
  public static gateway(options: GatewayExposureOptions): Exposure {
    return new Exposure({ kind: 'gateway', ...options });
  }
  /** A networking.k8s.io Ingress with the given class. */
  public static ingress(options: IngressExposureOptions): Exposure {
    return new Exposure({ kind: 'ingress', ...options });
  }

  private constructor(private readonly options: { kind: 'none' } | ({ kind: 'gateway' } & GatewayExposureOptions) | ({ kind: 'ingress' } & IngressExposureOptions)) {}

  /** @internal validates and returns the spec. */
  public _resolve(issues: Issues, path: string, platformNamespace: string): ExposureSpec {
    const o = this.options;
    if (o.kind === 'none') return o;
    if (typeof o.host !== 'string' || !isDnsSubdomain(o.host) || !o.host.includes('.')) issues.add(`${path}.host`, o.host, 'must be a fully qualified host name such as "mlflow.example.com"');
    const tls = o.tls;
    if (tls) {
      const given = [tls.clusterIssuer, tls.issuer].filter((x) => x !== undefined);
      if (given.length !== 1) issues.add(`${path}.tls`, tls, 'give exactly one of clusterIssuer or issuer');
      for (const [k, v] of Object.entries(tls)) if (v !== undefined && !isDnsSubdomain(v)) issues.add(`${path}.tls.${k}`, v, 'must be the name of a cert-manager issuer');
    }
    if (o.kind === 'ingress') {
      if (!isDnsSubdomain(o.className ?? '')) issues.add(`${path}.className`, o.className, 'must be an IngressClass name');
      return { kind: 'ingress', host: o.host, className: o.className, tls };
    }
    const createGateway = o.gateway === undefined;
    const gateway = o.gateway ?? { name: 'mlplatform', namespace: platformNamespace, sectionName: tls ? 'https' : 'http' };
    if (!createGateway) {
      checkDnsLabel(issues, `${path}.gateway.name`, gateway.name);
      checkDnsLabel(issues, `${path}.gateway.namespace`, gateway.namespace);
      if (tls) issues.add(`${path}.tls`, tls, 'applies only to the Gateway the platform creates; configure TLS on your Gateway instead, or drop `gateway`');
    }
    const gatewayClassName = o.gatewayClassName ?? 'envoy-gateway';
    if (!isDnsSubdomain(gatewayClassName)) issues.add(`${path}.gatewayClassName`, gatewayClassName, 'must be a GatewayClass name');
    return { kind: 'gateway', host: o.host, gateway, createGateway, gatewayClassName, tls: createGateway ? tls : undefined };
  }
}

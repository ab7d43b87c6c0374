import { Issues } from '../errors';
import { checkDnsLabel, isDnsSubdomain } from '../names';
import type { PlatformExposure } from './context';
import { checkFactoryArgs } from '../prop-shapes';

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

/** Listeners of the platform's own Gateway for applications (model endpoints, sweep dashboards). */
export interface GatewayAppsOptions {
  /**
   * Host names tenant routes may claim: an exact name (`resnet50.example.com`) or one leading
   * wildcard label (`*.models.example.com`, which matches every name ending in
   * `.models.example.com`, however many labels precede it). One listener per name (two with TLS).
   * Keep the tracking host out of them (a subdomain such as `*.models.example.com` does that).
   */
  readonly hostnames: readonly string[];
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
  /**
   * Listeners for applications on the Gateway the platform creates: they admit routes from the
   * platform's tenant namespaces only (`allowedRoutes.namespaces.from: Selector`), and
   * ModelEndpoints and sweep dashboards that name no Gateway attach there. TLS follows `tls`:
   * cert-manager issues one certificate per host name with the same issuer (a wildcard needs an
   * issuer that solves DNS-01 challenges).
   * @default none: workloads name a Gateway of their own
   */
  readonly apps?: GatewayAppsOptions;
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

/** One host name of the platform Gateway's apps listeners, validated and named. */
export interface AppListenerSpec {
  /** Exact or wildcard host name. */
  readonly hostname: string;
  /** The plain-HTTP listener, `apps-<i>-http`. */
  readonly httpListener: string;
  /** With TLS: the HTTPS listener `apps-<i>-https` and the Secret cert-manager writes its certificate to. */
  readonly https?: { readonly listener: string; readonly secretName: string };
  /** The listener routes attach to (`sectionName`): the HTTPS one with TLS. */
  readonly sectionName: string;
}

/** The validated exposure. */
export type ExposureSpec =
  | { readonly kind: 'none' }
  | {
    readonly kind: 'gateway';
    readonly host: string;
    readonly gateway: GatewayRef;
    readonly createGateway: boolean;
    readonly gatewayClassName: string;
    readonly tls?: TlsOptions;
    /** Apps listeners of the Gateway the platform creates. */
    readonly apps?: readonly AppListenerSpec[];
  }
  | { readonly kind: 'ingress'; readonly host: string; readonly className: string; readonly tls?: TlsOptions };

/**
 * How the tracking UI is reached from outside the cluster (and, with `apps` on the platform's own
 * Gateway, the tenants' model endpoints and sweep dashboards). Sweep dashboards take one too.
 */
export class Exposure {
  /** Not exposed: reach it with `kubectl port-forward`. */
  public static none(): Exposure {
    return new Exposure({ kind: 'none' });
  }
  /** A Gateway API HTTPRoute (the default way: Ingress NGINX is retired). */
  public static gateway(options: GatewayExposureOptions): Exposure {
    return checkFactoryArgs(new Exposure({ kind: 'gateway', ...options }), 'Exposure.gateway', { options });
  }
  /** A networking.k8s.io Ingress with the given class. */
  public static ingress(options: IngressExposureOptions): Exposure {
    return checkFactoryArgs(new Exposure({ kind: 'ingress', ...options }), 'Exposure.ingress', { options });
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
    const apps = o.apps === undefined ? undefined : resolveApps(issues, `${path}.apps`, o.apps, o.host, createGateway, gateway.name, tls !== undefined);
    return { kind: 'gateway', host: o.host, gateway, createGateway, gatewayClassName, tls: createGateway ? tls : undefined, ...(apps ? { apps } : {}) };
  }
}

/** Most apps host names one Gateway carries (two listeners each; Gateway API allows 64 listeners). */
export const MAX_APP_HOSTNAMES = 16;

function resolveApps(
  issues: Issues, path: string, o: GatewayAppsOptions, trackingHost: string, createGateway: boolean, gatewayName: string, https: boolean,
): AppListenerSpec[] | undefined {
  if (!createGateway) {
    issues.add(path, o, 'applies only to the Gateway the platform creates; drop `gateway`, or drop `apps` and name your Gateway in each endpoint and dashboard');
    return undefined;
  }
  const hostnames = o?.hostnames;
  if (!Array.isArray(hostnames) || hostnames.length === 0 || hostnames.length > MAX_APP_HOSTNAMES) {
    issues.add(`${path}.hostnames`, hostnames, `must list 1 to ${MAX_APP_HOSTNAMES} host names, e.g. ["*.models.example.com"]`);
    return undefined;
  }
  const seen = new Set<string>();
  hostnames.forEach((h, i) => {
    const at = `${path}.hostnames[${i}]`;
    if (!isListenerHostname(h)) issues.add(at, h, 'must be a fully qualified host name, or "*." followed by one (e.g. "*.models.example.com")');
    else if (seen.has(h)) issues.add(at, h, 'is listed twice; list each host name once');
    else if (h === trackingHost) issues.add(at, h, 'is the tracking UI\'s host, which has listeners of its own; choose another (e.g. "*.models.example.com")');
    seen.add(h);
  });
  return hostnames.map((hostname, i) => {
    const httpListener = `apps-${i}-http`;
    const tlsListener = https ? { listener: `apps-${i}-https`, secretName: `${gatewayName}-apps-${i}-tls` } : undefined;
    return { hostname, httpListener, ...(tlsListener ? { https: tlsListener } : {}), sectionName: tlsListener?.listener ?? httpListener };
  });
}

/** A Gateway listener hostname: a DNS subdomain with at least two labels, optionally behind one `*.` label. */
export function isListenerHostname(h: unknown): h is string {
  if (typeof h !== 'string') return false;
  const name = h.startsWith('*.') ? h.slice(2) : h;
  return isDnsSubdomain(name) && name.includes('.') && !name.includes('*');
}

/**
 * Whether `host` matches the listener hostname `pattern` (Gateway API: a `*.` wildcard is a
 * suffix match of at least one label, so `*.example.com` matches `a.example.com` and
 * `a.b.example.com`, not `example.com`).
 */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && host.length > suffix.length;
}

/**
 * The apps listener a route for `host` attaches to: the exact host name if listed, else the
 * longest matching wildcard (the most specific listener, as the Gateway itself picks).
 */
export function appListenerFor<L extends { readonly hostname: string }>(listeners: readonly L[], host: string): L | undefined {
  const exact = listeners.find((l) => l.hostname === host);
  if (exact) return exact;
  return listeners
    .filter((l) => l.hostname.startsWith('*.') && hostnameMatches(l.hostname, host))
    .sort((a, b) => b.hostname.length - a.hostname.length)[0];
}

/** Where a workload route without a named Gateway attaches: the platform's apps listener for its host. */
export interface AppsAttachment {
  /** Gateway, namespace and listener (`sectionName`). */
  readonly gateway: GatewayRef;
  /** Whether that listener terminates TLS. */
  readonly https: boolean;
  /** Namespace of the Gateway's proxy pods, which the workload's NetworkPolicy admits. */
  readonly proxyNamespace: string;
}

/**
 * Resolves the listener of the platform's apps Gateway a route for `host` attaches to, for an
 * exposure that names no Gateway. Adds an issue (and returns undefined) when there is no platform,
 * the platform has no apps listeners, or none matches `host`.
 *
 * @param path the exposure's prop path (issues name `<path>.gateway` or `<path>.host`)
 * @param hostProp the prop holding `host` (`host`, or `grpcHost`)
 */
export function attachToPlatformApps(issues: Issues, path: string, host: string, platform: PlatformExposure | undefined, hostProp = 'host'): AppsAttachment | undefined {
  const apps = platform?.kind === 'gateway' ? platform.apps : undefined;
  if (!apps) {
    const why = platform === undefined
      ? 'without a platform there is no Gateway to default to'
      : platform.kind !== 'gateway'
        ? `the platform has no Gateway (its exposure is ${platform.kind === 'ingress' ? 'an Ingress' : 'none'})`
        : "the platform's Gateway has no apps listeners (give its Exposure.gateway(...) `apps: { hostnames: ['*.models.example.com'] }`)";
    issues.add(`${path}.gateway`, undefined, `is required: ${why}; or name the Gateway { name, namespace } the route attaches to`);
    return undefined;
  }
  if (typeof host !== 'string' || !isDnsSubdomain(host)) return undefined; // the host check reports it
  if (platform?.kind === 'gateway' && platform.host === host) {
    issues.add(`${path}.${hostProp}`, host, 'is the tracking UI\'s host on the platform Gateway; choose a host under the apps listeners');
    return undefined;
  }
  const listener = appListenerFor(apps.listeners, host);
  if (!listener) {
    issues.add(`${path}.${hostProp}`, host, `matches none of the platform Gateway's apps host names (${apps.listeners.map((l) => l.hostname).join(', ')}); use a host under one of them, or name a \`gateway\``);
    return undefined;
  }
  return { gateway: { name: apps.name, namespace: apps.namespace, sectionName: listener.sectionName }, https: apps.https, proxyNamespace: apps.proxyNamespace };
}

/** The platform Gateway's apps listeners, as workloads that publish routes need them (`PlatformContext.exposure.apps`). */
export interface PlatformAppsGateway {
  /** Gateway name. */
  readonly name: string;
  /** Gateway namespace. */
  readonly namespace: string;
  /** One listener per host name: the (exact or wildcard) host name and the listener routes attach to. */
  readonly listeners: readonly { readonly hostname: string; readonly sectionName: string }[];
  /** Whether those listeners terminate TLS. */
  readonly https: boolean;
  /** Namespace of the Gateway's proxy pods (Envoy Gateway runs them in its own namespace): workload NetworkPolicies admit it. */
  readonly proxyNamespace: string;
}

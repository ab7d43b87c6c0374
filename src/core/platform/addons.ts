import { Issues } from '../errors';
import { isDnsLabel } from '../names';
import { checkFactoryArgs } from '../prop-shapes';
import { AddonName, VERSIONS } from '../versions';

/** Namespace Argo CD watches for Applications unless told otherwise (the Argo CD install manifests' namespace). */
export const DEFAULT_ARGOCD_NAMESPACE = 'argocd';
/** Namespace of Flux's controllers and, unless told otherwise, of the HelmRepository and HelmRelease objects. */
export const DEFAULT_FLUX_NAMESPACE = 'flux-system';

/** How the platform's cluster add-ons are installed. */
export type AddonDeliverySpec =
  | { readonly kind: 'argocd'; readonly namespace: string; readonly project: string; readonly destinationServer: string }
  | { readonly kind: 'flux'; readonly namespace: string; readonly intervalMinutes: number }
  | { readonly kind: 'preinstalled' };

/** Argo CD options. */
export interface ArgoCdDeliveryOptions {
  /** Namespace Argo CD watches for Applications. @default 'argocd' */
  readonly namespace?: string;
  /** Argo CD project. @default 'default' */
  readonly project?: string;
  /** Destination cluster API server. @default 'https://kubernetes.default.svc' */
  readonly destinationServer?: string;
}

/** Flux options. */
export interface FluxDeliveryOptions {
  /** Namespace of the HelmRepository and HelmRelease objects. @default 'flux-system' */
  readonly namespace?: string;
  /** Reconciliation interval in minutes. @default 10 */
  readonly intervalMinutes?: number;
}

/** Installs add-ons as Argo CD Applications, Flux HelmReleases, or declares them pre-installed. */
export class AddonDelivery {
  /** One Argo CD `Application` per add-on (the pinned chart and its values). */
  public static argoCd(options: ArgoCdDeliveryOptions = {}): AddonDelivery {
    return checkFactoryArgs(new AddonDelivery({ kind: 'argocd', namespace: options?.namespace ?? DEFAULT_ARGOCD_NAMESPACE, project: options?.project ?? 'default', destinationServer: options?.destinationServer ?? 'https://kubernetes.default.svc' }), 'AddonDelivery.argoCd', { options });
  }
  /** One Flux `HelmRelease` (+ `HelmRepository`) per add-on. */
  public static flux(options: FluxDeliveryOptions = {}): AddonDelivery {
    return checkFactoryArgs(new AddonDelivery({ kind: 'flux', namespace: options?.namespace ?? DEFAULT_FLUX_NAMESPACE, intervalMinutes: options?.intervalMinutes ?? 10 }), 'AddonDelivery.flux', { options });
  }
  /** The add-ons are already installed (by a platform team, a cluster blueprint, or Pulumi): emit nothing for them. */
  public static preInstalled(): AddonDelivery {
    return new AddonDelivery({ kind: 'preinstalled' });
  }

  private constructor(private readonly spec: AddonDeliverySpec) {}

  /** @internal The namespace the delivery's objects go into (none when the add-ons are pre-installed). */
  public get _namespace(): string | undefined {
    return this.spec.kind === 'preinstalled' ? undefined : this.spec.namespace;
  }

  /** @internal */
  public _resolve(issues: Issues, path: string): AddonDeliverySpec {
    const s = this.spec;
    if (s.kind === 'argocd') {
      if (!isDnsLabel(s.namespace)) issues.add(`${path}.namespace`, s.namespace, 'must be a namespace name');
      if (!isDnsLabel(s.project)) issues.add(`${path}.project`, s.project, 'must be an Argo CD project name');
      if (!/^https:\/\/\S+$/.test(s.destinationServer)) issues.add(`${path}.destinationServer`, s.destinationServer, 'must be the https URL of the cluster API server');
    }
    if (s.kind === 'flux') {
      if (!isDnsLabel(s.namespace)) issues.add(`${path}.namespace`, s.namespace, 'must be a namespace name');
      if (!Number.isInteger(s.intervalMinutes) || s.intervalMinutes < 1) issues.add(`${path}.intervalMinutes`, s.intervalMinutes, 'must be a whole number of minutes ≥ 1');
    }
    return s;
  }
}

/** Which add-ons to install. Omitted ones follow what the platform uses. */
export interface AddonsOptions {
  /** How they are installed. @default AddonDelivery.argoCd() */
  readonly delivery?: AddonDelivery;
  /** Argo Workflows (TrainingPipeline's engine). @default true */
  readonly argoWorkflows?: boolean;
  /** NVIDIA device plugin. @default true when a GPU pool is declared */
  readonly nvidiaDevicePlugin?: boolean;
  /** KEDA (request-rate autoscaling of endpoints). @default false */
  readonly keda?: boolean;
  /** Kueue. @default true when a tenant has a queue */
  readonly kueue?: boolean;
  /** cert-manager. @default true when the exposure uses TLS */
  readonly certManager?: boolean;
  /** Envoy Gateway. @default true when the platform creates its own Gateway */
  readonly envoyGateway?: boolean;
  /** KServe (CRDs and controller, Standard mode). @default false */
  readonly kserve?: boolean;
  /**
   * Extra Helm values per add-on, deep-merged over mlplatform's (objects merge, everything else
   * replaces), e.g. `{ argoWorkflows: { server: { enabled: true } } }` for the Argo Workflows UI.
   * @default none
   */
  readonly values?: Partial<Record<AddonName, Readonly<Record<string, unknown>>>>;
}

/**
 * Checks `values` (AddonsOptions.values): every key names an add-on and every value is an object of
 * Helm values. Helm itself ignores what nothing reads, so a misspelled add-on would vanish silently.
 */
export function checkAddonValues(issues: Issues, path: string, values: unknown): void {
  if (values === undefined) return;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    issues.add(path, values, 'must be an object of Helm values per add-on, e.g. { argoWorkflows: { server: { enabled: true } } }');
    return;
  }
  const names = Object.keys(VERSIONS.charts).sort();
  for (const [name, v] of Object.entries(values)) {
    if (!names.includes(name)) issues.add(`${path}.${name}`, name, `is not an add-on; use one of ${names.join(', ')}`);
    else if (v === null || typeof v !== 'object' || Array.isArray(v)) issues.add(`${path}.${name}`, v, 'must be an object of Helm values (nested keys of the chart\'s values.yaml)');
    else checkHelmValue(issues, `${path}.${name}`, v);
  }
}

/**
 * A Helm value is plain YAML data: strings, finite numbers, booleans, null, lists and plain objects.
 * `undefined` would be dropped silently from the rendered values (the key vanishes), and a function,
 * a Date, NaN or a class instance cannot be written as YAML at all.
 */
function checkHelmValue(issues: Issues, path: string, v: unknown): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) issues.add(path, v, 'must be a finite number (YAML has no NaN or Infinity Helm reads back)');
    return;
  }
  if (Array.isArray(v)) { v.forEach((x, i) => checkHelmValue(issues, `${path}[${i}]`, x)); return; }
  // (an object without a prototype, Object.create(null), is refused too: cdk8s cannot render one)
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) checkHelmValue(issues, `${path}.${k}`, x);
    return;
  }
  issues.add(path, v, v === undefined
    ? 'is undefined, so the key would be dropped from the chart values silently; give a value or remove the key'
    : 'must be plain YAML data (a string, number, boolean, null, list or object), not a function, Date or class instance');
}

/** The add-ons that end up installed, given what the platform uses. */
export function enabledAddons(o: AddonsOptions, uses: { gpuPools: boolean; queues: boolean; tls: boolean; ownGateway: boolean }): ReadonlySet<AddonName> {
  const on = new Set<AddonName>();
  if (o.argoWorkflows ?? true) on.add('argoWorkflows');
  if (o.nvidiaDevicePlugin ?? uses.gpuPools) on.add('nvidiaDevicePlugin');
  if (o.keda ?? false) on.add('keda');
  if (o.kueue ?? uses.queues) on.add('kueue');
  if (o.certManager ?? uses.tls) on.add('certManager');
  if (o.envoyGateway ?? uses.ownGateway) on.add('envoyGateway');
  if (o.kserve ?? false) { on.add('kserveCrd'); on.add('kserve'); }
  return on;
}

import { ApiObject, ApiObjectProps, App, GroupVersionKind, ImplicitTokenResolver, JsonPatch, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * The L1 names cdk8s's importer gave to Kubernetes fields whose JSON name is not camelCase
 * (`clusterIP` → `clusterIp`); {@link Json} maps them back.
 */
interface RenamedFields {
  clusterIp: 'clusterIP';
  datasetUuid: 'datasetUUID';
  diskUri: 'diskURI';
  externalId: 'externalID';
  hostIp: 'hostIP';
  hostIpc: 'hostIPC';
  hostPid: 'hostPID';
  insecureSkipTlsVerify: 'insecureSkipTLSVerify';
  loadBalancerIp: 'loadBalancerIP';
  nodeId: 'nodeID';
  nonResourceUrLs: 'nonResourceURLs';
  pdId: 'pdID';
  podCidRs: 'podCIDRs';
  podCidr: 'podCIDR';
  providerId: 'providerID';
  ref: '$ref';
  schema: '$schema';
  setHostnameAsFqdn: 'setHostnameAsFQDN';
  storagePolicyId: 'storagePolicyID';
  targetCpuUtilizationPercentage: 'targetCPUUtilizationPercentage';
  targetWwNs: 'targetWWNs';
  volumeId: 'volumeID';
  xKubernetesEmbeddedResource: 'x-kubernetes-embedded-resource';
  xKubernetesIntOrString: 'x-kubernetes-int-or-string';
  xKubernetesListMapKeys: 'x-kubernetes-list-map-keys';
  xKubernetesListType: 'x-kubernetes-list-type';
  xKubernetesMapType: 'x-kubernetes-map-type';
  xKubernetesPreserveUnknownFields: 'x-kubernetes-preserve-unknown-fields';
  xKubernetesValidations: 'x-kubernetes-validations';
}

/**
 * The JSON shape of a cdk8s-plus-27 L1 type (`k8s.Container`, `k8s.KubeDeploymentProps`, …): the
 * same fields under their Kubernetes names, Quantities and IntOrStrings as plain strings or numbers.
 * The renderers write Kubernetes objects in this shape — type-checked against the Kubernetes 1.27
 * API — and never instantiate the L1 classes, whose per-object conversion was a third of the synthesis.
 */
export type Json<T> =
  T extends k8s.Quantity | k8s.IntOrString ? string | number :
    T extends Lazy ? T :
      T extends readonly (infer U)[] ? Json<U>[] :
        T extends object ? { [K in keyof T as K extends keyof RenamedFields ? RenamedFields[K] : K]: Json<T[K]> } :
          T;

/** What every object needs besides its kind: the metadata, and the rest of the manifest. */
export type ObjectBody = Omit<ApiObjectProps, 'apiVersion' | 'kind'>;

const DEFAULT_RESOLVERS = [LazyResolver, ImplicitTokenResolver, NumberStringUnionResolver];
const plainApps = new WeakMap<App, boolean>();

/** Whether `app` resolves with cdk8s's three built-in resolvers only (no user resolver to call). */
function builtInResolversOnly(app: App): boolean {
  let known = plainApps.get(app);
  if (known === undefined) {
    known = app.resolvers.length === DEFAULT_RESOLVERS.length && app.resolvers.every((r, i) => r instanceof DEFAULT_RESOLVERS[i]);
    plainApps.set(app, known);
  }
  return known;
}

/**
 * The value cdk8s's `resolve` followed by its `sanitizeValue` (sorted keys) gives with the built-in
 * resolvers, in one pass: `Lazy` values produced, implicit tokens (`resolve()`) resolved, number/string
 * unions unwrapped, `null`/`undefined` properties dropped, any other class instance rejected.
 */
function plain(value: any): any {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof Lazy) return plain(value.produce());
  if (typeof value.resolve === 'function') return plain(value.resolve());
  if (Array.isArray(value)) return value.map(plain);
  if (value.constructor?.name !== 'Object') {
    const inner = value.value;
    if (typeof inner === 'number' || typeof inner === 'string') return { value: inner };
    throw new Error(`can't render non-simple object of type '${value.constructor?.name}'`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = plain(value[key]);
    if (v !== undefined && v !== null) out[key] = v;
  }
  return out;
}

/**
 * A Kubernetes object of this library: an `ApiObject` whose props are already plain JSON. Its
 * `toJson()` gives exactly what `ApiObject.toJson()` gives, in one pass instead of cdk8s's resolve
 * walk (which looks up the App for every value) followed by a sanitizing walk. It falls back to
 * `ApiObject.toJson()` whenever that could differ: the App has resolvers of its own, the object has
 * JSON patches, or `CDK8S_DISABLE_SORT` is set.
 */
export class K8sObject extends ApiObject {
  private readonly body: ApiObjectProps;
  private patched = false;

  constructor(scope: Construct, id: string, props: ApiObjectProps) {
    super(scope, id, props);
    this.body = props;
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.patched = true;
    super.addJsonPatch(...ops);
  }

  public toJson(): any {
    if (this.patched || process.env.CDK8S_DISABLE_SORT || !builtInResolversOnly(App.of(this) as App)) return super.toJson();
    try {
      const json = plain({ ...this.body, metadata: this.metadata.toJson() });
      const { apiVersion, kind, metadata, ...rest } = json;
      return { apiVersion, kind, ...(metadata !== undefined ? { metadata } : {}), ...rest };
    } catch (e) {
      throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
    }
  }
}

/** An L1 class of cdk8s-plus-27, used only for its group/version/kind and its props type. */
export interface KubeType<P> {
  readonly GVK: GroupVersionKind;
  new (scope: Construct, id: string, props: P): ApiObject;
}

/**
 * Declares a Kubernetes object of the kind of `type` (e.g. `k8s.KubeDeployment`) with `props` in
 * JSON shape, type-checked against that kind's L1 props: `kube(this, 'sa', k8s.KubeServiceAccount, { metadata })`.
 */
export function kube<P>(scope: Construct, id: string, type: KubeType<P>, props: Json<P>): K8sObject {
  return new K8sObject(scope, id, { ...(props as ObjectBody), apiVersion: type.GVK.apiVersion, kind: type.GVK.kind });
}

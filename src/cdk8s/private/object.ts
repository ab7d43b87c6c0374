import { ApiObject, ApiObjectMetadataDefinition, ApiObjectProps, App, ImplicitTokenResolver, JsonPatch, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { Issues } from '../../core/errors';

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
    const resolvers: unknown = app.resolvers;
    known = Array.isArray(resolvers) && resolvers.length === DEFAULT_RESOLVERS.length && resolvers.every((r, i) => r instanceof DEFAULT_RESOLVERS[i]);
    plainApps.set(app, known);
  }
  return known;
}

const OBJECT_PROTOTYPE = Object.prototype;

/**
 * The value cdk8s's `resolve` followed by its `sanitizeValue` (sorted keys) gives with the built-in
 * resolvers, in one pass: `Lazy` values produced, implicit tokens (`resolve()`) resolved, number/string
 * unions unwrapped, `null`/`undefined` properties dropped, any other class instance rejected; with
 * `filterEmpty` (metadata) empty maps and lists dropped too. Plain objects are recognized by their
 * prototype and already-sorted keys are not sorted again: this walk is most of the synthesis.
 */
function plain(value: any, filterEmpty = false): any {
  if (typeof value !== 'object' || value === null) return value === null ? undefined : value;
  if (Object.getPrototypeOf(value) === OBJECT_PROTOTYPE) {
    if (typeof value.resolve === 'function') return plain(value.resolve(), filterEmpty);
    return plainObject(value, filterEmpty);
  }
  if (Array.isArray(value)) {
    if (filterEmpty && value.length === 0) return undefined;
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const x = value[i];
      out[i] = typeof x === 'object' ? plain(x, filterEmpty) : x;
    }
    return out;
  }
  if (value instanceof Lazy) return plain(value.produce(), filterEmpty);
  if (typeof value.resolve === 'function') return plain(value.resolve(), filterEmpty);
  // A plain object of another realm (vm context): cdk8s's sanitizer goes by the constructor's name.
  if (value.constructor?.name === 'Object') return plainObject(value, filterEmpty);
  const inner = value.value;
  if (typeof inner === 'number' || typeof inner === 'string') return { value: inner };
  throw new Error(`can't render non-simple object of type '${value.constructor?.name}'`);
}

/**
 * The own keys of `value` in sorted order (the order `Array.prototype.sort()` gives: UTF-16 code
 * units). Already-sorted keys are left as they are; the few keys of a typical object are put in order
 * by insertion, because `sort()` allocates a work array per call (a quarter of all the memory a
 * synthesis allocated went to sorting small key lists).
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      if (keys.length > 24) return keys.sort();
      for (let j = i; j < keys.length; j++) {
        const k = keys[j];
        let at = j - 1;
        while (at >= 0 && keys[at] > k) {
          keys[at + 1] = keys[at];
          at--;
        }
        keys[at + 1] = k;
      }
      return keys;
    }
  }
  return keys;
}

const TOP_KEYS = ['apiVersion', 'kind', 'metadata'];

function plainObject(value: Record<string, unknown>, filterEmpty: boolean): Record<string, unknown> | undefined {
  const keys = sortedKeys(value);
  const out: Record<string, unknown> = {};
  let empty = true;
  for (let i = 0; i < keys.length; i++) {
    const x = value[keys[i]];
    // Strings, numbers and booleans are most values: copied without a call.
    const v = typeof x === 'object' ? plain(x, filterEmpty) : x;
    if (v !== undefined && v !== null) {
      out[keys[i]] = v;
      empty = false;
    }
  }
  return filterEmpty && empty ? undefined : out;
}

/** The fields of cdk8s's `ApiObjectMetadataDefinition` its `toJson()` reads (private there, stable since cdk8s 2.0). */
interface MetadataFields {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly finalizers: string[];
  readonly ownerReferences: unknown[];
  readonly _additionalAttributes: Record<string, unknown>;
}

/**
 * What `metadata.toJson()` gives (resolve, then sanitize dropping empty maps and lists), in one
 * pass; `metadata.toJson()` itself if the fields are not where cdk8s 2.x keeps them.
 */
export function plainMetadata(metadata: ApiObjectMetadataDefinition): any {
  const m = metadata as unknown as MetadataFields;
  if (typeof m.labels !== 'object' || typeof m.annotations !== 'object' || !Array.isArray(m.finalizers) || !Array.isArray(m.ownerReferences)
    || typeof m._additionalAttributes !== 'object') {
    return metadata.toJson();
  }
  const standard = { annotations: m.annotations, finalizers: m.finalizers, labels: m.labels, name: m.name, namespace: m.namespace, ownerReferences: m.ownerReferences };
  // Usually nothing but the standard fields was given: the map above is then already in sorted order.
  for (const k in m._additionalAttributes) {
    if (!(k in standard)) return plain(Object.assign({}, m._additionalAttributes, standard), true);
  }
  return plainObject(standard, true);
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
    checkUniqueIn(this.node.root);
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.patched = true;
    super.addJsonPatch(...ops);
  }

  public toJson(): any {
    if (this.patched || process.env.CDK8S_DISABLE_SORT || !builtInResolversOnly(App.of(this) as App)) return super.toJson();
    try {
      // apiVersion, kind and metadata first, then the other fields in sorted order (as ApiObject.toJson()).
      const body = this.body as unknown as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of TOP_KEYS) {
        const v = k === 'metadata' ? plainMetadata(this.metadata) : plain(body[k]);
        if (v !== undefined && v !== null) out[k] = v;
      }
      const keys = sortedKeys(body);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
        const v = plain(body[k]);
        if (v !== undefined && v !== null) out[k] = v;
      }
      return out;
    } catch (e) {
      throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
    }
  }
}

/**
 * A Kubernetes kind the renderers write: its apiVersion and kind, typed with the props of its
 * cdk8s-plus-27 L1 class (`P`, a type only: cdk8s-plus-27 is never loaded at run time, which saves
 * every process that imports the library ≈ 80 ms and ≈ 13 MiB of RSS).
 */
export interface KubeKind<P> {
  readonly apiVersion: string;
  readonly kind: string;
  /** Never set: carries `P` for {@link kube}'s type checking. */
  readonly props?: P;
}

const kind = <P>(apiVersion: string, k: string): KubeKind<P> => ({ apiVersion, kind: k });

/** The built-in kinds the renderers write, with cdk8s-plus-27's `k8s.Kube*.GVK` (a test keeps them equal). */
export const KUBE = {
  ConfigMap: kind<k8s.KubeConfigMapProps>('v1', 'ConfigMap'),
  CronJob: kind<k8s.KubeCronJobProps>('batch/v1', 'CronJob'),
  Deployment: kind<k8s.KubeDeploymentProps>('apps/v1', 'Deployment'),
  HorizontalPodAutoscalerV2: kind<k8s.KubeHorizontalPodAutoscalerV2Props>('autoscaling/v2', 'HorizontalPodAutoscaler'),
  Ingress: kind<k8s.KubeIngressProps>('networking.k8s.io/v1', 'Ingress'),
  Job: kind<k8s.KubeJobProps>('batch/v1', 'Job'),
  LimitRange: kind<k8s.KubeLimitRangeProps>('v1', 'LimitRange'),
  Namespace: kind<k8s.KubeNamespaceProps>('v1', 'Namespace'),
  NetworkPolicy: kind<k8s.KubeNetworkPolicyProps>('networking.k8s.io/v1', 'NetworkPolicy'),
  PodDisruptionBudget: kind<k8s.KubePodDisruptionBudgetProps>('policy/v1', 'PodDisruptionBudget'),
  ResourceQuota: kind<k8s.KubeResourceQuotaProps>('v1', 'ResourceQuota'),
  Role: kind<k8s.KubeRoleProps>('rbac.authorization.k8s.io/v1', 'Role'),
  RoleBinding: kind<k8s.KubeRoleBindingProps>('rbac.authorization.k8s.io/v1', 'RoleBinding'),
  Secret: kind<k8s.KubeSecretProps>('v1', 'Secret'),
  Service: kind<k8s.KubeServiceProps>('v1', 'Service'),
  ServiceAccount: kind<k8s.KubeServiceAccountProps>('v1', 'ServiceAccount'),
  StatefulSet: kind<k8s.KubeStatefulSetProps>('apps/v1', 'StatefulSet'),
} as const;

/**
 * Declares a Kubernetes object of kind `type` (e.g. `KUBE.Deployment`) with `props` in JSON shape,
 * type-checked against that kind's L1 props: `kube(this, 'sa', KUBE.ServiceAccount, { metadata })`.
 */
export function kube<P>(scope: Construct, id: string, type: KubeKind<P>, props: Json<NoInfer<P>>): K8sObject {
  return new K8sObject(scope, id, Object.assign({}, props as ObjectBody, { apiVersion: type.apiVersion, kind: type.kind }));
}

/** Roots (Apps) whose objects are checked for duplicates. */
const uniqueChecked = new WeakSet<IConstruct>();

/**
 * Makes `root` (the App) check at synthesis that no two ApiObjects under it have the same identity:
 * API group, kind, namespace and name (the version aside: one object is served under every version
 * of its group). cdk8s does not check it, and `kubectl apply` or Argo CD would let the last one
 * silently replace the other. One validation per App, which both `app.synth()` and `chart.toJson()`
 * run; it throws a {@link ValidationError} naming both construct paths.
 */
function checkUniqueIn(root: IConstruct): void {
  if (uniqueChecked.has(root)) return;
  uniqueChecked.add(root);
  root.node.addValidation({
    validate: () => {
      throwOnDuplicates(root);
      return [];
    },
  });
}

/** The identity of an object as the API server sees it: `group/Kind/namespace/name` (and its rendering for messages). */
function identityOf(o: ApiObject): { key: string; label: string } {
  let apiVersion = o.apiVersion;
  let objectKind = o.kind;
  let namespace = o.metadata.namespace;
  let name: string | undefined = o.name;
  // Patches may rename or move it: take the rendered object then (few objects have patches).
  const patches = (o as unknown as { patches?: readonly unknown[] }).patches;
  if (patches === undefined || patches.length > 0) {
    const json = o.toJson();
    apiVersion = json.apiVersion;
    objectKind = json.kind;
    namespace = json.metadata?.namespace;
    name = json.metadata?.name;
  }
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return { key: `${group}/${objectKind}/${namespace ?? ''}/${name ?? ''}`, label: `${objectKind} ${namespace ? `${namespace}/` : ''}${name}` };
}

function throwOnDuplicates(root: IConstruct): void {
  const seen = new Map<string, ApiObject>();
  const issues = new Issues('Synthesis');
  for (const c of root.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    const { key, label } = identityOf(c);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, c);
      continue;
    }
    issues.add(c.node.path, label,
      `emits the same object as ${first.node.path} (same API group, kind, namespace and name), which one apply would silently replace with the other; give one of the two constructs another name or namespace`);
  }
  issues.throwIfAny();
}

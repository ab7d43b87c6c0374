import * as pulumi from '@pulumi/pulumi';
import { CloudValues, placeholderKeys } from './cloud-values';

/** A Kubernetes object as cdk8s synthesizes it (plain JSON with apiVersion, kind and metadata). */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** Arguments of {@link KubernetesObjects}. */
export interface KubernetesObjectsArgs {
  /** The objects to create, typically `chart.toJson()` of a cdk8s chart. */
  readonly objects: readonly ManifestObject[];
  /**
   * The Kubernetes provider (an existing cluster's kubeconfig).
   * @default the default provider of the stack
   */
  readonly provider?: pulumi.ProviderResource;
  /**
   * The cloud values the objects' placeholders stand for. An object that mentions a placeholder is
   * created with the real values substituted inside an `apply`: its type and name stay known at
   * preview, only the fields that carry a cloud value are unknown until the value is.
   * @default none (an object that mentions a placeholder is an error)
   */
  readonly cloudValues?: CloudValues;
  /**
   * Resources every object waits for, e.g. the Helm releases that install the CRDs of its kind.
   * @default none
   */
  readonly dependsOn?: readonly pulumi.Resource[];
}

/**
 * The Pulumi type token @pulumi/kubernetes uses for `apiVersion`/`kind`: built-in kinds of the
 * core group are `kubernetes:core/v1:Kind`, every other kind (built-in or custom) is
 * `kubernetes:<group>/<version>:Kind`.
 */
export function kubernetesTypeToken(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes('/') ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** The logical Pulumi name of an object: `${prefix}-${kind}-${namespace}-${name}` in lowercase. */
export function objectResourceName(prefix: string, obj: ManifestObject): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}-` : '';
  return `${prefix}-${obj.kind.toLowerCase()}-${ns}${obj.metadata.name}`;
}

/** One Kubernetes object as a Pulumi custom resource of the @pulumi/kubernetes provider. */
export class KubernetesObject extends pulumi.CustomResource {
  /**
   * @param obj the object exactly as synthesized; its type token is derived from apiVersion/kind
   * @param cloudValues substitutes the placeholders `obj` mentions (required when it mentions any)
   */
  constructor(name: string, obj: ManifestObject, opts: pulumi.CustomResourceOptions = {}, cloudValues?: CloudValues) {
    const secretFields = obj.apiVersion === 'v1' && obj.kind === 'Secret' ? ['data', 'stringData'] : [];
    super(kubernetesTypeToken(obj.apiVersion, obj.kind), name, objectInputs(obj, cloudValues), {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), ...secretFields],
    });
  }
}

/**
 * The inputs of one object: the object itself, or, when it mentions placeholders, the object with
 * each string that mentions one replaced by an Output of its substituted value (objects and arrays
 * are split down to the strings, so everything without a placeholder stays known at preview). `apiVersion`, `kind`,
 * `metadata.name` and `metadata.namespace` may not hold a placeholder: they must be known at preview.
 */
function objectInputs(obj: ManifestObject, cloudValues?: CloudValues): pulumi.Inputs {
  const keys = placeholderKeys(obj);
  if (keys.length === 0) return { ...obj };
  const id = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
  if (!cloudValues) throw new Error(`${id} mentions cloud value placeholders (${keys.join(', ')}) but no cloudValues were given`);
  const identity = [obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace ?? ''];
  if (placeholderKeys(identity).length > 0) throw new Error(`${id}: apiVersion, kind, name and namespace must not hold a cloud value (they must be known at preview)`);
  const resolved = cloudValues.resolve(obj);
  const at = (path: readonly string[]) => resolved.apply((o) => path.reduce<any>((v, k) => v[k], o));
  const split = (value: unknown, path: readonly string[]): unknown => {
    if (placeholderKeys(value).length === 0) return value;
    if (Array.isArray(value)) return value.map((v, i) => split(v, [...path, String(i)]));
    if (!value || typeof value !== 'object' || placeholderKeys(Object.keys(value)).length > 0) return at(path);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, split(v, [...path, k])]));
  };
  return split(obj, []) as pulumi.Inputs;
}

/**
 * Creates each object of a synthesized cdk8s chart as its own @pulumi/kubernetes resource, parented
 * to this component, with the object's namespace created first. This is how the Pulumi side deploys
 * the exact objects `cdk8s synth` writes, without a second renderer. Cloud values reach the objects
 * through placeholders ({@link KubernetesObjectsArgs.cloudValues}). Secrets' `data` and `stringData`
 * are marked secret outputs. Data is never deleted with the stack: PersistentVolumeClaims, and the
 * Namespaces that hold PVCs or StatefulSets with volume claim templates (deleting a Namespace
 * deletes its claims), are created with `retainOnDelete`.
 */
export class KubernetesObjects extends pulumi.ComponentResource {
  /** The created resources, keyed by `kind/namespace/name` (`kind/name` for cluster-scoped objects). */
  public readonly resources: Readonly<Record<string, pulumi.CustomResource>>;

  constructor(name: string, args: KubernetesObjectsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:KubernetesObjects', name, {}, opts);
    const resources: Record<string, pulumi.CustomResource> = {};
    const namespaces: Record<string, pulumi.CustomResource> = {};
    const stateful = statefulNamespaces(args.objects);
    const resourceOpts = (obj: ManifestObject, dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
      parent: this,
      provider: args.provider,
      dependsOn: [...(args.dependsOn ?? []), ...dependsOn],
      ...(isRetained(obj, stateful) ? { retainOnDelete: true } : {}),
    });
    // Namespaces first, so that namespaced objects can depend on theirs.
    const ordered = [...args.objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    for (const obj of ordered) {
      const ns = obj.metadata.namespace;
      const dependsOn = ns && namespaces[ns] ? [namespaces[ns]] : [];
      const res = new KubernetesObject(objectResourceName(name, obj), obj, resourceOpts(obj, dependsOn), args.cloudValues);
      resources[ns ? `${obj.kind}/${ns}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`] = res;
      if (obj.kind === 'Namespace') namespaces[obj.metadata.name] = res;
    }
    this.resources = resources;
    this.registerOutputs({});
  }
}

/** Namespaces whose deletion would delete data: they hold a PVC or a StatefulSet with volume claim templates. */
function statefulNamespaces(objects: readonly ManifestObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    const claims = o.kind === 'PersistentVolumeClaim'
      || (o.kind === 'StatefulSet' && Array.isArray((o.spec as { volumeClaimTemplates?: unknown[] } | undefined)?.volumeClaimTemplates)
        && ((o.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates.length > 0));
    if (claims && o.metadata.namespace) out.add(o.metadata.namespace);
  }
  return out;
}

function isRetained(obj: ManifestObject, statefulNs: ReadonlySet<string>): boolean {
  return obj.kind === 'PersistentVolumeClaim' || (obj.kind === 'Namespace' && statefulNs.has(obj.metadata.name));
}

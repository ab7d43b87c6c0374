import * as pulumi from '@pulumi/pulumi';

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
  /** @param obj the object exactly as synthesized; its type token is derived from apiVersion/kind */
  constructor(name: string, obj: ManifestObject, opts: pulumi.CustomResourceOptions = {}) {
    super(kubernetesTypeToken(obj.apiVersion, obj.kind), name, { ...obj }, opts);
  }
}

/**
 * Creates each object of a synthesized cdk8s chart as its own @pulumi/kubernetes resource, parented
 * to this component, with the object's namespace created first. This is how the Pulumi side deploys
 * the exact objects `cdk8s synth` writes, without a second renderer.
 */
export class KubernetesObjects extends pulumi.ComponentResource {
  /** The created resources, keyed by `kind/namespace/name` (`kind/name` for cluster-scoped objects). */
  public readonly resources: Readonly<Record<string, pulumi.CustomResource>>;

  constructor(name: string, args: KubernetesObjectsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:KubernetesObjects', name, {}, opts);
    const resources: Record<string, pulumi.CustomResource> = {};
    const namespaces: Record<string, pulumi.CustomResource> = {};
    const resourceOpts = (dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
      parent: this,
      provider: args.provider,
      dependsOn,
    });
    // Namespaces first, so that namespaced objects can depend on theirs.
    const ordered = [...args.objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    for (const obj of ordered) {
      const ns = obj.metadata.namespace;
      const dependsOn = ns && namespaces[ns] ? [namespaces[ns]] : [];
      const res = new KubernetesObject(objectResourceName(name, obj), obj, resourceOpts(dependsOn));
      resources[ns ? `${obj.kind}/${ns}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`] = res;
      if (obj.kind === 'Namespace') namespaces[obj.metadata.name] = res;
    }
    this.resources = resources;
    this.registerOutputs({});
  }
}

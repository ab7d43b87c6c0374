import * as pulumi from '@pulumi/pulumi';
import { KubernetesObjects } from './kubernetes-objects';
import { MlPlatform } from './ml-platform';
import { checkPrefixes, S3PrefixAccess, WorkloadIdentity } from './workload-identity';
import { buildWorkload, checkPlatform, serviceAccountRole, tidyAccess } from './workload-roles';
import { StoreLocation } from '../cdk8s/checks';
import { ModelEndpoint as Cdk8sModelEndpoint, ModelEndpointProps } from '../cdk8s/model-endpoint';
import { Issues, ModelVersionSpec, PlatformContext } from '../core';

/** Arguments of the Pulumi {@link ModelEndpoint}: the cdk8s props, on the Pulumi platform. */
export interface ModelEndpointArgs extends Omit<ModelEndpointProps, 'platform'> {
  /**
   * The platform: its tracking server (registry sources), bucket (URI sources, payload logs), GPU
   * pools, tenants (`namespace` must be one), add-ons and version table; its cluster runs the objects.
   */
  readonly platform: MlPlatform;
  /**
   * Store prefixes the versions may read that no pipeline of the namespace declared before this
   * endpoint writes — what `location.grantRead(endpoint)` does in cdk8s, which a Pulumi component
   * cannot be given after it is created: e.g. `[pipeline.pipeline.artifacts]` for a pipeline of
   * another namespace. For the data-access check only: each version's role still reads exactly its
   * model's prefix.
   * @default none
   */
  readonly readGrants?: readonly StoreLocation[];
}

/**
 * What one version's pods do with the platform's bucket (keys relative to the bucket): read exactly
 * its `readScope` — the model's prefix when the model lies in the platform's bucket and the version
 * reads it with the platform's identity (no `credentials` of its own); for a registry model the
 * namespace's pipeline root, where the `s3://` sources its registration steps register live (MLflow
 * downloads a version's source client-side) — and write exactly its payload-log prefix (its
 * `writeScope`) when it logs requests. A baked model reads nothing.
 */
export function versionStoreAccess(v: ModelVersionSpec, store: PlatformContext['store']): S3PrefixAccess {
  const ownCredentials = v.source.kind === 'uri' && v.source.credentials !== undefined;
  const read = v.readScope && v.readScope.bucket === store.bucket && !ownCredentials ? [v.readScope.prefix] : [];
  const write = v.writeScope?.kind === 's3' && v.writeScope.bucket === store.bucket ? [v.writeScope.prefix] : [];
  return tidyAccess({ read, write });
}

/**
 * A served model on AWS (`mlplatform:index:ModelEndpoint`): the cdk8s {@link Cdk8sModelEndpoint}
 * built in memory against the platform (with the platform's version table), deployed into the
 * platform's cluster.
 *
 * Creates `<name>-<version>-identity` for each version that touches the platform's bucket (a
 * {@link WorkloadIdentity} for the version's ServiceAccount `<name>-<version>` that reads exactly its
 * model's prefix and writes exactly its payload-log prefix: {@link versionStoreAccess}; under IRSA
 * that ServiceAccount carries its own role's ARN) and `<name>-objects` (per version ServiceAccount,
 * Deployment, Service, PDB and autoscaler; the endpoint Service, route, NetworkPolicy and monitoring
 * — or the KServe InferenceService — exactly as `cdk8s synth` writes them).
 */
export class ModelEndpoint extends pulumi.ComponentResource {
  /** The cdk8s endpoint, built in memory. */
  public readonly endpoint: Cdk8sModelEndpoint;
  /** The roles of the versions that touch the bucket, by version name. */
  public readonly identities: Readonly<Record<string, WorkloadIdentity>>;
  /** The Kubernetes objects. */
  public readonly objects: KubernetesObjects;
  /** Namespace of the objects. */
  public readonly namespace: string;
  /** In-cluster URL of the stable version. */
  public readonly url: string;

  constructor(name: string, args: ModelEndpointArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:ModelEndpoint', name, {}, opts);
    const issues = new Issues(`ModelEndpoint "${name}"`);
    const platform = checkPlatform(issues, args.platform);
    issues.throwIfAny();
    const { platform: _platform, readGrants, ...props } = args;
    const store = platform!.context.store;
    // The MlPlatform instance, not its context: the endpoint then takes the platform's version table.
    const built = buildWorkload(platform!, issues, `${name}-model-endpoint`, (chart) => {
      const e = new Cdk8sModelEndpoint(chart, name, { ...props, platform: platform!.platform });
      for (const location of readGrants ?? []) location.grantRead(e);
      e.spec.versions.forEach((v, i) => checkPrefixes(issues, `versions[${i}]`, versionStoreAccess(v, store)));
      return e;
    });
    issues.throwIfAny();
    const { chart, construct: endpoint } = built!;
    const versions = endpoint.spec.versions.map((v) => ({ v, access: versionStoreAccess(v, store) }));

    this.endpoint = endpoint;
    this.namespace = endpoint.spec.namespace;
    this.url = endpoint.url;
    const identities: Record<string, WorkloadIdentity> = {};
    for (const { v, access } of versions) {
      const serviceAccount = { namespace: this.namespace, name: v.objectName };
      const identity = serviceAccountRole(platform!, chart, `${name}-${v.name}-identity`, serviceAccount, access, { parent: this });
      if (identity) identities[v.name] = identity;
    }
    this.identities = identities;
    this.objects = platform!.deploy(`${name}-objects`, chart, { parent: this }, Object.values(identities));
    this.registerOutputs({ url: this.url, namespace: this.namespace });
  }
}

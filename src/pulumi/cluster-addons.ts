import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { AddonName, addonValues, AddonValuesInput, ChartRef, VERSIONS, VersionTable } from '../core';
import { CloudValues } from './cloud-values';

/**
 * The `helm.v3.Release` arguments that install `chart` (release name = chart name, as the GitOps
 * deliveries of the cdk8s side name it): HTTP repositories through `repositoryOpts.repo`, OCI charts
 * as `oci://<registry>/<path>/<chart>`; the namespace is created; a failed install or upgrade is
 * rolled back (`atomic`, `cleanupOnFail`); Helm waits for the release's workloads (15 minutes).
 */
export function helmReleaseArgs(chart: ChartRef, values: pulumi.Input<Record<string, unknown>>): k8s.helm.v3.ReleaseArgs {
  const repo = chart.repoUrl.replace(/\/+$/, '');
  const oci = repo.startsWith('oci://');
  return {
    name: chart.chart,
    chart: oci ? `${repo}/${chart.chart}` : chart.chart,
    ...(oci ? {} : { repositoryOpts: { repo } }),
    version: chart.version,
    namespace: chart.namespace,
    createNamespace: true,
    atomic: true,
    cleanupOnFail: true,
    timeout: 900,
    maxHistory: 10,
    values: values as pulumi.Input<Record<string, any>>,
  };
}

/** Add-ons that must be installed after others (their charts create objects of the others' CRDs). */
const DEPENDS_ON: Partial<Record<AddonName, readonly AddonName[]>> = { kserve: ['kserveCrd'] };

/** Arguments of {@link ClusterAddons}. */
export interface ClusterAddonsArgs {
  /** The add-ons to install. */
  readonly addons: Iterable<AddonName>;
  /** What their values depend on (the same input the cdk8s side gives `addonValues`); may hold cloud value placeholders. */
  readonly values: AddonValuesInput;
  /** The charts. @default VERSIONS */
  readonly versions?: VersionTable;
  /** Substitutes the placeholders the values mention. @default none */
  readonly cloudValues?: CloudValues;
  /** The cluster's Kubernetes provider. */
  readonly provider?: pulumi.ProviderResource;
}

/**
 * The platform's cluster add-ons as Helm releases (`mlplatform:index:ClusterAddons`): one
 * `kubernetes.helm.v3.Release` per add-on, `<name>-<chart>`, from the same pinned chart table
 * (`VERSIONS.charts`) and the same values function (`addonValues`) as the Argo CD and Flux
 * deliveries of the cdk8s side. KServe waits for its CRD release.
 *
 * Why `helm.v3.Release` rather than `helm.v4.Chart`: a Release is a real Helm release — chart hooks
 * run (cert-manager's start-up check, Argo Workflows' CRD handling), `helm list`/`helm rollback` work
 * for the people on call, and an install that fails is rolled back atomically. v4 `Chart` renders the
 * templates into individual resources, which Pulumi previews in detail but which skips hooks and is
 * no longer a Helm release to operate.
 */
export class ClusterAddons extends pulumi.ComponentResource {
  /** The releases, by add-on. */
  public readonly releases: Readonly<Partial<Record<AddonName, k8s.helm.v3.Release>>>;

  constructor(name: string, args: ClusterAddonsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:ClusterAddons', name, {}, opts);
    const versions = args.versions ?? VERSIONS;
    const wanted = [...new Set(args.addons)];
    // Dependencies first, so their releases exist when the dependents are declared.
    const ordered = [...wanted].sort((a, b) => Number((DEPENDS_ON[a] ?? []).includes(b)) - Number((DEPENDS_ON[b] ?? []).includes(a)));
    const releases: Partial<Record<AddonName, k8s.helm.v3.Release>> = {};
    for (const addon of ordered) {
      const chart = versions.charts[addon];
      const values = addonValues(addon, args.values);
      const dependsOn = (DEPENDS_ON[addon] ?? []).map((d) => releases[d]).filter((r): r is k8s.helm.v3.Release => r !== undefined);
      releases[addon] = new k8s.helm.v3.Release(`${name}-${chart.chart}`, helmReleaseArgs(chart, args.cloudValues ? args.cloudValues.resolve(values) : values), {
        parent: this,
        provider: args.provider,
        dependsOn,
      });
    }
    this.releases = releases;
    this.registerOutputs({});
  }
}

import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { K8sObject } from './object';
import { dnsLabel } from '../../core/names';
import { AddonDeliverySpec } from '../../core/platform/addons';
import { AddonName, ChartRef } from '../../core/versions';

/** One add-on to deliver: its pinned chart and its Helm values, computed at synth time. */
export interface AddonRelease {
  /** Which add-on. */
  readonly name: AddonName;
  /** The pinned chart. */
  readonly chart: ChartRef;
  /** Its Helm values; called when the chart is synthesized, so later mutations show up. */
  readonly values: () => Record<string, unknown>;
}

/** Add-ons that must be installed after others (their charts create objects of the others' CRDs). */
const DEPENDS_ON: Partial<Record<AddonName, readonly AddonName[]>> = { kserve: ['kserveCrd'] };

/**
 * Emits the GitOps objects that install `addons` under `scope`; names are the chart names
 * (`argo-workflows`, `kserve-resources`, …).
 *
 * - `argocd`: one `Application` (argoproj.io/v1alpha1) per add-on in `delivery.namespace`: the
 *   pinned chart, `helm.releaseName` = chart name, `helm.valuesObject`, the chart's namespace as
 *   destination, automated sync with prune and self-heal, `CreateNamespace=true` and
 *   `ServerSideApply=true` (large CRDs exceed the client-side apply annotation limit), and retries
 *   with backoff (a tenant namespace may not exist yet on the first sync). Helm repositories use
 *   `repoURL` + `chart`; OCI charts use Argo CD's native OCI source (≥ 3.1):
 *   `repoURL: oci://<registry>/<path>/<chart>` with `path: .` (argo-cd docs, user-guide/oci).
 *   No `resources-finalizer.argocd.argoproj.io`: deleting an Application (for instance when an add-on
 *   is switched off, or when an app-of-apps prunes it) then leaves the add-on running instead of
 *   cascading into its CRDs and every Workflow, Certificate or ScaledObject users created. Remove
 *   an add-on with `argocd app delete --cascade`. Add-ons that depend on others get a later
 *   `argocd.argoproj.io/sync-wave`.
 * - `flux`: one `HelmRepository` (source.toolkit.fluxcd.io/v1, `type: oci` for `oci://` URLs)
 *   per distinct repository and one `HelmRelease` (helm.toolkit.fluxcd.io/v2) per add-on with
 *   `targetNamespace`, `releaseName` = chart name (Flux would otherwise prefix the namespace),
 *   namespace creation, CRDs created and replaced on install and upgrade, and `dependsOn` for
 *   add-ons that need another's CRDs (kserve after kserve-crd).
 * - `preinstalled`: nothing.
 *
 * Docker Hub OCI URLs (`oci://docker.io/…`) are rewritten to the registry API host
 * `registry-1.docker.io`, which OCI clients reach without Docker's own host mapping.
 */
export function renderAddons(scope: Construct, delivery: AddonDeliverySpec, addons: readonly AddonRelease[]): void {
  if (delivery.kind === 'preinstalled' || addons.length === 0) return;
  if (delivery.kind === 'argocd') {
    for (const addon of addons) argoCdApplication(scope, delivery, addon, addons);
    return;
  }
  const repositories = new Map<string, string>();
  for (const addon of addons) {
    const url = registryUrl(addon.chart.repoUrl);
    if (repositories.has(url)) continue;
    const name = helmRepositoryName(url);
    repositories.set(url, name);
    new K8sObject(scope, `helm-repository-${name}`, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmRepository',
      metadata: { name, namespace: delivery.namespace },
      spec: { url, ...(isOci(url) ? { type: 'oci' } : {}), interval: '60m' },
    });
  }
  for (const addon of addons) {
    const name = addon.chart.chart;
    const dependsOn = dependencies(addon, addons).map((d) => ({ name: d.chart.chart }));
    new K8sObject(scope, `helm-release-${name}`, {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name, namespace: delivery.namespace },
      spec: {
        interval: `${delivery.intervalMinutes}m`,
        releaseName: name,
        targetNamespace: addon.chart.namespace,
        chart: {
          spec: {
            chart: addon.chart.chart,
            version: addon.chart.version,
            sourceRef: { kind: 'HelmRepository', name: repositories.get(registryUrl(addon.chart.repoUrl))! },
          },
        },
        ...(dependsOn.length ? { dependsOn } : {}),
        install: { createNamespace: true, crds: 'CreateReplace' },
        upgrade: { crds: 'CreateReplace' },
        values: Lazy.any({ produce: () => addon.values() }),
      },
    });
  }
}

function argoCdApplication(scope: Construct, delivery: Extract<AddonDeliverySpec, { kind: 'argocd' }>, addon: AddonRelease, all: readonly AddonRelease[]): K8sObject {
  const { chart } = addon;
  const url = registryUrl(chart.repoUrl);
  const helm = {
    releaseName: chart.chart,
    valuesObject: Lazy.any({
      produce: () => {
        const values = addon.values();
        return Object.keys(values).length > 0 ? values : undefined;
      },
    }),
  };
  const source = isOci(url)
    ? { repoURL: `${url}/${chart.chart}`, path: '.', targetRevision: chart.version, helm }
    : { repoURL: url, chart: chart.chart, targetRevision: chart.version, helm };
  const wave = dependencies(addon, all).length > 0 ? { annotations: { 'argocd.argoproj.io/sync-wave': '1' } } : {};
  return new K8sObject(scope, `application-${chart.chart}`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: chart.chart, namespace: delivery.namespace, ...wave },
    spec: {
      project: delivery.project,
      source,
      destination: { server: delivery.destinationServer, namespace: chart.namespace },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
        retry: { limit: 10, backoff: { duration: '15s', factor: 2, maxDuration: '5m' } },
      },
    },
  });
}

/** The add-ons among `all` that `addon` must be installed after. */
function dependencies(addon: AddonRelease, all: readonly AddonRelease[]): AddonRelease[] {
  const needs = DEPENDS_ON[addon.name] ?? [];
  return all.filter((a) => needs.includes(a.name));
}

function isOci(url: string): boolean {
  return url.startsWith('oci://');
}

/** The repository URL without trailing slashes, Docker Hub's OCI host replaced by its API host. */
function registryUrl(repoUrl: string): string {
  return repoUrl.replace(/\/+$/, '').replace(/^oci:\/\/docker\.io\//, 'oci://registry-1.docker.io/');
}

/** A readable, stable HelmRepository name from its URL, e.g. `argoproj-github-io-argo-helm`. */
export function helmRepositoryName(url: string): string {
  const rest = url.replace(/^[a-z]+:\/\//, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return dnsLabel(rest);
}

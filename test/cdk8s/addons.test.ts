import { Chart, Testing } from 'cdk8s';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { AddonRelease, helmRepositoryName, renderAddons } from '../../src/cdk8s/private/addons';
import { Issues } from '../../src/core/errors';
import { addonValues, AddonValuesInput } from '../../src/core/platform/addon-values';
import { AddonDelivery, AddonDeliverySpec, checkAddonValues } from '../../src/core/platform/addons';
import { GpuPoolSpec, resolveGpuPool } from '../../src/core/platform/pools';
import { AddonName, VERSIONS } from '../../src/core/versions';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

function delivery(d: AddonDelivery): AddonDeliverySpec {
  const issues = new Issues('test');
  const spec = d._resolve(issues, 'addons.delivery');
  expect(issues.all).toEqual([]);
  return spec;
}

const ARGOCD = delivery(AddonDelivery.argoCd());
const FLUX = delivery(AddonDelivery.flux({ intervalMinutes: 15 }));

/** A mutable platform model: pools and tenants are added after the add-ons are rendered. */
function model() {
  const pools: GpuPoolSpec[] = [];
  const tenants: string[] = [];
  const input = (): AddonValuesInput => ({ ...baseInput(), tenantNamespaces: tenants, pools });
  const addons = (names: readonly AddonName[]): AddonRelease[] =>
    names.map((name) => ({ name, chart: VERSIONS.charts[name], values: () => addonValues(name, input()) }));
  return { pools, tenants, addons };
}

const ALL = Object.keys(VERSIONS.charts) as AddonName[];

function render(d: AddonDeliverySpec, names: readonly AddonName[] = ALL, after?: (m: ReturnType<typeof model>) => void): K8sObject[] {
  const m = model();
  return synthChart((chart) => {
    renderAddons(chart, d, m.addons(names));
    after?.(m);
  }).objects;
}

describe('renderAddons: Argo CD', () => {
  const objects = render(ARGOCD);

  test('one Application per add-on, named after its chart, in the Argo CD namespace', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'Application/argocd/argo-workflows',
      'Application/argocd/cert-manager',
      'Application/argocd/gateway-helm',
      'Application/argocd/keda',
      'Application/argocd/kserve-crd',
      'Application/argocd/kserve-resources',
      'Application/argocd/kueue',
      'Application/argocd/nvidia-device-plugin',
    ]);
  });

  test('a Helm repository chart: repoURL + chart + targetRevision, values object, automated sync', () => {
    const app = find(objects, 'argoproj.io/v1alpha1/Application', 'argo-workflows', 'argocd');
    expect(app.metadata.finalizers).toBeUndefined();
    expect(app.metadata.annotations).toBeUndefined();
    expect(app.spec).toEqual({
      project: 'default',
      source: {
        repoURL: 'https://argoproj.github.io/argo-helm',
        chart: 'argo-workflows',
        targetRevision: '1.0.18',
        helm: { releaseName: 'argo-workflows', valuesObject: addonValues('argoWorkflows', baseInput()) },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'argo' },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
        retry: { limit: 10, backoff: { duration: '15s', factor: 2, maxDuration: '5m' } },
      },
    });
  });

  test('an OCI chart: native OCI source (repoURL with the chart, path ".")', () => {
    const app = find(objects, 'Application', 'cert-manager');
    expect(app.spec.source).toEqual({
      repoURL: 'oci://quay.io/jetstack/charts/cert-manager',
      path: '.',
      targetRevision: 'v1.21.1',
      helm: { releaseName: 'cert-manager', valuesObject: expect.objectContaining({ crds: { enabled: true, keep: true } }) },
    });
    expect(app.spec.source).not.toHaveProperty('chart');
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'cert-manager' });
  });

  test('Docker Hub OCI charts go to the registry API host', () => {
    expect(find(objects, 'Application', 'gateway-helm').spec.source).toMatchObject({
      repoURL: 'oci://registry-1.docker.io/envoyproxy/gateway-helm', path: '.', targetRevision: 'v1.9.0',
    });
  });

  test('an add-on without values gets no valuesObject; kserve syncs in a later wave than kserve-crd', () => {
    const crd = find(objects, 'Application', 'kserve-crd');
    expect(crd.spec.source.helm).toEqual({ releaseName: 'kserve-crd' });
    expect(crd.metadata.annotations).toBeUndefined();
    expect(find(objects, 'Application', 'kserve-resources').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '1' });
  });

  test('project, namespace and destination follow the delivery options', () => {
    const objs = render(delivery(AddonDelivery.argoCd({ namespace: 'gitops', project: 'platform', destinationServer: 'https://10.0.0.1:6443' })), ['keda']);
    const app = find(objs, 'Application', 'keda', 'gitops');
    expect(app.spec.project).toBe('platform');
    expect(app.spec.destination).toEqual({ server: 'https://10.0.0.1:6443', namespace: 'keda' });
  });

  test('kserve alone gets no sync wave (its dependency is not delivered here)', () => {
    expect(find(render(ARGOCD, ['kserve']), 'Application', 'kserve-resources').metadata.annotations).toBeUndefined();
  });

  test('every Application validates strictly against the Argo CD CRD', () => {
    expectValidManifests(objects, { pss: false });
  });
});

describe('renderAddons: Flux', () => {
  const objects = render(FLUX);

  test('one HelmRepository per distinct repository, type oci for oci:// URLs', () => {
    const repos = findAll(objects, 'source.toolkit.fluxcd.io/v1/HelmRepository');
    expect(repos.map((r) => ({ name: r.metadata.name, namespace: r.metadata.namespace, spec: r.spec }))).toEqual([
      { name: 'argoproj-github-io-argo-helm', namespace: 'flux-system', spec: { url: 'https://argoproj.github.io/argo-helm', interval: '60m' } },
      { name: 'nvidia-github-io-k8s-device-plugin', namespace: 'flux-system', spec: { url: 'https://nvidia.github.io/k8s-device-plugin', interval: '60m' } },
      { name: 'kedacore-github-io-charts', namespace: 'flux-system', spec: { url: 'https://kedacore.github.io/charts', interval: '60m' } },
      { name: 'registry-k8s-io-kueue-charts', namespace: 'flux-system', spec: { url: 'oci://registry.k8s.io/kueue/charts', type: 'oci', interval: '60m' } },
      { name: 'quay-io-jetstack-charts', namespace: 'flux-system', spec: { url: 'oci://quay.io/jetstack/charts', type: 'oci', interval: '60m' } },
      { name: 'registry-1-docker-io-envoyproxy', namespace: 'flux-system', spec: { url: 'oci://registry-1.docker.io/envoyproxy', type: 'oci', interval: '60m' } },
      { name: 'ghcr-io-kserve-charts', namespace: 'flux-system', spec: { url: 'oci://ghcr.io/kserve/charts', type: 'oci', interval: '60m' } },
    ]);
  });

  test('a HelmRelease per add-on with the pinned chart, target namespace, CRD policy and values', () => {
    const hr = find(objects, 'helm.toolkit.fluxcd.io/v2/HelmRelease', 'cert-manager', 'flux-system');
    expect(hr.spec).toEqual({
      interval: '15m',
      releaseName: 'cert-manager',
      targetNamespace: 'cert-manager',
      chart: { spec: { chart: 'cert-manager', version: 'v1.21.1', sourceRef: { kind: 'HelmRepository', name: 'quay-io-jetstack-charts' } } },
      install: { createNamespace: true, crds: 'CreateReplace' },
      upgrade: { crds: 'CreateReplace' },
      values: addonValues('certManager', baseInput()),
    });
    expect(findAll(objects, 'HelmRelease').map((o) => o.metadata.name).sort()).toEqual(ALL.map((n) => VERSIONS.charts[n].chart).sort());
  });

  test('kserve depends on kserve-crd; both share one HelmRepository', () => {
    const kserve = find(objects, 'HelmRelease', 'kserve-resources');
    const crd = find(objects, 'HelmRelease', 'kserve-crd');
    expect(kserve.spec.dependsOn).toEqual([{ name: 'kserve-crd' }]);
    expect(crd.spec.dependsOn).toBeUndefined();
    expect(kserve.spec.chart.spec.sourceRef).toEqual(crd.spec.chart.spec.sourceRef);
    expect(crd.spec.values).toEqual({});
  });

  test('every object validates strictly against the Flux CRDs', () => {
    expectValidManifests(objects, { pss: false });
  });
});

describe('renderAddons: laziness and pre-installed add-ons', () => {
  test.each([['argocd', ARGOCD], ['flux', FLUX]] as const)('%s: pools and tenants added after rendering show up in the values', (_, d) => {
    const objects = render(d, ['argoWorkflows', 'nvidiaDevicePlugin'], (m) => {
      m.tenants.push('team-a');
      m.pools.push(gpuPool());
    });
    const values = (name: string) => {
      const o = d.kind === 'argocd' ? find(objects, 'Application', name) : find(objects, 'HelmRelease', name);
      return d.kind === 'argocd' ? o.spec.source.helm.valuesObject : o.spec.values;
    };
    expect(values('argo-workflows').controller.workflowNamespaces).toEqual(['team-a', 'mlplatform']);
    expect(Object.keys(values('nvidia-device-plugin').config.map)).toEqual(['default', 'mlplatform-time-sliced-2']);
  });

  test('pre-installed: nothing is emitted', () => {
    expect(render(delivery(AddonDelivery.preInstalled()))).toEqual([]);
  });
});

describe('helmRepositoryName', () => {
  test.each([
    ['https://argoproj.github.io/argo-helm', 'argoproj-github-io-argo-helm'],
    ['oci://ghcr.io/kserve/charts', 'ghcr-io-kserve-charts'],
  ])('%s → %s', (url, name) => {
    expect(helmRepositoryName(url)).toBe(name);
  });

  test('long URLs stay DNS labels', () => {
    const name = helmRepositoryName(`https://charts.example.com/${'very-long-segment/'.repeat(6)}`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

function baseInput(): AddonValuesInput {
  return {
    platformNamespace: 'mlplatform',
    tenantNamespaces: [],
    store: {
      bucket: 'mlplatform',
      prefix: '',
      region: 'us-east-1',
      endpoint: 'http://ml-store.mlplatform.svc:8333',
      insecure: true,
      credentials: { name: 'ml-store-credentials', keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } },
    },
    pools: [],
    gatewayApi: true,
  };
}

function gpuPool(): GpuPoolSpec {
  const issues = new Issues('test');
  const p = resolveGpuPool(issues, 'pools.l4', 'l4', { accelerator: 'nvidia-l4', maxNodes: 2, sharing: { timeSlicing: { replicas: 2 } } });
  expect(issues.all).toEqual([]);
  return p!;
}

describe('addons.values', () => {
  test('every key names an add-on and every value is an object of Helm values (a typo would vanish silently in Helm)', () => {
    const e = validationError(() => new MlPlatform(new Chart(Testing.app(), 'c'), 'ml', {
      addons: { values: { argoWorkflow: { server: { enabled: true } }, keda: 'yes', kueue: [] } as any },
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['addons.values.argoWorkflow', 'addons.values.keda', 'addons.values.kueue']);
    expect(e.message).toContain('`addons.values.argoWorkflow` ("argoWorkflow"): is not an add-on; use one of argoWorkflows, certManager, envoyGateway, keda, kserve, kserveCrd, kueue, nvidiaDevicePlugin');
    expect(e.message).toContain('`addons.values.keda` ("yes"): must be an object of Helm values (nested keys of the chart\'s values.yaml)');
    const issues = new Issues('t');
    checkAddonValues(issues, 'addons.values', ['x']);
    expect(issues.all.map((i) => i.path)).toEqual(['addons.values']);
  });
});

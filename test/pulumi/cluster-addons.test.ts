import * as pulumi from '@pulumi/pulumi';
import { addonValues, AddonValuesInput, VERSIONS } from '../../src/core';
import { CloudValues } from '../../src/pulumi/cloud-values';
import { ClusterAddons, helmReleaseArgs } from '../../src/pulumi/cluster-addons';
import { PulumiMocks } from '../support/pulumi-mocks';

const mocks = PulumiMocks.install();

const INPUT: AddonValuesInput = {
  platformNamespace: 'mlplatform',
  tenantNamespaces: ['vision'],
  store: { bucket: 'acme-ml', prefix: '', region: 'us-east-1', insecure: false, serviceAccountAnnotations: { 'mlplatform.io/aws-identity': 'eks-pod-identity' } },
  pools: [],
  gatewayApi: true,
};

describe('helmReleaseArgs', () => {
  test('HTTP repositories go through repositoryOpts; OCI charts are one oci:// reference', () => {
    expect(helmReleaseArgs(VERSIONS.charts.argoWorkflows, { a: 1 })).toEqual({
      name: 'argo-workflows',
      chart: 'argo-workflows',
      repositoryOpts: { repo: 'https://argoproj.github.io/argo-helm' },
      version: '1.0.18',
      namespace: 'argo',
      createNamespace: true,
      atomic: true,
      cleanupOnFail: true,
      timeout: 900,
      maxHistory: 10,
      values: { a: 1 },
    });
    const cm = helmReleaseArgs(VERSIONS.charts.certManager, {});
    expect(cm.chart).toBe('oci://quay.io/jetstack/charts/cert-manager');
    expect(cm.repositoryOpts).toBeUndefined();
    expect(cm.version).toBe('v1.21.1');
  });
});

describe('ClusterAddons', () => {
  test('one Helm release per add-on, with the same values the GitOps deliveries carry, parented to the component', async () => {
    new ClusterAddons('ml-addons', { addons: ['argoWorkflows', 'certManager', 'kserve', 'kserveCrd'], values: INPUT });
    const root = await mocks.one('mlplatform:index:ClusterAddons', 'ml-addons');
    const releases = await mocks.childrenOf(root.urn);
    expect(releases.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      'kubernetes:helm.sh/v3:Release ml-addons-argo-workflows',
      'kubernetes:helm.sh/v3:Release ml-addons-cert-manager',
      'kubernetes:helm.sh/v3:Release ml-addons-kserve-crd',
      'kubernetes:helm.sh/v3:Release ml-addons-kserve-resources',
    ]);
    for (const [addon, name] of [['argoWorkflows', 'argo-workflows'], ['certManager', 'cert-manager'], ['kserve', 'kserve-resources']] as const) {
      expect(releases.find((r) => r.name === `ml-addons-${name}`)!.inputs.values).toEqual(addonValues(addon, INPUT));
    }
    const kserve = releases.find((r) => r.name === 'ml-addons-kserve-resources')!;
    expect(kserve.options.dependencies.map((u) => u.split('::').pop())).toEqual(['ml-addons-kserve-crd']);
  });

  test('cloud value placeholders in the values are substituted', async () => {
    const values = new CloudValues();
    const bucket = values.add('bucket', pulumi.output('acme-real-bucket'));
    new ClusterAddons('cv', { addons: ['argoWorkflows'], values: { ...INPUT, store: { ...INPUT.store, bucket } }, cloudValues: values });
    const release = await mocks.one('kubernetes:helm.sh/v3:Release', 'cv-argo-workflows');
    expect(release.inputs.values.artifactRepository.s3.bucket).toBe('acme-real-bucket');
    expect(release.inputs.values).toEqual(addonValues('argoWorkflows', { ...INPUT, store: { ...INPUT.store, bucket: 'acme-real-bucket' } }));
  });
});

import { ApiObject } from 'cdk8s';
import { KubernetesObjects, kubernetesTypeToken } from '../../src/pulumi';
import { PulumiMocks } from '../support/pulumi-mocks';
import { synthChart } from '../support/synth';

// Mocks must be installed before any resource is constructed (imports only load classes).
const mocks = PulumiMocks.install();

describe('KubernetesObjects', () => {
  test('type tokens follow @pulumi/kubernetes: core group is core/v1', () => {
    expect(kubernetesTypeToken('v1', 'ConfigMap')).toBe('kubernetes:core/v1:ConfigMap');
    expect(kubernetesTypeToken('apps/v1', 'Deployment')).toBe('kubernetes:apps/v1:Deployment');
    expect(kubernetesTypeToken('argoproj.io/v1alpha1', 'WorkflowTemplate')).toBe('kubernetes:argoproj.io/v1alpha1:WorkflowTemplate');
  });

  test('creates one resource per synthesized object, parented to the component, with the exact object as inputs', async () => {
    const { objects } = synthChart((chart) => {
      new ApiObject(chart, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'ml' }, data: { a: '1' } } as any);
      new ApiObject(chart, 'ns', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    });
    const component = new KubernetesObjects('ml', { objects: objects as any });
    const all = await mocks.resources();
    const root = await mocks.one('mlplatform:index:KubernetesObjects', 'ml');
    expect(root.custom).toBe(false);
    const children = await mocks.childrenOf(root.urn);
    expect(children.map((c) => [c.type, c.name]).sort()).toEqual([
      ['kubernetes:core/v1:ConfigMap', 'ml-configmap-ml-settings'],
      ['kubernetes:core/v1:Namespace', 'ml-namespace-ml'],
    ]);
    // Parity: what Pulumi is asked to create is exactly what cdk8s synthesized.
    const cm = children.find((c) => c.type === 'kubernetes:core/v1:ConfigMap')!;
    expect(cm.inputs).toEqual(objects.find((o) => o.kind === 'ConfigMap'));
    expect(Object.keys(component.resources).sort()).toEqual(['ConfigMap/ml/settings', 'Namespace/ml']);
    expect(all.filter((r) => r.type.startsWith('kubernetes:')).every((r) => r.parent === root.urn)).toBe(true);
  });
});

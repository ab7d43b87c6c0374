import * as pulumi from '@pulumi/pulumi';
import { installAwsMocks, testCluster } from './aws-fixtures';
import { Size } from '../../src/core';
import { GpuNodePool } from '../../src/pulumi/gpu-node-pool';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';

const mocks = installAwsMocks();

async function objectsOf(component: string): Promise<any[]> {
  const objects = await mocks.one('mlplatform:index:KubernetesObjects', `${component}-objects`);
  return (await mocks.childrenOf(objects.urn)).map((c) => c.inputs);
}

describe('GpuNodePool: Karpenter', () => {
  test('a NodePool + EC2NodeClass pair: requirements, labels, taints, limits, consolidation, pinned AMI, IMDSv2', async () => {
    new GpuNodePool('ml-pool-a10g', {
      pool: { name: 'a10g', accelerator: 'nvidia-a10g', gpusPerNode: 4, maxNodes: 3, capacityType: 'spot' },
      cluster: testCluster({ name: pulumi.output('ml-cluster') }),
      nodes: NodeProvisioning.karpenter({ nodeRole: pulumi.output('KarpenterNodeRole-ml') }),
    });
    const objs = await objectsOf('ml-pool-a10g');
    expectValidManifests(objs, { pss: false });
    const nodeClass = objs.find((o) => o.kind === 'EC2NodeClass');
    expect(nodeClass).toEqual({
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: 'a10g', labels: { 'app.kubernetes.io/managed-by': 'mlplatform', 'mlplatform.io/gpu-pool': 'a10g' } },
      spec: {
        role: 'KarpenterNodeRole-ml',
        amiSelectorTerms: [{ alias: 'al2023@v20260818' }],
        subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'ml-cluster' } }],
        securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'ml-cluster' } }],
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, httpProtocolIPv6: 'disabled' },
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: '100Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }],
        tags: { 'mlplatform.io/gpu-pool': 'a10g' },
      },
    });
    const nodePool = objs.find((o) => o.kind === 'NodePool');
    expect(nodePool.spec).toEqual({
      template: {
        metadata: {
          labels: {
            'mlplatform.io/accelerator': 'nvidia-a10g',
            'mlplatform.io/gpu-pool': 'a10g',
            'mlplatform.io/capacity-type': 'spot',
            'nvidia.com/device-plugin.config': 'mlplatform-whole-gpu',
          },
        },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'a10g' },
          requirements: [
            { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['g5.12xlarge'] },
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          ],
          taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
          expireAfter: '720h',
          terminationGracePeriod: '24h',
        },
      },
      limits: { 'nvidia.com/gpu': '12', 'cpu': '144', 'memory': '576Gi' },
      disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m', budgets: [{ nodes: '10%' }] },
    });
    const root = await mocks.one('mlplatform:index:GpuNodePool', 'ml-pool-a10g');
    const objects = await mocks.one('mlplatform:index:KubernetesObjects', 'ml-pool-a10g-objects');
    expect(objects.parent).toBe(root.urn);
    expect((await mocks.ofType('aws:eks/nodeGroup:NodeGroup')).map((r) => r.name)).not.toContain('ml-pool-a10g-node-group');
  });

  test('Bottlerocket, explicit selectors, consolidation and budget options', async () => {
    new GpuNodePool('br', {
      pool: { name: 'l40s', accelerator: 'nvidia-l40s', maxNodes: 2, diskSize: Size.gibibytes(300) },
      cluster: testCluster(),
      nodes: NodeProvisioning.karpenter({
        nodeRole: 'KarpenterNodeRole-ml',
        amiFamily: 'bottlerocket',
        subnetSelectorTerms: [{ id: 'subnet-0a' }, { id: 'subnet-0b' }],
        securityGroupSelectorTerms: [{ tags: { 'aws:eks:cluster-name': pulumi.output('ml-cluster') } }],
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: '15m',
        disruptionBudget: '1',
        expireAfter: 'Never',
      }),
    });
    const objs = await objectsOf('br');
    expectValidManifests(objs, { pss: false });
    const nodeClass = objs.find((o) => o.kind === 'EC2NodeClass');
    expect(nodeClass.spec.amiSelectorTerms).toEqual([{ alias: 'bottlerocket@v1.53.0' }]);
    expect(nodeClass.spec.subnetSelectorTerms).toEqual([{ id: 'subnet-0a' }, { id: 'subnet-0b' }]);
    expect(nodeClass.spec.securityGroupSelectorTerms).toEqual([{ tags: { 'aws:eks:cluster-name': 'ml-cluster' } }]);
    expect(nodeClass.spec.blockDeviceMappings[0]).toEqual({ deviceName: '/dev/xvdb', ebs: { volumeSize: '300Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } });
    const nodePool = objs.find((o) => o.kind === 'NodePool');
    expect(nodePool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '15m', budgets: [{ nodes: '1' }] });
    expect(nodePool.spec.template.spec.requirements[1]).toEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] });
  });

  test('a Karpenter pool without a node role is a ValidationError naming the arg path', () => {
    const e = validationError(() => new GpuNodePool('no-role', {
      pool: { name: 'a10g', accelerator: 'nvidia-a10g', maxNodes: 2 },
      cluster: testCluster(),
      nodes: NodeProvisioning.karpenter({}),
    }));
    expect(e.message).toBe([
      'GpuNodePool "no-role": 1 invalid prop',
      '  - `nodes.nodeRole` (undefined): is required for a Karpenter pool: the name of the IAM role its nodes run as',
    ].join('\n'));
  });

  test('Karpenter refuses a warm minimum, MIG pools, floating AMIs and bad durations', () => {
    const e = validationError(() => new GpuNodePool('mig', {
      pool: { name: 'a100-mig', accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, minNodes: 1, maxNodes: 2, sharing: { mig: '1g.10gb' } },
      cluster: testCluster(),
      nodes: NodeProvisioning.karpenter({ nodeRole: 'r', amiAlias: 'al2023@latest', consolidateAfter: '5 minutes' }),
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['pool.minNodes', 'pool.sharing', 'nodes.consolidateAfter', 'nodes.amiAlias']);
    expect(e.issues[1].message).toBe('Karpenter cannot provision for nvidia.com/mig-1g.10gb (it learns MIG resources only after a node boots); use NodeProvisioning.managedNodeGroup with minNodes ≥ 1');
  });
});

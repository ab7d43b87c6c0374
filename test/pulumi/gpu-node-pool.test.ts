import * as pulumi from '@pulumi/pulumi';
import { installAwsMocks, testCluster } from './aws-fixtures';
import { Issues, resolveGpuPool, Size } from '../../src/core';
import { GpuNodePool } from '../../src/pulumi/gpu-node-pool';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { validationError } from '../support/errors';

const mocks = installAwsMocks();
const NODE_ROLE = 'arn:aws:iam::123456789012:role/gpu-nodes';

describe('GpuNodePool: EKS managed node group', () => {
  test('NVIDIA AMI, the pool\'s instance type, labels and taints, scaling from 0, spot, IMDSv2 launch template', async () => {
    const pool = new GpuNodePool('ml-pool-a10g', {
      pool: { name: 'a10g', accelerator: 'nvidia-a10g', maxNodes: 8, capacityType: 'spot' },
      cluster: testCluster(),
      nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE }),
    });
    const ng = await mocks.one('aws:eks/nodeGroup:NodeGroup', 'ml-pool-a10g-node-group');
    expect(ng.inputs).toEqual({
      clusterName: 'ml-cluster',
      nodeRoleArn: NODE_ROLE,
      subnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
      amiType: 'AL2023_x86_64_NVIDIA',
      capacityType: 'SPOT',
      instanceTypes: ['g5.xlarge'],
      scalingConfig: { minSize: 0, maxSize: 8, desiredSize: 0 },
      labels: {
        'mlplatform.io/accelerator': 'nvidia-a10g',
        'mlplatform.io/gpu-pool': 'a10g',
        'mlplatform.io/capacity-type': 'spot',
        'nvidia.com/device-plugin.config': 'mlplatform-whole-gpu',
      },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
      launchTemplate: { id: 'ml-pool-a10g-launch-template-id', version: '1' },
      updateConfig: { maxUnavailable: 1 },
      tags: { 'mlplatform.io/gpu-pool': 'a10g' },
    });
    // The labels and taints are exactly the ones workloads select and tolerate.
    expect(ng.inputs.labels).toEqual(pool.spec.labels);
    expect(ng.options.ignoreChanges).toEqual(['scalingConfig.desiredSize']);

    const lt = await mocks.one('aws:ec2/launchTemplate:LaunchTemplate', 'ml-pool-a10g-launch-template');
    expect(lt.inputs.metadataOptions).toEqual({ httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' });
    expect(lt.inputs.blockDeviceMappings).toEqual([{ deviceName: '/dev/xvda', ebs: { volumeSize: 100, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } }]);
    expect(lt.inputs.imageId).toBeUndefined();

    const root = await mocks.one('mlplatform:index:GpuNodePool', 'ml-pool-a10g');
    expect((await mocks.childrenOf(root.urn)).map((c) => c.name).sort()).toEqual(['ml-pool-a10g-launch-template', 'ml-pool-a10g-node-group']);
  });

  test('a spec from the platform, Bottlerocket NVIDIA, pinned release, warm minimum, on-demand', async () => {
    const issues = new Issues('t');
    const spec = resolveGpuPool(issues, 'p', 'h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', minNodes: 1, maxNodes: 2, diskSize: Size.gibibytes(500) })!;
    new GpuNodePool('h100', {
      pool: spec,
      cluster: testCluster(),
      nodes: NodeProvisioning.managedNodeGroup({
        nodeRoleArn: NODE_ROLE, amiType: 'BOTTLEROCKET_x86_64_NVIDIA', releaseVersion: '1.53.0-5b6d2a6c', kubernetesVersion: '1.33', subnetIds: ['subnet-0a'], imdsHopLimit: 2,
      }),
      tags: { team: 'nlp' },
    });
    const ng = await mocks.one('aws:eks/nodeGroup:NodeGroup', 'h100-node-group');
    expect(ng.inputs).toMatchObject({
      amiType: 'BOTTLEROCKET_x86_64_NVIDIA',
      releaseVersion: '1.53.0-5b6d2a6c',
      version: '1.33',
      capacityType: 'ON_DEMAND',
      instanceTypes: ['p5.48xlarge'],
      subnetIds: ['subnet-0a'],
      scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 },
      tags: { 'team': 'nlp', 'mlplatform.io/gpu-pool': 'h100' },
    });
    const lt = await mocks.one('aws:ec2/launchTemplate:LaunchTemplate', 'h100-launch-template');
    expect(lt.inputs.metadataOptions.httpPutResponseHopLimit).toBe(2);
    expect(lt.inputs.blockDeviceMappings[0]).toEqual({ deviceName: '/dev/xvdb', ebs: { volumeSize: 500, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } });
  });

  test('a time-sliced pool keeps whole-GPU instance bounds and carries its device plugin config label', async () => {
    new GpuNodePool('l4', {
      pool: { name: 'l4-shared', accelerator: 'nvidia-l4', maxNodes: 4, sharing: { timeSlicing: { replicas: 4 } } },
      cluster: testCluster(),
      nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE }),
    });
    const ng = await mocks.one('aws:eks/nodeGroup:NodeGroup', 'l4-node-group');
    expect(ng.inputs.labels['nvidia.com/device-plugin.config']).toBe('mlplatform-time-sliced-4');
    expect(ng.inputs.instanceTypes).toEqual(['g6.xlarge']);
  });

  test('a GPU pool on an instance type without GPUs is a ValidationError naming the arg path', () => {
    const e = validationError(() => new GpuNodePool('cpu', {
      pool: { name: 'a10g', accelerator: 'nvidia-a10g', instanceType: 'm5.xlarge', maxNodes: 2 },
      cluster: testCluster(),
      nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE }),
    }));
    expect(e.message).toBe([
      'GpuNodePool "cpu": 1 invalid prop',
      '  - `pool.instanceType` ("m5.xlarge"): must be an instance type of the catalog with nvidia-a10g GPUs: g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.12xlarge, g5.16xlarge, g5.24xlarge, g5.48xlarge',
    ].join('\n'));
  });

  test('missing node role, an AMI the instance cannot run, a tiny disk, no subnets', () => {
    const e = validationError(() => new GpuNodePool('bad', {
      pool: { name: 'a10g', accelerator: 'nvidia-a10g', maxNodes: 2 },
      cluster: testCluster({ privateSubnetIds: [] }),
      nodes: NodeProvisioning.managedNodeGroup({ amiType: 'AL2023_ARM_64_NVIDIA', diskSizeGiB: 8 }),
    }));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'nodes.nodeRoleArn: is required: the ARN of the IAM role the nodes run as',
      'nodes.amiType: does not run g5.xlarge; use one of AL2023_x86_64_NVIDIA, BOTTLEROCKET_x86_64_NVIDIA',
      'nodes.diskSizeGiB: must be a whole number of GiB from 20 to 16384',
      'cluster.privateSubnetIds: needs at least 1 subnets for the nodes',
    ]);
  });

  test('the volume is the pool\'s diskSize (default 100 GiB); a deprecated diskSizeGiB must agree with it', async () => {
    new GpuNodePool('plain', { pool: { name: 'plain', accelerator: 'nvidia-t4', maxNodes: 1 }, cluster: testCluster(), nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE }) });
    new GpuNodePool('same', {
      pool: { name: 'same', accelerator: 'nvidia-t4', maxNodes: 1, diskSize: Size.gibibytes(250) },
      cluster: testCluster(),
      nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE, diskSizeGiB: 250 }),
    });
    const volume = async (name: string) => (await mocks.one('aws:ec2/launchTemplate:LaunchTemplate', `${name}-launch-template`)).inputs.blockDeviceMappings[0].ebs.volumeSize;
    expect(await volume('plain')).toBe(100);
    expect(await volume('same')).toBe(250);
    const e = validationError(() => new GpuNodePool('differ', {
      pool: { name: 'differ', accelerator: 'nvidia-t4', maxNodes: 1, diskSize: Size.gibibytes(250) },
      cluster: testCluster(),
      nodes: NodeProvisioning.karpenter({ nodeRole: 'KarpenterNodeRole-ml', diskSizeGiB: 500 }),
    }));
    expect(e.message).toBe([
      'GpuNodePool "differ": 1 invalid prop',
      '  - `nodes.diskSizeGiB` (500): contradicts pool "differ"\'s diskSize (250Gi), which the schedulability check counts on; declare the disk on the pool (`diskSize: Size.gibibytes(500)`) and drop diskSizeGiB',
    ].join('\n'));
  });

  test('subnets as an Output are accepted', async () => {
    new GpuNodePool('late', {
      pool: { name: 'late', accelerator: 'nvidia-t4', maxNodes: 1 },
      cluster: testCluster({ privateSubnetIds: pulumi.output(['subnet-9']) }),
      nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE }),
    });
    expect((await mocks.one('aws:eks/nodeGroup:NodeGroup', 'late-node-group')).inputs.subnetIds).toEqual(['subnet-9']);
  });
});

import * as pulumi from '@pulumi/pulumi';
import { installAwsMocks } from './aws-fixtures';
import main from '../../examples/pulumi-aws';
import { resolve } from '../support/pulumi-mocks';

/* The example's program entry, as `pulumi up` runs it: config and the cluster stack's outputs in, stack outputs out. */

const CLUSTER_OUTPUTS = {
  kubeconfig: '{"apiVersion":"v1","kind":"Config"}',
  clusterName: 'prod-eks',
  vpcId: 'vpc-0prod',
  privateSubnetIds: ['subnet-0p1', 'subnet-0p2'],
  clusterSecurityGroupId: 'sg-0prod',
};
const mocks = installAwsMocks({
  project: 'mlplatform-aws',
  state: { 'pulumi:pulumi:StackReference': () => ({ outputs: CLUSTER_OUTPUTS, secretOutputNames: [] }) },
});
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
pulumi.runtime.setAllConfig({
  'mlplatform-aws:clusterStack': 'acme/eks/prod',
  'mlplatform-aws:gpuNodeRoleArn': 'arn:aws:iam::123456789012:role/gpu-nodes',
  'mlplatform-aws:karpenterNodeRole': 'KarpenterNodeRole-prod',
  'mlplatform-aws:dbPassword': 'from-config',
  'aws:region': 'eu-west-1',
}, ['mlplatform-aws:dbPassword']);

test('main(): reads the cluster stack and config, declares the platform and its workloads, returns the stack outputs', async () => {
  const outputs = main();
  expect(await resolve(outputs.bucketName)).toBe('ml-artifacts-bucket-1a2b3c4');
  expect(await resolve(outputs.databaseAddress)).toBe('ml-database-instance.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com');
  expect(outputs.trackingUri).toBe('http://ml-tracking.mlplatform.svc.cluster.local:5000');
  expect(await resolve(outputs.pipelineArtifacts)).toBe('s3://ml-artifacts-bucket-1a2b3c4/pipelines/vision/resnet');
  expect(await resolve(outputs.pipelineRoleArn)).toBe('arn:aws:iam::123456789012:role/resnet-identity-role-0f1e2d3');
  expect(outputs.endpointUrl).toBe('http://resnet50.vision.svc.cluster.local:8000');
  expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'resnet-identity-association')).inputs).toMatchObject({ clusterName: 'prod-eks', namespace: 'vision', serviceAccount: 'resnet-workflow' });
  expect((await mocks.one('aws:eks/nodeGroup:NodeGroup', 'ml-pool-a10g-node-group')).inputs).toMatchObject({
    clusterName: 'prod-eks', subnetIds: ['subnet-0p1', 'subnet-0p2'], nodeRoleArn: 'arn:aws:iam::123456789012:role/gpu-nodes',
  });
  const instance = await mocks.one('aws:rds/instance:Instance', 'ml-database-instance');
  expect(instance.inputs.password).toEqual({ '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', 'value': 'from-config' });
  const deployment = await mocks.one('kubernetes:apps/v1:Deployment', 'ml-objects-deployment-mlplatform-ml-tracking');
  expect(deployment.inputs.spec.template.spec.containers[0].env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: 'eu-west-1' });
  expect(deployment.options.provider).toMatch(/pulumi:providers:kubernetes::cluster::/);
});

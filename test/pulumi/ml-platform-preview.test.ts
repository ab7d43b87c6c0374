import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { installAwsMocks, NODE_ROLE_ARN, readmeDeclarations, REGION, secret, testCluster } from './aws-fixtures';
import { MlPlatform as Cdk8sMlPlatform } from '../../src/cdk8s';
import { AddonDelivery, ArtifactStore, BackendStore } from '../../src/core';
import { objectResourceName } from '../../src/pulumi/kubernetes-objects';
import { MlPlatform, POD_IDENTITY_ANNOTATION } from '../../src/pulumi/ml-platform';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';

/*
 * `pulumi preview` of a new stack: the bucket name, role ARNs and database address are unknown.
 * Every Kubernetes object must still show with its kind and name.
 */

const UNKNOWN = (pulumi.runtime as any).unknownValue as string;
const mocks = installAwsMocks({
  preview: true,
  state: {
    'aws:s3/bucket:Bucket': () => ({ bucket: UNKNOWN, arn: UNKNOWN }),
    'aws:iam/role:Role': () => ({ arn: UNKNOWN, name: UNKNOWN }),
    'aws:rds/instance:Instance': () => ({ address: UNKNOWN, port: UNKNOWN }),
  },
});
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);

test('preview with unknown cloud values lists every Kubernetes object with its kind and name', async () => {
  const platform = new MlPlatform('ml', {
    cluster: testCluster(), ...readmeDeclarations(), nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN }), database: { password: secret('pw') },
  });
  expect(await (platform.bucket.bucketName as any).isKnown).toBe(false);

  // What cdk8s synthesizes for the declarations (any bucket name: names never depend on it).
  const chart = new Chart(new App(), 'ml');
  const d = readmeDeclarations();
  const cdk8s = new Cdk8sMlPlatform(chart, 'ml', {
    exposure: d.exposure,
    addons: { delivery: AddonDelivery.preInstalled() },
    artifactStore: ArtifactStore.s3({ bucket: 'any-bucket', region: REGION, credentials: { workloadIdentity: { serviceAccountAnnotations: { ...POD_IDENTITY_ANNOTATION } } } }),
    backendStore: BackendStore.external({ host: 'ml-rds.mlplatform.svc.cluster.local', database: 'mlflow', username: { name: 'ml-rds-credentials', key: 'username' }, password: { name: 'ml-rds-credentials', key: 'password' } }),
  });
  cdk8s.addGpuPool('a10g', d.gpuPools!.a10g);
  cdk8s.addTenant('vision', d.tenants!.vision);
  const expected = chart.toJson().map((o: any) => `${o.apiVersion}/${o.kind} ${objectResourceName('ml-objects', o)}`);

  const objects = await mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', 'ml-objects')).urn);
  const listed = objects.map((r) => `${r.type.replace(/^kubernetes:(core\/)?/, '').replace(/:([A-Za-z]+)$/, '/$1')} ${r.name}`);
  expect(listed).toEqual(expect.arrayContaining(expected));
  expect(listed).toHaveLength(expected.length + 4); // + the AWS glue objects
  // Known fields stay known; the fields that carry a cloud value are not yet.
  const deployment = objects.find((r) => r.name === 'ml-objects-deployment-mlplatform-ml-tracking')!;
  expect(deployment.inputs.metadata).toEqual(expect.objectContaining({ name: 'ml-tracking', namespace: 'mlplatform' }));
  expect(deployment.inputs.spec.replicas).toBe(1);
  expect(deployment.inputs.spec.template.spec.serviceAccountName).toBe('ml-tracking');
  const mlflow = deployment.inputs.spec.template.spec.containers[0];
  expect(mlflow.name).toBe('mlflow');
  expect(mlflow.image).toBe('ghcr.io/mlflow/mlflow:v3.18.0-full');
  const destination = mlflow.args[mlflow.args.indexOf('--artifacts-destination') + 1];
  expect(typeof destination).not.toBe('string'); // unknown until the bucket exists
  expect(JSON.stringify(deployment.inputs)).not.toContain('mlplatform-cloud-value-');
  const service = objects.find((r) => r.name === 'ml-objects-service-mlplatform-ml-rds')!;
  expect(service.inputs.metadata.name).toBe('ml-rds');
  expect(service.inputs.spec?.externalName).not.toBe('mlplatform-cloud-value-dbaddress.invalid');
});

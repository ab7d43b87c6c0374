import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { installAwsMocks, irsa, NODE_ROLE_ARN, readmeDeclarations, REGION, secret, testCluster } from './aws-fixtures';
import { MlPlatform as Cdk8sMlPlatform } from '../../src/cdk8s';
import { AddonDelivery, ArtifactStore, BackendStore, ModelSource, Runtime } from '../../src/core';
import { objectResourceName } from '../../src/pulumi/kubernetes-objects';
import { MlPlatform, POD_IDENTITY_ANNOTATION } from '../../src/pulumi/ml-platform';
import { ModelEndpoint } from '../../src/pulumi/model-endpoint';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { TrainingPipeline } from '../../src/pulumi/training-pipeline';

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

test('preview: workload objects list with kind and name; their role ARN (IRSA) and bucket are unknown', async () => {
  const platform = new MlPlatform('pv', {
    cluster: testCluster({ identity: irsa() }), ...readmeDeclarations(), nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN }), database: { password: secret('pw') },
  });
  const pipeline = new TrainingPipeline('pv-train', {
    platform,
    namespace: 'vision',
    steps: [{ name: 'fit', image: 'ghcr.io/acme/fit:1.0.0', outputs: ['model'], registerModel: { output: 'model', name: 'fit' } }],
  });
  new ModelEndpoint('pv-serve', { platform, namespace: 'vision', runtime: Runtime.mlflow(), versions: [{ name: 'stable', model: ModelSource.registry('fit', { alias: 'champion' }) }] });
  expect(pipeline.pipelineName).toBe('pv-train');
  const objects = async (c: string) => mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', `${c}-objects`)).urn);
  expect((await objects('pv-train')).map((r) => `${r.type} ${r.name}`).sort()).toEqual([
    'kubernetes:argoproj.io/v1alpha1:WorkflowTemplate pv-train-objects-workflowtemplate-vision-pv-train',
    'kubernetes:core/v1:Secret pv-train-objects-secret-vision-pv-train-executor.service-account-token',
    'kubernetes:core/v1:ServiceAccount pv-train-objects-serviceaccount-vision-pv-train-executor',
    'kubernetes:core/v1:ServiceAccount pv-train-objects-serviceaccount-vision-pv-train-workflow',
    'kubernetes:rbac.authorization.k8s.io/v1:Role pv-train-objects-role-vision-pv-train-executor',
    'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding pv-train-objects-rolebinding-vision-pv-train-executor',
  ]);
  expect((await objects('pv-serve')).map((r) => r.inputs.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget']));
  const sa = (await objects('pv-train')).find((r) => r.inputs.kind === 'ServiceAccount' && r.inputs.metadata.name === 'pv-train-workflow')!;
  expect(sa.inputs.metadata.name).toBe('pv-train-workflow');
  expect(typeof sa.inputs.metadata.annotations['eks.amazonaws.com/role-arn']).not.toBe('string'); // its own role, not yet created
  expect(JSON.stringify((await objects('pv-train')).map((r) => r.inputs))).not.toContain('mlplatform-cloud-value-');
});

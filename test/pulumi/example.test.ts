import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { installAwsMocks, NODE_ROLE_ARN, secret, testCluster } from './aws-fixtures';
import { addWorkloads, buildPlatform, ExampleWorkloads } from '../../examples/pulumi-aws';
import { s3AccessPolicy } from '../../src/pulumi';
import { expectValidManifests } from '../support/expect-valid';

const mocks = installAwsMocks();
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const dir = path.resolve(__dirname, '../../examples/pulumi-aws');

describe('examples/pulumi-aws', () => {
  let workloads: ExampleWorkloads;
  beforeAll(() => {
    const platform = buildPlatform({ cluster: testCluster(), gpuNodeRoleArn: NODE_ROLE_ARN, karpenterNodeRole: 'KarpenterNodeRole-ml', databasePassword: secret('example-pass') });
    workloads = addWorkloads(platform);
  });

  test('Pulumi.yaml: a TypeScript Node.js project whose password is a secret config value', () => {
    const project = parse(fs.readFileSync(path.join(dir, 'Pulumi.yaml'), 'utf8'));
    expect(project).toMatchObject({ name: 'mlplatform-aws', runtime: { name: 'nodejs', options: { typescript: true } }, main: 'index.ts' });
    expect(project.config.dbPassword.secret).toBe(true);
  });

  test('declares the bucket, the database, three node pools and the tracking identity under one component', async () => {
    const root = await mocks.one('mlplatform:index:MlPlatform', 'ml');
    expect((await mocks.childrenOf(root.urn)).map((c) => c.name).sort()).toEqual([
      'ml-addons', 'ml-artifacts', 'ml-database', 'ml-objects', 'ml-pool-a10g', 'ml-pool-h100', 'ml-pool-l4-shared', 'ml-tracking-identity',
    ]);
    expect((await mocks.ofType('aws:eks/nodeGroup:NodeGroup')).map((r) => r.name).sort()).toEqual(['ml-pool-a10g-node-group', 'ml-pool-l4-shared-node-group']);
    const karpenter = await mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', 'ml-pool-h100-objects')).urn);
    expect(karpenter.map((r) => r.inputs.kind).sort()).toEqual(['EC2NodeClass', 'NodePool']);
    expect((await mocks.one('aws:rds/instance:Instance', 'ml-database-instance')).inputs.backupRetentionPeriod).toBe(14);
    expect((await mocks.one('aws:s3/bucket:Bucket', 'ml-artifacts-bucket')).inputs.tags).toEqual({
      'mlplatform.io/platform': 'ml', 'app.kubernetes.io/managed-by': 'mlplatform', 'cost-center': 'ml-platform',
    });
  });

  test('every Kubernetes object it creates validates strictly', async () => {
    const objects = await mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', 'ml-objects')).urn);
    const plain = (v: any): any => (Array.isArray(v) ? v.map(plain)
      : v && typeof v === 'object' ? (SECRET_SIG in v ? plain(v.value) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))) : v);
    expectValidManifests(objects.map((o) => plain(o.inputs)));
    const karpenter = await mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', 'ml-pool-h100-objects')).urn);
    expectValidManifests(karpenter.map((o) => o.inputs), { pss: false });
    expect(objects.map((o) => o.inputs.metadata.namespace).filter((n, i, a) => n && a.indexOf(n) === i).sort()).toEqual(['mlplatform', 'nlp', 'vision']);
  });

  test('the pipeline, the sweep and the endpoint: one least-privilege role each where they touch the bucket', async () => {
    const policy = async (identity: string) => JSON.parse((await mocks.one('aws:iam/rolePolicy:RolePolicy', `${identity}-s3`)).inputs.policy);
    const bucket = 'arn:aws:s3:::ml-artifacts-bucket-1a2b3c4';
    expect(await policy('resnet-identity')).toEqual(s3AccessPolicy(bucket, { read: ['dvc/vision'], write: ['pipelines/vision/resnet'] }));
    expect(await policy('resnet-sweep-identity')).toEqual(s3AccessPolicy(bucket, { read: ['datasets/imagenette/v2'] }));
    // Registry models: MLflow downloads the registered `s3://` source client-side, so each version reads
    // the namespace's pipeline root (where the pipeline's registration step registers) and writes its payload logs.
    expect(Object.keys(workloads.endpoint.identities).sort()).toEqual(['canary', 'shadow', 'stable']);
    for (const version of ['stable', 'canary', 'shadow']) {
      expect(await policy(`resnet50-${version}-identity`)).toEqual(s3AccessPolicy(bucket, { read: ['pipelines/vision'], write: [`endpoints/vision/resnet50/${version}/payloads`] }));
    }
    expect((await mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).map((r) => `${r.name} ${r.inputs.namespace}/${r.inputs.serviceAccount}`).sort()).toEqual([
      'ml-tracking-identity-association mlplatform/ml-tracking',
      'resnet-identity-association vision/resnet-workflow',
      `resnet-sweep-identity-association vision/${workloads.sweep.serviceAccountName}`,
      'resnet50-canary-identity-association vision/resnet50-canary',
      'resnet50-shadow-identity-association vision/resnet50-shadow',
      'resnet50-stable-identity-association vision/resnet50-stable',
    ]);
    for (const [type, name] of [['TrainingPipeline', 'resnet'], ['TuningSweep', 'resnet-sweep'], ['ModelEndpoint', 'resnet50']]) {
      const component = await mocks.one(`mlplatform:index:${type}`, name);
      expect((await mocks.childrenOf(component.urn)).map((c) => c.name)).toContain(`${name}-objects`);
      const objects = await mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', `${name}-objects`)).urn);
      expectValidManifests(objects.map((o) => o.inputs));
    }
    expect(workloads.endpoint.url).toBe('http://resnet50.vision.svc.cluster.local:8000');
  });
});

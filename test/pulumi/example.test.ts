import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { installAwsMocks, NODE_ROLE_ARN, secret, testCluster } from './aws-fixtures';
import { buildPlatform } from '../../examples/pulumi-aws';
import { expectValidManifests } from '../support/expect-valid';

const mocks = installAwsMocks();
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const dir = path.resolve(__dirname, '../../examples/pulumi-aws');

describe('examples/pulumi-aws', () => {
  beforeAll(() => {
    buildPlatform({ cluster: testCluster(), gpuNodeRoleArn: NODE_ROLE_ARN, karpenterNodeRole: 'KarpenterNodeRole-ml', databasePassword: secret('example-pass') });
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
});

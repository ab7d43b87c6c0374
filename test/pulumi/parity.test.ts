import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ACCOUNT, AWS_STATE, installAwsMocks, irsa, NODE_ROLE_ARN, readmeDeclarations, REGION, secret, testCluster } from './aws-fixtures';
import { addModelEndpoint } from '../../examples/cdk8s-platform/endpoint';
import { addTrainingPipeline } from '../../examples/cdk8s-platform/pipeline';
import { addTuningSweep } from '../../examples/cdk8s-platform/sweep';
import { addWorkloads, buildPlatform, ExampleWorkloads, platformDeclarations } from '../../examples/pulumi-aws';
import { MlPlatform as Cdk8sMlPlatform, TuningSweep as Cdk8sTuningSweep } from '../../src/cdk8s';
import { AddonDelivery, ArtifactStore, BackendStore, VERSIONS } from '../../src/core';
import { MlPlatform, POD_IDENTITY_ANNOTATION } from '../../src/pulumi/ml-platform';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { RecordedResource } from '../support/pulumi-mocks';

/*
 * DESIGN.md §2: the objects the Pulumi side creates equal the objects `cdk8s synth` writes for the
 * same declarations, field for field, except the cloud-provided values (here: what the mocked AWS
 * answered, which the cdk8s side is given as literals).
 */

// The example's bucket gets the name examples/cdk8s-platform gives its store ("ml-artifacts"), which
// its sweep names in a trial argument: so the same declarations name the same bucket on both sides.
const mocks = installAwsMocks({
  state: { 'aws:s3/bucket:Bucket': (a) => (a.name === 'ml-artifacts-bucket' ? { bucket: 'ml-artifacts', arn: 'arn:aws:s3:::ml-artifacts' } : AWS_STATE['aws:s3/bucket:Bucket'](a)) },
});
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
const SECRET_SIG = '4dabf18193072939515e22adb298388d';

/** What the mocked AWS answers for platform `name` (see AWS_STATE). */
const cloud = (name: string) => ({
  bucket: `${name}-artifacts-bucket-1a2b3c4`,
  rdsAddress: `${name}-database-instance.c1a2b3c4d5e6.${REGION}.rds.amazonaws.com`,
  trackingRoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-tracking-identity-role-0f1e2d3`,
});

/**
 * `cdk8s synth` of the README declarations with the AWS stores, written to a temporary folder as the
 * CLI does and read back from the YAML. `delivery` is how add-ons are delivered.
 */
function cdk8sSynth(name: string, annotations: Record<string, string>, delivery: AddonDelivery): any[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-parity-'));
  try {
    const app = new App({ outdir });
    const d = readmeDeclarations();
    const platform = new Cdk8sMlPlatform(new Chart(app, name), name, {
      exposure: d.exposure,
      addons: { delivery },
      artifactStore: ArtifactStore.s3({ bucket: cloud(name).bucket, region: REGION, credentials: { workloadIdentity: { serviceAccountAnnotations: annotations } } }),
      backendStore: BackendStore.external({
        host: `${name}-rds.mlplatform.svc.cluster.local`,
        port: 5432,
        database: 'mlflow',
        username: { name: `${name}-rds-credentials`, key: 'username' },
        password: { name: `${name}-rds-credentials`, key: 'password' },
        sslMode: 'require',
      }),
    });
    for (const [pool, o] of Object.entries(d.gpuPools!)) platform.addGpuPool(pool, o);
    for (const [tenant, o] of Object.entries(d.tenants!)) platform.addTenant(tenant, o);
    app.synth();
    const text = fs.readFileSync(path.join(outdir, `${name}.k8s.yaml`), 'utf8');
    return parseAllDocuments(text).map((doc) => doc.toJS()).filter(Boolean);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

async function pulumiObjects(name: string): Promise<RecordedResource[]> {
  return mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', `${name}-objects`)).urn);
}

const key = (o: any) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objs: any[]) => Object.fromEntries(objs.map((o) => [key(o), o]));
const isGlue = (o: any) => o.metadata.labels?.['app.kubernetes.io/component'] === 'aws';

function plain(v: any): any {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return SECRET_SIG in v ? plain(v.value) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('parity: Pulumi objects == cdk8s synth objects (README example)', () => {
  beforeAll(() => {
    const nodes = NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN });
    new MlPlatform('readme', { cluster: testCluster(), ...readmeDeclarations(), nodes, database: { password: secret('db-pass') } });
    new MlPlatform('mlirsa', { cluster: testCluster({ identity: irsa() }), ...readmeDeclarations(), nodes, database: { password: secret('db-pass') } });
  });

  test.each([
    ['Pod Identity', 'readme', () => ({ ...POD_IDENTITY_ANNOTATION })],
    ['IRSA (the role ARN is a cloud value inside metadata)', 'mlirsa', () => ({ 'eks.amazonaws.com/role-arn': cloud('mlirsa').trackingRoleArn })],
  ])('%s: every platform object, field for field', async (_label, name, annotations) => {
    const created = (await pulumiObjects(name)).map((r) => plain(r.inputs));
    const written = cdk8sSynth(name, annotations(), AddonDelivery.preInstalled());
    const platformObjects = created.filter((o) => !isGlue(o));
    expect(Object.keys(byKey(platformObjects)).sort()).toEqual(Object.keys(byKey(written)).sort());
    expect(byKey(platformObjects)).toEqual(byKey(written));
    // The bootstrap Job's name hashes its plan: equal because the database host is a stable in-cluster name.
    expect(written.filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual(platformObjects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name));
  });

  test('the only other objects are the AWS glue: RDS ExternalName and credentials, Pod Identity egress', async () => {
    const glue = (await pulumiObjects('readme')).map((r) => plain(r.inputs)).filter(isGlue);
    expect(glue.map(key).sort()).toEqual([
      'NetworkPolicy/mlplatform/readme-allow-eks-pod-identity',
      'NetworkPolicy/vision/vision-allow-eks-pod-identity',
      'Secret/mlplatform/readme-rds-credentials',
      'Service/mlplatform/readme-rds',
    ]);
    expect(byKey(glue)['Service/mlplatform/readme-rds'].spec.externalName).toBe(cloud('readme').rdsAddress);
    expect(byKey(glue)['Secret/mlplatform/readme-rds-credentials'].stringData).toEqual({ username: 'mlplatform', password: 'db-pass' });
  });

  test('add-ons: the Helm releases carry the charts and values of the Argo CD Applications cdk8s writes', async () => {
    const applications = cdk8sSynth('readme', { ...POD_IDENTITY_ANNOTATION }, AddonDelivery.argoCd()).filter((o) => o.kind === 'Application');
    const releases = await mocks.childrenOf((await mocks.one('mlplatform:index:ClusterAddons', 'readme-addons')).urn);
    expect(releases.map((r) => r.inputs.name).sort()).toEqual(applications.map((a) => a.metadata.name).sort());
    for (const app of applications) {
      const release = releases.find((r) => r.inputs.name === app.metadata.name)!;
      const chart = Object.values(VERSIONS.charts).find((c) => c.chart === app.metadata.name)!;
      expect(release.inputs.version).toBe(app.spec.source.targetRevision);
      expect(release.inputs.namespace).toBe(app.spec.destination.namespace);
      expect(release.inputs.version).toBe(chart.version);
      expect(release.inputs.values).toEqual(app.spec.source.helm.valuesObject ?? {});
    }
  });
});

/**
 * `cdk8s synth` of the README example (examples/cdk8s-platform: platform, pipeline, sweep, endpoint)
 * with the AWS stores and the pulumi-aws example's platform declarations, as the CLI writes it.
 */
function cdk8sSynthExample(): { objects: any[]; sweep: Cdk8sTuningSweep } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-parity-'));
  try {
    const app = new App({ outdir });
    const chart = new Chart(app, 'platform');
    const d = platformDeclarations({ gpuNodeRoleArn: NODE_ROLE_ARN, karpenterNodeRole: 'KarpenterNodeRole-ml' });
    const platform = new Cdk8sMlPlatform(chart, 'ml', {
      namespace: d.namespace,
      tracking: d.tracking,
      exposure: d.exposure,
      addons: { delivery: AddonDelivery.preInstalled() },
      artifactStore: ArtifactStore.s3({ bucket: 'ml-artifacts', region: REGION, credentials: { workloadIdentity: { serviceAccountAnnotations: { ...POD_IDENTITY_ANNOTATION } } } }),
      backendStore: BackendStore.external({
        host: 'ml-rds.mlplatform.svc.cluster.local',
        port: 5432,
        database: 'mlflow',
        username: { name: 'ml-rds-credentials', key: 'username' },
        password: { name: 'ml-rds-credentials', key: 'password' },
        sslMode: 'require',
      }),
    });
    for (const [pool, { nodes: _nodes, ...o }] of Object.entries(d.gpuPools!)) platform.addGpuPool(pool, o);
    for (const [tenant, o] of Object.entries(d.tenants!)) platform.addTenant(tenant, o);
    // As the Pulumi example grants its pipeline the DVC remote (a grant changes no object).
    platform.storeLocation('dvc/vision').grantRead(addTrainingPipeline(chart, platform));
    const sweep = addTuningSweep(chart, platform);
    addModelEndpoint(chart, platform);
    app.synth();
    const text = fs.readFileSync(path.join(outdir, 'platform.k8s.yaml'), 'utf8');
    return { objects: parseAllDocuments(text).map((doc) => doc.toJS()).filter(Boolean), sweep };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('parity: the README example with its workloads (examples/cdk8s-platform buildExample == examples/pulumi-aws)', () => {
  let workloads: ExampleWorkloads;
  beforeAll(() => {
    const platform = buildPlatform({ cluster: testCluster(), gpuNodeRoleArn: NODE_ROLE_ARN, karpenterNodeRole: 'KarpenterNodeRole-ml', databasePassword: secret('db-pass') });
    workloads = addWorkloads(platform);
  });

  test('platform, pipeline, sweep and endpoint objects, field for field', async () => {
    const created = (await Promise.all(['ml', 'resnet', 'resnet-sweep', 'resnet50'].map(pulumiObjects))).flat().map((r) => plain(r.inputs)).filter((o) => !isGlue(o));
    const { objects: written, sweep } = cdk8sSynthExample();
    // Hashes over a cloud value differ: the Pulumi side computes them over the bucket's placeholder (so
    // they are known at preview and stable across deploys). The sweep's Job and ConfigMap names hash
    // the sweep with its platform's store; a cached step's key hashes its inputs (a DVC remote in the bucket).
    const ours = workloads.sweep.sweep;
    const renames: [string, string][] = [[ours.createJobName, sweep.createJobName], [ours.workersJobName, sweep.workersJobName], [ours.configMapName, sweep.configMapName]];
    const cacheKeys = (objs: any[]) => Object.fromEntries(objs.filter((o) => o.kind === 'WorkflowTemplate')
      .flatMap((o) => o.spec.templates).filter((t: any) => t.memoize).map((t: any) => [t.name, t.memoize.key]));
    const [ourKeys, theirKeys] = [cacheKeys(created), cacheKeys(written)];
    expect(Object.keys(ourKeys)).toEqual(Object.keys(theirKeys));
    expect(Object.keys(ourKeys).length).toBeGreaterThan(0);
    for (const t of Object.keys(ourKeys)) renames.push([ourKeys[t], theirKeys[t]]);
    for (const [a, b] of renames) expect(a.replace(/[-.][0-9a-f]{8,16}$/, '')).toBe(b.replace(/[-.][0-9a-f]{8,16}$/, ''));
    const renamed = JSON.parse(renames.reduce((text, [a, b]) => text.split(a).join(b), JSON.stringify(created)));
    expect(Object.keys(byKey(renamed)).sort()).toEqual(Object.keys(byKey(written)).sort());
    expect(byKey(renamed)).toEqual(byKey(written));
    expect(written.map((o) => o.kind)).toEqual(expect.arrayContaining(['WorkflowTemplate', 'CronWorkflow', 'Job', 'Deployment', 'HTTPRoute']));
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ACCOUNT, installAwsMocks, irsa, NODE_ROLE_ARN, readmeDeclarations, REGION, secret, testCluster } from './aws-fixtures';
import { MlPlatform as Cdk8sMlPlatform } from '../../src/cdk8s';
import { AddonDelivery, ArtifactStore, BackendStore, VERSIONS } from '../../src/core';
import { MlPlatform, POD_IDENTITY_ANNOTATION } from '../../src/pulumi/ml-platform';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { RecordedResource } from '../support/pulumi-mocks';

/*
 * DESIGN.md §2: the objects the Pulumi side creates equal the objects `cdk8s synth` writes for the
 * same declarations, field for field, except the cloud-provided values (here: what the mocked AWS
 * answered, which the cdk8s side is given as literals).
 */

const mocks = installAwsMocks();
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
    new MlPlatform('ml', { cluster: testCluster(), ...readmeDeclarations(), nodes, database: { password: secret('db-pass') } });
    new MlPlatform('mlirsa', { cluster: testCluster({ identity: irsa() }), ...readmeDeclarations(), nodes, database: { password: secret('db-pass') } });
  });

  test.each([
    ['Pod Identity', 'ml', () => ({ ...POD_IDENTITY_ANNOTATION })],
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
    const glue = (await pulumiObjects('ml')).map((r) => plain(r.inputs)).filter(isGlue);
    expect(glue.map(key).sort()).toEqual([
      'NetworkPolicy/mlplatform/ml-allow-eks-pod-identity',
      'NetworkPolicy/vision/vision-allow-eks-pod-identity',
      'Secret/mlplatform/ml-rds-credentials',
      'Service/mlplatform/ml-rds',
    ]);
    expect(byKey(glue)['Service/mlplatform/ml-rds'].spec.externalName).toBe(cloud('ml').rdsAddress);
    expect(byKey(glue)['Secret/mlplatform/ml-rds-credentials'].stringData).toEqual({ username: 'mlplatform', password: 'db-pass' });
  });

  test('add-ons: the Helm releases carry the charts and values of the Argo CD Applications cdk8s writes', async () => {
    const applications = cdk8sSynth('ml', { ...POD_IDENTITY_ANNOTATION }, AddonDelivery.argoCd()).filter((o) => o.kind === 'Application');
    const releases = await mocks.childrenOf((await mocks.one('mlplatform:index:ClusterAddons', 'ml-addons')).urn);
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

import { installAwsMocks, irsa, NODE_ROLE_ARN, readmeDeclarations, secret, testCluster } from './aws-fixtures';
import { Dataset, EndpointExposure, ModelSource, Runtime } from '../../src/core';
import { MlPlatform, ModelEndpoint, NodeProvisioning, s3AccessPolicy, TrainingPipeline, TuningSweep } from '../../src/pulumi';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { podIdentityAllowed } from '../support/iam-trust';
import { RecordedResource } from '../support/pulumi-mocks';

/*
 * The Pulumi wrappers of TrainingPipeline, TuningSweep and ModelEndpoint: one role per workload
 * ServiceAccount scoped to exact prefixes (Pod Identity association or IRSA annotation with the
 * workload's own role ARN), and the cdk8s objects created under the component.
 */

const mocks = installAwsMocks();
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
const ACCOUNT = '123456789012';
const IMAGE = 'ghcr.io/acme/churn:1.4.0';
const nodes = NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN });
const bucketArn = (name: string) => `arn:aws:s3:::${name}-artifacts-bucket-1a2b3c4`;
const roleArn = (identity: string) => `arn:aws:iam::${ACCOUNT}:role/${identity}-role-0f1e2d3`;

function platform(name: string, o: { irsa?: boolean; prefix?: string } = {}): MlPlatform {
  return new MlPlatform(name, {
    cluster: testCluster(o.irsa ? { identity: irsa() } : {}),
    ...readmeDeclarations(),
    nodes,
    database: { password: secret('x') },
    artifacts: o.prefix ? { prefix: o.prefix } : undefined,
  });
}

/** The workloads under test, on platform `p`; names are prefixed with `p`'s name. */
function workloads(p: MlPlatform, n: string) {
  const pipeline = new TrainingPipeline(`${n}-churn`, {
    platform: p,
    namespace: 'vision',
    // The data-access check: the dataset and the DVC remote are put there by other means: granted.
    readGrants: [p.platform.storeLocation('datasets/churn'), p.platform.storeLocation('dvc/churn')],
    steps: [
      {
        name: 'prepare',
        image: IMAGE,
        command: ['python', '-m', 'churn.prepare'],
        inputs: {
          raw: Dataset.fromBucket({ prefix: 'datasets/churn', version: 'v3' }),
          labels: Dataset.fromDvc({ repository: 'https://github.com/acme/churn-data.git', revision: 'v7', path: 'labels', remote: 'dvc/churn' }),
        },
        outputs: ['table'],
      },
      { name: 'train', after: ['prepare'], image: IMAGE, command: ['python', '-m', 'churn.train'], inputs: { table: { step: 'prepare', output: 'table' } }, outputs: ['model'] },
    ],
  });
  const sweep = new TuningSweep(`${n}-sweep`, {
    platform: p,
    namespace: 'vision',
    trial: { image: IMAGE, command: ['python', '-m', 'churn.train'], args: [`--data=${p.context.store.root}/datasets/churn/v3`, '--fold={{fold}}'], env: { VALID: `${p.context.store.root}/datasets/churn/{{fold}}/valid` } },
    parameters: [{ name: 'fold', type: 'categorical', choices: ['a', 'b'] }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 4, workers: 2 },
  });
  const quiet = new TuningSweep(`${n}-quiet`, {
    platform: p,
    namespace: 'vision',
    trial: { image: IMAGE, command: ['python', '-m', 'churn.train'] },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 4 },
  });
  const endpoint = new ModelEndpoint(`${n}-serve`, {
    platform: p,
    namespace: 'vision',
    runtime: Runtime.mlflow(),
    readGrants: [p.platform.storeLocation('models/churn')],
    exposure: EndpointExposure.gateway({ host: 'churn.models.example.com', gateway: { name: 'inference', namespace: 'envoy-gateway-system' } }),
    versions: [
      { name: 'stable', model: ModelSource.uri(`${p.context.store.root}/models/churn/3`) },
      { name: 'canary', weight: 10, model: ModelSource.registry('churn', { alias: 'challenger' }) },
    ],
  });
  // Request/response logging: the version writes its payload-log prefix (its writeScope).
  const logged = new ModelEndpoint(`${n}-logged`, {
    platform: p,
    namespace: 'vision',
    runtime: Runtime.mlflow(),
    logging: { samplePercent: 10 },
    versions: [{ name: 'stable', model: ModelSource.registry('churn', { alias: 'champion' }) }],
  });
  return { pipeline, sweep, quiet, endpoint, logged };
}

const children = async (type: string, name: string) => mocks.childrenOf((await mocks.one(type, name)).urn);
const objectsOf = (component: string) => children('mlplatform:index:KubernetesObjects', `${component}-objects`);
const find = (objs: RecordedResource[], kind: string, name: string) => objs.find((o) => o.inputs.kind === kind && o.inputs.metadata.name === name)!;
const policyOf = async (identity: string) => JSON.parse((await mocks.one('aws:iam/rolePolicy:RolePolicy', `${identity}-s3`)).inputs.policy);

describe('workloads on a Pod Identity platform', () => {
  let w: ReturnType<typeof workloads>;
  beforeAll(() => {
    w = workloads(platform('pi'), 'pi');
  });

  test('type tokens, and every child parented to its component', async () => {
    const tree = async (type: string, name: string) => (await children(type, name)).map((c) => `${c.type} ${c.name}`).sort();
    expect(await tree('mlplatform:index:TrainingPipeline', 'pi-churn')).toEqual(['mlplatform:index:KubernetesObjects pi-churn-objects', 'mlplatform:index:WorkloadIdentity pi-churn-identity']);
    expect(await tree('mlplatform:index:TuningSweep', 'pi-sweep')).toEqual(['mlplatform:index:KubernetesObjects pi-sweep-objects', 'mlplatform:index:WorkloadIdentity pi-sweep-identity']);
    expect(await tree('mlplatform:index:TuningSweep', 'pi-quiet')).toEqual(['mlplatform:index:KubernetesObjects pi-quiet-objects']);
    expect(await tree('mlplatform:index:ModelEndpoint', 'pi-serve')).toEqual([
      'mlplatform:index:KubernetesObjects pi-serve-objects', 'mlplatform:index:WorkloadIdentity pi-serve-canary-identity', 'mlplatform:index:WorkloadIdentity pi-serve-stable-identity',
    ]);
    expect(await tree('mlplatform:index:WorkloadIdentity', 'pi-churn-identity')).toEqual([
      'aws:eks/podIdentityAssociation:PodIdentityAssociation pi-churn-identity-association', 'aws:iam/role:Role pi-churn-identity-role', 'aws:iam/rolePolicy:RolePolicy pi-churn-identity-s3',
    ]);
    // The components hang off the root (no parent given), their objects off their KubernetesObjects.
    expect((await mocks.one('mlplatform:index:TrainingPipeline', 'pi-churn')).parent).toBeUndefined();
    const objects = await objectsOf('pi-churn');
    expect(objects.map((o) => `${o.inputs.kind}/${o.inputs.metadata.name}`).sort()).toEqual([
      expect.stringMatching(/^ConfigMap\/pi-churn-step-io-[0-9a-f]{8}$/), 'Role/pi-churn-executor', 'RoleBinding/pi-churn-executor', 'Secret/pi-churn-executor.service-account-token', 'ServiceAccount/pi-churn-executor',
      'ServiceAccount/pi-churn-workflow', 'WorkflowTemplate/pi-churn',
    ]);
    expect(objects.map((o) => o.type)).toEqual(expect.arrayContaining(['kubernetes:argoproj.io/v1alpha1:WorkflowTemplate', 'kubernetes:core/v1:ServiceAccount']));
    expect(w.pipeline.pipeline.spec.name).toBe('pi-churn');
  });

  test('the pipeline writes exactly its artifact prefix and reads its bucket dataset and DVC remote', async () => {
    expect(w.pipeline.artifactPrefix).toBe('pipelines/vision/pi-churn');
    expect(await policyOf('pi-churn-identity')).toEqual(s3AccessPolicy(bucketArn('pi'), { read: ['datasets/churn/v3', 'dvc/churn'], write: ['pipelines/vision/pi-churn'] }));
    expect((await policyOf('pi-churn-identity')).Statement[2]).toEqual({
      Sid: 'WriteObjects', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: [`${bucketArn('pi')}/pipelines/vision/pi-churn/*`],
    });
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'pi-churn-identity-association')).inputs).toEqual({
      clusterName: 'ml-cluster', namespace: 'vision', serviceAccount: 'pi-churn-workflow', roleArn: roleArn('pi-churn-identity'), disableSessionTags: false, tags: { 'mlplatform.io/platform': 'pi', 'app.kubernetes.io/managed-by': 'mlplatform' },
    });
  });

  test('each Pod Identity role gives credentials to the ServiceAccount its association names, and to no other of the platform', async () => {
    // IAM's evaluation of each synthesized trust policy against the session tags EKS Pod Identity
    // sends (test/support/iam-trust.ts): a role associated (by mistake or by whoever may PassRole
    // it) with another ServiceAccount, namespace or cluster yields nothing.
    const associations = (await mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).filter((a) => a.name.startsWith('pi-')).map((a) => a.inputs);
    const roles = (await mocks.ofType('aws:iam/role:Role')).filter((r) => r.name.startsWith('pi-'));
    const trustOf = (arn: string) => roles.find((r) => `arn:aws:iam::${ACCOUNT}:role/${r.name}-0f1e2d3` === arn)!.inputs.assumeRolePolicy;
    expect(associations.map((a) => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual([
      'mlplatform/pi-tracking', 'vision/pi-churn-workflow', 'vision/pi-logged-stable', 'vision/pi-serve-canary', 'vision/pi-serve-stable', `vision/${w.sweep.serviceAccountName}`,
    ]);
    for (const a of associations) {
      for (const b of associations) {
        const pod = { clusterName: b.clusterName, namespace: b.namespace, serviceAccount: b.serviceAccount };
        expect([a.serviceAccount, b.serviceAccount, podIdentityAllowed(trustOf(a.roleArn), pod)]).toEqual([a.serviceAccount, b.serviceAccount, a === b]);
      }
      expect(podIdentityAllowed(trustOf(a.roleArn), { clusterName: 'other-cluster', namespace: a.namespace, serviceAccount: a.serviceAccount })).toBe(false);
      expect(podIdentityAllowed(trustOf(a.roleArn), { clusterName: a.clusterName, namespace: a.namespace, serviceAccount: a.serviceAccount, sessionTags: false })).toBe(false);
    }
  });

  test('a sweep reads only the platform prefixes its trial names; a sweep naming none gets no role', async () => {
    expect(await policyOf('pi-sweep-identity')).toEqual(s3AccessPolicy(bucketArn('pi'), { read: ['datasets/churn', 'datasets/churn/v3'] }));
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'pi-sweep-identity-association')).inputs).toMatchObject({ namespace: 'vision', serviceAccount: w.sweep.serviceAccountName });
    expect(w.quiet.identity).toBeUndefined();
    expect((await mocks.resources()).filter((r) => r.name.startsWith('pi-quiet-identity'))).toEqual([]);
  });

  test('an endpoint version reads exactly its model prefix; a registry version the namespace\'s pipeline root', async () => {
    expect(await policyOf('pi-serve-stable-identity')).toEqual(s3AccessPolicy(bucketArn('pi'), { read: ['models/churn/3'] }));
    expect((await policyOf('pi-serve-stable-identity')).Statement).toEqual([
      { Sid: 'ListPrefixes', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn('pi'), Condition: { StringLike: { 's3:prefix': ['models/churn/3/*'] } } },
      { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${bucketArn('pi')}/models/churn/3/*`] },
    ]);
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'pi-serve-stable-identity-association')).inputs).toMatchObject({ namespace: 'vision', serviceAccount: 'pi-serve-stable' });
    // MLflow downloads a registered version's `s3://` source client-side (models_artifact_repo.py → s3_artifact_repo.py):
    // the registry version reads where the namespace's registration steps register (issue #21 item 2).
    expect(Object.keys(w.endpoint.identities).sort()).toEqual(['canary', 'stable']);
    expect(await policyOf('pi-serve-canary-identity')).toEqual(s3AccessPolicy(bucketArn('pi'), { read: ['pipelines/vision'] }));
    expect(w.endpoint.url).toBe('http://pi-serve.vision.svc.cluster.local:8080');
  });

  test('a version that logs its payloads writes exactly its payload-log prefix', async () => {
    expect(w.logged.endpoint.spec.versions[0].writeScope?.prefix).toBe('endpoints/vision/pi-logged/stable/payloads/');
    expect(await policyOf('pi-logged-stable-identity')).toEqual(s3AccessPolicy(bucketArn('pi'), { read: ['pipelines/vision'], write: ['endpoints/vision/pi-logged/stable/payloads'] }));
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'pi-logged-stable-identity-association')).inputs).toMatchObject({ namespace: 'vision', serviceAccount: 'pi-logged-stable' });
  });

  test('objects: valid, with the bucket substituted, waiting for the platform and for their role', async () => {
    for (const c of ['pi-churn', 'pi-sweep', 'pi-quiet', 'pi-serve', 'pi-logged']) {
      const objs = await objectsOf(c);
      expectValidManifests(objs.map((o) => o.inputs));
      expect(JSON.stringify(objs.map((o) => o.inputs))).not.toContain('mlplatform-cloud-value-');
    }
    const stable = find(await objectsOf('pi-serve'), 'Deployment', 'pi-serve-stable');
    const fetch = stable.inputs.spec.template.spec.initContainers.find((c: any) => c.env?.some((e: any) => e.name === 'MODEL_URI'));
    expect(fetch.env).toContainEqual({ name: 'MODEL_URI', value: 's3://pi-artifacts-bucket-1a2b3c4/models/churn/3' });
    expect(find(await objectsOf('pi-serve'), 'ServiceAccount', 'pi-serve-stable').inputs.metadata.annotations).toEqual({
      'mlplatform.io/model-read-scope': 's3://pi-artifacts-bucket-1a2b3c4/models/churn/3/', 'mlplatform.io/aws-identity': 'eks-pod-identity',
    });
    const deps = (o: RecordedResource) => o.options.dependencies.map((u) => u.split('::').pop());
    expect(deps(find(await objectsOf('pi-churn'), 'WorkflowTemplate', 'pi-churn'))).toEqual(expect.arrayContaining(['pi-churn-identity-association', 'pi-objects-deployment-mlplatform-pi-tracking', 'pi-addons-argo-workflows']));
    expect(deps(find(await objectsOf('pi-serve'), 'Deployment', 'pi-serve-canary'))).toEqual(expect.arrayContaining(['pi-serve-stable-identity-association']));
  });
});

describe('workloads on an IRSA platform', () => {
  beforeAll(() => {
    workloads(platform('ir', { irsa: true, prefix: 'team-a' }), 'ir');
  });

  test('each workload ServiceAccount carries its own role ARN; none borrows the tracking role', async () => {
    const annotation = async (component: string, sa: string) => find(await objectsOf(component), 'ServiceAccount', sa).inputs.metadata.annotations?.['eks.amazonaws.com/role-arn'];
    expect(await annotation('ir-churn', 'ir-churn-workflow')).toBe(roleArn('ir-churn-identity'));
    const sweepSa = (await objectsOf('ir-sweep')).find((o) => o.inputs.kind === 'ServiceAccount')!.inputs.metadata.name;
    expect(await annotation('ir-sweep', sweepSa)).toBe(roleArn('ir-sweep-identity'));
    expect(await annotation('ir-serve', 'ir-serve-stable')).toBe(roleArn('ir-serve-stable-identity'));
    expect(await annotation('ir-logged', 'ir-logged-stable')).toBe(roleArn('ir-logged-stable-identity'));
    // No role: the sweep that names no data. The registry version reads the namespace's pipeline root with its own role.
    const quietSa = (await objectsOf('ir-quiet')).find((o) => o.inputs.kind === 'ServiceAccount')!;
    expect(quietSa.inputs.metadata.annotations).toBeUndefined();
    expect(find(await objectsOf('ir-serve'), 'ServiceAccount', 'ir-serve-canary').inputs.metadata.annotations).toEqual({
      'mlplatform.io/model-read-scope': 's3://ir-artifacts-bucket-1a2b3c4/team-a/pipelines/vision/',
      'mlplatform.io/registered-model': 'models:/churn',
      'eks.amazonaws.com/role-arn': roleArn('ir-serve-canary-identity'),
    });
    const workloadObjects = await Promise.all(['ir-churn', 'ir-sweep', 'ir-quiet', 'ir-serve', 'ir-logged'].map(objectsOf));
    const all = JSON.stringify(workloadObjects.flat().map((r) => r.inputs));
    expect(all).not.toContain(roleArn('ir-tracking-identity'));
    expect(all).not.toContain('mlplatform-cloud-value-');
  });

  test('roles trust exactly their ServiceAccount; no Pod Identity association; prefixes under the platform prefix', async () => {
    const trust = JSON.parse((await mocks.one('aws:iam/role:Role', 'ir-serve-stable-identity-role')).inputs.assumeRolePolicy);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      'oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub': 'system:serviceaccount:vision:ir-serve-stable', 'oidc.eks.us-east-1.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com',
    });
    expect((await mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).filter((r) => r.name.startsWith('ir-'))).toEqual([]);
    expect(await policyOf('ir-churn-identity')).toEqual(s3AccessPolicy(bucketArn('ir'), { read: ['team-a/datasets/churn/v3', 'team-a/dvc/churn'], write: ['team-a/pipelines/vision/ir-churn'] }));
    expect(await policyOf('ir-serve-stable-identity')).toEqual(s3AccessPolicy(bucketArn('ir'), { read: ['team-a/models/churn/3'] }));
    for (const c of ['ir-churn', 'ir-sweep', 'ir-quiet', 'ir-serve', 'ir-logged']) expectValidManifests((await objectsOf(c)).map((o) => o.inputs));
  });
});

describe('bad args', () => {
  let p: MlPlatform;
  beforeAll(() => {
    p = platform('bad');
  });

  test('every problem in one ValidationError with the Pulumi arg paths, before any resource', async () => {
    const pipeline = validationError(() => new TrainingPipeline('bad-pipeline', {
      platform: p, namespace: 'nlp', steps: [{ name: 'train', image: 'ghcr.io/acme/x:latest', gpus: 1, accelerator: 'nvidia-h100-80gb' }],
    }));
    expect(pipeline.message).toMatch(/^TrainingPipeline "bad-pipeline": /);
    expect(pipeline.issues.map((i) => i.path)).toEqual(['namespace', 'steps.train.accelerator', 'steps.train.image']);
    expect(validationError(() => new TrainingPipeline('bad-empty', { platform: p, namespace: 'vision' })).issues.map((i) => i.path)).toEqual(['steps']);
    const sweep = validationError(() => new TuningSweep('Bad_Sweep', {
      platform: p, namespace: 'vision', trial: { image: IMAGE, command: ['train'] }, parameters: [], objectives: [{ metric: 'loss', direction: 'minimize' }], budget: { trials: 0 },
    }));
    expect(sweep.message).toBe([
      'TuningSweep "Bad_Sweep": 3 invalid props',
      '  - `name` ("Bad_Sweep"): must be a DNS-1123 label of at most 30 characters: lowercase letters, digits and "-", starting and ending with a letter or digit (for example "bad-sweep-d9b141df")',
      '  - `parameters` ([]): must list at least one parameter, e.g. [{ name: "lr", type: "float", low: 1e-5, high: 1e-1, log: true }]',
      '  - `budget.trials` (0): must be a whole number ≥ 1',
    ].join('\n'));
    const endpoint = validationError(() => new ModelEndpoint('bad-serve', {
      platform: p, namespace: 'vision', versions: [{ name: 'stable', model: ModelSource.uri('s3://someone-elses-bucket/models/x') }],
    }));
    expect(endpoint.message).toContain('`versions[0].model.credentials` (undefined): s3://someone-elses-bucket/models/x lies outside the platform\'s store');
    const noPlatform = validationError(() => new ModelEndpoint('bad-none', { platform: undefined as unknown as MlPlatform, namespace: 'vision', versions: [] }));
    expect(noPlatform.message).toBe('ModelEndpoint "bad-none": 1 invalid prop\n  - `platform` (undefined): is required: the Pulumi MlPlatform (from mlplatform/pulumi) the workload runs on');
    const declared = (await mocks.resources()).filter((r) => /^(bad-(pipeline|empty|serve|none)|Bad_)/.test(r.name));
    expect(declared.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      'mlplatform:index:ModelEndpoint bad-none', 'mlplatform:index:ModelEndpoint bad-serve', 'mlplatform:index:TrainingPipeline bad-empty',
      'mlplatform:index:TrainingPipeline bad-pipeline', 'mlplatform:index:TuningSweep Bad_Sweep',
    ]);
  });

  test('synth-time checks run with the platform and earlier workloads; a failed workload leaves nothing behind', async () => {
    const reads = (name: string, target: MlPlatform) => new TrainingPipeline(name, {
      platform: target, namespace: 'vision', steps: [{ name: 'fit', image: IMAGE, inputs: { data: Dataset.fromBucket({ prefix: 'datasets/ungranted', version: 'v1' }) } }],
    });
    expect(() => reads('bad-ungranted', p)).toThrow(/error \(data-access\): TrainingPipeline vision\/bad-ungranted reads s3:\/\/mlplatform-cloud-value-bucket\.invalid\/datasets\/ungranted\/v1\//);
    expect(await children('mlplatform:index:TrainingPipeline', 'bad-ungranted')).toEqual([]);
    // A pipeline of the namespace that writes the prefix counts, as in one cdk8s synth: declared first.
    const writer = new TrainingPipeline('bad-writer', { platform: p, namespace: 'vision', steps: [{ name: 'fit', image: IMAGE, outputs: ['model'] }] });
    new ModelEndpoint('bad-reader', {
      platform: p, namespace: 'vision', runtime: Runtime.mlflow(), versions: [{ name: 'stable', model: ModelSource.uri(`${p.context.store.root}/${writer.artifactPrefix}/run-1/fit/model`) }],
    });
    expect(await policyOf('bad-reader-stable-identity')).toEqual(s3AccessPolicy(bucketArn('bad'), { read: ['pipelines/vision/bad-writer/run-1/fit/model'] }));
    // The platform's `checks` reach its workloads.
    const lenient = new MlPlatform('lenient', { cluster: testCluster(), ...readmeDeclarations(), nodes, database: { password: secret('x') }, checks: { 'data-access': 'warning' } });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    let warnings: string[];
    try {
      reads('lenient-reads', lenient);
      warnings = warn.mock.calls.map((c) => String(c[0]));
    } finally {
      warn.mockRestore();
    }
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^\[mlplatform\] warning \(data-access\): TrainingPipeline vision\/lenient-reads reads/)]));
    expect(await policyOf('lenient-reads-identity')).toEqual(s3AccessPolicy(bucketArn('lenient'), { read: ['datasets/ungranted/v1'], write: ['pipelines/vision/lenient-reads'] }));
  });
});

test("an endpoint takes the platform's version table (the MlPlatform instance, not only its context)", async () => {
  const mlflow = 'registry.example.com/mirror/mlflow:v3.18.0-full';
  const p = new MlPlatform('img', { cluster: testCluster(), ...readmeDeclarations(), nodes, database: { password: secret('x') }, versions: { images: { mlflow } } });
  new ModelEndpoint('img-serve', {
    platform: p, namespace: 'vision', runtime: Runtime.mlflow(), versions: [{ name: 'stable', model: ModelSource.registry('churn', { alias: 'champion' }) }],
  });
  const pod = find(await objectsOf('img-serve'), 'Deployment', 'img-serve-stable').inputs.spec.template.spec;
  expect([...pod.initContainers, ...pod.containers].map((c: any) => c.image)).toEqual(expect.arrayContaining([mlflow]));
  expect(JSON.stringify(pod)).not.toContain('ghcr.io/mlflow/mlflow');
});

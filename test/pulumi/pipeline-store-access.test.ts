/**
 * Issue #21 item 4: on AWS, every S3 call a pipeline's data moves make is one its role allows — and
 * only those. The pipeline is the Pulumi component under mocks: the IAM policy is the RolePolicy it
 * creates, the keys are those of the WorkflowTemplate it deploys (Argo's artifact keys, the step I/O
 * containers' URIs, the multi-node Job manifest). Each transfer is replayed call by call, as its
 * program makes them (test/support/s3-calls.ts, citing Argo v4.0.7 workflow/artifacts/s3/s3.go and
 * minio-go v7.0.100; src/programs/step_io.py), against S3's authorization rules evaluated by
 * test/support/iam.ts.
 *
 * What it found, and what changed:
 * - Argo's driver loads a key by getting that key first and lists it as a directory only on
 *   NoSuchKey. A bucket dataset is a prefix, its own key never exists, and S3 answers NoSuchKey for a
 *   missing key only to a caller allowed s3:ListBucket on the GET — which a role whose ListBucket is
 *   limited by `s3:prefix` is not (the GET carries no prefix). So the dataset could not be read, with
 *   or without a trailing slash on the key, and no `s3:prefix` condition can fix it: only a
 *   bucket-wide ListBucket, which would let every pipeline list every tenant's keys. Bucket datasets
 *   are now pulled by the step's I/O init container (list the prefix, get what was listed).
 * - Directory outputs (`archive: none`) passed from one single-node step to the next by Argo (`from:`)
 *   met the same rule: the driver's first GET of the key is refused. Every artifact input on a
 *   platform is now pulled by the step I/O init container too, at the key the producing node reported
 *   as an output parameter (so that a cache hit reads the run that made the output, as `from:` did).
 *   The role is unchanged: nothing wider was needed.
 */
import { parse } from 'yaml';
import { installAwsMocks, NODE_ROLE_ARN, readmeDeclarations, secret, testCluster } from './aws-fixtures';
import { Dataset } from '../../src/core';
import { MlPlatform, NodeProvisioning, TrainingPipeline } from '../../src/pulumi';
import { IamPolicy } from '../support/iam';
import { argoLoad, argoSave, IamCheckedStore, splitUri, stepIoPull, stepIoPush } from '../support/s3-calls';

const mocks = installAwsMocks();
jest.setTimeout(60_000);
const IMAGE = 'ghcr.io/acme/churn:1.4.0';
const RUN = 'churn-7xk2p';
/** A directory output: a small file and one above both multipart thresholds (8 MiB boto3, 16 MiB minio). */
const TREE = { 'part-0.parquet': 4096, 'shards/big.bin': 40 * 1024 * 1024 };

interface Synthesized {
  policy: IamPolicy;
  bucket: string;
  templates: any[];
  /** The multi-node step's Job, as Argo creates it. */
  job: any;
}

let synthesized: Synthesized;

beforeAll(async () => {
  const platform = new MlPlatform('io', {
    cluster: testCluster(),
    ...readmeDeclarations(),
    nodes: NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN }),
    database: { password: secret('x') },
  });
  new TrainingPipeline('churn', {
    platform,
    namespace: 'vision',
    readGrants: [platform.platform.storeLocation('datasets/churn')],
    steps: [
      { name: 'prepare', image: IMAGE, command: ['prepare'], inputs: { raw: Dataset.fromBucket({ prefix: 'datasets/churn', version: 'v3' }) }, outputs: ['table'] },
      { name: 'train', after: ['prepare'], image: IMAGE, command: ['train'], inputs: { table: { step: 'prepare', output: 'table' } }, outputs: ['model'] },
      {
        name: 'finetune',
        after: ['train'],
        image: IMAGE,
        command: ['finetune.py'],
        nodes: 2,
        gpus: 1,
        accelerator: 'nvidia-a10g',
        inputs: { model: { step: 'train', output: 'model' }, raw: Dataset.fromBucket({ prefix: 'datasets/churn', version: 'v3' }) },
        outputs: ['model'],
      },
      { name: 'evaluate', after: ['finetune'], image: IMAGE, command: ['evaluate'], inputs: { model: { step: 'finetune', output: 'model' } } },
    ],
  });
  const policy = JSON.parse((await mocks.one('aws:iam/rolePolicy:RolePolicy', 'churn-identity-s3')).inputs.policy);
  const objects = mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', 'churn-objects')).urn);
  const wt = (await objects).find((o) => o.inputs.kind === 'WorkflowTemplate')!.inputs;
  const run = (t: string) => t.replace(/\{\{workflow\.name\}\}/g, RUN);
  const templates = JSON.parse(run(JSON.stringify(wt.spec.templates)));
  const job = parse(run(templates.find((t: any) => t.name === 'step-finetune').resource.manifest));
  synthesized = { policy, bucket: splitUri(`${(policy.Statement as any[]).find((s) => s.Sid === 'ReadObjects').Resource[0].replace('arn:aws:s3:::', 's3://')}`).bucket, templates, job };
});

const template = (name: string) => synthesized.templates.find((t: any) => t.name === name);
/** `DEST=URI` arguments of a step I/O container. */
const transfers = (c: any) => (c.args as string[]).filter((a) => a.includes('=s3://')).map((a) => ({ local: a.slice(0, a.indexOf('=')), uri: a.slice(a.indexOf('=') + 1) }));
const prefixed = (key: string) => `pipelines/vision/churn/${RUN}/${key}`;

/**
 * The output parameters a producer's node reports: its template's outputs with the values the
 * executor reports unread (`value`: workflow/executor/executor.go SaveParameters reads only
 * `valueFrom.path`), `{{workflow.name}}` being the run that ran it (an earlier one on a cache hit).
 */
function reported(step: string, run = RUN): { name: string; value: string }[] {
  return template(`step-${step}`).outputs.parameters.filter((p: any) => p.value !== undefined).map((p: any) => ({ name: p.name, value: p.value.replace(RUN, run) }));
}

/**
 * The step I/O transfers of `consumer`'s pod as Argo's controller builds it: the DAG task's arguments
 * resolved against the producers' reported outputs (workflow/controller/dag.go
 * resolveDependencyReferences), then the template's `{{inputs.parameters.*}}` substituted
 * (workflow/common/util.go SubstituteParams).
 */
function podTransfers(consumer: string, outputs: Record<string, { name: string; value: string }[]>): { local: string; uri: string }[] {
  const task = template('main').dag.tasks.find((t: any) => t.name === consumer);
  const args = new Map<string, string>((task.arguments?.parameters ?? []).map((a: any) => [a.name, a.value.replace(
    /\{\{tasks\.([a-z0-9-]+)\.outputs\.parameters\.([A-Za-z0-9_-]+)\}\}/g,
    (_: string, step: string, name: string) => outputs[step].find((p) => p.name === name)!.value)]));
  const init = JSON.stringify(template(`step-${consumer}`).initContainers.find((c: any) => c.name === 'step-io'))
    .replace(/\{\{inputs\.parameters\.([A-Za-z0-9_-]+)\}\}/g, (_: string, name: string) => args.get(name)!);
  return transfers(JSON.parse(init));
}

describe('the pipeline role against every transfer of a run', () => {
  test('the synthesized keys: outputs under the run, datasets as prefixes, multi-node inputs and outputs at the single-node keys', () => {
    const { bucket, job } = synthesized;
    expect(template('step-prepare').outputs.artifacts).toEqual([{ name: 'table', path: '/mnt/outputs/table', s3: { key: prefixed('prepare/table') }, archive: { none: {} } }]);
    expect(template('step-prepare').inputs).toBeUndefined();
    // Each single-node step reports the keys of its outputs; a single-node reader pulls from the key reported.
    expect(template('step-prepare').outputs.parameters).toEqual([{ name: 'mlplatform-key-table', value: prefixed('prepare/table') }]);
    expect(template('step-train').inputs).toEqual({ parameters: [{ name: 'mlplatform-artifact-table' }] });
    expect(transfers(template('step-train').initContainers.find((c: any) => c.name === 'step-io'))).toEqual([
      { local: '/mnt/inputs/table', uri: `s3://${bucket}/{{inputs.parameters.mlplatform-artifact-table}}` },
    ]);
    expect(transfers(template('step-prepare').initContainers.find((c: any) => c.name === 'step-io'))).toEqual([{ local: '/mnt/inputs/raw', uri: `s3://${bucket}/datasets/churn/v3/` }]);
    const pod = job.spec.template.spec;
    expect(transfers(pod.initContainers.find((c: any) => c.name === 'step-io'))).toEqual([
      { local: '/mnt/inputs/model', uri: `s3://${bucket}/${prefixed('train/model')}` },
      { local: '/mnt/inputs/raw', uri: `s3://${bucket}/datasets/churn/v3/` },
    ]);
    expect(transfers(pod.containers.find((c: any) => c.name === 'outputs'))).toEqual([{ local: '/mnt/outputs/model', uri: `s3://${bucket}/${prefixed('finetune/model')}` }]);
    expect(transfers(template('step-evaluate').initContainers.find((c: any) => c.name === 'step-io'))).toEqual([{ local: '/mnt/inputs/model', uri: `s3://${bucket}/${prefixed('finetune/model')}` }]);
  });

  test('every step I/O pull and push, and every Argo save with archive none, is allowed', () => {
    const { policy, bucket, job } = synthesized;
    const store = new IamCheckedStore(policy).seed(bucket, ['datasets/churn/v3/a.csv', 'datasets/churn/v3/b/c.csv']);
    // prepare: its dataset pulled, its output saved by Argo.
    for (const t of transfers(template('step-prepare').initContainers.find((c: any) => c.name === 'step-io'))) expect(stepIoPull(store, t.uri)).toEqual({ ok: true });
    expect(argoSave(store, bucket, template('step-prepare').outputs.artifacts[0].s3.key, TREE)).toEqual({ ok: true });
    // train's model as a single file, saved by Argo.
    expect(argoSave(store, bucket, template('step-train').outputs.artifacts[0].s3.key, 1024)).toEqual({ ok: true });
    // finetune: both inputs pulled (a file output, a dataset prefix), its model pushed by node 0.
    const pod = job.spec.template.spec;
    for (const t of transfers(pod.initContainers.find((c: any) => c.name === 'step-io'))) expect(stepIoPull(store, t.uri)).toEqual({ ok: true });
    for (const t of transfers(pod.containers.find((c: any) => c.name === 'outputs'))) expect(stepIoPush(store, t.uri, TREE)).toEqual({ ok: true });
    // evaluate: the multi-node step's directory output pulled.
    for (const t of transfers(template('step-evaluate').initContainers.find((c: any) => c.name === 'step-io'))) expect(stepIoPull(store, t.uri)).toEqual({ ok: true });
    expect(store.has(bucket, `${prefixed('finetune/model')}/shards/big.bin`)).toBe(true);
    // Multipart uploads of the 40 MiB file happened, and were allowed.
    expect(store.log.filter((l) => l.call.op === 'UploadPart').length).toBeGreaterThan(4);
    expect(store.log.filter((l) => l.answer.status !== 200)).toEqual([]);
  });

  test("Argo's driver cannot load a bucket dataset with this role (why datasets are pulled by the step I/O container)", () => {
    const { policy, bucket } = synthesized;
    const store = new IamCheckedStore(policy).seed(bucket, ['datasets/churn/v3/a.csv']);
    for (const key of ['datasets/churn/v3', 'datasets/churn/v3/']) {
      expect(argoLoad(store, bucket, key)).toEqual({ ok: false, failed: { op: 'HeadObject', bucket, key }, answer: { status: 403, code: 'AccessDenied' } });
    }
  });

  test('between two single-node steps no artifact is passed by Argo: the DAG hands over the key the producer reported', () => {
    const dag = template('main').dag.tasks;
    expect(dag.find((t: any) => t.name === 'train').arguments).toEqual({
      parameters: [{ name: 'mlplatform-artifact-table', value: '{{tasks.prepare.outputs.parameters.mlplatform-key-table}}' }],
    });
    expect(dag.flatMap((t: any) => t.arguments?.artifacts ?? [])).toEqual([]);
    expect(synthesized.templates.flatMap((t: any) => t.inputs?.artifacts ?? [])).toEqual([]);
  });

  test('a directory output (archive none) of one single-node step: Argo saves it, the next step pulls it', () => {
    const { policy, bucket } = synthesized;
    const store = new IamCheckedStore(policy);
    const table = template('step-prepare').outputs.artifacts[0];
    expect(table.archive).toEqual({ none: {} });
    expect(argoSave(store, bucket, table.s3.key, TREE)).toEqual({ ok: true });
    const [pull] = podTransfers('train', { prepare: reported('prepare') });
    expect(pull).toEqual({ local: '/mnt/inputs/table', uri: `s3://${bucket}/${prefixed('prepare/table')}` });
    expect(stepIoPull(store, pull.uri)).toEqual({ ok: true });
    // Listed `key/` (s3:prefix within the pipeline's prefix), then got exactly the two objects saved.
    expect(store.log.filter((l) => l.call.op === 'ListObjectsV2').map((l) => l.call.prefix)).toEqual([`${prefixed('prepare/table')}/`]);
    expect(store.log.filter((l) => l.call.op === 'GetObject').map((l) => l.call.key)).toEqual(Object.keys(TREE).map((f) => `${prefixed('prepare/table')}/${f}`));
    expect(store.log.filter((l) => l.answer.status !== 200)).toEqual([]);
  });

  test('a file output, and a tar archive (one object at the key): the pull lists nothing under `key/`, then gets the key itself', () => {
    const { policy, bucket } = synthesized;
    // archive none on a file: PutFile to the key (s3.go saveS3Artifact). A tar archive (Argo's default; mlplatform writes
    // none, so that the registry and endpoints read the tree) is one .tgz file saved the same way
    // (workflow/executor/executor.go stageArchiveFile, saveArtifactFromFile with the template's key).
    for (const size of [1024, 40 * 1024 * 1024]) {
      const store = new IamCheckedStore(policy);
      expect(argoSave(store, bucket, template('step-prepare').outputs.artifacts[0].s3.key, size)).toEqual({ ok: true });
      const [pull] = podTransfers('train', { prepare: reported('prepare') });
      expect(stepIoPull(store, pull.uri)).toEqual({ ok: true });
      expect(store.log.filter((l) => l.call.op === 'GetObject').map((l) => l.call.key)).toEqual([prefixed('prepare/table')]);
      expect(store.log.filter((l) => l.answer.status !== 200)).toEqual([]);
    }
  });

  test('a cache hit of the producer: the next step pulls the output of the run that made it, which the role reads too', () => {
    const { policy, bucket } = synthesized;
    const EARLIER = 'churn-a1b2c';
    const store = new IamCheckedStore(policy);
    const earlierKey = template('step-prepare').outputs.artifacts[0].s3.key.replace(RUN, EARLIER);
    expect(argoSave(store, bucket, earlierKey, TREE)).toEqual({ ok: true });
    // Argo's memoization gives the node the cached outputs (the earlier run's reported key), not this run's.
    const [pull] = podTransfers('train', { prepare: reported('prepare', EARLIER) });
    expect(pull.uri).toBe(`s3://${bucket}/pipelines/vision/churn/${EARLIER}/prepare/table`);
    expect(stepIoPull(store, pull.uri)).toEqual({ ok: true });
    expect(store.log.filter((l) => l.answer.status !== 200)).toEqual([]);
  });

  test("control: Argo's own driver with the same role loads a file output, but its first GET of a directory output is refused", () => {
    const { policy, bucket } = synthesized;
    const store = new IamCheckedStore(policy);
    const table = template('step-prepare').outputs.artifacts[0].s3.key;
    const model = template('step-train').outputs.artifacts[0].s3.key;
    expect(argoSave(store, bucket, model, 1024)).toEqual({ ok: true });
    expect(argoLoad(store, bucket, model)).toEqual({ ok: true });
    expect(argoSave(store, bucket, table, TREE)).toEqual({ ok: true });
    expect(argoLoad(store, bucket, table)).toEqual({ ok: false, failed: { op: 'HeadObject', bucket, key: table }, answer: { status: 403, code: 'AccessDenied' } });
  });

  test('and nothing wider: neighbouring prefixes, the bucket root, other pipelines and writes to datasets are refused', () => {
    const { policy, bucket } = synthesized;
    const store = new IamCheckedStore(policy).seed(bucket, ['datasets/churn/v30/x', 'datasets/churn/v3/a.csv', 'pipelines/vision/churn-2/r/s/o', 'pipelines/nlp/churn/r/s/o']);
    const denied = { status: 403, code: 'AccessDenied' };
    expect(store.call({ op: 'ListObjectsV2', bucket, prefix: 'datasets/churn/v30/' })).toEqual(denied);
    expect(store.call({ op: 'ListObjectsV2', bucket, prefix: 'datasets/churn/v3' })).toEqual(denied); // also lists v30/…
    expect(store.call({ op: 'ListObjectsV2', bucket, prefix: '' })).toEqual(denied);
    expect(store.call({ op: 'ListObjectsV2', bucket })).toEqual(denied);
    expect(store.call({ op: 'GetObject', bucket, key: 'datasets/churn/v30/x' })).toEqual(denied);
    expect(store.call({ op: 'PutObject', bucket, key: 'datasets/churn/v3/a.csv' })).toEqual(denied);
    expect(store.call({ op: 'ListObjectsV2', bucket, prefix: 'pipelines/vision/churn-2/' })).toEqual(denied);
    expect(store.call({ op: 'GetObject', bucket, key: 'pipelines/vision/churn-2/r/s/o' })).toEqual(denied);
    expect(store.call({ op: 'GetObject', bucket, key: 'pipelines/nlp/churn/r/s/o' })).toEqual(denied);
    expect(store.call({ op: 'PutObject', bucket, key: 'pipelines/vision/churn-2/r/s/o' })).toEqual(denied);
  });
});

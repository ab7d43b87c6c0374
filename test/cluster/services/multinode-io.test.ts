/**
 * Issue #21 item 5: a multi-node step's inputs and outputs, for real. The example platform's services
 * run on the kubelet harness (bootstrap, PostgreSQL, SeaweedFS, MLflow: ./platform.ts); a pipeline in
 * tenant `vision` has a 2-node torchrun step reading a bucket dataset and the `train` step's model and
 * writing a model. Its Indexed Job is taken from the WorkflowTemplate's resource manifest as Argo
 * creates it (`{{workflow.name}}` and the template's inputs substituted, the generated name given), and
 * run by the harness's Job controller (../kubelet/jobs.ts: the completion index annotation and label,
 * `hostname: <job>-<index>` under the Job's `subdomain`, the job-name label), with its synthesized
 * containers, env, mounts and the tenant's store Secret. The Job is created suspended for the tenant's
 * Kueue queue; the test unsuspends it, as Kueue does when it admits the workload (admission itself is
 * proven on the control plane, pipeline.test.ts). The step's image is the MLflow
 * image's stand-in, whose root (the host's) has Debian's torchrun.
 *
 * It proves: the step-io init container pulls both inputs with the tenant's credentials; the node
 * wrapper runs torchrun, whose ranks rendezvous on `<job>-0.<service>` and write under the mounted
 * $MLPLATFORM_OUTPUTS (the root is read-only); the `outputs` container of node 0 uploads node 0's
 * outputs — and node 1's none — to exactly the key a single-node step's output gets, which the
 * registration step and later steps read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { StartedPlatform, startPlatform } from './platform';
import { buildPlatform } from '../../../examples/cdk8s-platform/platform';
import { TrainingPipeline } from '../../../src/cdk8s';
import { Cpu, Dataset, Size, VERSIONS } from '../../../src/core';
import { runJob } from '../kubelet/jobs';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const RUN = 'ddp-run-1';
const JOB = 'ddp-finetune-q7x2k';
const FIXTURE = join(__dirname, 'fixtures', 'ddp_io.py');
const STORE = 'http://127.0.0.1:8333';

/** boto3 (the tier's virtualenv) on the host, against the harness's SeaweedFS. */
const S3_SCRIPT = `
import json, sys, boto3
s3 = boto3.client("s3", endpoint_url="${STORE}")
op, bucket = sys.argv[1], sys.argv[2]
if op == "put":
    for key, body in json.loads(sys.argv[3]).items():
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    print(json.dumps({"ok": True}))
else:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=sys.argv[3]):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
    print(json.dumps(out))
`;

describe('a multi-node step pulls its inputs and uploads node 0\'s outputs with the tenant\'s store credentials', () => {
  let objects: KubeObject[];
  let platform: StartedPlatform;
  let work: string;
  let script: string;
  let bucket: string;

  beforeAll(async () => {
    const { chart, platform: ml } = buildPlatform(Testing.app());
    const p = new TrainingPipeline(chart, 'ddp', { platform: ml, namespace: 'vision' });
    const train = p.addStep('train', { image: VERSIONS.images.mlflow, command: ['python3', '-c', 'pass'], outputs: ['model'] });
    p.addStep('finetune', {
      after: [train],
      image: VERSIONS.images.mlflow,
      // torchrun flags before the script: Debian's torch 1.13 on Python 3.11 needs redirects (test/engine/torchrun.test.ts).
      command: ['--redirects', '2', '--tee', '2', FIXTURE],
      inputs: { raw: Dataset.fromBucket({ prefix: 'datasets/ddp', version: 'v1' }), model: train.artifact('model') },
      outputs: ['model'],
      nodes: 2,
      gpus: 1,
      accelerator: 'nvidia-h100-80gb',
      cpu: Cpu.cores(1),
      memory: Size.gibibytes(2),
      ephemeralStorage: Size.gibibytes(1),
    });
    ml.storeLocation('datasets/ddp').grantRead(p);
    objects = chart.toJson() as KubeObject[];
    bucket = ml.context.store.bucket;
    work = mkdtempSync(join(tmpdir(), 'multinode-io-'));
    script = join(work, 's3.py');
    writeFileSync(script, S3_SCRIPT);
    platform = await startPlatform(objects);
  }, MINUTE);

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, MINUTE);

  const s3 = (creds: Record<string, string>, args: string[]) => JSON.parse(platform.python([script, ...args], {
    AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1',
  }));

  test('inputs in, torchrun on both nodes, node 0\'s model out at the single-node key', async () => {
    await platform.pods.store.waitReady('seaweedfs', 6 * MINUTE);
    const bootstrap = await platform.pods.bootstrap.waitForExit(platform.pods.bootstrap.pod.spec.containers[0].name, 6 * MINUTE);
    expect(bootstrap.code).toBe(0);
    const tenant = platform.secret('vision', 'ml-store');
    const admin = platform.secret('mlplatform', 'ml-s3-credentials');
    expect(tenant).toBeDefined();
    // The dataset, put there by the data team (the platform's store identity), and train's model, as its run wrote it.
    expect(s3(admin!, ['put', bucket, JSON.stringify({ 'datasets/ddp/v1/part-0.csv': 'a,1\nb,2\nc,3\n', 'datasets/ddp/v10/other.csv': 'not this' })])).toEqual({ ok: true });
    expect(s3(tenant!, ['put', bucket, JSON.stringify({ [`pipelines/vision/ddp/${RUN}/train/model/weights.txt`]: 'base-v7\n' })])).toEqual({ ok: true });

    const template = objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === 'ddp')!.spec.templates.find((t: any) => t.name === 'step-finetune');
    const manifest = String(template.resource.manifest).replace(/\{\{workflow\.name\}\}/g, RUN).replace(/\{\{workflow\.uid\}\}/g, '7f3e0c8a-2b1d-4e5f-9a6b-0c1d2e3f4a5b');
    expect(manifest).not.toMatch(/\{\{/);
    const job = parse(manifest);
    expect(job.spec.suspend).toBe(true); // queued: Kueue admits it by setting suspend to false
    job.metadata.name = JOB; // what Argo's generateName gives
    job.spec.suspend = false;
    const run = runJob(platform.kubelet, job);
    const end = await run.wait(6 * MINUTE);
    if (end.type !== 'Complete') throw new Error(`${JSON.stringify(end)}\n${run.describe()}`);
    expect(run.status).toMatchObject({ succeeded: 2, failed: 0, completedIndexes: '0-1' });
    const pods = [0, 1].map((i) => run.pods.find((p) => p.index === i)!.pod);
    for (const p of pods) for (const c of ['node', 'outputs']) expect([p.name, c, p.status.get(c)!.exits]).toEqual([p.name, c, [{ code: 0, signal: null }]]);
    expect(pods[0].status.get('step-io')!.exits).toEqual([{ code: 0, signal: null }]);
    expect(pods[0].log('step-io')).toContain(`s3://${bucket}/datasets/ddp/v1/: 1 object(s) into /mnt/inputs/raw`);
    const ranks = `${pods[0].log('node')}\n${pods[1].log('node')}`;
    expect(ranks).toContain('DDP-IO-OK rank=0 world=2');
    expect(ranks).toContain('DDP-IO-OK rank=1 world=2');
    // Each node's outputs container waited for its node: node 0 uploaded, node 1 did not.
    expect(pods[0].log('outputs')).toContain(`/mnt/outputs/model: 2 file(s) to s3://${bucket}/pipelines/vision/ddp/${RUN}/finetune/model/`);
    expect(pods[1].log('outputs')).toContain('node 1: the outputs are uploaded by node 0');

    const uploaded = s3(tenant!, ['list', bucket, `pipelines/vision/ddp/${RUN}/finetune/`]);
    expect(uploaded).toEqual({
      [`pipelines/vision/ddp/${RUN}/finetune/model/weights.txt`]: 'base-v7+finetuned world=2 sum=3 rows=3\n',
      [`pipelines/vision/ddp/${RUN}/finetune/model/node-0.txt`]: expect.any(String),
    });
    // The key a single-node step's output gets, and the one the registration step would register.
    const single = objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === 'ddp')!.spec.templates.find((t: any) => t.name === 'step-train').outputs.artifacts[0].s3.key;
    expect(single.replace('{{workflow.name}}', RUN).replace('/train/', '/finetune/')).toBe(`pipelines/vision/ddp/${RUN}/finetune/model`);
  }, 12 * MINUTE);
});

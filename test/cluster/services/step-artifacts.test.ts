/**
 * Issue #21 item 4 on the embedded store: the outputs of one single-node step read by the next, for
 * real. The example platform's services run on the kubelet harness (bootstrap, PostgreSQL, SeaweedFS,
 * MLflow: ./platform.ts); a pipeline in tenant `vision` has a `prepare` step writing a directory
 * output `table` and a file output `stats`, and a `train` step reading both.
 *
 * 1. prepare's outputs are put where Argo's executor saves them with `archive: none` (argo-workflows
 *    v4.0.7 workflow/artifacts/s3/s3.go saveS3Artifact: a directory one object per file under
 *    `<key>/`, a file the object `<key>`), with the tenant's store credentials — this upload is the
 *    double (the step's image cannot run here, and test/cluster/pipeline.test.ts runs the controller);
 * 2. train's pod is built from its template as Argo's controller builds it: `{{workflow.*}}`
 *    substituted, each `mlplatform-artifact-<input>` template input set to what prepare's node
 *    reported (its `mlplatform-key-<output>` output parameters; the controller resolving them is
 *    proven in test/cluster/pipeline.test.ts), its init and main containers run on the harness with
 *    their synthesized env, users and mounts. The step image is the MLflow image's stand-in, whose
 *    `python3` prints what it finds under $MLPLATFORM_INPUTS;
 * 3. the `step-io` init container pulls both, with the tenant's credentials; once for this run, once
 *    for a cache hit of prepare (the keys prepare reported in an earlier run).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { StartedPlatform, startPlatform } from './platform';
import { buildPlatform } from '../../../examples/cdk8s-platform/platform';
import { TrainingPipeline } from '../../../src/cdk8s';
import { VERSIONS } from '../../../src/core';
import { workloadsOf } from '../kubelet/readability';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const TENANT = 'vision';

/** What train's main container prints: every file under $MLPLATFORM_INPUTS with its text. */
const LIST_INPUTS = `
import json, os
root = os.environ["MLPLATFORM_INPUTS"]
out = {}
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        out[os.path.relpath(p, root)] = open(p).read()
print("INPUTS " + json.dumps(out, sort_keys=True))
`;

/** boto3 (the tier's virtualenv) on the host, against the harness's SeaweedFS: puts `{key: text}`. */
const PUT_SCRIPT = `
import json, sys, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:8333")
for key, body in json.loads(sys.argv[2]).items():
    s3.put_object(Bucket=sys.argv[1], Key=key, Body=body.encode())
print(json.dumps({"ok": True}))
`;

/** `o` with each `{{name}}` of `vars` replaced, as Argo's controller substitutes a template (workflow/common/util.go SubstituteParams). */
function substitute<T>(o: T, vars: Record<string, string>): T {
  let text = JSON.stringify(o);
  for (const [k, v] of Object.entries(vars)) text = text.split(`{{${k}}}`).join(v);
  return JSON.parse(text);
}

describe("a single-node step pulls an earlier single-node step's directory and file outputs, at the keys that step reported", () => {
  let objects: KubeObject[];
  let platform: StartedPlatform;
  let work: string;
  let bucket: string;

  beforeAll(async () => {
    const { chart, platform: ml } = buildPlatform(Testing.app());
    const p = new TrainingPipeline(chart, 'tab', { platform: ml, namespace: TENANT });
    const prepare = p.addStep('prepare', { image: VERSIONS.images.mlflow, command: ['python3', '-c', 'pass'], outputs: ['table', 'stats'] });
    p.addStep('train', {
      after: [prepare],
      image: VERSIONS.images.mlflow,
      command: ['python3', '-c', LIST_INPUTS],
      inputs: { table: prepare.artifact('table'), stats: prepare.artifact('stats') },
    });
    objects = chart.toJson() as KubeObject[];
    bucket = ml.context.store.bucket;
    work = mkdtempSync(join(tmpdir(), 'step-artifacts-'));
    writeFileSync(join(work, 'put.py'), PUT_SCRIPT);
    platform = await startPlatform(objects);
  }, MINUTE);

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, MINUTE);

  const templateOf = (name: string) => objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === 'tab')!.spec.templates.find((t: any) => t.name === name);

  /** What prepare's node reports for run `run`: its `value` output parameters (workflow/executor/executor.go SaveParameters leaves them as they are). */
  const reported = (run: string): Record<string, string> => Object.fromEntries(templateOf('step-prepare').outputs.parameters
    .filter((x: any) => x.value !== undefined).map((x: any) => [x.name, substitute(x.value, { 'workflow.name': run })]));

  /** Starts train's pod in run `run`, its inputs resolved from `outputs` (prepare's reported ones) as the DAG task passes them. */
  function startTrain(run: string, outputs: Record<string, string>) {
    const task = templateOf('main').dag.tasks.find((t: any) => t.name === 'train');
    const inputs = Object.fromEntries(task.arguments.parameters.map((a: any) => [
      `inputs.parameters.${a.name}`, a.value.replace(/^\{\{tasks\.prepare\.outputs\.parameters\.(.+)\}\}$/, (_: string, n: string) => outputs[n]),
    ]));
    const base = workloadsOf(objects).find((w) => w.label === `WorkflowTemplate ${TENANT}/tab template step-train`)!.workload;
    const job: any = substitute(base, { 'workflow.name': run, 'workflow.uid': '5c0e1f2a-3b4c-4d5e-8f60-718293a4b5c6', ...inputs });
    expect(JSON.stringify(job)).not.toMatch(/\{\{/);
    job.spec.template.spec.restartPolicy = 'Never';
    return platform.kubelet.run(job, { name: `${run}-train` });
  }

  /** Runs train's pod to its end; what its main container found under $MLPLATFORM_INPUTS. */
  async function runTrain(run: string, outputs: Record<string, string>) {
    const pod = startTrain(run, outputs);
    const exit = await pod.waitForExit('main', 3 * MINUTE);
    if (exit.code !== 0) throw new Error(`train exited ${JSON.stringify(exit)}\n[step-io]\n${pod.log('step-io')}\n[main]\n${pod.log('main')}`);
    const line = pod.log('main').split('\n').find((l) => l.startsWith('INPUTS '));
    return { pod, inputs: JSON.parse(line!.slice('INPUTS '.length)) as Record<string, string> };
  }

  const put = (creds: Record<string, string>, objectsByKey: Record<string, string>) => JSON.parse(platform.python([join(work, 'put.py'), bucket, JSON.stringify(objectsByKey)], {
    AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1',
  }));

  test('this run, and a cache hit of prepare: train gets exactly the objects prepare saved, with the tenant\'s credentials', async () => {
    await platform.pods.store.waitReady('seaweedfs', 6 * MINUTE);
    const bootstrap = await platform.pods.bootstrap.waitForExit(platform.pods.bootstrap.pod.spec.containers[0].name, 6 * MINUTE);
    expect(bootstrap.code).toBe(0);
    const tenant = platform.secret(TENANT, 'ml-store')!;
    expect(tenant).toBeDefined();

    for (const [run, made] of [['tab-run-2', 'tab-run-2'], ['tab-run-3', 'tab-run-1']]) {
      // prepare's outputs of run `made` (run-3 reuses run-1's: a cache hit), where Argo saves them with archive none.
      const keys = reported(made);
      expect(keys).toEqual({ 'mlplatform-key-table': `pipelines/${TENANT}/tab/${made}/prepare/table`, 'mlplatform-key-stats': `pipelines/${TENANT}/tab/${made}/prepare/stats` });
      expect(put(tenant, {
        [`${keys['mlplatform-key-table']}/part-0.csv`]: `a,1\n${made}\n`,
        [`${keys['mlplatform-key-table']}/nested/part-1.csv`]: 'b,2\n',
        [keys['mlplatform-key-stats']]: `rows=2 ${made}\n`,
      })).toEqual({ ok: true });

      const { pod, inputs } = await runTrain(run, keys);
      expect(inputs).toEqual({ 'table/part-0.csv': `a,1\n${made}\n`, 'table/nested/part-1.csv': 'b,2\n', 'stats': `rows=2 ${made}\n` });
      expect(pod.log('step-io')).toContain(`s3://${bucket}/${keys['mlplatform-key-table']}: 2 object(s) into /mnt/inputs/table`);
      expect(pod.log('step-io')).toContain(`s3://${bucket}/${keys['mlplatform-key-stats']}: one object into /mnt/inputs/stats`);
    }
  }, 12 * MINUTE);

  test('control: outputs that were never saved fail the pull, naming the URI and the store\'s answer; the step does not start', async () => {
    const keys = reported('tab-run-4');
    const pod = startTrain('tab-run-4', keys);
    const exit = await pod.waitForExit('step-io', 2 * MINUTE);
    expect(exit.code).not.toBe(0);
    expect(pod.log('step-io')).toContain(
      `s3://${bucket}/${keys['mlplatform-key-table']}: no object under ${keys['mlplatform-key-table']}/ and the object itself could not be read (NoSuchKey)`);
    expect(pod.status.get('main')?.exits ?? []).toEqual([]);
  }, 3 * MINUTE);
});

/**
 * Issue #21 item 2, end to end: the example's pipeline registers a model, the example's endpoint
 * loads it. Everything starts from the synthesized example (examples/cdk8s-platform: the platform,
 * the `resnet` TrainingPipeline, the `resnet50` ModelEndpoint):
 *
 * 1. the platform's services run on the kubelet harness (bootstrap, PostgreSQL, SeaweedFS, MLflow
 *    with basic auth: ./platform.ts);
 * 2. the `publish` step's output is uploaded as Argo's executor uploads an `archive: none` directory
 *    output (the step's image is the user's and cannot run; argoexec's upload is done here with boto3,
 *    to the key the WorkflowTemplate declares, with the artifact repository and Secret the Argo
 *    chart values name — the double is this upload only);
 * 3. the `register-publish` template runs as a pod on the harness (its container, env, user,
 *    volumes, ServiceAccount from the synthesized WorkflowTemplate, `{{workflow.*}}` substituted as
 *    Argo's controller does): MLflow's client registers the output's `s3://` source and moves the
 *    `candidate` alias;
 * 4. the endpoint's `shadow` version (`models:/resnet50@candidate`) runs its Deployment's pod up to
 *    the end of its init container `fetch-model` (the Triton server and the payload logger have no
 *    stand-in image: not started), and the model volume then holds exactly the uploaded bytes.
 *
 * Controls keep the failure visible: the fetch step with the environment it had before the fix
 * (MLflow credentials only) fails with botocore's NoCredentialsError, and a version whose source
 * holds nothing fails the fetch instead of serving an empty model.
 */
import { createHash, randomBytes, randomUUID } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { Testing } from 'cdk8s';
import { one, StartedPlatform, startPlatform } from './platform';
import { buildExample } from '../../../examples/cdk8s-platform/platform';
import { installedValues } from '../charts';
import { RunningPod } from '../kubelet/kubelet';
import { workloadsOf } from '../kubelet/readability';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const TENANT = 'vision';

/** sha256 of every file under `dir`, by path relative to it. */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/**
 * Argo's controller substitutes the global variables into a template before creating its pod
 * (workflow/controller/operator.go `setGlobalParameters`, workflow/common/common.go
 * `GlobalVarWorkflowName`/`GlobalVarWorkflowUID`).
 */
function substitute<T>(o: T, vars: Record<string, string>): T {
  let text = JSON.stringify(o);
  for (const [k, v] of Object.entries(vars)) text = text.split(`{{${k}}}`).join(v);
  return JSON.parse(text);
}

/** The repository's `host:port` endpoint as the host reaches it: every Service is on the loopback here (kubelet.ts). */
function storeUrl(repo: { endpoint: string; insecure: boolean }): string {
  expect(repo.endpoint).toBe('ml-s3.mlplatform.svc.cluster.local:8333');
  return `${repo.insecure ? 'http' : 'https'}://127.0.0.1:${repo.endpoint.split(':')[1]}`;
}

describe('pipeline → registry → endpoint: the endpoint loads exactly the bytes the pipeline registered', () => {
  let objects: KubeObject[];
  let platform: StartedPlatform;
  let work: string;
  const started = Date.now();
  const timings: Record<string, number> = {};
  const pods: RunningPod[] = [];
  const workflow = { 'workflow.name': 'resnet-7xk2p', 'workflow.uid': randomUUID(), 'workflow.namespace': TENANT };
  let uploaded: Record<string, string> = {};

  const template = (name: string) => one(objects, 'WorkflowTemplate', TENANT, 'resnet').spec.templates.find((t: any) => t.name === name);
  const shadow = () => one(objects, 'Deployment', TENANT, 'resnet50-shadow');

  /** Runs the registration template's pod for workflow `vars`; resolves with its log. */
  const register = async (vars: Record<string, string>) => {
    const job: any = substitute(workloadsOf(objects).find((w) => w.label === `WorkflowTemplate ${TENANT}/resnet template register-publish`)!.workload, vars);
    // Argo's workflow pods never restart in place (workflow/controller/workflowpod.go: RestartPolicyNever); retries are new pods.
    job.spec.template.spec.restartPolicy = 'Never';
    const pod = platform.kubelet.run(job, { name: `${vars['workflow.name']}-register` });
    pods.push(pod);
    const exit = await pod.waitForExit('main', 3 * MINUTE);
    return { exit, log: pod.log('main'), pod };
  };

  beforeAll(async () => {
    objects = buildExample(Testing.app()).chart.toJson() as KubeObject[];
    work = mkdtempSync(join(tmpdir(), 'model-flow-'));
    platform = await startPlatform(objects);
    await platform.pods.tracking.waitReady('mlflow', 8 * MINUTE);
    timings.trackingReady = (Date.now() - started) / 1000;
    const exit = await platform.pods.bootstrap.waitForExit('bootstrap', 4 * MINUTE);
    if (exit.code !== 0) throw new Error(`bootstrap failed:\n${platform.pods.bootstrap.describe('bootstrap')}`);
    timings.bootstrapDone = (Date.now() - started) / 1000;
  }, 13 * MINUTE);

  afterAll(async () => {
    await Promise.all(pods.map((p) => p.stop()));
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`model flow timings (s since start): ${JSON.stringify(timings)}`);
  }, 2 * MINUTE);

  test('the publish step\'s output is in the store, at the key its template declares (uploaded as argoexec does)', () => {
    const artifact = template('step-publish').outputs.artifacts.find((a: any) => a.name === 'mlflowModel');
    expect(artifact.archive).toEqual({ none: {} });
    const key: string = substitute(artifact.s3.key, workflow);
    expect(key).toBe('pipelines/vision/resnet/resnet-7xk2p/publish/mlflowModel');
    // The step's output directory: an MLflow model (MLmodel + weights) and a nested file.
    const out = join(work, 'mlflowModel');
    mkdirSync(join(out, 'extra'), { recursive: true });
    writeFileSync(join(out, 'MLmodel'), 'artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\nmlflow_version: 3.17.2\n');
    writeFileSync(join(out, 'model.onnx'), randomBytes(256 * 1024));
    writeFileSync(join(out, 'extra', 'labels.txt'), 'cat\ndog\n');
    uploaded = digests(out);
    // The executor's repository: the Argo chart's `artifactRepository.s3` as installed, its Secret read
    // in the workflow's namespace. An `archive: none` directory becomes one object per file under the
    // key (workflow/artifacts/s3/s3.go `saveS3Artifact` → `PutDirectory` → `generatePutTasks`, Argo v4.0.7).
    const repo = installedValues(objects, 'argo-workflows').artifactRepository.s3;
    const secret = platform.secret(TENANT, repo.accessKeySecret.name)!;
    expect(repo.secretKeySecret.name).toBe(repo.accessKeySecret.name);
    const result = JSON.parse(platform.python(['-c', [
      'import boto3, json, os, sys',
      'endpoint, bucket, key, root, ak, sk = sys.argv[1:7]',
      "s3 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=ak, aws_secret_access_key=sk)",
      'done = []',
      'for d, _, files in os.walk(root):',
      '    for f in files:',
      '        p = os.path.join(d, f)',
      "        k = key + '/' + os.path.relpath(p, root)",
      '        s3.upload_file(p, bucket, k)',
      '        done.append(k)',
      'print(json.dumps(sorted(done)))',
    ].join('\n'), storeUrl(repo), repo.bucket, key, out, secret[repo.accessKeySecret.key], secret[repo.secretKeySecret.key]], {}));
    expect(result).toEqual(Object.keys(uploaded).map((p) => `${key}/${p}`).sort());
  }, 2 * MINUTE);

  test('the registration step, run from its template, registers the output\'s s3:// source and moves the alias', async () => {
    expect(Object.keys(uploaded).length).toBeGreaterThan(0);
    const { exit, log } = await register(workflow);
    timings.registered = (Date.now() - started) / 1000;
    expect({ exit, log: log.slice(-2000) }).toEqual({ exit: { code: 0, signal: null }, log: expect.stringContaining('registered resnet50 version 1\n') });
    // As MLflow's REST API answers it: the version's source, and the alias the endpoint serves.
    const admin = platform.secret('mlplatform', 'ml-mlflow-admin')!;
    const auth = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
    const res = await fetch('http://127.0.0.1:5000/api/2.0/mlflow/registered-models/alias?name=resnet50&alias=candidate', { headers: { authorization: auth } });
    const body = await res.json() as any;
    expect(body.model_version).toMatchObject({ version: '1', source: 's3://ml-artifacts/pipelines/vision/resnet/resnet-7xk2p/publish/mlflowModel' });
  }, 4 * MINUTE);

  test('the endpoint\'s fetch init container, run from the shadow Deployment\'s pod spec, puts exactly those bytes on the model volume', async () => {
    const d = shadow();
    const fetchSpec = d.spec.template.spec.initContainers.find((c: any) => c.name === 'fetch-model');
    expect(fetchSpec.env).toContainEqual({ name: 'MODEL_URI', value: 'models:/resnet50@candidate' });
    const pod = platform.kubelet.run(d, { name: 'resnet50-shadow-fetch', initOnly: true });
    pods.push(pod);
    const exit = await pod.waitForExit('fetch-model', 4 * MINUTE);
    timings.fetched = (Date.now() - started) / 1000;
    if (exit.code !== 0) throw new Error(`fetch-model exited ${JSON.stringify(exit)}\n${pod.describe('fetch-model')}`);
    const modelDir = fetchSpec.env.find((e: any) => e.name === 'MODEL_DIR').value as string;
    expect(modelDir).toBe('/models/repository/resnet50/1');
    const onVolume = join(pod.dir, 'volumes', 'model', modelDir.replace(/^\/models\//, ''));
    const fetched = digests(onVolume);
    // MLflow adds `registered_model_meta` next to an MLmodel file it downloads through `models:/`
    // (mlflow/store/artifact/models_artifact_repo.py `download_artifacts` → `_add_registered_model_meta_file`).
    const { registered_model_meta: meta, ...files } = fetched;
    expect(files).toEqual(uploaded);
    expect(meta).toBeDefined();
    expect(readFileSync(join(onVolume, 'registered_model_meta'), 'utf8')).toMatch(/^model_name: resnet50\nmodel_version: '?1'?\n$/);
    // The staging folder is gone; the server containers were not started (no stand-in for Triton).
    expect(existsSync(join(pod.dir, 'volumes', 'model', '.staging'))).toBe(false);
    expect(pod.status.get('server')).toMatchObject({ state: 'waiting', exits: [] });
  }, 5 * MINUTE);

  test('a version logged through the tracking server (an mlflow-artifacts:/ source, --serve-artifacts) loads the same way', async () => {
    // The tenant's MLflow user logs a model with MLflow's client (the artifact goes through the tracking server),
    // registers it and points `champion` at it, which the endpoint's stable version serves. (MLflow denies by
    // default: an mlflow-artifacts:/ source is readable by whoever may read its run's experiment.)
    const user = platform.secret(TENANT, 'ml-tracking')!;
    const payload = join(work, 'manual', 'weights.bin');
    mkdirSync(join(work, 'manual'));
    writeFileSync(payload, randomBytes(64 * 1024));
    const env = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MLFLOW_TRACKING_USERNAME: user.username, MLFLOW_TRACKING_PASSWORD: user.password };
    const logged = JSON.parse(platform.python([join(__dirname, 'mlflow_client.py'), 'log', 'resnet-manual', payload, 'resnet50'], env));
    expect(logged.model_source).toMatch(/^mlflow-artifacts:\/.*\/model$/);
    const auth = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    const set = await fetch('http://127.0.0.1:5000/api/2.0/mlflow/registered-models/alias', {
      method: 'POST', headers: { 'authorization': auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'resnet50', alias: 'champion', version: logged.model_version }),
    });
    expect(set.status).toBe(200);
    const stable = one(objects, 'Deployment', TENANT, 'resnet50-stable');
    expect(stable.spec.template.spec.initContainers[0].env).toContainEqual({ name: 'MODEL_URI', value: 'models:/resnet50@champion' });
    const pod = platform.kubelet.run(stable, { name: 'resnet50-stable-fetch', initOnly: true });
    pods.push(pod);
    const exit = await pod.waitForExit('fetch-model', 4 * MINUTE);
    if (exit.code !== 0) throw new Error(`fetch-model exited ${JSON.stringify(exit)}\n${pod.describe('fetch-model')}`);
    expect(digests(join(pod.dir, 'volumes', 'model', 'repository', 'resnet50', '1'))).toEqual(digests(join(work, 'manual')));
  }, 5 * MINUTE);

  test('control: the fetch step with its environment before the fix (MLflow credentials only) cannot download the registered source', async () => {
    const broken = JSON.parse(JSON.stringify(shadow()));
    const fetchSpec = broken.spec.template.spec.initContainers.find((c: any) => c.name === 'fetch-model');
    fetchSpec.env = fetchSpec.env.filter((e: any) => !/^AWS_|^MLFLOW_S3_/.test(e.name));
    expect(fetchSpec.env.map((e: any) => e.name)).toEqual(['HOME', 'MODEL_URI', 'MODEL_DIR', 'MODEL_STAGING', 'MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME_FILE', 'MLFLOW_TRACKING_PASSWORD_FILE']);
    const pod = platform.kubelet.run(broken, { name: 'resnet50-shadow-before-fix', initOnly: true });
    pods.push(pod);
    const exit = await pod.waitForExit('fetch-model', 4 * MINUTE);
    await pod.stop();
    expect(exit.code).not.toBe(0);
    // boto3 finds no credentials (botocore/auth.py `SigV4Auth.add_auth` raises NoCredentialsError; mlflow#14586).
    expect(pod.log('fetch-model')).toMatch(/NoCredentialsError|Unable to locate credentials/);
  }, 5 * MINUTE);

  test('a version whose source holds nothing fails the fetch instead of serving an empty model', async () => {
    // Another run that registers without having uploaded anything: the alias moves to its new version.
    const { exit, log } = await register({ ...workflow, 'workflow.name': 'resnet-empty', 'workflow.uid': randomUUID() });
    expect({ exit, log: log.slice(-2000) }).toEqual({ exit: { code: 0, signal: null }, log: expect.stringMatching(/registered resnet50 version 3\n$/) });
    const pod = platform.kubelet.run(shadow(), { name: 'resnet50-shadow-empty', initOnly: true });
    pods.push(pod);
    const fetchExit = await pod.waitForExit('fetch-model', 4 * MINUTE);
    await pod.stop();
    expect(fetchExit.code).toBe(1);
    expect(pod.log('fetch-model')).toContain('nothing to download at models:/resnet50@candidate: its source holds no files');
  }, 6 * MINUTE);
});

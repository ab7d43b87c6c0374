/**
 * The example platform's shared services, for real, started from the synthesized objects by the
 * kubelet harness: the bootstrap Job writes the credentials, PostgreSQL and SeaweedFS start from
 * their StatefulSets, MLflow (the tier's MLflow, with basic auth) from the tracking Deployment. Then
 * MLflow's own client, with the credentials the bootstrap stored, uses it as the platform's users
 * would: the admin and each tenant's MLflow user.
 */
import { createHash, randomBytes } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { StartedPlatform, startPlatform } from './platform';
import { buildPlatform } from '../../../examples/cdk8s-platform/platform';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const CLIENT = join(__dirname, 'mlflow_client.py');
const TRACKING = 'http://127.0.0.1:5000';

describe('the example platform: bootstrap, PostgreSQL, SeaweedFS and the MLflow tracking server on the harness', () => {
  let objects: KubeObject[];
  let platform: StartedPlatform;
  let work: string;
  const started = Date.now();
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    objects = buildPlatform(Testing.app()).chart.toJson() as KubeObject[];
    work = mkdtempSync(join(tmpdir(), 'services-test-'));
    platform = await startPlatform(objects);
  }, MINUTE);

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`services test timings (s since start): ${JSON.stringify(timings)}`);
  }, MINUTE);

  /** Runs MLflow's client; a failure carries the tracking server's log (the server side of the story). */
  const client = (args: string[], user: Record<string, string>) => {
    try {
      return JSON.parse(platform.python([CLIENT, ...args], as(user)));
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- tracking server\n${platform.pods.tracking.log('mlflow').slice(-8000)}`);
    }
  };
  const as = (user: Record<string, string>) => {
    const { username, password, ...extra } = user;
    return { MLFLOW_TRACKING_URI: TRACKING, MLFLOW_TRACKING_USERNAME: username, MLFLOW_TRACKING_PASSWORD: password, ...extra };
  };
  let adminRun: { experiment_id: string; run_id: string } | undefined;

  test('PostgreSQL and SeaweedFS start from their StatefulSets once the bootstrap has written their Secrets', async () => {
    await platform.pods.postgres.waitReady('postgres', 4 * MINUTE);
    timings.postgresReady = (Date.now() - started) / 1000;
    await platform.pods.store.waitReady('seaweedfs', 4 * MINUTE);
    timings.storeReady = (Date.now() - started) / 1000;
  }, 9 * MINUTE);

  test('the tracking server starts from its Deployment (command, args, env, basic_auth.ini) and answers /health', async () => {
    await platform.pods.tracking.waitReady('mlflow', 6 * MINUTE);
    timings.trackingReady = (Date.now() - started) / 1000;
    const health = await fetch(`${TRACKING}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('OK');
    // Basic auth is on: no credentials, no experiments.
    const anonymous = await fetch(`${TRACKING}/api/2.0/mlflow/experiments/search?max_results=1`);
    expect(anonymous.status).toBe(401);
  }, 7 * MINUTE);

  test('issue 21 item 0, kept as a control: the same Deployment without fsGroup cannot read basic_auth.ini and MLflow exits', async () => {
    const tracking = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ml-tracking')!;
    const broken = JSON.parse(JSON.stringify(tracking));
    expect(broken.spec.template.spec.securityContext).toMatchObject({ fsGroup: 1000 });
    delete broken.spec.template.spec.securityContext.fsGroup;
    delete broken.spec.template.spec.securityContext.fsGroupChangePolicy;
    const pod = platform.kubelet.run(broken, { name: 'ml-tracking-without-fsgroup' });
    const exit = await pod.waitForExit('mlflow', 2 * MINUTE);
    await pod.stop();
    expect(exit.code).toBe(1);
    // configparser skips the file it cannot open; MLflow's read_auth_config() then fails (mlflow/server/auth/config.py).
    expect(pod.log('mlflow')).toContain("KeyError: 'mlflow'");
  }, 3 * MINUTE);

  test('the bootstrap completes: the bucket exists and each tenant has its MLflow user', async () => {
    const exit = await platform.pods.bootstrap.waitForExit('bootstrap', 4 * MINUTE);
    timings.bootstrapDone = (Date.now() - started) / 1000;
    expect({ exit, log: platform.pods.bootstrap.log('bootstrap') }).toEqual({ exit: { code: 0, signal: null }, log: expect.stringMatching(/\[bootstrap\] done\n$/) });
    const log = platform.pods.bootstrap.log('bootstrap');
    expect(log).toContain('[bootstrap] created bucket ml-artifacts\n');
    for (const tenant of ['vision', 'nlp']) {
      expect(log).toContain(`[bootstrap] created MLflow user ${tenant}\n`);
      const user = platform.secret(tenant, 'ml-tracking')!;
      // With MLflow's ~/.mlflow/credentials of the same user, for the tenant's own containers (bootstrap.py ini_file).
      expect(user).toEqual({ username: tenant, password: expect.stringMatching(/^[0-9a-f]{48}$/), credentials: `[mlflow]\nmlflow_tracking_username = ${tenant}\nmlflow_tracking_password = ${user.password}\n\n` });
    }
  }, 5 * MINUTE);

  test('the admin logs a run and an artifact (stored in SeaweedFS through --serve-artifacts) and registers a model version', () => {
    const admin = platform.secret('mlplatform', 'ml-mlflow-admin')!;
    const payload = join(work, 'weights.bin');
    const bytes = randomBytes(4096);
    writeFileSync(payload, bytes);
    const out = client(['log', 'platform-check', payload, 'platform-model'], admin);
    expect(out).toMatchObject({ run_id: expect.any(String), model_version: '1', artifact_uri: expect.stringMatching(/^mlflow-artifacts:\//) });
    // Downloaded back through the tracking server (proxied): the same bytes. MLflow 3.17's client would
    // otherwise fetch from the store directly — see the next test.
    const fetched = client(['fetch', out.run_id, 'model/weights.bin'], { ...admin, MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD: 'false' });
    expect(fetched.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    adminRun = out;
    // And they are in the object store, in the bucket the bootstrap created, under the run.
    const s3 = platform.secret('mlplatform', 'ml-s3-credentials')!;
    const listed = platform.python(['-c', [
      'import boto3, hashlib, json, sys',
      "s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:8333', region_name='us-east-1', aws_access_key_id=sys.argv[1], aws_secret_access_key=sys.argv[2])",
      "keys = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket='ml-artifacts') for o in p.get('Contents', [])]",
      "hits = [k for k in keys if k.endswith('/' + sys.argv[3] + '/artifacts/model/weights.bin')]",
      "print(json.dumps({'keys': hits, 'sha256': [hashlib.sha256(s3.get_object(Bucket='ml-artifacts', Key=k)['Body'].read()).hexdigest() for k in hits]}))",
    ].join('\n'), s3.accessKeyId, s3.secretAccessKey, out.run_id], {});
    const stored = JSON.parse(listed);
    expect(stored.keys).toHaveLength(1);
    expect(stored.sha256).toEqual([createHash('sha256').update(bytes).digest('hex')]);
  }, 4 * MINUTE);

  // MLflow 3.17 (mlflow/server/handlers.py `_get_server_info`): with --serve-artifacts on an S3 store the
  // server advertises multipart downloads, and the client (mlflow/store/artifact/mlflow_artifacts_repo.py
  // `_download_file`) then downloads every artifact straight from the store through a presigned URL
  // (`GET /mlflow-artifacts/presigned/...`, signed with the server's store credentials) unless
  // MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=false. The URL names the store's in-cluster endpoint:
  // a client outside the cluster (through the platform's Gateway) cannot download artifacts.
  test('finding: artifact downloads go to the store directly, at its in-cluster address', async () => {
    expect(adminRun).toBeDefined();
    const admin = platform.secret('mlplatform', 'ml-mlflow-admin')!;
    const auth = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
    const info = await (await fetch(`${TRACKING}/api/3.0/mlflow/server-info`, { headers: { authorization: auth } })).json() as Record<string, unknown>;
    expect(Object.entries(info).filter(([k]) => /multipart_downloads/.test(k)).map(([, v]) => v)).toEqual([true]);
    const res = await fetch(`${TRACKING}/api/2.0/mlflow-artifacts/presigned/${adminRun!.experiment_id}/${adminRun!.run_id}/artifacts/model/weights.bin`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const presigned = await res.json() as { url: string };
    expect(new URL(presigned.url).host).toBe('ml-s3.mlplatform.svc.cluster.local:8333');
  }, MINUTE);

  test("a tenant's MLflow user uses its own experiment, and cannot write to another tenant's run", () => {
    const vision = platform.secret('vision', 'ml-tracking')!;
    const nlp = platform.secret('nlp', 'ml-tracking')!;
    const payload = join(work, 'vision.bin');
    writeFileSync(payload, 'vision model');
    const own = client(['log', 'vision-exp', payload], vision);
    expect(own.run_id).toEqual(expect.any(String));
    const intrusion = client(['try-log', own.run_id], nlp);
    expect(intrusion).toMatchObject({ ok: false, error_code: 'PERMISSION_DENIED' });
    const again = client(['try-log', own.run_id], vision);
    expect(again).toEqual({ ok: true });
  }, 4 * MINUTE);
});

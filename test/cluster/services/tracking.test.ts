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

  const as = (user: Record<string, string>) => ({ MLFLOW_TRACKING_URI: TRACKING, MLFLOW_TRACKING_USERNAME: user.username, MLFLOW_TRACKING_PASSWORD: user.password });

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

  test('the bootstrap completes: the bucket exists and each tenant has its MLflow user', async () => {
    const exit = await platform.pods.bootstrap.waitForExit('bootstrap', 4 * MINUTE);
    timings.bootstrapDone = (Date.now() - started) / 1000;
    expect({ exit, log: platform.pods.bootstrap.log('bootstrap') }).toEqual({ exit: { code: 0, signal: null }, log: expect.stringMatching(/\[bootstrap\] done\n$/) });
    const log = platform.pods.bootstrap.log('bootstrap');
    expect(log).toContain('[bootstrap] created bucket ml-artifacts\n');
    for (const tenant of ['vision', 'nlp']) {
      expect(log).toContain(`[bootstrap] created MLflow user ${tenant}\n`);
      expect(platform.secret(tenant, 'ml-tracking')).toEqual({ username: tenant, password: expect.stringMatching(/^[0-9a-f]{48}$/) });
    }
  }, 5 * MINUTE);

  test('the admin logs a run and an artifact (stored in SeaweedFS through --serve-artifacts) and registers a model version', () => {
    const admin = platform.secret('mlplatform', 'ml-mlflow-admin')!;
    const payload = join(work, 'weights.bin');
    const bytes = randomBytes(4096);
    writeFileSync(payload, bytes);
    const out = JSON.parse(platform.python([CLIENT, 'log', 'platform-check', payload, 'platform-model'], as(admin)));
    expect(out).toMatchObject({ run_id: expect.any(String), model_version: '1', artifact_uri: expect.stringMatching(/^mlflow-artifacts:\//) });
    // Downloaded back through the tracking server: the same bytes.
    const fetched = JSON.parse(platform.python([CLIENT, 'fetch', out.run_id, 'model/weights.bin'], as(admin)));
    expect(fetched.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
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

  test("a tenant's MLflow user uses its own experiment, and cannot write to another tenant's run", () => {
    const vision = platform.secret('vision', 'ml-tracking')!;
    const nlp = platform.secret('nlp', 'ml-tracking')!;
    const payload = join(work, 'vision.bin');
    writeFileSync(payload, 'vision model');
    const own = JSON.parse(platform.python([CLIENT, 'log', 'vision-exp', payload], as(vision)));
    expect(own.run_id).toEqual(expect.any(String));
    const intrusion = JSON.parse(platform.python([CLIENT, 'try-log', own.run_id], as(nlp)));
    expect(intrusion).toMatchObject({ ok: false, error_code: 'PERMISSION_DENIED' });
    const again = JSON.parse(platform.python([CLIENT, 'try-log', own.run_id], as(vision)));
    expect(again).toEqual({ ok: true });
  }, 4 * MINUTE);
});

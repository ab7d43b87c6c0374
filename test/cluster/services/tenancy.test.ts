/**
 * Issue #20 items 2 and 3 on the real engines: what a tenant's credentials can touch.
 *
 * Two platforms, each synthesized here and started from its objects on the kubelet harness
 * (./platform.ts: the bootstrap Job against the Secrets API, PostgreSQL and SeaweedFS from their
 * StatefulSets, MLflow 3.17.2 from the tracking Deployment), one after the other (their Services share
 * the loopback's ports):
 *
 * 1. basic auth, tenants `a`, `b`, `c`; a pipeline of `a` reads `Dataset.fromBucket('datasets/x', v1)`,
 *    granted with `platform.storeLocation('datasets/x').grantRead(pipeline)`; `a` shares one registered
 *    model with `b` (`shareRegisteredModel`), and a model it logs through the tracking server with `b` and
 *    `c`, whose experiment it shares with `b` only (`shareExperiment`): the endpoints of `b` and `c` serving
 *    it run their synthesized fetch step. The store (SeaweedFS's S3 API through boto3) and MLflow
 *    (its REST API and its own client) are used with the keys and passwords the bootstrap wrote into
 *    each namespace's Secrets — never with hand-made ones;
 * 2. OIDC, tenants `a` (editors `team-a`) and `b` (admins `team-b-leads`), admin group `ml-admins`: the
 *    tracking Deployment's `mlflow` container runs as synthesized (mlflow_oidc_auth.py and its mapping
 *    from the projected volume); its `oauth2-proxy` sidecar has no stand-in image, so the test plays
 *    what the proxy sends upstream, as OAuth2 Proxy documents its flags
 *    (https://oauth2-proxy.github.io/oauth2-proxy/configuration/overview, "Command Line Options"):
 *    `--pass-basic-auth` passes an `Authorization: Basic` header upstream, whose user is the e-mail
 *    with `--prefer-email-to-user` and whose password is `--basic-auth-password`
 *    (OAUTH2_PROXY_BASIC_AUTH_PASSWORD, from the Secret the bootstrap generated);
 *    `--pass-user-headers` adds X-Forwarded-User/Email/Groups (groups joined by commas);
 *    `--skip-auth-strip-headers` removes those headers when a client sends them itself.
 */
import { createHash, randomBytes } from 'crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import * as http from 'http';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { Chart, Testing } from 'cdk8s';
import { StartedPlatform, startPlatform } from './platform';
import { MlPlatform, ModelEndpoint, TrainingPipeline } from '../../../src/cdk8s';
import { ArtifactStore, Dataset, Exposure, ModelSource, TrackingAuth } from '../../../src/core';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const CLIENT = join(__dirname, 'mlflow_client.py');
const PROBE = join(__dirname, 'tenancy_probe.py');
const TRACKING = 'http://127.0.0.1:5000';
const STORE = 'http://127.0.0.1:8333';
const BUCKET = 'ml-artifacts';
const PLATFORM_NS = 'mlplatform';
const SHARED = 'a-shared-model';
const PRIVATE = 'a-private-model';
/** A model a logs through the tracking server (an `mlflow-artifacts:/` source), into the experiment it shares with b. */
const LOGGED = 'a-logged-model';
const LOGGED_EXPERIMENT = 'a-shared-experiment';
/** The model folder of a run of a's pipeline `reader` that b's endpoint serves. */
const SERVED = 'pipelines/a/reader/run-1/fit/model';

type Creds = Record<string, string>;
type S3Op = { op: 'put' | 'get' | 'list'; key?: string; prefix?: string; body?: string };
type S3Result = { ok: boolean; code?: string; status?: number; keys?: string[]; body?: string };

const DENIED: S3Result = { ok: false, code: 'AccessDenied', status: 403 };

function basicPlatform(): KubeObject[] {
  const chart = new Chart(Testing.app(), 'tenancy');
  const platform = new MlPlatform(chart, 'ml', { artifactStore: ArtifactStore.embedded({ bucket: BUCKET }), tracking: { auth: TrackingAuth.basic() } });
  for (const t of ['a', 'b', 'c']) platform.addTenant(t);
  const pipeline = new TrainingPipeline(chart, 'reader', {
    platform,
    namespace: 'a',
    steps: [{ name: 'fit', image: 'python:3.11-slim', command: ['python', '-c', 'pass'], inputs: { data: Dataset.fromBucket({ prefix: 'datasets/x', version: 'v1' }) } }],
  });
  platform.storeLocation('datasets/x').grantRead(pipeline);
  // An endpoint of b serving a file of a's pipeline: the grant between tenants.
  const endpoint = new ModelEndpoint(chart, 'served', { platform, namespace: 'b', versions: [{ name: 'stable', model: ModelSource.uri(`s3://${BUCKET}/${SERVED}`) }] });
  pipeline.artifacts.grantRead(endpoint);
  platform.shareRegisteredModel(SHARED, { owner: 'a', readers: ['b'] });
  // Issue #20 item 3: a version logged through the tracking server is read through its experiment.
  platform.shareRegisteredModel(LOGGED, { owner: 'a', readers: ['b', 'c'] });
  platform.shareExperiment(LOGGED_EXPERIMENT, { owner: 'a', readers: ['b'] });
  for (const t of ['b', 'c']) new ModelEndpoint(chart, `logged-${t}`, { platform, namespace: t, versions: [{ name: 'stable', model: ModelSource.registry(LOGGED) }] });
  return chart.toJson() as KubeObject[];
}

/** sha256 of every file under `dir`, by relative path. */
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

function oidcPlatform(): KubeObject[] {
  const chart = new Chart(Testing.app(), 'tenancy-oidc');
  const platform = new MlPlatform(chart, 'ml', {
    artifactStore: ArtifactStore.embedded({ bucket: BUCKET }),
    tracking: {
      auth: TrackingAuth.oidc({
        issuerUrl: 'https://login.example.com/realms/ml',
        clientId: 'mlflow',
        clientSecret: { name: 'oidc', key: 'client-secret' },
        cookieSecret: { name: 'oidc', key: 'cookie-secret' },
        emailDomains: ['example.com'],
        adminGroups: ['ml-admins'],
      }),
    },
    exposure: Exposure.ingress({ host: 'mlflow.example.com', className: 'traefik' }),
  });
  platform.addTenant('a', { access: { editors: ['team-a'] } });
  platform.addTenant('b', { access: { admins: ['team-b-leads'], editors: ['team-b'] } });
  // The OIDC client's Secret, which the user creates (TrackingAuth.oidc's clientSecret and cookieSecret): the proxy
  // reads both as mounted files (--client-secret-file, --cookie-secret-file), so the pod mounts it.
  const oidcSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oidc', namespace: 'mlplatform' }, stringData: { 'client-secret': 'test-client-secret', 'cookie-secret': '0123456789abcdef0123456789abcdef' } };
  return [...chart.toJson(), oidcSecret] as KubeObject[];
}

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/**
 * One MLflow REST call on a connection of its own; answers the status and the JSON body (or the text).
 * (Not fetch: its pool reuses a connection the server's keep-alive timeout has just closed while the
 * tests ran MLflow's client for seconds — `SocketError: other side closed`.)
 */
function rest(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const data = body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(`${TRACKING}${path}`, {
      method,
      agent: false,
      headers: { ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: any = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // MLflow's basic-auth 401/403 answers are plain text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Waits for the tracking server and the bootstrap; fails with their logs. */
async function ready(platform: StartedPlatform, timings: Record<string, number>, started: number): Promise<void> {
  await platform.pods.tracking.waitReady('mlflow', 6 * MINUTE);
  timings.trackingReady = (Date.now() - started) / 1000;
  const exit = await platform.pods.bootstrap.waitForExit('bootstrap', 4 * MINUTE);
  timings.bootstrapDone = (Date.now() - started) / 1000;
  if (exit.code !== 0) throw new Error(`bootstrap failed:\n${platform.pods.bootstrap.describe('bootstrap')}`);
}

describe('tenancy, basic auth: each tenant\'s store identity and MLflow user, from the Secrets the bootstrap wrote', () => {
  let platform: StartedPlatform;
  let objects: KubeObject[];
  let work: string;
  let started = 0;
  const timings: Record<string, number> = {};

  const client = (args: string[], user: Creds) => {
    try {
      return JSON.parse(platform.python([CLIENT, ...args], { MLFLOW_TRACKING_URI: TRACKING, MLFLOW_TRACKING_USERNAME: user.username, MLFLOW_TRACKING_PASSWORD: user.password }));
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- tracking server\n${platform.pods.tracking.log('mlflow').slice(-8000)}`);
    }
  };
  const s3 = (keys: Creds, ops: S3Op[]): S3Result[] => JSON.parse(platform.python([PROBE, 's3', STORE, BUCKET, keys.accessKeyId, keys.secretAccessKey, JSON.stringify(ops)], {}));
  const store = (ns: string) => platform.secret(ns, 'ml-store')!;
  const mlflowUser = (ns: string) => platform.secret(ns, 'ml-tracking')!;
  const as = (ns: string) => { const u = mlflowUser(ns); return { authorization: basic(u.username, u.password) }; };

  beforeAll(async () => {
    started = Date.now();
    work = mkdtempSync(join(tmpdir(), 'tenancy-test-'));
    objects = basicPlatform();
    platform = await startPlatform(objects);
    await ready(platform, timings, started);
  }, 11 * MINUTE);

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`tenancy (basic auth) timings (s since start): ${JSON.stringify(timings)}`);
  }, 2 * MINUTE);

  test('the platform\'s admin credentials exist only in the platform namespace; each tenant got its own', () => {
    const admin = {
      store: platform.secret(PLATFORM_NS, 'ml-s3-credentials')!,
      database: platform.secret(PLATFORM_NS, 'ml-postgres-credentials')!,
      mlflow: platform.secret(PLATFORM_NS, 'ml-mlflow-admin')!,
    };
    const values = [admin.store.accessKeyId, admin.store.secretAccessKey, admin.database.password, admin.mlflow.password];
    expect(values.every((v) => typeof v === 'string' && v.length >= 20)).toBe(true);
    // (Besides the token Secret of a pipeline's executor, which the API server fills with that ServiceAccount's token.)
    const outside = platform.source.listSync('Secret').filter((s) => s.metadata.namespace !== PLATFORM_NS && s.type !== 'kubernetes.io/service-account-token');
    expect(outside.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual(
      ['a', 'b', 'c'].flatMap((t) => [`${t}/ml-database`, `${t}/ml-store`, `${t}/ml-tracking`]).sort());
    for (const s of outside) {
      const data = Object.values(platform.secret(s.metadata.namespace!, s.metadata.name!)!).join('\n');
      for (const v of values) expect(data.includes(v)).toBe(false);
    }
    // Three tenants, three distinct store identities, none the platform's.
    const ids = ['a', 'b', 'c'].map((t) => store(t).accessKeyId);
    expect(new Set([...ids, admin.store.accessKeyId]).size).toBe(4);
    // The identities SeaweedFS loaded (the composed s3.json) name each tenant's keys with its prefixes only.
    const s3json = JSON.parse(admin.store['s3.json']);
    expect(s3json.identities.map((i: any) => [i.name, i.credentials[0].accessKey])).toEqual([
      ['platform', admin.store.accessKeyId], ['tenant-a', ids[0]], ['tenant-b', ids[1]], ['tenant-c', ids[2]],
    ]);
  });

  test('the store: tenant a reads and writes its own prefixes only; b\'s prefixes, the bucket root and mlartifacts/ are denied', () => {
    // What others put there, with the platform's own keys (as its services would).
    const seeded = s3(platform.secret(PLATFORM_NS, 'ml-s3-credentials')!, [
      { op: 'put', key: 'pipelines/b/run-1/model.bin', body: 'b-model' },
      { op: 'put', key: 'endpoints/b/payloads/1.json', body: 'b-payload' },
      { op: 'put', key: 'mlartifacts/1/run/artifacts/model.bin', body: 'tracked' },
      { op: 'put', key: 'datasets/x/v1/train.csv', body: 'x,y\n1,2\n' },
      { op: 'put', key: 'datasets/x/v2/train.csv', body: 'x,y\n3,4\n' },
    ]);
    expect(seeded).toEqual(Array(5).fill({ ok: true }));
    // Control: the platform's identity lists the bucket root (the denials below are the tenant identity's).
    const all = s3(platform.secret(PLATFORM_NS, 'ml-s3-credentials')!, [{ op: 'list', prefix: '' }]);
    expect(all[0].keys).toEqual(expect.arrayContaining(['pipelines/b/run-1/model.bin', 'mlartifacts/1/run/artifacts/model.bin', 'datasets/x/v1/train.csv']));
    const a = store('a');
    const own = s3(a, [
      { op: 'put', key: 'pipelines/a/run-1/model.bin', body: 'a-model' },
      { op: 'get', key: 'pipelines/a/run-1/model.bin' },
      { op: 'list', prefix: 'pipelines/a/' },
      { op: 'put', key: 'endpoints/a/payloads/1.json', body: 'a-payload' },
      { op: 'get', key: 'endpoints/a/payloads/1.json' },
      { op: 'list', prefix: 'endpoints/a/' },
    ]);
    expect(own).toEqual([
      { ok: true }, { ok: true, body: 'a-model' }, { ok: true, keys: ['pipelines/a/run-1/model.bin'] },
      { ok: true }, { ok: true, body: 'a-payload' }, { ok: true, keys: ['endpoints/a/payloads/1.json'] },
    ]);
    const others = s3(a, [
      { op: 'get', key: 'pipelines/b/run-1/model.bin' },
      { op: 'put', key: 'pipelines/b/run-1/model.bin', body: 'overwritten by a' },
      { op: 'list', prefix: 'pipelines/b/' },
      { op: 'get', key: 'endpoints/b/payloads/1.json' },
      { op: 'put', key: 'endpoints/b/payloads/2.json' },
      { op: 'list', prefix: 'endpoints/b/' },
      { op: 'list', prefix: '' },
      { op: 'list', prefix: 'pipelines/' },
      { op: 'list', prefix: 'mlartifacts/' },
      { op: 'get', key: 'mlartifacts/1/run/artifacts/model.bin' },
      { op: 'put', key: 'mlartifacts/1/run/artifacts/model.bin', body: 'overwritten by a' },
    ]);
    expect(others).toEqual(Array(11).fill(DENIED));
    // b's object is untouched, and b (with its own keys) still reads it.
    expect(s3(store('b'), [{ op: 'get', key: 'pipelines/b/run-1/model.bin' }])).toEqual([{ ok: true, body: 'b-model' }]);
  }, 2 * MINUTE);

  test('the store: the prefix granted to a\'s pipeline is readable, not writable, by a; not readable by b or c', () => {
    expect(s3(store('a'), [
      { op: 'get', key: 'datasets/x/v1/train.csv' },
      { op: 'list', prefix: 'datasets/x/v1/' },
      { op: 'put', key: 'datasets/x/v1/train.csv', body: 'poisoned' },
      { op: 'put', key: 'datasets/x/v1/extra.csv', body: 'poisoned' },
      // The grant is the version the pipeline reads (Dataset.fromBucket's versioned prefix), not its siblings.
      { op: 'get', key: 'datasets/x/v2/train.csv' },
      { op: 'list', prefix: 'datasets/' },
    ])).toEqual([{ ok: true, body: 'x,y\n1,2\n' }, { ok: true, keys: ['datasets/x/v1/train.csv'] }, DENIED, DENIED, DENIED, DENIED]);
    for (const t of ['b', 'c']) {
      expect(s3(store(t), [
        { op: 'get', key: 'datasets/x/v1/train.csv' },
        { op: 'list', prefix: 'datasets/x/v1/' },
        { op: 'get', key: 'pipelines/a/run-1/model.bin' },
      ])).toEqual([DENIED, DENIED, DENIED]);
    }
  }, 2 * MINUTE);

  test('the store: a\'s pipeline output granted to b\'s endpoint is readable by b (that prefix only), not writable', () => {
    expect(s3(store('a'), [
      { op: 'put', key: `${SERVED}/model.onnx`, body: 'onnx' },
      { op: 'put', key: 'pipelines/a/reader/run-2/fit/model/model.onnx', body: 'other run' },
    ])).toEqual([{ ok: true }, { ok: true }]);
    expect(s3(store('b'), [
      { op: 'get', key: `${SERVED}/model.onnx` },
      { op: 'list', prefix: `${SERVED}/` },
      { op: 'put', key: `${SERVED}/model.onnx`, body: 'replaced by b' },
      // The identity carries what the endpoint reads, not the whole pipeline's prefix.
      { op: 'get', key: 'pipelines/a/reader/run-2/fit/model/model.onnx' },
      { op: 'list', prefix: 'pipelines/a/' },
    ])).toEqual([{ ok: true, body: 'onnx' }, { ok: true, keys: [`${SERVED}/model.onnx`] }, DENIED, DENIED, DENIED]);
    expect(s3(store('c'), [{ op: 'get', key: `${SERVED}/model.onnx` }])).toEqual([DENIED]);
  }, 2 * MINUTE);

  let aRun: { experiment_id: string; run_id: string; model_source: string } | undefined;
  let bExperiment: string | undefined;

  test('MLflow: a\'s user creates an experiment, a run and two registered models; b and c see none of them', async () => {
    const payload = join(work, 'weights.bin');
    writeFileSync(payload, randomBytes(2048));
    aRun = client(['log', 'a-experiment', payload, SHARED], mlflowUser('a'));
    expect(aRun).toMatchObject({ model_version: '1', model_source: expect.stringMatching(/^mlflow-artifacts:\//) });
    expect(client(['log', 'a-experiment', payload, PRIVATE], mlflowUser('a'))).toMatchObject({ experiment_id: aRun!.experiment_id, model_version: '1' });
    bExperiment = client(['log', 'b-experiment', payload], mlflowUser('b')).experiment_id;
    const names = async (ns: string) => (await rest('POST', '/api/2.0/mlflow/experiments/search', as(ns), { max_results: 100 })).body.experiments?.map((e: any) => e.name) ?? [];
    // The shared experiment exists already: the bootstrap created it for a (MANAGE) and gave b READ.
    expect((await names('a')).sort()).toEqual(['a-experiment', LOGGED_EXPERIMENT]);
    expect((await names('b')).sort()).toEqual([LOGGED_EXPERIMENT, 'b-experiment']);
    expect(await names('c')).toEqual([]);
    for (const t of ['b', 'c']) {
      const h = as(t);
      const answers = await Promise.all([
        rest('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${aRun!.experiment_id}`, h),
        rest('GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=a-experiment', h),
        rest('GET', `/api/2.0/mlflow/runs/get?run_id=${aRun!.run_id}`, h),
        rest('GET', `/api/2.0/mlflow/registered-models/get?name=${PRIVATE}`, h),
        rest('GET', `/api/2.0/mlflow/model-versions/get?name=${PRIVATE}&version=1`, h),
        rest('GET', `/api/2.0/mlflow-artifacts/artifacts/${aRun!.experiment_id}/${aRun!.run_id}/artifacts/model/weights.bin`, h),
      ]);
      expect(answers.map((r) => r.status)).toEqual(Array(6).fill(403));
      // Searches filter what the user may not read: runs by experiment (mlflow/server/handlers.py
      // `search_runs_impl` → mlflow/server/auth/__init__.py `filter_experiment_ids`), models afterwards
      // (`filter_search_registered_models`).
      const runs = await rest('POST', '/api/2.0/mlflow/runs/search', h, { experiment_ids: [aRun!.experiment_id] });
      expect({ status: runs.status, runs: runs.body.runs ?? [] }).toEqual({ status: 200, runs: [] });
      expect((await rest('POST', '/api/2.0/mlflow/runs/search', as('a'), { experiment_ids: [aRun!.experiment_id] })).body.runs).toHaveLength(2);
      const models = (await rest('GET', '/api/2.0/mlflow/registered-models/search?max_results=100', h)).body.registered_models?.map((m: any) => m.name) ?? [];
      expect(models).toEqual(t === 'b' ? [SHARED] : []);
    }
  }, 4 * MINUTE);

  test('MLflow: b cannot write to a\'s run, experiment or models', async () => {
    expect(client(['try-log', aRun!.run_id], mlflowUser('b'))).toMatchObject({ ok: false, error_code: 'PERMISSION_DENIED' });
    const h = as('b');
    const answers = await Promise.all([
      rest('POST', '/api/2.0/mlflow/runs/set-tag', h, { run_id: aRun!.run_id, key: 'owner', value: 'b' }),
      rest('POST', '/api/2.0/mlflow/runs/create', h, { experiment_id: aRun!.experiment_id }),
      rest('POST', '/api/2.0/mlflow/experiments/update', h, { experiment_id: aRun!.experiment_id, new_name: 'taken-by-b' }),
      rest('PATCH', '/api/2.0/mlflow/registered-models/update', h, { name: SHARED, description: 'edited by b' }),
      rest('POST', '/api/2.0/mlflow/registered-models/alias', h, { name: SHARED, alias: 'champion', version: '1' }),
      rest('POST', '/api/2.0/mlflow/model-versions/create', h, { name: SHARED, source: aRun!.model_source }),
      rest('DELETE', '/api/2.0/mlflow/registered-models/delete', h, { name: SHARED }),
      rest('POST', '/api/3.0/mlflow/users/permissions/grant', h, { username: 'b', resource_type: 'experiment', resource_id: aRun!.experiment_id, permission: 'READ' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(403));
    // a, its owner (MANAGE from creating it), still can.
    expect((await rest('POST', '/api/2.0/mlflow/registered-models/alias', as('a'), { name: SHARED, alias: 'champion', version: '1' })).status).toBe(200);
    expect((await rest('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${bExperiment}`, as('a'))).status).toBe(403);
  }, 2 * MINUTE);

  test('MLflow: after the bootstrap\'s grant b reads the shared model and its version; c does not', async () => {
    const log = platform.pods.bootstrap.log('bootstrap');
    expect(log).toContain(`[bootstrap] granted READ on registered_model ${SHARED} to b\n`);
    const h = as('b');
    const model = await rest('GET', `/api/2.0/mlflow/registered-models/get?name=${SHARED}`, h);
    expect(model).toMatchObject({ status: 200, body: { registered_model: { name: SHARED, aliases: [{ alias: 'champion', version: '1' }] } } });
    const version = await rest('GET', `/api/2.0/mlflow/model-versions/get?name=${SHARED}&version=1`, h);
    expect(version).toMatchObject({ status: 200, body: { model_version: { name: SHARED, version: '1', source: aRun!.model_source } } });
    expect(await rest('GET', `/api/2.0/mlflow/registered-models/alias?name=${SHARED}&alias=champion`, h)).toMatchObject({ status: 200, body: { model_version: { version: '1' } } });
    expect(await rest('GET', `/api/2.0/mlflow/model-versions/get-download-uri?name=${SHARED}&version=1`, h)).toMatchObject({ status: 200, body: { artifact_uri: aRun!.model_source } });
    for (const path of [`registered-models/get?name=${SHARED}`, `model-versions/get?name=${SHARED}&version=1`]) {
      expect((await rest('GET', `/api/2.0/mlflow/${path}`, as('c'))).status).toBe(403);
    }
  }, 2 * MINUTE);

  // The version's source is an `mlflow-artifacts:/<experiment>/<run>/artifacts/model` URI: MLflow's client
  // downloads it through the tracking server's artifact proxy, whose validator asks for READ on the
  // experiment named by the artifact path (mlflow/server/auth/__init__.py `_get_proxy_artifact_validator`
  // → `validate_can_read_experiment_artifact_proxy` → `_get_permission_from_experiment_id_artifact_proxy`),
  // which a READ grant on the registered model does not give. Versions registered by a pipeline (s3://
  // sources under pipelines/<ns>/) are read with the reader's own store identity instead.
  test('control: b cannot download a shared version\'s mlflow-artifacts:/ source whose experiment is not shared (the proxy checks the experiment)', () => {
    const env = { MLFLOW_TRACKING_URI: TRACKING, MLFLOW_TRACKING_USERNAME: mlflowUser('b').username, MLFLOW_TRACKING_PASSWORD: mlflowUser('b').password, MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD: 'false' };
    const byB = JSON.parse(platform.python([PROBE, 'download', `models:/${SHARED}/1`], env));
    const a = mlflowUser('a');
    const byA = JSON.parse(platform.python([PROBE, 'download', `models:/${SHARED}/1`], { ...env, MLFLOW_TRACKING_USERNAME: a.username, MLFLOW_TRACKING_PASSWORD: a.password }));
    expect(byA).toMatchObject({ ok: true, files: { 'weights.bin': expect.any(String) } });
    // eslint-disable-next-line no-console
    console.log(`b downloading models:/${SHARED}/1: ${JSON.stringify(byB)}`);
    // requests' HTTPError from MLflow's artifact client: the proxy's listing of the version's folder, refused.
    expect(byB).toMatchObject({ ok: false, error: 'HTTPError' });
    expect(byB.message).toContain(`403 Client Error: Forbidden for url: ${TRACKING}/api/2.0/mlflow-artifacts/artifacts?path=${aRun!.experiment_id}%2F${aRun!.run_id}%2Fartifacts%2Fmodel`);
    expect(byB.message).toContain('Permission denied');
  }, 2 * MINUTE);
  // Issue #20 item 3, the fix: `shareExperiment` gives b READ on the experiment the version was logged into, which is
  // what the artifact proxy checks; c, with the registered model shared but not the experiment, gets fetch_model.py's
  // message naming the fix. Both run their endpoint's fetch step from its synthesized pod spec (as model-flow does).
  test('a model logged through the tracking server into a shared experiment: b\'s endpoint fetches exactly its bytes; c\'s fails naming shareExperiment', async () => {
    const log = platform.pods.bootstrap.log('bootstrap');
    const created = new RegExp(`\\[bootstrap\\] created experiment ${LOGGED_EXPERIMENT} \\((\\d+)\\) for a\\n`).exec(log);
    expect(created).not.toBeNull();
    expect(log).toContain(`[bootstrap] granted MANAGE on experiment ${LOGGED_EXPERIMENT} (${created![1]}) to a\n`);
    expect(log).toContain(`[bootstrap] granted READ on experiment ${LOGGED_EXPERIMENT} (${created![1]}) to b\n`);
    mkdirSync(join(work, 'logged'));
    writeFileSync(join(work, 'logged', 'weights.bin'), randomBytes(32 * 1024));
    const logged = client(['log', LOGGED_EXPERIMENT, join(work, 'logged', 'weights.bin'), LOGGED], mlflowUser('a'));
    expect(logged).toMatchObject({ experiment_id: created![1], model_version: '1', model_source: expect.stringMatching(new RegExp(`^mlflow-artifacts:/${created![1]}/`)) });
    expect((await rest('POST', '/api/2.0/mlflow/registered-models/alias', as('a'), { name: LOGGED, alias: 'champion', version: '1' })).status).toBe(200);
    const fetchOf = async (t: string) => {
      const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.namespace === t && o.metadata.name === `logged-${t}-stable`)!;
      const spec = (d as any).spec.template.spec;
      const fetch = spec.initContainers.find((c: any) => c.name === 'fetch-model');
      expect(fetch.env).toContainEqual({ name: 'MODEL_URI', value: `models:/${LOGGED}@champion` });
      const pod = platform.kubelet.run(d, { name: `logged-${t}-fetch`, initOnly: true });
      const exit = await pod.waitForExit('fetch-model', 4 * MINUTE);
      const modelDir = fetch.env.find((e: any) => e.name === 'MODEL_DIR').value as string;
      const out = { exit, log: pod.log('fetch-model'), files: exit.code === 0 ? digests(join(pod.dir, 'volumes', 'model', modelDir.replace(/^\/models\/?/, ''))) : undefined };
      await pod.stop();
      return out;
    };
    const b = await fetchOf('b');
    if (b.exit.code !== 0) throw new Error(`b's fetch-model exited ${JSON.stringify(b.exit)}\n${b.log.slice(-4000)}`);
    expect(b.files).toEqual(digests(join(work, 'logged')));
    const c = await fetchOf('c');
    expect(c.exit.code).toBe(1);
    expect(c.log).toContain(`the tracking server refused MLflow user c the files of models:/${LOGGED}@champion (HTTP 403 from its artifact proxy for ${created![1]}/${logged.run_id}/artifacts/model`);
    expect(c.log).toContain(`into experiment ${created![1]}, and MLflow asks for READ on that experiment`);
    expect(c.log).toContain("platform.shareExperiment('<experiment name>', { owner: '<its tenant>', readers: ['c'] })");
  }, 10 * MINUTE);
});

describe('tenancy, OIDC: people through the proxy act as the MLflow user their groups map to; pods keep their own', () => {
  let platform: StartedPlatform;
  let work: string;
  let started = 0;
  const timings: Record<string, number> = {};
  const experiments: Record<string, string> = {};

  beforeAll(async () => {
    started = Date.now();
    work = mkdtempSync(join(tmpdir(), 'tenancy-oidc-'));
    const objects = oidcPlatform();
    // OAuth2 Proxy has no stand-in image: the pod runs without its sidecar, and the test sends what it would send.
    const tracking = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ml-tracking')!;
    const spec = tracking.spec.template.spec;
    expect(spec.containers.map((c: any) => c.name)).toEqual(['mlflow', 'oauth2-proxy']);
    expect(spec.containers[1].args).toEqual(expect.arrayContaining(['--pass-basic-auth=true', '--prefer-email-to-user=true', '--pass-user-headers=true', '--skip-auth-strip-headers=true', '--email-domain=example.com']));
    expect(spec.containers[1].env).toContainEqual({ name: 'OAUTH2_PROXY_BASIC_AUTH_PASSWORD', valueFrom: { secretKeyRef: { name: 'ml-oidc-proxy', key: 'password' } } });
    const withoutSidecar = { ...tracking, spec: { ...tracking.spec, template: { ...tracking.spec.template, spec: { ...spec, containers: [spec.containers[0]] } } } };
    platform = await startPlatform(objects.map((o) => (o === tracking ? withoutSidecar : o)));
    await ready(platform, timings, started);
  }, 11 * MINUTE);

  afterAll(async () => {
    await platform?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`tenancy (OIDC) timings (s since start): ${JSON.stringify(timings)}`);
  }, 2 * MINUTE);

  const proxyPassword = () => platform.secret(PLATFORM_NS, 'ml-oidc-proxy')!.password;
  /** The headers OAuth2 Proxy sends upstream for a signed-in person. */
  const viaProxy = (groups: string | undefined, opts: { user?: string; password?: string } = {}) => ({
    'authorization': basic(opts.user ?? 'someone@example.com', opts.password ?? proxyPassword()),
    'x-forwarded-email': opts.user ?? 'someone@example.com',
    ...(groups !== undefined ? { 'x-forwarded-groups': groups } : {}),
  });
  const names = async (headers: Record<string, string>) => {
    const r = await rest('POST', '/api/2.0/mlflow/experiments/search', headers, { max_results: 100 });
    return r.status === 200 ? (r.body.experiments ?? []).map((e: any) => e.name).sort() : r.status;
  };

  test('each tenant pod\'s own MLflow user (basic auth through the same authorization function) creates its experiment', () => {
    const payload = join(work, 'w.bin');
    writeFileSync(payload, randomBytes(512));
    for (const t of ['a', 'b']) {
      const u = platform.secret(t, 'ml-tracking')!;
      const out = JSON.parse(platform.python([CLIENT, 'log', `${t}-experiment`, payload], { MLFLOW_TRACKING_URI: TRACKING, MLFLOW_TRACKING_USERNAME: u.username, MLFLOW_TRACKING_PASSWORD: u.password }));
      experiments[t] = out.experiment_id;
    }
    expect(Object.keys(experiments)).toEqual(['a', 'b']);
  }, 3 * MINUTE);

  test('through the proxy: a\'s editor group acts as a, an admin group as the admin, a tenant admin group as that tenant', async () => {
    expect(await names(viaProxy('team-a'))).toEqual(['a-experiment']);
    expect((await rest('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${experiments.b}`, viaProxy('team-a'))).status).toBe(403);
    expect((await rest('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${experiments.a}`, viaProxy('team-a'))).status).toBe(200);
    expect(await names(viaProxy('other,team-b-leads'))).toEqual(['b-experiment']);
    expect(await names(viaProxy('ml-admins'))).toEqual(expect.arrayContaining(['a-experiment', 'b-experiment']));
    // The admin group really is the admin: only the admin (or the user itself) reads a user (mlflow/server/auth/__init__.py validate_can_read_user).
    expect((await rest('GET', '/api/2.0/mlflow/users/get?username=b', viaProxy('ml-admins'))).status).toBe(200);
    expect((await rest('GET', '/api/2.0/mlflow/users/get?username=b', viaProxy('team-a'))).status).toBe(403);
    // The user name the proxy passes plays no part: only the groups do.
    expect(await names(viaProxy('team-a', { user: 'admin' }))).toEqual(['a-experiment']);
  });

  test('through the proxy: no mapped group → 403; a wrong proxy password → 401', async () => {
    expect(await names(viaProxy('analysts'))).toBe(403);
    expect(await names(viaProxy(undefined))).toBe(403);
    expect(await names(viaProxy(undefined, { user: 'a' }))).toBe(403);
    expect(await names(viaProxy('ml-admins', { password: 'not-the-proxy-password' }))).toBe(401);
    expect(await names(viaProxy('ml-admins', { password: '' }))).toBe(401);
    // A tenant's own password with an admin group is a basic login as that tenant: the groups are ignored.
    const a = platform.secret('a', 'ml-tracking')!;
    expect(await names({ 'authorization': basic(a.username, a.password), 'x-forwarded-groups': 'ml-admins' })).toEqual(['a-experiment']);
    expect(await names({ authorization: basic(a.username, 'wrong') })).toBe(401);
  });

  test('no request without credentials succeeds on the API', async () => {
    const answers = await Promise.all([
      rest('GET', '/api/2.0/mlflow/experiments/search?max_results=10', {}),
      rest('POST', '/api/2.0/mlflow/experiments/search', {}, { max_results: 10 }),
      rest('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${experiments.a}`, {}),
      rest('POST', '/api/2.0/mlflow/runs/search', {}, { experiment_ids: [experiments.a] }),
      rest('GET', '/api/2.0/mlflow/registered-models/search', {}),
      rest('POST', '/api/2.0/mlflow/experiments/create', {}, { name: 'anonymous' }),
      rest('POST', '/ajax-api/2.0/mlflow/experiments/search', {}, { max_results: 10 }),
      rest('GET', `/api/2.0/mlflow-artifacts/artifacts/${experiments.a}`, {}),
      rest('POST', '/api/3.0/mlflow/users/permissions/grant', {}, { username: 'a', resource_type: 'experiment', resource_id: experiments.b, permission: 'READ' }),
      // Groups alone (a client sending the proxy's headers itself, without its password) log nobody in.
      rest('POST', '/api/2.0/mlflow/experiments/search', { 'x-forwarded-groups': 'ml-admins', 'x-forwarded-user': 'admin' }, { max_results: 10 }),
    ]);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(401));
    // Only the health check is open.
    expect((await rest('GET', '/health', {})).status).toBe(200);
  });
});

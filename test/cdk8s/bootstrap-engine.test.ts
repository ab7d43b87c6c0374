/**
 * Runs the credentials bootstrap program for real: the `bootstrap.py` and `plan.json` taken from the
 * synthesized ConfigMap, executed by the system Python (`/usr/bin/python3`) against in-process fakes
 * of the Kubernetes API (Secrets only) and of the MLflow tracking server's REST API.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import * as http from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';
import { ArtifactStore, BackendStore, TrackingAuth } from '../../src/core';
import {
  bootstrapOf, close, Data, expectSuccess, FakeKubernetes, listen, PYTHON, readBody, requirePython, Run, runBootstrap, send, Synthesized, unb64,
} from '../support/bootstrap-harness';
import { findAll, K8sObject, synthChart } from '../support/synth';

/** Per-test limit; the first run waits ~10 s for the fake tracking server (the program sleeps 5 s between tries). */
const TEST_TIMEOUT = 60_000;

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x));
}

// ---------------------------------------------------------------------------------------------
// Fake MLflow tracking server (basic-auth app): /health and the two user endpoints the program uses.

interface MlflowRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body?: any;
}

class FakeMlflow {
  public readonly requests: MlflowRequest[] = [];
  /** username → password. */
  public readonly users = new Map<string, string>();
  /** `/health` answers 503 this many times before answering 200. */
  public unhealthyCalls = 0;
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((e) => send(res, 500, { error_code: 'INTERNAL_ERROR', message: String(e) }));
  });
  public url = '';

  /** `admin()` gives the admin credentials MLflow was started with (from the fake API's Secret). */
  constructor(private readonly clock: { seq: number }, private readonly admin: () => [string, string] | undefined) {}

  public async start(): Promise<this> {
    this.url = await listen(this.server);
    return this;
  }

  public stop(): Promise<void> {
    return close(this.server);
  }

  public calls(path: string): MlflowRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = req.method ?? '';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ seq: ++this.clock.seq, method, path, status, body });
      send(res, status, payload, headers);
    };

    if (path === '/health') {
      if (this.unhealthyCalls > 0) {
        this.unhealthyCalls--;
        return reply(503, 'starting');
      }
      return reply(200, 'OK');
    }
    // Like MLflow's basic-auth app: a plain-text 401 when the credentials are not the admin's.
    const expected = this.admin();
    const given = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!expected || !given || unb64(given[1]) !== `${expected[0]}:${expected[1]}`) {
      return reply(401, 'You are not authenticated. Please see the documentation for details.', { 'WWW-Authenticate': 'Basic realm="mlflow"' });
    }
    if (req.headers['content-type'] !== 'application/json' || typeof body?.username !== 'string' || typeof body?.password !== 'string') {
      return reply(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'username and password (JSON) are required' });
    }
    if (path === '/api/2.0/mlflow/users/create' && method === 'POST') {
      if (this.users.has(body.username)) {
        return reply(400, { error_code: 'RESOURCE_ALREADY_EXISTS', message: `User '${body.username}' already exists.` });
      }
      this.users.set(body.username, body.password);
      return reply(200, { user: { id: this.users.size, username: body.username } });
    }
    if (path === '/api/2.0/mlflow/users/update-password' && method === 'PATCH') {
      if (!this.users.has(body.username)) {
        return reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `User with username=${body.username} not found` });
      }
      this.users.set(body.username, body.password);
      return reply(200, {});
    }
    return reply(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `${method} ${path}` });
  }
}

let workdir: string;
let runs = 0;

function runProgram(program: string, plan: unknown, api: FakeKubernetes, opts: { token?: string } = {}): Promise<Run> {
  return runBootstrap(program, plan, api, join(workdir, `run-${++runs}`), opts);
}

/** What the bootstrap's Roles allow, by namespace: `create` and the names it may get/update. */
function rbacOf(objects: K8sObject[], name = 'ml-bootstrap'): Map<string, { create: boolean; names: Set<string> }> {
  const out = new Map<string, { create: boolean; names: Set<string> }>();
  for (const role of findAll(objects, 'Role').filter((r) => r.metadata.name === name)) {
    const rules: any[] = role.rules.filter((r: any) => r.apiGroups.includes('') && r.resources.includes('secrets'));
    out.set(role.metadata.namespace!, {
      create: rules.some((r) => r.verbs.includes('create') && !r.resourceNames),
      names: new Set(rules.filter((r) => r.verbs.includes('get') && r.verbs.includes('update')).flatMap((r) => r.resourceNames ?? [])),
    });
  }
  return out;
}

/** Every `namespace/name` the plan reads or writes. */
function planSecrets(plan: any): Set<string> {
  const s = new Set<string>();
  const add = (ns: string, name: string) => s.add(`${ns}/${name}`);
  for (const g of plan.generate) add(g.namespace, g.name);
  for (const c of plan.compose) {
    add(c.namespace, c.name);
    for (const t of Object.values<string>(c.keys)) {
      for (const m of t.matchAll(/\{\{secret:([^/]+)\/([^:]+):[^}|]+(\|url)?\}\}/g)) add(m[1], m[2]);
    }
  }
  for (const c of plan.copy) {
    add(c.from.namespace, c.from.name);
    add(c.to.namespace, c.to.name);
  }
  if (plan.bucket) add(plan.bucket.credentials.namespace, plan.bucket.credentials.name);
  if (plan.mlflowUsers) {
    add(plan.mlflowUsers.admin.namespace, plan.mlflowUsers.admin.name);
    for (const u of plan.mlflowUsers.users) add(u.secret.namespace, u.secret.name);
  }
  return s;
}

/** Every Kubernetes request was authorized, on a Secret the plan names and the bootstrap's Roles allow. */
function expectRequestsWithinPlan(api: FakeKubernetes, plan: any, rbac: Map<string, { create: boolean; names: Set<string> }>, since = 0): void {
  const allowed = planSecrets(plan);
  const stray = api.requests.filter((r) => r.seq > since).filter((r) => {
    if (!r.authorized || !r.namespace || !r.name || !allowed.has(`${r.namespace}/${r.name}`)) return true;
    const role = rbac.get(r.namespace);
    if (!role) return true;
    // No `create` in the Role: every Secret it writes exists (empty) once the manifests are applied.
    return r.method === 'POST' ? !role.create : !['GET', 'PUT'].includes(r.method) || !role.names.has(r.name);
  });
  expect(stray.map((r) => `${r.method} ${r.path} ${r.name ?? ''} → ${r.status}`)).toEqual([]);
}

/** Reads an ini file as MLflow's basic-auth app does (`configparser.ConfigParser()`, default interpolation). */
function readIniLikeMlflow(text: string): { ok: true; values: Data } | { ok: false; error: string } {
  requirePython();
  const r = spawnSync(PYTHON, ['-c', [
    'import configparser, json, sys',
    'c = configparser.ConfigParser()',
    'c.read_string(sys.stdin.read())',
    'print(json.dumps({k: c["mlflow"][k] for k in c["mlflow"]}))',
  ].join('\n')], { input: text, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  return r.status === 0 ? { ok: true, values: JSON.parse(r.stdout) } : { ok: false, error: r.stderr.trim().split('\n').pop() ?? '' };
}

const HEX = (bytes: number) => new RegExp(`^[0-9a-f]{${2 * bytes}}$`);

beforeAll(() => {
  workdir = mkdtempSync(join(tmpdir(), 'bootstrap-engine-'));
});

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test(`${PYTHON} is installed (the engine tests run the real program with it)`, () => {
  requirePython();
  const r = spawnSync(PYTHON, ['--version'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(`${r.stdout}${r.stderr}`).toMatch(/^Python 3\./);
});

// ---------------------------------------------------------------------------------------------

describe('bootstrap program: the example platform (embedded stores, basic auth, two tenants)', () => {
  const clock = { seq: 0 };
  let synth: Synthesized;
  let rbac: Map<string, { create: boolean; names: Set<string> }>;
  let plan: any;
  let api: FakeKubernetes;
  let mlflow: FakeMlflow;
  let afterFirst: Record<string, Data> | undefined;

  beforeAll(async () => {
    const { chart } = buildPlatform(Testing.app());
    synth = bootstrapOf(chart.toJson() as K8sObject[]);
    rbac = rbacOf(synth.objects);
    plan = clone(synth.plan);
    // No S3 server and no PostgreSQL here: the `bucket` step (boto3 against the embedded store) and the
    // `databases` step (test/engine/tenant-database.test.ts runs it against a real PostgreSQL) are left out.
    expect(plan.bucket).toMatchObject({ name: 'ml-artifacts' });
    delete plan.bucket;
    expect(plan.database).toMatchObject({ database: 'mlflow' });
    delete plan.database;
    api = await new FakeKubernetes(clock).start();
    // The platform's manifests are applied first: the Secrets the bootstrap writes exist, empty.
    api.applySecrets(synth.objects);
    mlflow = await new FakeMlflow(clock, () => {
      const a = plan.mlflowUsers.admin;
      const d = api.data(a.namespace, a.name);
      return d ? [d[a.usernameKey], d[a.passwordKey]] : undefined;
    }).start();
    expect(plan.mlflowUsers.uri).toBe('http://ml-tracking.mlplatform.svc.cluster.local:5000');
    plan.mlflowUsers.uri = mlflow.url;
  });

  afterAll(async () => {
    await api?.stop();
    await mlflow?.stop();
  });

  test('the plan covers both tenants', () => {
    expect(plan.mlflowUsers.users.map((u: any) => u.username)).toEqual(['vision', 'nlp']);
    // Each tenant's own database login and store identity are generated in its namespace, never copied.
    expect(plan.copy).toEqual([]);
    expect(plan.generate.filter((g: any) => g.namespace !== 'mlplatform').map((g: any) => `${g.namespace}/${g.name}`))
      .toEqual(['vision/ml-store', 'vision/ml-database', 'nlp/ml-store', 'nlp/ml-database']);
  });

  test('first run: generates, composes, copies and creates one MLflow user per tenant', async () => {
    mlflow.unhealthyCalls = 2; // the tracking server is "starting": exercises the wait loop
    const run = await runProgram(synth.program, plan, api);
    expectSuccess(run);

    // generate: every Secret with the planned keys; random values are hex of the planned length.
    for (const g of plan.generate) {
      const data = api.data(g.namespace, g.name);
      expect(data).toBeDefined();
      expect(Object.keys(data!).sort()).toEqual(expect.arrayContaining(Object.keys(g.keys).sort()));
      for (const [k, spec] of Object.entries<any>(g.keys)) {
        if ('value' in spec) expect(data![k]).toBe(spec.value);
        else expect(data![k]).toMatch(HEX(spec.randomBytes));
      }
      expect(api.object(g.namespace, g.name)).toMatchObject({ type: 'Opaque', metadata: { labels: plan.labels } });
    }
    const pg = api.data('mlplatform', 'ml-postgres-credentials')!;
    const s3 = api.data('mlplatform', 'ml-s3-credentials')!;
    const admin = api.data('mlplatform', 'ml-mlflow-admin')!;
    const flask = api.data('mlplatform', 'ml-tracking-config-key')!;
    const trackingDb = api.data('mlplatform', 'ml-tracking-database')!;
    expect(pg).toEqual({ username: 'mlflow', password: expect.stringMatching(HEX(24)) });
    expect(trackingDb).toEqual({ username: 'ml_tracking', password: expect.stringMatching(HEX(24)) });
    expect(admin).toEqual({ username: 'admin', password: expect.stringMatching(HEX(16)) });
    const tenantValues = ['vision', 'nlp'].flatMap((t) => [api.data(t, 'ml-database')!.password, api.data(t, 'ml-store')!.accessKeyId, api.data(t, 'ml-store')!.secretAccessKey]);
    // Two runs of secrets.token_hex would not collide: each Secret got its own value.
    expect(new Set([pg.password, trackingDb.password, s3.accessKeyId, s3.secretAccessKey, admin.password, flask['flask-secret-key'], ...tenantValues]).size).toBe(12);

    // compose: templates fully rendered.
    for (const c of plan.compose) {
      const data = api.data(c.namespace, c.name)!;
      // Its keys, and the INI files made of them (the store's AWS credentials file, which the tracking server reads).
      expect(Object.keys(data).sort()).toEqual([...Object.keys(c.keys), ...Object.keys(c.files ?? {})].sort());
      for (const v of Object.values(data)) expect(v).not.toContain('{{');
    }
    // The tracking server logs in with its own role, not the superuser.
    const uri = `postgresql+psycopg2://ml_tracking:${trackingDb.password}@ml-postgres.mlplatform.svc.cluster.local:5432/mlflow`;
    const config = api.data('mlplatform', 'ml-tracking-config')!;
    expect(config['backend-store-uri']).toBe(uri);
    expect(config['flask-secret-key']).toBe(flask['flask-secret-key']);
    expect(config['basic_auth.ini']).toBe([
      '[mlflow]',
      'default_permission = NO_PERMISSIONS',
      `database_uri = ${uri}`,
      'admin_username = admin',
      `admin_password = ${admin.password}`,
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      '',
    ].join('\n'));
    expect(readIniLikeMlflow(config['basic_auth.ini'])).toEqual({ ok: true, values: expect.objectContaining({ database_uri: uri, admin_password: admin.password }) });
    expect(s3.accessKeyId).toMatch(HEX(10));
    expect(s3.secretAccessKey).toMatch(HEX(20));
    const identities = JSON.parse(s3['s3.json']).identities;
    expect(identities[0]).toEqual({ name: 'platform', credentials: [{ accessKey: s3.accessKeyId, secretKey: s3.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] });

    for (const [i, tenant] of ['vision', 'nlp'].entries()) {
      // The tenant's own database role and store identity: generated there, nothing of the platform's.
      const db = api.data(tenant, 'ml-database')!;
      expect(db).toEqual({ username: `ml_tenant_${tenant}`, password: expect.stringMatching(HEX(24)), database: `ml_studies_${tenant}` });
      const store = api.data(tenant, 'ml-store')!;
      // With the AWS shared credentials file of the same keys (bootstrap.py ini_file), for the users' containers.
      expect(store).toEqual({ accessKeyId: expect.stringMatching(HEX(10)), secretAccessKey: expect.stringMatching(HEX(20)), credentials: expect.any(String) });
      expect(store.credentials).toBe(`[default]\naws_access_key_id = ${store.accessKeyId}\naws_secret_access_key = ${store.secretAccessKey}\n\n`);
      expect(identities[i + 1]).toMatchObject({ name: `tenant-${tenant}`, credentials: [{ accessKey: store.accessKeyId, secretKey: store.secretAccessKey }] });
      expect(identities[i + 1].actions.every((a: string) => a.includes(`/pipelines/${tenant}/`) || a.includes(`/endpoints/${tenant}/`))).toBe(true);
      // One MLflow user per tenant, its password kept in the tenant's Secret.
      const creds = api.data(tenant, 'ml-tracking')!;
      expect(creds).toEqual({ username: tenant, password: expect.stringMatching(HEX(24)), credentials: `[mlflow]\nmlflow_tracking_username = ${tenant}\nmlflow_tracking_password = ${creds.password}\n\n` });
      expect(mlflow.users.get(tenant)).toBe(creds.password);
    }
    expect([...mlflow.users.keys()].sort()).toEqual(['nlp', 'vision']);
    expect(mlflow.calls('/api/2.0/mlflow/users/create').map((r) => r.status)).toEqual([200, 200]);
    expect(mlflow.calls('/api/2.0/mlflow/users/update-password')).toEqual([]);

    // The wait loop: two 503s, then 200, and no user call before the server was healthy.
    expect(mlflow.calls('/health').map((r) => r.status)).toEqual([503, 503, 200]);
    expect(run.stdout.match(/tracking server not ready yet/g)).toHaveLength(2);
    const healthy = mlflow.calls('/health').find((r) => r.status === 200)!.seq;
    expect(mlflow.requests.filter((r) => r.path !== '/health').every((r) => r.seq > healthy)).toBe(true);

    // Only the Secrets of the plan, each allowed by the synthesized Roles; nothing else was created.
    expectRequestsWithinPlan(api, plan, rbac);
    expect(api.keys()).toEqual([...planSecrets(plan)].sort());
    expect(api.requests.filter((r) => r.status >= 400 && r.status !== 404 && r.status !== 409)).toEqual([]);
    afterFirst = api.dump();
  }, TEST_TIMEOUT);

  test('second run: idempotent (passwords kept, no user re-created, compose Secrets replaced identically)', async () => {
    expect(afterFirst).toBeDefined();
    const since = clock.seq;
    const usersBefore = new Map(mlflow.users);
    const run = await runProgram(synth.program, plan, api);
    expectSuccess(run);
    expect(api.dump()).toEqual(afterFirst);
    expect(mlflow.users).toEqual(usersBefore);

    const k8s = api.requests.filter((r) => r.seq > since);
    // generate: read, found, kept — never written.
    for (const g of plan.generate) {
      expect(k8s.filter((r) => r.name === g.name && r.namespace === g.namespace && r.method === 'GET').length).toBeGreaterThan(0);
      expect(run.stdout).toContain(`[bootstrap] kept ${g.namespace}/${g.name}\n`);
    }
    // compose: create refused (409), then replaced with identical content; nothing changed, nothing restarted.
    expect(run.stdout).not.toContain('[bootstrap] restarted');
    for (const target of [...plan.compose.map((c: any) => c), ...plan.copy.map((c: any) => c.to)]) {
      const writes = k8s.filter((r) => r.namespace === target.namespace && r.name === target.name && (r.method === 'POST' || r.method === 'PUT'));
      expect(writes.map((r) => `${r.method} ${r.status}`)).toEqual(['PUT 200']);
      expect(writes[0].data).toEqual(afterFirst![`${target.namespace}/${target.name}`]);
      expect(run.stdout).toContain(`[bootstrap] written ${target.namespace}/${target.name}\n`);
    }
    // MLflow users: create answered RESOURCE_ALREADY_EXISTS; the tenant Secret exists, so no password reset.
    const ml = mlflow.requests.filter((r) => r.seq > since);
    expect(ml.filter((r) => r.path === '/health').map((r) => r.status)).toEqual([200]);
    expect(ml.filter((r) => r.path.endsWith('/users/create')).map((r) => [r.body.username, r.status])).toEqual([['vision', 400], ['nlp', 400]]);
    expect(ml.filter((r) => r.path.endsWith('/users/update-password'))).toEqual([]);
    // The existing passwords were offered, not new ones.
    for (const r of ml.filter((x) => x.path.endsWith('/users/create'))) expect(r.body.password).toBe(usersBefore.get(r.body.username));
    expect(k8s.filter((r) => r.name === 'ml-tracking' && r.method !== 'GET')).toEqual([]);
    expectRequestsWithinPlan(api, plan, rbac, since);
  }, TEST_TIMEOUT);

  test('a tenant Secret lost while its MLflow user exists: the password is reset and stored again', async () => {
    expect(afterFirst).toBeDefined();
    const old = api.data('nlp', 'ml-tracking')!.password;
    // Lost: deleted, and created again (empty) by the next apply of the manifests.
    api.delete('nlp', 'ml-tracking');
    api.applySecrets(synth.objects.filter((o) => o.metadata.namespace === 'nlp' && o.metadata.name === 'ml-tracking'));
    const since = clock.seq;
    const run = await runProgram(synth.program, plan, api);
    expectSuccess(run);
    const fresh = api.data('nlp', 'ml-tracking')!;
    expect(fresh).toEqual({ username: 'nlp', password: expect.stringMatching(HEX(24)), credentials: `[mlflow]\nmlflow_tracking_username = nlp\nmlflow_tracking_password = ${fresh.password}\n\n` });
    expect(fresh.password).not.toBe(old);
    expect(mlflow.users.get('nlp')).toBe(fresh.password);
    expect(mlflow.users.get('vision')).toBe(api.data('vision', 'ml-tracking')!.password);
    const ml = mlflow.requests.filter((r) => r.seq > since && r.path.endsWith('/users/update-password'));
    expect(ml.map((r) => [r.method, r.body.username, r.status])).toEqual([['PATCH', 'nlp', 200]]);
    expect(run.stdout).toContain('[bootstrap] reset MLflow user nlp\n');
    expectRequestsWithinPlan(api, plan, rbac, since);
  }, TEST_TIMEOUT);
});

// ---------------------------------------------------------------------------------------------

describe('bootstrap program: external stores and a user-supplied admin split over two Secrets', () => {
  const clock = { seq: 0 };
  // URL-special characters: the backend store URI must carry them percent-encoded.
  const DB_PASSWORD = 's3cr3t/p@ss:w%rd+?# x';
  const DB_PASSWORD_URL = 's3cr3t%2Fp%40ss%3Aw%25rd%2B%3F%23%20x';
  let synth: Synthesized;
  let rbac: Map<string, { create: boolean; names: Set<string> }>;
  let plan: any;
  let api: FakeKubernetes;
  let mlflow: FakeMlflow;
  let run: Run;

  beforeAll(async () => {
    const { objects } = synthChart((chart) => {
      const platform = new MlPlatform(chart, 'ml', {
        namespace: 'mlplatform',
        backendStore: BackendStore.external({ host: 'db.internal.example.com', database: 'mlflow', username: { name: 'rds', key: 'user' }, password: { name: 'rds', key: 'pass' } }),
        artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', credentials: { accessKeyId: { name: 'aws', key: 'id' }, secretAccessKey: { name: 'aws', key: 'secret' } } }),
        tracking: { auth: TrackingAuth.basic({ admin: { username: { name: 'mlflow-admin-user', key: 'name' }, password: { name: 'mlflow-admin-pass', key: 'pw' } } }) },
      });
      platform.addTenant('research', { storeCredentials: { accessKeyId: { name: 'aws-research', key: 'id' }, secretAccessKey: { name: 'aws-research', key: 'secret' } } });
    });
    synth = bootstrapOf(objects);
    rbac = rbacOf(objects);
    plan = clone(synth.plan);
    expect(plan.bucket).toBeUndefined(); // an external bucket: nothing to create
    expect(plan.database).toMatchObject({ host: 'db.internal.example.com', database: 'mlflow' });
    delete plan.database; // no PostgreSQL here (test/engine/tenant-database.test.ts)
    api = await new FakeKubernetes(clock).start();
    api.applySecrets(objects);
    api.seed('mlplatform', 'rds', { user: 'mlflow_app', pass: DB_PASSWORD });
    api.seed('mlplatform', 'aws', { id: 'AKIAEXAMPLE', secret: 'wJalr/EXAMPLEKEY+1' });
    api.seed('mlplatform', 'aws-research', { id: 'AKIARESEARCH', secret: 'rEsEaRcH/KEY+2' });
    api.seed('mlplatform', 'mlflow-admin-user', { name: 'root' });
    api.seed('mlplatform', 'mlflow-admin-pass', { pw: 'admin-pw' });
    mlflow = await new FakeMlflow(clock, () => ['root', 'admin-pw']).start();
    plan.mlflowUsers.uri = mlflow.url;
    run = await runProgram(synth.program, plan, api);
  }, TEST_TIMEOUT);

  afterAll(async () => {
    await api?.stop();
    await mlflow?.stop();
  });

  test('renders the URI percent-encoded, joins the admin Secret and provisions the tenant', () => {
    expectSuccess(run);
    // The tracking server's own role; the master login (`rds`) is only the bootstrap's (its database step).
    const trackingDb = api.data('mlplatform', 'ml-tracking-database')!;
    const uri = `postgresql+psycopg2://ml_tracking:${trackingDb.password}@db.internal.example.com:5432/mlflow?sslmode=require`;
    const config = api.data('mlplatform', 'ml-tracking-config')!;
    expect(config['backend-store-uri']).toBe(uri);
    expect(config['basic_auth.ini']).toContain(`database_uri = ${uri.replace(/%/g, '%%')}\nadmin_username = root\nadmin_password = admin-pw\n`);
    expect(api.data('mlplatform', 'ml-mlflow-admin-joined')).toEqual({ username: 'root', password: 'admin-pw' });
    expect(api.data('research', 'ml-database')).toEqual({ username: 'ml_tenant_research', password: expect.stringMatching(HEX(24)), database: 'ml_studies_research' });
    // The tenant's own keys, copied with their AWS shared credentials file (written raw: botocore reads it with RawConfigParser).
    expect(api.data('research', 'ml-store')).toEqual({ accessKeyId: 'AKIARESEARCH', secretAccessKey: 'rEsEaRcH/KEY+2', credentials: '[default]\naws_access_key_id = AKIARESEARCH\naws_secret_access_key = rEsEaRcH/KEY+2\n\n' });
    // The master password is in no Secret but the user's own.
    expect(Object.entries(api.dump()).filter(([k, v]) => k !== 'mlplatform/rds' && JSON.stringify(v).includes(DB_PASSWORD))).toEqual([]);
    const creds = api.data('research', 'ml-tracking')!;
    expect(creds).toEqual({ username: 'research', password: expect.stringMatching(HEX(24)), credentials: expect.stringContaining(`mlflow_tracking_password = ${creds.password}\n`) });
    expect(mlflow.users).toEqual(new Map([['research', creds.password]]));
    // The user's own Secrets are read, never written.
    expect(api.requests.filter((r) => ['rds', 'aws', 'aws-research', 'mlflow-admin-user', 'mlflow-admin-pass'].includes(r.name ?? '') && r.method !== 'GET')).toEqual([]);
    expect(api.data('mlplatform', 'rds')).toEqual({ user: 'mlflow_app', pass: DB_PASSWORD });
    expectRequestsWithinPlan(api, plan, rbac);
  });

  // MLflow reads basic_auth.ini with configparser's default interpolation: the `%XX` of a
  // percent-encoded password (or any `%`) must be written as `%%` or MLflow does not start.
  test('basic_auth.ini is readable by MLflow when the database password needs percent-encoding', async () => {
    // The generated password is hex; give the tracking role one that needs encoding, as a user might.
    api.seed('mlplatform', 'ml-tracking-database', { username: 'ml_tracking', password: DB_PASSWORD }, { 'mlplatform.io/generated': 'true' });
    expectSuccess(await runProgram(synth.program, plan, api));
    expect(api.data('mlplatform', 'ml-tracking-config')!['backend-store-uri']).toContain(`ml_tracking:${DB_PASSWORD_URL}@`);
    const ini = api.data('mlplatform', 'ml-tracking-config')!['basic_auth.ini'];
    expect(readIniLikeMlflow(ini)).toEqual({ ok: true, values: expect.objectContaining({ database_uri: api.data('mlplatform', 'ml-tracking-config')!['backend-store-uri'] }) });
  });
});

// ---------------------------------------------------------------------------------------------

describe('bootstrap program: failures are reported, with a message', () => {
  const clock = { seq: 0 };
  let synth: Synthesized;
  const fakes: { stop(): Promise<void> }[] = [];

  beforeAll(() => {
    synth = bootstrapOf(buildPlatform(Testing.app()).chart.toJson() as K8sObject[]);
  });

  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
  });

  async function freshApi(): Promise<FakeKubernetes> {
    const api = await new FakeKubernetes(clock).start();
    api.applySecrets(synth.objects);
    fakes.push(api);
    return api;
  }

  /** The example plan without the steps that need other servers. */
  function localPlan(): any {
    const plan = clone(synth.plan);
    delete plan.bucket; // no S3 server here
    delete plan.database; // no PostgreSQL here (test/engine/tenant-database.test.ts)
    delete plan.mlflowUsers;
    return plan;
  }

  test.each([
    ['a missing key of an existing Secret', 'mlplatform/ml-postgres-credentials:passwd', 'mlplatform/ml-postgres-credentials key passwd'],
    ['a missing Secret', 'mlplatform/ml-nowhere:password', 'mlplatform/ml-nowhere key password'],
  ])('a compose template referencing %s: non-zero exit naming it, the target left unwritten', async (_what, ref, named) => {
    const api = await freshApi();
    const plan = localPlan();
    const target = plan.compose.find((c: any) => c.namespace === 'mlplatform' && c.name === 'ml-tracking-config');
    target.keys['backend-store-uri'] = `{{secret:${ref}}}`;
    const run = await runProgram(synth.program, plan, api);
    expect(run.code).not.toBe(0);
    expect(run.signal).toBeNull();
    expect(run.stderr).toContain(`template needs ${named}, which does not exist`);
    expect(run.stderr).not.toContain('Traceback');
    expect(api.data('mlplatform', 'ml-tracking-config')).toEqual({}); // as the manifests created it
    expect(api.requests.filter((r) => r.namespace === 'mlplatform' && r.name === 'ml-tracking-config' && r.method !== 'GET')).toEqual([]);
    expect(run.stdout).not.toContain('[bootstrap] done');
  }, TEST_TIMEOUT);

  test('a wrong ServiceAccount token: non-zero exit with the HTTP 401, nothing written', async () => {
    const api = await freshApi();
    const run = await runProgram(synth.program, localPlan(), api, { token: 'not-the-token' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('reading secret mlplatform/ml-postgres-credentials: HTTP 401 Unauthorized');
    expect(run.stderr).not.toContain('Traceback');
    // Only the empty Secrets of the manifests, all still empty.
    expect(Object.values(api.dump()).filter((d) => Object.keys(d).length > 0)).toEqual([]);
    expect(api.requests.every((r) => !r.authorized && r.status === 401)).toBe(true);
  }, TEST_TIMEOUT);

  test('MLflow refusing the admin credentials: non-zero exit with the HTTP 401, no tenant Secret stored', async () => {
    const api = await freshApi();
    const mlflow = await new FakeMlflow(clock, () => ['admin', 'some-other-password']).start();
    fakes.push(mlflow);
    const plan = clone(synth.plan);
    delete plan.bucket; // no S3 server here
    delete plan.database; // no PostgreSQL here (test/engine/tenant-database.test.ts)
    plan.mlflowUsers.uri = mlflow.url;
    const run = await runProgram(synth.program, plan, api);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('creating MLflow user vision: HTTP 401');
    expect(run.stderr).not.toContain('Traceback');
    expect(api.data('vision', 'ml-tracking')).toEqual({}); // as the manifests created it
    expect(mlflow.users.size).toBe(0);
  }, TEST_TIMEOUT);
});

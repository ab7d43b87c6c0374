/**
 * Runs the credentials bootstrap program for real: the `bootstrap.py` and `plan.json` taken from the
 * synthesized ConfigMap, executed by the system Python (`/usr/bin/python3`) against in-process fakes
 * of the Kubernetes API (Secrets only) and of the MLflow tracking server's REST API.
 */
import { spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';
import { ArtifactStore, BackendStore, TrackingAuth } from '../../src/core';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

/** The interpreter: the system one, not whatever `python3` comes first on PATH (pyenv, venvs). */
const PYTHON = '/usr/bin/python3';
/** Per-test limit; the first run waits ~10 s for the fake tracking server (the program sleeps 5 s between tries). */
const TEST_TIMEOUT = 60_000;
/** Hard limit of one program run (it is killed after that). */
const RUN_TIMEOUT = 45_000;
const SECRET_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/;

type Data = Record<string, string>;

function requirePython(): void {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: the bootstrap engine test runs the real program with the system Python 3 ` +
      '(stdlib only). Install it (`apt-get install python3`) — this test is never skipped.');
  }
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function unb64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: http.Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------------------------------------
// Fake Kubernetes API: Secrets in memory, bearer-token check, every request recorded.

interface K8sRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Namespace and name the request is about (name from the path, or from the body of a POST). */
  readonly namespace?: string;
  readonly name?: string;
  readonly authorized: boolean;
  readonly status: number;
  /** Decoded `data` of a POST/PUT body. */
  readonly data?: Data;
  readonly body?: any;
}

class FakeKubernetes {
  public readonly token = randomBytes(16).toString('hex');
  public readonly requests: K8sRequest[] = [];
  private readonly secrets = new Map<string, any>();
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((e) => send(res, 500, { kind: 'Status', code: 500, message: String(e) }));
  });
  private version = 0;
  public url = '';

  constructor(private readonly clock: { seq: number }) {}

  public async start(): Promise<this> {
    this.url = await listen(this.server);
    return this;
  }

  public stop(): Promise<void> {
    return close(this.server);
  }

  /** Creates a Secret directly (what a user would have created before the platform). */
  public seed(namespace: string, name: string, data: Data): void {
    this.secrets.set(`${namespace}/${name}`, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace, resourceVersion: String(++this.version) },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    });
  }

  public delete(namespace: string, name: string): void {
    this.secrets.delete(`${namespace}/${name}`);
  }

  public object(namespace: string, name: string): any {
    return this.secrets.get(`${namespace}/${name}`);
  }

  /** A Secret's decoded data, or undefined when absent. */
  public data(namespace: string, name: string): Data | undefined {
    const s = this.object(namespace, name);
    return s ? Object.fromEntries(Object.entries<string>(s.data ?? {}).map(([k, v]) => [k, unb64(v)])) : undefined;
  }

  /** Every Secret's decoded data, by `namespace/name`. */
  public dump(): Record<string, Data> {
    return Object.fromEntries([...this.secrets.keys()].sort().map((k) => {
      const [ns, name] = k.split('/');
      return [k, this.data(ns, name)!];
    }));
  }

  public keys(): string[] {
    return [...this.secrets.keys()].sort();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const method = req.method ?? '';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    const m = SECRET_PATH.exec(path);
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const data = body?.data ? Object.fromEntries(Object.entries<string>(body.data).map(([k, v]) => [k, unb64(v)])) : undefined;
    const namespace = m?.[1];
    const name = m?.[2] ?? body?.metadata?.name;
    const reply = (status: number, payload: unknown) => {
      this.requests.push({ seq: ++this.clock.seq, method, path, namespace, name, authorized, status, data, body });
      send(res, status, payload);
    };
    const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

    if (!authorized) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (!m) return reply(404, status(404, 'NotFound', `the server could not find the requested resource ${path}`));
    const key = `${namespace}/${name}`;
    if (method === 'GET' && m[2]) {
      const s = this.secrets.get(key);
      return s ? reply(200, s) : reply(404, status(404, 'NotFound', `secrets "${name}" not found`));
    }
    if (method === 'POST' && !m[2]) {
      if (body?.kind !== 'Secret' || body?.apiVersion !== 'v1' || !name) return reply(400, status(400, 'BadRequest', 'not a v1 Secret'));
      if (body.metadata.namespace !== undefined && body.metadata.namespace !== namespace) {
        return reply(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
      }
      if (this.secrets.has(key)) return reply(409, status(409, 'AlreadyExists', `secrets "${name}" already exists`));
      const stored = { ...body, metadata: { ...body.metadata, namespace, resourceVersion: String(++this.version) } };
      this.secrets.set(key, stored);
      return reply(201, stored);
    }
    if (method === 'PUT' && m[2]) {
      if (body?.kind !== 'Secret' || body?.metadata?.name !== m[2]) return reply(400, status(400, 'BadRequest', 'name in body does not match the URL'));
      if (!this.secrets.has(key)) return reply(404, status(404, 'NotFound', `secrets "${name}" not found`));
      const stored = { ...body, metadata: { ...body.metadata, namespace, resourceVersion: String(++this.version) } };
      this.secrets.set(key, stored);
      return reply(200, stored);
    }
    return reply(405, status(405, 'MethodNotAllowed', `${method} ${path} is not supported by the fake`));
  }
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

// ---------------------------------------------------------------------------------------------
// The synthesized program and plan, and running it.

interface Synthesized {
  readonly objects: K8sObject[];
  readonly program: string;
  readonly plan: any;
}

/** The bootstrap ConfigMap's program and plan, after checking the Job really runs that program with that plan. */
function bootstrapOf(objects: K8sObject[], platform = 'ml', namespace = 'mlplatform'): Synthesized {
  const name = `${platform}-bootstrap`;
  const cm = find(objects, 'ConfigMap', name, namespace);
  const jobs = findAll(objects, 'Job').filter((j) => j.metadata.name?.startsWith(`${name}-`));
  expect(jobs).toHaveLength(1);
  const pod = jobs[0].spec.template.spec;
  const mount = pod.containers[0].volumeMounts.find((v: any) => pod.volumes.some((vol: any) => vol.name === v.name && vol.configMap?.name === name));
  expect(mount).toBeDefined();
  expect(pod.containers[0].command).toEqual(['python', `${mount.mountPath}/bootstrap.py`]);
  expect(pod.containers[0].env).toEqual(expect.arrayContaining([{ name: 'PLAN', value: `${mount.mountPath}/plan.json` }]));
  expect(cm.data['bootstrap.py']).toMatch(/^#!\/usr\/bin\/env python3\n/);
  return { objects, program: cm.data['bootstrap.py'], plan: JSON.parse(cm.data['plan.json']) };
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

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let workdir: string;
let runs = 0;

/** Runs the program with `plan` against `api`, asynchronously (the fakes live in this process). */
function runProgram(program: string, plan: unknown, api: FakeKubernetes, opts: { token?: string } = {}): Promise<Run> {
  requirePython();
  const dir = join(workdir, `run-${++runs}`);
  const sa = join(dir, 'sa');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), `${opts.token ?? api.token}\n`);
  writeFileSync(join(sa, 'ca.crt'), ''); // unused over http
  writeFileSync(join(dir, 'bootstrap.py'), program);
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan, null, 2));
  // A clean environment: no proxy variables (urllib would send 127.0.0.1 traffic through them), no PYTHONPATH.
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    K8S_API: api.url,
    SA_DIR: sa,
    PLAN: join(dir, 'plan.json'),
    WAIT_SECONDS: '30',
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(dir, 'bootstrap.py')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Fails with the program's output when it did not exit 0. */
function expectSuccess(run: Run): void {
  if (run.code !== 0) {
    throw new Error(`bootstrap exited with ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(/\[bootstrap\] done\n$/);
}

/** Every Kubernetes request was authorized, on a Secret the plan names and the bootstrap's Roles allow. */
function expectRequestsWithinPlan(api: FakeKubernetes, plan: any, rbac: Map<string, { create: boolean; names: Set<string> }>, since = 0): void {
  const allowed = planSecrets(plan);
  const stray = api.requests.filter((r) => r.seq > since).filter((r) => {
    if (!r.authorized || !r.namespace || !r.name || !allowed.has(`${r.namespace}/${r.name}`)) return true;
    const role = rbac.get(r.namespace);
    if (!role) return true;
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
    // No S3 server here: the `bucket` step (boto3 against the embedded store) is left out.
    expect(plan.bucket).toMatchObject({ name: 'ml-artifacts' });
    delete plan.bucket;
    api = await new FakeKubernetes(clock).start();
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
    expect(plan.copy.map((c: any) => c.to.namespace)).toEqual(['vision', 'nlp']);
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
    expect(pg).toEqual({ username: 'mlflow', password: expect.stringMatching(HEX(24)) });
    expect(admin).toEqual({ username: 'admin', password: expect.stringMatching(HEX(16)) });
    // Two runs of secrets.token_hex would not collide: each Secret got its own value.
    expect(new Set([pg.password, s3.accessKeyId, s3.secretAccessKey, admin.password, flask['flask-secret-key']]).size).toBe(5);

    // compose: templates fully rendered.
    for (const c of plan.compose) {
      const data = api.data(c.namespace, c.name)!;
      expect(Object.keys(data).sort()).toEqual(Object.keys(c.keys).sort());
      for (const v of Object.values(data)) expect(v).not.toContain('{{');
    }
    const uri = `postgresql+psycopg2://mlflow:${pg.password}@ml-postgres.mlplatform.svc.cluster.local:5432/mlflow`;
    const config = api.data('mlplatform', 'ml-tracking-config')!;
    expect(config['backend-store-uri']).toBe(uri);
    expect(config['flask-secret-key']).toBe(flask['flask-secret-key']);
    expect(config['basic_auth.ini']).toBe([
      '[mlflow]',
      'default_permission = READ',
      `database_uri = ${uri}`,
      'admin_username = admin',
      `admin_password = ${admin.password}`,
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      '',
    ].join('\n'));
    expect(readIniLikeMlflow(config['basic_auth.ini'])).toEqual({ ok: true, values: expect.objectContaining({ database_uri: uri, admin_password: admin.password }) });
    expect(s3.accessKeyId).toMatch(HEX(10));
    expect(s3.secretAccessKey).toMatch(HEX(20));
    expect(JSON.parse(s3['s3.json'])).toEqual({
      identities: [{ name: 'platform', credentials: [{ accessKey: s3.accessKeyId, secretKey: s3.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
    });

    for (const tenant of ['vision', 'nlp']) {
      // compose into the tenant namespace, and copy: equal to their sources.
      expect(api.data(tenant, 'ml-database')).toEqual(pg);
      expect(api.data(tenant, 'ml-store')).toEqual({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
      // One MLflow user per tenant, its password kept in the tenant's Secret.
      const creds = api.data(tenant, 'ml-tracking')!;
      expect(creds).toEqual({ username: tenant, password: expect.stringMatching(HEX(24)) });
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
    // compose and copy: create refused (409), then replaced with identical content.
    for (const target of [...plan.compose.map((c: any) => c), ...plan.copy.map((c: any) => c.to)]) {
      const writes = k8s.filter((r) => r.namespace === target.namespace && r.name === target.name && (r.method === 'POST' || r.method === 'PUT'));
      expect(writes.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 409', 'PUT 200']);
      expect(writes[1].data).toEqual(afterFirst![`${target.namespace}/${target.name}`]);
      expect(run.stdout).toContain(`[bootstrap] replaced ${target.namespace}/${target.name}\n`);
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
    api.delete('nlp', 'ml-tracking');
    const since = clock.seq;
    const run = await runProgram(synth.program, plan, api);
    expectSuccess(run);
    const fresh = api.data('nlp', 'ml-tracking')!;
    expect(fresh).toEqual({ username: 'nlp', password: expect.stringMatching(HEX(24)) });
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
      platform.addTenant('research');
    });
    synth = bootstrapOf(objects);
    rbac = rbacOf(objects);
    plan = clone(synth.plan);
    expect(plan.bucket).toBeUndefined(); // an external bucket: nothing to create
    api = await new FakeKubernetes(clock).start();
    api.seed('mlplatform', 'rds', { user: 'mlflow_app', pass: DB_PASSWORD });
    api.seed('mlplatform', 'aws', { id: 'AKIAEXAMPLE', secret: 'wJalr/EXAMPLEKEY+1' });
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
    const uri = `postgresql+psycopg2://mlflow_app:${DB_PASSWORD_URL}@db.internal.example.com:5432/mlflow?sslmode=require`;
    const config = api.data('mlplatform', 'ml-tracking-config')!;
    expect(config['backend-store-uri']).toBe(uri);
    expect(config['basic_auth.ini']).toContain(`database_uri = ${uri.replace(/%/g, '%%')}\nadmin_username = root\nadmin_password = admin-pw\n`);
    expect(api.data('mlplatform', 'ml-mlflow-admin-joined')).toEqual({ username: 'root', password: 'admin-pw' });
    expect(api.data('research', 'ml-database')).toEqual({ username: 'mlflow_app', password: DB_PASSWORD });
    expect(api.data('research', 'ml-store')).toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalr/EXAMPLEKEY+1' });
    const creds = api.data('research', 'ml-tracking')!;
    expect(creds).toEqual({ username: 'research', password: expect.stringMatching(HEX(24)) });
    expect(mlflow.users).toEqual(new Map([['research', creds.password]]));
    // The user's own Secrets are read, never written.
    expect(api.requests.filter((r) => ['rds', 'aws', 'mlflow-admin-user', 'mlflow-admin-pass'].includes(r.name ?? '') && r.method !== 'GET')).toEqual([]);
    expect(api.data('mlplatform', 'rds')).toEqual({ user: 'mlflow_app', pass: DB_PASSWORD });
    expectRequestsWithinPlan(api, plan, rbac);
  });

  // MLflow reads basic_auth.ini with configparser's default interpolation: the `%XX` of a
  // percent-encoded password (or any `%`) must be written as `%%` or MLflow does not start.
  test('basic_auth.ini is readable by MLflow when the database password needs percent-encoding', () => {
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
    fakes.push(api);
    return api;
  }

  /** The example plan without the steps that need other servers. */
  function localPlan(): any {
    const plan = clone(synth.plan);
    delete plan.bucket; // no S3 server here
    delete plan.mlflowUsers;
    return plan;
  }

  test.each([
    ['a missing key of an existing Secret', 'mlplatform/ml-postgres-credentials:passwd', 'mlplatform/ml-postgres-credentials key passwd'],
    ['a missing Secret', 'mlplatform/ml-nowhere:password', 'mlplatform/ml-nowhere key password'],
  ])('a compose template referencing %s: non-zero exit naming it, the target left unwritten', async (_what, ref, named) => {
    const api = await freshApi();
    const plan = localPlan();
    const target = plan.compose.find((c: any) => c.namespace === 'vision' && c.name === 'ml-database');
    target.keys.password = `{{secret:${ref}}}`;
    const run = await runProgram(synth.program, plan, api);
    expect(run.code).not.toBe(0);
    expect(run.signal).toBeNull();
    expect(run.stderr).toContain(`template needs ${named}, which does not exist`);
    expect(run.stderr).not.toContain('Traceback');
    expect(api.data('vision', 'ml-database')).toBeUndefined();
    expect(api.requests.filter((r) => r.namespace === 'vision' && r.name === 'ml-database' && r.method !== 'GET')).toEqual([]);
    expect(run.stdout).not.toContain('[bootstrap] done');
  }, TEST_TIMEOUT);

  test('a wrong ServiceAccount token: non-zero exit with the HTTP 401, nothing written', async () => {
    const api = await freshApi();
    const run = await runProgram(synth.program, localPlan(), api, { token: 'not-the-token' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('reading secret mlplatform/ml-postgres-credentials: HTTP 401 Unauthorized');
    expect(run.stderr).not.toContain('Traceback');
    expect(api.keys()).toEqual([]);
    expect(api.requests.every((r) => !r.authorized && r.status === 401)).toBe(true);
  }, TEST_TIMEOUT);

  test('MLflow refusing the admin credentials: non-zero exit with the HTTP 401, no tenant Secret stored', async () => {
    const api = await freshApi();
    const mlflow = await new FakeMlflow(clock, () => ['admin', 'some-other-password']).start();
    fakes.push(mlflow);
    const plan = clone(synth.plan);
    delete plan.bucket; // no S3 server here
    plan.mlflowUsers.uri = mlflow.url;
    const run = await runProgram(synth.program, plan, api);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('creating MLflow user vision: HTTP 401');
    expect(run.stderr).not.toContain('Traceback');
    expect(api.data('vision', 'ml-tracking')).toBeUndefined();
    expect(mlflow.users.size).toBe(0);
  }, TEST_TIMEOUT);
});

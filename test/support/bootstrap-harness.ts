/**
 * Running the credentials bootstrap program for real: the `bootstrap.py` and `plan.json` of a synthesized
 * bootstrap ConfigMap, executed by the system Python (`/usr/bin/python3`) against an in-process fake of
 * the Kubernetes API (Secrets only, bearer token checked, every request recorded). Used by
 * test/cdk8s/bootstrap-engine.test.ts and test/engine/tenant-database.test.ts.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import { find, findAll, K8sObject } from './synth';

/** The interpreter: the system one, not whatever `python3` comes first on PATH (pyenv, venvs). */
export const PYTHON = '/usr/bin/python3';
/** Hard limit of one program run (it is killed after that). */
export const RUN_TIMEOUT = 45_000;
export const SECRET_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/;


export type Data = Record<string, string>;

export function requirePython(): void {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: the bootstrap engine test runs the real program with the system Python 3 ` +
      '(stdlib only). Install it (`apt-get install python3`) — this test is never skipped.');
  }
}

export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export function unb64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

export async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: http.Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------------------------------------
// Fake Kubernetes API: Secrets in memory, bearer-token check, every request recorded.

export interface K8sRequest {
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

export class FakeKubernetes {
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
  public seed(namespace: string, name: string, data: Data, labels?: Record<string, string>): void {
    this.secrets.set(`${namespace}/${name}`, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, namespace, resourceVersion: String(++this.version), ...(labels ? { labels } : {}) },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    });
  }

  /** Creates the Secrets of `objects` as they are applied (the bootstrap's empty ones: no data). */
  public applySecrets(objects: readonly K8sObject[]): void {
    for (const o of objects.filter((x) => x.kind === 'Secret')) {
      this.seed(o.metadata.namespace!, o.metadata.name!, (o as any).stringData ?? {}, (o.metadata.labels ?? undefined) as Record<string, string> | undefined);
    }
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
// The synthesized program and plan, and running it.

export interface Synthesized {
  readonly objects: K8sObject[];
  readonly program: string;
  readonly plan: any;
}

/** The bootstrap ConfigMap's program and plan, after checking the Job really runs that program with that plan. */
export function bootstrapOf(objects: K8sObject[], platform = 'ml', namespace = 'mlplatform'): Synthesized {
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

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the program with `plan` against `api` in folder `dir`, asynchronously (the fakes live in this process). */
export function runBootstrap(
  program: string, plan: unknown, api: FakeKubernetes, dir: string, opts: { token?: string; waitSeconds?: number; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  requirePython();
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
    WAIT_SECONDS: String(opts.waitSeconds ?? 30),
    ...opts.env,
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(dir, 'bootstrap.py')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? RUN_TIMEOUT);
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
export function expectSuccess(run: Run): void {
  if (run.code !== 0) {
    throw new Error(`bootstrap exited with ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(/\[bootstrap\] done\n$/);
}


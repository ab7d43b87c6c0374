/**
 * The part of the Kubernetes API the credentials bootstrap uses — Secrets: GET, POST (409 when it
 * exists), PUT — over TLS on 127.0.0.1 with a CA of its own, authenticating the bearer tokens it
 * issued for the pods' projected service-account volumes. Secrets it stores go into the same
 * ObjectSource the harness's kubelet reads, so pods waiting for them start when they are written,
 * as on a cluster. (A stand-in until test/cluster/control-plane.ts's kube-apiserver can serve the
 * harness; RBAC is proven by test/cdk8s/bootstrap-engine.test.ts and the control-plane tier.)
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as https from 'https';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import type { ApiServer } from '../kubelet/kubelet';
import { KubeObject, MemorySource } from '../kubelet/source';

const SECRET_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/;

/** One request, as an audit log would show it. */
export interface AuditEntry {
  readonly method: string;
  readonly path: string;
  readonly user: string;
  readonly status: number;
}

/** A CA and a serving certificate for 127.0.0.1, made with openssl. */
function makePki(dir: string): { caPem: string; key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=harness-ca');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
  return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'server.crt'), 'utf8') };
}

/** The Secrets API. */
export class SecretsApi implements ApiServer {
  public readonly host = '127.0.0.1';
  public port = 0;
  public readonly audit: AuditEntry[] = [];
  public readonly caPem: string;
  private readonly tokens = new Map<string, string>();
  private readonly server: https.Server;
  private version = 0;
  constructor(private readonly source: MemorySource) {
    // The keys live in memory only: the folder openssl worked in is removed at once.
    const dir = mkdtempSync(join(tmpdir(), 'secrets-api-'));
    let pki: ReturnType<typeof makePki>;
    try {
      pki = makePki(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    this.caPem = pki.caPem;
    this.server = https.createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      this.handle(req, res).catch((e) => this.send(res, 500, { kind: 'Status', code: 500, message: String(e) }));
    });
  }

  public async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Publishes the CA as `kube-root-ca.crt` in `namespaces` (the root CA publisher controller's job). */
  public publishRootCa(namespaces: readonly string[]): void {
    for (const namespace of namespaces) {
      this.source.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace }, data: { 'ca.crt': this.caPem } });
    }
  }

  public async token(namespace: string, serviceAccount: string): Promise<string> {
    const t = randomBytes(24).toString('hex');
    this.tokens.set(t, `system:serviceaccount:${namespace}:${serviceAccount}`);
    return t;
  }

  private send(res: any, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: any, res: any): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? '';
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    const user = this.tokens.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '') ?? 'system:anonymous';
    const reply = (status: number, body: unknown) => {
      this.audit.push({ method, path, user, status });
      this.send(res, status, body);
    };
    const failure = (code: number, reason: string, message: string) => reply(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
    if (user === 'system:anonymous') return failure(401, 'Unauthorized', 'Unauthorized');
    const m = SECRET_PATH.exec(path);
    if (!m) return failure(404, 'NotFound', `the server could not find the requested resource ${path}`);
    const namespace = m[1];
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return failure(400, 'BadRequest', 'invalid JSON');
    }
    const name = m[2] ?? body?.metadata?.name;
    const existing = name ? this.source.getSync('Secret', namespace, name) : undefined;
    if (method === 'GET' && m[2]) return existing ? reply(200, existing) : failure(404, 'NotFound', `secrets "${name}" not found`);
    if (method === 'POST' && !m[2]) {
      if (body?.kind !== 'Secret' || !name) return failure(400, 'BadRequest', 'not a v1 Secret');
      if (existing) return failure(409, 'AlreadyExists', `secrets "${name}" already exists`);
      return reply(201, this.store(namespace, body));
    }
    if (method === 'PUT' && m[2]) {
      if (!existing) return failure(404, 'NotFound', `secrets "${name}" not found`);
      return reply(200, this.store(namespace, body));
    }
    return failure(405, 'MethodNotAllowed', `${method} ${path}`);
  }

  private store(namespace: string, body: any): KubeObject {
    const stored: KubeObject = { ...body, metadata: { ...body.metadata, namespace, resourceVersion: String(++this.version) } };
    this.source.put(stored);
    return stored;
  }
}

/**
 * A small client of the real kube-apiserver: raw requests, discovery (kind → resource), server-side
 * apply with strict field validation, and polling. It speaks the API server's REST protocol with a
 * client certificate or a bearer token; nothing here interprets objects the way the server would.
 */
import { readFileSync } from 'fs';
import * as https from 'https';

/** Credentials of one API client. */
export interface KubeCredentials {
  readonly server: string;
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
}

/** A non-2xx answer of the API server. */
export class KubeError extends Error {
  constructor(public readonly status: number, public readonly body: any, what: string) {
    super(`${what}: HTTP ${status} ${body?.reason ?? ''}: ${body?.message ?? JSON.stringify(body)}`);
  }
}

/** An error that ends a {@link Kube.waitFor} at once (a process of the tier exited, say). */
export class FatalError extends Error {}

/** One API resource, as discovery reports it. */
export interface ApiResource {
  readonly groupVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** A manifest: any object with apiVersion, kind and metadata. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** A client of one API server. */
export class Kube {
  private readonly agent: https.Agent;
  private readonly resources = new Map<string, ApiResource>();

  constructor(private readonly creds: KubeCredentials) {
    this.agent = new https.Agent({
      ca: readFileSync(creds.ca),
      cert: creds.cert ? readFileSync(creds.cert) : undefined,
      key: creds.key ? readFileSync(creds.key) : undefined,
      keepAlive: true,
      maxSockets: 8,
    });
  }

  /** A client with the same server and CA but another bearer token (a ServiceAccount's). */
  public withToken(token: string): Kube {
    return new Kube({ server: this.creds.server, ca: this.creds.ca, token });
  }

  /**
   * One request; resolves with the parsed JSON body, rejects with {@link KubeError} on non-2xx.
   * The server's `Warning` headers (Pod Security warnings, deprecated APIs …) are pushed onto `warnings`.
   */
  public request(method: string, path: string, body?: unknown, contentType = 'application/json', warnings?: string[]): Promise<any> {
    const url = new URL(path, this.creds.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (this.creds.token) headers.Authorization = `Bearer ${this.creds.token}`;
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent, timeout: 60_000 }, (res) => {
        const w = res.headers.warning;
        if (warnings && w) warnings.push(...(Array.isArray(w) ? w : [w]));
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // plain text (e.g. /readyz)
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed);
          else reject(new KubeError(status, parsed, `${method} ${path}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Forgets discovered resources (after CRDs were added). */
  public resetDiscovery(): void {
    this.resources.clear();
  }

  /** The resource of `apiVersion`/`kind`, from the server's discovery documents. */
  public async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    const key = `${apiVersion}/${kind}`;
    const known = this.resources.get(key);
    if (known) return known;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.request('GET', path);
    for (const r of list.resources as any[]) {
      if (r.name.includes('/')) continue;
      this.resources.set(`${apiVersion}/${r.kind}`, { groupVersion: apiVersion, plural: r.name, namespaced: r.namespaced });
    }
    const found = this.resources.get(key);
    if (!found) throw new Error(`the API server serves no kind ${kind} in ${apiVersion}`);
    return found;
  }

  /** The URL path of a collection (`name` omitted) or of one object. */
  public async path(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced ? `/namespaces/${namespace ?? 'default'}` : '';
    return `${base}${ns}/${r.plural}${name === undefined ? '' : `/${name}`}`;
  }

  /**
   * Server-side apply of one object (field manager `mlplatform`, conflicts forced, unknown or
   * duplicate fields rejected: `fieldValidation=Strict`).
   */
  public async apply(obj: Manifest, fieldManager = 'mlplatform', warnings?: string[]): Promise<any> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    return this.request('PATCH', `${path}?fieldManager=${fieldManager}&force=true&fieldValidation=Strict`,
      JSON.stringify(obj), 'application/apply-patch+yaml', warnings);
  }

  /** GET one object; undefined when it does not exist. */
  public async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any> {
    try {
      return await this.request('GET', await this.path(apiVersion, kind, namespace, name));
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** LIST objects (in one namespace, or all when `namespace` is undefined for a namespaced kind). */
  public async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<any[]> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced && namespace ? `/namespaces/${namespace}` : '';
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    return (await this.request('GET', `${base}${ns}/${r.plural}${q}`)).items;
  }

  /** Creates an object (POST); the server's answer. */
  public async create(obj: Manifest): Promise<any> {
    return this.request('POST', await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace), obj);
  }

  /** Deletes an object (background propagation); ignores a missing one. */
  public async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.request('DELETE', await this.path(apiVersion, kind, namespace, name), { propagationPolicy: 'Background' });
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 404)) throw e;
    }
  }

  /** Whether `user` (with `groups`) may `verb` the resource: a SubjectAccessReview answered by the server. */
  public async can(user: string, groups: readonly string[], attrs: {
    verb: string; resource: string; group?: string; namespace?: string; name?: string; subresource?: string;
  }): Promise<boolean> {
    const sar = await this.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, groups, resourceAttributes: { group: attrs.group ?? '', ...attrs } },
    });
    return sar.status.allowed === true;
  }

  /** Polls `probe` every `intervalMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
  public async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (e) {
        if (e instanceof FatalError) throw e;
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Closes the keep-alive connections. */
  public close(): void {
    this.agent.destroy();
  }
}

/**
 * The payload-logging engine test: the proxy script ModelEndpoint ships in its ConfigMap, run as the
 * synthesized `payload-logger` container of the endpoint's Deployment on the kubelet harness
 * (fixtures/harness.ts: its user, read-only root, the ConfigMap mounted where its command reads it, the
 * store Secret and the pod name from the objects; the image is Debian's /usr/bin/python3 with boto3),
 * in front of a toy model server, uploading to a fake S3 (path-style PutObject) in this process. The
 * model container (no stand-in for its image) is left out of the pod. The pods share the host's network
 * here (the test calls the proxy's port). Never skipped: a missing python3, boto3 or harness
 * prerequisite (root, unshare) fails it.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { engineKubelet, putAll, RunningPod } from './fixtures/harness';
import { ModelEndpoint } from '../../src/cdk8s/model-endpoint';
import { Cpu, Duration, Issues, PlatformContext, resolveTenant, Size } from '../../src/core';
import { ModelSource, PayloadLoggingOptions, Runtime } from '../../src/core/endpoint';
import { Kubelet } from '../cluster/kubelet/kubelet';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject, synthChart } from '../support/synth';

const PYTHON = '/usr/bin/python3';
jest.setTimeout(60000);
const POD = 'toy-stable-7d9c5-x2x4q';
const KEYS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

// ---------- toy model server ----------

const SSE_EVENTS = ['data: {"token":"Hel"}\n\n', 'data: {"token":"lo"}\n\n', 'data: {"token":"!"}\n\n', 'data: [DONE]\n\n'];
const SSE_GAP_MS = 400;
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));

function toyServer(): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      if (url === '/ping') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('pong');
      } else if (url.startsWith('/invocations')) {
        const out = JSON.stringify({ predictions: [body.length], echo: body.toString('utf8'), query: url.split('?')[1] ?? null });
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Model-Version': '7' }).end(out);
      } else if (url === '/v1/completions') {
        // Server-Sent Events, chunked, one event at a time: what vLLM streams.
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        let i = 0;
        const next = () => {
          res.write(SSE_EVENTS[i++]);
          if (i < SSE_EVENTS.length) setTimeout(next, SSE_GAP_MS); else res.end();
        };
        next();
      } else if (url === '/big') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(10000));
      } else if (url === '/binary') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(BINARY);
      } else if (url === '/empty') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}');
      }
    });
  });
}

// ---------- fake S3 ----------

interface Put { bucket: string; key: string; body: string; contentType?: string }

class FakeS3 {
  public readonly puts: Put[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
      const [, bucket, ...key] = path.split('/');
      if (req.method !== 'PUT' || !bucket || key.length === 0) {
        res.writeHead(400).end();
        return;
      }
      const body = Buffer.concat(chunks);
      this.puts.push({ bucket, key: key.join('/'), body: body.toString('utf8'), contentType: req.headers['content-type'] });
      res.writeHead(200, { ETag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
    });
  });
  public async start(): Promise<number> {
    return listen(this.server);
  }
  public async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }
  public records(prefix: string): any[] {
    return this.puts.filter((p) => p.key.startsWith(prefix)).flatMap((p) => p.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

// ---------- the endpoint and the proxy process ----------

function context(storeEndpoint: string): PlatformContext {
  const issues = new Issues('fixture');
  const tenant = resolveTenant(issues, 'tenant', 'team', { quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(16) } }, []);
  issues.throwIfAny();
  return {
    name: 'ml',
    namespace: 'mlplatform',
    tracking: { uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'disabled', podLabels: {}, port: 5000 },
    store: {
      root: 's3://ml-artifacts/platform',
      bucket: 'ml-artifacts',
      prefix: 'platform',
      region: 'eu-west-1',
      endpoint: storeEndpoint,
      insecure: true,
      port: 8333,
      credentials: { name: 'ml-store', keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } },
    },
    database: { host: 'db', port: 5432, database: 'mlflow', sslMode: 'disable', credentials: { name: 'db', keys: { username: 'u', password: 'p' } } },
    pools: [],
    tenants: [tenant],
    addons: new Set(),
  };
}

interface Synthesized { objects: K8sObject[]; pod: any; container: any; script: string; prefix: string; bucket: string }

/** A ModelEndpoint `<name>` (a custom runtime on the toy server's port) with `logging`, synthesized. */
function synthesize(name: string, upstreamPort: number, storeEndpoint: string, logging: PayloadLoggingOptions): Synthesized {
  const { objects } = synthChart((chart) => new ModelEndpoint(chart, name, {
    platform: context(storeEndpoint),
    namespace: 'team',
    runtime: Runtime.custom({ image: 'registry.example.com/toy:1.0', port: upstreamPort, healthPaths: { liveness: '/ping', readiness: '/ping' }, protocol: 'custom' }),
    versions: [{ name: 'stable', model: ModelSource.baked() }],
    logging,
  }));
  expectValidManifests(objects);
  const pod = find(objects, 'Deployment', `${name}-stable`).spec.template.spec;
  const container = pod.containers.find((c: any) => c.name === 'payload-logger');
  const cmName = pod.volumes.find((v: any) => v.name === 'payload-logger').configMap.name;
  const script = find(objects, 'ConfigMap', cmName).data['payload_logger.py'];
  const scope = find(objects, 'ServiceAccount', `${name}-stable`).metadata.annotations!['mlplatform.io/payload-log-scope'] as string;
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(scope)!;
  return { objects, pod, container, script, bucket: m[1], prefix: m[2] };
}

/** The `payload-logger` container of the synthesized Deployment, run by the harness as pod {@link POD}. */
class Proxy {
  private readonly kubelet: Kubelet;
  private readonly pod: RunningPod;

  constructor(s: Synthesized) {
    const [cmd, file] = s.container.command;
    expect(cmd).toBe('python');
    expect(file).toBe('/etc/payload-logger/payload_logger.py');
    const { source, kubelet } = engineKubelet({ pythonImages: [s.container.image] });
    this.kubelet = kubelet;
    // Not the Services: on the host's network a Service port cannot be mapped to another container port,
    // and the test calls the container's port directly.
    putAll(source, s.objects.filter((o) => o.kind !== 'Service') as any);
    source.putSecret('team', 'ml-store', KEYS);
    const deploy = JSON.parse(JSON.stringify(s.objects.find((o) => o.kind === 'Deployment')));
    deploy.spec.template.spec.containers = deploy.spec.template.spec.containers.filter((c: any) => c.name === 'payload-logger');
    this.pod = kubelet.run(deploy, { name: POD });
  }

  /** The container's exit code, once it has exited (within 30 s). */
  public get exited(): Promise<number | null> {
    return this.pod.waitForExit('payload-logger', 30_000).then((e) => e.code);
  }

  /** The container's log (stdout and stderr). */
  public get stdout(): string {
    return this.pod.log('payload-logger');
  }

  public get stderr(): string {
    return this.pod.describe('payload-logger');
  }

  public async ready(): Promise<void> {
    await waitFor(() => this.stdout.includes('"event": "listening"'), 15000, () => `proxy did not start:\n${this.pod.describe()}`);
  }

  /** SIGTERM: the pod deleted (the kubelet's SIGTERM to the container); SIGKILL: gone at once. */
  public signal(sig: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    return this.pod.stop(sig === 'SIGKILL' ? { graceMs: 0 } : {});
  }

  public async remove(): Promise<void> {
    await this.kubelet.stop();
  }

  public events(name: string): any[] {
    return this.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === name);
  }
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; firstChunkMs: number; totalMs: number }

interface RequestOptions { body?: Buffer | string; headers?: Record<string, string>; agent?: http.Agent; chunked?: boolean }

function request(port: number, method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined && !o.chunked) headers['Content-Length'] = String(Buffer.byteLength(o.body));
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      let first = -1;
      res.on('data', (c: Buffer) => {
        if (first < 0) first = Date.now() - t0;
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), firstChunkMs: first, totalMs: Date.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** End-to-end headers: hop-by-hop ones and the per-response Date left out. */
function endToEnd(h: Reply['headers']): Record<string, unknown> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)));
}

function sampledByHash(id: string, percent: number): boolean {
  const h = createHash('sha256').update(id).digest().readBigUInt64BE(0);
  return Number(h % 10000n) < Math.round(percent * 100);
}

// ---------- setup ----------

let toy: http.Server;
let toyPort: number;
let s3: FakeS3;
let s3Url: string;
const proxies: Proxy[] = [];

async function startProxy(name: string, logging: PayloadLoggingOptions, storeEndpoint = s3Url): Promise<{ proxy: Proxy; port: number; s: Synthesized }> {
  const port = await freePort();
  const s = synthesize(name, toyPort, storeEndpoint, { ...logging, port });
  const proxy = new Proxy(s);
  proxies.push(proxy);
  await proxy.ready();
  return { proxy, port, s };
}

beforeAll(async () => {
  const r = spawnSync(PYTHON, ['-c', 'import boto3, http.server; print(boto3.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} with boto3 is missing: install Debian's python3-boto3 — the payload-logger engine test is never skipped.\n${r.stderr}`);
  toy = toyServer();
  toyPort = await listen(toy);
  s3 = new FakeS3();
  s3Url = `http://127.0.0.1:${await s3.start()}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.signal('SIGKILL').then(() => p.remove())));
  await new Promise((r) => toy.close(r));
  await s3.stop();
});

// ---------- tests ----------

describe('payload logger: the synthesized proxy in front of a model server', () => {
  test('responses are byte-identical with and without the proxy; streams pass through; sampled requests land under the write scope', async () => {
    const { proxy, port, s } = await startProxy('toy', { maxBodyBytes: 64, flushInterval: Duration.seconds(1) });
    expect(s.bucket).toBe('ml-artifacts');
    expect(s.prefix).toBe('platform/endpoints/team/toy/stable/payloads/');
    const body = JSON.stringify({ inputs: [[1, 2, 3]], notes: 'é'.repeat(100) });
    const cases: Array<[string, string, { body?: string; headers?: Record<string, string>; chunked?: boolean }]> = [
      ['POST', '/invocations?trace=1', { body, headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'req-json' } }],
      ['POST', '/invocations', { body: 'chunked request body', chunked: true, headers: { 'X-Request-Id': 'req-chunked' } }],
      ['GET', '/big', { headers: { 'X-Request-Id': 'req-big' } }],
      ['GET', '/binary', { headers: { 'X-Request-Id': 'req-binary' } }],
      ['GET', '/empty', { headers: { 'X-Request-Id': 'req-empty' } }],
      ['HEAD', '/big', { headers: { 'X-Request-Id': 'req-head' } }],
      ['GET', '/missing', { headers: { 'X-Request-Id': 'req-404' } }],
      ['GET', '/ping', { headers: { 'X-Request-Id': 'req-ping' } }],
    ];
    for (const [method, path, o] of cases) {
      const direct = await request(toyPort, method, path, o);
      const proxied = await request(port, method, path, o);
      expect({ path, status: proxied.status, headers: endToEnd(proxied.headers) }).toEqual({ path, status: direct.status, headers: endToEnd(direct.headers) });
      expect(proxied.body.equals(direct.body)).toBe(true);
    }

    // Server-Sent Events: the first event arrives long before the stream ends, byte for byte.
    const direct = await request(toyPort, 'POST', '/v1/completions', { body: '{"stream":true}', headers: { 'X-Request-Id': 'req-sse-direct' } });
    const sse = await request(port, 'POST', '/v1/completions', { body: '{"stream":true}', headers: { 'X-Request-Id': 'req-sse', 'Content-Type': 'application/json' } });
    expect(sse.body.toString()).toBe(SSE_EVENTS.join(''));
    expect(sse.body.equals(direct.body)).toBe(true);
    expect(sse.headers['transfer-encoding']).toBe('chunked');
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(sse.totalMs).toBeGreaterThanOrEqual(3 * SSE_GAP_MS - 50);
    expect(sse.firstChunkMs).toBeLessThan(SSE_GAP_MS);

    await waitFor(() => s3.records(s.prefix).some((r) => r.requestId === 'req-sse'), 10000, () => `no upload:\n${proxy.stdout}\n${proxy.stderr}`);
    const mine = s3.puts.filter((p) => p.key.startsWith(s.prefix));
    for (const put of mine) {
      expect(put.bucket).toBe('ml-artifacts');
      expect(put.key).toMatch(new RegExp(`^platform/endpoints/team/toy/stable/payloads/\\d{4}-\\d{2}-\\d{2}/\\d{6}-${POD}-\\d{6}\\.jsonl$`));
      expect(put.contentType).toBe('application/x-ndjson');
    }
    const records = new Map(s3.records(s.prefix).map((r) => [r.requestId, r]));
    // Every proxied request but the health check (excluded) is logged, once.
    expect([...records.keys()].sort()).toEqual(['req-404', 'req-big', 'req-binary', 'req-chunked', 'req-empty', 'req-head', 'req-json', 'req-sse'].sort());
    const json = records.get('req-json');
    expect(json).toMatchObject({
      requestId: 'req-json',
      namespace: 'team',
      endpoint: 'toy',
      version: 'stable',
      pod: POD,
      method: 'POST',
      path: '/invocations?trace=1',
      status: 200,
      request: { contentType: 'application/json', bytes: Buffer.byteLength(body), encoding: 'utf-8', truncated: true },
      response: { contentType: 'application/json', encoding: 'utf-8', truncated: true },
    });
    expect(json.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(json.latencyMs).toBeGreaterThan(0);
    // 64 bytes kept; the "é" the cut splits (bytes 64-65) is dropped rather than mangled.
    expect(json.request.body).toBe(`{"inputs":[[1,2,3]],"notes":"${'é'.repeat(17)}`);
    expect(Buffer.byteLength(json.request.body)).toBe(63);
    expect(records.get('req-chunked').request).toMatchObject({ body: 'chunked request body', bytes: 20, truncated: false });
    expect(records.get('req-big').response).toMatchObject({ body: 'x'.repeat(64), bytes: 10000, truncated: true });
    expect(records.get('req-binary').response).toMatchObject({ encoding: 'base64', bytes: 256, truncated: true });
    expect(Buffer.from(records.get('req-binary').response.body, 'base64').equals(BINARY.subarray(0, 64))).toBe(true);
    expect(records.get('req-empty')).toMatchObject({ status: 204, response: { bytes: 0, truncated: false } });
    expect(records.get('req-head')).toMatchObject({ method: 'HEAD', status: 200, response: { bytes: 0 } });
    expect(records.get('req-404')).toMatchObject({ status: 404, response: { body: '{"error":"not found"}' } });
    const sseRecord = records.get('req-sse');
    expect(sseRecord.response).toMatchObject({ contentType: 'text/event-stream', bytes: Buffer.byteLength(SSE_EVENTS.join('')), truncated: true });
    expect(sseRecord.response.body).toBe(SSE_EVENTS.join('').slice(0, 64));
    expect(sseRecord.firstByteMs).toBeLessThan(SSE_GAP_MS);
    expect(sseRecord.latencyMs).toBeGreaterThanOrEqual(3 * SSE_GAP_MS - 50);
  });

  test('sampling at 25%: exactly the requests whose id hashes below the threshold, about a quarter', async () => {
    const { proxy, port, s } = await startProxy('sampled', { samplePercent: 25, maxBodyBytes: 0, flushInterval: Duration.seconds(1), mode: 'request' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const ids = Array.from({ length: 400 }, (_, i) => `sample-${i}`);
    for (let i = 0; i < ids.length; i += 8) {
      const replies = await Promise.all(ids.slice(i, i + 8).map((id) => request(port, 'POST', '/invocations', { body: id, agent, headers: { 'X-Request-Id': id } })));
      for (const r of replies) expect(r.status).toBe(200);
    }
    agent.destroy();
    const expected = ids.filter((id) => sampledByHash(id, 25));
    await waitFor(() => s3.records(s.prefix).length >= expected.length, 10000, () => `got ${s3.records(s.prefix).length} of ${expected.length}\n${proxy.stdout}\n${proxy.stderr}`);
    await new Promise((r) => setTimeout(r, 1500)); // one more flush: nothing else may arrive
    const logged = s3.records(s.prefix);
    expect(logged.map((r) => r.requestId).sort()).toEqual(expected.sort());
    expect(expected.length / ids.length).toBeGreaterThan(0.18);
    expect(expected.length / ids.length).toBeLessThan(0.32);
    // maxBodyBytes 0 and mode "request": sizes only, and no response body at all.
    expect(logged[0].request).toEqual({ contentType: null, bytes: Buffer.byteLength(logged[0].requestId), truncated: true });
    expect(Object.keys(logged[0].response).sort()).toEqual(['bytes', 'contentType']);
  });

  test('the store down: every client still gets its answer; the batch is dropped and counted', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { proxy, port } = await startProxy('nostore', { flushInterval: Duration.seconds(1) }, dead);
    for (let i = 0; i < 20; i++) {
      const r = await request(port, 'POST', '/invocations', { body: `{"i":${i}}`, headers: { 'X-Request-Id': `down-${i}` } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString()).echo).toBe(`{"i":${i}}`);
    }
    await waitFor(() => proxy.events('upload-failed').length > 0, 20000, () => `no failed upload reported:\n${proxy.stdout}\n${proxy.stderr}`);
    const failed = proxy.events('upload-failed');
    expect(failed[0].droppedBatches).toBeGreaterThanOrEqual(1);
    expect(failed.reduce((n, e) => n + e.records, 0)).toBeGreaterThan(0);
    // Still serving after the failure.
    expect((await request(port, 'GET', '/big')).body.length).toBe(10000);
    expect(s3.puts.filter((p) => p.key.includes('/nostore/'))).toEqual([]);
  });

  test('SIGTERM: requests in flight finish, then the buffer is uploaded before exit', async () => {
    const { proxy, port, s } = await startProxy('term', { flushInterval: Duration.hours(1) });
    for (let i = 0; i < 5; i++) expect((await request(port, 'POST', '/invocations', { body: `t${i}`, headers: { 'X-Request-Id': `term-${i}` } })).status).toBe(200);
    // A stream in flight when the signal comes.
    const inFlight = request(port, 'POST', '/v1/completions', { body: '{}', headers: { 'X-Request-Id': 'term-stream' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(s3.records(s.prefix)).toEqual([]);
    const stopped = proxy.signal('SIGTERM');
    const streamed = await inFlight;
    expect(streamed.body.toString()).toBe(SSE_EVENTS.join(''));
    expect(await proxy.exited).toBe(0);
    await stopped;
    const ids = s3.records(s.prefix).map((r) => r.requestId).sort();
    expect(ids).toEqual(['term-0', 'term-1', 'term-2', 'term-3', 'term-4', 'term-stream']);
    expect(proxy.events('stopped')[0]).toMatchObject({ requests: 6, logged: 6, uploadedRecords: 6, droppedRecords: 0 });
  });
});

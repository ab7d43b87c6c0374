/**
 * `BackendStore.external({ sslMode: 'verify-full' | 'verify-ca', caCertificate })` connects (issue #21
 * item 3), on a real PostgreSQL 15 with `ssl=on` and certificates this test makes with `openssl`:
 *
 * - CA "a" signs the server certificate for the declared host name (`pg.tls.test`), CA "b" signs another
 *   one for the same name, and CA "a" signs a third for another name (`other.tls.test`); the server is
 *   reloaded (`pg_reload_conf()`, which re-reads the SSL files) to present each in turn;
 * - every client runs from the synthesized objects only: the bootstrap's `bootstrap.py` and `plan.json`
 *   (test/support/bootstrap-harness.ts) composes the tracking server's backend URI and MLflow's auth
 *   `database_uri`; the tracking pod runs on the kubelet harness (fixtures/harness.ts: as uid 1000 with
 *   its fsGroup, read-only root, the CA Secret volume mounted where `PGSSLROOTCERT` points and
 *   basic_auth.ini with the kubelet's owners and modes), with only its entry point replaced by a probe
 *   that connects the way MLflow does — `sqlalchemy.create_engine(uri, pool_pre_ping=True)` with no
 *   `connect_args` for PostgreSQL (mlflow/store/db/utils.py `create_sqlalchemy_engine`, MLflow 3.17.2),
 *   over SQLAlchemy + psycopg2 (Debian's /usr/bin/python3); the sweep's Jobs run as they are (the
 *   harness's Job controller), with the CA copy the bootstrap wrote into the tenant namespace.
 *
 * The host name is not rewritten: the harness's pods resolve `pg.tls.test` to their loopback, where the
 * declared port is forwarded to the server, so libpq checks the certificate against the URI's host.
 * (The bootstrap, run as a plain process, gets libpq's `PGHOSTADDR` — "behaves the same as the hostaddr
 * connection parameter", PostgreSQL 15 docs, libpq "Environment Variables", §34.15 — for the same effect.)
 * `PGSSLROOTCERT` "behaves the same as the sslrootcert connection parameter" (same page); without it,
 * libpq reads `~/.postgresql/root.crt` (§34.19.1), which HOME (/tmp, an emptyDir) does not hold.
 */
import { spawnSync } from 'child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { engineKubelet, podVisibleFixtures, putAll, runJob } from './fixtures/harness';
import { FakeMlflow } from './fixtures/sweep/fake-mlflow';
import { freePort, Postgres, startPostgres } from './fixtures/sweep/postgres';
import { MlPlatform, TuningSweep } from '../../src/cdk8s';
import { BackendStore, Duration, VERSIONS } from '../../src/core';
import { bootstrapOf, expectSuccess, FakeKubernetes, PYTHON, Run, runBootstrap } from '../support/bootstrap-harness';
import { storeSecretData, trackingSecretData } from '../support/credentials';
import { find, K8sObject } from '../support/synth';

// Where the pods on the harness see them (fixtures/harness.ts podVisibleFixtures).
const FIXTURES = podVisibleFixtures(join(__dirname, 'fixtures', 'sweep'));
const HOST = 'pg.tls.test';
const MASTER = { user: 'tls_master', password: 'm@ster:pw/2' };
/** The user's CA Secret in the platform namespace. */
const CA_SECRET = { name: 'db-ca', key: 'ca.pem' };

let pg: Postgres;
let certs: string;
let work: string;
let runs = 0;
const TRIAL_IMAGE = 'docker.io/library/python:3.12-slim';
/** PEM files by name: ca-a.crt, ca-b.crt and the server pairs. */
const pem: Record<string, string> = {};

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: certs, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function makeCa(name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=mlplatform test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

function makeServer(name: string, ca: string, dns: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${dns}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(certs, `${name}.ext`), `subjectAltName=DNS:${dns}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

/** Makes the server present `name`'s certificate (the SSL files are re-read on reload), and waits until it does. */
function serve(name: string, ca: string, dns: string): void {
  writeFileSync(join(certs, 'server.crt'), readFileSync(join(certs, `${name}.crt`)));
  writeFileSync(join(certs, 'server.key'), readFileSync(join(certs, `${name}.key`)), { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    for (const f of ['server.crt', 'server.key']) chownSync(join(certs, f), uid, 0);
  }
  pg.sql('postgres', 'SELECT pg_reload_conf()');
  for (let i = 0; i < 50; i++) {
    const r = spawnSync('psql', [`host=${dns} hostaddr=127.0.0.1 port=${pg.port} dbname=postgres user=postgres sslmode=verify-full sslrootcert=${join(certs, `${ca}.crt`)}`, '-Atc', 'SELECT 1'], {
      encoding: 'utf8', env: { PATH: '/usr/bin:/bin', PGPASSWORD: pg.password, PGCONNECT_TIMEOUT: '5' },
    });
    if (r.status === 0) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error(`the server does not present ${name}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'db-tls-'));
  certs = join(work, 'certs');
  mkdirSync(certs);
  makeCa('ca-a');
  makeCa('ca-b');
  makeServer('server-a', 'ca-a', HOST);
  makeServer('server-b', 'ca-b', HOST);
  makeServer('server-a-other-name', 'ca-a', 'other.tls.test');
  for (const f of ['ca-a.crt', 'ca-b.crt']) pem[f] = readFileSync(join(certs, f), 'utf8');
  writeFileSync(join(certs, 'server.crt'), readFileSync(join(certs, 'server-a.crt')));
  writeFileSync(join(certs, 'server.key'), readFileSync(join(certs, 'server-a.key')), { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    for (const f of [work, certs, join(certs, 'server.crt'), join(certs, 'server.key')]) chownSync(f, uid, 0);
  }
  // A port chosen first: the platform declares it (the synthesized URI carries it, nothing is rewritten).
  const port = await freePort();
  pg = await startPostgres({ port, extraSettings: ['ssl=on', `ssl_cert_file=${join(certs, 'server.crt')}`, `ssl_key_file=${join(certs, 'server.key')}`] });
  pg.sql('postgres', `CREATE ROLE ${MASTER.user} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER.password}'`);
}, 60_000);

afterAll(() => {
  pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Setup {
  readonly objects: K8sObject[];
  readonly api: FakeKubernetes;
  readonly run: Run;
  readonly sweep: TuningSweep;
  readonly plan: any;
}

/** Synthesizes platform `id` (external database, `sslMode`), a tenant and its sweep; runs the bootstrap's database step with CA `ca`. */
async function setUp(id: string, sslMode: 'verify-full' | 'verify-ca'): Promise<Setup> {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  pg.sql('postgres', `CREATE DATABASE ${id}_mlflow OWNER ${MASTER.user}`);
  const platform = new MlPlatform(chart, id, {
    backendStore: BackendStore.external({
      host: HOST,
      port: pg.port,
      database: `${id}_mlflow`,
      sslMode,
      caCertificate: CA_SECRET,
      username: { name: 'master', key: 'username' },
      password: { name: 'master', key: 'password' },
    }),
  });
  platform.addTenant(`${id}-a`);
  const sweep = new TuningSweep(chart, 'sweep', {
    platform,
    namespace: `${id}-a`,
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 2, workers: 1 },
    trial: { image: 'docker.io/library/python:3.12-slim', command: [PYTHON, join(FIXTURES, 'objective.py')], args: ['--steps=2', '--pause=0.05'] },
    heartbeat: { interval: Duration.seconds(1), gracePeriod: Duration.seconds(4) },
  });
  const objects = chart.toJson() as K8sObject[];
  const api = await new FakeKubernetes({ seq: 0 }).start();
  api.seed('mlplatform', 'master', { username: MASTER.user, password: MASTER.password });
  api.seed('mlplatform', CA_SECRET.name, { [CA_SECRET.key]: pem['ca-a.crt'] });
  const { plan, run } = await bootstrap(objects, id, api, 'ca-a');
  return { objects, api, run, sweep, plan };
}

/**
 * Runs the synthesized bootstrap against `api`, the CA file its Job mounts holding CA `ca`: the plan's
 * `sslRootCert` must be the file of the Job's CA volume; only that path becomes the local copy.
 */
async function bootstrap(objects: K8sObject[], id: string, api: FakeKubernetes, ca: string, waitSeconds = 30): Promise<{ plan: any; run: Run }> {
  const synth = bootstrapOf(objects, id, 'mlplatform');
  const plan = JSON.parse(JSON.stringify(synth.plan));
  const job = objects.find((o) => o.kind === 'Job' && (o.metadata.name ?? '').startsWith(`${id}-bootstrap-`))!;
  const pod = job.spec.template.spec;
  const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === 'database-ca');
  const volume = pod.volumes.find((v: any) => v.name === 'database-ca');
  expect(volume.secret).toEqual({ secretName: CA_SECRET.name, items: [{ key: CA_SECRET.key, path: 'ca.crt' }], defaultMode: 0o444 });
  expect(plan.database.sslRootCert).toBe(`${mount.mountPath}/ca.crt`);
  expect(plan.database.host).toBe(HOST);
  expect(plan.database.port).toBe(pg.port);
  const dir = join(work, `run-${++runs}`);
  const mounted = join(work, `run-${runs}-ca.crt`);
  writeFileSync(mounted, pem[`${ca}.crt`], { mode: 0o444 });
  plan.database.sslRootCert = mounted;
  // No object store and no tracking server here: those steps are the cluster tier's.
  delete plan.bucket;
  delete plan.mlflowUsers;
  const run = await runBootstrap(synth.program, plan, api, dir, { env: { PGHOSTADDR: '127.0.0.1' }, waitSeconds });
  return { plan, run };
}

/** The probe run in the tracking container (its env and mounts as synthesized): MLflow's engine for each URI it uses. */
const PROBE = `
import configparser, os, sqlalchemy
uris = {"backend": os.environ["MLFLOW_BACKEND_STORE_URI"]}
if os.environ.get("MLFLOW_AUTH_CONFIG_PATH"):
    c = configparser.ConfigParser()
    assert c.read(os.environ["MLFLOW_AUTH_CONFIG_PATH"]), "basic_auth.ini unreadable"
    uris["auth"] = c["mlflow"]["database_uri"]
for name, uri in sorted(uris.items()):
    try:
        engine = sqlalchemy.create_engine(uri, pool_pre_ping=True)  # mlflow/store/db/utils.py create_sqlalchemy_engine
        with engine.connect() as conn:
            row = conn.execute(sqlalchemy.text("SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).one()
        print(name, "connected", "ssl=%s" % row[0], row[1])
    except Exception as e:
        print(name, "failed", str(e).splitlines()[0])
`;

/** A harness node whose pods resolve the database's host name and reach the server at its declared port. */
function node(forward: Record<number, number> = {}) {
  return engineKubelet({ forward: { [pg.port]: pg.port, ...forward }, hosts: [HOST], pythonImages: [VERSIONS.images.mlflow, TRIAL_IMAGE] });
}

/**
 * Runs the tracking Deployment's pod on the harness, as synthesized but for the probe as the `mlflow`
 * container's entry point and `restartPolicy: Never` (the probe runs once), with the Secrets of the
 * platform namespace as the bootstrap left them.
 */
async function probeTracking(s: Setup, id: string, without?: string): Promise<Record<string, string>> {
  const deploy = JSON.parse(JSON.stringify(find(s.objects, 'Deployment', `${id}-tracking`, 'mlplatform')));
  const spec = deploy.spec.template.spec;
  spec.restartPolicy = 'Never';
  spec.containers = spec.containers.filter((c: any) => c.name === 'mlflow').map((c: any) => ({
    ...c, command: [PYTHON, '-c', PROBE], args: [], env: c.env.filter((e: any) => e.name !== without),
  }));
  const { source, kubelet } = node();
  try {
    putAll(source, s.objects as any);
    for (const [key, data] of Object.entries(s.api.dump())) source.putSecret(key.split('/')[0], key.split('/')[1], data);
    // The store's credentials are the cluster tier's (no object store here): a stand-in so the container can be configured.
    if (!s.api.data('mlplatform', `${id}-s3-credentials`)?.accessKeyId) source.putSecret('mlplatform', `${id}-s3-credentials`, storeSecretData('k', 's'));
    const pod = kubelet.run(deploy, { name: `${id}-tracking-probe` });
    const exit = await pod.waitForExit('mlflow', 45_000);
    expect({ exit, log: exit.code === 0 ? '' : pod.describe('mlflow') }).toEqual({ exit: { code: 0, signal: null }, log: '' });
    // The CA file as the kubelet wrote it: world-readable (defaultMode 0444) and read by uid 1000 above.
    const ca = pod.volumes!.get('database-ca')!.nodes.find((n) => n.path.endsWith('/ca.crt'))!;
    expect(ca.mode.toString(8)).toBe('444');
    return Object.fromEntries(pod.log('mlflow').trim().split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
  } finally {
    await kubelet.stop();
  }
}

describe('verify-full', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('vf', 'verify-full');
    await s.api.stop();
  }, 90_000);
  afterAll(() => serve('server-a', 'ca-a', HOST));

  test('(4) the bootstrap connects with verify-full and the CA it mounts; it copies the CA into the tenant namespace', () => {
    expectSuccess(s.run);
    expect(s.run.stdout).toContain('[bootstrap] created database role vf_tracking\n');
    expect(s.plan.database.sslMode).toBe('verify-full');
    expect(s.api.data('vf-a', 'vf-database-ca')).toEqual({ 'ca.crt': pem['ca-a.crt'] });
  });

  test("(1) the tracking server's backend store and MLflow's auth database connect with verify-full, over TLS", async () => {
    const uri = s.api.data('mlplatform', 'vf-tracking-config')!['backend-store-uri'];
    expect(uri).toMatch(new RegExp(`^postgresql\\+psycopg2://vf_tracking:[0-9a-f]{48}@${HOST.replace(/\./g, '\\.')}:${pg.port}/vf_mlflow\\?sslmode=verify-full$`));
    const out = await probeTracking(s, 'vf');
    expect(out).toEqual({ auth: 'connected ssl=True vf_tracking', backend: 'connected ssl=True vf_tracking' });
    // The control: without the synthesized PGSSLROOTCERT, libpq looks for ~/.postgresql/root.crt (what failed before).
    const bare = await probeTracking(s, 'vf', 'PGSSLROOTCERT');
    expect(bare.backend).toMatch(/^failed .*root certificate file ".*\/\.postgresql\/root\.crt" does not exist/);
  }, 60_000);

  test('(5) a sweep started from the synthesized objects connects with verify-full through the CA copied into its namespace', async () => {
    const mlflow = await new FakeMlflow('vf-a', 'tracking-pw').start();
    const { source, kubelet } = node({ 5000: Number(new URL(mlflow.url).port) });
    try {
      const { sweep, objects, api } = s;
      const ns = sweep.spec.namespace;
      const db = api.data(ns, 'vf-database')!;
      putAll(source, objects as any);
      // The tenant's database Secret and CA copy as the bootstrap wrote them; tracking and store are the cluster tier's.
      for (const name of ['vf-database', 'vf-database-ca']) source.putSecret(ns, name, api.data(ns, name)!);
      source.putSecret(ns, 'vf-tracking', trackingSecretData('vf-a', 'tracking-pw'));
      source.putSecret(ns, 'vf-store', storeSecretData('k', 's'));
      const create = runJob(kubelet, find(objects, 'Job', sweep.createJobName, ns) as any);
      const workers = runJob(kubelet, find(objects, 'Job', sweep.workersJobName, ns) as any);
      const ends = await Promise.all([create.wait(90_000), workers.wait(90_000)]).catch((e) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${create.describe()}\n${workers.describe('optuna')}`);
      });
      expect({ ends, log: ends.every((e) => e.type === 'Complete') ? '' : `${create.describe()}\n${workers.describe('optuna')}` })
        .toEqual({ ends: [expect.objectContaining({ type: 'Complete' }), expect.objectContaining({ type: 'Complete' })], log: '' });
      expect(workers.pods.map((p) => p.pod.status.get('optuna')!.exits)).toEqual([[{ code: 0, signal: null }]]);
      expect(pg.sql(db.database, `SELECT count(*) FROM ${sweep.spec.storage!.schema}.trials WHERE state = 'COMPLETE'`)).toBe('2');
    } finally {
      await kubelet.stop();
      await mlflow.stop();
    }
  }, 120_000);

  test('(2) against a server certificate from another CA, the tracking server and the bootstrap fail verification', async () => {
    serve('server-b', 'ca-b', HOST);
    const out = await probeTracking(s, 'vf');
    expect(out.backend).toMatch(/^failed .*certificate verify failed/);
    expect(out.auth).toMatch(/^failed .*certificate verify failed/);
    const api = await s.api.start();
    try {
      const again = await bootstrap(s.objects, 'vf', api, 'ca-a', 0);
      expect(again.run.code).not.toBe(0);
      expect(again.run.stdout + again.run.stderr).toMatch(/certificate verify failed/);
    } finally {
      await api.stop();
    }
  }, 60_000);

  test('(3) a certificate for another host name (same CA) fails under verify-full', async () => {
    serve('server-a-other-name', 'ca-a', 'other.tls.test');
    const out = await probeTracking(s, 'vf');
    expect(out.backend).toBe(`failed (psycopg2.OperationalError) connection to server at "${HOST}" (127.0.0.1), port ${pg.port} failed: server certificate for "other.tls.test" does not match host name "${HOST}"`);
  }, 60_000);
});

describe('verify-ca', () => {
  let s: Setup;
  beforeAll(async () => {
    // The bootstrap runs against the certificate for another name already.
    serve('server-a-other-name', 'ca-a', 'other.tls.test');
    s = await setUp('vc', 'verify-ca');
    await s.api.stop();
  }, 90_000);
  afterAll(() => serve('server-a', 'ca-a', HOST));

  test('(3) a certificate for another host name (same CA) connects under verify-ca: the bootstrap and the tracking server', async () => {
    expectSuccess(s.run);
    expect(s.run.stdout).toContain('[bootstrap] created database role vc_tracking\n');
    const out = await probeTracking(s, 'vc');
    expect(out).toEqual({ auth: 'connected ssl=True vc_tracking', backend: 'connected ssl=True vc_tracking' });
  }, 60_000);

  test('(2) verify-ca still rejects a certificate from another CA', async () => {
    serve('server-b', 'ca-b', HOST);
    const out = await probeTracking(s, 'vc');
    expect(out.backend).toMatch(/^failed .*certificate verify failed/);
  }, 60_000);
});

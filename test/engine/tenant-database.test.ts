/**
 * Tenancy of the database (issue #20 item 1), on a real PostgreSQL 15: the synthesized credentials
 * bootstrap (its `bootstrap.py` and `plan.json`, run by the system Python against a fake Secrets API)
 * sets up the roles with the platform's login, then every check connects with the credentials the
 * bootstrap wrote into each namespace — never with hand-made ones:
 *
 * - the tracking server's role owns the MLflow database (and the tables an older version left to
 *   the superuser), holds no SUPERUSER/CREATEDB/CREATEROLE, and cannot reach a tenant's database;
 * - a tenant's role connects to its own study database only: not to MLflow's, not to another
 *   tenant's, not to the maintenance database; it cannot create roles or databases;
 * - a sweep started from the synthesized objects with the tenant's Secret completes in it: its Jobs
 *   run on the kubelet harness with its Job controller (fixtures/harness.ts), reading the Secrets the
 *   bootstrap wrote, reaching the database at the host and port the objects name.
 *
 * Two platform logins: the embedded database's superuser, and an external database's master user
 * with CREATEROLE and CREATEDB but not SUPERUSER (what RDS's master user is).
 * The Service name resolves to the local server (the plan's host is rewritten, as DNS would).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { engineKubelet, podVisibleFixtures, putAll, runJob } from './fixtures/harness';
import { FakeMlflow } from './fixtures/sweep/fake-mlflow';
import { Postgres, startPostgres } from './fixtures/sweep/postgres';
import { MlPlatform, TuningSweep } from '../../src/cdk8s';
import { BackendStore, Duration } from '../../src/core';
import { bootstrapOf, expectSuccess, FakeKubernetes, PYTHON, Run, runBootstrap } from '../support/bootstrap-harness';
import { storeSecretData, trackingSecretData } from '../support/credentials';
import { find, K8sObject } from '../support/synth';

// Where the pods on the harness see them (fixtures/harness.ts podVisibleFixtures).
const FIXTURES = podVisibleFixtures(join(__dirname, 'fixtures', 'sweep'));
const MASTER = { user: 'rds_master', password: 'm@ster:pw/1' };

let pg: Postgres;
let work: string;
let runs = 0;

/** Connects as `user` to `database` and runs `sql`; the outcome as psql reports it. */
function psql(user: string, password: string, database: string, sql = 'SELECT 1'): { ok: boolean; out: string } {
  const r = spawnSync('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', PGPASSWORD: password, PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'disable' },
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

beforeAll(async () => {
  pg = await startPostgres();
  work = mkdtempSync(join(tmpdir(), 'tenant-db-'));
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
  /** A Secret's data, as the bootstrap wrote it. */
  secret(namespace: string, name: string): Record<string, string>;
}

/** Synthesizes platform `id` with tenants a and b (and a sweep in a), and runs its bootstrap's database step against the server. */
async function setUp(id: string, external: boolean): Promise<Setup> {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const platform = new MlPlatform(chart, id, external
    ? { backendStore: BackendStore.external({ host: 'db.internal.example.com', database: `${id}_mlflow`, sslMode: 'disable', username: { name: 'rds', key: 'username' }, password: { name: 'rds', key: 'password' } }) }
    : {});
  platform.addTenant(`${id}-a`);
  platform.addTenant(`${id}-b`);
  const sweep = new TuningSweep(chart, 'sweep', {
    platform,
    namespace: `${id}-a`,
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 4, workers: 2 },
    trial: { image: 'docker.io/library/python:3.12-slim', command: [PYTHON, join(FIXTURES, 'objective.py')], args: ['--steps=2', '--pause=0.05'] },
    heartbeat: { interval: Duration.seconds(1), gracePeriod: Duration.seconds(4) },
  });
  const objects = chart.toJson() as K8sObject[];
  const synth = bootstrapOf(objects, id, 'mlplatform');
  const plan = JSON.parse(JSON.stringify(synth.plan));
  expect(plan.database.host).toBe(external ? 'db.internal.example.com' : `${id}-postgres.mlplatform.svc.cluster.local`);
  plan.database.host = '127.0.0.1';
  plan.database.port = pg.port;
  // No object store and no tracking server here: those steps are the cluster tier's.
  delete plan.bucket;
  delete plan.mlflowUsers;
  const api = await new FakeKubernetes({ seq: 0 }).start();
  api.applySecrets(objects); // the Secrets the bootstrap writes, as the manifests create them (empty)
  if (external) {
    api.seed('mlplatform', 'rds', { username: MASTER.user, password: MASTER.password });
  } else {
    // The embedded server's superuser, as its StatefulSet would have initialised it from the generated Secret.
    api.seed('mlplatform', `${id}-postgres-credentials`, { username: pg.user, password: pg.password });
  }
  const run = await runBootstrap(synth.program, plan, api, join(work, `run-${++runs}`));
  const secret = (namespace: string, name: string) => {
    const d = api.data(namespace, name);
    if (!d) throw new Error(`the bootstrap wrote no Secret ${namespace}/${name}`);
    return d;
  };
  return { objects, api, run, sweep, secret };
}

describe.each([
  ['the embedded database (superuser login)', 'emb', false],
  ['an external database (an RDS-like master user: CREATEROLE and CREATEDB, no SUPERUSER)', 'ext', true],
])('%s', (_what, id, external) => {
  let s: Setup;

  beforeAll(async () => {
    if (external) {
      // What RDS gives: a master user who is not a superuser, and the database it created, with a table
      // an older MLflow left behind (owned by the master).
      pg.sql('postgres', `CREATE ROLE ${MASTER.user} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER.password}'`);
      pg.sql('postgres', `CREATE DATABASE ${id}_mlflow OWNER ${MASTER.user}`);
      psql(MASTER.user, MASTER.password, `${id}_mlflow`, 'CREATE TABLE experiments (id int PRIMARY KEY)');
    } else {
      pg.sql('postgres', 'CREATE DATABASE mlflow');
      // A table created by the superuser, as versions before the tracking role did.
      pg.sql('mlflow', 'CREATE TABLE experiments (id int PRIMARY KEY)');
    }
    s = await setUp(id, external);
    await s.api.stop();
  }, 90_000);

  const mlflowDb = external ? `${id}_mlflow` : 'mlflow';

  test('the bootstrap completes, and logs its roles and databases', () => {
    expectSuccess(s.run);
    expect(s.run.stdout).toContain(`[bootstrap] created database role ${id}_tracking\n`);
    expect(s.run.stdout).toContain(`[bootstrap] created database ${id}_studies_${id}_a\n`);
  });

  test("the tracking server's role: owner of the MLflow database and its tables, nothing more", () => {
    const t = s.secret('mlplatform', `${id}-tracking-database`);
    expect(t.username).toBe(`${id}_tracking`);
    expect(psql(t.username, t.password, mlflowDb, 'SELECT count(*) FROM experiments')).toEqual({ ok: true, out: '0' });
    expect(psql(t.username, t.password, mlflowDb, 'CREATE TABLE runs (id int)').ok).toBe(true);
    expect(pg.sql(mlflowDb, "SELECT tableowner FROM pg_tables WHERE tablename = 'experiments'")).toBe(t.username);
    expect(pg.sql('postgres', `SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '${t.username}'`)).toBe('f|f|f');
    expect(psql(t.username, t.password, `${id}_studies_${id}_a`).out).toMatch(/permission denied for database/);
    // The tracking URI composed for the server names that role, not the platform's login.
    expect(s.secret('mlplatform', `${id}-tracking-config`)['backend-store-uri']).toMatch(new RegExp(`^postgresql\\+psycopg2://${id}_tracking:[0-9a-f]{48}@`));
  });

  test("a tenant's role: its own study database only; no role or database creation", () => {
    const a = s.secret(`${id}-a`, `${id}-database`);
    const b = s.secret(`${id}-b`, `${id}-database`);
    expect(a).toEqual({ username: `${id}_tenant_${id}_a`, password: expect.stringMatching(/^[0-9a-f]{48}$/), database: `${id}_studies_${id}_a` });
    expect(psql(a.username, a.password, a.database, 'CREATE SCHEMA optuna_x; CREATE TABLE optuna_x.t (i int); SELECT 1')).toEqual({ ok: true, out: expect.stringMatching(/\n1$/) });
    // The maintenance databases too where the platform's login may revoke it (the embedded superuser; a master
    // user that does not own them, as here, cannot: they hold no tenant data).
    for (const other of [mlflowDb, b.database, ...(external ? [] : ['postgres', 'template1'])]) {
      expect({ other, ...psql(a.username, a.password, other) }).toEqual({ other, ok: false, out: expect.stringMatching(/permission denied for database/) });
    }
    expect(psql(a.username, a.password, a.database, 'CREATE ROLE intruder LOGIN').out).toMatch(/permission denied to create role/);
    expect(psql(a.username, a.password, a.database, 'CREATE DATABASE intruder').out).toMatch(/permission denied to create database/);
    // Another tenant's password is another role's.
    expect(psql(a.username, b.password, a.database).out).toMatch(/password authentication failed/);
    // Nothing in either tenant namespace holds the platform's login.
    const login = external ? MASTER.password : pg.password;
    for (const ns of [`${id}-a`, `${id}-b`]) {
      for (const [key, data] of Object.entries(s.api.dump()).filter(([k]) => k.startsWith(`${ns}/`))) expect({ key, leaks: JSON.stringify(data).includes(login) }).toEqual({ key, leaks: false });
    }
  });

  test('a second run keeps the roles, and sets each password from its Secret again', async () => {
    const a = s.secret(`${id}-a`, `${id}-database`);
    pg.sql('postgres', `ALTER ROLE ${a.username} PASSWORD 'drifted'`);
    const again = await setUpAgain(s, id);
    expectSuccess(again);
    expect(again.stdout).toContain(`[bootstrap] kept database role ${a.username}\n`);
    expect(psql(a.username, a.password, a.database).ok).toBe(true);
  }, 60_000);

  test("a sweep started from the synthesized objects with the tenant's Secret completes in its own database", async () => {
    const mlflow = await new FakeMlflow(`${id}-a`, 'tracking-pw').start();
    const trialImage = 'docker.io/library/python:3.12-slim';
    const { source, kubelet } = engineKubelet({
      forward: { 5432: pg.port, 5000: Number(new URL(mlflow.url).port) },
      pythonImages: [trialImage],
      hosts: external ? ['db.internal.example.com'] : [],
    });
    try {
      const { sweep, objects } = s;
      const ns = sweep.spec.namespace;
      const a = s.secret(ns, `${id}-database`);
      putAll(source, objects as any);
      // The Secrets as the bootstrap wrote them; the tracking and store steps are the cluster tier's, so those two are set here.
      for (const [key, data] of Object.entries(s.api.dump())) source.putSecret(key.split('/')[0], key.split('/')[1], data);
      source.putSecret(ns, `${id}-tracking`, trackingSecretData(`${id}-a`, 'tracking-pw'));
      source.putSecret(ns, `${id}-store`, storeSecretData('k', 's'));
      const workersJob = find(objects, 'Job', sweep.workersJobName, ns);
      expect(find(objects, 'Job', sweep.workersJobName, ns).spec.template.spec.containers.find((c: any) => c.name === 'optuna').env).toEqual(expect.arrayContaining([
        { name: 'SWEEP_DB_HOST', value: external ? 'db.internal.example.com' : `${id}-postgres.mlplatform.svc.cluster.local` },
      ]));
      const create = runJob(kubelet, find(objects, 'Job', sweep.createJobName, ns) as any);
      const workers = runJob(kubelet, workersJob as any);
      const ends = await Promise.all([create.wait(90_000), workers.wait(90_000)]).catch((e) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${create.describe('optuna')}\n${workers.describe('optuna')}`);
      });
      expect(ends.map((e) => [e.type, e.reason])).toEqual([['Complete', 'CompletionsReached'], ['Complete', 'CompletionsReached']]);
      expect(workers.status).toMatchObject({ succeeded: 2, failed: 0, completedIndexes: '0-1' });
      for (const p of workers.pods) {
        const optuna = p.pod.status.get('optuna')!;
        expect({ pod: p.pod.name, exits: optuna.exits }).toEqual({ pod: p.pod.name, exits: [{ code: 0, signal: null }] });
      }
      // The study's tables are in the tenant's database, under the sweep's schema; nowhere else.
      const schema = sweep.spec.storage!.schema;
      expect(pg.sql(a.database, `SELECT count(*) FROM ${schema}.trials WHERE state = 'COMPLETE'`)).toBe('4');
      expect(pg.sql(mlflowDb, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = '${schema}'`)).toBe('0');
    } finally {
      await kubelet.stop();
      await mlflow.stop();
    }
  }, 120_000);
});

/** Runs the same platform's bootstrap again against a fresh fake API holding what the first run wrote. */
async function setUpAgain(s: Setup, id: string): Promise<Run> {
  const synth = bootstrapOf(s.objects, id, 'mlplatform');
  const plan = JSON.parse(JSON.stringify(synth.plan));
  plan.database.host = '127.0.0.1';
  plan.database.port = pg.port;
  delete plan.bucket;
  delete plan.mlflowUsers;
  const api = await s.api.start();
  try {
    return await runBootstrap(synth.program, plan, api, join(work, `run-${++runs}`));
  } finally {
    await api.stop();
  }
}

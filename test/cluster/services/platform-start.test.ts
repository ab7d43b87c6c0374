/**
 * Issue #21, "How it is proven", first bullet: the whole platform on the harness in one test. One
 * synthesized platform (the example's, ../../../examples/cdk8s-platform/platform.ts) with a sweep of
 * tenant `vision`; everything is started from the synthesized objects, at once, as a cluster would:
 * the credentials bootstrap Job, PostgreSQL and SeaweedFS from their StatefulSets, the MLflow tracking
 * server from its Deployment (./platform.ts), and the sweep's two Jobs — the study-creation Job and the
 * Indexed workers Job with its podFailurePolicy — run by the harness's Job controller
 * (../kubelet/jobs.ts), their pods waiting (CreateContainerConfigError) until the bootstrap has written
 * the tenant's Secrets they read. The trial image is the MLflow image's stand-in running the engine
 * test's toy objective (test/engine/fixtures/sweep/objective.py, reached through the root's overlay).
 *
 * It proves: both Jobs end `Complete` (CompletionsReached); the study holds exactly `maxTrials`
 * finished trials, in the tenant's own database (not MLflow's), in the tenant's schema, in tables the
 * tenant's role owns; every trial is an MLflow child run of the sweep's run, created by the tenant's
 * MLflow user, and the other tenant cannot read the experiment.
 *
 * Not emulated: Kueue's admission of the workers Job (the queue label is there; admission is proven on
 * the control plane by example-platform.test.ts); the Job controller's shortened back-off (jobs.ts).
 */
import { spawnSync } from 'child_process';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { StartedPlatform, one, startPlatform } from './platform';
import { buildPlatform } from '../../../examples/cdk8s-platform/platform';
import { TuningSweep } from '../../../src/cdk8s';
import { Duration, Pruner, Sampler, VERSIONS } from '../../../src/core';
import { credentialFilesOf, secretEnvOf } from '../../support/credentials';
import { JobRun, runJob } from '../kubelet/jobs';
import { KubeObject } from '../kubelet/source';

const MINUTE = 60_000;
const TRACKING = 'http://127.0.0.1:5000';
const OBJECTIVE = join(__dirname, '..', '..', 'engine', 'fixtures', 'sweep', 'objective.py');
const TRIALS = 6;
const WORKERS = 2;

describe('the whole platform on the harness: bootstrap, database, store, tracking server, and a tenant\'s sweep run by the Job controller', () => {
  let objects: KubeObject[];
  let platform: StartedPlatform;
  let sweep: TuningSweep;
  const jobs: JobRun[] = [];
  const started = Date.now();
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const { chart, platform: ml } = buildPlatform(Testing.app());
    sweep = new TuningSweep(chart, 'toy', {
      platform: ml,
      namespace: 'vision',
      trial: { image: VERSIONS.images.mlflow, command: ['python3', OBJECTIVE], args: ['--steps=4', '--pause=0.2'] },
      parameters: [
        { name: 'x', type: 'float', low: -4, high: 6 },
        { name: 'kind', type: 'categorical', choices: ['a', 'b'] },
        { name: 'depth', type: 'int', low: 1, high: 3, when: { parameter: 'kind', equals: 'b' } },
      ],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      sampler: Sampler.tpe({ nStartupTrials: 3, seed: 7 }),
      pruner: Pruner.median({ nStartupTrials: 2 }),
      budget: { trials: TRIALS, workers: WORKERS },
      heartbeat: { interval: Duration.seconds(2), gracePeriod: Duration.seconds(10) },
    });
    objects = chart.toJson() as KubeObject[];
    platform = await startPlatform(objects);
  }, MINUTE);

  afterAll(async () => {
    await Promise.all(jobs.map((j) => j.stop()));
    await platform?.stop();
    // eslint-disable-next-line no-console
    console.log(`platform-start timings (s since start): ${JSON.stringify(timings)}`);
  }, MINUTE);

  /** The Secret key the synthesized `container` reads for variable `name`: as a mounted file (`<name>_FILE`) or through `secretKeyRef`. */
  function secretEnv(job: KubeObject, container: string, name: string): string {
    const pod = job.spec.template.spec;
    const c = pod.containers.find((x: any) => x.name === container);
    const ref = credentialFilesOf(pod, c)[name] ?? secretEnvOf(c)[name];
    if (!ref) throw new Error(`${job.metadata.name}/${container}: ${name} is read neither from a file nor from a Secret: update this test to the new form`);
    const data = platform.secret(job.metadata.namespace!, ref.name);
    if (!data?.[ref.key]) throw new Error(`Secret ${job.metadata.namespace}/${ref.name} has no ${ref.key}`);
    return data[ref.key];
  }

  /** psql on the host as the embedded database's superuser (its name and password from the StatefulSet and the Secret the bootstrap wrote). */
  function superuserSql(database: string, sql: string): string {
    const sts = one(objects, 'StatefulSet', 'mlplatform', 'ml-postgres');
    const spec = sts.spec.template.spec;
    const user = spec.containers[0].env.find((e: any) => e.name === 'POSTGRES_USER').value;
    const vol = spec.volumes.find((v: any) => v.name === 'password').secret;
    const password = platform.secret('mlplatform', vol.secretName)![vol.items[0].key];
    const r = spawnSync('psql', ['-h', '127.0.0.1', '-p', '5432', '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-F', '|', '-c', sql], {
      encoding: 'utf8', env: { PATH: '/usr/bin:/bin', PGPASSWORD: password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '5' },
    });
    if (r.status !== 0) throw new Error(`psql ${database}: ${r.stderr}`);
    return r.stdout.trim();
  }

  async function mlflow(path: string, user: { username: string; password: string }): Promise<{ status: number; body: any }> {
    const res = await fetch(`${TRACKING}/api/${path}`, { headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` } });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json');
    return { status: res.status, body: json ? JSON.parse(text) : text };
  }

  test('the services start, then the sweep\'s Jobs run to Complete with exactly maxTrials trials in the tenant\'s own database, logged to MLflow as the tenant', async () => {
    const createJob = one(objects, 'Job', 'vision', sweep.createJobName);
    const workersJob = one(objects, 'Job', 'vision', sweep.workersJobName);
    expect(workersJob.spec).toMatchObject({ completionMode: 'Indexed', completions: WORKERS, parallelism: WORKERS });
    expect(workersJob.spec.podFailurePolicy.rules.map((r: any) => r.action)).toEqual(['FailJob', 'Ignore', 'Ignore']);
    // The sweep's Jobs start with the services: their pods wait for the Secrets the bootstrap writes.
    const create = runJob(platform.kubelet, createJob);
    const workers = runJob(platform.kubelet, workersJob);
    jobs.push(create, workers);

    const bootstrap = platform.pods.bootstrap;
    expect(await bootstrap.waitForExit(bootstrap.pod.spec.containers[0].name, 6 * MINUTE)).toEqual({ code: 0, signal: null });
    timings.bootstrapDone = (Date.now() - started) / 1000;
    await platform.pods.tracking.waitReady('mlflow', 6 * MINUTE);
    timings.trackingReady = (Date.now() - started) / 1000;

    const context = () => `${create.describe()}\n${workers.describe()}\n--- tracking\n${platform.pods.tracking.log('mlflow').slice(-4000)}`;
    let ends;
    try {
      ends = await Promise.all([create.wait(6 * MINUTE), workers.wait(8 * MINUTE)]);
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${context()}`);
    }
    timings.sweepDone = (Date.now() - started) / 1000;
    if (ends.some((e) => e.type !== 'Complete')) throw new Error(`${JSON.stringify(ends)}\n${context()}`);
    expect(ends.map((e) => e.reason)).toEqual(['CompletionsReached', 'CompletionsReached']);
    expect(workers.status).toMatchObject({ succeeded: WORKERS, failed: 0, completedIndexes: `0-${WORKERS - 1}` });
    // Each worker saw its own index (SWEEP_WORKER_INDEX from the controller's annotation) and ran clean.
    for (const p of workers.pods) {
      expect(p.counted).toBe('succeeded');
      for (const c of ['wait-for-study', 'check-trial-image', 'trial', 'optuna']) expect([c, p.pod.status.get(c)!.exits]).toEqual([c, [{ code: 0, signal: null }]]);
    }

    // The study, in the tenant's own database: found by the superuser, owned by the tenant's role.
    const tenantDb = secretEnv(workersJob, 'optuna', 'SWEEP_DB_NAME');
    const tenantRole = secretEnv(workersJob, 'optuna', 'SWEEP_DB_USER');
    const trackingDb = one(objects, 'Deployment', 'mlplatform', 'ml-tracking');
    expect(JSON.stringify(trackingDb)).not.toContain(tenantDb);
    expect(superuserSql(tenantDb, "SELECT tableowner FROM pg_tables WHERE schemaname = 'optuna_vision' AND tablename = 'trials'")).toBe(tenantRole);
    const states = superuserSql(tenantDb, `SELECT t.state, count(*) FROM optuna_vision.trials t JOIN optuna_vision.studies s USING (study_id)
      WHERE s.study_name = '${sweep.spec.study}' GROUP BY t.state ORDER BY t.state`);
    const byState = Object.fromEntries(states.split('\n').filter(Boolean).map((l) => l.split('|')).map(([s, n]) => [s, Number(n)]));
    expect((byState.COMPLETE ?? 0) + (byState.PRUNED ?? 0)).toBe(TRIALS);
    expect(Object.keys(byState).filter((s) => s !== 'COMPLETE' && s !== 'PRUNED')).toEqual([]);
    // No other database holds the study (MLflow's does not).
    const others = superuserSql('postgres', 'SELECT datname FROM pg_database WHERE NOT datistemplate').split('\n').filter((d) => d !== tenantDb);
    for (const db of others) {
      expect([db, superuserSql(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'optuna_vision'")]).toEqual([db, '0']);
    }

    // MLflow: the sweep's run and one child run per trial, all created by the tenant's MLflow user.
    const tenant = { username: secretEnv(workersJob, 'optuna', 'MLFLOW_TRACKING_USERNAME'), password: secretEnv(workersJob, 'optuna', 'MLFLOW_TRACKING_PASSWORD') };
    const exp = await mlflow(`2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent('vision/toy')}`, tenant);
    expect(exp.status).toBe(200);
    const res = await fetch(`${TRACKING}/api/2.0/mlflow/runs/search`, {
      method: 'POST',
      headers: { 'authorization': `Basic ${Buffer.from(`${tenant.username}:${tenant.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_ids: [exp.body.experiment.experiment_id], max_results: 100 }),
    });
    expect(res.status).toBe(200);
    const runs: any[] = ((await res.json()) as { runs?: any[] }).runs ?? [];
    const tag = (r: any, k: string) => (r.data.tags ?? []).find((t: any) => t.key === k)?.value;
    const parent = runs.find((r) => r.info.run_name === 'toy');
    expect(parent?.info.status).toBe('FINISHED');
    const children = runs.filter((r) => tag(r, 'mlflow.parentRunId') === parent.info.run_id);
    expect(children).toHaveLength(TRIALS);
    // Created as the tenant: MLflow's basic auth grants MANAGE on an experiment to the user whose request
    // created it (mlflow/server/auth/__init__.py `set_can_manage_experiment_permission`). (The runs' own
    // `user_id` is empty: sweep_lib.py's runs/create sends none, and MLflow does not fill it from the login.)
    const perm = await mlflow(`3.0/mlflow/users/permissions/get?username=${tenant.username}&resource_type=experiment&resource_id=${exp.body.experiment.experiment_id}`, tenant);
    expect(perm).toEqual({ status: 200, body: expect.objectContaining({ permission: 'MANAGE' }) });
    expect(new Set(runs.map((r) => r.info.user_id))).toEqual(new Set(['']));
    // Another tenant's MLflow user cannot read it.
    const nlp = platform.secret('nlp', 'ml-tracking')!;
    expect((await mlflow(`2.0/mlflow/experiments/get?experiment_id=${exp.body.experiment.experiment_id}`, { username: nlp.username, password: nlp.password }))).toEqual({ status: 403, body: 'Permission denied' });
  }, 20 * MINUTE);
});

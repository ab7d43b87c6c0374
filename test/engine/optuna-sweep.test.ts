/**
 * The sweep engine test: real Optuna (Debian's python3-optuna, run by /usr/bin/python3) and a real
 * PostgreSQL 15 server. It takes the objects TuningSweep synthesizes, writes the program ConfigMap
 * to files, and runs the study-creation pod and three worker pods as local processes with the env
 * and commands of those objects (see fixtures/sweep/local-pod.ts for the substitutions), against a
 * toy objective, then inspects the study. Never skipped: a missing Optuna or PostgreSQL fails it.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing, Chart } from 'cdk8s';
import { FakeMlflow } from './fixtures/sweep/fake-mlflow';
import { Exit, LocalPod } from './fixtures/sweep/local-pod';
import { Postgres, startPostgres } from './fixtures/sweep/postgres';
import { MlPlatform } from '../../src/cdk8s';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Duration } from '../../src/core';
import { Pruner, Sampler } from '../../src/core/sweep';
import { find, K8sObject } from '../support/synth';

const PYTHON = '/usr/bin/python3';
const FIXTURES = join(__dirname, 'fixtures', 'sweep');
const TENANT = 'team';
const MLFLOW_USER = { username: 'team', password: 'tracking-pw' };

interface Trial {
  number: number;
  state: string;
  params: Record<string, unknown>;
  values: number[] | null;
  intermediate: number;
  failed_trial: number | null;
  constraints: number[] | null;
  user_attrs: Record<string, unknown>;
}
interface Study { trials: Trial[]; best: number[]; directions: string[]; user_attrs: Record<string, unknown> }

let pg: Postgres;
let mlflow: FakeMlflow;
let work: string;
/** Every pod started, so a failed test leaves no process behind. */
const started: LocalPod[] = [];

function requireOptuna(): void {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install python3 (Debian) — the sweep engine test is never skipped.`);
  const r = spawnSync(PYTHON, ['-c', 'import optuna, psycopg2, sqlalchemy; assert optuna.__version__.split(".")[0] in ("3", "4"); print(optuna.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`Optuna 3.x/4.x with psycopg2 is missing for ${PYTHON}: install Debian's python3-optuna and python3-psycopg2 — the sweep engine test is never skipped.\n${r.stderr}`);
  }
}

beforeAll(async () => {
  requireOptuna();
  pg = await startPostgres();
  pg.sql('postgres', 'CREATE DATABASE mlflow');
  // MLflow's own alembic_version in the public schema: the sweep's tables must live apart from it.
  pg.sql('mlflow', "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('mlflow-head')");
  mlflow = await new FakeMlflow(MLFLOW_USER.username, MLFLOW_USER.password).start();
  work = mkdtempSync(join(tmpdir(), 'sweep-engine-'));
}, 60_000);

afterEach(() => {
  for (const p of started.splice(0)) p.kill();
});

afterAll(async () => {
  await mlflow?.stop();
  pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The objects of a sweep on a real MlPlatform with tenant `team`. */
function synth(id: string, props: Omit<TuningSweepProps, 'platform' | 'namespace' | 'trial'> & { trialArgs: string[] }): { sweep: TuningSweep; objects: K8sObject[] } {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const platform = new MlPlatform(chart, 'ml');
  platform.addTenant(TENANT);
  const { trialArgs, ...rest } = props;
  const sweep = new TuningSweep(chart, id, {
    ...rest,
    platform,
    namespace: TENANT,
    trial: { image: 'docker.io/library/python:3.12-slim', command: [PYTHON, join(FIXTURES, 'objective.py')], args: trialArgs },
    heartbeat: { interval: Duration.seconds(1), gracePeriod: Duration.seconds(4) },
  });
  return { sweep, objects: chart.toJson() as K8sObject[] };
}

/** Runs the creation pod and `workers` worker pods together (workers wait for the study in their init container). */
function launch(sweep: TuningSweep, objects: K8sObject[]): { create: LocalPod; workers: LocalPod[] } {
  const ns = sweep.spec.namespace;
  const configMaps = { [sweep.configMapName]: find(objects, 'ConfigMap', sweep.configMapName, ns).data };
  const common = {
    configMaps,
    secrets: {
      'ml-database': { username: pg.user, password: pg.password, database: 'mlflow' },
      'ml-tracking': MLFLOW_USER,
      'ml-store': { accessKeyId: 'store-key', secretAccessKey: 'store-secret' },
    },
    // Cluster DNS names do not resolve here: point the database and the tracking server at the local ones.
    envOverrides: { SWEEP_DB_HOST: '127.0.0.1', SWEEP_DB_PORT: String(pg.port), MLFLOW_TRACKING_URI: mlflow.url },
    commandMap: { python: PYTHON },
  };
  const createJob = find(objects, 'Job', sweep.createJobName, ns);
  const workersJob = find(objects, 'Job', sweep.workersJobName, ns);
  expect(workersJob.spec.completionMode).toBe('Indexed');
  const create = new LocalPod(createJob.spec.template.spec, { ...common, name: `${sweep.createJobName}-x`, dir: join(work, sweep.node.id, 'create') });
  const workers = Array.from({ length: workersJob.spec.parallelism }, (_, i) => new LocalPod(workersJob.spec.template.spec, {
    ...common,
    name: `${sweep.workersJobName}-${i}-x`,
    annotations: { 'batch.kubernetes.io/job-completion-index': String(i) },
    dir: join(work, sweep.node.id, `worker-${i}`),
  }));
  started.push(create, ...workers);
  return { create, workers };
}

function inspect(sweep: TuningSweep): Study {
  const url = `postgresql+psycopg2://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}/mlflow?options=${encodeURIComponent(`-csearch_path=${sweep.spec.storage!.schema}`)}`;
  const r = spawnSync(PYTHON, [join(FIXTURES, 'inspect_study.py'), url, sweep.spec.study], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function logs(pods: LocalPod[]): string {
  return pods.map((p, i) => `--- worker ${i}\n${p.log('optuna').slice(-3000)}\n${p.log('trial').slice(-500)}`).join('\n');
}

/** Every container (init containers included) exited 0: the runner ended with its worker, no hang. */
function expectClean(exits: Record<string, Exit>, context: string): void {
  const ok = { code: 0, signal: null };
  expect({ context, exits }).toEqual({ context, exits: { 'wait-for-study': ok, 'check-trial-image': ok, 'trial': ok, 'optuna': ok } });
}

function count(study: Study, state: string): number {
  return study.trials.filter((t) => t.state === state).length;
}

test('single objective, TPE + median pruner: exact budget, nothing left running, near the optimum, pruning, MLflow runs', async () => {
  const { sweep, objects } = synth('tpe', {
    parameters: [
      { name: 'x', type: 'float', low: -4, high: 6 },
      { name: 'kind', type: 'categorical', choices: ['a', 'b'] },
      { name: 'depth', type: 'int', low: 1, high: 3, when: { parameter: 'kind', equals: 'b' } },
    ],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    sampler: Sampler.tpe({ nStartupTrials: 5, seed: 1 }),
    pruner: Pruner.median({ nStartupTrials: 3, nWarmupSteps: 1 }),
    budget: { trials: 18, workers: 3 },
    trialArgs: ['--steps=5', '--pause=0.1'],
  });
  const { create, workers } = launch(sweep, objects);
  await create.done;
  expect(create.exits.create).toEqual({ code: 0, signal: null });
  const exits = await Promise.all(workers.map((w) => w.done));
  exits.forEach((e, i) => expectClean(e, `worker ${i}\n${logs(workers)}`));

  const study = inspect(sweep);
  expect(count(study, 'COMPLETE') + count(study, 'PRUNED')).toBe(18);
  expect(study.trials.filter((t) => !['COMPLETE', 'PRUNED'].includes(t.state))).toEqual([]);
  expect(count(study, 'PRUNED')).toBeGreaterThanOrEqual(1);
  const best = study.trials.find((t) => t.number === study.best[0])!;
  // The optimum is 0 (x = 2, kind "a"). Simulated 1000 times in batches of 3 with random seeds, 18
  // trials of this TPE always got below 0.87: the tolerance is 1.
  expect(best.values![0]).toBeLessThan(1);
  for (const t of study.trials) {
    expect('depth' in t.params).toBe(t.params.kind === 'b');
    expect(t.intermediate).toBeGreaterThanOrEqual(1);
  }
  // Each finished trial is an MLflow child run of the sweep's run, with its parameters, steps and status.
  const runs = mlflow.runsOf(`${TENANT}/tpe`);
  const parent = runs.find((r) => r.name === 'tpe')!;
  expect(parent.tags['mlplatform.best_trial_number']).toBe(String(best.number));
  expect(JSON.parse(parent.tags['mlplatform.best_params'])).toEqual(best.params);
  expect(parent.status).toBe('FINISHED');
  const children = runs.filter((r) => r.tags['mlflow.parentRunId'] === parent.runId);
  expect(children.map((r) => Number(r.tags['optuna.trial_number'])).sort((a, b) => a - b)).toEqual(study.trials.map((t) => t.number));
  for (const r of children) {
    const t = study.trials.find((x) => x.number === Number(r.tags['optuna.trial_number']))!;
    expect(r.status).toBe(t.state === 'COMPLETE' ? 'FINISHED' : 'KILLED');
    expect(Number(r.params.x)).toBeCloseTo(t.params.x as number, 10);
    expect(r.metrics.filter((m) => m.key === 'loss').map((m) => m.step)).toEqual([...Array(r.metrics.filter((m) => m.key === 'loss').length).keys()]);
  }
  expect(mlflow.unauthorized).toBe(0);
  // Tables live in the tenant's schema; MLflow's alembic_version in public is untouched.
  expect(pg.sql('mlflow', 'SELECT version_num FROM public.alembic_version')).toBe('mlflow-head');
  expect(pg.sql('mlflow', "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'optuna_team' AND table_name = 'trials'")).toBe('1');
}, 90_000);

test('two objectives, NSGA-II with a constraint and a JSON metrics file: a Pareto front', async () => {
  const { sweep, objects } = synth('pareto', {
    parameters: [{ name: 'x', type: 'float', low: -2, high: 4 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }, { metric: 'f2', direction: 'minimize' }],
    constraints: [{ metric: 'f2', max: 9 }],
    metrics: { stdout: true, jsonFile: true },
    sampler: Sampler.nsgaII({ populationSize: 4, seed: 3 }),
    budget: { trials: 10, workers: 3 },
    trialArgs: ['--steps=2', '--pause=0.05'],
  });
  const { create, workers } = launch(sweep, objects);
  await create.done;
  const exits = await Promise.all(workers.map((w) => w.done));
  exits.forEach((e, i) => expectClean(e, `worker ${i}\n${logs(workers)}`));
  const study = inspect(sweep);
  expect(study.directions).toEqual(['MINIMIZE', 'MINIMIZE']);
  expect(count(study, 'COMPLETE')).toBe(10);
  expect(study.trials).toHaveLength(10);
  const complete = study.trials.filter((t) => t.state === 'COMPLETE');
  for (const t of complete) {
    const x = t.params.x as number;
    expect(t.values![0]).toBeCloseTo((x - 2) ** 2, 5); // loss from the file (final)
    expect(t.values![1]).toBeCloseTo(x ** 2, 5); // f2 only exists in the file
    expect(t.constraints).toEqual([x ** 2 - 9].map((c) => expect.closeTo(c, 5)));
  }
  const dominates = (a: Trial, b: Trial) => a.values!.every((v, i) => v <= b.values![i]) && a.values!.some((v, i) => v < b.values![i]);
  const front = complete.filter((t) => study.best.includes(t.number));
  expect(front.length).toBeGreaterThanOrEqual(2);
  for (const a of front) for (const b of front) expect(dominates(a, b)).toBe(false);
  const feasibleFront = front.filter((t) => (t.params.x as number) ** 2 <= 9);
  expect(feasibleFront.length).toBeGreaterThanOrEqual(1);
  const parent = mlflow.runsOf(`${TENANT}/pareto`).find((r) => r.name === 'pareto')!;
  expect(JSON.parse(parent.tags['mlplatform.best_trials']).map((b: any) => b.number).sort()).toEqual([...study.best].sort());
}, 90_000);

test('fault: a worker killed mid-trial; the study still completes with no lost or duplicated trial', async () => {
  const { sweep, objects } = synth('fault', {
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    sampler: Sampler.random({ seed: 11 }),
    budget: { trials: 9, workers: 3 },
    trialArgs: ['--steps=8', '--pause=0.25'],
  });
  const { create, workers } = launch(sweep, objects);
  await create.done;
  const victim = workers[1];
  const trials = join(victim.volume('shared'), 'trials');
  // Mid-trial: a trial of worker 1 has printed a metric line (finished trials' folders are removed).
  const midTrial = () => existsSync(trials) && readdirSync(trials).some((n) => {
    try {
      return readFileSync(join(trials, n, 'output'), 'utf8').includes('loss=');
    } catch {
      return false;
    }
  });
  const t0 = Date.now();
  while (!midTrial()) {
    if (Date.now() - t0 > 30_000) throw new Error(`worker 1 never started a trial\n${logs(workers)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  victim.kill();
  const exits = await Promise.all(workers.map((w) => w.done));
  expect(exits[1].optuna.signal).toBe('SIGKILL');
  [0, 2].forEach((i) => expectClean(exits[i], `worker ${i}\n${logs(workers)}`));

  const study = inspect(sweep);
  expect(count(study, 'COMPLETE')).toBe(9);
  expect(study.trials.filter((t) => t.state === 'RUNNING' || t.state === 'WAITING')).toEqual([]);
  const lost = study.trials.filter((t) => t.state === 'FAIL');
  expect(lost).toHaveLength(1);
  expect(lost[0].user_attrs['mlplatform.worker']).toBe(`${sweep.workersJobName}-1-x`);
  expect(lost[0].user_attrs['mlplatform.failure']).toBeUndefined(); // failed by the heartbeat, not by the trial
  const retries = study.trials.filter((t) => t.failed_trial !== null);
  expect(retries).toHaveLength(1);
  expect(retries[0]).toMatchObject({ failed_trial: lost[0].number, state: 'COMPLETE', params: lost[0].params });
  // No duplicate: every finished trial has distinct parameters except the retry of the lost one.
  const keys = study.trials.filter((t) => t.state === 'COMPLETE').map((t) => JSON.stringify(t.params));
  expect(new Set(keys).size).toBe(9);
  const runs = mlflow.runsOf(`${TENANT}/fault`);
  expect(runs.find((r) => r.tags['optuna.trial_number'] === String(lost[0].number))!.status).toBe('FAILED');
}, 90_000);

test('failures: trials past their timeout are stopped and failed; past the failure budget the worker exits with the code the Job fails on', async () => {
  const { sweep, objects } = synth('timeouts', {
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 5, workers: 1, maxFailedTrials: 1, trialTimeout: Duration.seconds(1) },
    trialArgs: ['--steps=20', '--pause=0.5'],
  });
  const { create, workers } = launch(sweep, objects);
  await create.done;
  const [exits] = await Promise.all(workers.map((w) => w.done));
  const rule = find(objects, 'Job', sweep.workersJobName).spec.podFailurePolicy.rules.find((r: any) => r.action === 'FailJob');
  expect(exits.optuna).toEqual({ code: rule.onExitCodes.values[0], signal: null });
  expect(exits.trial).toEqual({ code: 0, signal: null }); // the runner still ends with its worker
  const study = inspect(sweep);
  expect(study.trials.map((t) => [t.state, t.user_attrs['mlplatform.failure']])).toEqual([['FAIL', 'timeout after 1s'], ['FAIL', 'timeout after 1s']]);
  const parent = mlflow.runsOf(`${TENANT}/timeouts`).find((r) => r.name === 'timeouts')!;
  expect([parent.status, parent.tags['mlplatform.outcome']]).toEqual(['FAILED', 'failed']);
}, 60_000);

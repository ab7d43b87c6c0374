/**
 * The sweep engine test: real Optuna (Debian's python3-optuna, run by /usr/bin/python3) and a real
 * PostgreSQL 15 server. It takes the objects TuningSweep synthesizes and runs the study-creation Job
 * and the Indexed workers Job on the kubelet harness with its Job controller (fixtures/harness.ts):
 * the synthesized pods as their users, on read-only roots, with the program ConfigMap and emptyDirs
 * mounted as the kubelet mounts them, env from the Secrets and the Job controller's completion index,
 * the Jobs' podFailurePolicy and backoffLimit applied — against a toy objective, then inspects the
 * study. The database and the tracking server are reached at the Service addresses the objects name
 * (forwarded to a local PostgreSQL and an MLflow double). Never skipped: a missing Optuna, PostgreSQL
 * or harness prerequisite (root, unshare) fails it.
 */
import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { Testing, Chart } from 'cdk8s';
import { engineKubelet, JobRun, podVisibleFixtures, putAll, runJob, RunningPod } from './fixtures/harness';
import { FakeMlflow } from './fixtures/sweep/fake-mlflow';
import { Postgres, startPostgres } from './fixtures/sweep/postgres';
import { MlPlatform } from '../../src/cdk8s';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Duration } from '../../src/core';
import { Pruner, Sampler } from '../../src/core/sweep';
import { Kubelet } from '../cluster/kubelet/kubelet';
import { MemorySource } from '../cluster/kubelet/source';
import { find, K8sObject } from '../support/synth';

const PYTHON = '/usr/bin/python3';
// Where the pods on the harness see them (fixtures/harness.ts podVisibleFixtures).
const FIXTURES = podVisibleFixtures(join(__dirname, 'fixtures', 'sweep'));
const TENANT = 'team';
const MLFLOW_USER = { username: 'team', password: 'tracking-pw' };
/** The trial's image: run as Debian's Python, like the Optuna image. */
const TRIAL_IMAGE = 'docker.io/library/python:3.12-slim';
const MINUTE = 60_000;

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
let source: MemorySource;
let kubelet: Kubelet;
/** Every Job started, so a failed test leaves no process behind. */
const started: JobRun[] = [];

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
  // The objects name ml-postgres…:5432 and ml-tracking…:5000: forwarded inside the pods' network to the local servers.
  ({ source, kubelet } = engineKubelet({ forward: { 5432: pg.port, 5000: Number(new URL(mlflow.url).port) }, pythonImages: [TRIAL_IMAGE] }));
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((j) => j.stop()));
});

afterAll(async () => {
  await kubelet?.stop();
  await mlflow?.stop();
  pg?.stop();
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
    trial: { image: TRIAL_IMAGE, command: [PYTHON, join(FIXTURES, 'objective.py')], args: trialArgs },
    heartbeat: { interval: Duration.seconds(1), gracePeriod: Duration.seconds(4) },
  });
  return { sweep, objects: chart.toJson() as K8sObject[] };
}

/**
 * Runs the creation Job and the workers Job together on the harness (workers wait for the study in
 * their init container), with the tenant's Secrets as the bootstrap would have written them.
 */
function launch(sweep: TuningSweep, objects: K8sObject[]): { create: JobRun; workers: JobRun } {
  const ns = sweep.spec.namespace;
  putAll(source, objects as any);
  source.putSecret(ns, 'ml-database', { username: pg.user, password: pg.password, database: 'mlflow' });
  // With the INI files the bootstrap adds (bootstrap.py `ini_file`), which the trials mount (MLflow's and botocore's own files).
  source.putSecret(ns, 'ml-tracking', { ...MLFLOW_USER, credentials: `[mlflow]\nmlflow_tracking_username = ${MLFLOW_USER.username}\nmlflow_tracking_password = ${MLFLOW_USER.password}\n` });
  source.putSecret(ns, 'ml-store', { accessKeyId: 'store-key', secretAccessKey: 'store-secret', credentials: '[default]\naws_access_key_id = store-key\naws_secret_access_key = store-secret\n' });
  const workersJob = find(objects, 'Job', sweep.workersJobName, ns);
  expect(workersJob.spec.completionMode).toBe('Indexed');
  const create = runJob(kubelet, find(objects, 'Job', sweep.createJobName, ns) as any);
  const workers = runJob(kubelet, workersJob as any);
  started.push(create, workers);
  return { create, workers };
}

/** Each container's exits (init containers included), as the pod status shows them. */
function exitsOf(pod: RunningPod): Record<string, { code: number | null; signal: NodeJS.Signals | null }> {
  return Object.fromEntries([...pod.status].map(([name, st]) => [name, st.exits[st.exits.length - 1]]));
}

/** Waits for both Jobs; a failure carries every pod's events and logs. */
async function finish(create: JobRun, workers: JobRun, timeoutMs = 2 * MINUTE) {
  try {
    return await Promise.all([create.wait(timeoutMs), workers.wait(timeoutMs)]);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${create.describe()}\n${workers.describe()}`);
  }
}

function inspect(sweep: TuningSweep): Study {
  const url = `postgresql+psycopg2://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}/mlflow?options=${encodeURIComponent(`-csearch_path=${sweep.spec.storage!.schema}`)}`;
  const r = spawnSync(PYTHON, [join(FIXTURES, 'inspect_study.py'), url, sweep.spec.study], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function logs(run: JobRun): string {
  return run.pods.map((p) => `--- worker ${p.pod.name}\n${p.pod.log('optuna').slice(-3000)}\n${p.pod.log('trial').slice(-500)}`).join('\n');
}

/** Every container (init containers included) exited 0: the runner ended with its worker, no hang. */
function expectClean(exits: Record<string, { code: number | null; signal: NodeJS.Signals | null }>, context: string): void {
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
  const ends = await finish(create, workers);
  expect(ends.map((e) => [e.type, e.reason])).toEqual([['Complete', 'CompletionsReached'], ['Complete', 'CompletionsReached']]);
  expect(create.pods.map((p) => exitsOf(p.pod))).toEqual([{ create: { code: 0, signal: null } }]);
  // One pod per index, each given its own index by the Job controller, none failed.
  expect(workers.pods.map((p) => p.index)).toEqual([0, 1, 2]);
  expect(workers.status).toMatchObject({ succeeded: 3, failed: 0, completedIndexes: '0-2' });
  workers.pods.forEach((p) => expectClean(exitsOf(p.pod), `${p.pod.name}\n${logs(workers)}`));
  // As the kubelet runs them: the synthesized user (the fsGroup as supplementary group: the credential files), with no capabilities, on a read-only root.
  const sc = find(objects, 'Job', sweep.workersJobName, TENANT).spec.template.spec.securityContext;
  expect(workers.pods[0].pod.status.get('optuna')!.identity).toEqual({ uid: sc.runAsUser, gid: sc.runAsGroup, groups: sc.fsGroup === undefined ? [] : [sc.fsGroup] });

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
}, 3 * MINUTE);

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
  expect((await finish(create, workers)).map((e) => e.type)).toEqual(['Complete', 'Complete']);
  workers.pods.forEach((p) => expectClean(exitsOf(p.pod), `${p.pod.name}\n${logs(workers)}`));
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
}, 3 * MINUTE);

test('fault: a worker\'s node lost mid-trial; the Job replaces the pod (DisruptionTarget: not a failure), the study completes with no lost or duplicated trial', async () => {
  const { sweep, objects } = synth('fault', {
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    sampler: Sampler.random({ seed: 11 }),
    budget: { trials: 9, workers: 3 },
    trialArgs: ['--steps=8', '--pause=0.25'],
  });
  const { create, workers } = launch(sweep, objects);
  const t0 = Date.now();
  while (!workers.pods.some((p) => p.index === 1)) {
    if (Date.now() - t0 > MINUTE) throw new Error(`no pod of index 1\n${workers.describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const victim = workers.pods.find((p) => p.index === 1)!;
  // The pod's emptyDir `shared`, as the kubelet laid it out on the node.
  const trials = join(victim.pod.dir, 'volumes', 'shared', 'trials');
  // Mid-trial: a trial of worker 1 has printed a metric line (finished trials' folders are removed).
  const midTrial = () => existsSync(trials) && readdirSync(trials).some((n) => {
    try {
      return readFileSync(join(trials, n, 'output'), 'utf8').includes('loss=');
    } catch {
      return false;
    }
  });
  while (!midTrial()) {
    if (Date.now() - t0 > MINUTE) throw new Error(`worker 1 never started a trial\n${logs(workers)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await victim.pod.lose();
  const ends = await finish(create, workers);
  expect(ends.map((e) => e.type)).toEqual(['Complete', 'Complete']);
  expect(exitsOf(victim.pod).optuna.signal).toBe('SIGKILL');
  // The Job's rule `Ignore` on DisruptionTarget: not counted, index 1 gets a new pod.
  expect([victim.counted, victim.action]).toEqual(['ignored', 'Ignore']);
  expect(workers.status.failed).toBe(0);
  expect(workers.pods.filter((p) => p.index === 1)).toHaveLength(2);
  workers.pods.filter((p) => p !== victim).forEach((p) => expectClean(exitsOf(p.pod), `${p.pod.name}\n${logs(workers)}`));

  const study = inspect(sweep);
  expect(count(study, 'COMPLETE')).toBe(9);
  expect(study.trials.filter((t) => t.state === 'RUNNING' || t.state === 'WAITING')).toEqual([]);
  const lost = study.trials.filter((t) => t.state === 'FAIL');
  expect(lost).toHaveLength(1);
  expect(lost[0].user_attrs['mlplatform.worker']).toBe(victim.pod.name);
  expect(lost[0].user_attrs['mlplatform.failure']).toBeUndefined(); // failed by the heartbeat, not by the trial
  const retries = study.trials.filter((t) => t.failed_trial !== null);
  expect(retries).toHaveLength(1);
  expect(retries[0]).toMatchObject({ failed_trial: lost[0].number, state: 'COMPLETE', params: lost[0].params });
  // No duplicate: every finished trial has distinct parameters except the retry of the lost one.
  const keys = study.trials.filter((t) => t.state === 'COMPLETE').map((t) => JSON.stringify(t.params));
  expect(new Set(keys).size).toBe(9);
  const runs = mlflow.runsOf(`${TENANT}/fault`);
  expect(runs.find((r) => r.tags['optuna.trial_number'] === String(lost[0].number))!.status).toBe('FAILED');
}, 3 * MINUTE);

test('failures: trials past their timeout are stopped and failed; past the failure budget the worker exits with the code the Job fails on', async () => {
  const { sweep, objects } = synth('timeouts', {
    parameters: [{ name: 'x', type: 'float', low: -4, high: 6 }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 5, workers: 1, maxFailedTrials: 1, trialTimeout: Duration.seconds(1) },
    trialArgs: ['--steps=20', '--pause=0.5'],
  });
  const { create, workers } = launch(sweep, objects);
  const [, end] = await finish(create, workers);
  const rules = find(objects, 'Job', sweep.workersJobName).spec.podFailurePolicy.rules;
  const ruleIndex = rules.findIndex((r: any) => r.action === 'FailJob');
  const pod = workers.pods[0].pod;
  // The worker's exit code matches the Job's FailJob rule: the Job fails at once, no retry (backoffLimit is not used up).
  expect(end).toMatchObject({
    type: 'Failed',
    reason: 'PodFailurePolicy',
    message: `Container optuna for pod ${TENANT}/${pod.name} failed with exit code ${rules[ruleIndex].onExitCodes.values[0]} matching FailJob rule at index ${ruleIndex}`,
  });
  expect(workers.pods).toHaveLength(1);
  const exits = exitsOf(pod);
  expect(exits.optuna).toEqual({ code: rules[ruleIndex].onExitCodes.values[0], signal: null });
  expect(exits.trial).toEqual({ code: 0, signal: null }); // the runner still ends with its worker
  const study = inspect(sweep);
  expect(study.trials.map((t) => [t.state, t.user_attrs['mlplatform.failure']])).toEqual([['FAIL', 'timeout after 1s'], ['FAIL', 'timeout after 1s']]);
  const parent = mlflow.runsOf(`${TENANT}/timeouts`).find((r) => r.name === 'timeouts')!;
  expect([parent.status, parent.tags['mlplatform.outcome']]).toEqual(['FAILED', 'failed']);
}, 2 * MINUTE);

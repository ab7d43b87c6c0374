/**
 * Sweeps at the scale the API accepts (issue #21 item 6): each worker holds one database connection
 * (src/programs/sweep_lib.py), the embedded PostgreSQL's max_connections is declared and rendered,
 * and a sweep (or the sweeps together) that cannot fit in the study database fails synthesis naming
 * `budget.workers` and the limit to raise. test/engine/optuna-sweep-scale.test.ts runs 50 workers
 * on a real server with max_connections = 100 and measures the peak.
 */
import { App, Chart, Testing } from 'cdk8s';
import { MlPlatform } from '../../src/cdk8s';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { BackendStore, Cpu, EMBEDDED_POSTGRES_MAX_CONNECTIONS, Size } from '../../src/core';
import { Sampler, StudyStorage, SWEEP_CONNECTIONS } from '../../src/core/sweep';
import { validationError } from '../support/errors';
import { find, K8sObject } from '../support/synth';

type SweepProps = Omit<TuningSweepProps, 'platform' | 'namespace'>;

function props(workers: number, extra: Partial<SweepProps> = {}): SweepProps {
  return {
    trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'] },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    sampler: Sampler.random(),
    budget: { trials: 1000, workers },
    ...extra,
  };
}

function platformOn(backendStore?: BackendStore): { app: App; chart: Chart; platform: MlPlatform } {
  const app = Testing.app();
  const chart = new Chart(app, 'c');
  const platform = new MlPlatform(chart, 'ml', backendStore ? { backendStore } : {});
  // Room for hundreds of workers: the tenancy check is not what these tests are about.
  platform.addTenant('team', { quota: { cpu: Cpu.cores(1000), memory: Size.tebibytes(2), pods: 1000, ephemeralStorage: Size.tebibytes(10) } });
  return { app, chart, platform };
}

const external = (maxConnections?: number) => BackendStore.external({
  host: 'db.example.com',
  database: 'mlflow',
  username: { name: 'db', key: 'username' },
  password: { name: 'db', key: 'password' },
  ...(maxConnections ? { maxConnections } : {}),
});

describe('the embedded PostgreSQL: max_connections declared and rendered', () => {
  test('default: 200, passed to the server as `-c max_connections=200`', () => {
    const { chart } = platformOn();
    const sts = find(chart.toJson() as K8sObject[], 'StatefulSet', 'ml-postgres');
    const c = sts.spec.template.spec.containers.find((x: any) => x.name === 'postgres');
    expect(EMBEDDED_POSTGRES_MAX_CONNECTIONS).toBe(200);
    // The official image's docker-entrypoint.sh runs `postgres "$@"` when the first argument starts with "-".
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['-c', 'max_connections=200']);
  });

  test('BackendStore.embedded({ maxConnections }) sets it', () => {
    const { chart } = platformOn(BackendStore.embedded({ maxConnections: 400 }));
    const sts = find(chart.toJson() as K8sObject[], 'StatefulSet', 'ml-postgres');
    expect(sts.spec.template.spec.containers[0].args).toEqual(['-c', 'max_connections=400']);
  });

  test.each([[10], [1.5], [200_000]])('maxConnections %p is refused, naming the prop', (n) => {
    const e = validationError(() => platformOn(BackendStore.embedded({ maxConnections: n })));
    expect(e.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(["backendStore.maxConnections: must be the server's max_connections, a whole number from 20 to 100000"]);
    const x = validationError(() => platformOn(external(n)));
    expect(x.issues.map((i) => i.path)).toEqual(['backendStore.maxConnections']);
  });
});

describe('a sweep must fit in its study database: one connection per worker, two for the study-creation Job', () => {
  test('the count', () => {
    expect(SWEEP_CONNECTIONS).toEqual({ perWorker: 1, studyCreation: 2, dashboard: 1 });
    const { chart, platform } = platformOn();
    expect(new TuningSweep(chart, 'a', { platform, namespace: 'team', ...props(10) }).databaseConnections).toBe(12);
    expect(new TuningSweep(chart, 'b', { platform, namespace: 'team', ...props(10), dashboard: true }).databaseConnections).toBe(13);
    expect(new TuningSweep(chart, 'k', { platform, namespace: 'team', ...props(10), engine: 'katib' }).databaseConnections).toBe(0);
  });

  test('embedded default (200 − 3 superuser − 50 for the platform services = 147): 145 workers fit, 146 do not', () => {
    const ok = platformOn();
    new TuningSweep(ok.chart, 'big', { platform: ok.platform, namespace: 'team', ...props(145) });
    expect(() => ok.app.synth()).not.toThrow();
    const { chart, platform } = platformOn();
    const e = validationError(() => new TuningSweep(chart, 'big', { platform, namespace: 'team', ...props(146) }));
    expect(e.issues.map((i) => i.path)).toEqual(['budget.workers']);
    expect(e.message).toContain("`budget.workers` (146): needs 148 connections to the platform's database (max_connections 200): one per worker and 2 for the study-creation Job, " +
      "but it leaves 147 for sweeps (53 reserved); lower budget.workers to at most 145, or raise the platform's `backendStore` maxConnections " +
      '(BackendStore.embedded/external({ maxConnections })) to at least 201');
  });

  test('SigOpt-style 100 workers fit the default embedded server; raising maxConnections admits more', () => {
    const a = platformOn();
    new TuningSweep(a.chart, 'sigopt', { platform: a.platform, namespace: 'team', ...props(100) });
    expect(() => a.app.synth()).not.toThrow();
    const b = platformOn(BackendStore.embedded({ maxConnections: 400 }));
    new TuningSweep(b.chart, 'huge', { platform: b.platform, namespace: 'team', ...props(300) });
    expect(() => b.app.synth()).not.toThrow();
  });

  test("an external platform database is assumed at PostgreSQL's default 100 unless it declares its max_connections", () => {
    const { chart, platform } = platformOn(external());
    const e = validationError(() => new TuningSweep(chart, 's', { platform, namespace: 'team', ...props(46) }));
    expect(e.message).toContain("`budget.workers` (46): needs 48 connections to the platform's database (max_connections 100): one per worker and 2 for the study-creation Job, " +
      'but it leaves 47 for sweeps (53 reserved); lower budget.workers to at most 45');
    const big = platformOn(external(500));
    new TuningSweep(big.chart, 's', { platform: big.platform, namespace: 'team', ...props(400) });
    expect(() => big.app.synth()).not.toThrow();
  });

  test('a study database of its own: max_connections less the 3 superuser slots, named by `storage.maxConnections`', () => {
    const storage = (maxConnections?: number) => StudyStorage.postgres({
      host: 'studies.example.com', database: 'studies', username: { name: 's', key: 'u' }, password: { name: 's', key: 'p' }, ...(maxConnections ? { maxConnections } : {}),
    });
    const { chart, platform } = platformOn();
    new TuningSweep(chart, 'fits', { platform, namespace: 'team', ...props(95), storage: storage() });
    const e = validationError(() => new TuningSweep(chart, 'over', { platform, namespace: 'team', ...props(96), storage: storage() }));
    expect(e.message).toContain("`budget.workers` (96): needs 98 connections to the study database studies.example.com:5432/studies (max_connections 100, PostgreSQL's default): " +
      "one per worker and 2 for the study-creation Job, but it leaves 97 for sweeps (3 reserved); lower budget.workers to at most 95, or raise `storage` maxConnections (the server's max_connections) to at least 101");
    new TuningSweep(chart, 'more', { platform, namespace: 'team', ...props(96), storage: storage(1000) });
    const bad = validationError(() => new TuningSweep(chart, 'bad', { platform, namespace: 'team', ...props(2), storage: StudyStorage.fromSecret({ name: 'u', key: 'url' }, { maxConnections: 0 }) }));
    expect(bad.issues.map((i) => i.path)).toEqual(['storage.maxConnections']);
  });

  test('sweeps that fit alone but not together fail synthesis, each naming the total and the shares', () => {
    const { app, chart, platform } = platformOn();
    new TuningSweep(chart, 'one', { platform, namespace: 'team', ...props(90) });
    new TuningSweep(chart, 'two', { platform, namespace: 'team', ...props(60) });
    // Another database is not counted.
    new TuningSweep(chart, 'own', {
      platform,
      namespace: 'team',
      ...props(90),
      storage: StudyStorage.postgres({ host: 'other.example.com', database: 'x', username: { name: 's', key: 'u' }, password: { name: 's', key: 'p' } }),
    });
    expect(() => app.synth()).toThrow("TuningSweep \"one\": `budget.workers` (90): the sweeps on the platform's database (max_connections 200) need 154 connections together " +
      "(team/one 92, team/two 62), but it leaves 147 for sweeps (53 reserved); lower their budget.workers, or raise the platform's `backendStore` maxConnections " +
      '(BackendStore.embedded/external({ maxConnections })) to at least 207');
  });
});

describe('a worker stopped by SIGTERM is not a failure of the Job', () => {
  test('podFailurePolicy ignores exit 143 of the Optuna container (src/programs/sweep.py)', () => {
    const { chart, platform } = platformOn();
    const sweep = new TuningSweep(chart, 's', { platform, namespace: 'team', ...props(2) });
    const rules = find(chart.toJson() as K8sObject[], 'Job', sweep.workersJobName).spec.podFailurePolicy.rules;
    expect(rules[1]).toEqual({ action: 'Ignore', onExitCodes: { containerName: 'optuna', operator: 'In', values: [143] }, onPodConditions: [] });
  });
});

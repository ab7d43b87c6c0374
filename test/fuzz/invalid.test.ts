// Property 2 (a few hundred runs here; `npm run fuzz` runs 10,000; 100 invalid-field mutations): a configuration with one invalid
// field fails with a ValidationError whose issue path names that field, never another error or YAML.
import * as fc from 'fast-check';
import { FIELDS, mutation } from './arbitraries/mutations';
import { scenario } from './arbitraries/scenario';
import { checkInvalid, namesField } from './properties';

const RUNS = Number(process.env.FUZZ_TEST_RUNS_INVALID ?? 150);

beforeAll(() => {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('fuzz: one invalid field', () => {
  test('fails with a ValidationError naming the field', () => {
    fc.assert(fc.property(mutation(scenario()), (m) => {
      expect(checkInvalid(m)).toBeUndefined();
    }), { numRuns: RUNS, seed: 20261127 });
  });

  test('the mutations cover every construct', () => {
    expect(new Set(FIELDS.map((f) => f.construct))).toEqual(new Set(['MlPlatform', 'addGpuPool', 'addTenant', 'TrainingPipeline', 'TuningSweep', 'ModelEndpoint']));
  });

  test('the mutations break the props of the synth-time checks, payload logging, apps listeners and image overrides', () => {
    const paths = new Set(FIELDS.map((f) => `${f.construct} ${f.path || (f as any).pathOf?.({ steps: [{ name: 's0' }] })}`));
    expect([...paths]).toEqual(expect.arrayContaining([
      'MlPlatform exposure.apps', 'MlPlatform exposure.apps.hostnames', 'MlPlatform exposure.apps.hostnames[0]', 'MlPlatform exposure.apps.hostnames[1]',
      'MlPlatform checks', 'MlPlatform checks.tenancy', 'MlPlatform checks.quota',
      'TrainingPipeline versions.images.mlflow', 'TrainingPipeline checks.data-access',
      'TuningSweep images.optuna', 'TuningSweep checks.capacity', 'TuningSweep dashboard.exposure.gateway', 'TuningSweep dashboard.exposure.host',
      'TuningSweep dashboard.allowFromNamespaces',
      'ModelEndpoint logging', 'ModelEndpoint logging.samplePercent', 'ModelEndpoint logging.port', 'ModelEndpoint logging.mode',
      'ModelEndpoint versions[0].logging.maxBodyBytes', 'ModelEndpoint versions[0].logging.flushInterval', 'ModelEndpoint versions[0].logging.batchSize',
      'ModelEndpoint exposure.grpcHost', 'ModelEndpoint exposure.gateway', 'ModelEndpoint exposure.host', 'ModelEndpoint checks.schedulability',
    ]));
    expect(FIELDS.length).toBe(103);
  });

  test('issue paths match the field or a part of it, not a sibling with the same prefix', () => {
    expect(namesField('tracking.workers', 'tracking.workers')).toBe(true);
    expect(namesField('versions[0].scaling.replicas', 'versions[0].scaling')).toBe(true);
    expect(namesField('budget.workersX', 'budget.workers')).toBe(false);
  });

  test('a pipeline schedule in a time zone the tz database does not know is rejected (found by this fuzzer)', () => {
    const [s] = fc.sample(scenario({ pipelines: 1 }).filter((x) => x.pipelines.length > 0), { numRuns: 1, seed: 4 });
    const bad = { ...s, pipelines: [{ ...s.pipelines[0], props: { ...s.pipelines[0].props, schedule: { cron: '0 3 * * *', timezone: 'Mars/Olympus' } } }] };
    expect(checkInvalid({ construct: 'TrainingPipeline', path: 'schedule.timezone', value: 'Mars/Olympus', scenario: bad })).toBeUndefined();
  });
});

// Property 1 (a few runs here; `npm run fuzz` runs 10,000): every valid configuration of the four
// constructs synthesizes objects that pass the strict validator and PSS restricted, deterministically.
import * as fc from 'fast-check';
import { scenario } from './arbitraries/scenario';
import { checkValid, synthScenario } from './properties';

const RUNS = Number(process.env.FUZZ_TEST_RUNS ?? 10);

beforeAll(() => {
  // Capacity warnings (pools smaller than a peak) are expected for random platforms.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('fuzz: valid configurations', () => {
  test('synthesize strict-valid, PSS-restricted objects, byte-equal across two syntheses', () => {
    fc.assert(fc.property(scenario(), (s) => {
      expect(checkValid(s)).toEqual([]);
    }), { numRuns: RUNS, seed: 20261127 });
  });

  test('the arbitraries reach every construct and the variants the issue lists', () => {
    const kinds = new Set<string>();
    for (const s of fc.sample(scenario({ pipelines: 2, sweeps: 2, endpoints: 2 }), { numRuns: 60, seed: 9 })) {
      for (const p of s.platform.pools) kinds.add(p.options.sharing ? ('mig' in p.options.sharing ? 'pool:mig' : 'pool:time-slicing') : 'pool:whole');
      for (const t of s.platform.tenants) if (t.options.queue) kinds.add('tenant:queue');
      kinds.add(`store:${(s.platform.props.artifactStore as any)?.kind ?? 'embedded'}`);
      kinds.add(`exposure:${(s.platform.props.exposure as any)?.options?.kind ?? 'none'}`);
      for (const p of s.pipelines) {
        if (p.props.schedule) kinds.add('pipeline:schedule');
        for (const st of p.props.steps ?? []) {
          if ((st.nodes ?? 1) > 1) kinds.add('step:multi-node');
          if (st.forEach) kinds.add('step:fan-out');
          if (Object.keys(st.inputs ?? {}).length) kinds.add('step:inputs');
          if (st.registerModel) kinds.add('step:register');
        }
      }
      for (const w of s.sweeps) {
        if (w.props.parameters.some((p) => p.when)) kinds.add('sweep:conditional');
        kinds.add(`sampler:${w.props.sampler?.kind ?? 'tpe'}`);
        if (w.props.pruner && w.props.pruner.kind !== 'none') kinds.add('sweep:pruner');
        if (w.props.engine === 'katib') kinds.add('sweep:katib');
      }
      for (const e of s.endpoints) {
        if (e.props.versions.some((v) => v.weight !== undefined)) kinds.add('endpoint:canary');
        if (e.props.versions.some((v) => v.mirrorPercent !== undefined)) kinds.add('endpoint:mirror');
        if (e.props.kserve) kinds.add('endpoint:kserve');
        if ([e.props.scaling, ...e.props.versions.map((v) => v.scaling)].some((x: any) => x?.options?.kind === 'keda')) kinds.add('endpoint:keda');
        if ([e.props.scaling, ...e.props.versions.map((v) => v.scaling)].some((x: any) => x?.options?.kind === 'cpu')) kinds.add('endpoint:hpa');
      }
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining([
      'endpoint:canary', 'endpoint:hpa', 'endpoint:keda', 'endpoint:kserve', 'endpoint:mirror', 'exposure:gateway', 'exposure:ingress', 'exposure:none',
      'pipeline:schedule', 'pool:mig', 'pool:time-slicing', 'pool:whole', 'sampler:cmaes', 'sampler:grid', 'sampler:nsga2', 'sampler:qmc', 'sampler:random',
      'sampler:tpe', 'step:fan-out', 'step:inputs', 'step:multi-node', 'step:register', 'store:embedded', 'store:s3', 'sweep:conditional', 'sweep:katib', 'sweep:pruner',
      'tenant:queue',
    ]));
  });

  test('one configuration synthesizes the same YAML twice (the determinism half of the property, shown once)', () => {
    const [s] = fc.sample(scenario(), { numRuns: 1, seed: 1 });
    expect(synthScenario(s).yaml).toBe(synthScenario(s).yaml);
  });
});

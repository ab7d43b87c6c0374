// Property 1 (a few runs here; `npm run fuzz` runs 10,000): every valid configuration of the four
// constructs synthesizes objects that pass the strict validator and PSS restricted, deterministically.
import * as fc from 'fast-check';
import { Scenario, scenario } from './arbitraries/scenario';
import { checkValid, synthScenario } from './properties';
import { Dataset } from '../../src/core';

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
    for (const s of fc.sample(scenario({ pipelines: 2, sweeps: 2, endpoints: 2 }), { numRuns: 200, seed: 9 })) {
      const props = s.platform.props as any;
      if (props.exposure?.options?.apps) kinds.add('exposure:apps');
      if (props.catalog) kinds.add('platform:custom-catalog');
      if (props.addons?.values) kinds.add('addons:values');
      if (props.checks) kinds.add('platform:checks');
      if (s.grantDatasets === false) kinds.add('data-access:downgraded');
      for (const p of s.platform.pools) kinds.add(p.options.sharing ? ('mig' in p.options.sharing ? 'pool:mig' : 'pool:time-slicing') : 'pool:whole');
      for (const t of s.platform.tenants) if (t.options.queue) kinds.add('tenant:queue');
      kinds.add(`store:${(s.platform.props.artifactStore as any)?.kind ?? 'embedded'}`);
      kinds.add(`exposure:${(s.platform.props.exposure as any)?.options?.kind ?? 'none'}`);
      for (const p of s.pipelines) {
        if (p.props.schedule) kinds.add('pipeline:schedule');
        if (p.props.versions) kinds.add('pipeline:versions');
        if (p.props.checks) kinds.add('pipeline:checks');
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
        if (w.props.images) kinds.add('sweep:images');
        if (w.props.checks) kinds.add('sweep:checks');
        const dashboard = (w.props.dashboard as any)?.exposure?.options;
        if (dashboard) kinds.add(`dashboard:${dashboard.kind === 'ingress' ? 'ingress' : dashboard.gateway ? 'gateway' : 'apps'}`);
      }
      for (const e of s.endpoints) {
        if (e.props.versions.some((v) => v.weight !== undefined)) kinds.add('endpoint:canary');
        if (e.props.versions.some((v) => v.mirrorPercent !== undefined)) kinds.add('endpoint:mirror');
        if (e.props.kserve) kinds.add('endpoint:kserve');
        if ([e.props.scaling, ...e.props.versions.map((v) => v.scaling)].some((x: any) => x?.options?.kind === 'keda')) kinds.add('endpoint:keda');
        if ([e.props.scaling, ...e.props.versions.map((v) => v.scaling)].some((x: any) => x?.options?.kind === 'cpu')) kinds.add('endpoint:hpa');
        if (e.props.logging) kinds.add('endpoint:logging');
        if (e.props.versions.some((v) => v.logging)) kinds.add('version:logging');
        if (e.props.versions.some((v) => v.logging === false)) kinds.add('version:logging-off');
        if (e.props.checks) kinds.add('endpoint:checks');
        if (e.fromPipeline && s.pipelines.length) kinds.add(`endpoint:pipeline-model${e.fromPipeline.grant ? '-granted' : ''}`);
        const exposure = (e.props.exposure as any)?.options;
        if (exposure?.kind === 'gateway' && !exposure.gateway) kinds.add('endpoint:apps');
        if (exposure?.grpcHost) kinds.add('endpoint:grpc');
      }
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining([
      'endpoint:canary', 'endpoint:hpa', 'endpoint:keda', 'endpoint:kserve', 'endpoint:mirror', 'exposure:gateway', 'exposure:ingress', 'exposure:none',
      'pipeline:schedule', 'pool:mig', 'pool:time-slicing', 'pool:whole', 'sampler:cmaes', 'sampler:grid', 'sampler:nsga2', 'sampler:qmc', 'sampler:random',
      'sampler:tpe', 'step:fan-out', 'step:inputs', 'step:multi-node', 'step:register', 'store:embedded', 'store:s3', 'sweep:conditional', 'sweep:katib', 'sweep:pruner',
      'tenant:queue',
      'addons:values', 'dashboard:apps', 'dashboard:gateway', 'dashboard:ingress', 'data-access:downgraded', 'endpoint:apps', 'endpoint:checks', 'endpoint:grpc',
      'endpoint:logging', 'endpoint:pipeline-model', 'endpoint:pipeline-model-granted', 'exposure:apps', 'pipeline:checks', 'pipeline:versions', 'platform:checks',
      'platform:custom-catalog', 'sweep:checks', 'sweep:images', 'version:logging', 'version:logging-off',
    ]));
  });

  describe('synth-time checks', () => {
    // A scenario whose pipeline's first step also reads a bucket dataset: a prefix of the platform's store only a grant opens.
    const [sample] = fc.sample(scenario({ pipelines: 1 }).filter((x) => x.pipelines.length > 0), { numRuns: 1, seed: 3 });
    const bucket = Dataset.fromBucket({ prefix: 'datasets/cifar10', version: 'v3' });
    const withoutGrant = (downgrade: boolean): Scenario => ({
      ...sample,
      grantDatasets: false,
      platform: { ...sample.platform, props: { ...sample.platform.props, checks: undefined } },
      pipelines: sample.pipelines.map((p) => {
        const { checks, steps, ...rest } = p.props as any;
        const withInput = [{ ...steps[0], inputs: { ...steps[0].inputs, cifar: bucket }, cache: undefined }, ...steps.slice(1)];
        return { ...p, props: { ...rest, steps: withInput, ...(downgrade ? { checks: { 'data-access': 'warning' } } : {}) } };
      }),
    });

    test('a pipeline reading a bucket dataset without a grant fails synthesis (data-access)', () => {
      expect(() => synthScenario(withoutGrant(false))).toThrow(/error \(data-access\): .*datasets\/cifar10/);
    });

    test("with the data-access check downgraded to 'warning', the same scenario synthesizes strict-valid objects", () => {
      expect(checkValid(withoutGrant(true))).toEqual([]);
    });
  });

  test('one configuration synthesizes the same YAML twice (the determinism half of the property, shown once)', () => {
    const [s] = fc.sample(scenario(), { numRuns: 1, seed: 1 });
    expect(synthScenario(s).yaml).toBe(synthScenario(s).yaml);
  });
});

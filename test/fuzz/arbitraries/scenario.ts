// A whole configuration: a platform (props, pools, tenants) and the workloads that run on it.
import { Chart } from 'cdk8s';
import * as fc from 'fast-check';
import { PlatformConfig, platformConfig, platformFacts } from './ml-platform';
import { EndpointConfig, endpointConfig } from './model-endpoint';
import { PipelineConfig, pipelineConfig } from './training-pipeline';
import { SweepConfig, sweepConfig } from './tuning-sweep';
import { MlPlatform, ModelEndpoint, TrainingPipeline, TuningSweep } from '../../../src/cdk8s';

/** A platform and its workloads, in declaration order. */
export interface Scenario {
  readonly platform: PlatformConfig;
  readonly pipelines: readonly PipelineConfig[];
  readonly sweeps: readonly SweepConfig[];
  readonly endpoints: readonly EndpointConfig[];
}

/** Sizes of a scenario's workload lists. */
export interface ScenarioSizes {
  readonly pipelines?: number;
  readonly sweeps?: number;
  readonly endpoints?: number;
}

/** A valid scenario: a platform and up to `max` workloads of each construct. */
export function scenario(max: ScenarioSizes = { pipelines: 1, sweeps: 1, endpoints: 1 }): fc.Arbitrary<Scenario> {
  return platformConfig.chain((platform) => {
    const f = platformFacts(platform);
    const list = <T>(n: number | undefined, one: (i: number) => fc.Arbitrary<T>) =>
      fc.integer({ min: 0, max: n ?? 0 }).chain((k) => (k === 0 ? fc.constant([] as T[]) : fc.tuple(...Array.from({ length: k }, (_, i) => one(i)))));
    return fc.record({
      platform: fc.constant(platform),
      pipelines: list(max.pipelines, (i) => pipelineConfig(f, i)),
      sweeps: list(max.sweeps, (i) => sweepConfig(f, i)),
      endpoints: list(max.endpoints, (i) => endpointConfig(f, i)),
    });
  });
}

/** The constructs built from a scenario. */
export interface Built {
  readonly platform: MlPlatform;
  readonly pipelines: TrainingPipeline[];
  readonly sweeps: TuningSweep[];
  readonly endpoints: ModelEndpoint[];
}

/** Declares every construct of `s` in `chart`: platform, pools, tenants, then the workloads. */
export function build(chart: Chart, s: Scenario): Built {
  const platform = new MlPlatform(chart, s.platform.id, s.platform.props);
  for (const p of s.platform.pools) platform.addGpuPool(p.name, p.options);
  for (const t of s.platform.tenants) platform.addTenant(t.name, t.options);
  // Bucket datasets and DVC remotes hold data put there by other means than a pipeline: grant the pipelines read access.
  const granted = ['datasets', 'raw', 'dvc', 'dvc-cache'].map((prefix) => platform.storeLocation(prefix));
  const pipelines = s.pipelines.map((p) => {
    const pipeline = new TrainingPipeline(chart, p.id, { ...p.props, platform });
    for (const location of granted) location.grantRead(pipeline);
    return pipeline;
  });
  return {
    platform,
    pipelines,
    sweeps: s.sweeps.map((w) => new TuningSweep(chart, w.id, { ...w.props, platform })),
    endpoints: s.endpoints.map((e) => new ModelEndpoint(chart, e.id, { ...e.props, platform })),
  };
}

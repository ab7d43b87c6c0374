// A whole configuration: a platform (props, pools, tenants) and the workloads that run on it.
import { Chart } from 'cdk8s';
import * as fc from 'fast-check';
import { PlatformConfig, platformConfig, platformFacts } from './ml-platform';
import { EndpointConfig, endpointConfig } from './model-endpoint';
import { PipelineConfig, pipelineConfig } from './training-pipeline';
import { SweepConfig, sweepConfig } from './tuning-sweep';
import { MlPlatform, ModelEndpoint, TrainingPipeline, TuningSweep } from '../../../src/cdk8s';
import { ModelSource } from '../../../src/core';

/** A platform and its workloads, in declaration order. */
export interface Scenario {
  readonly platform: PlatformConfig;
  readonly pipelines: readonly PipelineConfig[];
  readonly sweeps: readonly SweepConfig[];
  readonly endpoints: readonly EndpointConfig[];
  /**
   * Whether the pipelines are granted read access to the bucket datasets and DVC remotes
   * (`platform.storeLocation(prefix).grantRead(pipeline)`). Without the grants, each pipeline
   * downgrades the data-access check to a warning (`checks: { 'data-access': 'warning' }`), so
   * synthesis still succeeds. @default true
   */
  readonly grantDatasets?: boolean;
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
      grantDatasets: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }).map((s) => (s.grantDatasets ? s : {
      ...s,
      pipelines: s.pipelines.map((p) => ({ ...p, props: { ...p.props, checks: { ...p.props.checks, 'data-access': 'warning' as const } } })),
    }));
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
    if (s.grantDatasets !== false) for (const location of granted) location.grantRead(pipeline);
    return pipeline;
  });
  const endpoints = s.endpoints.map((e) => {
    const source = e.fromPipeline ? pipelines[0] : undefined;
    if (!source) return new ModelEndpoint(chart, e.id, { ...e.props, platform });
    // The stable version serves what the pipeline wrote (under its artifacts prefix), read with the store's credentials.
    const model = ModelSource.uri(`${source.artifacts.uri}model`);
    const endpoint = new ModelEndpoint(chart, e.id, { ...e.props, platform, versions: [{ ...e.props.versions[0], model }, ...e.props.versions.slice(1)] });
    if (e.fromPipeline!.grant || source.namespace !== endpoint.spec.namespace) source.artifacts.grantRead(endpoint);
    return endpoint;
  });
  return {
    platform,
    pipelines,
    sweeps: s.sweeps.map((w) => new TuningSweep(chart, w.id, { ...w.props, platform })),
    endpoints,
  };
}

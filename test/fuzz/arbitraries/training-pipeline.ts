// Arbitraries of TrainingPipeline props: DAGs of single-node, fan-out and multi-node GPU steps with
// datasets, artifacts, parameters, retries, caching, schedules, exit handlers and model registration.
import * as fc from 'fast-check';
import { compact, dnsLabel, duration, env, image, secretRef } from './common';
import { checkSeverities, type PlatformFacts } from './ml-platform';
import { cpuCompute, gpuPlacement, landsOn } from './workload';
import type { TrainingPipelineProps } from '../../../src/cdk8s';
import { Dataset, parameterRef, StepDefinition } from '../../../src/core';

/** A pipeline declaration: construct id and props (without `platform`, which the scenario adds). */
export interface PipelineConfig {
  readonly id: string;
  readonly props: Omit<TrainingPipelineProps, 'platform'>;
}

const dvc = fc.record({
  repository: fc.constantFrom('https://github.com/acme/data.git', 'ssh://git@gitlab.example.com/ml/data.git', 'git@github.com:acme/vision-data.git'),
  revision: fc.constantFrom('v2024.05', '4f6c2a1d9e0b7c3a5f8e2d1c0b9a8f7e6d5c4b3a', 'release-3', 'v1.0.0'),
  path: fc.constantFrom('data/train', 'imagenet/val', 'corpus'),
  remote: fc.option(fc.constantFrom('dvc/vision', 'dvc-cache'), { nil: undefined }),
  image: fc.option(image, { nil: undefined }),
}, { requiredKeys: ['repository', 'revision', 'path'] }).map((o) => Dataset.fromDvc(o));

const bucket = fc.record({
  prefix: fc.constantFrom('datasets/cifar10', 'datasets/imagenet/', 'raw/events'),
  version: fc.constantFrom('v3', '2024-05-01', 'snapshot.7'),
}).map((o) => Dataset.fromBucket(o));

const retry = fc.record({
  limit: fc.integer({ min: 0, max: 5 }),
  policy: fc.option(fc.constantFrom('Always', 'OnFailure', 'OnError', 'OnTransientError') as fc.Arbitrary<'Always'>, { nil: undefined }),
  backoff: fc.option(fc.record({
    duration: duration(1, 600),
    factor: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    maxDuration: fc.option(duration(600, 7200), { nil: undefined }),
  }, { requiredKeys: ['duration'] }), { nil: undefined }),
}, { requiredKeys: ['limit'] });

interface Draft {
  readonly kind: 'single' | 'fanout' | 'multinode';
  readonly suffix: string;
  readonly outputs: readonly string[];
}

/** Pipeline props for platform `f`, with up to `maxSteps` steps. */
export function pipelineConfig(f: PlatformFacts, index: number, maxSteps = 5): fc.Arbitrary<PipelineConfig> {
  const multiPools = f.pools.filter((p) => p.maxNodes >= 2);
  const kinds: Draft['kind'][] = multiPools.length ? ['single', 'single', 'fanout', 'multinode'] : ['single', 'single', 'fanout'];
  return fc.record({
    name: dnsLabel(16),
    tenant: fc.constantFrom(...f.tenants),
    omitNamespace: fc.boolean(),
    params: fc.uniqueArray(fc.tuple(fc.constantFrom('epochs', 'lr', 'mode', 'batch'), fc.constantFrom('10', '0.1', 'fast', '64'), fc.boolean()), {
      maxLength: 3,
      selector: ([n]) => n,
    }),
    drafts: fc.array(fc.record({
      kind: fc.constantFrom(...kinds),
      suffix: fc.constantFrom('', '-prep', '-train', '-eval'),
      outputs: fc.subarray(['model', 'metrics',
        'shards']),
    }), { minLength: 1, maxLength: maxSteps }),
  }).chain((r) => {
    const name = `p${index}-${r.name}`;
    const params = r.params.map(([n, d, e]) => ({ name: n, default: d, enum: e ? [d, 'other'] : undefined }));
    const stepNames = r.drafts.map((d, i) => `s${i}${d.suffix}`);
    const steps = r.drafts.map((d, i) => stepArb(f, d, i, stepNames, r.drafts, params.map((p) => p.name), multiPools));
    return fc.record({
      steps: fc.tuple(...steps),
      experiment: fc.option(fc.constantFrom('resnet50-imagenet', 'Churn model / weekly'), { nil: undefined }),
      schedule: fc.option(fc.record({
        cron: fc.oneof(fc.constantFrom('0 3 * * *', '*/15 * * * *'), fc.constant(['0 3 * * 1-5', '0 6 * * 0'])),
        timezone: fc.option(fc.constantFrom('Europe/Berlin', 'UTC', 'America/New_York'), { nil: undefined }),
        concurrencyPolicy: fc.option(fc.constantFrom('Allow', 'Forbid', 'Replace') as fc.Arbitrary<'Allow'>, { nil: undefined }),
        startingDeadline: fc.option(duration(60, 3600), { nil: undefined }),
        successfulRunsHistory: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        failedRunsHistory: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        suspend: fc.option(fc.boolean(), { nil: undefined }),
        parameters: params.length ? fc.option(fc.constant({ [params[0].name]: params[0].default }), { nil: undefined }) : fc.constant(undefined),
      }, { requiredKeys: ['cron'] }).map(compact), { nil: undefined }),
      timeout: fc.option(duration(60, 48 * 3600), { nil: undefined }),
      parallelism: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      retention: fc.option(fc.record({
        afterSuccess: fc.option(duration(60, 86400 * 3), { nil: undefined }),
        afterFailure: fc.option(duration(60, 86400 * 14),
          { nil: undefined }),
      }).map(compact), { nil: undefined }),
      podGc: fc.option(fc.constantFrom('OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess') as fc.Arbitrary<'OnPodSuccess'>,
        { nil: undefined }),
      onExit: fc.option(fc.record({
        image,
        command: fc.constant(['sh', '-c', 'echo "run {{workflow.name}} ended: {{workflow.status}}"']),
        retry: fc.option(retry.map(compact), { nil: undefined }),
      }).map(compact), { nil: undefined }),
      codeRevision: fc.option(fc.constantFrom('4f6c2a1d9e0b7c3a5f8e2d1c0b9a8f7e6d5c4b3a', 'v2.3.1'), { nil: undefined }),
      // Helper-step images from a mirror (MLflow registers models, the DVC image fetches datasets).
      versions: fc.option(fc.record({ mlflow: image, dvc: image }, { requiredKeys: [] }).map((images) => ({ images })), { nil: undefined, freq: 4 }),
      checks: fc.option(checkSeverities, { nil: undefined, freq: 4 }),
    }).map((o) => ({
      id: name,
      props: compact({
        ...o,
        ...(r.omitNamespace && f.tenants[0] === r.tenant ? {} : { namespace: r.tenant.namespace }),
        parameters: params.length ? Object.fromEntries(params.map((p) => [p.name, compact({
          default: p.default,
          enum: p.enum,
          description: p.name === 'lr' ? 'learning rate' : undefined,
        })])) : undefined,
        steps: o.steps,
      }) as PipelineConfig['props'],
    }));
  });
}

function stepArb(f: PlatformFacts, d: Draft, i: number, names: readonly string[], drafts: readonly Draft[], params: readonly string[],
  multiPools: PlatformFacts['pools']): fc.Arbitrary<StepDefinition> {
  const name = names[i];
  const earlier = names.slice(0, i);
  // Earlier single-node, non-fan-out steps with outputs can feed artifacts.
  const producers = earlier.flatMap((n, j) => (drafts[j].kind === 'single' ? drafts[j].outputs.map((o) => ({ step: n, output: o })) : []));
  const paramArgs = params.length ? fc.subarray(params.map((p) => ['--' + p, parameterRef(p)])).map((xs) => xs.flat()) : fc.constant([] as string[]);
  const common = {
    image,
    env: fc.option(env, { nil: undefined }),
    secretEnv: fc.option(fc.dictionary(fc.constantFrom('WANDB_API_KEY', 'HF_TOKEN'), secretRef, { maxKeys: 2 }), { nil: undefined }),
    after: fc.subarray(earlier as string[]),
    retry: fc.option(retry.map(compact), { nil: undefined }),
    timeout: fc.option(duration(1, 24 * 3600), { nil: undefined }),
    runAsUser: fc.option(fc.integer({ min: 1, max: 65534 }), { nil: undefined }),
    compute: cpuCompute,
  };
  if (d.kind === 'multinode') {
    const placement = gpuPlacement(f, multiPools, 8);
    return fc.record({
      ...common,
      placement,
      nodes: fc.integer({ min: 2, max: 4 }),
      dataset: fc.option(dvc, { nil: undefined }),
      distributed: fc.option(fc.record({
        backend: fc.option(fc.constantFrom('job', 'pytorchjob', 'jobset') as fc.Arbitrary<'job'>, { nil: undefined }),
        restarts: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        port: fc.option(fc.integer({ min: 1024, max: 65535 }),
          { nil: undefined }),
      }).map(compact), { nil: undefined }),
      args: paramArgs,
    }).map((r) => {
      const pool = landsOn(f, r.placement);
      const nodes = pool ? Math.min(r.nodes, pool.maxNodes) : r.nodes;
      return compact({
        name,
        image: r.image,
        env: r.env,
        secretEnv: r.secretEnv,
        after: r.after.length ? r.after : undefined,
        retry: r.retry,
        timeout: r.timeout,
        runAsUser: r.runAsUser,
        ...r.placement,
        nodes,
        command: ['-m', 'trainer.main'],
        args: r.args.length ? r.args : undefined,
        inputs: r.dataset ? { data: r.dataset } : undefined,
        distributed: r.distributed,
      }) as StepDefinition;
    });
  }
  const gpu = f.pools.length ? fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: gpuPlacement(f, f.pools, 2) }) : fc.constant(undefined);
  return fc.record({
    ...common,
    gpu,
    command: fc.option(fc.constantFrom(['python', '-m', 'train'], ['/app/run.sh']), { nil: undefined }),
    args: paramArgs,
    inputs: fc.dictionary(fc.constantFrom('raw', 'train', 'val'), fc.oneof(dvc, bucket, ...(producers.length ? [fc.constantFrom(...producers)] : [])), { maxKeys: 2 }),
    outputParameters: fc.subarray(['accuracy', 'loss']),
    cache: fc.option(fc.record({ maxAge: duration(60, 86400 * 7) }), { nil: undefined }),
    when: params.length ? fc.option(fc.constant(`${parameterRef(params[0])} != skip`), { nil: undefined }) : fc.constant(undefined),
    register: fc.option(fc.record({
      name: fc.constantFrom('resnet50', 'churn model', 'bert.base'),
      alias: fc.option(fc.constantFrom('candidate', 'nightly'),
        { nil: undefined }),
    }).map(compact), { nil: undefined }),
    forEachItems: fc.array(fc.oneof(fc.constantFrom('a', 'b', 'shard-1'), fc.integer({ min: 0, max: 99 })), { minLength: 1, maxLength: 4 }),
  }).map((r) => {
    const inputs = Object.entries(r.inputs);
    const after = new Set(r.after);
    for (const [, src] of inputs) if (!(src instanceof Dataset)) after.add((src as { step: string }).step);
    const fanout = d.kind === 'fanout';
    const outputs = [...d.outputs];
    const registerModel = r.register && !fanout && outputs.length ? { output: outputs[0], ...r.register } : undefined;
    return compact({
      name,
      image: r.image,
      env: r.env,
      secretEnv: r.secretEnv,
      retry: r.retry,
      timeout: r.timeout,
      runAsUser: r.runAsUser,
      after: after.size ? [...after] : undefined,
      ...(r.gpu ?? r.compute),
      command: r.command,
      args: fanout ? [...r.args, '--item', '{{item}}'] : r.args.length ? r.args : undefined,
      inputs: inputs.length ? Object.fromEntries(inputs) : undefined,
      outputs: outputs.length ? outputs : undefined,
      outputParameters: r.outputParameters.length ? r.outputParameters : undefined,
      // A cached step must not read artifacts of uncached steps (they may change between runs): cache only steps without artifact inputs.
      cache: inputs.every(([, src]) => src instanceof Dataset) ? r.cache : undefined,
      when: r.when,
      forEach: fanout ? r.forEachItems : undefined,
      registerModel,
    }) as StepDefinition;
  });
}



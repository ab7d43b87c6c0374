import { ApiObject, Chart, JsonPatch, Testing } from 'cdk8s';
import { buildFixture } from './fixture';
import { Cpu, Size } from '../../src/core';
import { expectValidManifests } from '../support/expect-valid';
import { MlPlatform, TrainingPipeline } from 'mlplatform/cdk8s';
import { checkTemplate, installMatchers, mlplatformMatchers, schemasDir } from 'mlplatform/testing';

installMatchers();

/** The failure message jest prints for `run()`. */
function failure(run: () => void): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the expectation passed');
}

/** A chart with one raw Deployment whose pod breaks Pod Security in the given way. */
function rawDeployment(securityContext: Record<string, unknown>, podSecurityContext: Record<string, unknown> = {}): Chart {
  const chart = new Chart(Testing.app(), 'raw');
  new ApiObject(chart, 'web', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          securityContext: podSecurityContext,
          containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.0.0', securityContext, resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } } }],
        },
      },
    },
  });
  return chart;
}

const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, readOnlyRootFilesystem: true };

describe('the fixture platform passes every matcher', () => {
  const { chart } = buildFixture();

  test('its manifests are valid (strict schemas + PSS restricted)', () => {
    expectValidManifests(chart.toJson());
    expect(chart).toHaveValidManifests();
  });

  test('schedulable, checks pass, 6 GPUs at peak, under $5/hour, PSS restricted', () => {
    expect(chart).toBeSchedulable();
    expect(chart).toPassChecks();
    expect(chart).toRequestGpus(6);
    expect(chart).toRequestGpus(6, { pool: 'a10g' });
    expect(chart).toRequestGpus(0, { pool: 'h100' });
    expect(chart).toStayUnderHourlyCost(5);
    expect(chart).toPassPodSecurity('restricted');
    expect(chart).toPassPodSecurity('baseline');
    expect(chart).toPassPodSecurity();
  });

  test('the negated matchers explain why they fail, with the numbers', () => {
    expect(failure(() => expect(chart).not.toBeSchedulable())).toMatch(/but all \d+ units \(5 with GPUs\) fit their pools \("a10g", "h100"\) and tenant quotas/);
    expect(failure(() => expect(chart).not.toRequestGpus(6))).toContain('expected the workloads not to request 6 GPUs at peak, but they do:\n  - TrainingPipeline team/train step "fit": 1 × 1 nvidia-a10g on pool "a10g" = 1');
    expect(failure(() => expect(chart).not.toStayUnderHourlyCost(5))).toContain('expected the GPU pools to cost more than $5.00/hour at peak, but they cost $4.85');
    expect(failure(() => expect(chart).not.toPassPodSecurity())).toMatch(/expected some pod to break Pod Security "restricted", but all \d+ objects pass/);
  });
});

describe('failure messages name the workload, the pool and the numbers', () => {
  test('toBeSchedulable: a 16-core step on an 8-vCPU g5.2xlarge pool', () => {
    const { chart } = buildFixture({ fitCpu: Cpu.cores(16) });
    const message = failure(() => expect(chart).toBeSchedulable());
    expect(message).toContain('expected every workload to be schedulable, but 1 finding says otherwise:');
    expect(message).toMatch(/- error \(schedulability\): TrainingPipeline team\/train step "fit" cannot be scheduled on pool "a10g" \(g5\.2xlarge\): .*16000m CPU/);
    expect(message).toContain('Fix: ');
    expect(failure(() => expect(chart).toPassChecks())).toMatch(/expected the synth-time checks to pass, but 1 failed:\n {2}- error \(schedulability\): TrainingPipeline team\/train step "fit"/);
  });

  test('toBeSchedulable: 5 sweep workers × 1 GPU on a 4-node pool, above a quota of 4', () => {
    const { chart } = buildFixture({ sweepWorkers: 5 });
    const message = failure(() => expect(chart).toBeSchedulable());
    expect(message).toMatch(/warning \(capacity\): TuningSweep team\/hp worker .*5 parallel workers × 1 nvidia\.com\/gpu = 5 at once, but pool "a10g" .*at most 4/);
    expect(message).toMatch(/error \(tenancy\): TuningSweep team\/hp.* 5 GPUs of pool "a10g" .*tenant "team" may use 4/);
  });

  test('toRequestGpus: every GPU unit with pods × GPUs and its pool', () => {
    const { chart } = buildFixture();
    expect(failure(() => expect(chart).toRequestGpus(4))).toContain([
      'expected the workloads to request 4 GPUs at peak, but they request 6:',
      '  - TrainingPipeline team/train step "fit": 1 × 1 nvidia-a10g on pool "a10g" = 1',
      '  - TuningSweep team/hp worker: 2 × 1 nvidia-a10g on pool "a10g" = 2',
      '  - ModelEndpoint team/serve version "stable": 1 × 1 nvidia-a10g on pool "a10g" = 1',
      '  - ModelEndpoint team/serve version "canary": 1 × 1 nvidia-a10g on pool "a10g" = 1',
      '  - ModelEndpoint team/serve version "shadow": 1 × 1 nvidia-a10g on pool "a10g" = 1',
    ].join('\n'));
    expect(failure(() => expect(chart).toRequestGpus(8, { pool: 'h100' }))).toBe(
      'expected the workloads to request 8 GPUs on pool "h100" at peak, but they request 0:\n  (no GPU workload)');
  });

  test('toStayUnderHourlyCost: nodes × catalog price per pool', () => {
    const { chart } = buildFixture();
    expect(failure(() => expect(chart).toStayUnderHourlyCost(4))).toBe([
      'expected the GPU pools to cost at most $4.00/hour at peak, but they cost $4.85:',
      '  - pool "a10g": 4 nodes × g5.2xlarge $1.212/h = $4.85/h (peak demand 6 of 4 nvidia.com/gpu)',
      '  - pool "h100": 0 nodes × p5.48xlarge $55.04/h = $0.00/h (peak demand 0 of 16 nvidia.com/gpu)',
    ].join('\n'));
  });

  test('toStayUnderHourlyCost: a pool whose instance type has no price (p5e.48xlarge) fails', () => {
    const chart = new Chart(Testing.app(), 'h200');
    const platform = new MlPlatform(chart, 'ml');
    platform.addGpuPool('h200', { accelerator: 'nvidia-h200-141gb', instanceType: 'p5e.48xlarge', maxNodes: 1 });
    platform.addTenant('team', { quota: { cpu: Cpu.cores(256), memory: Size.gibibytes(2048), gpus: { h200: 8 } } });
    const pipeline = new TrainingPipeline(chart, 'big', { platform, namespace: 'team' });
    pipeline.addStep('fit', { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'fit.py'], gpus: 8, accelerator: 'nvidia-h200-141gb', cpu: Cpu.cores(32), memory: Size.gibibytes(256) });
    expect(chart).toRequestGpus(8);
    expect(failure(() => expect(chart).toStayUnderHourlyCost(1000))).toBe([
      'expected the GPU pools to cost at most $1000.00/hour at peak, but pool "h200" (p5e.48xlarge) has no price:',
      '  - pool "h200": 1 × p5e.48xlarge, no price in the catalog',
    ].join('\n'));
  });

  test('toPassPodSecurity: names the object, the field and the rule; baseline tolerates what restricted does not', () => {
    const chart = rawDeployment({ ...RESTRICTED, runAsNonRoot: undefined, capabilities: undefined });
    const message = failure(() => expect(chart).toPassPodSecurity('restricted'));
    expect(message).toMatch(/^expected every pod to pass Pod Security "restricted", but \d+ fields? do(es)? not:/);
    expect(message).toMatch(/- Deployment\/web spec\.template\.spec(\.containers\[0\])?[^:]*: PSS restricted: .*runAsNonRoot/);
    expect(message).toMatch(/- Deployment\/web spec\.template\.spec\.containers\[0\][^:]*: PSS restricted: .*drop/);
    expect(chart).toPassPodSecurity('baseline');
    const privileged = rawDeployment({ ...RESTRICTED, privileged: true });
    expect(failure(() => expect(privileged).toPassPodSecurity('baseline'))).toMatch(/- Deployment\/web spec\.template\.spec\.containers\[0\]\.securityContext\.privileged: PSS baseline: /);
  });

  test('toHaveValidManifests: strict schemas list every error', () => {
    const chart = rawDeployment(RESTRICTED);
    const web = chart.node.findChild('web') as ApiObject;
    web.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/imagePulPolicy', 'Always'));
    expect(failure(() => expect(chart).toHaveValidManifests())).toMatch(
      /expected all 1 manifests to pass strict validation, but 1 error:\n {2}- Deployment\/web spec\.template\.spec\.containers\[0\]: unknown field "imagePulPolicy" \[schema\]/);
  });

  test('a value that is not a construct is reported as such', () => {
    expect(failure(() => expect(42).toBeSchedulable())).toContain('toBeSchedulable: expected a Chart, an App or another construct holding mlplatform constructs, received 42');
    expect(failure(() => expect({}).toRequestGpus(1))).toContain('received [object Object]');
  });
});

describe('checkTemplate and installMatchers', () => {
  test('checkTemplate synthesizes the chart like chart.toJson(), validates it strictly and runs the checks', () => {
    const valid = buildFixture().chart;
    expect(checkTemplate(valid).manifests).toEqual(valid.toJson());
    // A failing check makes chart.toJson() throw; checkTemplate still returns the manifests and the finding.
    const { chart } = buildFixture({ fitCpu: Cpu.cores(16) });
    expect(() => chart.toJson()).toThrow(/error \(schedulability\): TrainingPipeline team\/train step "fit"/);
    const result = checkTemplate(chart, { schemasDir: schemasDir() });
    expect(result.manifests.length).toBe(valid.toJson().length);
    expect(result.validationErrors).toEqual([]);
    expect(result.validation.objects).toBe(result.manifests.length);
    expect(result.findings.map((f) => `${f.severity} ${f.check} ${f.workload}`)).toEqual(['error schedulability TrainingPipeline team/train step "fit"']);
    expect(result.report.markdown).toContain('## Check findings');
  });

  test('checkTemplate with a schemasDir that lacks the files says how to fix it', () => {
    const { chart } = buildFixture();
    expect(() => checkTemplate(chart, { schemasDir: '/nonexistent/schemas' })).toThrow(/schemasDir=\/nonexistent\/schemas: no such folder[\s\S]*MLPLATFORM_SCHEMAS_DIR/);
  });

  test('installMatchers needs jest\'s expect', () => {
    const g = globalThis as { expect?: unknown };
    const saved = g.expect;
    let error: unknown;
    g.expect = undefined;
    try {
      installMatchers();
    } catch (e) {
      error = e;
    } finally {
      g.expect = saved;
    }
    expect(String(error)).toContain('installMatchers() needs jest\'s global `expect`: call it in a test file or a setupFilesAfterEnv file');
    expect(Object.keys(mlplatformMatchers).sort()).toEqual(['toBeSchedulable', 'toHaveValidManifests', 'toPassChecks', 'toPassPodSecurity', 'toRequestGpus', 'toStayUnderHourlyCost']);
  });
});

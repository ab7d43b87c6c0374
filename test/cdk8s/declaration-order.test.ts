// Issue #21 item 8: the order in which pools, tenants and workloads are declared must not change what is
// synthesized. Pools and tenants are ordered lists of their own (the first fitting pool places a GPU
// workload; a pipeline without `namespace` runs in the first tenant's) and a declaration must follow
// what it names (a tenant the pools of its GPU quota, a workload its tenant and the pools offering its
// accelerator: both are validation errors otherwise). Every interleaving that keeps those rules must
// give the same objects, byte for byte.
import { ApiObject, Chart, JsonPatch, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { checkPlatform } from '../../src/cdk8s/checks';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { ModelEndpoint } from '../../src/cdk8s/model-endpoint';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { TuningSweep } from '../../src/cdk8s/tuning-sweep';
import { Cpu, ModelSource, Scaling, Size } from '../../src/core';
import { checkTemplate } from '../../src/testing/template';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

interface Declaration {
  readonly id: string;
  readonly kind: 'pool' | 'tenant' | 'workload';
  /** Declarations it names, which must come first. */
  readonly after: readonly string[];
  readonly declare: (chart: Chart, ml: MlPlatform) => void;
}

const DECLARATIONS: readonly Declaration[] = [
  { id: 'pool:a10g', kind: 'pool', after: [], declare: (_, ml) => ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 }) },
  { id: 'pool:a100-mig', kind: 'pool', after: [], declare: (_, ml) => ml.addGpuPool('a100-mig', { accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, maxNodes: 2, sharing: { mig: '1g.10gb' } }) },
  { id: 'pool:l4-shared', kind: 'pool', after: [], declare: (_, ml) => ml.addGpuPool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 3, sharing: { timeSlicing: { replicas: 4 } } }) },
  {
    id: 'tenant:vision',
    kind: 'tenant',
    after: ['pool:a10g'],
    declare: (_, ml) => ml.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { a10g: 4 } }, queue: true }),
  },
  { id: 'tenant:ops', kind: 'tenant', after: [], declare: (_, ml) => ml.addTenant('ops', { queue: true }) },
  {
    id: 'tenant:nlp',
    kind: 'tenant',
    after: ['pool:l4-shared', 'pool:a100-mig'],
    declare: (_, ml) => ml.addTenant('nlp', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128), gpus: { 'l4-shared': 4, 'a100-mig': 8 } }, queue: true }),
  },
  {
    id: 'workload:train',
    kind: 'workload',
    after: ['tenant:vision', 'pool:a10g'],
    declare: (chart, ml) => new TrainingPipeline(chart, 'train', {
      platform: ml,
      namespace: 'vision',
      steps: [{ name: 'fit', image: IMAGE, command: ['python', 'fit.py'], gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(2), memory: Size.gibibytes(8) }],
    }),
  },
  {
    id: 'workload:sweep',
    kind: 'workload',
    after: ['tenant:nlp', 'pool:a100-mig'],
    declare: (chart, ml) => new TuningSweep(chart, 'lr', {
      platform: ml,
      namespace: 'nlp',
      trial: { image: IMAGE, command: ['python', 'train.py'], gpus: 1, accelerator: 'nvidia-a100-80gb', cpu: Cpu.cores(1), memory: Size.gibibytes(4) },
      parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 8, workers: 2 },
    }),
  },
  {
    id: 'workload:serve',
    kind: 'workload',
    after: ['tenant:nlp', 'pool:l4-shared'],
    declare: (chart, ml) => new ModelEndpoint(chart, 'serve', {
      platform: ml,
      namespace: 'nlp',
      resources: { cpu: Cpu.cores(1), memory: Size.gibibytes(4), gpus: 1, accelerator: 'nvidia-l4' },
      scaling: Scaling.fixed(1),
      versions: [{ name: 'stable', model: ModelSource.registry('serve', { alias: 'champion' }) }],
    }),
  },
  {
    id: 'workload:etl',
    kind: 'workload',
    after: ['tenant:ops'],
    declare: (chart, ml) => new TrainingPipeline(chart, 'etl', {
      platform: ml,
      namespace: 'ops',
      steps: [{ name: 'extract', image: IMAGE, command: ['python', 'etl.py'], cpu: Cpu.cores(1), memory: Size.gibibytes(2) }],
    }),
  },
];

/**
 * An order of the declarations: repeatedly, among those whose dependencies (what they name, and the
 * previous declaration of the same kind) are declared, the one with the highest priority.
 */
function orderBy(priorities: readonly number[]): Declaration[] {
  const done = new Set<string>();
  const out: Declaration[] = [];
  const previous = (d: Declaration) => DECLARATIONS.slice(0, DECLARATIONS.indexOf(d)).filter((x) => x.kind === d.kind).map((x) => x.id);
  while (out.length < DECLARATIONS.length) {
    const ready = DECLARATIONS.filter((d) => !done.has(d.id) && [...d.after, ...previous(d)].every((x) => done.has(x)));
    const next = ready.reduce((best, d) => (priorities[DECLARATIONS.indexOf(d)] > priorities[DECLARATIONS.indexOf(best)] ? d : best));
    done.add(next.id);
    out.push(next);
  }
  return out;
}

function build(order: readonly Declaration[]): Chart {
  const chart = new Chart(Testing.app(), 'test');
  const ml = new MlPlatform(chart, 'ml');
  for (const d of order) d.declare(chart, ml);
  return chart;
}

/** The synthesized objects (the validations run), each as YAML, in the order of their identity. */
function canonical(chart: Chart): string {
  const objects = Testing.synth(chart);
  const key = (o: any) => `${o.apiVersion}|${o.kind}|${o.metadata?.namespace ?? ''}|${o.metadata?.name}`;
  const keys = objects.map(key);
  expect(new Set(keys).size).toBe(keys.length);
  return objects.map((o) => [key(o), stringify(o)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, y]) => y).join('---\n');
}

describe('declaration order', () => {
  const reference = canonical(build(DECLARATIONS));

  test('the reference order synthesizes every flavor its ClusterQueues name', () => {
    const objects = Testing.synth(build(DECLARATIONS));
    const flavors = objects.filter((o) => o.kind === 'ResourceFlavor').map((o) => o.metadata.name).sort();
    expect(flavors).toEqual(['ml-a100-mig', 'ml-a10g', 'ml-default', 'ml-l4-shared']);
  });

  test('a GPU pool declared after a queued tenant: the next tenant\'s ClusterQueue names a flavor that is emitted, and the quotas list the pool\'s resource', () => {
    const chart = new Chart(Testing.app(), 'test');
    const ml = new MlPlatform(chart, 'ml');
    ml.addTenant('ops', { queue: true });
    ml.addGpuPool('a100-mig', { accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, maxNodes: 2, sharing: { mig: '1g.10gb' } });
    ml.addTenant('nlp', { quota: { gpus: { 'a100-mig': 8 } }, queue: true });
    const objects = Testing.synth(chart);
    const cq = objects.find((o) => o.kind === 'ClusterQueue' && o.metadata.name === 'ml-nlp');
    expect(cq.spec.resourceGroups[1]).toEqual({ coveredResources: ['nvidia.com/mig-1g.10gb'], flavors: [{ name: 'ml-a100-mig', resources: [{ name: 'nvidia.com/mig-1g.10gb', nominalQuota: 8 }] }] });
    expect(objects.filter((o) => o.kind === 'ResourceFlavor').map((o) => o.metadata.name)).toEqual(['ml-default', 'ml-a100-mig']);
    // The tenant declared before the pool may not take its MIG slices either (no quota entry would mean no limit).
    expect(objects.find((o) => o.kind === 'ResourceQuota' && o.metadata.namespace === 'ops').spec.hard['requests.nvidia.com/mig-1g.10gb']).toBe('0');
    expect(checkTemplate(chart, { pss: false }).findings).toEqual([]);
  });

  test('a ClusterQueue naming a flavor that is not emitted fails synthesis and shows in checkTemplate (Kueue keeps it inactive)', () => {
    const chart = new Chart(Testing.app(), 'test');
    const ml = new MlPlatform(chart, 'ml');
    ml.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
    ml.addTenant('vision', { quota: { gpus: { a10g: 2 } }, queue: true });
    ml.node.tryRemoveChild('flavor-a10g');
    const message = 'ClusterQueue "ml-vision" names ResourceFlavor "ml-a10g", which the app does not declare: Kueue keeps the ClusterQueue inactive (FlavorNotFound) and admits nothing';
    expect(checkPlatform(chart).map((f) => f.message)).toEqual([message]);
    expect(checkTemplate(chart, { pss: false }).findings.map((f) => `${f.check}: ${f.message}`)).toEqual([`admission: ${message}`]);
    expect(() => Testing.synth(chart)).toThrow(`error (admission): ${message}`);
    // (A JSON patch is the other escape hatch: renaming the flavor is caught the same way.)
    const patched = new Chart(Testing.app(), 'test');
    const ml2 = new MlPlatform(patched, 'ml');
    ml2.addTenant('ops', { queue: true });
    (ml2.node.findChild('flavor-default') as ApiObject).addJsonPatch(JsonPatch.replace('/metadata/name', 'other'));
    expect(() => Testing.synth(patched)).toThrow('ClusterQueue "ml-ops" names ResourceFlavor "ml-default", which the app does not declare');
  });

  test('property: every order that declares what is named first synthesizes byte-identical objects', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: DECLARATIONS.length, maxLength: DECLARATIONS.length }), (priorities) => {
      const order = orderBy(priorities);
      expect(canonical(build(order))).toBe(reference);
    }), { numRuns: 25 });
  });

  test('the orders tried include the ones of the issue: a pool after a queued tenant, a tenant before an unrelated pool', () => {
    const order = orderBy([0, 0, 0.9, 0.8, 1, 0.1, 0.5, 0.5, 0.5, 1].slice(0, DECLARATIONS.length));
    const ids = order.map((d) => d.id);
    expect(ids.indexOf('tenant:ops')).toBeLessThan(ids.indexOf('pool:a100-mig'));
    expect(canonical(build(order))).toBe(reference);
  });
});


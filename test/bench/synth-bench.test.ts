// Guards the benchmark harness (not its timings): the benchmark platform is valid and realistic, and
// the hand-written baseline emits exactly the objects mlplatform emits for the same case.
import { App, Chart, Yaml } from 'cdk8s';
import { declareHandWritten, Manifest } from '../../bench/baseline';
import { BENCH_KINDS } from '../../bench/mix';
import { buildBenchPlatform } from '../../bench/workloads';
import { StoreWrites } from '../../src/core/checks';
import { expectValidManifests } from '../support/expect-valid';

function synth(build: (chart: Chart) => void): Manifest[] {
  const chart = new Chart(new App({ outdir: '/dev/null' }), 'bench');
  build(chart);
  return chart.toJson() as Manifest[];
}

beforeAll(() => {
  // The benchmark's peaks exceed its pools on purpose (capacity warnings).
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('benchmark harness', () => {
  const mlplatform = synth((chart) => buildBenchPlatform(chart, 10));

  test('the benchmark platform (10 workloads) passes strict validation and PSS restricted', () => {
    expectValidManifests(mlplatform);
  });

  test('the mix has pipelines, sweeps and endpoints in several tenants, GPU work on several pools', () => {
    const count = (kind: string) => mlplatform.filter((o) => o.kind === kind).length;
    const sweeps = mlplatform.filter((o) => o.kind === 'ConfigMap' && (o.metadata as any).labels?.['mlplatform.io/sweep']).length;
    expect([count('WorkflowTemplate'), count('CronWorkflow'), sweeps, count('HTTPRoute') - 1]).toEqual([4, 1, 2, 4]);
    expect(new Set(mlplatform.filter((o) => o.kind === 'WorkflowTemplate' || o.kind === 'Deployment').map((o) => o.metadata.namespace))).toEqual(new Set(['mlplatform', 'vision', 'nlp', 'recsys', 'forecast']));
    const yaml = Yaml.stringify(...mlplatform);
    for (const resource of ['nvidia.com/gpu', 'nvidia.com/mig-1g.10gb']) expect(yaml).toContain(resource);
    const placed = new Set([...yaml.matchAll(/mlplatform\.io\/gpu-pool: (\S+)/g)].map((m) => m[1]));
    expect(placed.size).toBeGreaterThanOrEqual(3);
  });

  test('the per-construct cases hold workloads of one kind only, and the platform alone none', () => {
    const kinds = (objects: Manifest[]) => {
      const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
      const sweeps = objects.filter((o) => o.kind === 'ConfigMap' && (o.metadata as any).labels?.['mlplatform.io/sweep']).length;
      // The platform exposes MLflow through one HTTPRoute of its own.
      return { pipelines: count('WorkflowTemplate'), sweeps, endpoints: count('HTTPRoute') - 1 };
    };
    expect(kinds(synth((chart) => buildBenchPlatform(chart, 0)))).toEqual({ pipelines: 0, sweeps: 0, endpoints: 0 });
    for (const only of BENCH_KINDS) {
      expect(kinds(synth((chart) => buildBenchPlatform(chart, 6, only)))).toEqual({ pipelines: 0, sweeps: 0, endpoints: 0, [only]: 6 });
    }
  });

  test('the hand-written baseline emits the same objects (kinds, names, byte-equal YAML)', () => {
    const handWritten = synth((chart) => declareHandWritten(chart, mlplatform));
    const ids = (os: Manifest[]) => os.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(ids(handWritten)).toEqual(ids(mlplatform));
    expect(Yaml.stringify(...handWritten)).toBe(Yaml.stringify(...mlplatform));
  });

  test('one synthesis of the benchmark platform indexes what its workloads write once, not once per workload', () => {
    const index = jest.spyOn(StoreWrites, 'of');
    try {
      const objects = synth((chart) => buildBenchPlatform(chart, 20));
      expect(objects.filter((o) => o.kind === 'WorkflowTemplate')).toHaveLength(8);
      expect(index).toHaveBeenCalledTimes(1);
    } finally {
      index.mockRestore();
    }
  });
});

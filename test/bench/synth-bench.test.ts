// Guards the benchmark harness (not its timings): the benchmark platform is valid and realistic, and
// the hand-written baselines (replayed, and the two programs) emit exactly the objects mlplatform emits for the same case.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Yaml } from 'cdk8s';
import * as fc from 'fast-check';
import { declareHandWritten, handWrittenHelpers, handWrittenProgram, Manifest } from '../../bench/baseline';
import { packageEmitFlags } from '../../bench/compile';
import { BENCH_KINDS } from '../../bench/mix';
import { buildBenchPlatform } from '../../bench/workloads';
import { StoreWrites } from '../../src/core/checks';
import { expectValidManifests } from '../support/expect-valid';

/** Loads a program of `handWrittenProgram` or `handWrittenHelpers` (a CommonJS module) with this suite's `require`, so it declares with the same cdk8s. */
function load(source: string): (chart: Chart) => void {
  const exports: { declare?: (chart: Chart) => void } = {};
  new Function('require', 'exports', source)(require, exports);
  return exports.declare!;
}

/** A chart's JSON, or the error its toJson() throws. */
function outcome(chart: Chart): string {
  try {
    return JSON.stringify(chart.toJson());
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

/** The program `source` declares `manifests` as their replay does: the same construct ids, byte-equal YAML. */
function expectSameAsReplay(source: string, manifests: Manifest[]): void {
  const chart = new Chart(new App({ outdir: '/dev/null' }), 'bench');
  load(source)(chart);
  const replayed = new Chart(new App({ outdir: '/dev/null' }), 'bench');
  declareHandWritten(replayed, manifests);
  expect(chart.node.children.map((c) => c.node.id)).toEqual(replayed.node.children.map((c) => c.node.id));
  expect(Yaml.stringify(...chart.toJson())).toBe(Yaml.stringify(...manifests));
}

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
    // The platform's own HTTPRoutes (the UI and, with TLS, the redirect to HTTPS) are in its namespace.
    const endpointRoutes = mlplatform.filter((o) => o.kind === 'HTTPRoute' && o.metadata.namespace !== 'mlplatform').length;
    expect([count('WorkflowTemplate'), count('CronWorkflow'), sweeps, endpointRoutes]).toEqual([4, 1, 2, 4]);
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
      // The platform's own HTTPRoutes (the UI and, with TLS, the redirect to HTTPS) are in its namespace.
      const endpoints = objects.filter((o) => o.kind === 'HTTPRoute' && o.metadata.namespace !== 'mlplatform').length;
      return { pipelines: count('WorkflowTemplate'), sweeps, endpoints };
    };
    expect(kinds(synth((chart) => buildBenchPlatform(chart, 0)))).toEqual({ pipelines: 0, sweeps: 0, endpoints: 0 });
    for (const only of BENCH_KINDS) {
      expect(kinds(synth((chart) => buildBenchPlatform(chart, 6, only)))).toEqual({ pipelines: 0, sweeps: 0, endpoints: 0, [only]: 6 });
    }
  });

  test('the hand-written baseline emits the same objects (kinds, names, byte-equal YAML)', () => {
    const handWritten = synth((chart) => declareHandWritten(chart, mlplatform));
    const ids = (objects: Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(ids(handWritten)).toEqual(ids(mlplatform));
    expect(Yaml.stringify(...handWritten)).toBe(Yaml.stringify(...mlplatform));
  });

  test('the program written out declares the same objects (ids, byte-equal YAML), one ApiObject literal per function', () => {
    const source = handWrittenProgram(mlplatform);
    expect(source.match(/^function object\d+\(chart\) \{$/gm)).toHaveLength(mlplatform.length);
    expect(source).not.toContain('JSON.parse');
    expectSameAsReplay(source, mlplatform);
  });

  test('the program with helpers declares the same objects, one helper per shape, values that differ passed in', () => {
    const source = handWrittenHelpers(mlplatform);
    const helpers = source.match(/^function helper\d+\(chart, id, v\) \{$/gm) ?? [];
    // The endpoints' Deployments share a helper, which writes the fixed fields in and takes the names.
    expect(helpers.length).toBeGreaterThan(10);
    expect(helpers.length).toBeLessThan(mlplatform.filter((o) => o.kind !== 'Namespace').length / 2);
    expect(source).toMatch(/runAsNonRoot: true/);
    expect(source).toMatch(/name: v\[\d+\]/);
    expectSameAsReplay(source, mlplatform);
  });

  test('the programs declare any JSON objects as their replay does (keys needing quotes, __proto__, nesting, shared shapes)', () => {
    const data = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'app.kubernetes.io/name', '$ref', '1', '')), fc.jsonValue({ maxDepth: 3 }));
    fc.assert(fc.property(fc.array(data, { minLength: 1, maxLength: 4 }), fc.boolean(), (extras, sameShape) => {
      // Through JSON, as the fixtures are read; with `sameShape`, objects of one shape with other values.
      const manifests: Manifest[] = extras.map((extra, i) => JSON.parse(JSON.stringify({
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `m${i}` }, data: sameShape ? { ...extras[0], n: String(i) } : extra,
      })));
      // Against the same objects replayed: cdk8s's toJson() drops a `__proto__` key, or throws on some, either way.
      const replayed = new Chart(new App({ outdir: '/dev/null' }), 'c');
      declareHandWritten(replayed, manifests);
      for (const source of [handWrittenProgram(manifests), handWrittenHelpers(manifests)]) {
        const chart = new Chart(new App({ outdir: '/dev/null' }), 'c');
        load(source)(chart);
        expect(outcome(chart)).toBe(outcome(replayed));
      }
    }), { numRuns: 200 });
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

describe('benchmark build', () => {
  test('the bench compiles the library with the package\'s emit options, read from tsconfig.json', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emit-'));
    try {
      // As projen writes it: a comment line first.
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), '// generated\n{ "compilerOptions": { "inlineSourceMap": true, "inlineSources": true, "sourceMap": false, "target": "ES2022" } }\n');
      expect(packageEmitFlags(dir)).toEqual(['--inlineSourceMap', '--inlineSources']);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": {} }');
      expect(packageEmitFlags(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the package ships its source maps beside the JavaScript, not inside it (what every importing process would hold)', () => {
    const root = path.join(__dirname, '..', '..');
    expect(packageEmitFlags(root)).toEqual(['--sourceMap', '--inlineSources']);
    expect(fs.readFileSync(path.join(root, '.npmignore'), 'utf8').split('\n')).toContain('!/lib/**/*.js.map');
  });
});

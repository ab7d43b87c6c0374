// Issue #22, part 2 (a fixed-seed sample here; `npm run fuzz` runs 10,000 cases of each):
// A: a corpus string at any string prop derived from the declarations fails with a ValidationError naming
//    that prop, or synthesizes objects of the same structure after Argo's, Katib's and the kubelet's
//    substitutions, with every embedded document and program still parsing.
// B: any JavaScript value at any derived prop synthesizes or fails with a ValidationError naming it.
import * as fc from 'fast-check';
import { scenario } from './arbitraries/scenario';
import { HOSTILE_FAMILIES, HOSTILE_STRINGS } from './corpus/hostile-strings';
import { anySites, checkHostile, checkWrong, hostileCase, stringSites, wrongCase } from './hostile-properties';
import { coverageKey, issueNamesSite } from './inject';
import { allPropPaths } from './prop-paths';
import { synthScenario } from './properties';
import { applyEngines, compareTrees, ProgramBatch } from './structure';

const RUNS_A = Number(process.env.FUZZ_TEST_RUNS_HOSTILE ?? 60);
const RUNS_B = Number(process.env.FUZZ_TEST_RUNS_WRONG ?? 200);

beforeAll(() => {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('the adversarial corpus', () => {
  test('several hundred strings over every grammar a prop reaches', () => {
    expect(HOSTILE_STRINGS.length).toBeGreaterThanOrEqual(300);
    expect(new Set(HOSTILE_STRINGS.map((h) => h.family))).toEqual(new Set(HOSTILE_FAMILIES));
    const values = HOSTILE_STRINGS.map((h) => h.value);
    for (const needle of ['"', '\n', '{{', '{{=', '$(', '`', '%(', "'", '?', '#', '\u0085', '\u2028', '\u2029', '\u0000', '${trialParameters.']) {
      expect(values.some((v) => v.includes(needle))).toBe(true);
    }
    expect(Math.max(...values.map((v) => v.length))).toBeGreaterThan(256 * 1024);
  });
});

describe('property A: hostile strings at every derived string prop', () => {
  test('a fixed-seed sample: a ValidationError naming the prop, or the same structure', () => {
    const batch = new ProgramBatch();
    const problems: string[] = [];
    const outcomes: Record<string, number> = {};
    for (const c of fc.sample(hostileCase(), { numRuns: RUNS_A, seed: 20261207 })) {
      const o = checkHostile(c, batch);
      outcomes[o.result] = (outcomes[o.result] ?? 0) + 1;
      if (o.problem) problems.push(o.problem);
    }
    problems.push(...batch.flush());
    expect(problems).toEqual([]);
    // Both outcomes occur, and the program check ran on real programs.
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(batch.checked).toBeGreaterThan(0);
  }, 300_000);

  test('the sites of the scenarios reach most derived string props of the four constructs', () => {
    const derived = allPropPaths().paths.filter((p) => !p.entry.startsWith('pulumi.') && ['string', 'literal', 'key'].includes(p.leaf));
    const reached = new Set<string>();
    for (const s of fc.sample(scenario({ pipelines: 2, sweeps: 2, endpoints: 2 }), { numRuns: 60, seed: 5 })) {
      for (const { target, site } of stringSites(s)) reached.add(`${target.entry} ${site.text}`);
    }
    const covered = derived.filter((p) => reached.has(coverageKey(p)));
    // The arbitraries leave some optional props unset (e.g. catalog accelerators built with AcceleratorCatalog.with);
    // `npm run fuzz` prints the list of those never reached.
    expect(covered.length / derived.length).toBeGreaterThan(0.45);
  }, 120_000);

  test('the comparison sees a value that breaks an embedded YAML document or adds a key', () => {
    const problems: string[] = [];
    compareTrees({ manifest: 'a: 1\nb: x\n' }, { manifest: 'a: 1\nb: "x\n' }, 'o', problems);
    expect(problems[0]).toMatch(/embedded YAML document no longer parses/);
    const more: string[] = [];
    compareTrees({ manifest: 'a: 1\nb: x\n' }, { manifest: 'a: 1\nb: x\nc: z\n' }, 'o', more);
    expect(more).toEqual(['o.manifest<yaml>: keys  +["c"]']);
    // A plain `y` is a string to YAML 1.2 and true to 1.1 readers (Go's yaml.v2, PyYAML): a different document.
    const bool: string[] = [];
    compareTrees({ manifest: 'a: 1\nb: x\n' }, { manifest: 'a: 1\nb: y\n' }, 'o', bool);
    expect(bool[0]).toMatch(/YAML 1.1 and 1.2 readers see different structures/);
  });

  test('the engines: Katib substitutes choices as raw text into the trial template, the kubelet expands $(VAR)', () => {
    const katib = applyEngines([{
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Experiment',
      metadata: { name: 'x' },
      spec: {
        parameters: [{ name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['adam', 'a"b'] } }],
        trialTemplate: { trialParameters: [{ name: 'opt', reference: 'opt' }], trialSpec: { spec: { args: ['--opt=${trialParameters.opt}'] } } },
      },
    }]);
    expect(katib.problems.join('\n')).toMatch(/the trial template does not parse with opt="a\\"b"/);
    const pod = applyEngines([{ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: 'x' }], args: ['$(A)', '$$(A)'] }] } }]);
    expect((pod.objects[0] as any).spec.containers[0].args).toEqual(['x', '$(A)']);
    expect(pod.subs.kubeVars).toBe(1);
  });
});

describe('property B: wrong JavaScript values at every derived prop', () => {
  test('a fixed-seed sample: only ValidationErrors naming the prop', () => {
    const problems: string[] = [];
    const outcomes: Record<string, number> = {};
    for (const c of fc.sample(wrongCase(), { numRuns: RUNS_B, seed: 20261207 })) {
      const o = checkWrong(c);
      outcomes[o.result] = (outcomes[o.result] ?? 0) + 1;
      if (o.problem) problems.push(o.problem);
    }
    expect(problems).toEqual([]);
    expect(outcomes.rejected).toBeGreaterThan(RUNS_B / 2);
  }, 300_000);

  test('absent optional props are injected too', () => {
    const [s] = fc.sample(scenario({ pipelines: 1 }).filter((x) => x.pipelines.length > 0), { numRuns: 1, seed: 2 });
    const sites = anySites(s).filter((x) => x.target.entry === 'TrainingPipeline');
    expect(sites.some((x) => x.site.value === undefined && x.site.text === 'timeout')).toBe(!('timeout' in (s.pipelines[0].props as object)));
    expect(sites.length).toBeGreaterThan(20);
    expect(() => synthScenario(s)).not.toThrow();
  });

  test('an issue path names a site through indices, keys, step names and an `options.` prefix', () => {
    const steps = [{ kind: 'prop', name: 'steps' }, { kind: 'index', i: 0 }, { kind: 'prop', name: 'env' }, { kind: 'key', k: 'HOME' }] as const;
    expect(issueNamesSite('steps.train.env.HOME', steps)).toBe(true);
    expect(issueNamesSite('steps[0].env', steps)).toBe(true);
    expect(issueNamesSite('options.steps[0].env.HOME', steps)).toBe(true);
    expect(issueNamesSite('steps[0].image', steps)).toBe(false);
    expect(issueNamesSite('namespace', steps)).toBe(false);
  });
});

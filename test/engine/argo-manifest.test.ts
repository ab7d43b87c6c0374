/**
 * Engine test: no run-time value can change the structure of the object a multi-node step creates.
 *
 * Argo pastes run-time values (pipeline parameters, `forEach` items, step outputs) into a resource
 * template's manifest *text*: util/template substitutes over the template's JSON, escaping only for
 * that JSON (simple_template.go `simpleReplaceStrict`), so at the manifest's own level the raw value
 * lands. mlplatform therefore passes every such value as the result of an `{{=toJson(…)}}`
 * expression into an env var of its own (src/cdk8s/private/pipeline-multinode.ts `valuesAsEnv`).
 *
 * This runs Argo v4.0.7's own code (test/engine/argo-substitute/main.go: `common.ProcessArgs` as the
 * controller calls it for a step, then the controller's `yaml.Unmarshal` of the manifest in
 * `executeResource`, and the lint's parse in workflow/validate) on the synthesized step template,
 * with benign and hostile values, then resolves each container as the kubelet does
 * (test/cluster/kubelet/expansion.ts, a port of Kubernetes' `$(VAR)` expansion).
 */
import { parse } from 'yaml';
import { argoSubstitute, SubstituteCase, SubstituteResult } from './argo-substitute/tool';
import { VALUE_ENV_PREFIX } from '../../src/cdk8s/private/pipeline-multinode';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { resolveContainer } from '../support/argo-manifest';
import { find, synthChart } from '../support/synth';

const BENIGN = 'benign-0.1';
/** Values an attacker (or an ordinary user) may submit or a step may print. */
const HOSTILE = [
  'a"\n        envFrom:\n          - secretRef:\n              name: admin',
  'a\'\nenvFrom: [{secretRef: {name: admin}}]',
  '"',
  '\'',
  '}}',
  '$(AWS_SECRET_ACCESS_KEY)',
  '$$(X) $ $( $)',
  '\\',
  '\\"',
  '# comment',
  '- item',
  'key: value',
  '&anchor *alias !!binary',
  '\u2028\u2029\u0085 next lines',
  '<script>&amp;</script>',
  '\t tab',
  'ü ✓ 😀',
  '',
  ' leading and trailing ',
  'null',
  'x'.repeat(10_000),
];
/** Values holding `{{`: Argo's own text scan of the template (which holds the input values too) pairs them with the next `}}`. */
const BRACES = ['{{', '{{inputs.parameters.p}}', 'a}}{{b', '{{=1+1}}', '{{workflow.name}}'];

const RUN = { 'workflow.name': 'run-abc12', 'workflow.namespace': 'team-a', 'workflow.uid': '7f3e0c8a-2b1d-4e5f-9a6b-0c1d2e3f4a5b' };

function synthesize(backend: 'job' | 'jobset' | 'pytorchjob') {
  const { objects } = synthChart((chart) => {
    const p = new TrainingPipeline(chart, 'llm', { namespace: 'team-a', parameters: { p: { default: BENIGN } } });
    const prep = p.addStep('prep', { image: 'ghcr.io/acme/prep:1.0.0', command: ['/app/prep'], outputParameters: ['shards', 'name'] });
    p.addStep('train', {
      image: 'ghcr.io/acme/train:1.0.0',
      command: ['/app/train.py'],
      args: [`--x=${p.parameter('p')}`, `$${p.parameter('p')}`, `$$${p.parameter('p')}`, prep.output('name'), '{{=sprig.upper(workflow.parameters.p)}}', '--rank=$(JOB_COMPLETION_INDEX)'],
      env: { ITEM: '{{item}}', MIXED: `a-${p.parameter('p')}-$(HOME)-{{workflow.name}}` },
      forEach: prep.output('shards'),
      after: [prep],
      nodes: 2,
      gpus: 1,
      accelerator: 'nvidia-l4',
      distributed: { backend },
    });
  });
  const wt = find(objects, 'WorkflowTemplate', 'llm');
  const template = wt.spec.templates.find((t: any) => t.name === 'step-train');
  return { template };
}

/** The step's inputs, each given `value` (as the DAG task would pass them at run time). */
function runCase(template: any, value: string): SubstituteCase {
  const names: string[] = template.inputs.parameters.map((x: any) => x.name);
  return {
    template,
    globals: { ...RUN, 'workflow.parameters.p': value },
    arguments: { parameters: names.map((name) => ({ name, value })) },
  };
}

/** Every container of the created object. */
function containers(o: any): any[] {
  const specs: any[] = [];
  const walk = (v: any) => {
    if (v && typeof v === 'object') {
      if (Array.isArray(v.containers)) specs.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(o);
  return specs.flatMap((s) => [...(s.initContainers ?? []), ...s.containers]);
}

/** The object with the values of the run-time env vars blanked: what must not depend on the value. */
function structure(o: any): any {
  return JSON.parse(JSON.stringify(o), (_k, v) => (v && typeof v === 'object' && typeof v.name === 'string' && v.name.startsWith(VALUE_ENV_PREFIX) ? { name: v.name, value: '<value>' } : v));
}

/** What the main container runs and sees, resolved by the kubelet's rules. */
function resolvedMain(o: any) {
  const main = containers(o).find((c) => c.name === 'node' || c.name === 'pytorch');
  return resolveContainer(main, { JOB_COMPLETION_INDEX: '0', JOB_NAME: 'llm-train-x7k2q' });
}

describe.each(['job', 'jobset', 'pytorchjob'] as const)('multi-node step (%s): run-time values are data in the created object', (backend) => {
  jest.setTimeout(20 * 60_000);
  const { template } = synthesize(backend);
  // The user's own `$(VAR)` references expand as Kubernetes does (the PyTorchJob's pods have no completion index).
  const rank = backend === 'pytorchjob' ? '--rank=$(JOB_COMPLETION_INDEX)' : '--rank=0';
  let benign: SubstituteResult;
  let hostile: SubstituteResult[];
  let braces: SubstituteResult[];

  beforeAll(() => {
    [benign, ...hostile] = argoSubstitute([BENIGN, ...HOSTILE, ...BRACES].map((v) => runCase(template, v)));
    braces = hostile.splice(HOSTILE.length);
  });

  test('the manifest carries no run-time value in its text, only inert run variables and the value expressions', () => {
    const tags = String(template.resource.manifest).match(/\{\{.*?\}\}/g) ?? [];
    for (const t of tags) expect(t).toMatch(/^\{\{(workflow\.name|=sprig\.replace\('\\u0085', '\\\\u0085', toJson\(sprig\.replace\('\$', '\$\$', string\(.*\)\)\)\))\}\}$/);
    // The lint's parse (expressions replaced by placeholders) accepts the manifest.
    expect(benign.lintError).toBeUndefined();
  });

  test('benign value: Argo creates the object, and the container runs with the value in place', () => {
    expect(benign.error).toBeUndefined();
    const { argv, env } = resolvedMain(benign.manifest);
    const args = argv.slice(argv.indexOf('/app/train.py') + 1);
    expect(args).toEqual([`--x=${BENIGN}`, `$${BENIGN}`, `$${BENIGN}`, BENIGN, BENIGN.toUpperCase(), rank]);
    expect(env.ITEM).toBe(BENIGN);
    expect(env.MIXED).toBe(`a-${BENIGN}-/tmp-run-abc12`);
  });

  test.each(HOSTILE.map((v, i) => [JSON.stringify(v).slice(0, 60), i]))('hostile value %s: the same object, the value exactly where the benign one was', (_, i) => {
    const r = hostile[i as number];
    const v = HOSTILE[i as number];
    expect(r.error).toBeUndefined();
    expect(structure(r.manifest)).toEqual(structure(benign.manifest));
    const { argv, env } = resolvedMain(r.manifest);
    const args = argv.slice(argv.indexOf('/app/train.py') + 1);
    // `$$x` in the step's args is Kubernetes' escaped `$` followed by the value (no `$(…)` inside the value expands).
    expect(args).toEqual([`--x=${v}`, `$${v}`, `$${v}`, v, v.toUpperCase(), rank]);
    expect(env.ITEM).toBe(v);
    expect(env.MIXED).toBe(`a-${v}-/tmp-run-abc12`);
    expect(containers(r.manifest).flatMap((c) => c.envFrom ?? [])).toEqual([]);
  });

  test.each(BRACES.map((v, i) => [v, i]))('value %s: Argo either creates the same object or fails the step, never another object', (_, i) => {
    const r = braces[i as number];
    if (r.error !== undefined) {
      // util/template: a `{{` in an input value opens a tag that ends at the next `}}` of the template, which leaves
      // the next value expression unevaluated; the manifest then fails to parse and nothing is created.
      expect(r.manifest).toBeUndefined();
      return;
    }
    expect(structure(r.manifest)).toEqual(structure(benign.manifest));
  });
});

test('the manifest Argo is given is YAML whose only unquoted tags are the value expressions', () => {
  const { template } = synthesize('job');
  const text = String(template.resource.manifest);
  // With the tags replaced by placeholders, as Argo's lint does, it parses; the value env vars come first in each container.
  const doc = parse(text.replace(/\{\{=[^}]*\}\}/g, 'placeholder'));
  const main = doc.spec.template.spec.containers[0];
  expect(main.env.slice(0, 3).map((e: any) => e.name)).toEqual([`${VALUE_ENV_PREFIX}0`, `${VALUE_ENV_PREFIX}1`, `${VALUE_ENV_PREFIX}2`]);
});

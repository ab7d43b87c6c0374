/**
 * Props that would carry text into structure another engine parses are refused with a
 * ValidationError naming the prop and the fix (issue #22). The run-time side of multi-node steps is
 * proven against Argo's own code in test/engine/argo-manifest.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { Chart, Testing, Yaml } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { TuningSweep, TuningSweepProps } from '../../src/cdk8s/tuning-sweep';
import { Dataset, StepOptions } from '../../src/core/pipeline';
import { yamlText } from '../../src/core/yaml-text';
import { resolveContainer } from '../support/argo-manifest';
import { validationError } from '../support/errors';
import { find, K8sObject } from '../support/synth';

const IMAGE = 'ghcr.io/acme/train:1.0.0';


function pipeline(step: Partial<StepOptions>, props: Record<string, unknown> = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const p = new TrainingPipeline(chart, 'llm', { namespace: 'team-a', ...props });
  p.addStep('train', { image: IMAGE, command: ['/app/train.py'], ...step });
  return Testing.synth(chart);
}

describe('multi-node steps: run variables whose text no expression can name are refused', () => {
  const multi: Partial<StepOptions> = { nodes: 2, gpus: 1, accelerator: 'nvidia-l4' };
  test.each(['{{node.name}}', '{{workflow.annotations.team}}'])('%s in args', (tag) => {
    const e = validationError(() => pipeline({ ...multi, args: [`--x=${tag}`] }));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'steps.train.args[0]', value: `--x=${tag}` })]);
    expect(e.message).toContain(`uses ${tag}, which cannot be passed into a multi-node step's Job; pass the value as a pipeline parameter instead`);
  });
  test('single-node steps keep them (Argo substitutes them into the pod spec as JSON)', () => {
    expect(() => pipeline({ args: ['{{node.name}}', '{{workflow.annotations.team}}'] })).not.toThrow();
  });
});

describe('Katib trial templates: categorical choices stay values', () => {
  const base: Omit<TuningSweepProps, 'platform' | 'namespace'> = {
    engine: 'katib',
    trial: { image: IMAGE, command: ['python', 'train.py'], args: ['--act={{act}}', '--lr={{lr}}'], parametersAs: 'flags-and-env' },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }, { name: 'act', type: 'categorical', choices: ['relu'] }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 4, workers: 1 },
  };
  const sweep = (choices: string[]) => {
    const chart = new Chart(Testing.app(), 'test');
    new TuningSweep(chart, 'sweep', { namespace: 'team-a', ...base, parameters: [base.parameters[0], { name: 'act', type: 'categorical', choices }] });
    return find(Testing.synth(chart) as K8sObject[], 'Experiment', 'sweep');
  };
  /**
   * The trial Job Katib creates: kubeflow/katib pkg/controller.v1beta1/experiment/manifest/generator.go
   * `GetRunSpecWithHyperParameters` — the trialSpec marshaled to JSON (util.ConvertUnstructuredToString),
   * `strings.Replace(template, "${trialParameters.<name>}", value, -1)` for each trial parameter in turn
   * (`applyParameters`), then parsed back (util.ConvertStringToUnstructured).
   */
  const trialJob = (x: K8sObject, assignments: Record<string, string>): any => {
    let text = JSON.stringify(x.spec.trialTemplate.trialSpec);
    for (const p of x.spec.trialTemplate.trialParameters) text = text.split('${trialParameters.' + p.name + '}').join(assignments[p.reference]);
    return JSON.parse(text);
  };

  const SAFE = ['it\'s', 'a b', '{x}', '}', '{{', '<&>', 'ü ✓ 😀', '$x', '${HOME}', '', 'null', 'a: b', '# c', '%(x)s'];
  test.each(SAFE)('choice %j: the trial Job is the benign one with the value in place, and the container receives it exactly', (v) => {
    const x = sweep(['relu', v]);
    const benign = trialJob(x, { lr: '0.01', act: 'relu' });
    const job = trialJob(x, { lr: '0.01', act: v });
    const c = job.spec.template.spec.containers[0];
    const { env, argv } = resolveContainer(c);
    expect(argv).toEqual(['python', 'train.py', `--act=${v}`, '--lr=0.01', '--lr=0.01', `--act=${v}`]);
    expect(env.SWEEP_PARAM_ACT).toBe(v);
    // Same keys, same list lengths, same types everywhere: only string contents may differ.
    const shape = (j: unknown): unknown => JSON.parse(JSON.stringify(j), (_k, y) => (typeof y === 'string' ? '' : y));
    expect(shape(job)).toEqual(shape(benign));
  });

  const UNSAFE: [string, string][] = [
    ['a"}],"envFrom":[{"secretRef":{"name":"admin"}}],"x":[{"y":"', '`"` or `\\`'],
    ['"', '`"` or `\\`'],
    ['\\', '`"` or `\\`'],
    ['a\nb', 'control character'],
    ['\t', 'control character'],
    ['${trialParameters.lr}', '`${trialParameters.`'],
    ['$(AWS_SECRET_ACCESS_KEY)', '`$(` or `$$`'],
    ['$$', '`$(` or `$$`'],
  ];
  test.each(UNSAFE)('choice %j is a ValidationError naming parameters[1].choices[1]', (v, why) => {
    const e = validationError(() => sweep(['relu', v]));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'parameters[1].choices[1]', value: v })]);
    expect(e.message).toContain(why);
    expect(e.message).toContain('use a value without it (or the Optuna engine, which passes values as data)');
  });
});

describe('sweep parameter names that map to one environment variable', () => {
  test('lr and LR are a ValidationError naming both', () => {
    const chart = new Chart(Testing.app(), 'test');
    const e = validationError(() => new TuningSweep(chart, 'sweep', {
      namespace: 'team-a',
      engine: 'katib',
      trial: { image: IMAGE, command: ['python', 'train.py'] },
      parameters: [{ name: 'lr', type: 'float', low: 0.1, high: 1 }, { name: 'LR', type: 'float', low: 0.1, high: 1 }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 4, workers: 1 },
    }));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'parameters[1].name', value: 'LR' })]);
    expect(e.message).toContain('maps to the same environment variable SWEEP_PARAM_LR as parameter 0 ("lr"); give names that differ in more than case');
  });
});

describe('$(VAR) in what the library writes into command, args and env is never expanded', () => {
  const SECRET = 'AKIA-the-secret';
  const DOLLAR = '$(AWS_SECRET_ACCESS_KEY)';
  const { chart, platform } = buildPlatform(Testing.app());
  const p = new TrainingPipeline(chart, 'etl', { platform, namespace: 'vision', experiment: `exp-${DOLLAR}` });
  const repository = `https://git.example.com/${DOLLAR}/data.git`;
  p.addStep('prep', {
    image: IMAGE,
    command: ['/app/prep'],
    args: ['--home=$(HOME)'],
    inputs: { raw: Dataset.fromDvc({ repository, revision: '3f2a9c1', path: `data/${DOLLAR}$$x`, image: 'docker.io/iterativeai/cml:0-dvc3-base1' }) },
  });
  const objects = Testing.synth(chart) as K8sObject[];
  const t = find(objects, 'WorkflowTemplate', 'etl').spec.templates.find((x: any) => x.name === 'step-prep');
  const downward = { AWS_SECRET_ACCESS_KEY: SECRET, AWS_ACCESS_KEY_ID: 'id', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' };

  test('the DVC repository and path reach `dvc get` exactly (test/cluster/kubelet/expansion.ts, Kubernetes\' Expand)', () => {
    const dvc = t.initContainers.find((c: any) => c.name === 'dvc-raw');
    const { argv } = resolveContainer(dvc, downward);
    expect(argv.slice(0, 4)).toEqual(['dvc', 'get', repository, `data/${DOLLAR}$$x`]);
    expect(argv.join(' ')).not.toContain(SECRET);
  });

  test('the experiment name reaches MLflow exactly; the user\'s own $(HOME) still expands', () => {
    const { env, argv } = resolveContainer(t.container, downward);
    expect(env.MLFLOW_EXPERIMENT_NAME).toBe(`exp-${DOLLAR}`);
    expect(JSON.parse(env.MLFLOW_RUN_CONTEXT)['mlplatform.data.raw']).toBe(`${repository}@3f2a9c1:data/${DOLLAR}$$x`);
    expect(argv).toEqual(['/app/prep', '--home=/tmp']);
  });

  test('tracking server options reach mlflow exactly', () => {
    const c2 = new Chart(Testing.app(), 'p2');
    new MlPlatform(c2, 'ml', { tracking: { serverOptions: `--x ${DOLLAR}` } });
    const server = find(Testing.synth(c2) as K8sObject[], 'Deployment', 'ml-tracking').spec.template.spec.containers[0];
    const { argv } = resolveContainer(server, downward);
    expect(argv[argv.indexOf('--uvicorn-opts') + 1]).toBe(`--x ${DOLLAR}`);
  });
});

describe('{{…}} where nothing is templated', () => {
  const dvc = (o: Partial<Parameters<typeof Dataset.fromDvc>[0]>) => Dataset.fromDvc({ repository: 'https://github.com/acme/data.git', revision: '3f2a9c1', path: 'images', ...o });
  test.each([
    ['steps.train.image', () => pipeline({ image: 'ghcr.io/{{workflow.parameters.img}}:1.0.0' })],
    ['experiment', () => pipeline({}, { experiment: 'exp-{{workflow.name}}' })],
    ['steps.train.inputs.raw.repository', () => pipeline({ inputs: { raw: dvc({ repository: 'https://github.com/{{workflow.parameters.org}}/data.git' }) } })],
    ['steps.train.inputs.raw.path', () => pipeline({ inputs: { raw: dvc({ path: 'data/{{item}}' }) } })],
    ['steps.train.inputs.raw.image', () => pipeline({ inputs: { raw: dvc({ image: 'ghcr.io/{{x}}/dvc:1.0' }) } })],
  ])('%s', (path, build) => {
    const e = validationError(build);
    expect(e.issues.map((i) => i.path)).toEqual([path]);
    expect(e.message).toContain('must not contain `{{` or `}}`: this prop takes no Argo expressions, and Argo would substitute the tag when a run starts; write the literal value');
  });
  test('fields meant to carry Argo expressions keep working', () => {
    expect(() => pipeline({ args: ['{{workflow.name}}', '{{=sprig.upper(workflow.name)}}'], env: { RUN: '{{workflow.uid}}' } })).not.toThrow();
  });
  test('a DVC path starting with "-" would be an option of `dvc get`: refused', () => {
    const e = validationError(() => pipeline({ inputs: { raw: dvc({ path: '--config=/etc/x' }) } }));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'steps.train.inputs.raw.path', value: '--config=/etc/x' })]);
    expect(e.message).toContain('`dvc get` would read it as an option; a path inside the repository cannot start with "-" (write "./--config=/etc/x")');
  });
});

describe('NUL and the characters YAML 1.1 folds are refused in every string prop', () => {
  test('why: cdk8s\'s YAML writer leaves U+2028 raw, and PyYAML (YAML 1.1) does not read the value back', () => {
    const text = Yaml.stringify({ v: 'a\u2028b' }, { v: 'a\u0085b' });
    const out = spawnSync('/usr/bin/python3', ['-c', 'import sys, yaml, json\ntry:\n  print(json.dumps([d["v"] for d in yaml.safe_load_all(sys.stdin)]))\nexcept yaml.YAMLError as e:\n  print(json.dumps(str(e)))'], { input: text, encoding: 'utf8' });
    expect(JSON.parse(out.stdout)).not.toEqual(['a\u2028b', 'a\u0085b']);
  });
  test.each([
    ['steps.train.args[0]', '--x=a\u0000b', () => pipeline({ args: ['--x=a\u0000b'] })],
    ['steps.train.env.K', 'a\u2028b', () => pipeline({ env: { K: 'a\u2028b' } })],
    ['experiment', 'a\u0085b', () => pipeline({}, { experiment: 'a\u0085b' })],
    ['parameters.p.default', 'a\u2029', () => pipeline({}, { parameters: { p: { default: 'a\u2029' } } })],
  ])('%s', (path, value, build) => {
    const e = validationError(build);
    expect(e.issues).toEqual([expect.objectContaining({ path, value })]);
    expect(e.message).toMatch(/holds (a NUL character, which the shell and C programs end the text at|U\+(0085|2028|2029), which YAML 1\.1 readers \(PyYAML, go-yaml v2\) take for a line break)/);
  });
  test('a sweep\'s trial env and a platform\'s tenant options too', () => {
    const chart = new Chart(Testing.app(), 'test');
    const e = validationError(() => new TuningSweep(chart, 'sweep', {
      namespace: 'team-a',
      engine: 'katib',
      trial: { image: IMAGE, command: ['python', 'train.py'], env: { K: 'x\u0000' } },
      parameters: [{ name: 'lr', type: 'float', low: 0.1, high: 1 }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 4, workers: 1 },
    }));
    expect(e.issues).toEqual([expect.objectContaining({ path: 'trial.env.K', value: 'x\u0000' })]);
    const p = new MlPlatform(new Chart(Testing.app(), 'p'), 'ml');
    const t = validationError(() => p.addTenant('team', { labels: { team: 'a\u2028' } } as any));
    expect(t.issues).toContainEqual(expect.objectContaining({ path: 'options.labels.team', value: 'a\u2028' }));
  });
});

test('embedded YAML (Argo manifests, add-on values) escapes the characters YAML 1.1 folds, and PyYAML reads every value back', () => {
  const values = ['a\u0085b', 'a\u2028b', '\u2029', 'x: "y"\n- z', 'plain'];
  const text = yamlText({ values, ['k\u2028']: 'v' });
  const out = spawnSync('/usr/bin/python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8' });
  expect(JSON.parse(out.stdout)).toEqual({ values, ['k\u2028']: 'v' });
});

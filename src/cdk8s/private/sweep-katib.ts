import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, K8sObject } from './object';
import { container, emptyDir, podSpec, secretEnv } from './pod';
import { SHARED_DIR } from './sweep-pods';
import { computeResources, placement, sharedMemory, userPlatformEnv } from './workload-pod';
import { Issues, PlatformContext } from '../../core';
import { ChoiceValue, SweepSpec } from '../../core/sweep';

/** Katib's API version rendered. */
export const KATIB_API_VERSION = 'kubeflow.org/v1beta1';

/** The metric line grammar of docs/tuning-sweep.md as a Katib StdOut filter (two capturing groups). */
export const KATIB_METRICS_FORMAT = '([A-Za-z_][A-Za-z0-9_.\\-/]*)=([-+]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?)';

const ALGORITHMS: Record<string, string> = { tpe: 'tpe', random: 'random', grid: 'grid', cmaes: 'cmaes', qmc: 'sobol' };

/**
 * What a Katib Experiment cannot express (Katib: one objective, no constraints, no conditional
 * parameters, no NSGA-II, median stopping only, one metrics collector, no overall deadline).
 */
export function checkKatib(issues: Issues, spec: SweepSpec, o: { dashboard: boolean; storage: boolean }): void {
  const why = (what: string) => `${what}; Katib cannot express it — drop it or use the Optuna engine`;
  if (spec.objectives.length > 1) issues.add('objectives', spec.objectives.map((x) => x.metric), why('several objectives (Katib optimizes one; others are only recorded)'));
  if (spec.constraints.length > 0) issues.add('constraints', spec.constraints.map((x) => x.metric), why('constraints'));
  spec.parameters.forEach((p, i) => { if (p.when) issues.add(`parameters[${i}].when`, p.when, why('a conditional parameter')); });
  if (!(spec.sampler.kind in ALGORITHMS)) issues.add('sampler', spec.sampler.kind, why('NSGA-II (Katib has no multi-objective algorithm)'));
  const s = spec.sampler.settings;
  if (s.group) issues.add('sampler.group', true, why('grouped TPE'));
  if (s.use_separable_cma || s.with_margin) issues.add('sampler', 'cmaes', why('separable CMA-ES or CMA-ES with margin'));
  if (spec.sampler.kind === 'qmc' && (s.qmc_type === 'halton' || s.scramble)) issues.add('sampler', 'qmc', why('Halton or scrambled sequences (Katib has Sobol only)'));
  if (spec.pruner.kind !== 'none' && spec.pruner.kind !== 'median') issues.add('pruner', spec.pruner.kind, why('this pruner (Katib has median stopping only)'));
  if (spec.metrics.stdout && spec.metrics.jsonFile) issues.add('metrics', spec.metrics, 'must name one source with Katib (its collector reads stdout or a file, not both)');
  if (spec.budget.deadlineSeconds !== undefined) issues.add('budget.deadline', spec.budget.deadlineSeconds, why('an overall deadline'));
  if (o.dashboard) issues.add('dashboard', true, 'is optuna-dashboard, which needs the Optuna engine; Katib has its own UI');
  if (o.storage) issues.add('storage', 'given', 'is not used by Katib (it keeps trials in its own database); drop it');
  spec.parameters.forEach((p, i) => {
    if (p.type !== 'categorical') return;
    p.choices.forEach((c, j) => {
      const problem = katibChoiceProblem(str(c));
      if (problem) issues.add(`parameters[${i}].choices[${j}]`, c, `${problem}; use a value without it (or the Optuna engine, which passes values as data)`);
    });
  });
}

/**
 * Why Katib cannot pass categorical choice `v` as it is, or undefined. Katib's trial generator pastes
 * the value into the trial template's JSON text with `strings.Replace(template,
 * "${trialParameters.<name>}", value, -1)` for each parameter in turn, then parses the result
 * (kubeflow/katib pkg/controller.v1beta1/experiment/manifest/generator.go `applyParameters`), and
 * the values land in the container's args and env, where Kubernetes expands `$(VAR)` and `$$`.
 */
export function katibChoiceProblem(v: string): string | undefined {
  if (/["\\]/.test(v)) return 'holds `"` or `\\`, which Katib pastes unescaped into the trial Job\'s JSON (it would end the string or escape the next character)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(v)) return 'holds a control character (newline, tab…), which JSON strings cannot hold raw, so every trial would fail';
  if (v.includes('${trialParameters.')) return 'holds `${trialParameters.`, which Katib replaces again with another parameter\'s value';
  if (/\$[($]/.test(v)) return 'holds `$(` or `$$`, which Kubernetes expands in the trial container\'s args and env';
  if (/[\ud800-\udfff]/.test(v.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) return 'holds an unpaired UTF-16 surrogate, which is not text';
  return undefined;
}

function str(v: ChoiceValue | number): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

/** What the Katib renderer needs. */
export interface KatibInput {
  readonly spec: SweepSpec;
  readonly ctx?: PlatformContext;
  readonly tracking: boolean;
  readonly runAsUser: number;
  readonly labels: Record<string, string>;
  readonly serviceAccount: string;
  readonly name: string;
}

/**
 * A Katib Experiment for teams that run Katib: the same search space, objective, algorithm,
 * early stopping and budget, and a trial template (a batch/v1 Job) with the trial's image,
 * resources, placement and platform environment; parameters arrive as `${trialParameters.x}`.
 */
export function renderKatibExperiment(scope: Construct, i: KatibInput): K8sObject {
  const { spec } = i;
  const t = spec.trial;
  const ref = (n: string) => '$' + `{trialParameters.${n}}`;
  const o = spec.objectives[0];
  const flags = t.parametersAs === 'env' ? [] : spec.parameters.map((p) => `--${p.name}=${ref(p.name)}`);
  const paramEnv = t.parametersAs === 'flags' ? [] : spec.parameters.map((p) => ({ name: `SWEEP_PARAM_${p.name.toUpperCase()}`, value: ref(p.name) }));
  const shm = sharedMemory(t.compute);
  const given = new Set([...Object.keys(t.env), ...Object.keys(t.secretEnv)]);
  // The tenant's credentials as files the trial's MLflow client and AWS SDK read (workload-pod.ts userPlatformEnv).
  const files = i.ctx && i.tracking ? userPlatformEnv(i.ctx, { experiment: spec.experiment, libraryHome: !given.has('HOME') }) : { env: [], volumes: [], mounts: [] };
  const env: Json<k8s.EnvVar>[] = [
    ...files.env.filter((e) => !given.has(e.name)),
    ...(given.has('HOME') ? [] : [{ name: 'HOME', value: '/tmp' }]),
    ...(spec.metrics.jsonFile ? [{ name: 'SWEEP_METRICS_FILE', value: `${SHARED_DIR}/metrics.json` }] : []),
    ...paramEnv,
    ...Object.entries(t.env).map(([n, value]) => ({ name: n, value })),
    ...Object.entries(t.secretEnv).map(([n, r]) => secretEnv(n, r.name, r.key)),
  ];
  const trialSpec = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    spec: {
      backoffLimit: 0,
      ...(spec.budget.trialTimeoutSeconds ? { activeDeadlineSeconds: spec.budget.trialTimeoutSeconds } : {}),
      template: {
        metadata: { labels: Object.assign({}, i.labels, { 'app.kubernetes.io/component': 'sweep-trial' }) },
        spec: podSpec({
          serviceAccountName: i.serviceAccount,
          runAsUser: i.runAsUser,
          // The credential files are 0440 with the pod's fsGroup (workload-pod.ts userPlatformEnv).
          ...(files.volumes.length ? { fsGroup: i.runAsUser } : {}),
          restartPolicy: 'Never',
          ...placement(t.compute),
          containers: [container({
            name: 'training',
            image: t.image,
            command: [...t.command],
            args: [...t.args.map((a) => a.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, n: string) => ref(n))), ...flags],
            ...(t.workingDir ? { workingDir: t.workingDir } : {}),
            env,
            resources: computeResources(t.compute),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'shared', mountPath: SHARED_DIR }, ...shm.mounts, ...files.mounts],
          })],
          volumes: [emptyDir('tmp', t.compute.ephemeralStorage.toKubernetes()), emptyDir('shared', '64Mi'), ...shm.volumes, ...files.volumes],
        }),
      },
    },
  };
  const settings = (m: Record<string, string | number | boolean | undefined>) =>
    Object.entries(m).filter(([, v]) => v !== undefined).map(([name, v]) => ({ name, value: String(v) }));
  const s = spec.sampler.settings;
  const algorithmName = spec.sampler.kind === 'tpe' && s.multivariate ? 'multivariate-tpe' : ALGORITHMS[spec.sampler.kind];
  const algorithmSettings = settings({
    random_state: spec.sampler.seed,
    ...(spec.sampler.kind === 'tpe' ? { n_startup_trials: s.n_startup_trials as number, n_ei_candidates: s.n_ei_candidates as number } : {}),
    ...(spec.sampler.kind === 'cmaes' ? { sigma: s.sigma0 as number } : {}),
  });
  const p = spec.pruner.settings;
  return new K8sObject(scope, 'experiment', {
    apiVersion: KATIB_API_VERSION,
    kind: 'Experiment',
    metadata: { name: i.name, namespace: spec.namespace, labels: Object.assign({}, i.labels, { 'app.kubernetes.io/component': 'sweep' }) },
    spec: {
      objective: { type: o.direction, objectiveMetricName: o.metric, metricStrategies: [{ name: o.metric, value: o.strategy }] },
      algorithm: { algorithmName, ...(algorithmSettings.length ? { algorithmSettings } : {}) },
      ...(spec.pruner.kind === 'median' ? { earlyStopping: { algorithmName: 'medianstop', algorithmSettings: settings({ min_trials_required: p.n_startup_trials, start_step: p.n_warmup_steps }) } } : {}),
      parallelTrialCount: spec.budget.workers,
      maxTrialCount: spec.budget.trials,
      maxFailedTrialCount: spec.budget.maxFailedTrials,
      parameters: spec.parameters.map((q) => q.type === 'categorical'
        ? { name: q.name, parameterType: 'categorical', feasibleSpace: { list: q.choices.map(str) } }
        : {
          name: q.name,
          parameterType: q.type === 'int' ? 'int' : 'double',
          feasibleSpace: {
            min: str(q.low),
            max: str(q.high),
            ...(q.step !== undefined ? { step: str(q.step) } : {}),
            ...(q.type === 'float' ? { distribution: q.log ? 'logUniform' : 'uniform' } : {}),
          },
        }),
      metricsCollectorSpec: spec.metrics.jsonFile
        ? { collector: { kind: 'File' }, source: { fileSystemPath: { path: `${SHARED_DIR}/metrics.json`, kind: 'File', format: 'JSON' } } }
        : { collector: { kind: 'StdOut' }, source: { filter: { metricsFormat: [KATIB_METRICS_FORMAT] } } },
      trialTemplate: {
        primaryContainerName: 'training',
        trialParameters: spec.parameters.map((q) => ({ name: q.name, reference: q.name, description: `${q.type} parameter ${q.name}` })),
        trialSpec,
      },
    },
  });
}

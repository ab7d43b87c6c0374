import { Issues } from '../errors';
import { checkDnsLabel } from '../names';
import { PlatformContext } from '../platform/context';
import { Duration } from '../quantities';
import { ancestors, findCycle } from './dag';
import { joinKey } from './dataset';
import { checkNotTemplated, findReferences, IDENTIFIER, Reference } from './references';
import { ScheduleOptions, ScheduleSpec, resolveSchedule } from './schedule';
import { checkNamespace, WORKLOAD_NAMESPACE_FIX } from '../reserved';
import { MAX_STEP_NAME, resolveStep, StepArtifactRef, StepDefinition, StepOptions, StepSpec } from './step';
import { checkText } from '../text';

/** A pipeline parameter: a value each run may set, referenced with `pipeline.parameter(name)`. */
export interface ParameterOptions {
  /** Value when a run does not set one. @default none: every run must set it */
  readonly default?: string;
  /** The only values allowed. @default any value */
  readonly enum?: readonly string[];
  /** Shown in the Argo UI. @default none */
  readonly description?: string;
}

/** The step that runs when a run ends, whatever its outcome (Argo `onExit`); `{{workflow.status}}` tells the outcome. */
export type ExitHandlerOptions = Pick<StepOptions, 'image' | 'command' | 'args' | 'env' | 'secretEnv' | 'cpu' | 'cpuLimit' | 'memory' | 'ephemeralStorage' | 'retry' | 'timeout' | 'runAsUser'>;

/** How long finished runs and their pods are kept. */
export interface RetentionOptions {
  /** Keep a succeeded run this long. @default Duration.days(1) */
  readonly afterSuccess?: Duration;
  /** Keep a failed run this long (to debug it). @default Duration.days(7) */
  readonly afterFailure?: Duration;
}

/** Everything that describes a pipeline, short of the platform it runs on. */
export interface PipelineOptions {
  /**
   * Namespace the pipeline's objects and runs live in: a tenant namespace of the platform.
   * @default the platform's first tenant; required without a platform
   */
  readonly namespace?: string;
  /** MLflow experiment every step logs to. Takes no Argo expressions (`{{…}}` is an error). @default the pipeline name */
  readonly experiment?: string;
  /** Parameters of a run, by name (an identifier). @default {} */
  readonly parameters?: Readonly<Record<string, ParameterOptions>>;
  /** Steps, declared in one go (`addStep` adds more). @default [] */
  readonly steps?: readonly StepDefinition[];
  /** Run on a schedule (a CronWorkflow). @default no schedule */
  readonly schedule?: ScheduleOptions;
  /** Longest a whole run may take. @default no limit */
  readonly timeout?: Duration;
  /** Most pods of one run at once. @default no limit */
  readonly parallelism?: number;
  /** Retention of finished runs. @default see {@link RetentionOptions} */
  readonly retention?: RetentionOptions;
  /**
   * When pods of a run are deleted: `OnPodSuccess` keeps failed pods for their logs until the run
   * itself is deleted.
   * @default 'OnPodSuccess'
   */
  readonly podGc?: 'OnPodCompletion' | 'OnPodSuccess' | 'OnWorkflowCompletion' | 'OnWorkflowSuccess';
  /** Exit handler (notification, cleanup). @default none */
  readonly onExit?: ExitHandlerOptions;
  /** Git revision of the training code, recorded on every run and as the MLflow `mlflow.source.git.commit` tag. @default not recorded */
  readonly codeRevision?: string;
}

/** Input of {@link resolvePipeline}: options plus the name, the steps and an identity token. */
export interface PipelineDefinition extends PipelineOptions {
  /** Pipeline name (the WorkflowTemplate's). */
  readonly name: string;
  /** Identity of the pipeline: step handles carry it, so a step of another pipeline is told apart. */
  readonly owner: object;
}

/** A validated step with what the renderer needs from the pipeline. */
export interface PipelineStepSpec extends StepSpec {
  /** The step-template inputs: references used in the step plus those its cache key needs, deduplicated. */
  readonly parameterInputs: readonly Reference[];
  /** Whether the step is a fan-out. */
  readonly fanOut: boolean;
}

/** A validated pipeline. */
export interface PipelineSpec {
  readonly name: string;
  readonly namespace: string;
  readonly experiment: string;
  readonly parameters: readonly ({ readonly name: string } & ParameterOptions)[];
  readonly steps: readonly PipelineStepSpec[];
  readonly schedule?: ScheduleSpec;
  readonly timeoutSeconds?: number;
  readonly parallelism?: number;
  readonly retention: { readonly secondsAfterSuccess: number; readonly secondsAfterFailure: number };
  readonly podGc: string;
  readonly onExit?: StepSpec;
  readonly codeRevision?: string;
  /** Kueue LocalQueue of the namespace's tenant, when the platform runs Kueue. */
  readonly queueName?: string;
  /** Object-store key prefix of this pipeline's artifacts (the run and step follow). */
  readonly artifactPrefix: string;
  readonly platform?: PlatformContext;
}

/** A reference to pipeline parameter `name`, for a step's command, args, env or `when`. */
export function parameterRef(name: string): string {
  return `{{workflow.parameters.${name}}}`;
}

/**
 * A step of a pipeline, as `addStep` returns it: later steps run after it (`after: [step]`), read
 * its output parameters (`step.output('accuracy')`) and artifacts (`step.artifact('model')`).
 */
export class PipelineStep {
  constructor(
    /** The step name. */
    public readonly name: string,
    /** The pipeline's name. */
    public readonly pipelineName: string,
    /** Identity of the pipeline (compared, never rendered). */
    public readonly owner: object,
  ) {}

  /** A reference to output parameter `name` of this step. */
  public output(name: string): string {
    return `{{tasks.${this.name}.outputs.parameters.${name}}}`;
  }

  /** Output `name` of this step, as an input of a later step. */
  public artifact(name: string): StepArtifactRef {
    return { step: this, output: name };
  }
}

/** Run variables holding free text that a multi-node step's Job cannot be given (see checkStepLinks). */
const FREE_TEXT_RUN_VARIABLE = /^\{\{\s*(node\.name|workflow\.annotations\.\S*)\s*\}\}$/;
const UNKNOWN_REF = 'is not a reference mlplatform knows; use pipeline.parameter(\'x\'), step.output(\'y\'), {{item}} or a run variable such as {{workflow.name}}';

/** Validates a whole pipeline at once and returns its spec, or throws one ValidationError listing every issue. */
/**
 * Why a parameter value may not hold `{{`: Argo substitutes the workflow parameters into a template and
 * then substitutes that result again with the template's inputs (argo-workflows v4.0.7
 * workflow/common/util.go, `SubstituteParams`), so a `{{…}}` or `{{=…}}` inside a value is evaluated.
 */
export const ARGO_VALUE = 'must not contain "{{": Argo substitutes a parameter\'s value into the templates and then evaluates any {{…}} in it again; give a literal value';

export function resolvePipeline(def: PipelineDefinition, ctx?: PlatformContext): PipelineSpec {
  const issues = new Issues(`TrainingPipeline "${def.name}"`);
  // Steps are checked by resolveStep; the platform is no prop of the pipeline's own.
  checkText(issues, '', Object.assign({}, def, { steps: undefined, onExit: undefined, platform: undefined }));
  checkDnsLabel(issues, 'name', def.name, 40);
  const { namespace, queueName } = resolveNamespace(issues, def.namespace, ctx);
  const params = Object.entries(def.parameters ?? {}).map(([name, p]) => ({ name, ...p }));
  for (const p of params) {
    if (!IDENTIFIER.test(p.name) || p.name === 'item') issues.add(`parameters.${p.name}`, p.name, 'must be an identifier (a letter, then letters, digits and "_") other than "item"');
    if (p.enum && (p.enum.length === 0 || (p.default !== undefined && !p.enum.includes(p.default)))) issues.add(`parameters.${p.name}.default`, p.default, `must be one of enum (${p.enum.join(', ')})`);
    if (typeof p.default === 'string' && p.default.includes('{{')) issues.add(`parameters.${p.name}.default`, p.default, ARGO_VALUE);
    // The description sits in the same arguments, which Argo substitutes as well.
    if (typeof p.description === 'string' && p.description.includes('{{')) issues.add(`parameters.${p.name}.description`, p.description, ARGO_VALUE);
    (p.enum ?? []).forEach((v, i) => { if (typeof v === 'string' && v.includes('{{')) issues.add(`parameters.${p.name}.enum[${i}]`, v, ARGO_VALUE); });
  }
  const declared = params.map((p) => p.name);

  const defs = def.steps ?? [];
  const seen = new Map<string, number>();
  const specs: StepSpec[] = [];
  defs.forEach((d, i) => {
    const ok = checkDnsLabel(issues, `steps[${i}].name`, d.name, MAX_STEP_NAME);
    if (ok && seen.has(d.name)) issues.add(`steps[${i}].name`, d.name, `is already the name of steps[${seen.get(d.name)}]; step names must be unique in a pipeline`);
    else if (ok) seen.set(d.name, i);
    specs.push(resolveStep(issues, ok ? `steps.${d.name}` : `steps[${i}]`, d, ctx));
  });
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const s of specs) {
    const task = `${s.name}-register`;
    if (s.registerModel && byName.has(task)) issues.add('steps.' + task + '.name', task, `collides with the task that registers the model of step "${s.name}"; rename the step`);
  }
  const graph = new Map<string, string[]>();
  defs.forEach((d, i) => {
    const path = `steps.${d.name}`;
    (d.after ?? []).forEach((a, j) => {
      const name = typeof a === 'string' ? a : a.name;
      if (typeof a !== 'string' && a.owner !== def.owner) {
        issues.add(`${path}.after[${j}]`, name, `is step "${name}" of pipeline "${a.pipelineName}"; a step can only run after steps of its own pipeline`);
      } else if (name === d.name) {
        issues.add(`${path}.after[${j}]`, name, 'is the step itself; remove it');
      } else if (!byName.has(name)) {
        issues.add(`${path}.after[${j}]`, name, `names no step of this pipeline; use one of: ${[...byName.keys()].filter((n) => n !== d.name).join(', ') || '(no other step)'}`);
      }
    });
    if (!graph.has(d.name)) graph.set(d.name, specs[i].dependencies.filter((n) => byName.has(n) && n !== d.name));
  });
  const cycle = findCycle(graph);
  if (cycle) issues.add(`steps.${cycle[0]}.after`, byName.get(cycle[0])!.dependencies, `closes the cycle ${cycle.join(' → ')}; remove one of these dependencies`);

  const steps: PipelineStepSpec[] = [];
  if (!cycle) {
    for (const [i, s] of specs.entries()) {
      steps.push(checkStepLinks(issues, `steps.${s.name}`, defs[i], s, { declared, byName, graph, owner: def.owner, steps }));
    }
  }
  let onExit: StepSpec | undefined;
  if (def.onExit) {
    onExit = resolveStep(issues, 'onExit', Object.assign({}, def.onExit, { name: 'exit-handler' }), ctx);
    for (const r of onExit.references) {
      if (r.kind === 'parameter' && !declared.includes(r.name)) issues.add('onExit', r.text, `references parameter "${r.name}", which is not declared; declare it in \`parameters\``);
      if (r.kind === 'output' || r.kind === 'item' || r.kind === 'unknown') issues.add('onExit', r.text, r.kind === 'unknown' ? UNKNOWN_REF : 'the exit handler can read parameters and run variables ({{workflow.status}}) only');
    }
  }
  const schedule = def.schedule && resolveSchedule(issues, 'schedule', def.schedule, declared);
  if (def.schedule) {
    for (const p of params) if (p.default === undefined && !(p.name in (def.schedule.parameters ?? {}))) issues.add(`schedule.parameters.${p.name}`, undefined, 'is required: the parameter has no default, so scheduled runs must set it');
  }
  if (def.parallelism !== undefined && (!Number.isInteger(def.parallelism) || def.parallelism < 1)) issues.add('parallelism', def.parallelism, 'must be a whole number ≥ 1');
  const timeoutSeconds = def.timeout?.toSeconds();
  if (timeoutSeconds !== undefined && timeoutSeconds < 1) issues.add('timeout', def.timeout!.toString(), 'must be at least 1s');
  const podGc = def.podGc ?? 'OnPodSuccess';
  if (!['OnPodCompletion', 'OnPodSuccess', 'OnWorkflowCompletion', 'OnWorkflowSuccess'].includes(podGc)) issues.add('podGc', podGc, 'must be "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion" or "OnWorkflowSuccess"');
  if (def.codeRevision !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.\/]{0,127}$/.test(def.codeRevision)) issues.add('codeRevision', def.codeRevision, 'must be a Git commit SHA or tag');
  const experiment = def.experiment ?? def.name;
  if (typeof experiment !== 'string' || experiment.trim() === '') issues.add('experiment', experiment, 'must be a non-empty MLflow experiment name');
  else checkNotTemplated(issues, 'experiment', experiment);
  issues.throwIfAny();
  return {
    name: def.name,
    namespace: namespace!,
    experiment,
    parameters: params,
    steps,
    schedule,
    timeoutSeconds,
    parallelism: def.parallelism,
    retention: {
      secondsAfterSuccess: (def.retention?.afterSuccess ?? Duration.days(1)).toSeconds(),
      secondsAfterFailure: (def.retention?.afterFailure ?? Duration.days(7)).toSeconds(),
    },
    podGc,
    onExit,
    codeRevision: def.codeRevision,
    queueName,
    artifactPrefix: joinKey(ctx?.store.prefix ?? '', 'pipelines', namespace ?? '', def.name),
    platform: ctx,
  };
}

/**
 * What {@link resolvePipeline} returns for `def`, when `def`'s steps are those `previous` was
 * resolved from (with the same options and an unchanged `ctx`) plus one more at the end: only the new
 * step is validated and linked, since earlier steps can neither depend on it nor change (a step reads
 * earlier steps only). Whenever the new step has an issue, the whole pipeline is validated again, so
 * the ValidationError is exactly the one `resolvePipeline` throws.
 */
export function resolveAppendedStep(previous: PipelineSpec, def: PipelineDefinition, ctx?: PlatformContext): PipelineSpec {
  const defs = def.steps ?? [];
  const i = defs.length - 1;
  const d = defs[i];
  if (i !== previous.steps.length) return resolvePipeline(def, ctx);
  const issues = new Issues(`TrainingPipeline "${def.name}"`);
  const byName = new Map<string, StepSpec>(previous.steps.map((x) => [x.name, x]));
  if (!checkDnsLabel(issues, `steps[${i}].name`, d.name, MAX_STEP_NAME) || byName.has(d.name)) return resolvePipeline(def, ctx);
  const s = resolveStep(issues, `steps.${d.name}`, d, ctx);
  byName.set(s.name, s);
  if (s.registerModel && byName.has(`${s.name}-register`)) return resolvePipeline(def, ctx);
  if (byName.get(`${s.name.replace(/-register$/, '')}`)?.registerModel && s.name.endsWith('-register')) return resolvePipeline(def, ctx);
  for (const a of d.after ?? []) {
    const name = typeof a === 'string' ? a : a.name;
    if ((typeof a !== 'string' && a.owner !== def.owner) || name === d.name || !byName.has(name)) return resolvePipeline(def, ctx);
  }
  const graph = new Map<string, string[]>();
  for (const x of [...previous.steps, s]) graph.set(x.name, x.dependencies.filter((n) => byName.has(n) && n !== x.name));
  const declared = previous.parameters.map((p) => p.name);
  const linked = checkStepLinks(issues, `steps.${s.name}`, d, s, { declared, byName, graph, owner: def.owner, steps: previous.steps });
  if (!issues.ok) return resolvePipeline(def, ctx);
  return Object.assign({}, previous, { steps: [...previous.steps, linked] });
}

function resolveNamespace(issues: Issues, given: string | undefined, ctx?: PlatformContext): { namespace?: string; queueName?: string } {
  const tenants = ctx?.tenants ?? [];
  if (given === undefined) {
    if (!ctx) issues.add('namespace', given, 'is required without a platform: give the namespace the pipeline runs in');
    else if (tenants.length === 0) issues.add('namespace', given, `is required: platform "${ctx.name}" has no tenant yet; add one with addTenant() before the pipeline, or give a namespace`);
  } else if (checkNamespace(issues, 'namespace', given, WORKLOAD_NAMESPACE_FIX) && ctx && !tenants.some((t) => t.namespace === given)) {
    issues.add('namespace', given, `is not a tenant namespace of platform "${ctx.name}"; use one of: ${tenants.map((t) => t.namespace).join(', ') || '(no tenant: add one with addTenant())'}`);
  }
  const namespace = given ?? tenants[0]?.namespace;
  const tenant = tenants.find((t) => t.namespace === namespace);
  return { namespace, queueName: ctx?.addons.has('kueue') ? tenant?.queueName : undefined };
}

interface LinkContext {
  readonly declared: readonly string[];
  readonly byName: ReadonlyMap<string, StepSpec>;
  readonly graph: ReadonlyMap<string, readonly string[]>;
  readonly owner: object;
  /** Steps already linked (earlier in declaration order). */
  readonly steps: readonly PipelineStepSpec[];
}

/** Checks what a step reads from the pipeline (parameters, outputs, artifacts) and computes its template inputs. */
function checkStepLinks(issues: Issues, path: string, d: StepDefinition, s: StepSpec, c: LinkContext): PipelineStepSpec {
  const before = ancestors(c.graph, s.name);
  const sites: [string, string][] = [
    ...(d.command ?? []).map((t, i): [string, string] => [`command[${i}]`, t]),
    ...(d.args ?? []).map((t, i): [string, string] => [`args[${i}]`, t]),
    ...s.env.map((e): [string, string] => [`env.${e.name}`, e.value]),
    ...(s.when !== undefined ? [['when', s.when] as [string, string]] : []),
    ...(typeof d.forEach === 'string' ? [['forEach', d.forEach] as [string, string]] : []),
  ];
  for (const [field, text] of sites) {
    for (const r of findReferences(text)) {
      const at = `${path}.${field}`;
      if (r.kind === 'unknown') {issues.add(at, text, UNKNOWN_REF);} else if (r.kind === 'parameter' && !c.declared.includes(r.name)) {
        issues.add(at, text, `references parameter "${r.name}", which is not declared; declare it in \`parameters\` (declared: ${c.declared.join(', ') || 'none'})`);
      } else if (r.kind === 'item' && (!s.forEach || field === 'forEach')) {
        issues.add(at, text, 'uses {{item}}, but the step has no `forEach`');
      } else if (r.kind === 'output') {checkProducer(issues, at, text, r.step, r.output, 'outputParameters', s, before, c);} else if (r.kind === 'global' && s.nodes > 1 && field !== 'when' && FREE_TEXT_RUN_VARIABLE.test(r.text)) {
        // A multi-node step's values reach its Job as env vars set by `{{=…}}` expressions
        // (src/cdk8s/private/pipeline-multinode.ts); these two hold free text that no expression of the template can name.
        issues.add(at, text, `uses ${r.text}, which cannot be passed into a multi-node step's Job; pass the value as a pipeline parameter instead`);
      }
    }
  }
  for (const i of s.inputs) {
    if (i.kind !== 'artifact') continue;
    const src = (d.inputs ?? {})[i.name] as StepArtifactRef;
    const at = `${path}.inputs.${i.name}`;
    if (typeof src.step !== 'string' && src.step.owner !== c.owner) {issues.add(at, `${i.step}.${i.output}`, `is an output of step "${i.step}" of pipeline "${src.step.pipelineName}"; a step can only read outputs of its own pipeline`);} else if (checkProducer(issues, at, `${i.step}.${i.output}`, i.step, i.output, 'outputs', s, before, c)) {
      const producer = c.byName.get(i.step)!;
      if (producer.forEach) issues.add(at, `${i.step}.${i.output}`, `is an output of fan-out step "${i.step}" (one per item); read it from a step that is not a fan-out`);
      if (s.nodes > 1 && producer.cache) issues.add(at, `${i.step}.${i.output}`, `is an output of cached step "${i.step}": on a cache hit it lies under an earlier run, and a multi-node step pulls its inputs from this run's keys; drop \`cache\` on "${i.step}"`);
      if (s.cache && !producer.cache) issues.add(`${path}.cache`, s.cache.maxAge, `would reuse results across different "${i.step}" outputs: "${i.step}" is not cached, so its "${i.output}" can change between runs with the same parameters; cache "${i.step}" too or drop \`cache\``);
    }
  }
  // Template inputs: own references, plus (for a cached step) the inputs of the cached steps whose artifacts it reads.
  const inputs = new Map<string, Reference>();
  for (const r of s.references) if (r.kind === 'parameter' || r.kind === 'output' || r.kind === 'item') inputs.set(r.text.replace(/\s+/g, ''), r);
  if (s.cache) {
    for (const i of s.inputs) {
      const producer = i.kind === 'artifact' ? c.steps.find((p) => p.name === i.step) : undefined;
      for (const r of producer?.cache ? producer.parameterInputs : []) if (r.kind !== 'item') inputs.set(r.text.replace(/\s+/g, ''), r);
    }
  }
  // The two new fields first, then the step's own (a StepSpec has neither): one hidden class for every step, where
  // `Object.assign({}, s, …)` would make these 20-field objects dictionaries (.projenrc.ts, no-restricted-syntax).
  return { parameterInputs: [...inputs.values()], fanOut: s.forEach !== undefined, ...s };
}

function checkProducer(issues: Issues, at: string, text: string, step: string, output: string, field: 'outputs' | 'outputParameters', s: StepSpec, before: ReadonlySet<string>, c: LinkContext): boolean {
  const producer = c.byName.get(step);
  if (!producer) {
    issues.add(at, text, `references step "${step}", which is not a step of this pipeline`);
    return false;
  }
  if (step === s.name || !before.has(step)) {
    issues.add(at, text, step === s.name ? 'references the step\'s own output' : `reads step "${step}", which does not run before it; add "${step}" to \`after\``);
    return false;
  }
  if (!producer[field].includes(output)) {
    issues.add(at, text, `step "${step}" declares no ${field === 'outputs' ? 'output' : 'output parameter'} "${output}" (it has: ${producer[field].join(', ') || 'none'}); add it to its \`${field}\``);
    return false;
  }
  return true;
}

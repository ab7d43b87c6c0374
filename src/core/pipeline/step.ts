import { Issues } from '../errors';
import { PlatformContext } from '../platform/context';
import { Duration } from '../quantities';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';
import { isPinnedImage } from '../versions';
import { checkEnvValue, ComputeOptions, ComputeSpec, resolveCompute } from '../workload';
import { Dataset, DatasetSpec } from './dataset';
import { checkNotTemplated, findReferences, IDENTIFIER, Reference } from './references';
import { checkText } from '../text';

/** When and how often a failed step is tried again (Argo `retryStrategy`). */
export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly limit: number;
  /**
   * Which failures are retried: `OnFailure` (the container failed), `OnError` (Kubernetes or Argo
   * errors, e.g. a node went away), `OnTransientError`, or `Always`.
   * @default 'Always'
   */
  readonly policy?: 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';
  /**
   * Wait between attempts: `duration`, multiplied by `factor` after each, at most `maxDuration` in all.
   * @default retry at once
   */
  readonly backoff?: { readonly duration: Duration; readonly factor?: number; readonly maxDuration?: Duration };
}

/** Caching of a step's outputs (Argo `memoize`), keyed on its inputs. */
export interface CacheOptions {
  /** How old a cached result may be and still be reused. */
  readonly maxAge: Duration;
}

/**
 * How a multi-node step (`nodes` > 1) runs: `torchrun` on every node of an Indexed Job with a
 * headless Service (no operator needed), or the same as a Kubeflow `PyTorchJob` or a `JobSet`.
 */
export interface DistributedOptions {
  /** @default 'job' */
  readonly backend?: 'job' | 'pytorchjob' | 'jobset';
  /**
   * Restart budget: how many times the whole group of nodes may be restarted after a failure
   * (pods lost to preemption or node drain are not counted).
   * @default 1
   */
  readonly restarts?: number;
  /** torchrun rendezvous port on the node of index 0. @default 29500 */
  readonly port?: number;
}

/** Register a step's model output in the MLflow model registry once the step succeeded. */
export interface RegisterModelOptions {
  /** Name of the step's output that holds an MLflow model directory (see `outputs`). */
  readonly output: string;
  /** Registered model name. */
  readonly name: string;
  /**
   * Alias set on the new version (e.g. `candidate`), which a model endpoint can serve.
   * @default no alias
   */
  readonly alias?: string;
}

/**
 * An output of an earlier step read as an input: `step.artifact('model')`, or
 * `{ step: 'train', output: 'model' }` for steps declared in the `steps` prop.
 */
export interface StepArtifactRef {
  /** The producing step: its handle, or its name in the same pipeline. */
  readonly step: string | { readonly name: string; readonly pipelineName: string; readonly owner: object };
  /** The output's name. */
  readonly output: string;
}

/** What one step runs. */
export interface StepOptions extends ComputeOptions {
  /** Container image, pinned (a tag other than `latest`, or a digest). Takes no Argo expressions (`{{…}}` is an error). */
  readonly image: string;
  /**
   * Entrypoint. Accepts Argo expressions: `pipeline.parameter('x')`, `step.output('y')`, `{{item}}`,
   * run variables such as `{{workflow.name}}` and `{{=…}}`; Kubernetes expands your own `$(VAR)`.
   * @default the image's
   */
  readonly command?: readonly string[];
  /** Arguments; accept Argo expressions as `command` does. @default the image's */
  readonly args?: readonly string[];
  /** Plain environment variables (no secrets: use `secretEnv`); values accept Argo expressions as `command` does. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment variables read from Secrets of the namespace. @default {} */
  readonly secretEnv?: Readonly<Record<string, SecretKeyRef>>;
  /** Steps this one runs after (handles, or names of steps of the same pipeline). @default [] */
  readonly after?: readonly (string | { readonly name: string; readonly pipelineName: string; readonly owner: object })[];
  /** Data read into `/mnt/inputs/<name>` before the step starts. @default {} */
  readonly inputs?: Readonly<Record<string, Dataset | StepArtifactRef>>;
  /**
   * Outputs the step writes under `/mnt/outputs/<name>` (`$MLPLATFORM_OUTPUTS`): a directory or
   * file each, stored in the platform's object store under the run's and the step's key.
   * @default []
   */
  readonly outputs?: readonly string[];
  /** Small values the step writes to `/mnt/outputs/<name>`, passed to later steps by `step.output(name)`. @default [] */
  readonly outputParameters?: readonly string[];
  /** Retries. @default no retry */
  readonly retry?: RetryOptions;
  /** Longest one attempt may run. @default no limit */
  readonly timeout?: Duration;
  /** Reuse the outputs of an earlier run with the same inputs. @default no caching */
  readonly cache?: CacheOptions;
  /**
   * Fan out: run the step once per item (`{{item}}`, `{{item.field}}`), or once per element of the
   * JSON list an output parameter holds (`step.output('shards')`).
   * @default run once
   */
  readonly forEach?: readonly (string | number | Readonly<Record<string, string | number>>)[] | string;
  /** Argo `when` condition (an Argo expression), e.g. `` `${evaluate.output('accuracy')} > 0.9` ``. @default always */
  readonly when?: string;
  /** Nodes of a distributed (torchrun) step; each gets `gpus` GPUs and runs `gpus` processes. @default 1 */
  readonly nodes?: number;
  /** How a multi-node step runs. @default see {@link DistributedOptions} */
  readonly distributed?: DistributedOptions;
  /** Register the model in one of `outputs` in MLflow after the step. Needs a platform. @default no registration */
  readonly registerModel?: RegisterModelOptions;
  /** uid (and gid) the containers run as; images running as root are started as this user. @default 1000 */
  readonly runAsUser?: number;
}

/** A step declared with its name (the `steps` prop of a pipeline). */
export interface StepDefinition extends StepOptions {
  /** Step name: a DNS-1123 label of at most 40 characters, unique in the pipeline. */
  readonly name: string;
}

/** A validated input. */
export type InputSpec =
  | { readonly name: string; readonly kind: 'dataset'; readonly dataset: DatasetSpec }
  | { readonly name: string; readonly kind: 'artifact'; readonly step: string; readonly output: string };

/** A validated step (before the pipeline-level checks). */
export interface StepSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly secretEnv: readonly { readonly name: string; readonly ref: SecretKeyRef }[];
  /** Names of the steps it runs after: exactly `after`, in order. */
  readonly dependencies: readonly string[];
  readonly compute: ComputeSpec;
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly string[];
  readonly outputParameters: readonly string[];
  readonly retry?: { readonly limit: number; readonly policy: string; readonly backoff?: { readonly duration: string; readonly factor?: number; readonly maxDuration?: string } };
  readonly timeoutSeconds?: number;
  readonly cache?: { readonly maxAge: string };
  readonly forEach?: { readonly items: readonly unknown[] } | { readonly parameter: string };
  readonly when?: string;
  readonly nodes: number;
  readonly distributed?: { readonly backend: 'job' | 'pytorchjob' | 'jobset'; readonly restarts: number; readonly port: number };
  readonly registerModel?: { readonly output: string; readonly name: string; readonly alias?: string };
  readonly runAsUser: number;
  /** References in command, args and env (rewritten to template inputs when rendered). */
  readonly references: readonly Reference[];
}

/** Longest step name: leaves room for suffixes in Kubernetes names (`-register`, Service names). */
export const MAX_STEP_NAME = 40;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates one step's own props (references to other steps and parameters are checked by the pipeline). */
export function resolveStep(issues: Issues, path: string, d: StepDefinition, ctx?: PlatformContext): StepSpec {
  checkText(issues, path, Object.assign({}, d, { name: undefined }));
  const compute = resolveCompute(issues, path, d, ctx?.pools ?? []);
  if (!checkNotTemplated(issues, `${path}.image`, d.image)) {
    // Whoever submits a run would pick the image.
  } else if (typeof d.image !== 'string' || !isPinnedImage(d.image)) {
    issues.add(`${path}.image`, d.image, 'must be an image pinned to a tag other than "latest" or a digest, e.g. "ghcr.io/acme/train:1.4.2"');
  }
  const env = Object.entries(d.env ?? {}).map(([name, value]) => ({ name, value }));
  const secretEnv = Object.entries(d.secretEnv ?? {}).map(([name, ref]) => ({ name, ref }));
  for (const e of [...env, ...secretEnv]) {
    if (!ENV_NAME.test(e.name)) issues.add(`${path}.${'ref' in e ? 'secretEnv' : 'env'}.${e.name}`, e.name, 'must be an environment variable name (letters, digits and "_", not starting with a digit)');
    if (e.name.startsWith('MLPLATFORM_') || e.name.startsWith('MLFLOW_')) issues.add(`${path}.${'ref' in e ? 'secretEnv' : 'env'}.${e.name}`, e.name, 'is set by mlplatform (MLPLATFORM_* and MLFLOW_* are reserved); choose another name');
  }
  secretEnv.forEach((e) => checkSecretKeyRef(issues, `${path}.secretEnv.${e.name}`, e.ref));
  env.forEach((e) => checkEnvValue(issues, `${path}.env.${e.name}`, e.name, e.value));
  const dependencies = (d.after ?? []).map((a) => (typeof a === 'string' ? a : a.name));
  const names = new Set<string>();
  const outputs = [...(d.outputs ?? [])];
  const outputParameters = [...(d.outputParameters ?? [])];
  for (const [field, list] of [['outputs', outputs], ['outputParameters', outputParameters]] as const) {
    list.forEach((n, i) => {
      if (typeof n !== 'string' || !IDENTIFIER.test(n)) issues.add(`${path}.${field}[${i}]`, n, 'must be an identifier (a letter, then letters, digits and "_")');
      else if (names.has(n)) issues.add(`${path}.${field}[${i}]`, n, 'is already an output of this step; output names must be unique');
      names.add(n);
    });
  }
  const inputs: InputSpec[] = [];
  for (const [name, src] of Object.entries(d.inputs ?? {})) {
    const p = `${path}.inputs.${name}`;
    if (!IDENTIFIER.test(name)) issues.add(p, name, 'must be an identifier (a letter, then letters, digits and "_")');
    if (src instanceof Dataset) inputs.push({ name, kind: 'dataset', dataset: src._resolve(issues, p, ctx) });
    else if (src && typeof src === 'object' && 'output' in src) inputs.push({ name, kind: 'artifact', step: typeof src.step === 'string' ? src.step : src.step.name, output: src.output });
    else issues.add(p, src, 'must be Dataset.fromDvc(…), Dataset.fromBucket(…) or an earlier step\'s artifact(…)');
  }
  const nodes = d.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1) issues.add(`${path}.nodes`, d.nodes, 'must be a whole number ≥ 1');
  const multi = nodes > 1;
  if (multi && (d.gpus ?? 0) === 0) {
    issues.add(`${path}.nodes`, nodes, 'needs an accelerator: a multi-node step runs torchrun with one process per GPU; set `gpus` ≥ 1 (and `accelerator` or `pool`), or use nodes: 1');
  }
  // Whether the pool holds `nodes` such pods at once is the synth-time schedulability check (src/core/checks).
  // A multi-node step's store inputs and outputs are moved by mlplatform's own containers (core/pipeline/io.ts), with the platform's store.
  if (multi) {
    if (outputParameters.length) issues.add(`${path}.outputParameters`, outputParameters, 'are not collected from multi-node steps (Argo reads output parameters from one pod); write them as an output file, or log them to MLflow');
    if (outputs.length && !ctx) issues.add(`${path}.outputs`, outputs, 'of a multi-node step are uploaded to the platform\'s store, but no `platform` is given; give one');
    if (outputs.length && d.cache) issues.add(`${path}.cache`, d.cache.maxAge.toGo(), 'cannot be used on a multi-node step with outputs: a cache hit would leave its outputs under the run that made them, where later steps do not look; drop `cache`');
    for (const i of inputs) {
      if (!ctx && (i.kind === 'artifact' || i.dataset.kind === 'bucket')) {
        issues.add(`${path}.inputs.${i.name}`, i.kind === 'artifact' ? `${i.step}.${i.output}` : i.dataset.version, 'is pulled from the platform\'s store into a multi-node step, but no `platform` is given; give one');
      }
    }
  }
  if (multi && !(d.command ?? []).length) issues.add(`${path}.command`, d.command, 'is required for a multi-node step: it is what torchrun launches on every node, e.g. ["/app/train.py"] or ["-m", "trainer.main"]');
  if (!multi && d.distributed !== undefined) issues.add(`${path}.distributed`, d.distributed, 'only applies to multi-node steps; set `nodes` > 1 or drop it');
  const backend = d.distributed?.backend ?? 'job';
  if (!['job', 'pytorchjob', 'jobset'].includes(backend)) issues.add(`${path}.distributed.backend`, backend, 'must be "job", "pytorchjob" or "jobset"');
  const restarts = d.distributed?.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 0) issues.add(`${path}.distributed.restarts`, restarts, 'must be a whole number ≥ 0');
  const port = d.distributed?.port ?? 29500;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) issues.add(`${path}.distributed.port`, port, 'must be a port between 1024 and 65535 (pods run as non-root)');
  const retry = d.retry && resolveRetry(issues, `${path}.retry`, d.retry);
  const timeoutSeconds = d.timeout?.toSeconds();
  if (timeoutSeconds !== undefined && timeoutSeconds < 1) issues.add(`${path}.timeout`, d.timeout!.toString(), 'must be at least 1s');
  let forEach: StepSpec['forEach'];
  if (typeof d.forEach === 'string') {
    const refs = findReferences(d.forEach);
    if (refs.length !== 1 || refs[0].kind !== 'output' || refs[0].text !== d.forEach.trim()) issues.add(`${path}.forEach`, d.forEach, 'must be a list of items or one step output holding a JSON list, e.g. split.output(\'shards\')');
    forEach = { parameter: d.forEach.trim() };
  } else if (d.forEach !== undefined) {
    if (!Array.isArray(d.forEach) || d.forEach.length === 0) {
      issues.add(`${path}.forEach`, d.forEach, 'must have at least one item');
    } else {
      // An object item is read by its fields ({{item.<field>}}): one without fields renders as nothing.
      d.forEach.forEach((item, i) => {
        if (typeof item === 'object' && item !== null && Object.keys(item).length === 0) issues.add(`${path}.forEach[${i}]`, item, 'must have at least one field (an object item is read as {{item.<field>}})');
        // An item reaches the step's template as an input parameter's value, which Argo substitutes the
        // workflow's parameters into (argo-workflows v4.0.7 workflow/common/util.go, SubstituteParams): a {{…}} in it is evaluated.
        const texts = typeof item === 'string' ? [['', item]] : typeof item === 'object' && item !== null ? Object.entries(item).map(([k, v]) => [`.${k}`, v]) : [];
        for (const [at, v] of texts) {
          if (typeof v === 'string' && v.includes('{{')) issues.add(`${path}.forEach[${i}]${at}`, v, 'must not contain "{{": Argo evaluates a {{…}} inside an item; give a literal value');
        }
      });
    }
    forEach = { items: [...d.forEach] };
  }
  if (multi && forEach && outputs.length) issues.add(`${path}.outputs`, outputs, 'are not collected from a multi-node fan-out (each item would need output keys of its own); fan out single-node steps, or drop `forEach`');
  const runAsUser = d.runAsUser ?? 1000;
  if (!Number.isInteger(runAsUser) || runAsUser < 1) issues.add(`${path}.runAsUser`, d.runAsUser, 'must be a non-root uid (a whole number ≥ 1)');
  const reg = d.registerModel;
  if (reg) {
    if (!outputs.includes(reg.output)) issues.add(`${path}.registerModel.output`, reg.output, `must be one of the step's \`outputs\` (${outputs.join(', ') || 'none declared'})`);
    if (typeof reg.name !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9_. ]{0,127}$/.test(reg.name)) issues.add(`${path}.registerModel.name`, reg.name, 'must be a model name of letters, digits, "-", "_", "." and spaces');
    if (reg.alias !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]{0,254}$/.test(reg.alias)) issues.add(`${path}.registerModel.alias`, reg.alias, 'must be an alias such as "candidate" (letters, digits, "_" and "-")');
    if (forEach) issues.add(`${path}.registerModel`, reg.name, 'cannot register the outputs of a fan-out (one model per item); register from a step that picks one');
    if (!ctx) issues.add(`${path}.registerModel`, reg.name, 'needs a platform (its MLflow registry and object store); give `platform`');
  }
  const texts = [...(d.command ?? []), ...(d.args ?? []), ...env.map((e) => e.value)];
  return {
    name: d.name,
    image: d.image,
    command: d.command ? [...d.command] : undefined,
    args: d.args ? [...d.args] : undefined,
    env,
    secretEnv,
    dependencies,
    compute,
    inputs,
    outputs,
    outputParameters,
    retry,
    timeoutSeconds,
    cache: d.cache ? { maxAge: d.cache.maxAge.toGo() } : undefined,
    forEach,
    when: d.when,
    nodes,
    distributed: multi ? { backend, restarts, port } : undefined,
    registerModel: reg ? { output: reg.output, name: reg.name, alias: reg.alias } : undefined,
    runAsUser,
    references: texts.flatMap(findReferences),
  };
}

function resolveRetry(issues: Issues, path: string, r: RetryOptions): StepSpec['retry'] {
  if (!Number.isInteger(r.limit) || r.limit < 0) issues.add(`${path}.limit`, r.limit, 'must be a whole number ≥ 0');
  const policy = r.policy ?? 'Always';
  if (!['Always', 'OnFailure', 'OnError', 'OnTransientError'].includes(policy)) issues.add(`${path}.policy`, policy, 'must be "Always", "OnFailure", "OnError" or "OnTransientError"');
  const b = r.backoff;
  if (b?.factor !== undefined && !(typeof b.factor === 'number' && b.factor >= 1)) issues.add(`${path}.backoff.factor`, b.factor, 'must be a number ≥ 1');
  return {
    limit: r.limit,
    policy,
    backoff: b ? { duration: b.duration.toGo(), factor: b.factor, maxDuration: b.maxDuration?.toGo() } : undefined,
  };
}

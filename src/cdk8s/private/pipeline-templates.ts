import { multiNodeResource } from './pipeline-multinode';
import { INPUTS_DIR, OUTPUTS_DIR, podSecurity, stepLabels, stepPod, trackingTags } from './pipeline-pod';
import { container } from './pod';
import { platformEnv } from './workload-pod';
import { kubeLiteral } from '../../core/kube-literal';
import { shortHash } from '../../core/names';
import { argumentValue, inputName, PipelineSpec, PipelineStepSpec, StepSpec } from '../../core/pipeline';
import { argoPassesArtifact, stepOutputKey } from '../../core/pipeline/io';
import { Cpu, Size } from '../../core/quantities';
import { yamlText } from '../../core/yaml-text';

type Json = Record<string, unknown>;

/** Images of the helper steps mlplatform adds. */
export interface PipelineImages {
  /** Registers models in MLflow (Python with the MLflow client and boto3). */
  readonly mlflow: string;
}

/** Names of the Argo templates: steps, registrations and the exit handler never collide with `main`. */
export const templateNames = {
  main: 'main',
  step: (s: string) => `step-${s}`,
  register: (s: string) => `register-${s}`,
  exit: 'exit-handler',
  /** DAG task registering step `s`'s model. */
  registerTask: (s: string) => `${s}-register`,
};

/** The object-store key of output `name` of step `s` in the current run. */
export function outputKey(p: PipelineSpec, s: StepSpec & { fanOut?: boolean }, name: string): string {
  return stepOutputKey(p, s, name);
}

/** The `spec` of the pipeline's WorkflowTemplate. */
export function workflowSpec(p: PipelineSpec, o: { serviceAccount: string; executorServiceAccount: string; images: PipelineImages }): Json {
  const templates: Json[] = [dagTemplate(p)];
  for (const s of p.steps) {
    templates.push(s.distributed ? resourceTemplate(p, s, o.serviceAccount, o.images.mlflow) : containerTemplate(p, s, o.images.mlflow));
    if (s.registerModel) templates.push(registerTemplate(p, s, o.images.mlflow));
  }
  if (p.onExit) templates.push(containerTemplate(p, Object.assign({}, p.onExit, { parameterInputs: [], fanOut: false }), o.images.mlflow, templateNames.exit, false));
  return {
    entrypoint: templateNames.main,
    serviceAccountName: o.serviceAccount,
    automountServiceAccountToken: false,
    executor: { serviceAccountName: o.executorServiceAccount },
    ...(p.parameters.length ? {
      arguments: {
        parameters: p.parameters.map((x) => ({
          name: x.name,
          ...(x.default !== undefined ? { value: x.default } : {}),
          ...(x.enum ? { enum: [...x.enum] } : {}),
          ...(x.description ? { description: x.description } : {}),
        })),
      },
    } : {}),
    ...(p.onExit ? { onExit: templateNames.exit } : {}),
    ...(p.timeoutSeconds ? { activeDeadlineSeconds: p.timeoutSeconds } : {}),
    ...(p.parallelism ? { parallelism: p.parallelism } : {}),
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    podGC: { strategy: p.podGc },
    ttlStrategy: { secondsAfterSuccess: p.retention.secondsAfterSuccess, secondsAfterFailure: p.retention.secondsAfterFailure },
    workflowMetadata: runMetadata(p),
    templates,
  };
}

/** Labels and annotations of every run: pipeline, code revision, image per step, data version per input. */
export function runMetadata(p: PipelineSpec): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = { 'mlplatform.io/pipeline': p.name };
  const annotations: Record<string, string> = {};
  if (p.codeRevision) {
    annotations['mlplatform.io/code-revision'] = p.codeRevision;
    if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(p.codeRevision)) labels['mlplatform.io/code-revision'] = p.codeRevision;
  }
  for (const s of p.steps) {
    annotations[`image.mlplatform.io/${s.name}`] = s.image;
    for (const i of s.inputs) if (i.kind === 'dataset') annotations[`data.mlplatform.io/${s.name}.${i.name}`.slice(0, 253)] = i.dataset.version;
  }
  return { labels, annotations };
}

function dagTemplate(p: PipelineSpec): Json {
  const tasks: Json[] = [];
  for (const s of p.steps) {
    const parameters = s.parameterInputs.map((r) => ({ name: inputName(r)!, value: argumentValue(r)! }));
    // Artifacts into or out of a multi-node step are pulled by the step's own I/O container instead (core/pipeline/io.ts).
    const artifacts = s.inputs.flatMap((i) => (i.kind === 'artifact' && argoPassesArtifact(p, s, i.step) ? [{ name: i.name, from: `{{tasks.${i.step}.outputs.artifacts.${i.output}}}` }] : []));
    tasks.push({
      name: s.name,
      template: templateNames.step(s.name),
      ...(s.dependencies.length ? { dependencies: [...s.dependencies] } : {}),
      ...(parameters.length || artifacts.length ? { arguments: Object.assign({}, parameters.length ? { parameters } : {}, artifacts.length ? { artifacts } : {}) } : {}),
      ...(s.forEach && 'items' in s.forEach ? { withItems: [...s.forEach.items] } : {}),
      ...(s.forEach && 'parameter' in s.forEach ? { withParam: s.forEach.parameter } : {}),
      ...(s.when ? { when: s.when } : {}),
    });
    if (s.registerModel) {
      // Argo runs a task after a *skipped* dependency too: repeat the step's condition so a skipped step registers nothing.
      tasks.push({ name: templateNames.registerTask(s.name), template: templateNames.register(s.name), dependencies: [s.name], ...(s.when ? { when: s.when } : {}) });
    }
  }
  return { name: templateNames.main, dag: { tasks } };
}

/** Argo template fields shared by container and resource steps: inputs, retries, timeout, cache, labels. */
function common(p: PipelineSpec, s: PipelineStepSpec): Json {
  const parameters = s.parameterInputs.map((r) => ({ name: inputName(r)! }));
  return {
    metadata: { labels: stepLabels(p, s) },
    ...(parameters.length ? { inputs: { parameters } } : {}),
    ...(s.retry ? {
      retryStrategy: {
        limit: s.retry.limit,
        retryPolicy: s.retry.policy,
        ...(s.retry.backoff ? { backoff: JSON.parse(JSON.stringify(s.retry.backoff)) } : {}),
      },
    } : {}),
    ...(s.timeoutSeconds ? { activeDeadlineSeconds: s.timeoutSeconds } : {}),
    ...(s.cache ? { memoize: { key: cacheKey(p, s), maxAge: s.cache.maxAge, cache: { configMap: { name: `${p.name}-cache` } } } } : {}),
  };
}

/**
 * Memoization key: the step, a hash of everything static that shapes its result (image, command,
 * args, env, data versions, resources), and a hash of its parameter inputs. Argo evaluates the
 * `{{=…}}` expression per run and refuses a key that is not `^[a-zA-Z0-9][-a-zA-Z0-9]*$`
 * (workflow/controller/cache/cache.go `cacheKeyRegex`: "invalid cache key", the step errors), hence
 * hashes joined by `-` (unambiguous: the step name is a DNS-1123 label, the hashes have fixed lengths).
 */
export function cacheKey(p: PipelineSpec, s: PipelineStepSpec): string {
  const statics = shortHash(JSON.stringify([p.name, s.image, s.command, s.args, s.env, s.inputs, s.outputs, s.outputParameters, s.nodes, s.compute.gpu?.count]), 16);
  const params = s.parameterInputs.map((r) => `inputs.parameters['${inputName(r)}']`);
  return params.length ? `${s.name}-${statics}-{{=sprig.sha256sum(${params.join(" + '|' + ")})}}` : `${s.name}-${statics}`;
}

/** A single-pod step (`rewrite`: references become template inputs; the exit handler reads run scope directly). */
function containerTemplate(p: PipelineSpec, s: PipelineStepSpec, ioImage: string, name = templateNames.step(s.name), rewrite = true): Json {
  const pod = stepPod(p, s, { name: 'main', rewrite, ioImage });
  const base = common(p, s) as { inputs?: Json };
  const artifacts = s.inputs.flatMap((i) => {
    const path = `${INPUTS_DIR}/${i.name}`;
    if (i.kind === 'artifact') return argoPassesArtifact(p, s, i.step) ? [{ name: i.name, path }] : [];
    // On a platform the step's I/O init container pulls bucket datasets (Argo's driver cannot read a prefix
    // with a prefix-scoped role: core/pipeline/io.ts); without one, Argo reads them from its default repository.
    if (i.dataset.kind === 'bucket' && !p.platform) return [{ name: i.name, path, s3: { key: i.dataset.key } }];
    return [];
  });
  const outParams = s.outputParameters.map((n) => ({ name: n, valueFrom: { path: `${OUTPUTS_DIR}/${n}` } }));
  const outArtifacts = s.outputs.map((n) => ({ name: n, path: `${OUTPUTS_DIR}/${n}`, s3: { key: outputKey(p, s, n) }, archive: { none: {} } }));
  return {
    name,
    ...base,
    ...(artifacts.length ? { inputs: Object.assign({}, base.inputs ?? {}, { artifacts }) } : {}),
    ...(outParams.length || outArtifacts.length
      ? { outputs: Object.assign({}, outParams.length ? { parameters: outParams } : {}, outArtifacts.length ? { artifacts: outArtifacts } : {}) }
      : {}),
    securityContext: pod.securityContext,
    ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    ...(pod.tolerations ? { tolerations: pod.tolerations } : {}),
    volumes: pod.volumes,
    ...(pod.initContainers.length ? { initContainers: pod.initContainers } : {}),
    container: pod.container,
  };
}

function resourceTemplate(p: PipelineSpec, s: PipelineStepSpec, serviceAccount: string, ioImage: string): Json {
  const r = multiNodeResource(p, s, serviceAccount, ioImage);
  return {
    name: templateNames.step(s.name),
    ...common(p, s),
    resource: {
      action: 'create',
      // The run owns the object: deleting or stopping the Workflow deletes the nodes too.
      setOwnerReference: true,
      successCondition: r.successCondition,
      failureCondition: r.failureCondition,
      manifest: yamlText(r.manifest),
    },
  };
}

/** Python run by the registration step: create the registered model if needed, add a version, set the alias. */
export const REGISTER_SCRIPT = [
  'import json, os',
  'from mlflow import MlflowClient',
  'from mlflow.exceptions import MlflowException',
  'client = MlflowClient()',
  'name = os.environ["MODEL_NAME"]',
  'try:',
  '    client.create_registered_model(name)',
  'except MlflowException as e:',
  '    if e.error_code != "RESOURCE_ALREADY_EXISTS":',
  '        raise',
  'version = client.create_model_version(name, os.environ["MODEL_SOURCE"], tags=json.loads(os.environ["MODEL_TAGS"]))',
  'if os.environ.get("MODEL_ALIAS"):',
  '    client.set_registered_model_alias(name, os.environ["MODEL_ALIAS"], version.version)',
  'os.makedirs("/mnt/outputs", exist_ok=True)',
  'open("/mnt/outputs/version", "w").write(str(version.version))',
  'print(f"registered {name} version {version.version}")',
].join('\n');

function registerTemplate(p: PipelineSpec, s: PipelineStepSpec, image: string): Json {
  const reg = s.registerModel!;
  const ctx = p.platform!;
  const source = `s3://${ctx.store.bucket}/${outputKey(p, s, reg.output)}`;
  const main = container({
    name: 'main',
    image,
    command: ['python', '-c', REGISTER_SCRIPT],
    env: [
      { name: 'HOME', value: '/tmp' },
      ...platformEnv(ctx, { experiment: p.experiment }),
      { name: 'MODEL_NAME', value: kubeLiteral(reg.name) },
      { name: 'MODEL_SOURCE', value: kubeLiteral(source) },
      ...(reg.alias ? [{ name: 'MODEL_ALIAS', value: reg.alias }] : []),
      { name: 'MODEL_TAGS', value: kubeLiteral(JSON.stringify(trackingTags(p, s))) },
    ],
    resources: {
      cpu: { request: Cpu.millis(100), limit: Cpu.millis(500) },
      memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
      ephemeralStorage: { request: Size.mebibytes(256), limit: Size.mebibytes(256) },
    },
    runAsUser: 1000,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'outputs', mountPath: OUTPUTS_DIR }],
  });
  return {
    name: templateNames.register(s.name),
    metadata: { labels: Object.assign({}, stepLabels(p, s), { 'mlplatform.io/role': 'register' }) },
    retryStrategy: { limit: 3, retryPolicy: 'Always', backoff: { duration: '10s', factor: 2 } },
    outputs: { parameters: [{ name: 'version', valueFrom: { path: `${OUTPUTS_DIR}/version` } }] },
    securityContext: podSecurity(1000),
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '128Mi' } }, { name: 'outputs', emptyDir: { sizeLimit: '1Mi' } }],
    container: main,
  };
}

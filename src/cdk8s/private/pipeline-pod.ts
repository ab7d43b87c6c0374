import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { container, emptyDir, secretEnv } from './pod';
import { computeResources, placement, platformEnv, sharedMemory } from './workload-pod';
import { PipelineSpec, rewriteReferences, StepSpec } from '../../core/pipeline';
import { Cpu, Size } from '../../core/quantities';

/** Where a step finds its inputs and writes its outputs. */
export const INPUTS_DIR = '/mnt/inputs';
/** Where a step writes its outputs (`$MLPLATFORM_OUTPUTS/<name>`). */
export const OUTPUTS_DIR = '/mnt/outputs';

/** The pieces of a step's pod: main container, init containers, volumes, pod security context and placement. */
export interface StepPod {
  readonly container: Json<k8s.Container>;
  readonly initContainers: Json<k8s.Container>[];
  readonly volumes: Json<k8s.Volume>[];
  readonly securityContext: Json<k8s.PodSecurityContext>;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Json<k8s.Toleration>[];
}

/** Pod labels of a step (also the headless Service selector of a multi-node step). */
export function stepLabels(p: PipelineSpec, s: { name: string }): Record<string, string> {
  return { 'mlplatform.io/pipeline': p.name, 'mlplatform.io/step': s.name };
}

/** The restricted pod security context, running as `uid` (group too; volumes group-owned by it). */
export function podSecurity(uid: number): Json<k8s.PodSecurityContext> {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } };
}

/**
 * MLflow tags every run of the step carries (MLflow's `MLFLOW_RUN_CONTEXT` run-context provider
 * adds them to each run the code starts): pipeline, run, step, image, code and data versions.
 */
export function trackingTags(p: PipelineSpec, s: StepSpec): Record<string, string> {
  const tags: Record<string, string> = {
    'mlplatform.pipeline': p.name,
    'mlplatform.run': '{{workflow.name}}',
    'mlplatform.run_uid': '{{workflow.uid}}',
    'mlplatform.step': s.name,
    'mlplatform.image': s.image,
  };
  if (p.codeRevision) tags['mlflow.source.git.commit'] = p.codeRevision;
  for (const i of s.inputs) if (i.kind === 'dataset') tags[`mlplatform.data.${i.name}`] = i.dataset.version;
  return tags;
}

/** The environment every step container gets, then the user's (references rewritten when `rewrite`). */
export function stepEnv(p: PipelineSpec, s: StepSpec, rewrite: boolean): Json<k8s.EnvVar>[] {
  const r = (t: string) => (rewrite ? rewriteReferences(t) : t);
  const env: Json<k8s.EnvVar>[] = [];
  if (!s.env.some((e) => e.name === 'HOME')) env.push({ name: 'HOME', value: '/tmp' });
  env.push(
    { name: 'MLPLATFORM_PIPELINE', value: p.name },
    { name: 'MLPLATFORM_RUN', value: '{{workflow.name}}' },
    { name: 'MLPLATFORM_STEP', value: s.name },
    { name: 'MLPLATFORM_INPUTS', value: INPUTS_DIR },
    { name: 'MLPLATFORM_OUTPUTS', value: OUTPUTS_DIR },
  );
  if (p.platform) {
    env.push(...platformEnv(p.platform, { experiment: p.experiment }));
    env.push({ name: 'MLFLOW_RUN_CONTEXT', value: JSON.stringify(trackingTags(p, s)) });
  }
  env.push(...s.env.map((e) => ({ name: e.name, value: r(e.value) })));
  env.push(...s.secretEnv.map((e) => secretEnv(e.name, e.ref.name, e.ref.key)));
  return env;
}

/** The init containers that fetch the step's DVC datasets into `/mnt/inputs/<name>`. */
export function dvcPulls(p: PipelineSpec, s: StepSpec): Json<k8s.Container>[] {
  const out: Json<k8s.Container>[] = [];
  for (const i of s.inputs) {
    if (i.kind !== 'dataset' || i.dataset.kind !== 'dvc') continue;
    const d = i.dataset;
    const store = p.platform?.store;
    const remote = d.remoteUrl ? ['--remote-config', `url=${d.remoteUrl}`, ...(store?.endpoint ? [`endpointurl=${store.endpoint}`] : [])] : [];
    const env: Json<k8s.EnvVar>[] = [
      { name: 'HOME', value: '/tmp' },
      { name: 'DVC_NO_ANALYTICS', value: 'true' },
      { name: 'DVC_SITE_CACHE_DIR', value: '/tmp/dvc-site-cache' },
    ];
    if (store) env.push(...platformEnv(p.platform!).filter((e) => e.name.startsWith('AWS_')));
    out.push(container({
      name: `dvc-${i.name}`.toLowerCase().replace(/_/g, '-').slice(0, 63),
      image: d.image,
      command: ['dvc', 'get', d.repository, d.path, '--rev', d.revision, '-o', `${INPUTS_DIR}/${i.name}`, ...remote],
      env,
      resources: {
        cpu: { request: Cpu.millis(250), limit: Cpu.cores(1) },
        memory: { request: Size.mebibytes(512), limit: Size.mebibytes(512) },
        ephemeralStorage: { request: s.compute.ephemeralStorage, limit: s.compute.ephemeralStorage },
      },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'inputs', mountPath: INPUTS_DIR }],
    }));
  }
  return out;
}

/** Options of {@link stepPod}. */
export interface StepPodOptions {
  /** Main container name. */
  readonly name: string;
  /** Command and args replacing the step's (multi-node launchers). */
  readonly command?: string[];
  readonly args?: string[];
  /** Rewrite references into template inputs. */
  readonly rewrite: boolean;
  readonly ports?: Json<k8s.ContainerPort>[];
  /** Env set before the step's own (later entries may `$(expand)` it). */
  readonly extraEnv?: Json<k8s.EnvVar>[];
}

/**
 * A step's pod pieces. `command`/`args` default to the step's; `rewrite` turns parameter, output
 * and item references into the template's `{{inputs.parameters.*}}`.
 */
export function stepPod(p: PipelineSpec, s: StepSpec, o: StepPodOptions): StepPod {
  const r = (t: string) => (o.rewrite ? rewriteReferences(t) : t);
  const shm = sharedMemory(s.compute);
  const scratch = s.compute.ephemeralStorage.toKubernetes();
  const volumes: Json<k8s.Volume>[] = [emptyDir('tmp', scratch)];
  const mounts: Json<k8s.VolumeMount>[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (s.inputs.length > 0) {
    volumes.push(emptyDir('inputs', scratch));
    mounts.push({ name: 'inputs', mountPath: INPUTS_DIR });
  }
  if (s.outputs.length + s.outputParameters.length > 0) {
    volumes.push(emptyDir('outputs', scratch));
    mounts.push({ name: 'outputs', mountPath: OUTPUTS_DIR });
  }
  volumes.push(...shm.volumes);
  mounts.push(...shm.mounts);
  const command = o.command ?? s.command?.map(r);
  const args = o.args ?? s.args?.map(r);
  const main = container({
    name: o.name,
    image: s.image,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    env: [...(o.extraEnv ?? []), ...stepEnv(p, s, o.rewrite)],
    resources: computeResources(s.compute),
    volumeMounts: mounts,
    ...(o.ports ? { ports: o.ports } : {}),
  });
  return { container: main, initContainers: dvcPulls(p, s), volumes, securityContext: podSecurity(s.runAsUser), ...placement(s.compute) };
}


import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { container, credentialFiles, emptyDir, resources, secretEnv } from './pod';
import { program } from './programs';
import { computeResources, LIBRARY_HOME, placement, platformEnv, sharedMemory, userPlatformEnv } from './workload-pod';
import { kubeLiteral } from '../../core/kube-literal';
import { shortHash } from '../../core/names';
import { PipelineSpec, rewriteReferences, StepSpec } from '../../core/pipeline';
import { INPUTS_DIR, NODE_EXIT_FIFO, OUTPUTS_DIR, STEP_IO_DIR, STEP_IO_PROGRAMS_DIR, STEP_IO_RESOURCES, storePulls, storePushes, StoreTransfer } from '../../core/pipeline/io';
import { Cpu, Size } from '../../core/quantities';

export { INPUTS_DIR, OUTPUTS_DIR };

/** The programs of the step I/O containers, as the pipeline's ConfigMap holds them. */
export function stepIoPrograms(): Record<string, string> {
  return { 'step_io.py': program('step_io.py').text, 'step_node.sh': program('step_node.sh').text };
}

/** Whether any of the first `steps` steps (or the exit handler) of `p` runs a step I/O container, which mounts the programs' ConfigMap. */
export function usesStepIo(p: PipelineSpec, steps = p.steps.length): boolean {
  const some = p.steps.slice(0, steps);
  return [...some, ...(p.onExit ? [p.onExit] : [])].some((s) => storePulls(p, s).length > 0) || some.some((s) => storePushes(p, s).length > 0);
}

/** Name of the pipeline's ConfigMap of step I/O programs (changes with the programs, so pods roll with them). */
export function stepIoConfigMapName(p: PipelineSpec): string {
  const io = stepIoPrograms();
  return `${p.name}-step-io-${shortHash(`${io['step_io.py']}\u0000${io['step_node.sh']}`, 8)}`;
}

/** The pieces of a step's pod: main container, init containers, volumes, pod security context and placement. */
export interface StepPod {
  readonly container: Json<k8s.Container>;
  /** Containers beside the main one (a multi-node step's outputs uploader). */
  readonly sidecars: Json<k8s.Container>[];
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

/** Whether the step runs with the library's HOME (the user sets none). */
function libraryHome(s: StepSpec): boolean {
  return ![...s.env, ...s.secretEnv].some((e) => e.name === 'HOME');
}

/**
 * The platform's credentials of a step's own container as files (workload-pod.ts userPlatformEnv): the
 * store's AWS shared credentials file, and MLflow's `$HOME/.mlflow/credentials` with the library's HOME.
 */
export function stepCredentials(p: PipelineSpec, s: StepSpec): ReturnType<typeof userPlatformEnv> {
  return p.platform ? userPlatformEnv(p.platform, { experiment: p.experiment, libraryHome: libraryHome(s) }) : { env: [], volumes: [], mounts: [] };
}

/** The environment every step container gets, then the user's (references rewritten when `rewrite`). */
export function stepEnv(p: PipelineSpec, s: StepSpec, rewrite: boolean): Json<k8s.EnvVar>[] {
  const r = (t: string) => (rewrite ? rewriteReferences(t) : t);
  const env: Json<k8s.EnvVar>[] = [];
  if (libraryHome(s)) env.push({ name: 'HOME', value: LIBRARY_HOME });
  env.push(
    { name: 'MLPLATFORM_PIPELINE', value: p.name },
    { name: 'MLPLATFORM_RUN', value: '{{workflow.name}}' },
    { name: 'MLPLATFORM_STEP', value: s.name },
    { name: 'MLPLATFORM_INPUTS', value: INPUTS_DIR },
    { name: 'MLPLATFORM_OUTPUTS', value: OUTPUTS_DIR },
  );
  if (p.platform) {
    env.push(...stepCredentials(p, s).env);
    env.push({ name: 'MLFLOW_RUN_CONTEXT', value: kubeLiteral(JSON.stringify(trackingTags(p, s))) });
  }
  env.push(...s.env.map((e) => ({ name: e.name, value: r(e.value) })));
  env.push(...s.secretEnv.map((e) => secretEnv(e.name, e.ref.name, e.ref.key)));
  return env;
}

/** The store's credentials of DVC (the AWS shared credentials file only: DVC runs with HOME=/tmp but holds no MLflow login). */
function dvcCredentials(p: PipelineSpec): ReturnType<typeof userPlatformEnv> {
  if (!p.platform) return { env: [], volumes: [], mounts: [] };
  const ctx = Object.assign({}, p.platform, { tracking: Object.assign({}, p.platform.tracking, { credentials: undefined }) });
  return userPlatformEnv(ctx, { libraryHome: true });
}

/** The init containers that fetch the step's DVC datasets into `/mnt/inputs/<name>`. */
export function dvcPulls(p: PipelineSpec, s: StepSpec): Json<k8s.Container>[] {
  const out: Json<k8s.Container>[] = [];
  for (const i of s.inputs) {
    if (i.kind !== 'dataset' || i.dataset.kind !== 'dvc') continue;
    const d = i.dataset;
    const store = p.platform?.store;
    const remote = d.remoteUrl ? ['--remote-config', kubeLiteral(`url=${d.remoteUrl}`), ...(store?.endpoint ? [kubeLiteral(`endpointurl=${store.endpoint}`)] : [])] : [];
    const env: Json<k8s.EnvVar>[] = [
      { name: 'HOME', value: '/tmp' },
      { name: 'DVC_NO_ANALYTICS', value: 'true' },
      { name: 'DVC_SITE_CACHE_DIR', value: '/tmp/dvc-site-cache' },
    ];
    // DVC's S3 client (s3fs, aiobotocore) reads the AWS shared credentials file like botocore.
    const keys = dvcCredentials(p);
    if (store) env.push(...keys.env.filter((e) => e.name.startsWith('AWS_')));
    out.push(container({
      name: `dvc-${i.name}`.toLowerCase().replace(/_/g, '-').slice(0, 63),
      image: d.image,
      command: ['dvc', 'get', kubeLiteral(d.repository), kubeLiteral(d.path), '--rev', kubeLiteral(d.revision), '-o', `${INPUTS_DIR}/${i.name}`, ...remote],
      env,
      resources: {
        cpu: { request: Cpu.millis(250), limit: Cpu.cores(1) },
        memory: { request: Size.mebibytes(512), limit: Size.mebibytes(512) },
        ephemeralStorage: { request: s.compute.ephemeralStorage, limit: s.compute.ephemeralStorage },
      },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'inputs', mountPath: INPUTS_DIR }, ...keys.mounts],
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
  /** Image of the step I/O containers (Python 3 and boto3: the MLflow image). */
  readonly ioImage: string;
  /**
   * A multi-node step's outputs: uploaded by a container beside the main one, from the node whose
   * `index` (a literal, or `$(VAR)` of the main container's env) is "0", after its command succeeded.
   */
  readonly pushes?: { readonly transfers: readonly StoreTransfer[]; readonly index: string };
}

/**
 * The step I/O containers' store keys as files only they mount (`/var/run/secrets/mlplatform/step-io/AWS_ACCESS_KEY_ID` …,
 * `*_FILE` in their environment; the pod's fsGroup makes the 0440 files readable): step_io.py passes them to boto3.
 */
function ioCredentials(p: PipelineSpec): ReturnType<typeof credentialFiles> {
  const keys = p.platform?.store.credentials;
  return credentialFiles('step-io', keys ? [
    { name: 'AWS_ACCESS_KEY_ID', secretName: keys.name, key: keys.keys.accessKeyId },
    { name: 'AWS_SECRET_ACCESS_KEY', secretName: keys.name, key: keys.keys.secretAccessKey },
  ] : []);
}

/** The step I/O env: HOME, the platform store's region and endpoint, and the paths of its key files. */
function ioEnv(p: PipelineSpec): Json<k8s.EnvVar>[] {
  return [{ name: 'HOME', value: '/tmp' }, ...(p.platform ? platformEnv(p.platform).filter((e) => e.name.startsWith('AWS_') && !e.valueFrom) : []), ...ioCredentials(p).env];
}

function ioContainer(name: string, image: string, args: string[], env: Json<k8s.EnvVar>[], mounts: Json<k8s.VolumeMount>[]): Json<k8s.Container> {
  const r = STEP_IO_RESOURCES;
  return container({
    name,
    image,
    command: ['python3', `${STEP_IO_PROGRAMS_DIR}/step_io.py`],
    args,
    env,
    resources: resources(r.cpu, r.cpuLimit, r.memory, r.memoryLimit, { ephemeralStorage: { request: Size.parse(r.ephemeralStorage), limit: Size.parse(r.ephemeralStorage) } }),
    volumeMounts: mounts,
  });
}

/**
 * A step's pod pieces. `command`/`args` default to the step's; `rewrite` turns parameter, output
 * and item references into the template's `{{inputs.parameters.*}}`.
 */
export function stepPod(p: PipelineSpec, s: StepSpec, o: StepPodOptions): StepPod {
  const r = (t: string) => (o.rewrite ? rewriteReferences(t) : t);
  const shm = sharedMemory(s.compute);
  const scratch = s.compute.ephemeralStorage.toKubernetes();
  // $MLPLATFORM_INPUTS and $MLPLATFORM_OUTPUTS are always writable folders (the root filesystem is read-only).
  const volumes: Json<k8s.Volume>[] = [emptyDir('tmp', scratch), emptyDir('inputs', scratch), emptyDir('outputs', scratch)];
  const mounts: Json<k8s.VolumeMount>[] = [{ name: 'tmp', mountPath: '/tmp' }, { name: 'inputs', mountPath: INPUTS_DIR }, { name: 'outputs', mountPath: OUTPUTS_DIR }];
  volumes.push(...shm.volumes);
  mounts.push(...shm.mounts);
  const pulls = storePulls(p, s);
  const pushes = o.pushes && o.pushes.transfers.length > 0 ? o.pushes : undefined;
  const initContainers = dvcPulls(p, s);
  // The user's credential files (and DVC's, the same AWS file volume).
  const credentials = stepCredentials(p, s);
  const dvcVolumes = initContainers.length > 0 ? dvcCredentials(p).volumes : [];
  volumes.push(...credentials.volumes, ...dvcVolumes.filter((v) => !credentials.volumes.some((c) => c.name === v.name)));
  mounts.push(...credentials.mounts);
  const sidecars: Json<k8s.Container>[] = [];
  const wrapped = pushes !== undefined;
  if (pulls.length > 0 || wrapped) {
    volumes.push({ name: 'step-io-programs', configMap: { name: stepIoConfigMapName(p), defaultMode: 0o444 } });
    const programs = { name: 'step-io-programs', mountPath: STEP_IO_PROGRAMS_DIR, readOnly: true };
    if (wrapped) volumes.push(emptyDir('step-io', '1Mi'));
    const io = wrapped ? [{ name: 'step-io', mountPath: STEP_IO_DIR }] : [];
    const pairs = (ts: readonly StoreTransfer[]) => ts.map((t) => kubeLiteral(`${t.local}=${t.uri}`));
    const keys = ioCredentials(p);
    volumes.push(...keys.volumes);
    initContainers.push(ioContainer('step-io', o.ioImage, ['prepare', ...(wrapped ? ['--fifo', NODE_EXIT_FIFO] : []), ...pairs(pulls)], ioEnv(p), [
      { name: 'tmp', mountPath: '/tmp' }, { name: 'inputs', mountPath: INPUTS_DIR }, programs, ...io, ...keys.mounts,
    ]));
    if (pushes) {
      sidecars.push(ioContainer('outputs', o.ioImage, ['push', '--wait', NODE_EXIT_FIFO, '--index', pushes.index, ...pairs(pushes.transfers)], [
        // The node's completion index, which `--index $(JOB_COMPLETION_INDEX)` expands.
        ...(o.extraEnv ?? []).filter((e) => e.name === 'JOB_COMPLETION_INDEX'), ...ioEnv(p),
      ], [
        { name: 'tmp', mountPath: '/tmp' }, { name: 'outputs', mountPath: OUTPUTS_DIR, readOnly: true }, programs, ...io, ...keys.mounts,
      ]));
      mounts.push(programs, ...io);
    }
  }
  const stepCommand = o.command ?? s.command?.map(r);
  const args = o.args ?? s.args?.map(r);
  // With outputs to upload, the node wrapper runs the command and reports its exit status to the uploader.
  const command = wrapped ? ['sh', `${STEP_IO_PROGRAMS_DIR}/step_node.sh`, ...(stepCommand ?? [])] : stepCommand;
  const main = container({
    name: o.name,
    image: s.image,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    env: [...(o.extraEnv ?? []), ...stepEnv(p, s, o.rewrite), ...(wrapped ? [{ name: 'MLPLATFORM_NODE_EXIT', value: NODE_EXIT_FIFO }] : [])],
    resources: computeResources(s.compute),
    volumeMounts: mounts,
    ...(o.ports ? { ports: o.ports } : {}),
  });
  return { container: main, sidecars, initContainers, volumes, securityContext: podSecurity(s.runAsUser), ...placement(s.compute) };
}


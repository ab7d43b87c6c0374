import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, K8sObject, KUBE, kube } from './object';
import { container, credentialFiles, CredentialRef, databaseCa, emptyDir, podSpec, resources, secretEnv } from './pod';
import { program, ProgramName } from './programs';
import { computeResources, placement, sharedMemory, userPlatformEnv } from './workload-pod';
import { Cpu, PlatformContext, Size } from '../../core';
import { SWEEP_WORKER_RESOURCES, SweepImages, SweepRuntimeConfig, SweepSpec } from '../../core/sweep';

/** Where the program ConfigMap is mounted. */
export const PROGRAM_DIR = '/etc/sweep';
/** Where the emptyDir shared by the trial and Optuna containers is mounted (same path in both). */
export const SHARED_DIR = '/sweep';
/** Exit code with which the Optuna container asks the Job to fail at once (failure budget, wrong study). */
export const EXIT_STOP_JOB = 3;
/** Seconds the runner waits after SIGTERM before it kills a trial; the pod's grace period exceeds it. */
export const KILL_GRACE_SECONDS = 30;

/** What the sweep pod renderers need. */
export interface SweepPodsInput {
  readonly spec: SweepSpec;
  readonly config: SweepRuntimeConfig;
  readonly images: SweepImages;
  readonly ctx?: PlatformContext;
  readonly tracking: boolean;
  readonly runAsUser: number;
  readonly labels: Record<string, string>;
  readonly serviceAccount: string;
  readonly configMap: string;
  /** Kueue LocalQueue the workers Job is submitted to. */
  readonly queue?: string;
}

/** The files of {@link programFiles} that are the same for every sweep (src/programs/). */
const FIXED_PROGRAM_NAMES: readonly ProgramName[] = ['sweep.py', 'sweep_lib.py', 'sweep_trial.py', 'runner.sh'];
let fixedPrograms: Readonly<Record<string, string>> | undefined;

/** The program files: the three Python modules, the runner and the runtime configuration. */
export function programFiles(config: SweepRuntimeConfig): Record<string, string> {
  if (fixedPrograms === undefined) {
    const texts: Record<string, string> = {};
    for (const name of FIXED_PROGRAM_NAMES) texts[name] = program(name).text;
    fixedPrograms = texts;
  }
  return Object.assign({}, fixedPrograms, { 'config.json': `${JSON.stringify(config, null, 2)}\n` });
}

/**
 * What a sweep's name hash covers of {@link programFiles}' result: each file by name, a fixed program
 * by the SHA-256 of its text (the loader computes it once per process) and any other file (`config.json`)
 * by its text. Any change to any file changes the fingerprint, yet the 40 KB of fixed programs is not hashed
 * again for every sweep (SHA-256 took 28 M of the 958 M instructions of the benchmark's 100-workload synthesis).
 */
export function programFilesFingerprint(files: Readonly<Record<string, string>>): string {
  const parts: Record<string, string> = {};
  for (const name of Object.keys(files)) {
    const text = files[name];
    const fixed = FIXED_PROGRAM_NAMES.includes(name as ProgramName) ? program(name as ProgramName) : undefined;
    parts[name] = fixed !== undefined && text === fixed.text ? `sha256:${fixed.sha256}` : text;
  }
  return JSON.stringify(parts);
}

/**
 * Connection of the Optuna containers to the study storage: plain values in the environment; the
 * credentials (user, password, a database name from a Secret, or a whole URL) as files ({@link storageCredentials}).
 */
export function storageEnv(spec: SweepSpec): Json<k8s.EnvVar>[] {
  const s = spec.storage;
  if (!s) return [];
  if (s.kind === 'url') return [{ name: 'SWEEP_DB_SCHEMA', value: s.schema }];
  return [
    { name: 'SWEEP_DB_HOST', value: s.host },
    { name: 'SWEEP_DB_PORT', value: String(s.port) },
    ...(s.databaseRef ? [] : [{ name: 'SWEEP_DB_NAME', value: s.database }]),
    { name: 'SWEEP_DB_SSLMODE', value: s.sslMode },
    ...studyCa(spec).env,
    { name: 'SWEEP_DB_SCHEMA', value: s.schema },
  ];
}

/**
 * The study storage's credentials as mounted files (`/var/run/secrets/mlplatform/database/<VARIABLE>`,
 * `SWEEP_DB_USER_FILE` …): sweep_lib.py `credential()` reads them and builds the URL in the process.
 */
export function storageCredentials(spec: SweepSpec): ReturnType<typeof credentialFiles> {
  const s = spec.storage;
  const refs: CredentialRef[] = [];
  if (s?.kind === 'url') {
    refs.push({ name: 'SWEEP_STORAGE_URL', secretName: s.url.name, key: s.url.key });
  } else if (s) {
    if (s.databaseRef) refs.push({ name: 'SWEEP_DB_NAME', secretName: s.databaseRef.name, key: s.databaseRef.key });
    refs.push({ name: 'SWEEP_DB_USER', secretName: s.username.name, key: s.username.key }, { name: 'SWEEP_DB_PASSWORD', secretName: s.password.name, key: s.password.key });
  }
  return credentialFiles('database', refs);
}

/** The tenant's MLflow user as mounted files (`/var/run/secrets/mlplatform/tracking/MLFLOW_TRACKING_USERNAME` …), read by sweep_lib.py. */
export function trackingCredentials(i: SweepPodsInput): ReturnType<typeof credentialFiles> {
  const c = i.tracking ? i.ctx?.tracking.credentials : undefined;
  return credentialFiles('tracking', c ? [
    { name: 'MLFLOW_TRACKING_USERNAME', secretName: c.name, key: c.keys.username },
    { name: 'MLFLOW_TRACKING_PASSWORD', secretName: c.name, key: c.keys.password },
  ] : []);
}

/** Every volume an Optuna container may mount: the study database's CA and credentials, the MLflow credentials. */
export function optunaVolumes(i: SweepPodsInput, withTracking: boolean): Json<k8s.Volume>[] {
  return [...studyCa(i.spec).volumes, ...storageCredentials(i.spec).volumes, ...(withTracking ? trackingCredentials(i).volumes : [])];
}

/** The study database's CA bundle (verify-ca/verify-full): volume, mount and `PGSSLROOTCERT` of every Optuna container. */
export function studyCa(spec: SweepSpec): ReturnType<typeof databaseCa> {
  return databaseCa(spec.storage?.kind === 'postgres' ? spec.storage.caCertificate : undefined);
}

/** The environment every Optuna container (create, wait, worker, dashboard) gets. */
export function optunaEnv(i: SweepPodsInput, withTracking: boolean): Json<k8s.EnvVar>[] {
  const env: Json<k8s.EnvVar>[] = [
    { name: 'SWEEP_CONFIG', value: `${PROGRAM_DIR}/config.json` },
    { name: 'SWEEP_DIR', value: SHARED_DIR },
    { name: 'HOME', value: '/tmp' },
    { name: 'PYTHONUNBUFFERED', value: '1' },
    { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
    ...storageEnv(i.spec),
    ...storageCredentials(i.spec).env,
  ];
  if (withTracking && i.tracking && i.ctx) {
    env.push({ name: 'MLFLOW_TRACKING_URI', value: i.ctx.tracking.uri }, ...trackingCredentials(i).env);
  }
  return env;
}

const programMount: Json<k8s.VolumeMount> = { name: 'program', mountPath: PROGRAM_DIR, readOnly: true };
/** The mounts every Optuna container has: the programs, /tmp, (verify-ca/verify-full) the database CA, the credential files. */
export function optunaMounts(i: SweepPodsInput, withTracking: boolean, ...more: Json<k8s.VolumeMount>[]): Json<k8s.VolumeMount>[] {
  return [programMount, ...more, tmpMount, ...studyCa(i.spec).mounts, ...storageCredentials(i.spec).mounts, ...(withTracking && i.ctx ? trackingCredentials(i).mounts : [])];
}
const tmpMount: Json<k8s.VolumeMount> = { name: 'tmp', mountPath: '/tmp' };

function programVolume(i: SweepPodsInput): Json<k8s.Volume> {
  return { name: 'program', configMap: { name: i.configMap, defaultMode: 0o444 } };
}

/** Resources of the Optuna worker container (also the creation Job's). */
export function optunaResources() {
  const r = SWEEP_WORKER_RESOURCES;
  return {
    cpu: { request: Cpu.millis(r.cpuMillicores), limit: Cpu.millis(r.cpuLimitMillicores) },
    memory: { request: Size.mebibytes(r.memoryMiB), limit: Size.mebibytes(r.memoryMiB) },
    ephemeralStorage: { request: Size.mebibytes(r.ephemeralStorageMiB), limit: Size.mebibytes(r.ephemeralStorageMiB) },
  };
}

/** The study-creation Job: creates the schema, tables and study once; workers only ever load it. */
export function renderCreateJob(scope: Construct, id: string, name: string, i: SweepPodsInput): K8sObject {
  const labels = Object.assign({}, i.labels, { 'app.kubernetes.io/component': 'sweep-create' });
  return kube(scope, id, KUBE.Job, {
    metadata: { name, namespace: i.spec.namespace, labels },
    spec: {
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'create', operator: 'In', values: [EXIT_STOP_JOB] }, onPodConditions: [] }] },
      template: {
        metadata: { labels },
        spec: podSpec({
          serviceAccountName: i.serviceAccount,
          runAsUser: i.runAsUser,
          // The credential files are 0440 with the pod's fsGroup (pod.ts credentialFiles).
          fsGroup: i.runAsUser,
          restartPolicy: 'Never',
          containers: [container({
            name: 'create',
            image: i.images.optuna,
            command: ['python', `${PROGRAM_DIR}/sweep.py`, 'create'],
            env: optunaEnv(i, true),
            resources: optunaResources(),
            volumeMounts: optunaMounts(i, true),
          })],
          volumes: [programVolume(i), emptyDir('tmp', '256Mi'), ...optunaVolumes(i, true)],
        }),
      },
    },
  });
}

/** Exit code of the Optuna container stopped by SIGTERM (src/programs/sweep.py: 128 + SIGTERM). */
const SIGTERM_EXIT = 143;

/**
 * The workers: an Indexed Job of `workers` pods. Each pod runs the user's image as container `trial`
 * (its main process is the POSIX-sh runner) and the Optuna loop as container `optuna`; they share
 * an emptyDir. Init containers wait (read-only) for the study and check the trial image has a shell.
 */
export function renderWorkersJob(scope: Construct, id: string, name: string, i: SweepPodsInput): K8sObject {
  const { spec } = i;
  const labels = Object.assign({}, i.labels, { 'app.kubernetes.io/component': 'sweep-worker' });
  const t = spec.trial;
  const shm = sharedMemory(t.compute);
  const userEnv: Json<k8s.EnvVar>[] = [
    ...Object.entries(t.env).map(([n, value]) => ({ name: n, value })),
    ...Object.entries(t.secretEnv).map(([n, ref]) => secretEnv(n, ref.name, ref.key)),
  ];
  const given = new Set(userEnv.map((e) => e.name));
  // The tenant's credentials as files the trial's MLflow client and AWS SDK read (workload-pod.ts userPlatformEnv).
  const files = i.ctx && i.tracking ? userPlatformEnv(i.ctx, { experiment: spec.experiment, libraryHome: !given.has('HOME') }) : { env: [], volumes: [], mounts: [] };
  const trialEnv: Json<k8s.EnvVar>[] = [
    ...files.env.filter((e) => !given.has(e.name)),
    { name: 'SWEEP_DIR', value: SHARED_DIR },
    { name: 'SWEEP_KILL_GRACE', value: String(KILL_GRACE_SECONDS) },
    ...(given.has('HOME') ? [] : [{ name: 'HOME', value: '/tmp' }]),
    ...userEnv,
  ];
  const workerEnv: Json<k8s.EnvVar>[] = [
    ...optunaEnv(i, true),
    { name: 'SWEEP_WORKER_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    { name: 'SWEEP_WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  const jobLabels = i.queue ? Object.assign({}, labels, { 'kueue.x-k8s.io/queue-name': i.queue }) : labels;
  return kube(scope, id, KUBE.Job, {
    metadata: { name, namespace: spec.namespace, labels: jobLabels },
    spec: {
      completionMode: 'Indexed',
      completions: spec.budget.workers,
      parallelism: spec.budget.workers,
      backoffLimit: Math.max(3, 2 * spec.budget.workers),
      ...(spec.budget.deadlineSeconds ? { activeDeadlineSeconds: spec.budget.deadlineSeconds + 900 } : {}),
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: 'optuna', operator: 'In', values: [EXIT_STOP_JOB] }, onPodConditions: [] },
          // A worker stopped by SIGTERM hands its trial back and exits 143 (128 + 15): not a failure.
          { action: 'Ignore', onExitCodes: { containerName: 'optuna', operator: 'In', values: [SIGTERM_EXIT] }, onPodConditions: [] },
          // Preemption, eviction and node drains are not the sweep's failures: the pod is replaced.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: podSpec({
          serviceAccountName: i.serviceAccount,
          runAsUser: i.runAsUser,
          // The credential files are 0440 with the pod's fsGroup (pod.ts credentialFiles).
          fsGroup: i.runAsUser,
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: KILL_GRACE_SECONDS + 30,
          ...placement(t.compute),
          initContainers: [
            container({
              name: 'wait-for-study',
              image: i.images.optuna,
              command: ['python', `${PROGRAM_DIR}/sweep.py`, 'wait'],
              env: optunaEnv(i, false),
              resources: resources('50m', '500m', '256Mi', '256Mi'),
              volumeMounts: optunaMounts(i, false),
            }),
            container({
              name: 'check-trial-image',
              image: t.image,
              command: ['/bin/sh', '-c', 'command -v sleep >/dev/null 2>&1 || { echo "the trial image needs /bin/sh and sleep for the sweep runner" >&2; exit 1; }'],
              resources: resources('10m', '100m', '32Mi', '32Mi'),
            }),
          ],
          containers: [
            container({
              name: 'trial',
              image: t.image,
              command: ['/bin/sh', `${PROGRAM_DIR}/runner.sh`],
              ...(t.workingDir ? { workingDir: t.workingDir } : {}),
              env: trialEnv,
              resources: computeResources(t.compute),
              volumeMounts: [programMount, { name: 'shared', mountPath: SHARED_DIR }, { name: 'trial-tmp', mountPath: '/tmp' }, ...shm.mounts, ...files.mounts],
            }),
            container({
              name: 'optuna',
              image: i.images.optuna,
              command: ['python', `${PROGRAM_DIR}/sweep.py`, 'worker'],
              env: workerEnv,
              resources: optunaResources(),
              volumeMounts: optunaMounts(i, true, { name: 'shared', mountPath: SHARED_DIR }),
            }),
          ],
          volumes: [
            programVolume(i),
            emptyDir('shared', '1Gi'),
            emptyDir('tmp', '256Mi'),
            emptyDir('trial-tmp', t.compute.ephemeralStorage.toKubernetes()),
            ...shm.volumes,
            ...optunaVolumes(i, true),
            ...files.volumes,
          ],
        }),
      },
    },
  });
}

/**
 * Egress from the sweep's pods to a study database that is not the platform's (tenant namespaces
 * deny egress by default and only open the platform's database): TCP to its port, any address,
 * since the address behind its host name is not known at synth time.
 */
export function renderStorageEgress(scope: Construct, name: string, i: SweepPodsInput, port: number): void {
  kube(scope, 'study-database-egress', KUBE.NetworkPolicy, {
    metadata: { name, namespace: i.spec.namespace, labels: i.labels },
    spec: {
      podSelector: { matchLabels: { 'mlplatform.io/sweep': i.spec.name } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port }] }],
    },
  });
}

import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { ContainerResources, CREDENTIALS_DIR, emptyDir, secretEnv } from './pod';
import { ComputeSpec, PlatformContext } from '../../core';
import { kubeLiteral } from '../../core/kube-literal';

/** Requests and limits of a workload container (GPUs: request == limit). */
export function computeResources(c: ComputeSpec): ContainerResources {
  return {
    cpu: { request: c.cpu, limit: c.cpuLimit },
    memory: { request: c.memory, limit: c.memory },
    ephemeralStorage: { request: c.ephemeralStorage, limit: c.ephemeralStorage },
    ...(c.gpu ? { extended: { [c.gpu.resourceName]: c.gpu.count } } : {}),
  };
}

/** The `/dev/shm` volume and mount of a workload that asked for shared memory. */
export function sharedMemory(c: ComputeSpec): { volumes: Json<k8s.Volume>[]; mounts: Json<k8s.VolumeMount>[] } {
  if (!c.sharedMemory) return { volumes: [], mounts: [] };
  return { volumes: [emptyDir('dshm', c.sharedMemory.toKubernetes(), 'Memory')], mounts: [{ name: 'dshm', mountPath: '/dev/shm' }] };
}

/** nodeSelector and tolerations of a GPU workload (empty for CPU workloads). */
export function placement(c: ComputeSpec): { nodeSelector?: Record<string, string>; tolerations?: Json<k8s.Toleration>[] } {
  if (!c.gpu) return {};
  return { nodeSelector: { ...c.gpu.nodeSelector }, tolerations: c.gpu.tolerations.map((t) => ({ ...t })) };
}

/**
 * Environment that wires a workload to the platform: MLflow tracking (URI, experiment, the
 * tenant's credentials with basic auth) and the object store (endpoint, region, keys unless
 * workload identity is used). The user's code needs no configuration.
 */
export function platformEnv(ctx: PlatformContext, o: { experiment?: string } = {}): Json<k8s.EnvVar>[] {
  const env: Json<k8s.EnvVar>[] = [{ name: 'MLFLOW_TRACKING_URI', value: kubeLiteral(ctx.tracking.uri) }];
  if (o.experiment) env.push({ name: 'MLFLOW_EXPERIMENT_NAME', value: kubeLiteral(o.experiment) });
  const t = ctx.tracking.credentials;
  if (t) {
    env.push(secretEnv('MLFLOW_TRACKING_USERNAME', t.name, t.keys.username), secretEnv('MLFLOW_TRACKING_PASSWORD', t.name, t.keys.password));
  }
  env.push({ name: 'AWS_DEFAULT_REGION', value: kubeLiteral(ctx.store.region) });
  if (ctx.store.endpoint) env.push({ name: 'AWS_ENDPOINT_URL_S3', value: kubeLiteral(ctx.store.endpoint) }, { name: 'MLFLOW_S3_ENDPOINT_URL', value: kubeLiteral(ctx.store.endpoint) });
  const s = ctx.store.credentials;
  if (s) env.push(secretEnv('AWS_ACCESS_KEY_ID', s.name, s.keys.accessKeyId), secretEnv('AWS_SECRET_ACCESS_KEY', s.name, s.keys.secretAccessKey));
  return env;
}

/** Where a user's container finds the AWS shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`). */
export const AWS_CREDENTIALS_DIR = `${CREDENTIALS_DIR}/aws`;
/** The HOME the library gives a user's container that sets none. */
export const LIBRARY_HOME = '/tmp';

/** Options of {@link userPlatformEnv}. */
export interface UserPlatformEnvOptions {
  readonly experiment?: string;
  /** Whether the container runs with the library's `HOME` ({@link LIBRARY_HOME}); false when the user sets HOME. */
  readonly libraryHome: boolean;
}

/**
 * {@link platformEnv} for a user's own container (a step, a trial, DVC), with the tenant's credentials as
 * files its programs read through their standard mechanisms, where the tenant's Secrets hold the
 * bootstrap-written INI key (role `file` of the context's SecretKeys; a hand-built context without it
 * keeps the variables):
 * - the store keys: `AWS_SHARED_CREDENTIALS_FILE` names the INI file (`[default]`), which botocore
 *   (SharedCredentialProvider), the AWS CLI and the other AWS SDKs read; the key variables go, since they
 *   would win over the file (botocore/credentials.py: EnvProvider precedes SharedCredentialProvider);
 * - the MLflow user: the INI file (`[mlflow]`) at `$HOME/.mlflow/credentials`, which MLflow's client reads
 *   (mlflow/utils/credentials.py `read_mlflow_creds`; the variables would win) — only with the library's
 *   HOME: where the user sets HOME, the file's place depends on the user's image, and the variables stay.
 * The files are `0440`; the pod must set `fsGroup` (as for {@link credentialFiles}).
 */
export function userPlatformEnv(ctx: PlatformContext, o: UserPlatformEnvOptions): {
  env: Json<k8s.EnvVar>[]; volumes: Json<k8s.Volume>[]; mounts: Json<k8s.VolumeMount>[];
} {
  const store = ctx.store.credentials;
  const tracking = ctx.tracking.credentials;
  const awsFile = store?.keys.file;
  const mlflowFile = o.libraryHome ? tracking?.keys.file : undefined;
  const drop = new Set([...(awsFile ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] : []), ...(mlflowFile ? ['MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD'] : [])]);
  const env = platformEnv(ctx, { experiment: o.experiment }).filter((e) => !drop.has(e.name));
  const volumes: Json<k8s.Volume>[] = [];
  const mounts: Json<k8s.VolumeMount>[] = [];
  if (store && awsFile) {
    volumes.push({ name: 'credentials-aws', projected: { defaultMode: 0o440, sources: [{ secret: { name: store.name, items: [{ key: awsFile, path: 'credentials' }] } }] } });
    mounts.push({ name: 'credentials-aws', mountPath: AWS_CREDENTIALS_DIR, readOnly: true });
    env.push({ name: 'AWS_SHARED_CREDENTIALS_FILE', value: `${AWS_CREDENTIALS_DIR}/credentials` });
  }
  if (tracking && mlflowFile) {
    // Nested in the /tmp emptyDir: the kubelet (runc) creates the mount point /tmp/.mlflow inside it.
    volumes.push({ name: 'mlflow-credentials', projected: { defaultMode: 0o440, sources: [{ secret: { name: tracking.name, items: [{ key: mlflowFile, path: 'credentials' }] } }] } });
    mounts.push({ name: 'mlflow-credentials', mountPath: `${LIBRARY_HOME}/.mlflow`, readOnly: true });
  }
  return { env, volumes, mounts };
}

import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { ContainerResources, emptyDir, secretEnv } from './pod';
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

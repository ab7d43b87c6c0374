import type { k8s } from 'cdk8s-plus-27';
import { payloadLoggerContainer, payloadLoggerCredentials, payloadLoggerVolumes, SERVER_HTTP_PORT_WITH_LOGGING } from './endpoint-logging';
import type { Json } from './object';
import { appLabels, container, credentialFiles, emptyDir, podSpec, resources, selectorLabels } from './pod';
import { program } from './programs';
import { computeResources, placement, sharedMemory } from './workload-pod';
import { MODEL_FETCH_RESOURCES, MODEL_MOUNT, ModelEndpointSpec, ModelVersionSpec } from '../../core/endpoint';

/** Label holding the endpoint name on every object and pod of an endpoint. */
export const ENDPOINT_LABEL = 'mlplatform.io/endpoint';
/** Label holding the version name on every object and pod of a version. */
export const VERSION_LABEL = 'mlplatform.io/version';
/** uid of the fetch step (the MLflow image has no USER line). */
const FETCH_UID = 1000;
/** Probe periods, seconds. */
const STARTUP_PERIOD = 10;

/** Labels of an endpoint's shared objects. */
export function endpointLabels(e: ModelEndpointSpec, platform: string): Record<string, string> {
  return Object.assign({}, appLabels(e.name, 'model-endpoint', platform), { [ENDPOINT_LABEL]: e.name });
}

/** Labels of a version's objects and pods, and the selector subset. */
export function versionLabels(e: ModelEndpointSpec, v: ModelVersionSpec, platform: string): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = Object.assign({}, selectorLabels(v.objectName, platform), { [ENDPOINT_LABEL]: e.name, [VERSION_LABEL]: v.name });
  return { labels: Object.assign({}, appLabels(v.objectName, 'model-server', platform), { [ENDPOINT_LABEL]: e.name, [VERSION_LABEL]: v.name }), selector };
}

/** Name of the server's HTTP container port: `http`, or `server-http` when the logging proxy takes `http`. */
export function serverHttpPortName(v: ModelVersionSpec): string {
  return v.logging ? SERVER_HTTP_PORT_WITH_LOGGING : 'http';
}

/** Container ports of a version's server: `http`, and `grpc` / `metrics` when the runtime has them as separate listeners. */
export function serverPorts(v: ModelVersionSpec): Json<k8s.ContainerPort>[] {
  const r = v.runtime;
  const ports: Json<k8s.ContainerPort>[] = [{ name: serverHttpPortName(v), containerPort: r.port, protocol: 'TCP' }];
  if (r.grpcPort !== undefined) ports.push({ name: 'grpc', containerPort: r.grpcPort, protocol: 'TCP' });
  if (r.metrics && r.metrics.port !== r.port) ports.push({ name: 'metrics', containerPort: r.metrics.port, protocol: 'TCP' });
  return ports;
}

function runtimeEnv(v: ModelVersionSpec, endpoint: string): Json<k8s.EnvVar>[] {
  const env: Json<k8s.EnvVar>[] = [
    { name: 'HOME', value: '/tmp' },
    { name: 'MODEL_NAME', value: endpoint },
    ...(v.modelDir ? [{ name: 'MODEL_DIR', value: v.modelDir }] : []),
  ];
  if (v.runtime.kind === 'vllm') {
    // The weights are local: never reach out to the Hub; keep every cache on the writable /tmp.
    env.push(
      { name: 'HF_HUB_OFFLINE', value: '1' },
      { name: 'HF_HOME', value: '/tmp/huggingface' },
      { name: 'XDG_CACHE_HOME', value: '/tmp/cache' },
      { name: 'VLLM_CACHE_ROOT', value: '/tmp/vllm' },
      { name: 'VLLM_NO_USAGE_STATS', value: '1' },
    );
  }
  // The user's env wins over a runtime default of the same name (e.g. vLLM's HF_HOME): replaced in
  // place, so each name appears once (the reserved HOME, MODEL_NAME and MODEL_DIR are rejected earlier).
  for (const [name, value] of Object.entries(v.env)) {
    const i = env.findIndex((e) => e.name === name);
    if (i >= 0) env[i] = { name, value };
    else env.push({ name, value });
  }
  return env;
}

/**
 * The fetch step's credentials (MLflow user, store keys) as files only it mounts:
 * `/var/run/secrets/mlplatform/fetch/<VARIABLE>`, `<VARIABLE>_FILE` in its environment; fetch_model.py
 * sets the variables inside its own process for MLflow's client and boto3, which read them from there.
 */
function fetchCredentials(v: ModelVersionSpec): ReturnType<typeof credentialFiles> {
  return credentialFiles('fetch', (v.fetch?.env ?? []).flatMap((x) => (x.secretKeyRef ? [{ name: x.name, secretName: x.secretKeyRef.name, key: x.secretKeyRef.key }] : [])));
}

/** The fetch step: downloads the model into the model volume with credentials only it sees. */
function fetchContainer(e: ModelEndpointSpec, v: ModelVersionSpec): Json<k8s.Container> | undefined {
  if (!v.fetch) return undefined;
  const credentials = fetchCredentials(v);
  return container({
    name: 'fetch-model',
    image: e.fetchImage,
    // The budget bounds the download too: a stuck transfer fails and is retried instead of hanging.
    // src/programs/fetch_model.py, passed inline (an init container needs no ConfigMap for it).
    command: ['timeout', String(v.startup.budget.toSeconds()), 'python', '-c', program('fetch_model.py').text],
    env: [
      { name: 'HOME', value: '/tmp' },
      { name: 'MODEL_URI', value: v.fetch.uri },
      { name: 'MODEL_DIR', value: v.modelDir },
      { name: 'MODEL_STAGING', value: `${MODEL_MOUNT}/.staging` },
      ...v.fetch.env.flatMap((x) => (x.secretKeyRef ? [] : [{ name: x.name, value: x.value }])),
      ...credentials.env,
    ],
    resources: resources(MODEL_FETCH_RESOURCES.cpu, MODEL_FETCH_RESOURCES.cpuLimit, MODEL_FETCH_RESOURCES.memory, MODEL_FETCH_RESOURCES.memoryLimit, {
      ephemeralStorage: { request: e.modelStorage, limit: e.modelStorage },
    }),
    runAsUser: FETCH_UID,
    volumeMounts: [{ name: 'model', mountPath: MODEL_MOUNT }, { name: 'tmp', mountPath: '/tmp' }, ...credentials.mounts],
  });
}

/**
 * A version's pod: the fetch init container (registry and URI sources), the server with the model
 * volume mounted read-only, probes sized by the start-up budget, a drain delay, GPU placement; with
 * payload logging, the logging proxy in front of the server (it takes the `http` port name).
 */
export function versionPodSpec(
  e: ModelEndpointSpec, v: ModelVersionSpec, o: { serviceAccountName: string; containerName: string; spread?: Record<string, string> },
): Json<k8s.PodSpec> {
  const r = v.runtime;
  // The server's own port, also behind the logging proxy: the probes check the server itself.
  const httpGet = (path: string) => ({ httpGet: { path, port: serverHttpPortName(v) } });
  const compute = computeResources(v.compute);
  const fetched = v.fetch !== undefined;
  const shm = sharedMemory(v.compute);
  const base = v.compute.ephemeralStorage;
  const server = container({
    name: o.containerName,
    image: r.image,
    ...(v.command.command ? { command: v.command.command } : {}),
    ...(v.command.args.length ? { args: v.command.args } : {}),
    env: runtimeEnv(v, e.name),
    ports: serverPorts(v),
    // The model volume counts against the server's ephemeral storage, so the scheduler finds a node with the room.
    resources: fetched ? Object.assign({}, compute, { ephemeralStorage: { request: base.plus(e.modelStorage), limit: base.plus(e.modelStorage) } }) : compute,
    runAsUser: r.runAsUser,
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...(fetched ? [{ name: 'model', mountPath: MODEL_MOUNT, readOnly: true }] : []),
      ...shm.mounts,
    ],
    // The startup window is the whole budget: a model still loading is never killed.
    startupProbe: Object.assign({}, httpGet(r.health.readiness), { periodSeconds: STARTUP_PERIOD, timeoutSeconds: 5, failureThreshold: v.startup.probeFailureThreshold }),
    readinessProbe: Object.assign({}, httpGet(r.health.readiness), { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 }),
    livenessProbe: Object.assign({}, httpGet(r.health.liveness), { periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 }),
    ...(e.drainSeconds > 0 ? { lifecycle: { preStop: { exec: { command: ['sleep', String(e.drainSeconds)] } } } } : {}),
  });
  const init = fetchContainer(e, v);
  const where = placement(v.compute);
  const files = [...fetchCredentials(v).volumes, ...(v.logging ? payloadLoggerCredentials(v).volumes : [])];
  return podSpec({
    serviceAccountName: o.serviceAccountName,
    runAsUser: r.runAsUser,
    // The credential files are 0440 with the pod's fsGroup (pod.ts credentialFiles).
    ...(files.length ? { fsGroup: r.runAsUser } : {}),
    containers: v.logging ? [server, payloadLoggerContainer(e, v)] : [server],
    initContainers: init ? [init] : [],
    volumes: [
      emptyDir('tmp', '2Gi'),
      ...(fetched ? [emptyDir('model', e.modelStorage.toKubernetes())] : []),
      ...shm.volumes,
      ...(v.logging ? payloadLoggerVolumes(e) : []),
      ...files,
    ],
    ...where,
    terminationGracePeriodSeconds: e.drainSeconds + 30,
    ...(o.spread ? {
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: o.spread } }],
    } : {}),
  });
}

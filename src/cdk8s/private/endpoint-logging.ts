import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Json, KUBE, kube } from './object';
import { container, credentialFiles, emptyDir, resources } from './pod';
import { program } from './programs';
import { ModelEndpointSpec, ModelVersionSpec, PAYLOAD_LOGGER_RESOURCES } from '../../core/endpoint';

/** Name of the logging proxy container. */
export const PAYLOAD_LOGGER_CONTAINER = 'payload-logger';
/**
 * With logging, the proxy's container port carries the name `http`, so every Service, route,
 * ServiceMonitor and NetworkPolicy that targets `http` reaches the proxy, and the server's own port
 * is renamed to this (the probes use it, so they keep checking the server itself).
 */
export const SERVER_HTTP_PORT_WITH_LOGGING = 'server-http';
/** Where the script ConfigMap is mounted in the proxy. */
export const PAYLOAD_LOGGER_DIR = '/etc/payload-logger';
/** File name of the script (src/programs/payload_logger.py). */
export const PAYLOAD_LOGGER_FILE = 'payload_logger.py';
/** uid of the proxy (the MLflow image has no USER line). */
const LOGGER_UID = 1000;
/** Seconds the proxy waits for requests in flight after SIGTERM, then seconds it has for the last upload. */
const LOGGER_DRAIN_SECONDS = 10;
const LOGGER_UPLOAD_GRACE_SECONDS = 15;
/** Bytes that fill a batch early, and the most the proxy buffers before it drops records (memory bound). */
const BATCH_BYTES = 8 * 1024 * 1024;
const BUFFER_BYTES = 32 * 1024 * 1024;

/**
 * Name of the endpoint's script ConfigMap; the script's hash in it rolls the pods when the script changes
 * (the first 8 hex digits of its SHA-256, as `shortHash(text, 8)` gives them).
 */
export function payloadLoggerConfigMapName(e: ModelEndpointSpec): string {
  return `${e.name}-payload-logger-${program(PAYLOAD_LOGGER_FILE).sha256.slice(0, 8)}`;
}

/** The endpoint's script ConfigMap, created once under `scope` (the ModelEndpoint) by the first version that logs. */
export function renderPayloadLoggerConfigMap(scope: Construct, e: ModelEndpointSpec, labels: Record<string, string>): void {
  if (scope.node.tryFindChild('payload-logger')) return;
  kube(scope, 'payload-logger', KUBE.ConfigMap, {
    metadata: { name: payloadLoggerConfigMapName(e), namespace: e.namespace, labels },
    data: { [PAYLOAD_LOGGER_FILE]: program(PAYLOAD_LOGGER_FILE).text },
  });
}

/** The proxy's environment: where it listens and forwards, what it logs, where it uploads, with which keys. */
export function payloadLoggerEnv(e: ModelEndpointSpec, v: ModelVersionSpec): Json<k8s.EnvVar>[] {
  const l = v.logging!;
  const env: Json<k8s.EnvVar>[] = [
    { name: 'HOME', value: '/tmp' },
    { name: 'PYTHONUNBUFFERED', value: '1' },
    { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
    { name: 'PAYLOG_LISTEN_PORT', value: String(l.port) },
    { name: 'PAYLOG_UPSTREAM_PORT', value: String(l.upstreamPort) },
    { name: 'PAYLOG_UPSTREAM_TIMEOUT_SECONDS', value: String(v.runtime.requestTimeout.toSeconds()) },
    { name: 'PAYLOG_MODE', value: l.mode },
    { name: 'PAYLOG_SAMPLE_PERCENT', value: String(l.samplePercent) },
    { name: 'PAYLOG_MAX_BODY_BYTES', value: String(l.maxBodyBytes) },
    { name: 'PAYLOG_FLUSH_SECONDS', value: String(l.flushInterval.toSeconds()) },
    { name: 'PAYLOG_BATCH_SIZE', value: String(l.batchSize) },
    { name: 'PAYLOG_BATCH_BYTES', value: String(BATCH_BYTES) },
    { name: 'PAYLOG_BUFFER_BYTES', value: String(BUFFER_BYTES) },
    { name: 'PAYLOG_DRAIN_SECONDS', value: String(LOGGER_DRAIN_SECONDS) },
    { name: 'PAYLOG_UPLOAD_GRACE_SECONDS', value: String(LOGGER_UPLOAD_GRACE_SECONDS) },
    { name: 'PAYLOG_EXCLUDE_PATHS', value: JSON.stringify(l.excludePaths) },
    { name: 'PAYLOG_BUCKET', value: l.bucket },
    { name: 'PAYLOG_PREFIX', value: l.prefix },
    { name: 'PAYLOG_NAMESPACE', value: e.namespace },
    { name: 'PAYLOG_ENDPOINT', value: e.name },
    { name: 'PAYLOG_VERSION', value: v.name },
    { name: 'PAYLOG_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'AWS_DEFAULT_REGION', value: l.region },
  ];
  if (l.endpoint) env.push({ name: 'PAYLOG_S3_ENDPOINT', value: l.endpoint });
  env.push(...payloadLoggerCredentials(v).env);
  return env;
}

/**
 * The proxy's store keys as files only it mounts (`/var/run/secrets/mlplatform/payload-logger/AWS_ACCESS_KEY_ID` …,
 * `*_FILE` in its environment); payload_logger.py passes them to its boto3 client.
 */
export function payloadLoggerCredentials(v: ModelVersionSpec): ReturnType<typeof credentialFiles> {
  const keys = v.logging?.credentials;
  return credentialFiles('payload-logger', keys ? [
    { name: 'AWS_ACCESS_KEY_ID', secretName: keys.name, key: keys.keys.accessKeyId },
    { name: 'AWS_SECRET_ACCESS_KEY', secretName: keys.name, key: keys.keys.secretAccessKey },
  ] : []);
}

/**
 * The logging proxy: the pod's `http` port, forwarding to the server on localhost. The only
 * container that sees the store's keys. TCP probes (every HTTP path belongs to the model), the
 * server's drain delay, then SIGTERM makes it finish the requests in flight and upload its buffer.
 */
export function payloadLoggerContainer(e: ModelEndpointSpec, v: ModelVersionSpec): Json<k8s.Container> {
  const l = v.logging!;
  const tcp = { tcpSocket: { port: 'http' } };
  return container({
    name: PAYLOAD_LOGGER_CONTAINER,
    image: e.fetchImage,
    command: ['python', `${PAYLOAD_LOGGER_DIR}/${PAYLOAD_LOGGER_FILE}`],
    env: payloadLoggerEnv(e, v),
    ports: [{ name: 'http', containerPort: l.port, protocol: 'TCP' }],
    resources: resources(PAYLOAD_LOGGER_RESOURCES.cpu, PAYLOAD_LOGGER_RESOURCES.cpuLimit, PAYLOAD_LOGGER_RESOURCES.memory, PAYLOAD_LOGGER_RESOURCES.memoryLimit),
    runAsUser: LOGGER_UID,
    volumeMounts: [
      { name: 'payload-logger', mountPath: PAYLOAD_LOGGER_DIR, readOnly: true },
      { name: 'payload-logger-tmp', mountPath: '/tmp' },
      ...payloadLoggerCredentials(v).mounts,
    ],
    readinessProbe: Object.assign({}, tcp, { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 }),
    livenessProbe: Object.assign({}, tcp, { periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 }),
    ...(e.drainSeconds > 0 ? { lifecycle: { preStop: { exec: { command: ['sleep', String(e.drainSeconds)] } } } } : {}),
  });
}

/** The proxy's volumes: the script ConfigMap (read-only) and a small writable /tmp. */
export function payloadLoggerVolumes(e: ModelEndpointSpec): Json<k8s.Volume>[] {
  return [
    { name: 'payload-logger', configMap: { name: payloadLoggerConfigMapName(e), defaultMode: 0o444 } },
    emptyDir('payload-logger-tmp', '64Mi'),
  ];
}

/** Seconds the proxy needs after SIGTERM (the pod's grace period must cover them). */
export const PAYLOAD_LOGGER_STOP_SECONDS = LOGGER_DRAIN_SECONDS + LOGGER_UPLOAD_GRACE_SECONDS;

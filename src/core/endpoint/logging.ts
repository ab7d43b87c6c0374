import { Issues } from '../errors';
import { PlatformContext, SecretKeys } from '../platform/context';
import { Duration } from '../quantities';
import { RuntimeSpec } from './runtime';

/** Which side of each exchange is kept (KServe's `logger.mode`). */
export type PayloadLogMode = 'all' | 'request' | 'response';

/**
 * Request/response (payload) logging of a version to the platform's object store: a proxy in each
 * pod samples the requests, keeps their bodies up to `maxBodyBytes`, and uploads JSON-lines batches
 * under `<store root>/endpoints/<namespace>/<endpoint>/<version>/payloads/<date>/`.
 */
export interface PayloadLoggingOptions {
  /** What each record keeps of the bodies: both, the request only, or the response only. @default 'all' */
  readonly mode?: PayloadLogMode;
  /**
   * Share of requests logged, percent (0 < p ≤ 100, two decimals at most). The decision hashes the
   * request id (`x-request-id`, which Envoy sets), so a mirrored copy is sampled like its original.
   * @default 100
   */
  readonly samplePercent?: number;
  /** Bytes of each body kept (0 keeps metadata only; at most 1 MiB); longer bodies are cut and marked `truncated`. @default 65536 */
  readonly maxBodyBytes?: number;
  /** Longest time a record waits in the pod before its batch is uploaded (1 s to 1 h). @default Duration.seconds(60) */
  readonly flushInterval?: Duration;
  /** Records per batch: a full batch is uploaded at once (1–100000). @default 1000 */
  readonly batchSize?: number;
  /** Port of the logging proxy in the pod (1024–65535, not one of the server's). @default 8099 */
  readonly port?: number;
}

/** A validated logging configuration of one version. */
export interface PayloadLoggingSpec {
  /** Which bodies a record keeps. */
  readonly mode: PayloadLogMode;
  /** Share of requests logged, percent. */
  readonly samplePercent: number;
  /** Bytes kept of each body. */
  readonly maxBodyBytes: number;
  /** Longest wait of a record before its upload. */
  readonly flushInterval: Duration;
  /** Records per batch. */
  readonly batchSize: number;
  /** Port the proxy listens on (the pod's `http` port). */
  readonly port: number;
  /** Port of the server the proxy forwards to, on localhost. */
  readonly upstreamPort: number;
  /** Paths forwarded but never logged: the health checks and the metrics path. */
  readonly excludePaths: readonly string[];
  /** Bucket of the platform's store. */
  readonly bucket: string;
  /** The version's key prefix, ending in `/` (its write scope). */
  readonly prefix: string;
  /** Store region. */
  readonly region: string;
  /** Endpoint URL of an S3-compatible store; undefined for AWS S3. */
  readonly endpoint?: string;
  /** The tenant's store credentials (access keys); undefined with workload identity. */
  readonly credentials?: SecretKeys;
  /** Workload-identity annotations the version's ServiceAccount needs to write. */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
}

/** Default proxy port. */
export const DEFAULT_PAYLOAD_LOG_PORT = 8099;
/** Requests and limits of the payload-logger sidecar (the synth-time checks count its requests). */
export const PAYLOAD_LOGGER_RESOURCES = { cpu: '100m', cpuLimit: '1', memory: '128Mi', memoryLimit: '384Mi' } as const;
/** Largest `maxBodyBytes`: a batch of large bodies must still fit the proxy's memory. */
export const MAX_PAYLOAD_BODY_BYTES = 1024 * 1024;
const MODES: readonly PayloadLogMode[] = ['all', 'request', 'response'];

/** The key prefix a version's payload logs go under: `<store prefix>endpoints/<namespace>/<endpoint>/<version>/payloads/`. */
export function payloadLogPrefix(ctx: PlatformContext, namespace: string, endpoint: string, version: string): string {
  const root = ctx.store.prefix ? `${ctx.store.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
  return `${root}endpoints/${namespace}/${endpoint}/${version}/payloads/`;
}

/** What the resolver needs besides the options. */
export interface PayloadLoggingTarget {
  /** Endpoint namespace. */
  readonly namespace: string;
  /** Endpoint name. */
  readonly endpoint: string;
  /** Version name. */
  readonly version: string;
  /** The version's validated runtime (its ports and paths). */
  readonly runtime: RuntimeSpec;
  /** Whether KServe runs the pods (logging is then rejected). */
  readonly kserve: boolean;
}

/**
 * Validates `o` (recorded under `path`: `logging` or `versions[i].logging`) for one version;
 * undefined when logging is off or invalid.
 */
export function resolvePayloadLogging(
  issues: Issues, path: string, o: PayloadLoggingOptions, t: PayloadLoggingTarget, ctx: PlatformContext | undefined,
): PayloadLoggingSpec | undefined {
  const before = issues.all.length;
  if (typeof o !== 'object' || o === null) {
    issues.add(path, o, 'must be an object such as { samplePercent: 10 }, or false');
    return undefined;
  }
  const mode = o.mode ?? 'all';
  if (!MODES.includes(mode)) issues.add(`${path}.mode`, o.mode, `must be one of ${MODES.join(', ')}`);
  const samplePercent = o.samplePercent ?? 100;
  if (typeof samplePercent !== 'number' || !(samplePercent > 0 && samplePercent <= 100) || Math.round(samplePercent * 100) !== samplePercent * 100) {
    issues.add(`${path}.samplePercent`, o.samplePercent, 'must be a percentage above 0 and at most 100, with two decimals at most (leave `logging` out to log nothing)');
  }
  const maxBodyBytes = o.maxBodyBytes ?? 65536;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0 || maxBodyBytes > MAX_PAYLOAD_BODY_BYTES) {
    issues.add(`${path}.maxBodyBytes`, o.maxBodyBytes, `must be a whole number of bytes from 0 (metadata only) to ${MAX_PAYLOAD_BODY_BYTES} (1 MiB)`);
  }
  const flushInterval = o.flushInterval ?? Duration.seconds(60);
  if (!(flushInterval instanceof Duration) || flushInterval.toSeconds() < 1 || flushInterval.toSeconds() > 3600) {
    issues.add(`${path}.flushInterval`, flushInterval?.toString(), 'must be a Duration from 1 second to 1 hour');
  }
  const batchSize = o.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100000) issues.add(`${path}.batchSize`, o.batchSize, 'must be a whole number of records from 1 to 100000');
  const port = o.port ?? DEFAULT_PAYLOAD_LOG_PORT;
  const r = t.runtime;
  const taken: Array<[string, number | undefined]> = [['the serving port', r.port], ['the gRPC port', r.grpcPort], ['the metrics port', r.metrics?.port]];
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    issues.add(`${path}.port`, o.port, 'must be a port from 1024 to 65535 (the proxy runs as non-root)');
  } else {
    for (const [what, p] of taken) {
      if (p === port) issues.add(`${path}.port`, port, `clashes with ${what} of Runtime.${r.kind}() (${p}): give the logging proxy another port`);
    }
  }
  if (t.kserve) {
    issues.add(path, o,
      "is not available with KServe: its `logger` posts CloudEvents to a URL, or (blob storage) writes one object per message with a Secret of AWS_* keys that the platform's store credentials are not, " +
      'and has no sampling or body limit: set `kserve: false`, or drop `logging`');
  }
  if (!ctx) {
    issues.add(path, o, "writes to the platform's object store: give `platform` (an MlPlatform or a PlatformContext with a `store`), or drop `logging`");
  }
  if (issues.all.length > before || !ctx) return undefined;
  const excludePaths = [...new Set([r.health.readiness, r.health.liveness, ...(r.metrics && r.metrics.port === r.port ? [r.metrics.path] : [])])];
  return {
    mode,
    samplePercent,
    maxBodyBytes,
    flushInterval,
    batchSize,
    port,
    upstreamPort: r.port,
    excludePaths,
    bucket: ctx.store.bucket,
    prefix: payloadLogPrefix(ctx, t.namespace, t.endpoint, t.version),
    region: ctx.store.region,
    endpoint: ctx.store.endpoint,
    credentials: ctx.store.credentials,
    serviceAccountAnnotations: { ...ctx.store.serviceAccountAnnotations },
  };
}

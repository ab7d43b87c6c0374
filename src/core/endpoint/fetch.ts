import { Issues } from '../errors';
import { PlatformContext } from '../platform/context';
import { SecretKeyRef } from '../secrets';
import { ModelSourceSpec } from './model-source';

/** Requests and limits of the fetch init container (the synth-time checks count its requests). */
export const MODEL_FETCH_RESOURCES = { cpu: '250m', cpuLimit: '1', memory: '512Mi', memoryLimit: '1Gi' } as const;

/** An environment variable of the fetch step: a literal, or a key of a Secret. */
export interface FetchEnv {
  /** Variable name. */
  readonly name: string;
  /** Literal value. */
  readonly value?: string;
  /** The Secret key it is read from. */
  readonly secretKeyRef?: SecretKeyRef;
}

/**
 * What one version's ServiceAccount must be able to read, and nothing more. The AWS side turns an
 * `s3` scope into an IAM role (s3:GetObject on `bucket/prefix*`, s3:ListBucket limited to the
 * prefix) bound to the ServiceAccount; a `registry` scope is enforced by MLflow's permissions.
 */
export type ReadScope =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'registry'; readonly model: string };

/** The init step that puts the model on the pod's model volume before the server starts. */
export interface FetchSpec {
  /** The URI passed to `mlflow.artifacts.download_artifacts`. */
  readonly uri: string;
  /** Environment of the fetch container only: the server container never sees these credentials. */
  readonly env: readonly FetchEnv[];
}

/** How a version reads its model: the fetch step, the read scope and the ServiceAccount annotations. */
export interface ModelAccess {
  /** The fetch step; undefined for baked models. */
  readonly fetch?: FetchSpec;
  /** What the ServiceAccount must be able to read; undefined for baked models. */
  readonly readScope?: ReadScope;
  /** Workload-identity annotations of the version's ServiceAccount. */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
}

function storeRoot(ctx: PlatformContext): { bucket: string; prefix: string } {
  return { bucket: ctx.store.bucket, prefix: ctx.store.prefix ? `${ctx.store.prefix.replace(/\/+$/, '')}/` : '' };
}

/**
 * Plans how a version reads `source`, checking that the credentials it gets can read it: a
 * registry model needs the platform's tracking server; an `s3://` URI outside the platform's
 * store root (or with no platform) needs credentials of its own.
 */
export function planModelAccess(issues: Issues, path: string, source: ModelSourceSpec, ctx: PlatformContext | undefined): ModelAccess {
  if (source.kind === 'baked') return { serviceAccountAnnotations: {} };
  if (source.kind === 'registry') {
    if (!ctx) {
      issues.add(path, source.uri, 'a registered model is fetched through the tracking server: give `platform` (an MlPlatform or a PlatformContext), or use ModelSource.uri(...)');
      return { serviceAccountAnnotations: {} };
    }
    const env: FetchEnv[] = [{ name: 'MLFLOW_TRACKING_URI', value: ctx.tracking.uri }];
    const t = ctx.tracking.credentials;
    if (t) env.push({ name: 'MLFLOW_TRACKING_USERNAME', secretKeyRef: { name: t.name, key: t.keys.username } }, { name: 'MLFLOW_TRACKING_PASSWORD', secretKeyRef: { name: t.name, key: t.keys.password } });
    return { fetch: { uri: source.uri, env }, readScope: { kind: 'registry', model: source.name }, serviceAccountAnnotations: {} };
  }
  const root = ctx ? storeRoot(ctx) : undefined;
  const inPlatformStore = root !== undefined && source.bucket === root.bucket && `${source.key}/`.startsWith(root.prefix);
  const env: FetchEnv[] = [];
  const region = source.region ?? (inPlatformStore ? ctx!.store.region : undefined) ?? 'us-east-1';
  env.push({ name: 'AWS_DEFAULT_REGION', value: region });
  const endpoint = source.endpoint ?? (inPlatformStore ? ctx!.store.endpoint : undefined);
  if (endpoint) env.push({ name: 'MLFLOW_S3_ENDPOINT_URL', value: endpoint }, { name: 'AWS_ENDPOINT_URL_S3', value: endpoint });
  let annotations: Record<string, string> = {};
  const c = source.credentials;
  if (c && 'workloadIdentity' in c) {
    annotations = { ...c.workloadIdentity?.serviceAccountAnnotations };
  } else if (c) {
    env.push({ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: c.accessKeyId }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: c.secretAccessKey });
  } else if (inPlatformStore) {
    const keys = ctx!.store.credentials;
    if (keys) env.push({ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: keys.name, key: keys.keys.accessKeyId } }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: { name: keys.name, key: keys.keys.secretAccessKey } });
    annotations = { ...ctx!.store.serviceAccountAnnotations };
  } else if (ctx) {
    issues.add(`${path}.credentials`, undefined,
      `${source.uri} lies outside the platform's store (${ctx.store.root}), so the version's ServiceAccount could not read it: ` +
      'give `credentials` that can, or copy the model under the platform\'s store');
  } else {
    issues.add(`${path}.credentials`, undefined, `nothing could read ${source.uri} without a platform: give \`credentials\` (access keys from a Secret, or a workload identity)`);
  }
  return { fetch: { uri: source.uri, env }, readScope: { kind: 's3', bucket: source.bucket, prefix: `${source.key}/` }, serviceAccountAnnotations: annotations };
}

/**
 * The fetch program (Python, run by the MLflow image): download the URI with
 * `mlflow.artifacts.download_artifacts` and move the result to `$MODEL_DIR` (a single file lands
 * inside it). Idempotent when the init container restarts.
 */
export const FETCH_PROGRAM = [
  'import os, shutil',
  'import mlflow.artifacts',
  'dst, tmp = os.environ["MODEL_DIR"], os.environ["MODEL_STAGING"]',
  'for p in (dst, tmp):',
  '    shutil.rmtree(p, ignore_errors=True)',
  'src = mlflow.artifacts.download_artifacts(artifact_uri=os.environ["MODEL_URI"], dst_path=tmp)',
  'os.makedirs(os.path.dirname(dst), exist_ok=True)',
  'if os.path.isdir(src):',
  '    shutil.move(src, dst)',
  'else:',
  '    os.makedirs(dst)',
  '    shutil.move(src, dst)',
  'shutil.rmtree(tmp, ignore_errors=True)',
  'print("model ready in", dst, sorted(os.listdir(dst)))',
  '',
].join('\n');

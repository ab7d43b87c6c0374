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
 * What one version's ServiceAccount must be able to read, and nothing more. The AWS side turns the
 * store part of either kind into an IAM role (s3:GetObject on `bucket/prefix*`, s3:ListBucket
 * limited to the prefix) bound to the ServiceAccount.
 * - `s3`: the model's own prefix (ModelSource.uri).
 * - `registry`: the registered model (MLflow's permissions enforce it) and the store root its
 *   versions' `s3://` sources live under (a registration step of the namespace's pipelines registers
 *   `s3://<bucket>/<store prefix>/pipelines/<namespace>/…`; MLflow resolves `models:/` URIs to that
 *   source and downloads it client-side, with the fetch step's own store identity). An alias is
 *   resolved at run time, so the exact version prefix is not known at synth time: the namespace's
 *   pipeline root is the narrowest scope that holds every version its pipelines register.
 */
export type ReadScope =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'registry'; readonly model: string; readonly bucket: string; readonly prefix: string };

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

/** Where the `s3://` sources registered by the pipelines of `namespace` live: `<store prefix>/pipelines/<namespace>/` (TrainingPipeline's artifact prefix). */
export function registrySourcesPrefix(ctx: PlatformContext, namespace: string): string {
  return `${storeRoot(ctx).prefix}pipelines/${namespace}/`;
}

/** The platform store's endpoint and region, for a client that reads it (boto3 through MLflow's S3 artifact repository). */
function storeLocationEnv(endpoint: string | undefined, region: string): FetchEnv[] {
  const env: FetchEnv[] = [{ name: 'AWS_DEFAULT_REGION', value: region }];
  // MLflow's S3ArtifactRepository passes MLFLOW_S3_ENDPOINT_URL to boto3; plain boto3 reads AWS_ENDPOINT_URL_S3.
  if (endpoint) env.push({ name: 'MLFLOW_S3_ENDPOINT_URL', value: endpoint }, { name: 'AWS_ENDPOINT_URL_S3', value: endpoint });
  return env;
}

/** The platform store identity of a tenant workload: its access keys (a Secret in the namespace) or its workload-identity annotations. */
function platformStoreIdentity(ctx: PlatformContext): { env: FetchEnv[]; annotations: Record<string, string> } {
  const keys = ctx.store.credentials;
  const env: FetchEnv[] = keys
    ? [{ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: keys.name, key: keys.keys.accessKeyId } }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: { name: keys.name, key: keys.keys.secretAccessKey } }]
    : [];
  return { env, annotations: { ...ctx.store.serviceAccountAnnotations } };
}

/** Whether the platform gives its tenants' workloads any store identity (keys, or workload-identity annotations). */
function hasStoreIdentity(ctx: PlatformContext): boolean {
  return ctx.store.credentials !== undefined || Object.keys(ctx.store.serviceAccountAnnotations ?? {}).length > 0;
}

/**
 * Plans how a version in `namespace` reads `source`, checking that the credentials it gets can
 * read it: a registry model needs the platform's tracking server (to resolve the version) and the
 * platform store's identity (to download an `s3://` source, as MLflow does client-side); an `s3://`
 * URI outside the platform's store root (or with no platform) needs credentials of its own.
 */
export function planModelAccess(issues: Issues, path: string, source: ModelSourceSpec, ctx: PlatformContext | undefined, namespace: string): ModelAccess {
  if (source.kind === 'baked') return { serviceAccountAnnotations: {} };
  if (source.kind === 'registry') {
    if (!ctx) {
      issues.add(path, source.uri, 'a registered model is fetched through the tracking server: give `platform` (an MlPlatform or a PlatformContext), or use ModelSource.uri(...)');
      return { serviceAccountAnnotations: {} };
    }
    const env: FetchEnv[] = [{ name: 'MLFLOW_TRACKING_URI', value: ctx.tracking.uri }];
    const t = ctx.tracking.credentials;
    if (t) env.push({ name: 'MLFLOW_TRACKING_USERNAME', secretKeyRef: { name: t.name, key: t.keys.username } }, { name: 'MLFLOW_TRACKING_PASSWORD', secretKeyRef: { name: t.name, key: t.keys.password } });
    // MLflow resolves `models:/name@alias` to the version's source and downloads it itself
    // (mlflow/store/artifact/models_artifact_repo.py `_get_model_uri_infos` → get_model_version_download_uri,
    // then get_artifact_repository(source)): only `mlflow-artifacts:/` sources go through the tracking
    // server (--serve-artifacts); the `s3://` sources registration steps register are read with
    // boto3 (s3_artifact_repo.py `_get_s3_client`: MLFLOW_S3_ENDPOINT_URL, the AWS credential chain).
    env.push(...storeLocationEnv(ctx.store.endpoint, ctx.store.region));
    if (!hasStoreIdentity(ctx)) {
      issues.add(path, source.uri,
        `the platform's store (${ctx.store.root}) gives tenant workloads no identity (neither \`store.credentials\` nor \`store.serviceAccountAnnotations\`), ` +
        'so the fetch step could not download a version registered from an `s3://` source (what TrainingPipeline registration steps register): ' +
        'give the PlatformContext one of them, or serve the model with ModelSource.uri(..., { credentials })');
    }
    const identity = platformStoreIdentity(ctx);
    env.push(...identity.env);
    return {
      fetch: { uri: source.uri, env },
      readScope: { kind: 'registry', model: source.name, bucket: ctx.store.bucket, prefix: registrySourcesPrefix(ctx, namespace) },
      serviceAccountAnnotations: identity.annotations,
    };
  }
  const root = ctx ? storeRoot(ctx) : undefined;
  const inPlatformStore = root !== undefined && source.bucket === root.bucket && `${source.key}/`.startsWith(root.prefix);
  const region = source.region ?? (inPlatformStore ? ctx!.store.region : undefined) ?? 'us-east-1';
  const env: FetchEnv[] = storeLocationEnv(source.endpoint ?? (inPlatformStore ? ctx!.store.endpoint : undefined), region);
  let annotations: Record<string, string> = {};
  const c = source.credentials;
  if (c && 'workloadIdentity' in c) {
    annotations = { ...c.workloadIdentity?.serviceAccountAnnotations };
  } else if (c) {
    env.push({ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: c.accessKeyId }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: c.secretAccessKey });
  } else if (inPlatformStore) {
    const identity = platformStoreIdentity(ctx!);
    env.push(...identity.env);
    annotations = identity.annotations;
  } else if (ctx) {
    issues.add(`${path}.credentials`, undefined,
      `${source.uri} lies outside the platform's store (${ctx.store.root}), so the version's ServiceAccount could not read it: ` +
      'give `credentials` that can, or copy the model under the platform\'s store');
  } else {
    issues.add(`${path}.credentials`, undefined, `nothing could read ${source.uri} without a platform: give \`credentials\` (access keys from a Secret, or a workload identity)`);
  }
  return { fetch: { uri: source.uri, env }, readScope: { kind: 's3', bucket: source.bucket, prefix: `${source.key}/` }, serviceAccountAnnotations: annotations };
}

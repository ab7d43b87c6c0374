import { Issues } from '../errors';
import { checkAnnotations } from '../names';
import { StoreCredentials } from '../platform/stores';
import { checkFactoryArgs } from '../prop-shapes';
import { checkSecretKeyRef } from '../secrets';

/** Options of {@link ModelSource.registry}: which version of the registered model to serve. */
export interface RegistryModelOptions {
  /**
   * A registry alias (`models:/<name>@<alias>`), resolved when a pod starts: moving the alias
   * re-targets the next rollout, not running pods.
   * @default 'champion' (when `version` is not given)
   */
  readonly alias?: string;
  /** A fixed registry version number (`models:/<name>/<version>`). Give this or `alias`. */
  readonly version?: number;
}

/** Options of {@link ModelSource.uri}. */
export interface ObjectStoreModelOptions {
  /**
   * Credentials that can read the URI, when it lies outside the platform's store (or there is no
   * platform): access keys from a Secret, or workload-identity annotations for the version's
   * ServiceAccount.
   * @default the platform's store access (only valid for URIs under the platform's store root)
   */
  readonly credentials?: StoreCredentials;
  /**
   * S3 endpoint URL for S3-compatible stores other than the platform's.
   * @default the platform's store endpoint (AWS S3 without a platform)
   */
  readonly endpoint?: string;
  /**
   * Region of the bucket.
   * @default the platform's store region ('us-east-1' without a platform)
   */
  readonly region?: string;
}

/** Options of {@link ModelSource.baked}. */
export interface BakedModelOptions {
  /** Absolute path of the model inside the image. @default none (required except for custom runtimes) */
  readonly path?: string;
}

/** The validated model source. */
export type ModelSourceSpec =
  | { readonly kind: 'registry'; readonly name: string; readonly alias?: string; readonly version?: number; readonly uri: string }
  | {
    readonly kind: 'uri';
    readonly uri: string;
    readonly bucket: string;
    readonly key: string;
    readonly credentials?: StoreCredentials;
    readonly endpoint?: string;
    readonly region?: string;
  }
  | { readonly kind: 'baked'; readonly path?: string };

/** MLflow registered model names this library accepts (a conservative subset: they end up in URIs and labels). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;
/** MLflow alias syntax; `latest` and `v<digits>` are reserved by MLflow. */
const ALIAS = /^[A-Za-z0-9_-]{1,255}$/;
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([A-Za-z0-9!_.*'()/-]+)$/;

/**
 * Where a served model comes from (union-like): a registered MLflow model, an object-store URI, or
 * a model baked into the image. Registry and URI sources are fetched by an init container before
 * the server starts, with credentials that only that container sees.
 */
export class ModelSource {
  /**
   * A registered MLflow model: `models:/<name>@<alias>` (default alias `champion`) or
   * `models:/<name>/<version>`. The fetch step resolves it through the tracking server with the
   * tenant's MLflow credentials, then downloads the version's source as MLflow does, client-side:
   * an `s3://` source (what pipeline registration steps register) from the platform's store with
   * the tenant's store identity, an `mlflow-artifacts:/` source through the tracking server.
   */
  public static registry(name: string, options: RegistryModelOptions = {}): ModelSource {
    return checkFactoryArgs(new ModelSource({ kind: 'registry', name, ...options }), 'ModelSource.registry', { name, options });
  }
  /** A model directory (or file) in an S3-compatible store: `s3://bucket/prefix/model`. */
  public static uri(uri: string, options: ObjectStoreModelOptions = {}): ModelSource {
    return checkFactoryArgs(new ModelSource({ kind: 'uri', uri, ...options }), 'ModelSource.uri', { uri, options });
  }
  /**
   * The model is inside the runtime image (no fetch step, no credentials). `path` is where: the
   * model directory (MLflow, vLLM) or the model repository (Triton); custom runtimes may omit it.
   */
  public static baked(options: BakedModelOptions = {}): ModelSource {
    return checkFactoryArgs(new ModelSource({ kind: 'baked', ...options }), 'ModelSource.baked', { options });
  }

  private constructor(private readonly options: { kind: 'registry' | 'uri' | 'baked'; [k: string]: unknown }) {}

  /** @internal validates and returns the spec, recording issues under `path`. */
  public _resolve(issues: Issues, path: string): ModelSourceSpec {
    const o = this.options as any;
    if (o.kind === 'baked') {
      if (o.path !== undefined && (typeof o.path !== 'string' || !/^\/[^\s]*$/.test(o.path))) issues.add(`${path}.path`, o.path, 'must be an absolute path inside the image, e.g. "/opt/model"');
      return { kind: 'baked', path: o.path };
    }
    if (o.kind === 'registry') {
      if (typeof o.name !== 'string' || !MODEL_NAME.test(o.name)) {
        issues.add(`${path}.name`, o.name, 'must be a registered model name: letters, digits, ".", "_" and "-", starting with a letter or digit');
      }
      if (o.alias !== undefined && o.version !== undefined) issues.add(`${path}.version`, o.version, 'give either `alias` or `version`, not both');
      if (o.version !== undefined && (!Number.isInteger(o.version) || o.version < 1)) issues.add(`${path}.version`, o.version, 'must be a registry version number ≥ 1');
      const alias = o.version === undefined ? o.alias ?? 'champion' : undefined;
      if (alias !== undefined && (!ALIAS.test(alias) || alias === 'latest' || /^v\d+$/.test(alias))) {
        issues.add(`${path}.alias`, alias, 'must be an MLflow alias (letters, digits, "_" and "-"; not "latest" or "v<number>", which MLflow reserves)');
      }
      const uri = alias !== undefined ? `models:/${o.name}@${alias}` : `models:/${o.name}/${o.version}`;
      return { kind: 'registry', name: o.name, alias, version: o.version, uri };
    }
    const m = typeof o.uri === 'string' ? S3_URI.exec(o.uri) : null;
    if (!m || o.uri.includes('..') || o.uri.includes('//', 5)) {
      issues.add(`${path}.uri`, o.uri, 'must be an object-store URI such as "s3://bucket/models/resnet50/7" (bucket, then a key prefix)');
    } else if (/[*?[\]]/.test(o.uri)) {
      // The fetch copies one prefix; a wildcard would be a literal key to S3 and a pattern to IAM (more than the model).
      issues.add(`${path}.uri`, o.uri, 'must name one model prefix: no wildcards ("*", "?", "[…]")');
    }
    if (o.endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(o.endpoint)) issues.add(`${path}.endpoint`, o.endpoint, 'must be an http(s) URL such as "https://s3.example.com"');
    if (o.region !== undefined && !/^[a-z0-9-]{2,32}$/.test(o.region)) issues.add(`${path}.region`, o.region, 'must be a region such as "us-east-1"');
    const c = o.credentials;
    if (c !== undefined) {
      if ('workloadIdentity' in c) {
        const ann = c.workloadIdentity?.serviceAccountAnnotations;
        if (!ann || typeof ann !== 'object' || Object.keys(ann).length === 0) {
          issues.add(`${path}.credentials.workloadIdentity.serviceAccountAnnotations`, ann, 'must hold the identity annotation, e.g. { "eks.amazonaws.com/role-arn": "arn:aws:iam::…:role/…" }');
        } else {
          checkAnnotations(issues, `${path}.credentials.workloadIdentity.serviceAccountAnnotations`, ann);
        }
      } else {
        checkSecretKeyRef(issues, `${path}.credentials.accessKeyId`, c.accessKeyId);
        checkSecretKeyRef(issues, `${path}.credentials.secretAccessKey`, c.secretAccessKey);
      }
    }
    const key = (m?.[2] ?? '').replace(/\/+$/, '');
    return { kind: 'uri', uri: m ? `s3://${m[1]}/${key}` : o.uri, bucket: m?.[1] ?? '', key, credentials: c, endpoint: o.endpoint, region: o.region };
  }
}

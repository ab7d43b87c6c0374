import { Issues } from '../errors';
import { PlatformContext } from '../platform/context';
import { checkFactoryArgs } from '../prop-shapes';
import { isPinnedImage, VERSIONS } from '../versions';
import { checkNotTemplated } from './references';

/**
 * Image that runs `dvc get` for DVC inputs: Iterative's CML image (Ubuntu, Python, git and DVC 3
 * with every remote; Iterative publishes no DVC-only image, treeverse/dvc#4849): `VERSIONS.images.dvc`.
 * Its tag is a rolling major tag rebuilt upstream: pin it by digest (`@sha256:…`) through the
 * platform's `versions`, or per dataset with `image`.
 */
export const DEFAULT_DVC_IMAGE = VERSIONS.images.dvc;

/** Git refs that are branches by convention: a run must read a fixed version, not a moving one. */
const FLOATING_REFS = ['HEAD', 'main', 'master', 'develop', 'dev', 'trunk'];

/** A DVC-tracked dataset at a fixed Git revision. */
export interface DvcDatasetOptions {
  /** Git URL of the DVC repository (`https://…` or `git@…`). Takes no Argo expressions. */
  readonly repository: string;
  /** Commit SHA or tag the data is read at (a branch would make runs unreproducible). */
  readonly revision: string;
  /** Path of the tracked file or directory inside the repository, e.g. `data/train`. Takes no Argo expressions. */
  readonly path: string;
  /**
   * Key prefix, inside the platform's object store, of the DVC remote to read from (for a repository
   * whose remote lives in the platform store). Needs a platform.
   * @default the repository's own default remote
   */
  readonly remote?: string;
  /**
   * Image that runs `dvc get` (needs git and `dvc[s3]`).
   * @default DEFAULT_DVC_IMAGE
   */
  readonly image?: string;
}

/** An object-store prefix at a fixed version. */
export interface BucketDatasetOptions {
  /** Key prefix inside the platform's object store (below its prefix), e.g. `datasets/cifar10`. */
  readonly prefix: string;
  /**
   * The version: a write-once sub-prefix, e.g. `v3` or `2024-05-01`. The data read is
   * `<prefix>/<version>/`. (Argo artifacts cannot pin S3 object version ids.)
   */
  readonly version: string;
}

/** A validated dataset. */
export type DatasetSpec =
  | { readonly kind: 'dvc'; readonly repository: string; readonly revision: string; readonly path: string; readonly remoteUrl?: string; readonly image: string; readonly version: string }
  | { readonly kind: 'bucket'; readonly key: string; readonly version: string };

/**
 * A versioned data input of a step, pulled into `/mnt/inputs/<name>` before the step runs:
 * `Dataset.fromDvc(…)` or `Dataset.fromBucket(…)`. Its version ends up as an annotation of the run
 * and an MLflow tag.
 */
export abstract class Dataset {
  /** A DVC dataset, fetched with `dvc get` at a fixed revision before the step starts. */
  public static fromDvc(options: DvcDatasetOptions): Dataset {
    return checkFactoryArgs(new DvcDataset(options), 'Dataset.fromDvc', { options });
  }

  /** A versioned prefix of the platform's object store, downloaded by Argo as an input artifact. */
  public static fromBucket(options: BucketDatasetOptions): Dataset {
    return checkFactoryArgs(new BucketDataset(options), 'Dataset.fromBucket', { options });
  }

  /** @internal */
  public abstract _resolve(issues: Issues, path: string, ctx?: PlatformContext): DatasetSpec;
}

class DvcDataset extends Dataset {
  constructor(private readonly o: DvcDatasetOptions) {
    super();
  }

  public _resolve(issues: Issues, path: string, ctx?: PlatformContext): DatasetSpec {
    const o = this.o;
    if (typeof o.repository !== 'string' || !/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/.test(o.repository)) {
      issues.add(`${path}.repository`, o.repository, 'must be a Git URL (https://…, ssh://… or git@host:…)');
    }
    if (typeof o.revision !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9_./]*$/.test(o.revision)) {
      issues.add(`${path}.revision`, o.revision, 'must be a commit SHA or a tag');
    } else if (FLOATING_REFS.includes(o.revision)) {
      issues.add(`${path}.revision`, o.revision, 'is a branch, so every run could read different data; give a commit SHA or a tag');
    }
    if (typeof o.path !== 'string' || o.path.trim() === '' || o.path.startsWith('/') || o.path.split('/').includes('..')) {
      issues.add(`${path}.path`, o.path, 'must be a path inside the repository, e.g. "data/train"');
    } else if (o.path.startsWith('-')) {
      issues.add(`${path}.path`, o.path, '`dvc get` would read it as an option; a path inside the repository cannot start with "-" (write "./' + o.path + '")');
    }
    checkNotTemplated(issues, `${path}.repository`, o.repository);
    checkNotTemplated(issues, `${path}.path`, o.path);
    const imageTemplated = !checkNotTemplated(issues, `${path}.image`, o.image);
    const image = o.image ?? DEFAULT_DVC_IMAGE;
    if (!imageTemplated && !isPinnedImage(image)) issues.add(`${path}.image`, image, 'must be pinned to a tag other than "latest" or a digest');
    let remoteUrl: string | undefined;
    if (o.remote !== undefined) {
      if (!ctx) {
        issues.add(`${path}.remote`, o.remote, 'names a prefix of the platform store, but no `platform` is given; give one or drop `remote`');
      } else if (!/^[A-Za-z0-9][-A-Za-z0-9_./]*$/.test(o.remote) || o.remote.split('/').includes('..')) {
        issues.add(`${path}.remote`, o.remote, 'must be a key prefix such as "dvc/vision"');
      } else {
        remoteUrl = `s3://${ctx.store.bucket}/${joinKey(ctx.store.prefix, o.remote)}`;
      }
    }
    return { kind: 'dvc', repository: o.repository, revision: o.revision, path: o.path, remoteUrl, image, version: `${o.repository}@${o.revision}:${o.path}` };
  }
}

class BucketDataset extends Dataset {
  constructor(private readonly o: BucketDatasetOptions) {
    super();
  }

  public _resolve(issues: Issues, path: string, ctx?: PlatformContext): DatasetSpec {
    const o = this.o;
    const keyPart = /^[A-Za-z0-9][-A-Za-z0-9_.=/]*$/;
    if (typeof o.prefix !== 'string' || !keyPart.test(o.prefix) || o.prefix.split('/').includes('..')) {
      issues.add(`${path}.prefix`, o.prefix, 'must be a key prefix such as "datasets/cifar10"');
    }
    if (typeof o.version !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9_.=]*$/.test(o.version)) {
      issues.add(`${path}.version`, o.version, 'must be a version such as "v3" or "2024-05-01" (one key segment)');
    } else if (['latest', 'current'].includes(o.version)) {
      issues.add(`${path}.version`, o.version, 'names a moving version; give a write-once one such as "v3"');
    }
    const prefix = String(o.prefix ?? '').replace(/\/+$/, '');
    return { kind: 'bucket', key: joinKey(ctx?.store.prefix ?? '', `${prefix}/${o.version}`), version: `${prefix}@${o.version}` };
  }
}

/** Joins S3 key parts with single slashes, dropping empty ones. */
export function joinKey(...parts: string[]): string {
  return parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p.length > 0).join('/');
}

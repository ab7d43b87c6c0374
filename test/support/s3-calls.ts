/**
 * S3 as an IAM-checked store, and the call sequences of the two programs that move a pipeline's
 * data: Argo's S3 artifact driver and mlplatform's step_io.py. Replaying a sequence against a policy
 * (test/support/iam.ts) says which call S3 would refuse, and with what.
 *
 * S3's authorization, from the Amazon S3 User Guide "Required permissions for Amazon S3 API
 * operations" (using-with-s3-policy-actions.html) and the API reference:
 * - HeadObject and GetObject need s3:GetObject on `arn:aws:s3:::bucket/key`. For a key that does not
 *   exist, "the error that Amazon S3 returns depends on whether you also have the s3:ListBucket
 *   permission": 404 NoSuchKey with it, 403 AccessDenied without (API_GetObject.html, API_HeadObject.html,
 *   "Permissions"). That check is made for the GET, whose request context carries no `s3:prefix`
 *   (only ListObjects requests have one, from their `prefix` parameter): a ListBucket grant limited by
 *   an `s3:prefix` condition does not count, as for HeadBucket, which is authorized as s3:ListBucket
 *   with no prefix either. This is the reading that does not assume anything AWS does not document.
 * - ListObjectsV2 needs s3:ListBucket on `arn:aws:s3:::bucket`, with the condition keys `s3:prefix`
 *   and `s3:delimiter` set from the request's parameters when given.
 * - PutObject, CreateMultipartUpload, UploadPart and CompleteMultipartUpload need s3:PutObject on the
 *   object ARN; AbortMultipartUpload needs s3:AbortMultipartUpload.
 */
import { evaluate, IamPolicy } from './iam';

export type S3Operation = 'HeadObject' | 'GetObject' | 'ListObjectsV2' | 'PutObject' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';

/** One S3 request. */
export interface S3Call {
  readonly op: S3Operation;
  readonly bucket: string;
  /** Object key (object operations). */
  readonly key?: string;
  /** ListObjectsV2 `prefix`. */
  readonly prefix?: string;
  /** ListObjectsV2 `delimiter`. */
  readonly delimiter?: string;
}

/** What S3 answers. */
export interface S3Answer {
  readonly status: 200 | 403 | 404;
  readonly code?: 'AccessDenied' | 'NoSuchKey';
  /** Keys listed (ListObjectsV2). */
  readonly keys?: readonly string[];
}

const ACTIONS: Record<S3Operation, string> = {
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  ListObjectsV2: 's3:ListBucket',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
};

/** A bucket's objects and the principal's identity policies; answers calls as S3 does. */
export class IamCheckedStore {
  /** Every call made, with its answer. */
  public readonly log: { call: S3Call; answer: S3Answer }[] = [];
  private readonly objects = new Map<string, Set<string>>();

  constructor(private readonly policies: IamPolicy | readonly IamPolicy[]) {}

  /** Puts objects (as another writer would: no authorization). */
  public seed(bucket: string, keys: readonly string[]): this {
    const set = this.objects.get(bucket) ?? new Set<string>();
    keys.forEach((k) => set.add(k));
    this.objects.set(bucket, set);
    return this;
  }

  public has(bucket: string, key: string): boolean {
    return this.objects.get(bucket)?.has(key) ?? false;
  }

  public call(c: S3Call): S3Answer {
    const answer = this.answer(c);
    this.log.push({ call: c, answer });
    return answer;
  }

  private allowed(action: string, resource: string, context: Record<string, string> = {}): boolean {
    return evaluate(this.policies, { action, resource, context }) === 'Allow';
  }

  private answer(c: S3Call): S3Answer {
    const bucketArn = `arn:aws:s3:::${c.bucket}`;
    const keys = this.objects.get(c.bucket) ?? new Set<string>();
    if (c.op === 'ListObjectsV2') {
      const context: Record<string, string> = {};
      if (c.prefix !== undefined) context['s3:prefix'] = c.prefix;
      if (c.delimiter !== undefined) context['s3:delimiter'] = c.delimiter;
      if (!this.allowed('s3:ListBucket', bucketArn, context)) return { status: 403, code: 'AccessDenied' };
      return { status: 200, keys: [...keys].filter((k) => k.startsWith(c.prefix ?? '')).sort() };
    }
    const objectArn = `${bucketArn}/${c.key}`;
    if (!this.allowed(ACTIONS[c.op], objectArn)) return { status: 403, code: 'AccessDenied' };
    if (c.op === 'HeadObject' || c.op === 'GetObject') {
      if (keys.has(c.key!)) return { status: 200 };
      // Missing key: NoSuchKey only to a caller allowed s3:ListBucket — checked with the GET's context (no s3:prefix).
      return this.allowed('s3:ListBucket', bucketArn) ? { status: 404, code: 'NoSuchKey' } : { status: 403, code: 'AccessDenied' };
    }
    if (c.op === 'PutObject' || c.op === 'CompleteMultipartUpload') keys.add(c.key!);
    this.objects.set(c.bucket, keys);
    return { status: 200 };
  }
}

/** The outcome of a replayed sequence: ok, or the call that failed and how. */
export type Replay = { readonly ok: true } | { readonly ok: false; readonly failed: S3Call; readonly answer: S3Answer };

const fail = (failed: S3Call, answer: S3Answer): Replay => ({ ok: false, failed, answer });

/** Go's `filepath.Clean(p) + "/"` for the keys Argo lists (no `.` or `..` segments in ours). */
function dirPrefix(key: string): string {
  return `${key.replace(/\/+/g, '/').replace(/\/$/, '')}/`;
}

/** minio-go v7.0.100 FGetObject (api-get-object-file.go): StatObject (HEAD, line 66), then GET (line 104). */
function fGetObject(s: IamCheckedStore, bucket: string, key: string): S3Answer {
  const head = s.call({ op: 'HeadObject', bucket, key });
  return head.status !== 200 ? head : s.call({ op: 'GetObject', bucket, key });
}

/**
 * Argo v4.0.7 loading an input artifact (workflow/artifacts/s3/s3.go `loadS3Artifact`, lines 191-213):
 * GetFile of the key itself; only on NoSuchKey, IsDirectory (lines 675-699: one non-recursive
 * ListObjects of `Clean(key)/`), then GetDirectory (lines 649-671: a recursive ListObjects of the same
 * prefix, lines 701-735, and FGetObject of each key). Any other error fails the step.
 */
export function argoLoad(s: IamCheckedStore, bucket: string, key: string): Replay {
  const first = { op: 'HeadObject' as const, bucket, key };
  const got = fGetObject(s, bucket, key);
  if (got.status === 200) return { ok: true };
  if (got.code !== 'NoSuchKey') return fail(s.log[s.log.length - 1].call, got);
  const prefix = dirPrefix(key);
  const isDir = s.call({ op: 'ListObjectsV2', bucket, prefix, delimiter: '/' });
  if (isDir.status !== 200) return fail({ op: 'ListObjectsV2', bucket, prefix, delimiter: '/' }, isDir);
  if (isDir.keys!.length === 0) return fail(first, got);
  const listed = s.call({ op: 'ListObjectsV2', bucket, prefix });
  if (listed.status !== 200) return fail({ op: 'ListObjectsV2', bucket, prefix }, listed);
  for (const k of listed.keys!.filter((x) => !x.endsWith('/'))) {
    const a = fGetObject(s, bucket, k);
    if (a.status !== 200) return fail(s.log[s.log.length - 1].call, a);
  }
  return { ok: true };
}

/** minio-go's multipart threshold (constants.go `minPartSize`): at or above it, PutObject streams parts. */
export const MINIO_PART_SIZE = 16 * 1024 * 1024;
/** boto3/s3transfer's default `multipart_threshold` and `multipart_chunksize` (TransferConfig). */
export const BOTO3_MULTIPART_THRESHOLD = 8 * 1024 * 1024;

/** One upload of `size` bytes: a single PUT below `threshold`, else Create + parts + Complete (Abort if a call fails). */
function upload(s: IamCheckedStore, bucket: string, key: string, size: number, threshold: number, partSize: number): Replay {
  if (size < threshold) {
    const a = s.call({ op: 'PutObject', bucket, key });
    return a.status === 200 ? { ok: true } : fail({ op: 'PutObject', bucket, key }, a);
  }
  const calls: S3Call[] = [{ op: 'CreateMultipartUpload', bucket, key }];
  for (let i = 0; i < Math.ceil(size / partSize); i++) calls.push({ op: 'UploadPart', bucket, key });
  calls.push({ op: 'CompleteMultipartUpload', bucket, key });
  for (const c of calls) {
    const a = s.call(c);
    if (a.status !== 200) {
      if (c.op !== 'CreateMultipartUpload') {
        const abort = s.call({ op: 'AbortMultipartUpload', bucket, key });
        if (abort.status !== 200) return fail({ op: 'AbortMultipartUpload', bucket, key }, abort);
      }
      return fail(c, a);
    }
  }
  return { ok: true };
}

/**
 * Argo v4.0.7 saving an output artifact with `archive: none` (s3.go `saveS3Artifact`, lines 305-338): a
 * directory file by file to `path.Join(key, relative)` (`generatePutTasks`, lines 546-573, symlinks
 * skipped), a file to `key`; each through minio's FPutObject → PutObject (multipart from 16 MiB).
 * No bucket is created (no `createBucketIfNotPresent`) and nothing is listed.
 */
export function argoSave(s: IamCheckedStore, bucket: string, key: string, files: Readonly<Record<string, number>> | number): Replay {
  if (typeof files === 'number') return upload(s, bucket, key, files, MINIO_PART_SIZE, MINIO_PART_SIZE);
  for (const [relative, size] of Object.entries(files)) {
    const r = upload(s, bucket, `${key.replace(/\/$/, '')}/${relative}`, size, MINIO_PART_SIZE, MINIO_PART_SIZE);
    if (!r.ok) return r;
  }
  return { ok: true };
}

/**
 * src/programs/step_io.py `pull`: ListObjectsV2 of `key/` (the key itself when it ends with `/`), all
 * pages, then GetObject of every key listed; when none is listed and the URI has no trailing slash,
 * GetObject of the key itself (a file output).
 */
export function stepIoPull(s: IamCheckedStore, uri: string): Replay {
  const { bucket, key } = splitUri(uri);
  const prefix = key.endsWith('/') ? key : `${key}/`;
  const listed = s.call({ op: 'ListObjectsV2', bucket, prefix });
  if (listed.status !== 200) return fail({ op: 'ListObjectsV2', bucket, prefix }, listed);
  const keys = listed.keys!.filter((k) => !k.endsWith('/'));
  if (keys.length === 0 && key.endsWith('/')) return fail({ op: 'ListObjectsV2', bucket, prefix }, { status: 404, code: 'NoSuchKey' });
  for (const k of keys.length ? keys : [key]) {
    const a = s.call({ op: 'GetObject', bucket, key: k });
    if (a.status !== 200) return fail({ op: 'GetObject', bucket, key: k }, a);
  }
  return { ok: true };
}

/** src/programs/step_io.py `push`: boto3 `upload_file` per file (multipart from 8 MiB, 8 MiB parts), under `key/` for a directory. */
export function stepIoPush(s: IamCheckedStore, uri: string, files: Readonly<Record<string, number>> | number): Replay {
  const { bucket, key } = splitUri(uri);
  if (typeof files === 'number') return upload(s, bucket, key, files, BOTO3_MULTIPART_THRESHOLD, BOTO3_MULTIPART_THRESHOLD);
  for (const [relative, size] of Object.entries(files)) {
    const r = upload(s, bucket, `${key.replace(/\/$/, '')}/${relative}`, size, BOTO3_MULTIPART_THRESHOLD, BOTO3_MULTIPART_THRESHOLD);
    if (!r.ok) return r;
  }
  return { ok: true };
}

/** `s3://bucket/key` → bucket and key. */
export function splitUri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

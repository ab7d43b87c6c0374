import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { Issues } from '../core';
import { PolicyDocument } from './workload-identity';

/** Default encryption of the bucket. */
export type BucketEncryptionSpec =
  | { readonly kind: 's3-managed' }
  | { readonly kind: 'kms'; readonly keyArn: pulumi.Input<string> };

/** SSE-S3 (AES256, the default) or SSE-KMS with a customer key. */
export class BucketEncryption {
  /** SSE-S3: AES-256 with keys S3 manages. No key policy to keep in step, no KMS request cost. */
  public static s3Managed(): BucketEncryption {
    return new BucketEncryption({ kind: 's3-managed' });
  }
  /**
   * SSE-KMS with a customer managed key (and S3 Bucket Keys, which cut KMS requests). Workload roles
   * get `kms:Decrypt` / `kms:GenerateDataKey` on it through S3 only.
   */
  public static kms(keyArn: pulumi.Input<string>): BucketEncryption {
    return new BucketEncryption({ kind: 'kms', keyArn });
  }
  private constructor(
    /** The chosen encryption. */
    public readonly spec: BucketEncryptionSpec,
  ) {}
}

/** Arguments of {@link ArtifactBucket}. */
export interface ArtifactBucketArgs {
  /**
   * The bucket name (checked against S3's naming rules).
   * @default `<name>-<random suffix>` (Pulumi auto-naming)
   */
  readonly bucketName?: string;
  /** @default BucketEncryption.s3Managed() */
  readonly encryption?: BucketEncryption;
  /**
   * Days a replaced or deleted object's old version is kept before it expires.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Newest noncurrent versions kept regardless of age.
   * @default 3
   */
  readonly noncurrentVersionsKept?: number;
  /** Tags. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Records an issue for each S3 naming rule `name` breaks: 3-63 characters; lowercase letters, digits,
 * '-' (and '.', which we reject too: virtual-hosted HTTPS fails with dotted names, and the bucket
 * is TLS-only); starts and ends with a letter or digit; not an IP address; none of the reserved
 * prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`,
 * `--x-s3`, `--table-s3`).
 */
export function checkBucketName(issues: Issues, path: string, name: unknown): void {
  if (typeof name !== 'string') {
    issues.add(path, name, 'must be a string of 3-63 lowercase letters, digits and "-"');
    return;
  }
  const fail = (why: string) => issues.add(path, name, why);
  if (name.length < 3 || name.length > 63) fail(`must be 3-63 characters long (it has ${name.length})`);
  if (/[^a-z0-9.-]/.test(name)) fail('may contain only lowercase letters, digits and "-"');
  else if (name.includes('.')) fail('must not contain "." (virtual-hosted-style HTTPS fails for dotted bucket names); use "-"');
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) fail('must start and end with a lowercase letter or digit');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) fail('must not be formatted as an IP address');
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) fail(`must not start with the reserved prefix "${prefix}"`);
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) fail(`must not end with the reserved suffix "${suffix}"`);
}

/**
 * Records an issue (under `prefix`) for each bad bucket arg: a bucket name S3 rejects (or, without
 * one, a component `name` that cannot prefix an auto-generated name), or lifecycle settings out of range.
 */
export function checkArtifactBucketArgs(issues: Issues, name: string, args: ArtifactBucketArgs, prefix = ''): void {
  const at = (p: string) => (prefix ? `${prefix}.${p}` : p);
  if (args.bucketName !== undefined) checkBucketName(issues, at('bucketName'), args.bucketName);
  else checkBucketName(issues, 'name', `${name}-bucket-0000000`);
  const days = args.noncurrentVersionDays ?? 30;
  const kept = args.noncurrentVersionsKept ?? 3;
  if (!Number.isInteger(days) || days < 1) issues.add(at('noncurrentVersionDays'), args.noncurrentVersionDays, 'must be a whole number of days ≥ 1');
  if (!Number.isInteger(kept) || kept < 0 || kept > 100) issues.add(at('noncurrentVersionsKept'), args.noncurrentVersionsKept, 'must be a whole number from 0 to 100');
}

/**
 * The bucket policy that refuses every request not made over TLS 1.2 or later
 * (`aws:SecureTransport` false, or `s3:TlsVersion` below 1.2), from anyone.
 */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  const resources = [bucketArn, `${bucketArn}/*`];
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Sid: 'DenyOutdatedTls', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
    ],
  };
}

/**
 * A private, encrypted, versioned, TLS-only S3 bucket for artifacts, pipeline outputs and datasets
 * (`mlplatform:index:ArtifactBucket`). It replaces the embedded object store on AWS.
 *
 * Creates `<name>-bucket` and its configuration: `-public-access` (all four public access blocks),
 * `-ownership` (BucketOwnerEnforced: ACLs off), `-encryption` (SSE-S3 or SSE-KMS with Bucket Keys),
 * `-versioning` (Enabled), `-lifecycle` (old versions expire after `noncurrentVersionDays` keeping
 * the newest `noncurrentVersionsKept`, incomplete multipart uploads are aborted after 7 days, expired
 * delete markers are removed) and `-policy` ({@link tlsOnlyBucketPolicy}). The bucket and every piece
 * of its configuration are retained when the stack or component is deleted (`retainOnDelete`), so
 * deleting the stack never deletes data nor strips the protections of the bucket left behind.
 */
export class ArtifactBucket extends pulumi.ComponentResource {
  /** The bucket. */
  public readonly bucket: aws.s3.Bucket;
  /** The bucket name. */
  public readonly bucketName: pulumi.Output<string>;
  /** The bucket ARN. */
  public readonly bucketArn: pulumi.Output<string>;
  /** The customer KMS key of the default encryption, if any. */
  public readonly kmsKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: ArtifactBucketArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:ArtifactBucket', name, {}, opts);
    const issues = new Issues(`ArtifactBucket "${name}"`);
    checkArtifactBucketArgs(issues, name, args);
    issues.throwIfAny();
    const days = args.noncurrentVersionDays ?? 30;
    const kept = args.noncurrentVersionsKept ?? 3;

    const child = { parent: this, retainOnDelete: true };
    const tags = args.tags ? { ...args.tags } : undefined;
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: args.bucketName, forceDestroy: false, tags }, child);
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    const bucket = this.bucket.id;

    const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, child);
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);

    const encryption = (args.encryption ?? BucketEncryption.s3Managed()).spec;
    if (encryption.kind === 'kms') this.kmsKeyArn = pulumi.output(encryption.keyArn);
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
      bucket,
      rules: [encryption.kind === 'kms'
        ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: encryption.keyArn }, bucketKeyEnabled: true }
        : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    }, child);
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: 'Enabled' } }, child);
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket,
      rules: [
        {
          id: 'expire-noncurrent-versions',
          status: 'Enabled',
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: days, ...(kept > 0 ? { newerNoncurrentVersions: kept } : {}) },
          expiration: { expiredObjectDeleteMarker: true },
        },
        { id: 'abort-incomplete-uploads', status: 'Enabled', filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
      ],
    }, { ...child, dependsOn: [versioning] });
    new aws.s3.BucketPolicy(`${name}-policy`, {
      bucket,
      policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))),
    }, { ...child, dependsOn: [publicAccess] });
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}

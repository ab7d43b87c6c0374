import { installAwsMocks } from './aws-fixtures';
import { Issues } from '../../src/core';
import { ArtifactBucket, BucketEncryption, checkBucketName, tlsOnlyBucketPolicy } from '../../src/pulumi/artifact-bucket';
import { validationError } from '../support/errors';

const mocks = installAwsMocks();

describe('ArtifactBucket', () => {
  test('private, encrypted, versioned, TLS-only, old versions expire; every child parented and retained', async () => {
    new ArtifactBucket('ml-artifacts', { bucketName: 'acme-ml-artifacts', tags: { team: 'ml' } });
    const root = await mocks.one('mlplatform:index:ArtifactBucket', 'ml-artifacts');
    const bucket = await mocks.one('aws:s3/bucket:Bucket', 'ml-artifacts-bucket');
    expect(bucket.inputs).toEqual({ bucket: 'acme-ml-artifacts', forceDestroy: false, tags: { team: 'ml' } });

    expect((await mocks.one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'ml-artifacts-public-access')).inputs).toEqual({
      bucket: 'ml-artifacts-bucket-id', blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    expect((await mocks.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls', 'ml-artifacts-ownership')).inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    expect((await mocks.one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'ml-artifacts-encryption')).inputs.rules)
      .toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]);
    expect((await mocks.one('aws:s3/bucketVersioning:BucketVersioning', 'ml-artifacts-versioning')).inputs.versioningConfiguration).toEqual({ status: 'Enabled' });
    expect((await mocks.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'ml-artifacts-lifecycle')).inputs.rules).toEqual([
      {
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 3 },
        expiration: { expiredObjectDeleteMarker: true },
      },
      { id: 'abort-incomplete-uploads', status: 'Enabled', filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
    ]);
    const policy = JSON.parse((await mocks.one('aws:s3/bucketPolicy:BucketPolicy', 'ml-artifacts-policy')).inputs.policy);
    expect(policy).toEqual(tlsOnlyBucketPolicy('arn:aws:s3:::acme-ml-artifacts'));
    expect(policy.Statement[0]).toEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::acme-ml-artifacts', 'arn:aws:s3:::acme-ml-artifacts/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });

    const children = await mocks.childrenOf(root.urn);
    expect(children.map((c) => c.name).sort()).toEqual([
      'ml-artifacts-bucket', 'ml-artifacts-encryption', 'ml-artifacts-lifecycle', 'ml-artifacts-ownership',
      'ml-artifacts-policy', 'ml-artifacts-public-access', 'ml-artifacts-versioning',
    ]);
  });

  test('retainOnDelete on the bucket and every piece of its configuration', async () => {
    new ArtifactBucket('retained', { bucketName: 'acme-retained' });
    const root = await mocks.one('mlplatform:index:ArtifactBucket', 'retained');
    const children = await mocks.childrenOf(root.urn);
    expect(children).toHaveLength(7);
    expect(children.filter((c) => !c.options.retainOnDelete).map((c) => c.name)).toEqual([]);
    expect(root.options.retainOnDelete).toBe(false);
  });

  test('SSE-KMS with a customer key uses Bucket Keys', async () => {
    const b = new ArtifactBucket('kms', { bucketName: 'acme-kms-artifacts', encryption: BucketEncryption.kms('arn:aws:kms:us-east-1:123456789012:key/k1'), noncurrentVersionDays: 90, noncurrentVersionsKept: 0 });
    expect((await mocks.one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'kms-encryption')).inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1' }, bucketKeyEnabled: true },
    ]);
    expect((await mocks.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'kms-lifecycle')).inputs.rules[0].noncurrentVersionExpiration).toEqual({ noncurrentDays: 90 });
    expect(b.kmsKeyArn).toBeDefined();
  });

  test('a bucket name S3 would reject is a ValidationError naming each broken rule', () => {
    const e = validationError(() => new ArtifactBucket('bad', { bucketName: 'ML_Artifacts' }));
    expect(e.message).toBe([
      'ArtifactBucket "bad": 2 invalid props',
      '  - `bucketName` ("ML_Artifacts"): may contain only lowercase letters, digits and "-"',
      '  - `bucketName` ("ML_Artifacts"): must start and end with a lowercase letter or digit',
    ].join('\n'));
  });

  test.each([
    ['ab', 'must be 3-63 characters long (it has 2)'],
    ['a'.repeat(64), 'must be 3-63 characters long (it has 64)'],
    ['-artifacts', 'must start and end with a lowercase letter or digit'],
    ['ml.artifacts', 'must not contain "." (virtual-hosted-style HTTPS fails for dotted bucket names); use "-"'],
    ['xn--artifacts', 'must not start with the reserved prefix "xn--"'],
    ['sthree-artifacts', 'must not start with the reserved prefix "sthree-"'],
    ['artifacts-s3alias', 'must not end with the reserved suffix "-s3alias"'],
    ['artifacts--ol-s3', 'must not end with the reserved suffix "--ol-s3"'],
  ])('bucket name %j: %s', (name, message) => {
    const issues = new Issues('t');
    checkBucketName(issues, 'bucketName', name);
    expect(issues.all.map((i) => i.message)).toContain(message);
  });

  test('IP-formatted names are rejected; good names pass', () => {
    const bad = new Issues('t');
    checkBucketName(bad, 'b', '192.168.5.4');
    expect(bad.all.map((i) => i.message)).toContain('must not be formatted as an IP address');
    const ok = new Issues('t');
    for (const n of ['acme-ml-artifacts', 'abc', 'a1-b2-c3']) checkBucketName(ok, 'b', n);
    expect(ok.all).toEqual([]);
  });

  test('auto-naming needs a component name that makes a valid bucket name; bad retention is rejected', () => {
    const e = validationError(() => new ArtifactBucket('ML', { noncurrentVersionDays: 0 }));
    expect(e.issues.map((i) => i.path)).toEqual(['name', 'name', 'noncurrentVersionDays']);
  });
});

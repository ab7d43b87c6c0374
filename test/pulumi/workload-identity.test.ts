import * as pulumi from '@pulumi/pulumi';
import { ACCOUNT, installAwsMocks, irsa, testCluster } from './aws-fixtures';
import { irsaTrustPolicy, podIdentityTrustPolicy, s3AccessPolicy, WorkloadIdentity } from '../../src/pulumi/workload-identity';
import { validationError } from '../support/errors';
import { podIdentityAllowed } from '../support/iam-trust';
import { resolve } from '../support/pulumi-mocks';

const mocks = installAwsMocks();
const BUCKET = 'arn:aws:s3:::acme-ml';

describe('s3AccessPolicy', () => {
  test('an endpoint reads exactly its model prefix: list under it, get objects under it, nothing else', () => {
    expect(s3AccessPolicy(BUCKET, { read: ['models/churn/3/'] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ListPrefixes', Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringLike: { 's3:prefix': ['models/churn/3/*'] } } },
        { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${BUCKET}/models/churn/3/*`] },
      ],
    });
  });

  test('a pipeline writes its own prefix (and reads it back) and reads a dataset prefix', () => {
    const doc = s3AccessPolicy(BUCKET, { read: ['datasets/images'], write: ['/pipelines/vision/train/'] });
    expect(doc.Statement).toEqual([
      {
        Sid: 'ListPrefixes',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: BUCKET,
        Condition: { StringLike: { 's3:prefix': ['datasets/images/*', 'pipelines/vision/train/*'] } },
      },
      { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${BUCKET}/datasets/images/*`, `${BUCKET}/pipelines/vision/train/*`] },
      {
        Sid: 'WriteObjects',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: [`${BUCKET}/pipelines/vision/train/*`],
      },
    ]);
    // Never a bucket-wide object permission, never version deletion.
    expect(JSON.stringify(doc)).not.toContain(`${BUCKET}/*"`);
    expect(JSON.stringify(doc)).not.toContain('DeleteObjectVersion');
  });

  test('the bucket root is the whole bucket: no prefix condition; a KMS key adds use through S3 only', () => {
    expect(s3AccessPolicy(BUCKET, { write: [''] }, { keyArn: 'arn:aws:kms:us-east-1:1:key/k', region: 'eu-west-1' }).Statement).toEqual([
      { Sid: 'ListPrefixes', Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET },
      { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${BUCKET}/*`] },
      { Sid: 'WriteObjects', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: [`${BUCKET}/*`] },
      {
        Sid: 'UseBucketKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:us-east-1:1:key/k',
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
  });

  test('trust policies: Pod Identity pinned by session tags to one cluster, namespace and ServiceAccount; IRSA to one ServiceAccount and the STS audience', () => {
    // The condition AWS documents for Pod Identity roles: aws:RequestTag/<session tag> with
    // StringEquals over sts:AssumeRole and sts:TagSession (EKS User Guide, pod-id-role.html,
    // "Setting Conditions"; tag keys from pod-id-abac.html).
    expect(podIdentityTrustPolicy({ clusterName: 'ml-cluster', namespace: 'vision', serviceAccount: 'train' }).Statement).toEqual([{
      Sid: 'EksPodIdentity',
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/eks-cluster-name': 'ml-cluster',
          'aws:RequestTag/kubernetes-namespace': 'vision',
          'aws:RequestTag/kubernetes-service-account': 'train',
        },
      },
    }]);
    expect(irsaTrustPolicy('arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X', 'https://oidc.eks.us-east-1.amazonaws.com/id/X', 'vision', 'train').Statement).toEqual([{
      Sid: 'IrsaServiceAccount',
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'oidc.eks.us-east-1.amazonaws.com/id/X:sub': 'system:serviceaccount:vision:train',
          'oidc.eks.us-east-1.amazonaws.com/id/X:aud': 'sts.amazonaws.com',
        },
      },
    }]);
  });
});

describe('WorkloadIdentity', () => {
  test('Pod Identity: a role, its S3 policy for the exact prefixes, and the association for the ServiceAccount', async () => {
    const id = new WorkloadIdentity('tracking', {
      cluster: testCluster(),
      serviceAccount: { namespace: 'mlplatform', name: 'ml-tracking' },
      s3: { bucketArn: BUCKET, write: ['mlartifacts'], region: 'us-east-1' },
    });
    const root = await mocks.one('mlplatform:index:WorkloadIdentity', 'tracking');
    const children = await mocks.childrenOf(root.urn);
    expect(children.map((c) => `${c.type} ${c.name}`).sort()).toEqual([
      'aws:eks/podIdentityAssociation:PodIdentityAssociation tracking-association',
      'aws:iam/role:Role tracking-role',
      'aws:iam/rolePolicy:RolePolicy tracking-s3',
    ]);
    const role = children.find((c) => c.name === 'tracking-role')!;
    expect(JSON.parse(role.inputs.assumeRolePolicy)).toEqual(podIdentityTrustPolicy({ clusterName: 'ml-cluster', namespace: 'mlplatform', serviceAccount: 'ml-tracking' }));
    const policy = children.find((c) => c.name === 'tracking-s3')!;
    expect(policy.inputs.role).toBe('tracking-role-0f1e2d3');
    expect(JSON.parse(policy.inputs.policy)).toEqual(s3AccessPolicy(BUCKET, { write: ['mlartifacts'] }));
    expect(children.find((c) => c.name === 'tracking-association')!.inputs).toEqual({
      clusterName: 'ml-cluster', namespace: 'mlplatform', serviceAccount: 'ml-tracking', roleArn: `arn:aws:iam::${ACCOUNT}:role/tracking-role-0f1e2d3`, disableSessionTags: false,
    });
    expect(await resolve(id.serviceAccountAnnotations)).toEqual({});
  });

  test('Pod Identity: the role trusts that ServiceAccount of that cluster only, with the cluster name given as an Output', async () => {
    new WorkloadIdentity('scoped', {
      cluster: testCluster({ name: pulumi.output('prod-eks') }),
      serviceAccount: { namespace: 'vision', name: 'churn-v3' },
    });
    const trust = (await mocks.one('aws:iam/role:Role', 'scoped-role')).inputs.assumeRolePolicy;
    expect(JSON.parse(trust).Statement[0].Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/eks-cluster-name': 'prod-eks',
        'aws:RequestTag/kubernetes-namespace': 'vision',
        'aws:RequestTag/kubernetes-service-account': 'churn-v3',
      },
    });
    // IAM's answer to the requests EKS Pod Identity makes (test/support/iam-trust.ts).
    expect(podIdentityAllowed(trust, { clusterName: 'prod-eks', namespace: 'vision', serviceAccount: 'churn-v3' })).toBe(true);
    expect(podIdentityAllowed(trust, { clusterName: 'prod-eks', namespace: 'vision', serviceAccount: 'default' })).toBe(false);
    expect(podIdentityAllowed(trust, { clusterName: 'prod-eks', namespace: 'nlp', serviceAccount: 'churn-v3' })).toBe(false);
    expect(podIdentityAllowed(trust, { clusterName: 'staging-eks', namespace: 'vision', serviceAccount: 'churn-v3' })).toBe(false);
    expect(podIdentityAllowed(trust, { clusterName: 'prod-eks', namespace: 'vision', serviceAccount: 'churn-v3', sessionTags: false })).toBe(false);
    // The association keeps the session tags the conditions read.
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'scoped-association')).inputs).toMatchObject({
      clusterName: 'prod-eks', namespace: 'vision', serviceAccount: 'churn-v3', disableSessionTags: false,
    });
  });

  test('IRSA: the role trusts the OIDC provider for that ServiceAccount; the annotation carries the role ARN; no association', async () => {
    const id = new WorkloadIdentity('endpoint', {
      cluster: testCluster({ identity: irsa() }),
      serviceAccount: { namespace: 'vision', name: 'churn-v3' },
      s3: { bucketArn: BUCKET, read: ['models/churn/3'], region: 'us-east-1' },
      policies: ['{"Version":"2012-10-17","Statement":[]}'],
    });
    const role = await mocks.one('aws:iam/role:Role', 'endpoint-role');
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals).toEqual({
      'oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub': 'system:serviceaccount:vision:churn-v3',
      'oidc.eks.us-east-1.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com',
    });
    expect((await mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).map((r) => r.name)).not.toContain('endpoint-association');
    expect((await mocks.one('aws:iam/rolePolicy:RolePolicy', 'endpoint-policy-0')).inputs.policy).toBe('{"Version":"2012-10-17","Statement":[]}');
    expect(await resolve(id.serviceAccountAnnotations)).toEqual({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/endpoint-role-0f1e2d3` });
  });

  test('wildcards in prefixes and bad ServiceAccounts are ValidationErrors', () => {
    const e = validationError(() => new WorkloadIdentity('bad', {
      cluster: testCluster(),
      serviceAccount: { namespace: 'Vision', name: 'train' },
      s3: { bucketArn: BUCKET, read: ['models/*'], write: ['../etc'], region: 'us-east-1' },
    }));
    expect(e.message).toBe([
      'WorkloadIdentity "bad": 3 invalid props',
      '  - `serviceAccount.namespace` ("Vision"): must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and "-", starting and ending with a letter or digit (for example "vision-c587c260")',
      "  - `s3.read[0]` (\"models/*\"): must be a literal key prefix: letters, digits and ! _ . ' ( ) = / - (no wildcards, no '..')",
      "  - `s3.write[0]` (\"../etc\"): must be a literal key prefix: letters, digits and ! _ . ' ( ) = / - (no wildcards, no '..')",
    ].join('\n'));
  });
});

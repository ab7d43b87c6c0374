import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { checkDnsLabel, isDnsSubdomain, Issues } from '../core';
import { EksCluster, WorkloadIdentityMode } from './cluster';

/** An IAM policy document (the JSON IAM reads). */
export interface PolicyDocument {
  /** Policy language version. */
  readonly Version: '2012-10-17';
  /** The statements. */
  readonly Statement: readonly PolicyStatement[];
}

/** One statement of a {@link PolicyDocument}. */
export interface PolicyStatement {
  /** Statement id. @default none */
  readonly Sid?: string;
  /** Allow or deny. */
  readonly Effect: 'Allow' | 'Deny';
  /** Who (resource and trust policies only). @default none */
  readonly Principal?: unknown;
  /** Actions. */
  readonly Action: string | readonly string[];
  /** Resources (not in trust policies). @default none */
  readonly Resource?: string | readonly string[];
  /** Conditions, by operator then key. @default none */
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | boolean | readonly string[]>>>>;
}

/** Which key prefixes of a bucket a workload may read and write. */
export interface S3PrefixAccess {
  /** Prefixes it reads (objects under `<prefix>/`); `''` is the whole bucket. @default [] */
  readonly read?: readonly string[];
  /** Prefixes it writes (and reads back); `''` is the whole bucket. @default [] */
  readonly write?: readonly string[];
}

const PREFIX = /^[A-Za-z0-9!_.'()=/-]*$/;

/** A prefix without leading or trailing slashes. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/** Records an issue for each prefix that is not a literal key prefix (no wildcards, no `..`). */
export function checkPrefixes(issues: Issues, path: string, access: S3PrefixAccess): void {
  for (const kind of ['read', 'write'] as const) {
    (access[kind] ?? []).forEach((p, i) => {
      if (typeof p !== 'string' || !PREFIX.test(p) || p.includes('..') || p.includes('//')) {
        issues.add(`${path}.${kind}[${i}]`, p, "must be a literal key prefix: letters, digits and ! _ . ' ( ) = / - (no wildcards, no '..')");
      }
    });
  }
}

/**
 * The least-privilege S3 policy for `access` on bucket `bucketArn`: list only under the prefixes,
 * get objects under read and write prefixes, put/delete objects (and abort multipart uploads) under
 * write prefixes only, and — with a KMS key — decrypt (readers) and generate data keys (writers)
 * through S3 of `region` only. Object versions can be read but never deleted.
 */
export function s3AccessPolicy(bucketArn: string, access: S3PrefixAccess, kms?: { readonly keyArn: string; readonly region: string }): PolicyDocument {
  const read = [...new Set([...(access.read ?? []), ...(access.write ?? [])].map(normalizePrefix))].sort();
  const write = [...new Set((access.write ?? []).map(normalizePrefix))].sort();
  const objects = (prefixes: string[]) => prefixes.map((p) => (p ? `${bucketArn}/${p}/*` : `${bucketArn}/*`));
  const statements: PolicyStatement[] = [];
  if (read.length > 0) {
    statements.push({
      Sid: 'ListPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      ...(read.includes('') ? {} : { Condition: { StringLike: { 's3:prefix': read.map((p) => `${p}/*`) } } }),
    });
    statements.push({ Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects(read) });
  }
  if (write.length > 0) {
    statements.push({
      Sid: 'WriteObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: objects(write),
    });
  }
  if (kms && read.length > 0) {
    statements.push({
      Sid: 'UseBucketKey',
      Effect: 'Allow',
      Action: write.length > 0 ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      Resource: kms.keyArn,
      Condition: { StringEquals: { 'kms:ViaService': `s3.${kms.region}.amazonaws.com` } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** The ServiceAccount (and its cluster) a Pod Identity role is for. */
export interface PodIdentitySubject {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** Name of the ServiceAccount. */
  readonly serviceAccount: string;
}

/**
 * The trust policy of a role assumed through EKS Pod Identity for exactly one ServiceAccount of one
 * cluster.
 *
 * EKS Pod Identity calls `sts:AssumeRole` with session tags (hence `sts:TagSession`), among them
 * `eks-cluster-name`, `kubernetes-namespace` and `kubernetes-service-account` (Amazon EKS User
 * Guide, "Create IAM role with trust policy required by EKS Pod Identity", pod-id-role.html,
 * "Setting Conditions"; the list of tags in "Define permissions for EKS Pod Identities to assume
 * roles based on tags", pod-id-abac.html). `StringEquals` on `aws:RequestTag/<key>` over both
 * actions, as that guide shows, pins the role: an association that names this role for another
 * ServiceAccount, namespace or cluster (whoever may `iam:PassRole` it) gets no credentials, and
 * neither does an association with `disableSessionTags`.
 */
export function podIdentityTrustPolicy(subject: PodIdentitySubject): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'EksPodIdentity',
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/eks-cluster-name': subject.clusterName,
          'aws:RequestTag/kubernetes-namespace': subject.namespace,
          'aws:RequestTag/kubernetes-service-account': subject.serviceAccount,
        },
      },
    }],
  };
}

/** The trust policy of a role assumed through IRSA by exactly one ServiceAccount. */
export function irsaTrustPolicy(oidcProviderArn: string, oidcIssuerUrl: string, namespace: string, serviceAccount: string): PolicyDocument {
  const issuer = oidcIssuerUrl.replace(/^https:\/\//, '').replace(/\/+$/, '');
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'IrsaServiceAccount',
      Effect: 'Allow',
      Principal: { Federated: oidcProviderArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${issuer}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
}

/** Arguments of {@link WorkloadIdentity}. */
export interface WorkloadIdentityArgs {
  /** The cluster (its name, and Pod Identity or IRSA). */
  readonly cluster: Pick<EksCluster, 'name' | 'identity'>;
  /** The ServiceAccount that gets the role. */
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /**
   * S3 access, scoped to exact prefixes.
   * @default no S3 access
   */
  readonly s3?: S3PrefixAccess & {
    /** ARN of the bucket. */
    readonly bucketArn: pulumi.Input<string>;
    /** KMS key of the bucket's default encryption, when it is a customer key. @default none (SSE-S3) */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Region of the bucket (for the KMS `kms:ViaService` condition). */
    readonly region: string;
  };
  /**
   * Further inline policies (JSON documents), e.g. the AWS Load Balancer Controller's.
   * @default none
   */
  readonly policies?: readonly pulumi.Input<string>[];
  /** Tags of the role. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * One IAM role for one Kubernetes ServiceAccount (`mlplatform:index:WorkloadIdentity`).
 *
 * Creates `<name>-role` (trusting EKS Pod Identity for exactly this ServiceAccount of this cluster
 * through the session tags it sets, see {@link podIdentityTrustPolicy}, or the cluster's OIDC
 * provider for exactly this ServiceAccount under IRSA), `<name>-s3` (the {@link s3AccessPolicy} for the given prefixes),
 * `<name>-policy-<i>` for each extra policy, and with Pod Identity `<name>-association` (an
 * `aws.eks.PodIdentityAssociation`). With IRSA, {@link WorkloadIdentity.serviceAccountAnnotations}
 * holds the `eks.amazonaws.com/role-arn` annotation the ServiceAccount needs.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  /** The role. */
  public readonly role: aws.iam.Role;
  /** The role's ARN. */
  public readonly roleArn: pulumi.Output<string>;
  /** Annotations the ServiceAccount needs: the role ARN under IRSA, none under Pod Identity. */
  public readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WorkloadIdentityArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:WorkloadIdentity', name, {}, opts);
    const issues = new Issues(`WorkloadIdentity "${name}"`);
    const sa = args.serviceAccount ?? ({} as WorkloadIdentityArgs['serviceAccount']);
    checkDnsLabel(issues, 'serviceAccount.namespace', sa.namespace);
    if (!isDnsSubdomain(sa.name)) issues.add('serviceAccount.name', sa.name, 'must be a ServiceAccount name (DNS-1123 subdomain)');
    if (args.s3) checkPrefixes(issues, 's3', args.s3);
    issues.throwIfAny();

    const mode = (args.cluster.identity ?? WorkloadIdentityMode.podIdentity()).spec;
    const trust = mode.kind === 'pod-identity'
      ? pulumi.output(args.cluster.name).apply((clusterName) => JSON.stringify(podIdentityTrustPolicy({ clusterName, namespace: sa.namespace, serviceAccount: sa.name })))
      : pulumi.all([mode.oidcProviderArn, mode.oidcIssuerUrl]).apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, sa.namespace, sa.name)));
    this.role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: trust,
      description: `mlplatform: ServiceAccount ${sa.namespace}/${sa.name}`,
      maxSessionDuration: 3600,
      tags: args.tags ? { ...args.tags } : undefined,
    }, { parent: this });
    this.roleArn = this.role.arn;

    const s3 = args.s3;
    if (s3 && ((s3.read?.length ?? 0) + (s3.write?.length ?? 0)) > 0) {
      new aws.iam.RolePolicy(`${name}-s3`, {
        role: this.role.name,
        policy: pulumi.all([s3.bucketArn, s3.kmsKeyArn]).apply(([bucketArn, keyArn]) =>
          JSON.stringify(s3AccessPolicy(bucketArn, s3, keyArn ? { keyArn, region: s3.region } : undefined))),
      }, { parent: this });
    }
    (args.policies ?? []).forEach((policy, i) => {
      new aws.iam.RolePolicy(`${name}-policy-${i}`, { role: this.role.name, policy }, { parent: this });
    });
    if (mode.kind === 'pod-identity') {
      new aws.eks.PodIdentityAssociation(`${name}-association`, {
        clusterName: args.cluster.name,
        namespace: sa.namespace,
        serviceAccount: sa.name,
        roleArn: this.role.arn,
        // The trust policy's conditions read the session tags: without them no pod gets credentials.
        disableSessionTags: false,
        tags: args.tags ? { ...args.tags } : undefined,
      }, { parent: this });
      this.serviceAccountAnnotations = pulumi.output<Record<string, string>>({});
    } else {
      this.serviceAccountAnnotations = this.role.arn.apply((arn): Record<string, string> => ({ 'eks.amazonaws.com/role-arn': arn }));
    }
    this.registerOutputs({ roleArn: this.roleArn, serviceAccountAnnotations: this.serviceAccountAnnotations });
  }
}

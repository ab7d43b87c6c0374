import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { Issues } from '../core';
import { AWS_VERSIONS, checkSubnetCount, EksCluster, validatedSubnets } from './cluster';

/** Arguments of {@link Database}. */
export interface DatabaseArgs {
  /** The cluster: its VPC, private subnets (at least two) and the security group allowed in. */
  readonly cluster: Pick<EksCluster, 'vpcId' | 'privateSubnetIds' | 'securityGroupId'>;
  /**
   * The master password, as a Pulumi secret (e.g. `config.requireSecret('dbPassword')`). Omit it to
   * let RDS generate and rotate it in AWS Secrets Manager (`manageMasterUserPassword`): then nothing
   * here knows it, and something else (External Secrets Operator) must bring it into the cluster.
   * @default RDS-managed, in Secrets Manager
   */
  readonly password?: pulumi.Input<string>;
  /** Master user name. @default 'mlplatform' */
  readonly username?: string;
  /** Name of the database created at launch (the tracking server's). @default 'mlflow' */
  readonly databaseName?: string;
  /** Instance class. @default 'db.t4g.medium' */
  readonly instanceClass?: string;
  /** Storage at launch, GiB. @default 20 */
  readonly allocatedStorageGiB?: number;
  /** Storage autoscaling ceiling, GiB. @default 100 */
  readonly maxAllocatedStorageGiB?: number;
  /** A standby in a second AZ. @default false */
  readonly multiAz?: boolean;
  /** Days of automated backups (point-in-time recovery); at least 7. @default 7 */
  readonly backupRetentionDays?: number;
  /** KMS key for storage encryption. @default the AWS managed `aws/rds` key */
  readonly kmsKeyId?: pulumi.Input<string>;
  /**
   * Further security groups whose members may connect on 5432, beside the cluster security group:
   * nodes that do not carry the cluster security group, such as those of terraform-aws-eks node
   * groups (its `node_security_group_id`) or Karpenter's `EC2NodeClass.securityGroupSelectorTerms`.
   * One ingress rule (`<name>-from-<id>`) per group; ids may be Outputs, the list itself may not
   * (each group is one resource).
   * @default none: the cluster security group only
   */
  readonly allowedSecurityGroupIds?: readonly pulumi.Input<string>[];
  /** Engine version. @default AWS_VERSIONS.postgresEngineVersion ('17': minor upgrades automatic) */
  readonly engineVersion?: string;
  /** Tags. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
/** An EC2 security group id: `sg-` and 8 (older) or 17 hexadecimal digits. */
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const RESERVED_USERS = ['rdsadmin', 'rdsrepladmin', 'postgres', 'admin'];

const SUBNETS_WHY = 'in different availability zones (RDS requires a DB subnet group spanning two AZs)';

/**
 * Records an issue (under `prefix`) for each bad database arg: fewer than two subnets (when known),
 * a user name or database name PostgreSQL or RDS rejects, backup retention outside 7-35 days, storage
 * below 20 GiB or a ceiling below it, a malformed instance class, or a password given as plain text.
 */
export function checkDatabaseArgs(issues: Issues, args: Omit<DatabaseArgs, 'cluster'> & { readonly cluster?: Partial<DatabaseArgs['cluster']> }, prefix = ''): void {
  const at = (p: string) => (prefix ? `${prefix}.${p}` : p);
  if (args.cluster) checkSubnetCount(issues, 'cluster.privateSubnetIds', args.cluster.privateSubnetIds, 2, SUBNETS_WHY);
  const username = args.username ?? 'mlplatform';
  if (!IDENTIFIER.test(username) || RESERVED_USERS.includes(username.toLowerCase())) {
    issues.add(at('username'), username, `must be a PostgreSQL identifier (a letter, then letters, digits or "_") other than ${RESERVED_USERS.join(', ')}`);
  }
  const databaseName = args.databaseName ?? 'mlflow';
  if (!IDENTIFIER.test(databaseName)) issues.add(at('databaseName'), databaseName, 'must be a PostgreSQL identifier (a letter, then letters, digits or "_")');
  const retention = args.backupRetentionDays ?? 7;
  if (!Number.isInteger(retention) || retention < 7 || retention > 35) issues.add(at('backupRetentionDays'), args.backupRetentionDays, 'must be a whole number of days from 7 to 35');
  const storage = args.allocatedStorageGiB ?? 20;
  const maxStorage = args.maxAllocatedStorageGiB ?? 100;
  if (!Number.isInteger(storage) || storage < 20) issues.add(at('allocatedStorageGiB'), args.allocatedStorageGiB, 'must be a whole number of GiB ≥ 20 (the gp3 minimum)');
  if (!Number.isInteger(maxStorage) || maxStorage < storage) issues.add(at('maxAllocatedStorageGiB'), args.maxAllocatedStorageGiB, `must be a whole number of GiB ≥ allocatedStorageGiB (${storage})`);
  const instanceClass = args.instanceClass ?? 'db.t4g.medium';
  if (!/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(instanceClass)) issues.add(at('instanceClass'), instanceClass, 'must be an RDS instance class such as "db.t4g.medium"');
  if (typeof args.password === 'string') issues.add(at('password'), '(hidden)', 'must be a Pulumi secret (`config.requireSecret(...)` or `pulumi.secret(...)`), never a plain string in the program');
  checkAllowedSecurityGroups(issues, at('allowedSecurityGroupIds'), args.allowedSecurityGroupIds, args.cluster?.securityGroupId);
}

/**
 * Records an issue for `allowedSecurityGroupIds` that is not a list, and for each id known at
 * construction that is not a security group id, repeats another, or is the cluster security group
 * (admitted already).
 */
function checkAllowedSecurityGroups(issues: Issues, path: string, ids: unknown, clusterGroup: unknown): void {
  if (ids === undefined) return;
  if (!Array.isArray(ids)) {
    issues.add(path, pulumi.Output.isInstance(ids) ? '(Output)' : ids, 'must be a list of security group ids (each id may be an Output, the list may not: each group gets its own ingress rule)');
    return;
  }
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (id === undefined || id === null || (typeof id !== 'string' && !pulumi.Output.isInstance(id) && !(id instanceof Promise))) {
      issues.add(`${path}[${i}]`, id, 'must be a security group id such as "sg-0123456789abcdef0" (or an Output of one)');
    } else if (typeof id === 'string') {
      if (!SECURITY_GROUP_ID.test(id)) issues.add(`${path}[${i}]`, id, 'must be a security group id such as "sg-0123456789abcdef0"');
      else if (seen.has(id)) issues.add(`${path}[${i}]`, id, 'is listed twice; list each security group once');
      else if (id === clusterGroup) issues.add(`${path}[${i}]`, id, 'is the cluster security group (`cluster.securityGroupId`), admitted already; remove it');
      seen.add(id);
    }
  });
}

/**
 * RDS PostgreSQL for the tracking server and sweeps (`mlplatform:index:Database`). It replaces the
 * embedded database on AWS.
 *
 * Creates `<name>-subnets` (a DB subnet group over the cluster's private subnets — at least two,
 * else a `ValidationError`, or a `pulumi.InputPropertyError` when the list arrives as an Output),
 * `<name>-sg` (a security group with no egress), `<name>-from-cluster` (TCP 5432 from the cluster
 * security group), one `<name>-from-<sg id>` (TCP 5432) per `allowedSecurityGroupIds` entry
 * (`<name>-from-group-<i>` for an id given as an Output) and `<name>-instance`: storage encrypted, not publicly
 * accessible, deletion protection on, automated backups for `backupRetentionDays` (≥ 7), a final
 * snapshot on deletion, tags copied to snapshots, minor upgrades in the maintenance window, and the
 * master password either from a Pulumi secret or generated and kept by RDS in Secrets Manager. All
 * are retained when the stack or component is deleted (`retainOnDelete`).
 */
export class Database extends pulumi.ComponentResource {
  /** The instance. */
  public readonly instance: aws.rds.Instance;
  /** Host name of the instance (no port). */
  public readonly address: pulumi.Output<string>;
  /** Port (5432). */
  public readonly port: pulumi.Output<number>;
  /** Master user name. */
  public readonly username: string;
  /** Name of the database created at launch. */
  public readonly databaseName: string;
  /** The security group in front of the instance. */
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** ARN of the RDS-managed master secret in Secrets Manager (when no password was given). */
  public readonly masterUserSecretArn?: pulumi.Output<string>;
  /** The private subnets the instance may use, validated (at least two). */
  public readonly subnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: DatabaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:Database', name, {}, opts);
    const issues = new Issues(`Database "${name}"`);
    checkDatabaseArgs(issues, args);
    issues.throwIfAny();
    this.subnetIds = validatedSubnets('cluster.privateSubnetIds', args.cluster.privateSubnetIds, 2, SUBNETS_WHY);
    const username = args.username ?? 'mlplatform';
    const databaseName = args.databaseName ?? 'mlflow';
    const retention = args.backupRetentionDays ?? 7;
    const storage = args.allocatedStorageGiB ?? 20;
    const maxStorage = args.maxAllocatedStorageGiB ?? 100;
    const instanceClass = args.instanceClass ?? 'db.t4g.medium';

    this.username = username;
    this.databaseName = databaseName;
    const tags = args.tags ? { ...args.tags } : undefined;
    const child = { parent: this, retainOnDelete: true };
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
      subnetIds: this.subnetIds,
      description: 'mlplatform database: private subnets of the cluster',
      tags,
    }, child);
    this.securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.cluster.vpcId,
      // EC2 cannot change a group's description: a new one would replace the group (and the instance's).
      description: 'mlplatform database: PostgreSQL from the cluster security group only',
      revokeRulesOnDelete: true,
      tags,
    }, child);
    new aws.vpc.SecurityGroupIngressRule(`${name}-from-cluster`, {
      securityGroupId: this.securityGroup.id,
      referencedSecurityGroupId: args.cluster.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description: 'PostgreSQL from the EKS cluster security group',
      tags,
    }, child);
    // Named after the group when its id is known, so reordering the list replaces no rule (a
    // replacement rule would be created before the old one is gone: a duplicate EC2 rejects).
    (args.allowedSecurityGroupIds ?? []).forEach((id, i) => {
      new aws.vpc.SecurityGroupIngressRule(typeof id === 'string' ? `${name}-from-${id}` : `${name}-from-group-${i}`, {
        securityGroupId: this.securityGroup.id,
        referencedSecurityGroupId: id,
        ipProtocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        description: pulumi.interpolate`PostgreSQL from ${id} (allowedSecurityGroupIds)`,
        tags,
      }, child);
    });

    const managed = args.password === undefined;
    this.instance = new aws.rds.Instance(`${name}-instance`, {
      engine: 'postgres',
      engineVersion: args.engineVersion ?? AWS_VERSIONS.postgresEngineVersion,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass,
      allocatedStorage: storage,
      maxAllocatedStorage: maxStorage,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: args.kmsKeyId,
      dbName: databaseName,
      username,
      ...(managed ? { manageMasterUserPassword: true } : { password: pulumi.secret(args.password!) }),
      port: 5432,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      publiclyAccessible: false,
      multiAz: args.multiAz ?? false,
      deletionProtection: true,
      backupRetentionPeriod: retention,
      deleteAutomatedBackups: false,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${name}-final`.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-'),
      copyTagsToSnapshot: true,
      iamDatabaseAuthenticationEnabled: false,
      applyImmediately: false,
      tags,
    }, { ...child, additionalSecretOutputs: ['password'] });
    this.address = this.instance.address;
    this.port = this.instance.port;
    if (managed) this.masterUserSecretArn = this.instance.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? '');
    this.registerOutputs({ address: this.address, port: this.port });
  }
}

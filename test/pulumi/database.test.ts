import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { installAwsMocks, secret, testCluster } from './aws-fixtures';
import { Database } from '../../src/pulumi/database';
import { validationError } from '../support/errors';
import { resolve } from '../support/pulumi-mocks';

const mocks = installAwsMocks();
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);

/** How a secret input reaches the mock monitor: wrapped with Pulumi's secret signature. */
const SECRET = (value: unknown) => ({ '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', value });

describe('Database', () => {
  test('RDS PostgreSQL: encrypted, private, deletion-protected, backed up, final snapshot, Pulumi-secret password', async () => {
    const db = new Database('ml-db', { cluster: testCluster(), password: secret('s3cret-pass'), tags: { team: 'ml' } });
    const instance = await mocks.one('aws:rds/instance:Instance', 'ml-db-instance');
    expect(instance.inputs).toEqual({
      engine: 'postgres',
      engineVersion: '17',
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass: 'db.t4g.medium',
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      storageType: 'gp3',
      storageEncrypted: true,
      dbName: 'mlflow',
      username: 'mlplatform',
      password: SECRET('s3cret-pass'),
      port: 5432,
      dbSubnetGroupName: 'ml-db-subnets-5e6f7a8',
      vpcSecurityGroupIds: ['ml-db-sg-id'],
      publiclyAccessible: false,
      multiAz: false,
      deletionProtection: true,
      backupRetentionPeriod: 7,
      deleteAutomatedBackups: false,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: 'ml-db-final',
      copyTagsToSnapshot: true,
      iamDatabaseAuthenticationEnabled: false,
      applyImmediately: false,
      tags: { team: 'ml' },
    });
    expect(instance.inputs.backupRetentionPeriod).toBeGreaterThanOrEqual(7);
    expect(instance.options.additionalSecretOutputs).toContain('password');
    expect(await resolve(db.address)).toBe('ml-db-instance.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com');
    expect(db.masterUserSecretArn).toBeUndefined();
  });

  test('subnet group over the private subnets; security group admits 5432 from the cluster security group only', async () => {
    expect((await mocks.one('aws:rds/subnetGroup:SubnetGroup', 'ml-db-subnets')).inputs.subnetIds).toEqual(['subnet-0a', 'subnet-0b', 'subnet-0c']);
    const sg = await mocks.one('aws:ec2/securityGroup:SecurityGroup', 'ml-db-sg');
    expect(sg.inputs.vpcId).toBe('vpc-0abc');
    expect(sg.inputs.ingress).toBeUndefined();
    expect(sg.inputs.egress).toBeUndefined();
    const rule = await mocks.one('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'ml-db-from-cluster');
    expect(rule.inputs).toEqual({
      securityGroupId: 'ml-db-sg-id',
      referencedSecurityGroupId: 'sg-0cluster',
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description: 'PostgreSQL from the EKS cluster security group',
      tags: { team: 'ml' },
    });
    expect(JSON.stringify(rule.inputs)).not.toContain('0.0.0.0/0');
  });

  test('every child is parented to the component and retained on delete', async () => {
    const root = await mocks.one('mlplatform:index:Database', 'ml-db');
    const children = await mocks.childrenOf(root.urn);
    expect(children.map((c) => `${c.type} ${c.name}`).sort()).toEqual([
      'aws:ec2/securityGroup:SecurityGroup ml-db-sg',
      'aws:rds/instance:Instance ml-db-instance',
      'aws:rds/subnetGroup:SubnetGroup ml-db-subnets',
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule ml-db-from-cluster',
    ]);
    expect(children.every((c) => c.options.retainOnDelete)).toBe(true);
  });

  test('without a password, RDS manages it in Secrets Manager', async () => {
    const db = new Database('managed', { cluster: testCluster(), backupRetentionDays: 14, multiAz: true });
    const instance = await mocks.one('aws:rds/instance:Instance', 'managed-instance');
    expect(instance.inputs.manageMasterUserPassword).toBe(true);
    expect(instance.inputs.password).toBeUndefined();
    expect(instance.inputs.backupRetentionPeriod).toBe(14);
    expect(instance.inputs.multiAz).toBe(true);
    expect(await resolve(db.masterUserSecretArn!)).toBe('arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234');
  });

  test('fewer than two subnets is a ValidationError naming the arg path', () => {
    const e = validationError(() => new Database('one-subnet', { cluster: testCluster({ privateSubnetIds: ['subnet-0a'] }), password: secret('x') }));
    expect(e.message).toBe([
      'Database "one-subnet": 1 invalid prop',
      '  - `cluster.privateSubnetIds` (["subnet-0a"]): needs at least 2 subnets in different availability zones (RDS requires a DB subnet group spanning two AZs)',
    ].join('\n'));
  });

  test('fewer than two subnets arriving as an Output fail the deployment with pulumi.InputPropertyError naming the arg path', () => {
    // A failed registration is reported by the engine; under mocks it is an unhandled rejection, which
    // jest would pin on whatever test runs. So the program runs in its own process, as `pulumi up` would.
    const program = `
      const { PulumiMocks } = require('./test/support/pulumi-mocks');
      PulumiMocks.install();
      const pulumi = require('@pulumi/pulumi');
      const { Database } = require('./src/pulumi/database');
      process.on('unhandledRejection', (e) => {
        console.log(JSON.stringify({ inputPropertyError: pulumi.InputPropertyError.isInstance(e), propertyPath: e.propertyPath, reason: e.reason }));
        process.exit(3);
      });
      new Database('late', {
        cluster: { vpcId: 'vpc-1', securityGroupId: 'sg-1', privateSubnetIds: pulumi.output(['subnet-0a']) },
        password: pulumi.secret('x'),
      });`;
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', program], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, TS_NODE_PROJECT: 'test/tsconfig.json' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(3);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({
      inputPropertyError: true,
      propertyPath: 'cluster.privateSubnetIds',
      reason: 'needs at least 2 subnets in different availability zones (RDS requires a DB subnet group spanning two AZs); got ["subnet-0a"]',
    });
  });

  test('two subnets arriving as an Output pass and reach the subnet group as they are', async () => {
    const ok = new Database('late-ok', { cluster: testCluster({ privateSubnetIds: pulumi.output(['subnet-0a', 'subnet-0b']) }), password: secret('x') });
    expect(await resolve(ok.subnetIds)).toEqual(['subnet-0a', 'subnet-0b']);
    expect((await mocks.one('aws:rds/subnetGroup:SubnetGroup', 'late-ok-subnets')).inputs.subnetIds).toEqual(['subnet-0a', 'subnet-0b']);
  });

  test('bad settings: short retention, plain-text password, reserved user, too little storage', () => {
    const e = validationError(() => new Database('bad', {
      cluster: testCluster(),
      password: 'plain' as any,
      backupRetentionDays: 1,
      username: 'postgres',
      allocatedStorageGiB: 10,
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['username', 'backupRetentionDays', 'allocatedStorageGiB', 'password']);
    expect(e.issues.find((i) => i.path === 'password')!.value).toBe('(hidden)');
  });
});

describe('Database.allowedSecurityGroupIds', () => {
  const RULE = 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule';
  const NODES = 'sg-0123456789abcdef0';
  const KARPENTER = 'sg-0fedcba9876543210';

  test('one ingress rule on 5432 from each further group (nodes without the cluster security group), beside the cluster one', async () => {
    new Database('nodes-db', {
      cluster: testCluster(),
      password: secret('x'),
      allowedSecurityGroupIds: [NODES, KARPENTER, pulumi.output('sg-0aaaabbbbccccdddd')],
      tags: { team: 'ml' },
    });
    const root = await mocks.one('mlplatform:index:Database', 'nodes-db');
    const rules = (await mocks.childrenOf(root.urn)).filter((c) => c.type === RULE);
    expect(rules.map((r) => r.name).sort()).toEqual([
      'nodes-db-from-cluster', 'nodes-db-from-group-2', `nodes-db-from-${NODES}`, `nodes-db-from-${KARPENTER}`,
    ]);
    const rule = (n: string) => rules.find((r) => r.name === n)!;
    expect(rule(`nodes-db-from-${NODES}`).inputs).toEqual({
      securityGroupId: 'nodes-db-sg-id',
      referencedSecurityGroupId: NODES,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description: `PostgreSQL from ${NODES} (allowedSecurityGroupIds)`,
      tags: { team: 'ml' },
    });
    expect(rule(`nodes-db-from-${KARPENTER}`).inputs).toMatchObject({ securityGroupId: 'nodes-db-sg-id', referencedSecurityGroupId: KARPENTER, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 });
    expect(rule('nodes-db-from-group-2').inputs).toMatchObject({ securityGroupId: 'nodes-db-sg-id', referencedSecurityGroupId: 'sg-0aaaabbbbccccdddd', fromPort: 5432, toPort: 5432 });
    expect(rule('nodes-db-from-cluster').inputs.referencedSecurityGroupId).toBe('sg-0cluster');
    // Still no CIDR anywhere, and every rule retained with the group.
    expect(JSON.stringify(rules.map((r) => r.inputs))).not.toMatch(/cidr/i);
    expect(rules.every((r) => r.options.retainOnDelete)).toBe(true);
    // The instance stays behind its one group.
    expect((await mocks.one('aws:rds/instance:Instance', 'nodes-db-instance')).inputs.vpcSecurityGroupIds).toEqual(['nodes-db-sg-id']);
  });

  test('malformed, repeated or already-admitted groups, and a list given as an Output, are ValidationErrors', () => {
    const e = validationError(() => new Database('bad-sg', {
      cluster: testCluster({ securityGroupId: NODES }),
      password: secret('x'),
      allowedSecurityGroupIds: ['sg-12', KARPENTER, KARPENTER, NODES, '' as string],
    }));
    expect(e.message).toBe([
      'Database "bad-sg": 4 invalid props',
      '  - `allowedSecurityGroupIds[0]` ("sg-12"): must be a security group id such as "sg-0123456789abcdef0"',
      `  - \`allowedSecurityGroupIds[2]\` ("${KARPENTER}"): is listed twice; list each security group once`,
      `  - \`allowedSecurityGroupIds[3]\` ("${NODES}"): is the cluster security group (\`cluster.securityGroupId\`), admitted already; remove it`,
      '  - `allowedSecurityGroupIds[4]` (""): must be a security group id such as "sg-0123456789abcdef0"',
    ].join('\n'));
    const late = validationError(() => new Database('late-sg', {
      cluster: testCluster(),
      password: secret('x'),
      allowedSecurityGroupIds: pulumi.output([NODES]) as any,
    }));
    expect(late.message).toBe([
      'Database "late-sg": 1 invalid prop',
      '  - `allowedSecurityGroupIds` ("(Output)"): must be a list of security group ids (each id may be an Output, the list may not: each group gets its own ingress rule)',
    ].join('\n'));
  });
});

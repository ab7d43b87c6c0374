import { ApiObject, App, Chart } from 'cdk8s';
import { installAwsMocks, irsa, NODE_ROLE_ARN, readmeDeclarations, secret, testCluster } from './aws-fixtures';
import { Exposure } from '../../src/core';
import { MlPlatform } from '../../src/pulumi/ml-platform';
import { NodeProvisioning } from '../../src/pulumi/node-provisioning';
import { s3AccessPolicy } from '../../src/pulumi/workload-identity';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { RecordedResource } from '../support/pulumi-mocks';

const mocks = installAwsMocks();
// Loading @pulumi/aws's modules and cdk8s on first use takes seconds: more than jest's 5 s default.
jest.setTimeout(60_000);
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const BUCKET = 'ml-artifacts-bucket-1a2b3c4';
const RDS = 'ml-database-instance.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com';
const nodes = NodeProvisioning.managedNodeGroup({ nodeRoleArn: NODE_ROLE_ARN });

/** The Kubernetes objects a platform's KubernetesObjects created, as Pulumi was asked to create them. */
async function objectsOf(platform: string): Promise<RecordedResource[]> {
  return mocks.childrenOf((await mocks.one('mlplatform:index:KubernetesObjects', `${platform}-objects`)).urn);
}
const find = (objs: RecordedResource[], kind: string, name: string) => objs.find((o) => o.inputs.kind === kind && o.inputs.metadata.name === name)!;

/** Every resource under `urn`, depth first. */
async function tree(urn: string): Promise<RecordedResource[]> {
  const children = await mocks.childrenOf(urn);
  return [...children, ...(await Promise.all(children.map((c) => tree(c.urn)))).flat()];
}

describe('MlPlatform (Pulumi): the README example on EKS with Pod Identity', () => {
  beforeAll(() => {
    new MlPlatform('ml', { cluster: testCluster(), ...readmeDeclarations(), nodes, database: { password: secret('db-pass') } });
  });

  test('children: bucket, database, tracking identity, node pool, add-ons, objects; every resource under the component', async () => {
    const root = await mocks.one('mlplatform:index:MlPlatform', 'ml');
    expect((await mocks.childrenOf(root.urn)).map((c) => `${c.type} ${c.name}`).sort()).toEqual([
      'mlplatform:index:ArtifactBucket ml-artifacts',
      'mlplatform:index:ClusterAddons ml-addons',
      'mlplatform:index:Database ml-database',
      'mlplatform:index:GpuNodePool ml-pool-a10g',
      'mlplatform:index:KubernetesObjects ml-objects',
      'mlplatform:index:WorkloadIdentity ml-tracking-identity',
    ]);
    const all = await tree(root.urn);
    expect(all.length).toBeGreaterThan(60);
    // Components carry mlplatform:index:<Type> tokens; everything else is an AWS or Kubernetes resource.
    expect(all.filter((r) => !r.custom).every((r) => /^mlplatform:index:[A-Z][A-Za-z]+$/.test(r.type))).toBe(true);
    expect(all.filter((r) => r.custom).every((r) => /^(aws|kubernetes):/.test(r.type))).toBe(true);
    // Nothing was created outside the tree but the user's own provider.
    const outside = (await mocks.resources()).filter((r) => r.urn !== root.urn && !all.some((a) => a.urn === r.urn));
    expect(outside.map((r) => r.type)).toEqual(['pulumi:providers:kubernetes']);
  });

  test('the tracking server reads and writes exactly <prefix>/mlartifacts', async () => {
    const policy = await mocks.one('aws:iam/rolePolicy:RolePolicy', 'ml-tracking-identity-s3');
    expect(JSON.parse(policy.inputs.policy)).toEqual(s3AccessPolicy(`arn:aws:s3:::${BUCKET}`, { write: ['mlartifacts'] }));
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'ml-tracking-identity-association')).inputs).toMatchObject({
      namespace: 'mlplatform', serviceAccount: 'ml-tracking',
    });
  });

  test('the node group is the declared pool', async () => {
    const ng = await mocks.one('aws:eks/nodeGroup:NodeGroup', 'ml-pool-a10g-node-group');
    expect(ng.inputs).toMatchObject({ instanceTypes: ['g5.xlarge'], capacityType: 'SPOT', scalingConfig: { minSize: 0, maxSize: 8, desiredSize: 0 } });
  });

  test('the objects carry the cloud values and validate strictly (schemas, CRDs, Pod Security restricted)', async () => {
    const objs = await objectsOf('ml');
    expectValidManifests(objs.map((o) => stripSecret(o.inputs)));
    const deployment = find(objs, 'Deployment', 'ml-tracking');
    const mlflow = deployment.inputs.spec.template.spec.containers.find((c: any) => c.name === 'mlflow');
    expect(mlflow.args).toContain(`s3://${BUCKET}/mlartifacts`);
    expect(find(objs, 'ServiceAccount', 'ml-tracking').inputs.metadata.annotations).toEqual({ 'mlplatform.io/aws-identity': 'eks-pod-identity' });
    expect(find(objs, 'Service', 'ml-rds').inputs.spec).toEqual({ type: 'ExternalName', externalName: RDS, ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] });
    const plan = JSON.parse(find(objs, 'ConfigMap', 'ml-bootstrap').inputs.data['plan.json']);
    expect(JSON.stringify(plan)).toContain('@ml-rds.mlplatform.svc.cluster.local:5432/mlflow?sslmode=require');
    // No placeholder survives, and the password is a secret, only in its Secret.
    expect(JSON.stringify(objs.map((o) => o.inputs))).not.toContain('mlplatform-cloud-value-');
    const secretObj = find(objs, 'Secret', 'ml-rds-credentials');
    expect(secretObj.inputs.stringData).toEqual({ [SECRET_SIG]: expect.any(String), value: { username: 'mlplatform', password: 'db-pass' } });
    expect(objs.filter((o) => JSON.stringify(o.inputs).includes('db-pass')).map((o) => o.inputs.metadata.name)).toEqual(['ml-rds-credentials']);
  });

  test('Pod Identity egress for the tracking pods and every tenant pod', async () => {
    const objs = await objectsOf('ml');
    const egress = [{ to: [{ ipBlock: { cidr: '169.254.170.23/32' } }, { ipBlock: { cidr: 'fd00:ec2::23/128' } }], ports: [{ protocol: 'TCP', port: 80 }] }];
    expect(find(objs, 'NetworkPolicy', 'ml-allow-eks-pod-identity').inputs.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ml-tracking', 'app.kubernetes.io/part-of': 'ml' } }, policyTypes: ['Egress'], egress,
    });
    expect(find(objs, 'NetworkPolicy', 'vision-allow-eks-pod-identity').inputs).toMatchObject({ metadata: { namespace: 'vision' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress } });
  });

  test('add-ons the platform needs, as Helm releases; the objects wait for them and for the tracking identity', async () => {
    const addons = await mocks.childrenOf((await mocks.one('mlplatform:index:ClusterAddons', 'ml-addons')).urn);
    expect(addons.map((r) => r.inputs.name).sort()).toEqual(['argo-workflows', 'cert-manager', 'gateway-helm', 'kueue', 'nvidia-device-plugin']);
    expect(addons.find((r) => r.inputs.name === 'argo-workflows')!.inputs.values.artifactRepository.s3.bucket).toBe(BUCKET);
    const gateway = find(await objectsOf('ml'), 'Gateway', 'mlplatform');
    const deps = gateway.options.dependencies.map((u) => u.split('::').pop());
    expect(deps).toEqual(expect.arrayContaining(['ml-addons-gateway-helm', 'ml-addons-kueue', 'ml-tracking-identity-association', 'ml-objects-namespace-mlplatform']));
  });

  test('workloadIdentity() and deploy(): what the future workload wrappers use', async () => {
    const platform = new MlPlatform('wi', { cluster: testCluster(), database: { password: secret('x') }, addons: { argoWorkflows: false } });
    platform.workloadIdentity('wi-churn-endpoint', { namespace: 'vision', name: 'churn-v3' }, { read: ['models/churn/3'] });
    const policy = await mocks.one('aws:iam/rolePolicy:RolePolicy', 'wi-churn-endpoint-s3');
    expect(JSON.parse(policy.inputs.policy)).toEqual(s3AccessPolicy('arn:aws:s3:::wi-artifacts-bucket-1a2b3c4', { read: ['models/churn/3'] }));
    expect((await mocks.one('mlplatform:index:WorkloadIdentity', 'wi-churn-endpoint')).parent).toBe((await mocks.one('mlplatform:index:MlPlatform', 'wi')).urn);
    expect((await mocks.childrenOf((await mocks.one('mlplatform:index:ClusterAddons', 'wi-addons')).urn))).toEqual([]);
    // deploy(): a workload chart built against the in-memory platform gets the real values and waits for the platform.
    const chart = new Chart(new App(), 'wi-workload');
    new ApiObject(chart, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'train-config', namespace: 'mlplatform' }, data: { root: platform.context.store.root } });
    platform.deploy('wi-train-objects', chart);
    const cm = await mocks.one('kubernetes:core/v1:ConfigMap', 'wi-train-objects-configmap-mlplatform-train-config');
    expect(cm.inputs.data).toEqual({ root: 's3://wi-artifacts-bucket-1a2b3c4' });
    expect(cm.options.dependencies.map((u) => u.split('::').pop())).toContain('wi-objects-deployment-mlplatform-wi-tracking');
  });
});

describe('MlPlatform (Pulumi): variants', () => {
  test('IRSA: the tracking ServiceAccount carries its role ARN; no Pod Identity association or egress policy', async () => {
    new MlPlatform('irsa', { cluster: testCluster({ identity: irsa() }), database: { password: secret('x') }, artifacts: { prefix: 'team-a/' } });
    const objs = await objectsOf('irsa');
    expect(find(objs, 'ServiceAccount', 'irsa-tracking').inputs.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/irsa-tracking-identity-role-0f1e2d3' });
    expect(objs.filter((o) => o.inputs.metadata.name.endsWith('allow-eks-pod-identity'))).toEqual([]);
    expect((await mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).map((r) => r.name)).not.toContain('irsa-tracking-identity-association');
    const policy = JSON.parse((await mocks.one('aws:iam/rolePolicy:RolePolicy', 'irsa-tracking-identity-s3')).inputs.policy);
    expect(policy.Statement[1].Resource).toEqual(['arn:aws:s3:::irsa-artifacts-bucket-1a2b3c4/team-a/mlartifacts/*']);
  });

  test('RDS-managed password: the platform reads the Secret External Secrets keeps; it creates none', async () => {
    new MlPlatform('managed', { cluster: testCluster(), database: { credentialsSecret: { name: 'rds-master', passwordKey: 'pw' } } });
    expect((await mocks.one('aws:rds/instance:Instance', 'managed-database-instance')).inputs.manageMasterUserPassword).toBe(true);
    const objs = await objectsOf('managed');
    // Only the empty Secrets the bootstrap fills; none holds data, none is the master's.
    expect(objs.filter((o) => o.inputs.kind === 'Secret' && (o.inputs.data !== undefined || o.inputs.stringData !== undefined || o.inputs.metadata.name === 'rds-master'))).toEqual([]);
    const plan = JSON.parse(find(objs, 'ConfigMap', 'managed-bootstrap').inputs.data['plan.json']);
    // The master login is the bootstrap's alone (it creates the tracking server's role); no template composes it.
    expect(plan.database.admin).toEqual({ namespace: 'mlplatform', name: 'rds-master', usernameKey: 'username', passwordKey: 'pw' });
    expect(JSON.stringify(plan.compose)).not.toContain('rds-master');
    expect(JSON.stringify(plan)).toContain('{{secret:mlplatform/managed-tracking-database:username|url}}:{{secret:mlplatform/managed-tracking-database:password|url}}@managed-rds.mlplatform.svc.cluster.local');
  });

  test('an ALB in front of the tracking UI: ACM certificate, controller with the certificate, NetworkPolicy from the VPC', async () => {
    new MlPlatform('alb', {
      cluster: testCluster(),
      database: { password: secret('x') },
      exposure: Exposure.ingress({ host: 'mlflow.example.com', className: 'alb' }),
      ingress: {
        certificate: { zoneId: 'Z123' },
        loadBalancerController: { policyDocument: '{"Version":"2012-10-17","Statement":[]}', scheme: 'internet-facing', inboundCidrs: ['203.0.113.0/24'] },
      },
    });
    expect((await mocks.one('aws:acm/certificate:Certificate', 'alb-certificate-certificate')).inputs.domainName).toBe('mlflow.example.com');
    const release = await mocks.one('kubernetes:helm.sh/v3:Release', 'alb-load-balancer-controller-release');
    expect(release.inputs.values.ingressClassParams.spec.certificateArn).toEqual(['arn:aws:acm:us-east-1:123456789012:certificate/alb-certificate-certificate']);
    const objs = await objectsOf('alb');
    expect(find(objs, 'Ingress', 'alb-tracking').inputs.spec.ingressClassName).toBe('alb');
    expect(find(objs, 'NetworkPolicy', 'alb-tracking-from-load-balancer').inputs.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 5000 }] }]);
    expectValidManifests(objs.map((o) => stripSecret(o.inputs)));
  });

  test('database.allowedSecurityGroupIds: 5432 from the node security groups too (nodes without the cluster security group)', async () => {
    new MlPlatform('karp', { cluster: testCluster(), nodes, database: { password: secret('x'), allowedSecurityGroupIds: ['sg-0123456789abcdef0'] } });
    const database = await mocks.one('mlplatform:index:Database', 'karp-database');
    const rules = (await mocks.childrenOf(database.urn)).filter((c) => c.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    expect(rules.map((r) => [r.name, r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]).sort()).toEqual([
      ['karp-database-from-cluster', 'sg-0cluster', 5432, 5432],
      ['karp-database-from-sg-0123456789abcdef0', 'sg-0123456789abcdef0', 5432, 5432],
    ]);
    const e = validationError(() => new MlPlatform('karp-bad', { cluster: testCluster(), nodes, database: { password: secret('x'), allowedSecurityGroupIds: ['sg-x'] } }));
    expect(e.issues.map((i) => [i.path, i.value])).toEqual([['database.allowedSecurityGroupIds[0]', 'sg-x']]);
  });

  test('reserved namespaces and system groups are rejected with the Pulumi arg paths', () => {
    const e = validationError(() => new MlPlatform('reserved', {
      cluster: testCluster(),
      nodes,
      database: { password: secret('x') },
      namespace: 'kube-system',
    }));
    expect(e.issues.map((i) => [i.path, i.value])).toEqual([['namespace', 'kube-system']]);
    const t = validationError(() => new MlPlatform('reserved-t', {
      cluster: testCluster(),
      nodes,
      database: { password: secret('x') },
      tenants: { 'envoy-gateway-system': {}, 'vision': { access: { editors: ['system:authenticated'] } } },
    }));
    expect(t.issues.map((i) => [i.path, i.value])).toEqual([
      ['tenants.envoy-gateway-system.name', 'envoy-gateway-system'],
      ['tenants.vision.access.editors[0]', 'system:authenticated'],
    ]);
  });

  test('bad input: every problem in one ValidationError with the Pulumi arg paths, before any resource is declared', async () => {
    const e = validationError(() => new MlPlatform('bad', {
      cluster: testCluster({ region: 'mars-1' }),
      gpuPools: { a10g: { accelerator: 'nvidia-a10g', maxNodes: 2 } },
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['cluster.region', 'database.password', 'gpuPools.a10g.nodes']);
    const pools = validationError(() => new MlPlatform('bad2', {
      cluster: testCluster(),
      nodes,
      database: { password: secret('x') },
      gpuPools: { a10g: { accelerator: 'nvidia-a10g', instanceType: 'm5.xlarge', maxNodes: 2 } },
      tenants: { vision: { quota: { gpus: { h100: 1 } } } },
    }));
    expect(pools.issues.map((i) => i.path)).toEqual(['gpuPools.a10g.instanceType', 'tenants.vision.quota.gpus.h100']);
    const ingress = validationError(() => new MlPlatform('bad3', {
      cluster: testCluster({ vpcCidr: undefined }),
      database: { password: secret('x') },
      exposure: Exposure.gateway({ host: 'mlflow.example.com' }),
      ingress: { certificate: {} },
    }));
    expect(ingress.issues.map((i) => i.path)).toEqual(['ingress.certificate']);
    const aws = validationError(() => new MlPlatform('bad4', {
      cluster: testCluster({ privateSubnetIds: ['subnet-0a'] }),
      artifacts: { bucketName: 'Bad.Bucket' },
      database: { password: secret('x'), backupRetentionDays: 3 },
    }));
    expect(aws.issues.map((i) => i.path)).toEqual(['artifacts.bucketName', 'artifacts.bucketName', 'cluster.privateSubnetIds', 'database.backupRetentionDays']);
    // Nothing was declared for any of them but the component itself.
    const declared = (await mocks.resources()).filter((r) => /^bad\d?(-|$)/.test(r.name));
    expect(declared.map((r) => `${r.type} ${r.name}`).sort()).toEqual(['bad', 'bad2', 'bad3', 'bad4'].map((n) => `mlplatform:index:MlPlatform ${n}`));
  });
});

/** Secret inputs reach the mocks wrapped; the validator wants the plain object. */
function stripSecret(obj: any): any {
  if (Array.isArray(obj)) return obj.map(stripSecret);
  if (obj && typeof obj === 'object') {
    if (SECRET_SIG in obj) return stripSecret(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, stripSecret(v)]));
  }
  return obj;
}

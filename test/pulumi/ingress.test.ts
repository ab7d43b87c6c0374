import { ACCOUNT, installAwsMocks, irsa, testCluster } from './aws-fixtures';
import { AWS_VERSIONS } from '../../src/pulumi/cluster';
import { AwsLoadBalancerController, loadBalancerControllerValues, TlsCertificate } from '../../src/pulumi/ingress';
import { chartDefaults } from '../support/charts';
import { validationError } from '../support/errors';
import { podIdentityAllowed } from '../support/iam-trust';
import { resolve } from '../support/pulumi-mocks';

const mocks = installAwsMocks();
const POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"elasticloadbalancing:Describe*","Resource":"*"}]}';

/** Keys whose maps are user-defined (annotations, resources, PDB spec, IngressClassParams spec). */
const FREE_FORM = new Set(['serviceAccount.annotations', 'resources', 'podDisruptionBudget', 'ingressClassParams.spec']);

function keyPaths(values: Record<string, unknown>, prefix: string[] = []): string[] {
  return Object.entries(values).flatMap(([k, v]) => {
    const p = [...prefix, k];
    const descend = v !== null && typeof v === 'object' && !Array.isArray(v) && !FREE_FORM.has(p.join('.'));
    return [p.join('.'), ...(descend ? keyPaths(v as Record<string, unknown>, p) : [])];
  });
}

function existsIn(defaults: unknown, path: string): boolean {
  let node = defaults;
  for (const k of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, k)) return false;
    node = (node as Record<string, unknown>)[k];
  }
  return true;
}

describe('AWS Load Balancer Controller values', () => {
  const values = loadBalancerControllerValues({
    clusterName: 'ml-cluster',
    region: 'us-east-1',
    vpcId: 'vpc-0abc',
    serviceAccountAnnotations: {},
    ingressClass: 'alb',
    scheme: 'internet-facing',
    sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    certificateArns: ['arn:aws:acm:us-east-1:1:certificate/c'],
    inboundCidrs: ['203.0.113.0/24'],
  });

  test('every key exists in the pinned chart (Helm ignores a typo silently)', () => {
    const defaults = chartDefaults(AWS_VERSIONS.charts.awsLoadBalancerController.chart);
    expect(keyPaths(values).filter((p) => !existsIn(defaults, p))).toEqual([]);
  });

  test('region and VPC given (no IMDS from pods), IP targets, IngressClassParams fix scheme, TLS and certificates', () => {
    expect(values).toEqual({
      clusterName: 'ml-cluster',
      region: 'us-east-1',
      vpcId: 'vpc-0abc',
      replicaCount: 2,
      serviceAccount: { create: true, name: 'aws-load-balancer-controller', annotations: {} },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
      podDisruptionBudget: { maxUnavailable: 1 },
      defaultTargetType: 'ip',
      ingressClass: 'alb',
      createIngressClassResource: true,
      ingressClassParams: {
        create: true,
        spec: {
          scheme: 'internet-facing',
          sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          certificateArn: ['arn:aws:acm:us-east-1:1:certificate/c'],
          inboundCIDRs: ['203.0.113.0/24'],
        },
      },
    });
  });
});

describe('AwsLoadBalancerController', () => {
  test('a Pod Identity role with the controller policy, then the pinned chart as a Helm release', async () => {
    new AwsLoadBalancerController('lbc', { cluster: testCluster(), policyDocument: POLICY });
    const root = await mocks.one('mlplatform:index:AwsLoadBalancerController', 'lbc');
    const children = await mocks.childrenOf(root.urn);
    expect(children.map((c) => `${c.type} ${c.name}`).sort()).toEqual([
      'kubernetes:helm.sh/v3:Release lbc-release',
      'mlplatform:index:WorkloadIdentity lbc-identity',
    ]);
    expect((await mocks.one('aws:eks/podIdentityAssociation:PodIdentityAssociation', 'lbc-identity-association')).inputs).toMatchObject({
      namespace: 'kube-system', serviceAccount: 'aws-load-balancer-controller',
    });
    // Its role trusts only the controller's ServiceAccount of this cluster (session-tag conditions).
    const trust = (await mocks.one('aws:iam/role:Role', 'lbc-identity-role')).inputs.assumeRolePolicy;
    expect(JSON.parse(trust).Statement[0].Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/eks-cluster-name': 'ml-cluster',
        'aws:RequestTag/kubernetes-namespace': 'kube-system',
        'aws:RequestTag/kubernetes-service-account': 'aws-load-balancer-controller',
      },
    });
    expect(podIdentityAllowed(trust, { clusterName: 'ml-cluster', namespace: 'kube-system', serviceAccount: 'aws-load-balancer-controller' })).toBe(true);
    expect(podIdentityAllowed(trust, { clusterName: 'ml-cluster', namespace: 'kube-system', serviceAccount: 'coredns' })).toBe(false);
    expect((await mocks.one('aws:iam/rolePolicy:RolePolicy', 'lbc-identity-policy-0')).inputs.policy).toBe(POLICY);
    const release = children.find((c) => c.name === 'lbc-release')!;
    expect(release.inputs).toMatchObject({
      name: 'aws-load-balancer-controller',
      chart: 'aws-load-balancer-controller',
      repositoryOpts: { repo: 'https://aws.github.io/eks-charts' },
      version: '3.5.0',
      namespace: 'kube-system',
      atomic: true,
    });
    expect(release.inputs.values.ingressClassParams.spec).toEqual({ scheme: 'internal', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' });
    // Depending on the identity component waits for its role, policy and association.
    expect(release.options.dependencies.map((u) => u.split('::').pop()).sort()).toEqual(['lbc-identity-association', 'lbc-identity-policy-0', 'lbc-identity-role']);
  });

  test('IRSA: the ServiceAccount annotation carries the role ARN', async () => {
    new AwsLoadBalancerController('lbc-irsa', { cluster: testCluster({ identity: irsa() }), policyDocument: POLICY, ingressClass: 'ml-alb' });
    const release = await mocks.one('kubernetes:helm.sh/v3:Release', 'lbc-irsa-release');
    expect(release.inputs.values.serviceAccount).toEqual({
      create: true, name: 'aws-load-balancer-controller', annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/lbc-irsa-identity-role-0f1e2d3` },
    });
    expect(release.inputs.values.ingressClass).toBe('ml-alb');
  });

  test('internet-facing without inbound CIDRs, and no policy, are ValidationErrors', () => {
    const e = validationError(() => new AwsLoadBalancerController('open', { cluster: testCluster(), policyDocument: '', scheme: 'internet-facing', inboundCidrs: [] }));
    expect(e.issues.map((i) => i.path)).toEqual(['inboundCidrs', 'policyDocument']);
  });
});

describe('TlsCertificate', () => {
  test('DNS validation through Route 53: one record per distinct name, then the validation waits for issuance', async () => {
    const cert = new TlsCertificate('tls', { domainName: 'mlflow.example.com', subjectAlternativeNames: ['*.mlflow.example.com'], zoneId: 'Z123' });
    expect((await mocks.one('aws:acm/certificate:Certificate', 'tls-certificate')).inputs).toEqual({
      domainName: 'mlflow.example.com',
      subjectAlternativeNames: ['*.mlflow.example.com'],
      validationMethod: 'DNS',
      keyAlgorithm: 'RSA_2048',
      options: { certificateTransparencyLoggingPreference: 'ENABLED' },
    });
    expect((await mocks.ofType('aws:route53/record:Record')).filter((r) => r.name.startsWith('tls-validation-')).map((r) => r.inputs)).toEqual([
      { zoneId: 'Z123', name: '_x1.mlflow.example.com.', type: 'CNAME', records: ['_y1.mlflow.example.com.acm-validations.aws.'], ttl: 300, allowOverwrite: true },
    ]);
    expect((await mocks.one('aws:acm/certificateValidation:CertificateValidation', 'tls-validation')).inputs.validationRecordFqdns).toEqual(['_x1.mlflow.example.com']);
    expect(await resolve(cert.certificateArn)).toBe('arn:aws:acm:us-east-1:123456789012:certificate/tls-certificate');
  });

  test('without a zone, the records to create are an output; bad host names are ValidationErrors', async () => {
    const cert = new TlsCertificate('tls-manual', { domainName: 'ml.example.org' });
    expect(await resolve(cert.validationRecords)).toEqual([{ name: '_x1.ml.example.org.', type: 'CNAME', value: '_y1.ml.example.org.acm-validations.aws.' }]);
    const e = validationError(() => new TlsCertificate('bad', { domainName: 'localhost', subjectAlternativeNames: ['Bad_Host.example.com'] }));
    expect(e.issues.map((i) => i.path)).toEqual(['domainName', 'subjectAlternativeNames[0]']);
  });
});

import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { Exposure, Size } from '../../src/core';
import { EksCluster, WorkloadIdentityMode } from '../../src/pulumi/cluster';
import { MlPlatformArgs } from '../../src/pulumi/ml-platform-args';
import { MocksOptions, PulumiMocks, StateFn } from '../support/pulumi-mocks';

/** Account, region and ids the mocked AWS answers with. */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** The output state AWS would add to each resource type (ARNs, generated names, addresses). */
export const AWS_STATE: Record<string, StateFn> = {
  'aws:s3/bucket:Bucket': (a) => {
    const bucket = a.inputs.bucket ?? `${a.name}-1a2b3c4`;
    return { bucket, arn: `arn:aws:s3:::${bucket}` };
  },
  'aws:iam/role:Role': (a) => ({ name: `${a.name}-0f1e2d3`, arn: `arn:aws:iam::${ACCOUNT}:role/${a.name}-0f1e2d3` }),
  'aws:rds/instance:Instance': (a) => ({
    address: `${a.name}.c1a2b3c4d5e6.${REGION}.rds.amazonaws.com`,
    port: 5432,
    masterUserSecrets: a.inputs.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-1234` }] : [],
  }),
  'aws:rds/subnetGroup:SubnetGroup': (a) => ({ name: `${a.name}-5e6f7a8` }),
  'aws:ec2/launchTemplate:LaunchTemplate': () => ({ latestVersion: 1 }),
  'aws:acm/certificate:Certificate': (a) => ({
    arn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${a.name}`,
    domainValidationOptions: [a.inputs.domainName, ...(a.inputs.subjectAlternativeNames ?? [])].map((d: string) => ({
      domainName: d,
      resourceRecordName: `_x1.${d.replace(/^\*\./, '')}.`,
      resourceRecordType: 'CNAME',
      resourceRecordValue: `_y1.${d.replace(/^\*\./, '')}.acm-validations.aws.`,
    })),
  }),
  'aws:acm/certificateValidation:CertificateValidation': (a) => ({ certificateArn: a.inputs.certificateArn }),
  'aws:route53/record:Record': (a) => ({ fqdn: String(a.inputs.name).replace(/\.$/, '') }),
};

/** Installs the Pulumi mocks with {@link AWS_STATE} (once per test file). */
export function installAwsMocks(opts: MocksOptions = {}): PulumiMocks {
  return PulumiMocks.install({ ...opts, state: { ...AWS_STATE, ...opts.state } });
}

/** The Kubernetes provider of the test cluster (created lazily, after the mocks are installed). */
let provider: k8s.Provider | undefined;
export function clusterProvider(): k8s.Provider {
  provider ??= new k8s.Provider('cluster', { kubeconfig: 'mock-kubeconfig' });
  return provider;
}

/** An existing EKS cluster, as a stack would describe it. */
export function testCluster(overrides: Partial<EksCluster> = {}): EksCluster {
  return {
    name: 'ml-cluster',
    region: REGION,
    vpcId: 'vpc-0abc',
    privateSubnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
    securityGroupId: 'sg-0cluster',
    identity: WorkloadIdentityMode.podIdentity(),
    provider: clusterProvider(),
    vpcCidr: '10.0.0.0/16',
    ...overrides,
  };
}

/** The IRSA identity of the test cluster. */
export function irsa(): WorkloadIdentityMode {
  return WorkloadIdentityMode.irsa({
    oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/ABC123`,
    oidcIssuerUrl: `https://oidc.eks.${REGION}.amazonaws.com/id/ABC123`,
  });
}

/** A Pulumi secret, as `config.requireSecret` gives. */
export function secret(value: string): pulumi.Output<string> {
  return pulumi.secret(value);
}

/** The README example's declarations (exposure, one spot A10G pool, one queued tenant), as MlPlatform args. */
export function readmeDeclarations(): Pick<MlPlatformArgs, 'exposure' | 'gpuPools' | 'tenants'> {
  return {
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' } }),
    gpuPools: { a10g: { accelerator: 'nvidia-a10g', maxNodes: 8, capacityType: 'spot' } },
    tenants: { vision: { quota: { gpus: { a10g: 8 }, memory: Size.gibibytes(256) }, queue: true } },
  };
}

/** The node role of managed node groups in tests. */
export const NODE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/gpu-nodes`;

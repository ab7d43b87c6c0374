import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ChartRef, isDnsLabel, Issues } from '../core';
import { AWS_VERSIONS, EksCluster } from './cluster';
import { helmReleaseArgs } from './cluster-addons';
import { WorkloadIdentity } from './workload-identity';

/** Arguments of {@link TlsCertificate}. */
export interface TlsCertificateArgs {
  /** The host the certificate is for, e.g. `mlflow.example.com` (or `*.example.com`). */
  readonly domainName: string;
  /** More hosts. @default none */
  readonly subjectAlternativeNames?: readonly string[];
  /**
   * Route 53 hosted zone to write the DNS validation records into (then the component waits for
   * issuance). Without it, create {@link TlsCertificate.validationRecords} in your DNS yourself.
   * @default none
   */
  readonly zoneId?: pulumi.Input<string>;
  /** Tags. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Records an issue unless `host` is a DNS name (an optional leading `*.` allowed). */
export function checkHost(issues: Issues, path: string, host: unknown): void {
  const labels = typeof host === 'string' ? host.replace(/^\*\./, '').split('.') : [];
  if (typeof host !== 'string' || host.length > 253 || labels.length < 2 || !labels.every((l) => isDnsLabel(l))) {
    issues.add(path, host, 'must be a fully qualified host name such as "mlflow.example.com" (a leading "*." is allowed)');
  }
}

/**
 * An ACM certificate validated through DNS (`mlplatform:index:TlsCertificate`): `<name>-certificate`
 * and, with a Route 53 zone, one `<name>-validation-<i>` record per distinct name and
 * `<name>-validation` (an `aws.acm.CertificateValidation` that waits until ACM issues it). ACM
 * certificates terminate TLS on AWS load balancers only (the AWS Load Balancer Controller's ALBs).
 */
export class TlsCertificate extends pulumi.ComponentResource {
  /** The certificate. */
  public readonly certificate: aws.acm.Certificate;
  /** Its ARN; with a zone, known only once the certificate is issued. */
  public readonly certificateArn: pulumi.Output<string>;
  /** The CNAME records that prove control of the names. */
  public readonly validationRecords: pulumi.Output<{ name: string; type: string; value: string }[]>;

  constructor(name: string, args: TlsCertificateArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:TlsCertificate', name, {}, opts);
    const issues = new Issues(`TlsCertificate "${name}"`);
    checkHost(issues, 'domainName', args.domainName);
    (args.subjectAlternativeNames ?? []).forEach((h, i) => checkHost(issues, `subjectAlternativeNames[${i}]`, h));
    issues.throwIfAny();
    const tags = args.tags ? { ...args.tags } : undefined;
    this.certificate = new aws.acm.Certificate(`${name}-certificate`, {
      domainName: args.domainName,
      subjectAlternativeNames: args.subjectAlternativeNames ? [...args.subjectAlternativeNames] : undefined,
      validationMethod: 'DNS',
      keyAlgorithm: 'RSA_2048',
      options: { certificateTransparencyLoggingPreference: 'ENABLED' },
      tags,
    }, { parent: this });
    this.validationRecords = this.certificate.domainValidationOptions.apply((options) => {
      const seen = new Map<string, { name: string; type: string; value: string }>();
      for (const o of options ?? []) seen.set(o.resourceRecordName!, { name: o.resourceRecordName!, type: o.resourceRecordType!, value: o.resourceRecordValue! });
      return [...seen.values()];
    });
    if (args.zoneId === undefined) {
      this.certificateArn = this.certificate.arn;
    } else {
      // `*.example.com` and `example.com` share one record: one per distinct base name.
      const names = [...new Set([args.domainName, ...(args.subjectAlternativeNames ?? [])].map((h) => h.replace(/^\*\./, '')))];
      const records = names.map((_, i) => new aws.route53.Record(`${name}-validation-${i}`, {
        zoneId: args.zoneId!,
        name: this.validationRecords.apply((r) => r[i]?.name ?? ''),
        type: this.validationRecords.apply((r) => r[i]?.type ?? 'CNAME'),
        records: [this.validationRecords.apply((r) => r[i]?.value ?? '')],
        ttl: 300,
        allowOverwrite: true,
      }, { parent: this }));
      const validation = new aws.acm.CertificateValidation(`${name}-validation`, {
        certificateArn: this.certificate.arn,
        validationRecordFqdns: records.map((r) => r.fqdn),
      }, { parent: this });
      this.certificateArn = validation.certificateArn;
    }
    this.registerOutputs({ certificateArn: this.certificateArn });
  }
}

/** Arguments of {@link AwsLoadBalancerController}. */
export interface AwsLoadBalancerControllerArgs {
  /** The cluster (name, region, VPC, identity mode, provider). */
  readonly cluster: Pick<EksCluster, 'name' | 'region' | 'vpcId' | 'identity' | 'provider'>;
  /**
   * The controller's IAM policy (JSON): `docs/install/iam_policy.json` of the controller release the
   * pinned chart deploys (v3.5.0), read by your program — the library ships no copy of upstream files.
   */
  readonly policyDocument: pulumi.Input<string>;
  /** IngressClass it serves. @default 'alb' */
  readonly ingressClass?: string;
  /** Load balancer scheme of the class. @default 'internal' */
  readonly scheme?: 'internal' | 'internet-facing';
  /**
   * CIDRs allowed to reach the load balancers; required with 'internet-facing' (no silent 0.0.0.0/0).
   * @default none: the controller's default, on an internal load balancer reachable from the VPC only
   */
  readonly inboundCidrs?: readonly string[];
  /** ACM certificates of the class's HTTPS listeners. @default none (HTTP only) */
  readonly certificateArns?: readonly pulumi.Input<string>[];
  /** TLS policy of the HTTPS listeners. @default 'ELBSecurityPolicy-TLS13-1-2-2021-06' */
  readonly sslPolicy?: string;
  /** The chart. @default AWS_VERSIONS.charts.awsLoadBalancerController */
  readonly chart?: ChartRef;
  /** Tags of the IAM role. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/** The ServiceAccount the controller runs as. */
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = 'aws-load-balancer-controller';

/** What {@link loadBalancerControllerValues} computes the values from. */
export interface LoadBalancerControllerValuesInput {
  /** Cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** Region. */
  readonly region: string;
  /** VPC id. */
  readonly vpcId: pulumi.Input<string>;
  /** Annotations of the controller's ServiceAccount (the IRSA role ARN, or none). */
  readonly serviceAccountAnnotations: pulumi.Input<Record<string, string>>;
  /** IngressClass name. */
  readonly ingressClass: string;
  /** Load balancer scheme. */
  readonly scheme: string;
  /** TLS policy of HTTPS listeners. */
  readonly sslPolicy: string;
  /** ACM certificates. */
  readonly certificateArns: readonly pulumi.Input<string>[];
  /** Inbound CIDRs. @default the controller's default */
  readonly inboundCidrs?: readonly string[];
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/**
 * The Helm values of the AWS Load Balancer Controller (every key exists in the pinned chart's
 * values.yaml; tests check them): two replicas with a PDB and resources, region and VPC given (no
 * IMDS lookups from pods), IP targets (the platform's Services are ClusterIP), and an IngressClass
 * whose IngressClassParams fix the scheme, TLS policy, certificates and inbound CIDRs for every
 * Ingress of the class.
 */
export function loadBalancerControllerValues(i: LoadBalancerControllerValuesInput): Record<string, unknown> {
  return {
    clusterName: i.clusterName,
    region: i.region,
    vpcId: i.vpcId,
    replicaCount: 2,
    serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, annotations: i.serviceAccountAnnotations },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    podDisruptionBudget: { maxUnavailable: 1 },
    defaultTargetType: 'ip',
    ingressClass: i.ingressClass,
    createIngressClassResource: true,
    ingressClassParams: {
      create: true,
      spec: {
        scheme: i.scheme,
        sslPolicy: i.sslPolicy,
        ...(i.certificateArns.length > 0 ? { certificateArn: [...i.certificateArns] } : {}),
        ...(i.inboundCidrs ? { inboundCIDRs: [...i.inboundCidrs] } : {}),
      },
    },
  };
}

/**
 * The AWS Load Balancer Controller (`mlplatform:index:AwsLoadBalancerController`): `<name>-identity`
 * (a {@link WorkloadIdentity} for `kube-system/aws-load-balancer-controller` with the controller's
 * policy) and `<name>-release` (the pinned chart as a Helm release with
 * {@link loadBalancerControllerValues}). Expose the tracking UI through it with
 * `Exposure.ingress({ host, className: 'alb' })`; TLS comes from the ACM certificates of the class.
 */
export class AwsLoadBalancerController extends pulumi.ComponentResource {
  /** The controller's role. */
  public readonly identity: WorkloadIdentity;
  /** The Helm release. */
  public readonly release: k8s.helm.v3.Release;
  /** The IngressClass name. */
  public readonly ingressClass: string;

  constructor(name: string, args: AwsLoadBalancerControllerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:AwsLoadBalancerController', name, {}, opts);
    const issues = new Issues(`AwsLoadBalancerController "${name}"`);
    const ingressClass = args.ingressClass ?? 'alb';
    if (!isDnsLabel(ingressClass)) issues.add('ingressClass', ingressClass, 'must be an IngressClass name (DNS-1123 label)');
    const scheme = args.scheme ?? 'internal';
    if (scheme !== 'internal' && scheme !== 'internet-facing') issues.add('scheme', scheme, "must be 'internal' or 'internet-facing'");
    if (scheme === 'internet-facing' && !args.inboundCidrs?.length) issues.add('inboundCidrs', args.inboundCidrs, "is required with 'internet-facing': list who may connect (0.0.0.0/0 only if you mean the whole internet)");
    (args.inboundCidrs ?? []).forEach((c, i) => { if (!CIDR.test(c)) issues.add(`inboundCidrs[${i}]`, c, 'must be an IPv4 CIDR such as "203.0.113.0/24"'); });
    if (args.policyDocument === undefined || args.policyDocument === '') issues.add('policyDocument', args.policyDocument, "is required: the controller's iam_policy.json for the pinned release");
    issues.throwIfAny();
    this.ingressClass = ingressClass;

    this.identity = new WorkloadIdentity(`${name}-identity`, {
      cluster: args.cluster,
      serviceAccount: { namespace: 'kube-system', name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT },
      policies: [args.policyDocument],
      tags: args.tags,
    }, { parent: this });
    const chart = args.chart ?? AWS_VERSIONS.charts.awsLoadBalancerController;
    const values = loadBalancerControllerValues({
      clusterName: args.cluster.name,
      region: args.cluster.region,
      vpcId: args.cluster.vpcId,
      serviceAccountAnnotations: this.identity.serviceAccountAnnotations,
      ingressClass,
      scheme,
      sslPolicy: args.sslPolicy ?? 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      certificateArns: args.certificateArns ?? [],
      inboundCidrs: args.inboundCidrs,
    });
    this.release = new k8s.helm.v3.Release(`${name}-release`, helmReleaseArgs(chart, values), {
      parent: this,
      provider: args.cluster.provider,
      dependsOn: [this.identity],
    });
    this.registerOutputs({});
  }
}

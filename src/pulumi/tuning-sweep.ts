import * as pulumi from '@pulumi/pulumi';
import { KubernetesObjects } from './kubernetes-objects';
import { MlPlatform } from './ml-platform';
import { checkPrefixes, S3PrefixAccess, WorkloadIdentity } from './workload-identity';
import { buildWorkload, checkPlatform, serviceAccountRole, tidyAccess } from './workload-roles';
import { TuningSweep as Cdk8sTuningSweep, TuningSweepProps } from '../cdk8s/tuning-sweep';
import { Issues, PlatformContext, SweepResults, SweepSpec } from '../core';

/** Arguments of the Pulumi {@link TuningSweep}: the cdk8s props, on the Pulumi platform. */
export interface TuningSweepArgs extends Omit<TuningSweepProps, 'platform'> {
  /**
   * The platform: its RDS PostgreSQL holds the study, its MLflow server records every trial, its GPU
   * pools place the trials, `namespace` must be one of its tenants, its cluster runs the objects.
   */
  readonly platform: MlPlatform;
}

/**
 * What a sweep's pods do with the platform's bucket (keys relative to the bucket). The sweep itself
 * never touches it: the study lives in PostgreSQL, and trials log to MLflow, whose server proxies
 * artifacts (`--serve-artifacts`). Only the trial can: each `s3://<platform bucket>/<key>` its
 * command, args or env names (e.g. `--data=s3://…/datasets/cifar10/v3`) is read under `<key>` (up
 * to the first `{{parameter}}` template). Trials write their results to Optuna and MLflow, so
 * nothing is writable. With no such URI the sweep gets no role at all.
 */
export function sweepStoreAccess(spec: SweepSpec, store: PlatformContext['store']): S3PrefixAccess {
  const texts = [...spec.trial.command, ...spec.trial.args, ...Object.values(spec.trial.env)];
  const head = `s3://${store.bucket}/`;
  const read: string[] = [];
  for (const text of texts) {
    for (let at = text.indexOf(head); at >= 0; at = text.indexOf(head, at + head.length)) {
      const token = /^[^\s"'`,;]*/.exec(text.slice(at + head.length))![0];
      // A template cuts the key inside a segment: read the segments before it.
      const cut = token.indexOf('{{');
      const prefix = cut < 0 ? token : token.slice(0, token.lastIndexOf('/', cut) + 1);
      if (prefix.replace(/\/+/g, '') !== '') read.push(prefix);
    }
  }
  return tidyAccess({ read });
}

/**
 * A hyperparameter sweep on AWS (`mlplatform:index:TuningSweep`): the cdk8s {@link Cdk8sTuningSweep}
 * built in memory against the platform (its study in the platform's RDS PostgreSQL), deployed into
 * the platform's cluster.
 *
 * Creates `<name>-objects` (ServiceAccount, program ConfigMap, study-creation Job, workers Job,
 * optional dashboard or Katib Experiment, exactly as `cdk8s synth` writes them) and, only when the
 * trials read the platform's bucket ({@link sweepStoreAccess}), `<name>-identity`: a read-only
 * {@link WorkloadIdentity} for exactly those prefixes. Without one, under IRSA, the sweep's
 * ServiceAccount carries no role annotation.
 */
export class TuningSweep extends pulumi.ComponentResource {
  /** The cdk8s sweep, built in memory. */
  public readonly sweep: Cdk8sTuningSweep;
  /** The role of the sweep's ServiceAccount, when its trials read the bucket. */
  public readonly identity?: WorkloadIdentity;
  /** The Kubernetes objects. */
  public readonly objects: KubernetesObjects;
  /** Where the results are (study, MLflow parent run and its tags). */
  public readonly results: SweepResults;
  /** Namespace of the objects. */
  public readonly namespace: string;
  /** The ServiceAccount of every sweep pod. */
  public readonly serviceAccountName: string;

  constructor(name: string, args: TuningSweepArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:TuningSweep', name, {}, opts);
    const issues = new Issues(`TuningSweep "${name}"`);
    const platform = checkPlatform(issues, args.platform);
    issues.throwIfAny();
    const { platform: _platform, ...props } = args;
    const store = platform!.context.store;
    const built = buildWorkload(platform!, issues, `${name}-tuning-sweep`, (chart) => {
      const s = new Cdk8sTuningSweep(chart, name, { ...props, platform: platform!.platform });
      checkPrefixes(issues, 'trial', sweepStoreAccess(s.spec, store));
      return s;
    });
    issues.throwIfAny();
    const { chart, construct: sweep } = built!;
    const access = sweepStoreAccess(sweep.spec, store);

    this.sweep = sweep;
    this.results = sweep.results;
    this.namespace = sweep.spec.namespace;
    this.serviceAccountName = sweep.serviceAccountName;
    const serviceAccount = { namespace: this.namespace, name: this.serviceAccountName };
    this.identity = serviceAccountRole(platform!, chart, `${name}-identity`, serviceAccount, access, { parent: this });
    this.objects = platform!.deploy(`${name}-objects`, chart, { parent: this }, this.identity ? [this.identity] : []);
    this.registerOutputs({ studyName: this.results.studyName, namespace: this.namespace, roleArn: this.identity?.roleArn });
  }
}

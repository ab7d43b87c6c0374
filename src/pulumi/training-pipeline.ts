import * as pulumi from '@pulumi/pulumi';
import { KubernetesObjects } from './kubernetes-objects';
import { MlPlatform } from './ml-platform';
import { checkPrefixes, S3PrefixAccess, WorkloadIdentity } from './workload-identity';
import { buildWorkload, checkPlatform, serviceAccountRole, tidyAccess } from './workload-roles';
import { StoreLocation } from '../cdk8s/checks';
import { TrainingPipeline as Cdk8sTrainingPipeline, TrainingPipelineProps } from '../cdk8s/training-pipeline';
import { Issues, PipelineSpec, PlatformContext } from '../core';
import { pipelineDataAccess, StoreAccess } from '../core/checks';

/** Arguments of the Pulumi {@link TrainingPipeline}: the cdk8s props, on the Pulumi platform. */
export interface TrainingPipelineArgs extends Omit<TrainingPipelineProps, 'platform'> {
  /**
   * The platform the pipeline runs on: its in-memory cdk8s platform wires tracking, the bucket, GPU
   * pools, tenants and Kueue, its cluster runs the objects, its bucket holds the artifacts.
   */
  readonly platform: MlPlatform;
  /**
   * Store prefixes the steps may read that no pipeline of the namespace declared before this one
   * writes — what `location.grantRead(pipeline)` does in cdk8s, which a Pulumi component cannot be
   * given after it is created: e.g. `[platform.platform.storeLocation('datasets/churn')]`. For the
   * data-access check only: the role still gets exactly the prefixes the steps read.
   * @default none
   */
  readonly readGrants?: readonly StoreLocation[];
}

/**
 * What a pipeline's pods do with the platform's bucket (keys relative to the bucket): they write
 * (and read back) exactly the pipeline's artifact prefix — every step output and model of every run
 * lies under it — and read the bucket datasets (`Dataset.fromBucket`) and the DVC remotes in the
 * platform's bucket (`Dataset.fromDvc({ remote })`) its steps and exit handler declare: the same
 * reads and writes the data-access check holds against grants, and the same read scopes the
 * ServiceAccount's `mlplatform.io/read-scopes` annotation names.
 */
export function pipelineStoreAccess(spec: PipelineSpec, store: PlatformContext['store']): S3PrefixAccess {
  const access = pipelineDataAccess(spec);
  const inBucket = (list: readonly StoreAccess[]) => list.filter((a) => a.path.bucket === store.bucket).map((a) => a.path.prefix);
  return tidyAccess({ read: inBucket(access.reads), write: [spec.artifactPrefix, ...inBucket(access.writes)] });
}

/**
 * A training pipeline on AWS (`mlplatform:index:TrainingPipeline`): the cdk8s
 * {@link Cdk8sTrainingPipeline} built in memory against the platform, deployed into the platform's
 * cluster.
 *
 * Creates `<name>-identity` (a {@link WorkloadIdentity} for the pipeline's ServiceAccount that writes
 * exactly the pipeline's artifact prefix and reads its bucket datasets: {@link pipelineStoreAccess};
 * under IRSA the ServiceAccount carries this role's ARN) and `<name>-objects` (the ServiceAccount,
 * Role, RoleBinding, WorkflowTemplate, CronWorkflow, rendezvous Services and step I/O ConfigMap exactly as `cdk8s synth`
 * writes them, waiting for the platform and the role). Steps are declared in `steps` (refer to
 * earlier steps by name: `after: ['train']`, `{ step: 'train', output: 'model' }`).
 */
export class TrainingPipeline extends pulumi.ComponentResource {
  /** The cdk8s pipeline, built in memory (its strings may hold cloud value placeholders). */
  public readonly pipeline: Cdk8sTrainingPipeline;
  /** The role of the pipeline's ServiceAccount. */
  public readonly identity: WorkloadIdentity;
  /** The Kubernetes objects. */
  public readonly objects: KubernetesObjects;
  /** The WorkflowTemplate name. */
  public readonly pipelineName: string;
  /** Namespace of the objects and runs. */
  public readonly namespace: string;
  /** The ServiceAccount every step runs as. */
  public readonly serviceAccountName: string;
  /** Key prefix of the pipeline's artifacts, relative to the bucket. */
  public readonly artifactPrefix: string;
  /** `s3://<bucket>/<artifactPrefix>`. */
  public readonly artifactUri: pulumi.Output<string>;

  constructor(name: string, args: TrainingPipelineArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('mlplatform:index:TrainingPipeline', name, {}, opts);
    const issues = new Issues(`TrainingPipeline "${name}"`);
    const platform = checkPlatform(issues, args.platform);
    issues.throwIfAny();
    const { platform: _platform, readGrants, ...props } = args;
    const store = platform!.context.store;
    const built = buildWorkload(platform!, issues, `${name}-training-pipeline`, (chart) => {
      const p = new Cdk8sTrainingPipeline(chart, name, { ...props, platform: platform!.platform });
      // cdk8s renders the WorkflowTemplate at synth time, so that steps can still be added; here it is now.
      if (p.spec.steps.length === 0) issues.add('steps', props.steps, 'must have at least one step: a Pulumi component renders at once, so declare them all in `steps` (refer to earlier ones by name)');
      for (const location of readGrants ?? []) location.grantRead(p);
      checkPrefixes(issues, 'steps', pipelineStoreAccess(p.spec, store));
      return p;
    });
    issues.throwIfAny();
    const { chart, construct: pipeline } = built!;
    const access = pipelineStoreAccess(pipeline.spec, store);

    this.pipeline = pipeline;
    this.pipelineName = pipeline.pipelineName;
    this.namespace = pipeline.namespace;
    this.serviceAccountName = pipeline.serviceAccountName;
    this.artifactPrefix = pipeline.spec.artifactPrefix;
    this.artifactUri = platform!.cloudValues.resolve(`s3://${store.bucket}/${this.artifactPrefix}`);
    const serviceAccount = { namespace: this.namespace, name: this.serviceAccountName };
    this.identity = serviceAccountRole(platform!, chart, `${name}-identity`, serviceAccount, access, { parent: this })!;
    this.objects = platform!.deploy(`${name}-objects`, chart, { parent: this }, [this.identity]);
    this.registerOutputs({ pipelineName: this.pipelineName, namespace: this.namespace, artifactUri: this.artifactUri, roleArn: this.identity.roleArn });
  }
}

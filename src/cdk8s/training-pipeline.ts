import { Lazy } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { checksWiring, StoreLocation } from './checks';
import { MlPlatform } from './ml-platform';
import { Json, K8sObject, KUBE, kube } from './private/object';
import { CheckSeverities, PIPELINE_READ_SCOPES_ANNOTATION, pipelineDataAccess, pipelineDemands, pipelineReadScopes, resolveCheckSeverities } from '../core/checks';
import { Issues } from '../core/errors';
import { childName } from '../core/names';
import { parameterRef, PipelineDefinition, PipelineOptions, PipelineSpec, PipelineStep, resolveAppendedStep, resolvePipeline, StepDefinition, StepOptions } from '../core/pipeline';
import { stepIoConfigMapName, stepIoPrograms, stepLabels, usesStepIo } from './private/pipeline-pod';
import { PlatformContext } from '../core/platform/context';
import { assertPropShapes } from '../core/prop-shapes';
import { checkVersionOverrides, isPinnedImage, VersionOverrides, withVersions } from '../core/versions';
import { rendezvousServiceName } from './private/pipeline-multinode';
import { workflowSpec } from './private/pipeline-templates';
import { appLabels } from './private/pod';

/** Props of {@link TrainingPipeline}. */
export interface TrainingPipelineProps extends PipelineOptions {
  /**
   * The platform the pipeline runs on: an {@link MlPlatform}, or a hand-built
   * {@link PlatformContext}. It wires MLflow tracking, the object store, GPU pools, tenants and Kueue.
   * @default none: no tracking or store wiring, GPU steps select nodes by accelerator label
   */
  readonly platform?: MlPlatform | PlatformContext;
  /**
   * Pipeline name: the WorkflowTemplate's, a DNS-1123 label of at most 40 characters.
   * @default the construct id
   */
  readonly name?: string;
  /**
   * Replacement images of the helper steps (the MLflow image registers models).
   * @default the platform's versions, else VERSIONS
   */
  readonly versions?: VersionOverrides;
  /**
   * Severity of the synth-time checks for this pipeline, over the platform's `checks`: e.g.
   * `{ 'data-access': 'warning' }` while a dataset's grant is still missing.
   * @default the platform's, else every check at its own severity (see docs/checks.md)
   */
  readonly checks?: CheckSeverities;
}

/**
 * A training pipeline on Argo Workflows: a DAG of typed steps with parameters, artifacts in the
 * platform's object store, retries, timeouts, caching, fan-out, an exit handler, GPU and multi-node
 * (torchrun) steps, versioned data inputs, MLflow tracking in every step and model registration.
 *
 * Creates, in a tenant namespace: a `WorkflowTemplate` (argoproj.io/v1alpha1) named after the
 * pipeline, a `CronWorkflow` running it when `schedule` is set, one `ServiceAccount` with a `Role`
 * and `RoleBinding` holding the least Argo's executor needs (`workflowtaskresults` create/patch, plus
 * create/get of the Jobs, JobSets or PyTorchJobs of multi-node steps), and a headless `Service` per
 * multi-node step run as an Indexed Job (stable pod DNS names for the torchrun rendezvous), and a
 * `ConfigMap` of the step I/O programs once a step pulls a bucket dataset or a multi-node step has
 * store inputs or outputs.
 *
 * Steps are validated when declared (`steps` prop or {@link addStep}); the WorkflowTemplate is
 * rendered at synth time, so steps added later show up.
 */
export class TrainingPipeline extends Construct {
  /** The pipeline (WorkflowTemplate) name. */
  public readonly pipelineName: string;
  /** The namespace its objects and runs live in. */
  public readonly namespace: string;
  /** The ServiceAccount every step runs as (no API token). */
  public readonly serviceAccountName: string;
  /** The ServiceAccount of Argo's executor in the steps' pods: the only one with API rights (WorkflowTaskResults, a multi-node step's Job). */
  public readonly executorServiceAccountName: string;

  private readonly context?: PlatformContext;
  private definition: PipelineDefinition;
  private readonly handles = new Map<string, PipelineStep>();
  private readonly mlflowImage: string;
  private current: PipelineSpec;
  /** The platform's pools, tenants and add-ons when `current` was resolved (see {@link contextState}). */
  private resolvedWith: string;
  private readonly serviceAccount: K8sObject;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps = {}) {
    super(scope, id);
    assertPropShapes(`TrainingPipeline "${id}"`, 'TrainingPipeline', props);
    this.context = props.platform instanceof MlPlatform ? props.platform.context : props.platform;
    const { platform: _platform, versions: _versions, checks: _checks, ...options } = props;
    this.definition = Object.assign({}, options, { name: props.name ?? id, owner: this, steps: [...(props.steps ?? [])] });
    const versions = props.versions ? withVersions(props.versions) : props.platform instanceof MlPlatform ? props.platform.versions : withVersions();
    this.mlflowImage = versions.images.mlflow;
    const propIssues = new Issues(`TrainingPipeline "${this.definition.name}"`);
    checkVersionOverrides(propIssues, 'versions', props.versions);
    if (!props.versions?.images?.mlflow && !isPinnedImage(this.mlflowImage)) propIssues.add('versions.images.mlflow', this.mlflowImage, 'must be pinned to a tag other than "latest" or a digest');
    const checks = resolveCheckSeverities(propIssues, 'checks', props.checks);
    propIssues.throwIfAny();
    this.current = resolvePipeline(this.definition, this.context);
    this.resolvedWith = contextState(this.context);
    for (const s of this.definition.steps ?? []) this.handles.set(s.name, new PipelineStep(s.name, this.definition.name, this));

    const spec = this.current;
    this.pipelineName = spec.name;
    this.namespace = spec.namespace;
    this.serviceAccountName = childName(spec.name, 'workflow');
    const labels = appLabels(spec.name, 'training-pipeline', this.context?.name ?? spec.name);
    const metadata = (name: string) => ({ name, namespace: spec.namespace, labels });

    // The steps' ServiceAccount (their store identity on AWS) mounts no API token: the user's code never
    // holds one. Argo's executor (the init and wait containers, a resource step's main) calls the API
    // server as a ServiceAccount of its own, whose token Argo mounts into those containers only
    // (`executor.serviceAccountName`, workflow/controller/workflowpod.go setupServiceAccount/newExecContainer),
    // from the token Secret it looks up by name (`<sa>.service-account-token`, util/secrets/secret_name.go).
    this.serviceAccount = kube(this, 'service-account', KUBE.ServiceAccount, {
      metadata: Object.assign({}, metadata(this.serviceAccountName),
        this.context?.store.serviceAccountAnnotations ? { annotations: { ...this.context.store.serviceAccountAnnotations } } : {}),
      automountServiceAccountToken: false,
    });
    this.executorServiceAccountName = childName(spec.name, 'executor');
    kube(this, 'executor-service-account', KUBE.ServiceAccount, { metadata: metadata(this.executorServiceAccountName), automountServiceAccountToken: false });
    kube(this, 'executor-token', KUBE.Secret, {
      metadata: Object.assign({}, metadata(`${this.executorServiceAccountName}.service-account-token`), { annotations: { 'kubernetes.io/service-account.name': this.executorServiceAccountName } }),
      // Filled by the API server's token controller; no credential is written here.
      type: 'kubernetes.io/service-account-token',
    });
    this.annotateReadScopes();
    // Before the synth-time checks (registered below), so an empty pipeline fails with its own ValidationError.
    this.node.addValidation({ validate: () => { this.assertSteps(); return []; } });
    // GPU fit, gang size, tenant quota and data access are synth-time checks (src/cdk8s/checks.ts).
    const severities = Object.assign({}, props.platform instanceof MlPlatform ? props.platform.checkSeverities : {}, checks);
    checksWiring.register(this, () => {
      const scopes = checksWiring.annotationsOf(this, 'service-account')?.[PIPELINE_READ_SCOPES_ANNOTATION];
      const identity = { serviceAccount: this.serviceAccountName, readScopes: scopes ? scopes.split(' ').filter((x) => x) : [] };
      return {
        demands: pipelineDemands(this.current),
        dataAccess: this.context ? [Object.assign({}, pipelineDataAccess(this.current, checksWiring.grantsOf(this)), { identity })] : [],
        target: this.context,
        severities,
      };
    }, () => (this.context ? [pipelineDataAccess(this.current)] : []));
    kube(this, 'role', KUBE.Role, { metadata: metadata(this.executorServiceAccountName), rules: Lazy.any({ produce: () => this.rules() }) });
    kube(this, 'role-binding', KUBE.RoleBinding, {
      metadata: metadata(this.executorServiceAccountName),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.executorServiceAccountName },
      subjects: [{ kind: 'ServiceAccount', name: this.executorServiceAccountName, namespace: spec.namespace }],
    });
    new K8sObject(this, 'workflow-template', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: metadata(spec.name),
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    if (spec.schedule) {
      const sc = spec.schedule;
      const args = Object.entries(sc.parameters);
      new K8sObject(this, 'cron-workflow', {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'CronWorkflow',
        metadata: metadata(spec.name),
        spec: {
          schedules: [...sc.schedules],
          ...(sc.timezone ? { timezone: sc.timezone } : {}),
          concurrencyPolicy: sc.concurrencyPolicy,
          ...(sc.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: sc.startingDeadlineSeconds } : {}),
          successfulJobsHistoryLimit: sc.successfulRunsHistory,
          failedJobsHistoryLimit: sc.failedRunsHistory,
          suspend: sc.suspend,
          workflowMetadata: { labels: { 'mlplatform.io/pipeline': spec.name, 'mlplatform.io/trigger': 'schedule' } },
          workflowSpec: {
            workflowTemplateRef: { name: spec.name },
            ...(args.length ? { arguments: { parameters: args.map(([name, value]) => ({ name, value })) } } : {}),
          },
        },
      });
    }
    // In the order addStep() would create them, so that steps given at once and one by one synthesize the same objects.
    this.addStepIoPrograms(0);
    spec.steps.forEach((s, i) => {
      this.addRendezvousService(s.name);
      this.addStepIoPrograms(i + 1);
    });
  }

  /** A reference to pipeline parameter `name` (`{{workflow.parameters.name}}`), for command, args, env or `when`. */
  public parameter(name: string): string {
    return parameterRef(name);
  }

  /**
   * Adds a step and returns its handle, which later steps list in `after` and read outputs from.
   * An invalid step throws a ValidationError (listing every issue of the pipeline) and is not added.
   */
  public addStep(name: string, options: StepOptions): PipelineStep {
    assertPropShapes(`TrainingPipeline "${this.pipelineName}": addStep("${name}")`, 'TrainingPipeline.addStep#1', options, 'options');
    const steps: StepDefinition[] = [...(this.definition.steps ?? []), Object.assign({}, options, { name })];
    const definition = Object.assign({}, this.definition, { steps });
    // Only the new step is validated and linked while the platform's pools, tenants and add-ons are
    // as they were; after they changed, every step is resolved again against them.
    const state = contextState(this.context);
    const next = state === this.resolvedWith ? resolveAppendedStep(this.current, definition, this.context) : resolvePipeline(definition, this.context);
    this.resolvedWith = state;
    this.definition = definition;
    this.current = next;
    checksWiring.changed();
    const handle = new PipelineStep(name, this.pipelineName, this);
    this.handles.set(name, handle);
    this.addRendezvousService(name);
    this.addStepIoPrograms();
    this.annotateReadScopes();
    return handle;
  }

  /** The handle of step `name` (also for steps declared in the `steps` prop). */
  public step(name: string): PipelineStep {
    const h = this.handles.get(name);
    if (!h) new Issues(`TrainingPipeline "${this.pipelineName}"`).add('step', name, `names no step; use one of: ${[...this.handles.keys()].join(', ') || '(none yet)'}`).throwIfAny();
    return h!;
  }

  /**
   * Everything the pipeline's steps write to the platform's store (every run's outputs, under
   * `pipelines/<namespace>/<name>/`). Endpoints and pipelines of the same namespace may read it;
   * grant others: `pipeline.artifacts.grantRead(endpoint)`.
   */
  public get artifacts(): StoreLocation {
    const store = this.context?.store;
    if (!store) new Issues(`TrainingPipeline "${this.pipelineName}"`).add('artifacts', undefined, 'needs a platform (its object store holds the artifacts); give `platform`').throwIfAny();
    return StoreLocation.fromUri(`s3://${store!.bucket}/${this.current.artifactPrefix}/`);
  }

  /** The validated model this construct renders (read-only; for inspection and tests). */
  public get spec(): PipelineSpec {
    return this.current;
  }

  /** The ServiceAccount's read scopes: exactly the bucket prefixes the steps read (the AWS side grants these). */
  private annotateReadScopes(): void {
    const scopes = pipelineReadScopes(this.current);
    if (scopes.length > 0) this.serviceAccount.metadata.addAnnotation(PIPELINE_READ_SCOPES_ANNOTATION, scopes.join(' '));
  }

  private renderSpec(): Record<string, unknown> {
    this.assertSteps();
    return workflowSpec(this.current, { serviceAccount: this.serviceAccountName, executorServiceAccount: this.executorServiceAccountName, images: { mlflow: this.mlflowImage } });
  }

  /**
   * A pipeline needs a step by synth time. Checked as a construct validation too, which cdk8s runs before
   * rendering and which lets this ValidationError escape as it is (an error thrown while rendering
   * reaches the caller wrapped in a plain Error).
   */
  private assertSteps(): void {
    if (this.current.steps.length === 0) {
      new Issues(`TrainingPipeline "${this.pipelineName}"`).add('steps', [], 'must have at least one step: give `steps` or call addStep()').throwIfAny();
    }
  }

  private rules(): Json<k8s.PolicyRule>[] {
    // Argo v3.4+ executor: reports outputs through WorkflowTaskResults (docs/workflow-rbac.md).
    const rules: Json<k8s.PolicyRule>[] = [{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }];
    // Resource steps: the executor creates the object, then polls it until the success or failure condition.
    const kinds: Record<string, [string, string]> = { job: ['batch', 'jobs'], jobset: ['jobset.x-k8s.io', 'jobsets'], pytorchjob: ['kubeflow.org', 'pytorchjobs'] };
    const used = new Set(this.current.steps.flatMap((s) => (s.distributed ? [s.distributed.backend] : [])));
    for (const b of ['job', 'jobset', 'pytorchjob']) {
      if (used.has(b as 'job')) rules.push({ apiGroups: [kinds[b][0]], resources: [kinds[b][1]], verbs: ['create', 'get'] });
    }
    return rules;
  }

  /** The ConfigMap of the step I/O programs (src/programs/step_io.py, step_node.sh), once a step needs it. */
  private addStepIoPrograms(steps = this.current.steps.length): void {
    if (this.node.tryFindChild('step-io-programs') || !usesStepIo(this.current, steps)) return;
    const spec = this.current;
    kube(this, 'step-io-programs', KUBE.ConfigMap, {
      metadata: { name: stepIoConfigMapName(spec), namespace: spec.namespace, labels: appLabels(spec.name, 'training-pipeline', this.context?.name ?? spec.name) },
      data: stepIoPrograms(),
    });
  }

  /** The headless Service of a multi-node step run as an Indexed Job: `<job>-<index>.<service>` DNS names. */
  private addRendezvousService(name: string): void {
    const s = this.current.steps.find((x) => x.name === name);
    if (!s?.distributed || s.distributed.backend !== 'job') return;
    const spec = this.current;
    kube(this, `rendezvous-${name}`, KUBE.Service, {
      metadata: { name: rendezvousServiceName(spec, s), namespace: spec.namespace, labels: appLabels(spec.name, 'training-pipeline', this.context?.name ?? spec.name) },
      spec: {
        clusterIP: 'None',
        // Peers must resolve the index-0 pod before it is Ready (it never becomes Ready: no probe).
        publishNotReadyAddresses: true,
        selector: stepLabels(spec, s),
        ports: [{ name: 'rendezvous', port: s.distributed.port, targetPort: s.distributed.port }],
      },
    });
  }
}

/** What step resolution reads of a platform that can still grow: its pools, tenants and add-ons (counted). */
function contextState(ctx: PlatformContext | undefined): string {
  return ctx ? `${ctx.pools.length}/${ctx.tenants.length}/${ctx.addons.size}` : '';
}

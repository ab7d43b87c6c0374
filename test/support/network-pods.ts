// The pods a set of synthesized objects will run, as the NetworkPolicy evaluator
// (./network-policy.ts) needs them: namespace, labels (the template's plus the ones the owning
// controller adds) and container ports. One entry per pod template, not per replica.
import { parseAllDocuments } from 'yaml';
import { K8sObject } from './synth';

/** A container port as the Pod API declares it (`protocol` defaults to TCP). */
export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

/** The protocols a NetworkPolicyPort can name. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One pod template found in the objects. */
export interface PodTemplate {
  /** `namespace/Kind/name[/template…]`, e.g. `vision/WorkflowTemplate/resnet/step-train`. */
  readonly id: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
  /** Only when given (see `ExtractOptions.podIps`): pods match `ipBlock` peers by this address. */
  readonly ip?: string;
}

/** Options of `extractPods`. */
export interface ExtractOptions {
  /**
   * The namespace the pods of a ClusterWorkflowTemplate run in (a Workflow in that namespace
   * references it). @default 'argo'
   */
  readonly clusterWorkflowTemplateNamespace?: string;
  /** The namespace of objects without `metadata.namespace`. @default 'default' */
  readonly defaultNamespace?: string;
}

interface Ctx {
  readonly namespace: string;
  readonly id: string;
  /** Labels a controller upstream of this object adds to every pod (Katib's trial labels). */
  readonly extraLabels: Record<string, string>;
}

/**
 * Every pod template of `objects`: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
 * CronJob, Argo Workflow / WorkflowTemplate / ClusterWorkflowTemplate / CronWorkflow (each
 * pod-creating template, and the object a `resource` template creates), Katib Experiment (its
 * trial), KServe InferenceService (its predictors).
 */
export function extractPods(objects: readonly K8sObject[], opts: ExtractOptions = {}): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    const namespace = o.kind === 'ClusterWorkflowTemplate'
      ? opts.clusterWorkflowTemplateNamespace ?? 'argo'
      : o.metadata?.namespace ?? opts.defaultNamespace ?? 'default';
    out.push(...podsOf(o, { namespace, id: `${namespace}/${o.kind}/${o.metadata?.name ?? o.metadata?.generateName}`, extraLabels: {} }));
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.id)) throw new Error(`two pod templates have the id ${p.id}`);
    seen.add(p.id);
  }
  return out;
}

/** The namespaces of `objects` with their labels, each with the automatic `kubernetes.io/metadata.name`. */
export function extractNamespaces(objects: readonly K8sObject[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const o of objects) {
    if (o.apiVersion !== 'v1' || o.kind !== 'Namespace') continue;
    // The API server sets this label on every namespace (NamespaceDefaultLabelName, Kubernetes ≥ 1.22).
    out.set(o.metadata.name!, { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name! });
  }
  return out;
}

function podsOf(o: any, ctx: Ctx): PodTemplate[] {
  const name: string = o.metadata?.name ?? o.metadata?.generateName ?? '';
  const meta = (template: any) => template?.metadata?.labels ?? {};
  const one = (template: any, controllerLabels: Record<string, string>) =>
    [pod(ctx.id, ctx.namespace, { ...meta(template), ...controllerLabels, ...ctx.extraLabels }, template?.spec)];
  switch (o.kind) {
    case 'Pod':
      return [pod(ctx.id, ctx.namespace, { ...(o.metadata?.labels ?? {}), ...ctx.extraLabels }, o.spec)];
    case 'Deployment':
    case 'ReplicaSet':
      // kubernetes pkg/controller/deployment/sync.go: the ReplicaSet's pods get `pod-template-hash`
      // (apps/v1 DefaultDeploymentUniqueLabelKey); its value is a hash, shown here as a stand-in.
      return one(o.spec?.template, o.kind === 'Deployment' ? { 'pod-template-hash': 'hash' } : {});
    case 'StatefulSet':
      // kubernetes pkg/controller/statefulset/stateful_set_utils.go updateIdentity: pod name and index.
      return one(o.spec?.template, { 'statefulset.kubernetes.io/pod-name': `${name}-0`, 'apps.kubernetes.io/pod-index': '0' });
    case 'DaemonSet':
      return one(o.spec?.template, {});
    case 'Job':
      return one(o.spec?.template, jobLabels(o.metadata, o.spec));
    case 'CronJob': {
      // The CronJob controller names each Job `<cronjob>-<scheduled minute>`: a stand-in value.
      const jobName = `${name}-29000000`;
      return one(o.spec?.jobTemplate?.spec?.template, jobLabels({ name: jobName }, o.spec?.jobTemplate?.spec));
    }
    case 'Workflow':
    case 'WorkflowTemplate':
    case 'ClusterWorkflowTemplate':
      return argoPods(o.spec ?? {}, ctx, o.kind === 'Workflow' ? name : `${name}-xxxxx`);
    case 'CronWorkflow':
      return argoPods(o.spec?.workflowSpec ?? {}, ctx, `${name}-29000000`);
    case 'Experiment':
      return o.apiVersion?.startsWith('kubeflow.org/') ? katibTrialPods(o, ctx) : [];
    case 'InferenceService':
      return o.apiVersion?.startsWith('serving.kserve.io/') ? kservePods(o, ctx) : [];
    default:
      return [];
  }
}

/**
 * The labels the Job API adds to its pod template (kubernetes pkg/registry/batch/job/strategy.go
 * generateSelector: `batch.kubernetes.io/job-name` and the legacy `job-name`; the controller-uid
 * labels carry a UID nobody can select on beforehand and are left out) and, for an Indexed Job,
 * pkg/controller/job/indexed_job_utils.go: `batch.kubernetes.io/job-completion-index` (index 0 here).
 */
function jobLabels(metadata: any, spec: any): Record<string, string> {
  const jobName = metadata?.name ?? `${metadata?.generateName ?? ''}xxxxx`;
  return {
    'batch.kubernetes.io/job-name': jobName,
    'job-name': jobName,
    ...(spec?.completionMode === 'Indexed' ? { 'batch.kubernetes.io/job-completion-index': '0' } : {}),
  };
}

/** The template kinds that run a pod (argo-workflows v4 workflow/controller/operator.go executeTemplate). */
const ARGO_POD_TEMPLATES = ['container', 'script', 'containerSet', 'resource', 'data'];

/**
 * Argo step pods. argo-workflows v4.0.7 workflow/controller/workflowpod.go createWorkflowPod: every
 * pod gets `workflows.argoproj.io/workflow: <workflow name>` and `workflows.argoproj.io/completed:
 * "false"`, `workflows.argoproj.io/on-exit: "true"` when it runs the exit handler; then addMetadata
 * copies `spec.podMetadata.labels` and the template's `metadata.labels` (in that order). A
 * WorkflowTemplate's or CronWorkflow's workflow name is generated: `workflowName` is a stand-in.
 * A `resource` template also yields the pods of the object its manifest creates.
 */
function argoPods(spec: any, ctx: Ctx, workflowName: string): PodTemplate[] {
  const out: PodTemplate[] = [];
  const onExit = new Set<string>([spec.onExit, spec.hooks?.exit?.template].filter((x) => typeof x === 'string'));
  for (const t of (spec.templates ?? []) as any[]) {
    if (!ARGO_POD_TEMPLATES.some((k) => t[k] !== undefined)) continue;
    const labels = {
      'workflows.argoproj.io/workflow': workflowName,
      'workflows.argoproj.io/completed': 'false',
      ...(onExit.has(t.name) ? { 'workflows.argoproj.io/on-exit': 'true' } : {}),
      ...(spec.podMetadata?.labels ?? {}),
      ...(t.metadata?.labels ?? {}),
      ...ctx.extraLabels,
    };
    const containers = [
      ...(t.container ? [t.container] : []),
      ...(t.script ? [t.script] : []),
      ...(t.containerSet?.containers ?? []),
      ...(t.sidecars ?? []),
    ];
    const id = `${ctx.id}/${t.name}`;
    out.push(pod(id, ctx.namespace, labels, { containers, initContainers: t.initContainers }));
    if (t.resource?.manifest !== undefined && ['create', 'apply', 'replace'].includes(t.resource.action)) {
      for (const doc of parseAllDocuments(String(t.resource.manifest))) {
        const created = doc.toJS();
        if (!created?.kind) continue;
        const ns = created.metadata?.namespace ?? ctx.namespace;
        out.push(...podsOf(created, { namespace: ns, id: `${id}/${created.kind}`, extraLabels: {} }));
      }
    }
  }
  return out;
}

/**
 * Katib trial pods: the pods of `spec.trialTemplate.trialSpec`, plus the trial's labels (katib
 * pkg/controller.v1beta1/util TrialLabels: the Experiment's labels and `katib.kubeflow.org/experiment`)
 * and the trial name (pkg/webhook/v1beta1/pod mutatePodMetadata, which copies the trial's labels
 * over the pod's, then adds `katib.kubeflow.org/trial`). That webhook only runs in namespaces
 * labelled `katib.kubeflow.org/metrics-collector-injection: enabled`; elsewhere the pods keep the
 * template's labels alone (and get no metrics collector).
 */
function katibTrialPods(o: any, ctx: Ctx): PodTemplate[] {
  const trialSpec = o.spec?.trialTemplate?.trialSpec;
  if (!trialSpec) return [];
  const name = o.metadata.name;
  const extraLabels = { ...(o.metadata.labels ?? {}), 'katib.kubeflow.org/experiment': name, 'katib.kubeflow.org/trial': `${name}-xxxxxxxx` };
  // The trial controller names the trial's object after the trial.
  const named = { ...trialSpec, metadata: { ...(trialSpec.metadata ?? {}), name: extraLabels['katib.kubeflow.org/trial'] } };
  return podsOf(named, { namespace: ctx.namespace, id: `${ctx.id}/trial`, extraLabels });
}

/**
 * KServe predictor pods (kserve pkg/controller/v1beta1/inferenceservice/components/predictor.go
 * buildObjectMeta): the InferenceService's labels, the predictor's `labels`, then
 * `serving.kserve.io/inferenceservice: <name>` and `component: predictor`; in Standard (raw) mode
 * the Deployment's pods also carry `app: isvc.<name>-predictor` (constants.RawDeploymentAppLabel,
 * GetRawServiceLabel) — left out for `spec.canary` predictors, whose Deployment name we do not know.
 */
function kservePods(o: any, ctx: Ctx): PodTemplate[] {
  const name = o.metadata.name;
  const base = { ...(o.metadata.labels ?? {}) };
  const kserve = { 'serving.kserve.io/inferenceservice': name, 'component': 'predictor' };
  const raw = ['Standard', 'RawDeployment'].includes(o.metadata.annotations?.['serving.kserve.io/deploymentMode']);
  const out: PodTemplate[] = [];
  const predictor = o.spec?.predictor;
  if (predictor) {
    const labels = { ...base, ...(predictor.labels ?? {}), ...kserve, ...(raw ? { app: `isvc.${name}-predictor` } : {}) };
    out.push(pod(`${ctx.id}/predictor`, ctx.namespace, labels, predictor));
  }
  for (const c of (o.spec?.canary ?? []) as any[]) {
    const p = c.predictor ?? {};
    out.push(pod(`${ctx.id}/canary-${p.name}`, ctx.namespace, { ...base, ...(p.labels ?? {}), ...kserve }, p));
  }
  return out;
}

function pod(id: string, namespace: string, labels: Record<string, string>, spec: any): PodTemplate {
  // Sidecar init containers (restartPolicy: Always) keep running and may listen.
  const containers = [...(spec?.containers ?? []), ...((spec?.initContainers ?? []) as any[]).filter((c) => c.restartPolicy === 'Always')];
  const ports: ContainerPort[] = containers.flatMap((c: any) => ((c.ports ?? []) as any[]).map((p) => ({
    ...(p.name !== undefined ? { name: p.name } : {}),
    containerPort: p.containerPort,
    protocol: (p.protocol ?? 'TCP') as Protocol,
  })));
  return { id, namespace, labels, ports };
}

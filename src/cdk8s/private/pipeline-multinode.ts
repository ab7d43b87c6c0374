import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { stepLabels, stepPod } from './pipeline-pod';
import { childName } from '../../core/names';
import { PipelineSpec, PipelineStepSpec, rewriteReferences } from '../../core/pipeline';
import { storePushes } from '../../core/pipeline/io';
import { YamlVerbatim } from '../../core/yaml-text';

/** What an Argo resource template creates for a multi-node step, and how it tells the outcome. */
export interface MultiNodeResource {
  /** The object to create (`metadata.generateName`: one per run and attempt). */
  readonly manifest: Record<string, unknown>;
  /** Argo `successCondition` (a label-selector expression over the object's JSON). */
  readonly successCondition: string;
  /** Argo `failureCondition`. */
  readonly failureCondition: string;
}

/** Seconds a finished Job/JobSet/PyTorchJob is kept (the Workflow owns it too, so deleting the run deletes it). */
const FINISHED_TTL = 86400;

/** Name of the headless Service giving a multi-node step's pods stable DNS names (Indexed Job backend). */
export function rendezvousServiceName(p: PipelineSpec, s: { name: string }): string {
  return childName(p.name, s.name);
}

/**
 * The torchrun launch of a multi-node step: static rendezvous on the index-0 pod, `--node_rank`
 * from the completion index. Flags use `$(VAR)`, which Kubernetes expands from the container's env.
 */
export function torchrunArgs(s: PipelineStepSpec, withRendezvous: boolean): string[] {
  const gpus = s.compute.gpu?.count ?? 1;
  const launch = withRendezvous
    ? [`--nnodes=${s.nodes}`, `--nproc_per_node=${gpus}`, '--node_rank=$(JOB_COMPLETION_INDEX)', '--master_addr=$(MASTER_ADDR)', '--master_port=$(MASTER_PORT)']
    : [];
  return [...launch, ...(s.command ?? []).map(rewriteReferences), ...(s.args ?? []).map(rewriteReferences)];
}

/** Fields of the pod's values that are maps, whose entries keep their own order. */
const MAP_FIELDS = new Set(['requests', 'limits', 'labels', 'annotations', 'matchLabels', 'volumeAttributes', 'options']);

/**
 * A pod value (container, volume, security context, toleration) with its fields in the order of
 * the Kubernetes API schema — alphabetical — and no undefined ones, as the YAML manifest lists them
 * (the manifest is a string: nothing sorts it later). Maps keep their entries' order.
 */
function schemaOrder<T>(value: T): T {
  const order = (v: unknown, map: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => order(x, false));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of map ? Object.keys(o) : Object.keys(o).sort()) {
      if (o[k] !== undefined) out[k] = map ? o[k] : order(o[k], MAP_FIELDS.has(k));
    }
    return out;
  };
  return order(value, false) as T;
}

/**
 * Argo variables kept as they are in the manifest text: their values are names, numbers or
 * timestamps that Kubernetes or Argo restrict to characters that are plain in YAML and inert for
 * `$(VAR)` expansion (the Workflow's name, namespace, uid and service account are validated object
 * names; label values are `[-A-Za-z0-9_.]`; a pod name is a DNS name; `retries` is a number).
 */
const INERT_TAG = /^\{\{\s*(workflow\.(name|namespace|uid|serviceAccountName|status|duration|priority|mainEntrypoint|scheduledTime|creationTimestamp(\.[A-Za-z]+)?|labels\.[-A-Za-z0-9_./]+)|pod\.name|retries)\s*\}\}$/;
const TAG = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** Prefix of the env vars that carry a multi-node step's run-time values into its containers. */
export const VALUE_ENV_PREFIX = 'MLPLATFORM_VALUE_';

/**
 * The Argo expression giving the value of `tag` (a template input or the user's own `{{=…}}`
 * expression); undefined for an inert variable. Other run variables (`{{node.name}}`,
 * `{{workflow.annotations.*}}`) are refused for multi-node steps by the step's validation.
 */
export function valueExpression(tag: string): string | undefined {
  if (INERT_TAG.test(tag)) return undefined;
  const inner = tag.slice(2, -2).trim();
  const input = /^inputs\.parameters\.([-A-Za-z0-9_]+)$/.exec(inner);
  if (input) return `inputs.parameters['${input[1]}']`;
  if (inner.startsWith('=')) return `(${inner.slice(1).trim()})`;
  throw new Error(`mlplatform: ${tag} cannot be passed into a multi-node step's manifest`);
}

/**
 * A container of the manifest with every run-time value moved out of its command, args and env
 * text into env vars of its own, set first: Argo pastes a value into the manifest *text* (its
 * substitution runs over the template's JSON and unescapes nothing at the manifest's level:
 * util/template/simple_template.go), so each one goes in as the result of
 * `{{=toJson(sprig.replace('$', '$$', string(EXPR)))}}` — a JSON (hence YAML double-quoted) string
 * that no value can leave (U+0085 escaped too: `json.Marshal` leaves it raw, and YAML 1.1, which
 * sigs.k8s.io/yaml reads, folds it as a line break), with `$` doubled so that Kubernetes' `$(VAR)` expansion gives the value
 * back exactly (third_party/forked/golang/expansion/expand.go). The command, args and env then read
 * it as `$(MLPLATFORM_VALUE_<n>)`, which Kubernetes expands without expanding the value again. The
 * user's own `$(VAR)` references keep working; a lone `$` written just before a value stays a `$`.
 */
export function valuesAsEnv<C extends { command?: string[]; args?: string[]; env?: unknown[] }>(c: C): C {
  const names = new Map<string, string>();
  const move = (text: string): string => {
    if (!text.includes('{{')) return text;
    let out = '';
    let last = 0;
    for (const m of text.matchAll(TAG)) {
      const expr = valueExpression(m[0]);
      if (expr === undefined) continue;
      let before = text.slice(last, m.index);
      if (/\$*$/.exec(before)![0].length % 2 === 1) before += '$';
      if (!names.has(expr)) names.set(expr, `${VALUE_ENV_PREFIX}${names.size}`);
      out += `${before}$(${names.get(expr)})`;
      last = m.index! + m[0].length;
    }
    return out + text.slice(last);
  };
  const env = (c.env ?? []) as { name: string; value?: string }[];
  const moved = Object.assign({}, c,
    c.command ? { command: c.command.map(move) } : {},
    c.args ? { args: c.args.map(move) } : {},
    c.env ? { env: env.map((e) => (e.value === undefined ? e : Object.assign({}, e, { value: move(e.value) }))) } : {});
  if (names.size === 0) return c;
  const values = [...names].map(([expr, name]) => ({ name, value: new YamlVerbatim(`{{=sprig.replace('\\u0085', '\\\\u0085', toJson(sprig.replace('$', '$$', string(${expr}))))}}`) }));
  return Object.assign(moved, { env: [...values, ...(moved.env ?? [])] });
}

/** The env that identifies a node and finds the rendezvous: index, job name, index-0 address, port. */
function rendezvousEnv(port: number, masterAddr: string, nameLabel: string): Json<k8s.EnvVar>[] {
  return [
    { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    { name: 'JOB_NAME', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${nameLabel}']` } } },
    { name: 'MASTER_ADDR', value: masterAddr },
    { name: 'MASTER_PORT', value: String(port) },
  ];
}

/** The multi-node object of step `s` for its backend. */
export function multiNodeResource(p: PipelineSpec, s: PipelineStepSpec, serviceAccount: string, ioImage: string): MultiNodeResource {
  // Outputs are uploaded from the node of completion index 0 (whose rank-0 process writes them), to the keys a single-node step's outputs get.
  const transfers = storePushes(p, s);
  const d = s.distributed!;
  const labels = stepLabels(p, s);
  const meta = {
    generateName: `${childName(p.name, s.name, 45)}-`,
    namespace: p.namespace,
    labels: Object.assign({}, labels, {
      'workflows.argoproj.io/workflow': '{{workflow.name}}',
      ...(p.queueName ? { 'kueue.x-k8s.io/queue-name': p.queueName } : {}),
    }),
  };
  const ports = [{ name: 'rendezvous', containerPort: d.port }];
  const podSpec = (pod: ReturnType<typeof stepPod>, restartPolicy: string, extra: Record<string, unknown> = {}) => (Object.assign({}, extra, {
    serviceAccountName: serviceAccount,
    automountServiceAccountToken: false,
    restartPolicy,
    securityContext: schemaOrder(pod.securityContext),
    ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    ...(pod.tolerations ? { tolerations: schemaOrder(pod.tolerations) } : {}),
    ...(pod.initContainers.length ? { initContainers: schemaOrder(pod.initContainers).map(valuesAsEnv) } : {}),
    containers: [schemaOrder(pod.container), ...schemaOrder(pod.sidecars)].map(valuesAsEnv),
    volumes: schemaOrder(pod.volumes),
  }));
  const indexedJob = (pod: ReturnType<typeof stepPod>, extra: Record<string, unknown>, backoffLimit: number) => ({
    completionMode: 'Indexed',
    completions: s.nodes,
    parallelism: s.nodes,
    backoffLimit,
    // Pods lost to preemption or a node drain do not use up the restart budget.
    podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    ...(s.timeoutSeconds ? { activeDeadlineSeconds: s.timeoutSeconds } : {}),
    template: { metadata: { labels }, spec: podSpec(pod, 'Never', extra) },
  });

  if (d.backend === 'job') {
    const service = rendezvousServiceName(p, s);
    const pod = stepPod(p, s, {
      name: 'node',
      command: ['torchrun'],
      args: torchrunArgs(s, true),
      rewrite: true,
      ports,
      extraEnv: rendezvousEnv(d.port, `$(JOB_NAME)-0.${service}`, 'batch.kubernetes.io/job-name'),
      ioImage,
      pushes: { transfers, index: '$(JOB_COMPLETION_INDEX)' },
    });
    return {
      manifest: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: meta,
        spec: Object.assign({}, p.queueName ? { suspend: true } : {}, {
          ttlSecondsAfterFinished: FINISHED_TTL,
          // Every restart of the group fails up to `nodes` pods: the budget counts whole-group restarts.
          ...indexedJob(pod, { subdomain: service }, d.restarts * s.nodes),
        }),
      },
      successCondition: `status.succeeded > ${s.nodes - 1}`,
      failureCondition: `status.failed > ${d.restarts * s.nodes}`,
    };
  }
  if (d.backend === 'jobset') {
    // JobSet names pods <jobset>-<replicatedJob>-<jobIndex>-<podIndex> under subdomain <jobset>.
    const pod = stepPod(p, s, {
      name: 'node',
      command: ['torchrun'],
      args: torchrunArgs(s, true),
      rewrite: true,
      ports,
      extraEnv: rendezvousEnv(d.port, '$(JOB_NAME)-node-0-0.$(JOB_NAME)', 'jobset.sigs.k8s.io/jobset-name'),
      ioImage,
      pushes: { transfers, index: '$(JOB_COMPLETION_INDEX)' },
    });
    return {
      manifest: {
        apiVersion: 'jobset.x-k8s.io/v1alpha2',
        kind: 'JobSet',
        metadata: meta,
        spec: Object.assign({}, p.queueName ? { suspend: true } : {}, {
          ttlSecondsAfterFinished: FINISHED_TTL,
          network: { enableDNSHostnames: true, publishNotReadyAddresses: true },
          failurePolicy: { maxRestarts: d.restarts },
          successPolicy: { operator: 'All' },
          replicatedJobs: [{ name: 'node', replicas: 1, template: { spec: indexedJob(pod, {}, 0) } }],
        }),
      },
      successCondition: 'status.terminalState == Completed',
      failureCondition: 'status.terminalState == Failed',
    };
  }
  // PyTorchJob: the Training Operator injects PET_NNODES, PET_NPROC_PER_NODE, PET_NODE_RANK,
  // PET_MASTER_ADDR and PET_MASTER_PORT, which torchrun reads as its defaults.
  // The Master replica is rank 0: it alone uploads the outputs.
  const pytorch = (master: boolean) => stepPod(p, s, {
    name: 'pytorch',
    command: ['torchrun'],
    args: torchrunArgs(s, false),
    rewrite: true,
    ports: [{ name: 'pytorchjob-port', containerPort: d.port }],
    ioImage,
    ...(master ? { pushes: { transfers, index: '0' } } : {}),
  });
  const replica = (replicas: number, master: boolean) => ({ replicas, restartPolicy: 'Never', template: { metadata: { labels }, spec: podSpec(pytorch(master), 'Never') } });
  return {
    manifest: {
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: meta,
      spec: {
        nprocPerNode: String(s.compute.gpu?.count ?? 1),
        runPolicy: {
          backoffLimit: d.restarts,
          cleanPodPolicy: 'Running',
          ttlSecondsAfterFinished: FINISHED_TTL,
          ...(s.timeoutSeconds ? { activeDeadlineSeconds: s.timeoutSeconds } : {}),
          ...(p.queueName ? { suspend: true } : {}),
        },
        pytorchReplicaSpecs: { Master: replica(1, true), Worker: replica(s.nodes - 1, false) },
      },
    },
    successCondition: 'status.replicaStatuses.Master.succeeded > 0',
    failureCondition: 'status.replicaStatuses.Master.failed > 0',
  };
}

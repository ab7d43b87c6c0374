import { ApiObject, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { TrainingPipeline } from '../../src/cdk8s/training-pipeline';
import { DistributedOptions, StepOptions } from '../../src/core/pipeline';
import { Cpu, Duration, Size } from '../../src/core/quantities';
import { argoSubstitute, resolveContainer } from '../support/argo-manifest';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject } from '../support/synth';

const IMAGE = 'ghcr.io/acme/train:1.0.0';

/** A pipeline with one 2-node H100 step on the example platform, in `namespace`. */
function build(distributed: DistributedOptions, namespace = 'vision', extra: Partial<StepOptions> = {}) {
  const { chart, platform } = buildPlatform(Testing.app());
  const p = new TrainingPipeline(chart, 'llm', { platform, namespace, parameters: { steps: { default: '1000' } } });
  p.addStep('finetune', {
    image: IMAGE,
    command: ['-m', 'llm.finetune'],
    args: ['--steps', p.parameter('steps')],
    nodes: 2,
    gpus: 8,
    accelerator: 'nvidia-h100-80gb',
    cpu: Cpu.cores(16),
    memory: Size.gibibytes(128),
    sharedMemory: Size.gibibytes(32),
    timeout: Duration.hours(4),
    retry: { limit: 1 },
    distributed,
    ...extra,
  });
  const objects = p.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson() as K8sObject);
  const t = find(objects, 'WorkflowTemplate', 'llm').spec.templates.find((x: any) => x.name === 'step-finetune');
  return { objects, t, manifest: created(t.resource.manifest) };
}

/** The object Argo creates: the manifest with the template's inputs and run variables substituted, named as generateName would. */
function created(manifest: string): any {
  const text = argoSubstitute(manifest, { 'inputs.parameters.steps': '1000', 'workflow.name': 'llm-abc12', 'workflow.uid': '7f3e0c8a-2b1d-4e5f-9a6b-0c1d2e3f4a5b' });
  expect(text).not.toMatch(/\{\{/);
  const o = parse(text);
  return { ...o, metadata: { ...o.metadata, name: `${o.metadata.generateName}x7k2q` } };
}

describe('multi-node step as an Indexed Job + headless Service (default)', () => {
  const { objects, t, manifest } = build({ restarts: 2 });
  const pod = manifest.spec.template.spec;
  const [c] = pod.containers;

  test('the Job and everything else validate strictly, PSS restricted', () => {
    expectValidManifests([...objects, manifest]);
  });

  test('Argo creates it as a resource step, owned by the run, and waits for every index to succeed', () => {
    expect(t.resource).toMatchObject({ action: 'create', setOwnerReference: true, successCondition: 'status.succeeded > 1', failureCondition: 'status.failed > 4' });
    expect(t).toMatchObject({ activeDeadlineSeconds: 14400, retryStrategy: { limit: 1, retryPolicy: 'Always' }, inputs: { parameters: [{ name: 'steps' }] } });
    expect(find(objects, 'Role', 'llm-executor').rules).toEqual([
      { apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get'] },
    ]);
  });

  test('Indexed Job: one pod per node, restart budget, disruptions not counted, admitted all at once by Kueue', () => {
    expect(manifest.metadata).toMatchObject({ generateName: 'llm-finetune-', namespace: 'vision', labels: { 'kueue.x-k8s.io/queue-name': 'vision', 'workflows.argoproj.io/workflow': 'llm-abc12' } });
    expect(manifest.spec).toMatchObject({
      suspend: true,
      completionMode: 'Indexed',
      completions: 2,
      parallelism: 2,
      backoffLimit: 4,
      activeDeadlineSeconds: 14400,
      ttlSecondsAfterFinished: 86400,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    });
    expect(pod).toMatchObject({ restartPolicy: 'Never', subdomain: 'llm-finetune', automountServiceAccountToken: false, serviceAccountName: 'llm-workflow' });
  });

  test('torchrun: --nnodes, --nproc_per_node from the GPUs, --node_rank from the completion index, rendezvous on index 0', () => {
    expect(c.command).toEqual(['torchrun']);
    expect(c.args).toEqual(['--nnodes=2', '--nproc_per_node=8', '--node_rank=$(JOB_COMPLETION_INDEX)', '--master_addr=$(MASTER_ADDR)', '--master_port=$(MASTER_PORT)', '-m', 'llm.finetune', '--steps', '$(MLPLATFORM_VALUE_0)']);
    // The run-time value is data: an env var of its own (set first), which the args read by `$(…)`.
    expect(c.env[0]).toEqual({ name: 'MLPLATFORM_VALUE_0', value: '1000' });
    expect(resolveContainer(c, { JOB_COMPLETION_INDEX: '1', JOB_NAME: 'llm-finetune-x7k2q' }).argv.slice(-3)).toEqual(['llm.finetune', '--steps', '1000']);
    expect(c.env.slice(1, 5)).toEqual([
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      { name: 'JOB_NAME', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
      { name: 'MASTER_ADDR', value: '$(JOB_NAME)-0.llm-finetune' },
      { name: 'MASTER_PORT', value: '29500' },
    ]);
    expect(c.ports).toEqual([{ name: 'rendezvous', containerPort: 29500 }]);
  });

  test('each node gets the pool\'s GPUs, placement and shared memory', () => {
    expect(c.resources.limits['nvidia.com/gpu']).toBe('8');
    expect(pod.nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-h100-80gb', 'mlplatform.io/gpu-pool': 'h100' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '32Gi' } });
  });

  test('the headless Service publishes not-ready pods under stable names', () => {
    expect(find(objects, 'Service', 'llm-finetune').spec).toEqual({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'mlplatform.io/pipeline': 'llm', 'mlplatform.io/step': 'finetune' },
      ports: [{ name: 'rendezvous', port: 29500, targetPort: 29500 }],
    });
  });

  test('without a Kueue queue on the tenant, the Job is not suspended', () => {
    const { manifest: m } = build({}, 'nlp', { accelerator: 'nvidia-l4', gpus: 1, pool: 'l4-shared', memory: Size.gibibytes(8), sharedMemory: Size.gibibytes(1) });
    expect(m.spec.suspend).toBeUndefined();
    expect(m.metadata.labels['kueue.x-k8s.io/queue-name']).toBeUndefined();
    expect(m.spec.backoffLimit).toBe(2);
  });
});

describe('multi-node step as a JobSet', () => {
  const { objects, t, manifest } = build({ backend: 'jobset', restarts: 3, port: 23456 });

  test('validates against the JobSet CRD, PSS restricted', () => {
    expectValidManifests([...objects, manifest]);
  });

  test('one replicated Indexed Job, DNS hostnames, the restart budget as maxRestarts, terminal state as outcome', () => {
    expect(manifest.apiVersion).toBe('jobset.x-k8s.io/v1alpha2');
    expect(manifest.spec).toMatchObject({ suspend: true, network: { enableDNSHostnames: true, publishNotReadyAddresses: true }, failurePolicy: { maxRestarts: 3 }, successPolicy: { operator: 'All' } });
    expect(manifest.spec.replicatedJobs[0]).toMatchObject({ name: 'node', replicas: 1, template: { spec: { completionMode: 'Indexed', completions: 2, backoffLimit: 0 } } });
    const c = manifest.spec.replicatedJobs[0].template.spec.template.spec.containers[0];
    expect(c.env[3]).toEqual({ name: 'MASTER_ADDR', value: '$(JOB_NAME)-node-0-0.$(JOB_NAME)' });
    expect(c.env[2].valueFrom.fieldRef.fieldPath).toBe("metadata.labels['jobset.sigs.k8s.io/jobset-name']");
    expect(t.resource).toMatchObject({ successCondition: 'status.terminalState == Completed', failureCondition: 'status.terminalState == Failed' });
    expect(find(objects, 'Role', 'llm-executor').rules[1]).toEqual({ apiGroups: ['jobset.x-k8s.io'], resources: ['jobsets'], verbs: ['create', 'get'] });
    expect(objects.some((o) => o.kind === 'Service')).toBe(false);
  });
});

describe('multi-node step as a Kubeflow PyTorchJob', () => {
  const { objects, t, manifest } = build({ backend: 'pytorchjob' });

  test('validates against the PyTorchJob CRD, PSS restricted', () => {
    expectValidManifests([...objects, manifest]);
  });

  test('Master + Workers, torchrun configured by the operator\'s PET_* env', () => {
    expect(manifest.spec).toMatchObject({ nprocPerNode: '8', runPolicy: { backoffLimit: 1, suspend: true, activeDeadlineSeconds: 14400 } });
    expect(manifest.spec.pytorchReplicaSpecs.Master.replicas).toBe(1);
    expect(manifest.spec.pytorchReplicaSpecs.Worker.replicas).toBe(1);
    const c = manifest.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0];
    expect([c.name, c.command, c.args]).toEqual(['pytorch', ['torchrun'], ['-m', 'llm.finetune', '--steps', '$(MLPLATFORM_VALUE_0)']]);
    expect(resolveContainer(c).argv).toEqual(['torchrun', '-m', 'llm.finetune', '--steps', '1000']);
    expect(t.resource.successCondition).toBe('status.replicaStatuses.Master.succeeded > 0');
  });
});

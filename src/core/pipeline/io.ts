import { joinKey } from './dataset';
import type { PipelineSpec, PipelineStepSpec } from './pipeline';
import type { StepSpec } from './step';

/*
 * The store I/O mlplatform runs itself (src/programs/step_io.py) rather than through Argo's S3
 * artifact driver, on a platform:
 *
 * - bucket datasets (`Dataset.fromBucket`) and the outputs of earlier steps, into every step. Argo's
 *   driver loads a key by first getting that very key and lists it as a directory only when the store
 *   answers NoSuchKey (argo-workflows v4.0.7 workflow/artifacts/s3/s3.go `loadS3Artifact`). A dataset
 *   is a prefix and a directory output (`archive: none`) a set of keys under `key/`: the key itself
 *   never exists, and S3 answers NoSuchKey for a missing key only to a caller allowed to list the
 *   bucket (S3 API reference, GetObject/HeadObject "Permissions"), which the step's prefix-scoped role
 *   is not for a GET (the request carries no `s3:prefix`): AccessDenied, the step fails. No
 *   `s3:prefix` condition can fix that short of a bucket-wide ListBucket. step_io.py lists `key/` and
 *   gets what it listed (else the object `key`: a file output), calls the role allows.
 * - the outputs of multi-node steps, whose pods are an Indexed Job (or JobSet, PyTorchJob) that Argo
 *   creates but does not run its executor in: a container beside the node uploads the outputs of
 *   node 0 to the keys a single-node step's outputs get, once the node's command succeeded.
 *
 * Argo still saves a single-node step's outputs (PutDirectory/PutFile: PutObject only). Where such an
 * output is read, the key comes from the producing node's outputs (an output parameter whose `value`
 * is the key, {@link outputKeyParameter}), not from `{{workflow.name}}`: on a cache hit (`memoize`)
 * Argo gives the node the outputs of the run that made them, so the key names that run — as Argo's
 * `from:` would have. A multi-node producer cannot be cached (core/pipeline/step.ts), so its
 * outputs always lie under this run.
 */

/** Requests and limits of the step I/O containers (the synth-time checks count them). */
export const STEP_IO_RESOURCES = { cpu: '100m', cpuLimit: '1', memory: '256Mi', memoryLimit: '512Mi', ephemeralStorage: '256Mi' } as const;

/** Where the step I/O programs are mounted. */
export const STEP_IO_PROGRAMS_DIR = '/opt/mlplatform';
/** Where the node wrapper and the outputs container meet (an emptyDir). */
export const STEP_IO_DIR = '/mnt/io';
/** The FIFO carrying the node command's exit status. */
export const NODE_EXIT_FIFO = `${STEP_IO_DIR}/node-exit`;

/** Where a step finds its inputs. */
export const INPUTS_DIR = '/mnt/inputs';
/** Where a step writes its outputs (`$MLPLATFORM_OUTPUTS/<name>`). */
export const OUTPUTS_DIR = '/mnt/outputs';

/** The object-store key (relative to the bucket) of output `name` of step `s` in the current run. */
export function stepOutputKey(p: PipelineSpec, s: StepSpec, name: string): string {
  return joinKey(p.artifactPrefix, '{{workflow.name}}', s.name, s.forEach ? '{{pod.name}}' : '', name);
}

/** One transfer between a local path of the pod and an `s3://` URI (a trailing `/`: a prefix). */
export interface StoreTransfer {
  readonly local: string;
  readonly uri: string;
}

/** Whether an artifact input of step `s` from `producer` is pulled by step_io.py (not passed by Argo): on a platform, or into or out of a multi-node step. */
function pulledArtifact(p: PipelineSpec, s: StepSpec, producer: string): boolean {
  return p.platform?.store !== undefined || s.nodes > 1 || (p.steps.find((x) => x.name === producer)?.nodes ?? 1) > 1;
}

/**
 * Whether step `s` reads the key of its artifact input from `producer` from that node's outputs
 * ({@link outputKeyParameter}) rather than computing this run's key: both single-node, on a platform.
 */
function keyFromProducer(p: PipelineSpec, s: StepSpec, producer: string): boolean {
  return p.platform?.store !== undefined && s.nodes === 1 && (p.steps.find((x) => x.name === producer)?.nodes ?? 1) === 1;
}

/**
 * Name of the output parameter of a single-node step on a platform whose `value` is the key of its
 * output `output` (`mlplatform-key-<output>`; outputs are identifiers, so it never collides with the
 * step's own output parameters). The executor reports a `value` as it is (workflow/executor/executor.go
 * `SaveParameters` reads only `valueFrom.path`): the step's code cannot change it.
 */
export function outputKeyParameter(output: string): string {
  return `mlplatform-key-${output}`;
}

/** Name of the step-template input that carries the key of artifact input `input` (`mlplatform-artifact-<input>`). */
export function artifactKeyInput(input: string): string {
  return `mlplatform-artifact-${input}`;
}

/** The output parameters carrying the keys of a single-node step's outputs, on a platform (see {@link outputKeyParameter}). */
export function outputKeyParameters(p: PipelineSpec, s: StepSpec): { name: string; value: string }[] {
  if (!p.platform?.store || s.nodes > 1) return [];
  return s.outputs.map((name) => ({ name: outputKeyParameter(name), value: stepOutputKey(p, s, name) }));
}

/** The template inputs (and the DAG task's arguments for them) carrying the keys of the artifact inputs step `s` reads from its producers' outputs. */
export function artifactKeyArguments(p: PipelineSpec, s: StepSpec): { name: string; value: string }[] {
  return s.inputs.flatMap((i) => (i.kind === 'artifact' && keyFromProducer(p, s, i.step)
    ? [{ name: artifactKeyInput(i.name), value: `{{tasks.${i.step}.outputs.parameters.${outputKeyParameter(i.output)}}}` }]
    : []));
}

/**
 * What the step's I/O init container pulls: with a platform, its bucket datasets and the outputs of
 * earlier steps (at the key the producing node reported, or — from a multi-node producer or into a
 * multi-node step — at this run's key). Empty without a platform (Argo's default artifact repository
 * then serves bucket datasets and passes artifacts).
 */
export function storePulls(p: PipelineSpec, s: StepSpec): StoreTransfer[] {
  const store = p.platform?.store;
  if (!store) return [];
  const out: StoreTransfer[] = [];
  for (const i of s.inputs) {
    const local = `${INPUTS_DIR}/${i.name}`;
    if (i.kind === 'dataset' && i.dataset.kind === 'bucket') out.push({ local, uri: `s3://${store.bucket}/${i.dataset.key}/` });
    if (i.kind === 'artifact' && pulledArtifact(p, s, i.step)) {
      const producer = p.steps.find((x) => x.name === i.step)!;
      const key = keyFromProducer(p, s, i.step) ? `{{inputs.parameters.${artifactKeyInput(i.name)}}}` : stepOutputKey(p, producer, i.output);
      out.push({ local, uri: `s3://${store.bucket}/${key}` });
    }
  }
  return out;
}

/** Whether Argo passes artifact input `i` of `s` (`from: {{tasks.…}}`): without a platform, both steps single-node. */
export function argoPassesArtifact(p: PipelineSpec, s: StepSpec, producer: string): boolean {
  return !pulledArtifact(p, s, producer);
}

/** What a multi-node step's outputs container uploads (node 0, after the command succeeded). */
export function storePushes(p: PipelineSpec, s: PipelineStepSpec): StoreTransfer[] {
  const store = p.platform?.store;
  if (!store || s.nodes < 2) return [];
  return s.outputs.map((name) => ({ local: `${OUTPUTS_DIR}/${name}`, uri: `s3://${store.bucket}/${stepOutputKey(p, s, name)}` }));
}

import { joinKey } from './dataset';
import type { PipelineSpec, PipelineStepSpec } from './pipeline';
import type { StepSpec } from './step';

/*
 * The store I/O mlplatform runs itself (src/programs/step_io.py) rather than through Argo's S3
 * artifact driver:
 *
 * - bucket datasets (`Dataset.fromBucket`) of every step on a platform. Argo's driver loads a key by
 *   first getting that very key and lists it as a directory only when the store answers NoSuchKey
 *   (argo-workflows v4.0.7 workflow/artifacts/s3/s3.go `loadS3Artifact`). A dataset is a prefix, so
 *   that key never exists, and S3 answers NoSuchKey for a missing key only to a caller allowed to
 *   list the bucket (S3 API reference, GetObject/HeadObject "Permissions"), which the step's
 *   prefix-scoped role is not for a GET (the request carries no `s3:prefix`): AccessDenied, the
 *   step fails. step_io.py lists the prefix and gets what it listed, calls the role allows.
 * - the inputs and outputs of multi-node steps, whose pods are an Indexed Job (or JobSet,
 *   PyTorchJob) that Argo creates but does not run its executor in: an init container pulls the
 *   inputs, and a container beside the node uploads the outputs of node 0 to the keys a single-node
 *   step's outputs get, once the node's command succeeded.
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

/** Whether the artifact input `i` of step `s` is pulled by step_io.py (not passed by Argo). */
function pulledArtifact(p: PipelineSpec, s: StepSpec, producer: string): boolean {
  return s.nodes > 1 || (p.steps.find((x) => x.name === producer)?.nodes ?? 1) > 1;
}

/**
 * What the step's I/O init container pulls: with a platform, its bucket datasets, and the artifacts
 * of earlier steps that Argo cannot pass (into or out of a multi-node step). Empty without a platform
 * (Argo's default artifact repository then serves bucket datasets).
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
      out.push({ local, uri: `s3://${store.bucket}/${stepOutputKey(p, producer, i.output)}` });
    }
  }
  return out;
}

/** Whether Argo passes artifact input `i` of `s` (`from: {{tasks.…}}`): both steps single-node. */
export function argoPassesArtifact(p: PipelineSpec, s: StepSpec, producer: string): boolean {
  return !pulledArtifact(p, s, producer);
}

/** What a multi-node step's outputs container uploads (node 0, after the command succeeded). */
export function storePushes(p: PipelineSpec, s: PipelineStepSpec): StoreTransfer[] {
  const store = p.platform?.store;
  if (!store || s.nodes < 2) return [];
  return s.outputs.map((name) => ({ local: `${OUTPUTS_DIR}/${name}`, uri: `s3://${store.bucket}/${stepOutputKey(p, s, name)}` }));
}

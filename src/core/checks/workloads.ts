import { ModelEndpointSpec } from '../endpoint/endpoint';
import { MODEL_FETCH_RESOURCES } from '../endpoint/fetch';
import { PAYLOAD_LOGGER_RESOURCES } from '../endpoint/logging';
import { STEP_IO_RESOURCES, storePulls, storePushes } from '../pipeline/io';
import { PipelineSpec } from '../pipeline/pipeline';
import { Cpu, Size } from '../quantities';
import { ComputeSpec } from '../workload';
import { GpuDemand, StoreAccess, WorkloadDataAccess, WorkloadDemand, workloadLabel } from './types';

const larger = <T extends { compareTo(o: T): number }>(a: T, b: T): T => (a.compareTo(b) >= 0 ? a : b);

/** Requests of the fetch init container of an endpoint version (it runs before the server, so the pod requests the larger of the two). */
export const ENDPOINT_FETCH_REQUESTS = { cpu: Cpu.parse(MODEL_FETCH_RESOURCES.cpu), memory: Size.parse(MODEL_FETCH_RESOURCES.memory) } as const;

/**
 * A pod's request of one resource as the scheduler computes it (k8s.io/component-helpers `resource.PodRequests`,
 * without restartable init containers, which mlplatform does not render): the sum of the containers'
 * requests, or the largest init container's request when that is larger (init containers run one at a time).
 */
export function podRequest(containers: readonly Size[], initContainers: readonly Size[] = []): Size {
  const sum = containers.reduce((a, b) => a.plus(b), Size.bytes(0));
  return initContainers.reduce((m, c) => larger(m, c), sum);
}

/** The GPU part of a demand, from a validated compute spec. */
export function gpuDemand(compute: ComputeSpec): GpuDemand | undefined {
  const g = compute.gpu;
  if (!g) return undefined;
  return {
    pool: g.pool?.pool ?? '',
    accelerator: g.pool?.accelerator ?? g.nodeSelector['mlplatform.io/accelerator'] ?? '',
    count: g.count,
    resourceName: g.resourceName,
    tolerations: g.tolerations,
  };
}

/**
 * One demand per step: one pod, `nodes` pods at once for a multi-node step (a gang), one pod per
 * item of a fan-out over a literal list (up to the pipeline's `parallelism`; a fan-out over a step
 * output counts `parallelism` pods, or 1 when unbounded, since its size is known only at run time).
 */
export function pipelineDemands(spec: PipelineSpec): WorkloadDemand[] {
  return spec.steps.map((s) => {
    let pods = s.nodes;
    if (s.forEach) {
      const items = 'items' in s.forEach ? s.forEach.items.length : spec.parallelism ?? 1;
      pods = spec.parallelism !== undefined ? Math.min(items, spec.parallelism) : items;
    }
    const gpu = gpuDemand(s.compute);
    // The step container (and a multi-node step's outputs uploader beside it); each DVC input's init container requests
    // the step's ephemeral storage too, the step I/O init container its own (src/cdk8s/private/pipeline-pod.ts).
    const dvcPulls = s.inputs.filter((i) => i.kind === 'dataset' && i.dataset.kind === 'dvc').map(() => s.compute.ephemeralStorage);
    const uploader = storePushes(spec, s).length > 0;
    const ioInit = uploader || storePulls(spec, s).length > 0;
    const io = STEP_IO_REQUESTS;
    const cpu = uploader ? s.compute.cpu.plus(io.cpu) : s.compute.cpu;
    const memory = uploader ? s.compute.memory.plus(io.memory) : s.compute.memory;
    return {
      construct: 'TrainingPipeline' as const,
      name: spec.name,
      namespace: spec.namespace,
      unit: s.name,
      cpu: ioInit ? larger(cpu, io.cpu) : cpu,
      memory: ioInit ? larger(memory, io.memory) : memory,
      ephemeralStorage: podRequest([s.compute.ephemeralStorage, ...(uploader ? [io.ephemeralStorage] : [])], [...dvcPulls, ...(ioInit ? [io.ephemeralStorage] : [])]),
      ...(gpu ? { gpu } : {}),
      pods: { min: s.nodes > 1 ? s.nodes : 1, max: pods },
      ...(s.nodes > 1 ? { gang: true } : {}),
      ...(s.dependencies.length ? { after: [...s.dependencies] } : {}),
      ...(spec.parallelism !== undefined ? { parallelism: spec.parallelism } : {}),
    };
  });
}

/** Requests of a step I/O container (core/pipeline/io.ts). */
const STEP_IO_REQUESTS = {
  cpu: Cpu.parse(STEP_IO_RESOURCES.cpu),
  memory: Size.parse(STEP_IO_RESOURCES.memory),
  ephemeralStorage: Size.parse(STEP_IO_RESOURCES.ephemeralStorage),
} as const;

/** One demand per version: its replicas from `minReplicas` to `maxReplicas`. */
export function endpointDemands(spec: ModelEndpointSpec): WorkloadDemand[] {
  return spec.versions.map((v) => {
    const fetched = v.fetch !== undefined;
    const gpu = gpuDemand(v.compute);
    // The payload logger runs beside the server: their requests add up (the fetch step runs before both).
    const cpu = v.logging ? v.compute.cpu.plus(Cpu.parse(PAYLOAD_LOGGER_RESOURCES.cpu)) : v.compute.cpu;
    const memory = v.logging ? v.compute.memory.plus(Size.parse(PAYLOAD_LOGGER_RESOURCES.memory)) : v.compute.memory;
    // The server requests its scratch plus the model volume (the payload logger none); the fetch step the model volume.
    const ephemeralStorage = fetched
      ? podRequest([v.compute.ephemeralStorage.plus(spec.modelStorage)], [spec.modelStorage])
      : podRequest([v.compute.ephemeralStorage]);
    return {
      construct: 'ModelEndpoint' as const,
      name: spec.name,
      namespace: spec.namespace,
      unit: v.name,
      cpu: fetched ? larger(cpu, ENDPOINT_FETCH_REQUESTS.cpu) : cpu,
      memory: fetched ? larger(memory, ENDPOINT_FETCH_REQUESTS.memory) : memory,
      ephemeralStorage,
      ...(gpu ? { gpu } : {}),
      pods: { min: v.scaling.minReplicas, max: v.scaling.maxReplicas },
    };
  });
}

/** Annotation listing the object-store prefixes a pipeline's ServiceAccount reads (space-separated `s3://` URIs). */
export const PIPELINE_READ_SCOPES_ANNOTATION = 'mlplatform.io/read-scopes';

/**
 * What a pipeline reads (bucket datasets and DVC remotes in the platform's bucket) and writes (its
 * artifact prefix), for the data-access check. Artifacts passed between its own steps stay inside
 * its prefix.
 */
export function pipelineDataAccess(spec: PipelineSpec, grants: readonly StoreAccess[] = []): WorkloadDataAccess {
  const bucket = spec.platform?.store.bucket;
  const reads: StoreAccess[] = [];
  if (bucket) {
    const remoteHead = `s3://${bucket}/`;
    for (const s of [...spec.steps, ...(spec.onExit ? [spec.onExit] : [])]) {
      const at = s === spec.onExit ? 'onExit' : `steps.${s.name}`;
      for (const i of s.inputs) {
        if (i.kind !== 'dataset') continue;
        const d = i.dataset;
        if (d.kind === 'bucket') reads.push({ path: { bucket, prefix: `${d.key}/` }, origin: `${at}.inputs.${i.name}` });
        if (d.kind === 'dvc' && d.remoteUrl?.startsWith(remoteHead)) {
          reads.push({ path: { bucket, prefix: `${d.remoteUrl.slice(remoteHead.length).replace(/\/+$/, '')}/` }, origin: `${at}.inputs.${i.name}.remote` });
        }
      }
    }
  }
  return {
    workload: `TrainingPipeline ${spec.namespace}/${spec.name}`,
    namespace: spec.namespace,
    reads,
    writes: bucket ? [{ path: { bucket, prefix: `${spec.artifactPrefix}/` }, origin: 'artifacts' }] : [],
    grants,
  };
}

/** The read scopes of a pipeline's ServiceAccount: exactly the prefixes it reads. */
export function pipelineReadScopes(spec: PipelineSpec): string[] {
  return [...new Set(pipelineDataAccess(spec).reads.map((r) => `s3://${r.path.bucket}/${r.path.prefix}`))];
}

/**
 * What each version of an endpoint reads: its model, when the source is an `s3://` URI. A URI read
 * with the platform's store access must be written by a pipeline of the namespace or granted; one read
 * with credentials of its own needs no grant but is still part of its ServiceAccount's read scope.
 * A registry model reads the namespace's pipeline root (where registered `s3://` sources live),
 * part of the read scope but not checked against writes (see {@link StoreAccess.registry}).
 */
export function endpointDataAccess(spec: ModelEndpointSpec, grants: readonly StoreAccess[] = []): WorkloadDataAccess[] {
  return spec.versions.map((v, i) => {
    const reads: StoreAccess[] = [];
    if (v.source.kind === 'uri' && v.readScope?.kind === 's3') {
      reads.push({ path: { bucket: v.readScope.bucket, prefix: v.readScope.prefix }, origin: `versions[${i}].model`, ...(v.source.credentials ? { ownCredentials: true } : {}) });
    }
    if (v.readScope?.kind === 'registry') reads.push({ path: { bucket: v.readScope.bucket, prefix: v.readScope.prefix }, origin: `versions[${i}].model`, registry: v.readScope.model });
    return {
      workload: workloadLabel({ construct: 'ModelEndpoint', name: spec.name, namespace: spec.namespace, unit: v.name }),
      namespace: spec.namespace,
      reads,
      writes: [],
      grants,
    };
  });
}

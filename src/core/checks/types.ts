import { Issues } from '../errors';
import { Toleration } from '../gpu-conventions';
import { Cpu, Size } from '../quantities';

/** The synth-time checks: each looks across constructs, which no single construct can do. */
export type CheckId = 'schedulability' | 'capacity' | 'tenancy' | 'admission' | 'data-access';

/** Every check id, in the order findings are reported. */
export const CHECK_IDS: readonly CheckId[] = Object.freeze(['schedulability', 'capacity', 'tenancy', 'admission', 'data-access']);

/** An error fails `app.synth()`; a warning is printed and collected. */
export type CheckSeverity = 'error' | 'warning';

/**
 * Severity overrides per check: `{ capacity: 'warning' }` downgrades that check's errors to warnings;
 * `'error'` makes its warnings errors too (a strict platform).
 */
export type CheckSeverities = { readonly [K in CheckId]?: CheckSeverity };

/** One problem a synth-time check found. */
export interface CheckFinding {
  /** Which check found it. */
  readonly check: CheckId;
  /** Error (fails synthesis) or warning (printed, collected), after the user's overrides. */
  readonly severity: CheckSeverity;
  /** The workload, e.g. `TrainingPipeline team-a/train step "fit"`. */
  readonly workload: string;
  /** What is wrong, naming the workload, the pool or tenant and the numbers. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
}

/** The construct kinds that run pods. */
export type WorkloadConstruct = 'TrainingPipeline' | 'TuningSweep' | 'ModelEndpoint' | 'MlPlatform';

/** The GPUs of one pod and where they land. */
export interface GpuDemand {
  /** The GPU pool the pod is placed on (its `mlplatform.io/gpu-pool`), or '' without declared pools. */
  readonly pool: string;
  /** Accelerator id. */
  readonly accelerator: string;
  /** GPUs (or MIG slices, or time-sliced shares) per pod. */
  readonly count: number;
  /** Extended resource name. @default 'nvidia.com/gpu' */
  readonly resourceName?: string;
  /** Tolerations the pod carries. @default the tolerations of the pool (taken as present) */
  readonly tolerations?: readonly Toleration[];
}

/** One schedulable unit: a pipeline step, a sweep's workers, an endpoint version, a platform service. */
export interface WorkloadDemand {
  /** The construct kind. */
  readonly construct: WorkloadConstruct;
  /** Its name (pipeline, sweep, endpoint or platform name). */
  readonly name: string;
  /** Namespace its pods run in. */
  readonly namespace: string;
  /** The unit inside it: a step name, a version name, `worker`, or a platform service. */
  readonly unit: string;
  /** CPU requested per pod (every container of it). */
  readonly cpu: Cpu;
  /** Memory requested per pod (every container of it). */
  readonly memory: Size;
  /**
   * Ephemeral storage requested per pod, as the scheduler counts it: the sum of its containers'
   * `ephemeral-storage` requests, or its largest init container's when larger. Disk-backed emptyDir
   * `sizeLimit`s are no requests (they count against the containers' limits only when used).
   */
  readonly ephemeralStorage: Size;
  /** GPUs per pod, when it uses some. */
  readonly gpu?: GpuDemand;
  /** Concurrent pods: nodes of a multi-node step, sweep workers, endpoint replicas. */
  readonly pods: { readonly min: number; readonly max: number };
  /** The pods must all run at once (a multi-node step's gang). @default false */
  readonly gang?: boolean;
  /**
   * Units of the same construct this one starts after (a pipeline step's `dependencies`): it never
   * runs at the same time as them, nor as what they start after. @default - none: it may run at the same time as every other unit of its construct
   */
  readonly after?: readonly string[];
  /**
   * The most pods of the construct that run at once (a pipeline's `parallelism`, which Argo applies
   * to the whole workflow). @default - no limit
   */
  readonly parallelism?: number;
}

/** An object-store prefix: `s3://<bucket>/<prefix>` (the prefix ends with `/`, or is '' for the whole bucket). */
export interface StorePath {
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix, ending with `/` ('' for the whole bucket). */
  readonly prefix: string;
}

/** What a workload reads or writes in an object store, and why. */
export interface StoreAccess {
  /** The prefix. */
  readonly path: StorePath;
  /** Where it comes from, e.g. `versions[0].model` or `steps.fit.inputs.data`. */
  readonly origin: string;
  /** A read with credentials of the workload's own (no grant needed; still in its read scope). @default false */
  readonly ownCredentials?: boolean;
  /**
   * The registered model whose `s3://` sources this prefix holds (a registry model's read): which
   * version an alias names is decided at run time, so the read is not checked against the writes;
   * it is still part of the workload's read scope. @default none
   */
  readonly registry?: string;
}

/** The object-store side of a workload, as the data-access check needs it. */
export interface WorkloadDataAccess {
  /** The workload (`ModelEndpoint team-a/resnet50 version "canary"`). */
  readonly workload: string;
  /** Its namespace: a pipeline's writes count as written for the readers of the same namespace. */
  readonly namespace: string;
  /** Prefixes it reads. */
  readonly reads: readonly StoreAccess[];
  /** Prefixes it writes (a pipeline's artifact prefix). */
  readonly writes: readonly StoreAccess[];
  /** Prefixes granted to it with a `grant*` verb. */
  readonly grants: readonly StoreAccess[];
  /**
   * The read scopes its ServiceAccount carries in the synthesized manifests, by ServiceAccount name
   * (undefined when the workload has no such annotation to compare).
   */
  readonly identity?: { readonly serviceAccount: string; readonly readScopes: readonly string[] };
}

/** A workload's demand as a one-line label: `TrainingPipeline team-a/train step "fit"`. */
export function workloadLabel(d: Pick<WorkloadDemand, 'construct' | 'name' | 'namespace' | 'unit'>): string {
  const kind = d.construct === 'TrainingPipeline' ? 'step' : d.construct === 'ModelEndpoint' ? 'version' : d.construct === 'TuningSweep' ? '' : 'service';
  return `${d.construct} ${d.namespace}/${d.name}${kind ? ` ${kind} "${d.unit}"` : ` ${d.unit}`}`;
}

/** `s3://bucket/prefix`. */
export function storeUri(p: StorePath): string {
  return `s3://${p.bucket}/${p.prefix}`;
}

/** Whether `inner` lies inside `outer` (same bucket, `outer`'s prefix a prefix of `inner`'s). */
export function storePathWithin(inner: StorePath, outer: StorePath): boolean {
  return inner.bucket === outer.bucket && inner.prefix.startsWith(outer.prefix);
}

/** Applies severity overrides to findings. */
export function applySeverities(findings: readonly CheckFinding[], overrides: CheckSeverities = {}): CheckFinding[] {
  return findings.map((f) => (overrides[f.check] && overrides[f.check] !== f.severity ? Object.assign({}, f, { severity: overrides[f.check]! }) : f));
}

/** Validates severity overrides: known check ids, `'error'` or `'warning'`. */
export function resolveCheckSeverities(issues: Issues, path: string, o: CheckSeverities | undefined): CheckSeverities {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    issues.add(path, o, 'must be an object of check → severity, e.g. { capacity: \'warning\' }');
    return {};
  }
  const out: { [K in CheckId]?: CheckSeverity } = {};
  for (const [k, v] of Object.entries(o)) {
    if (!CHECK_IDS.includes(k as CheckId)) issues.add(`${path}.${k}`, v, `is not a check; use one of: ${CHECK_IDS.join(', ')}`);
    else if (v !== 'error' && v !== 'warning') issues.add(`${path}.${k}`, v, "must be 'error' or 'warning'");
    else out[k as CheckId] = v;
  }
  return out;
}

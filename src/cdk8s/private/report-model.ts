import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { GpuPoolSpec, TenantSpec } from '../../core';
import { CheckFinding, peakAtOnce, WorkloadDemand } from '../../core/checks';
import { checkPlatform, workloadDemands } from '../checks';
import { DiagramEndpoint, DiagramPipeline } from './report-mermaid';
import { MlPlatform } from '../ml-platform';
import { ModelEndpoint } from '../model-endpoint';
import { TrainingPipeline } from '../training-pipeline';
import { TuningSweep } from '../tuning-sweep';

/** The construct kinds the report knows, plus objects outside all of them. */
export type ReportConstructKind = 'MlPlatform' | 'TrainingPipeline' | 'TuningSweep' | 'ModelEndpoint' | 'Other';

/** CPU (millicores), memory (bytes) and GPUs, summed. */
export interface Requests {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly gpus: number;
}

/** One construct of the tree: the objects it emitted and what its pods request. */
export interface ConstructRow {
  readonly kind: ReportConstructKind;
  /** Construct name (platform, pipeline, sweep or endpoint name); the construct path for `Other`. */
  readonly name: string;
  /** Namespace of its workloads ('' for `Other`). */
  readonly namespace: string;
  /** Objects emitted, by kind, sorted by kind. */
  readonly objects: readonly { readonly kind: string; readonly count: number }[];
  /** Requests of the pods that always run (platform services, endpoint replicas at their minimum, sweep dashboards). */
  readonly idle: Requests;
  /** Requests at the peak: every unit at its maximum pods, a pipeline's steps as many at once as its DAG allows. */
  readonly peak: Requests;
}

/** A GPU pool with its capacity, the demand on it and its price envelope. */
export interface PoolRow {
  readonly platform: string;
  readonly pool: GpuPoolSpec;
  /** `maxNodes × allocatablePerNode`. */
  readonly capacity: number;
  /** Σ GPUs × maximum pods of the units placed on the pool. */
  readonly demand: number;
  /** The units on the pool and their peak GPUs. */
  readonly consumers: readonly { readonly label: string; readonly gpus: number }[];
  /** On-demand USD per node-hour, when the catalog has a price. */
  readonly usdPerNodeHour?: number;
  /** Nodes the peak demand brings up: `ceil(demand / allocatablePerNode)`, within `minNodes`..`maxNodes`. */
  readonly peakNodes: number;
}

/** A sweep's worst-case GPU time and cost. */
export interface SweepRow {
  readonly name: string;
  readonly namespace: string;
  readonly trials: number;
  readonly maxFailedTrials: number;
  readonly workers: number;
  readonly trialTimeoutSeconds?: number;
  readonly deadlineSeconds?: number;
  /** GPUs (or shares) per trial; 0 without GPUs. */
  readonly gpusPerTrial: number;
  readonly pool?: string;
  /** Worst-case GPU-hours; undefined when neither a trial timeout nor a deadline bounds it. */
  readonly gpuHours?: number;
  /** Worst-case USD; undefined when unbounded or the pool has no price. */
  readonly usd?: number;
  /** USD per GPU-hour on the pool (node price ÷ allocatable GPUs per node). */
  readonly usdPerGpuHour?: number;
}

/** A pipeline's DAG (the diagram's shape). */
export type PipelineRow = DiagramPipeline;

/** An endpoint's versions and traffic split (the diagram's shape). */
export type EndpointRow = DiagramEndpoint;

/** A platform with its tenants. */
export interface PlatformRow {
  readonly name: string;
  readonly namespace: string;
  readonly tenants: readonly TenantSpec[];
}

/** Everything the report shows, collected from a construct tree. */
export interface ReportModel {
  readonly platforms: readonly PlatformRow[];
  readonly constructs: readonly ConstructRow[];
  readonly units: readonly WorkloadDemand[];
  readonly pools: readonly PoolRow[];
  readonly pipelines: readonly PipelineRow[];
  readonly sweeps: readonly SweepRow[];
  readonly endpoints: readonly EndpointRow[];
  readonly findings: readonly CheckFinding[];
}

const ZERO: Requests = { cpuMillis: 0, memoryBytes: 0, gpus: 0 };

function add(a: Requests, d: WorkloadDemand, pods: number): Requests {
  return {
    cpuMillis: a.cpuMillis + d.cpu.millicores * pods,
    memoryBytes: a.memoryBytes + d.memory.bytes * pods,
    gpus: a.gpus + (d.gpu?.count ?? 0) * pods,
  };
}

type Owner = MlPlatform | TrainingPipeline | TuningSweep | ModelEndpoint;

function isOwner(c: IConstruct): c is Owner {
  return c instanceof MlPlatform || c instanceof TrainingPipeline || c instanceof TuningSweep || c instanceof ModelEndpoint;
}

function identify(c: Owner): { kind: ReportConstructKind; name: string; namespace: string } {
  if (c instanceof MlPlatform) return { kind: 'MlPlatform', name: c.platformName, namespace: c.namespace };
  if (c instanceof TrainingPipeline) return { kind: 'TrainingPipeline', name: c.pipelineName, namespace: c.namespace };
  if (c instanceof TuningSweep) return { kind: 'TuningSweep', name: c.spec.name, namespace: c.spec.namespace };
  return { kind: 'ModelEndpoint', name: c.spec.name, namespace: c.spec.namespace };
}

/** The nearest construct of a known kind that holds `c`, or undefined. */
function ownerOf(c: IConstruct): Owner | undefined {
  for (let s: IConstruct | undefined = c.node.scope; s; s = s.node.scope) if (isOwner(s)) return s;
  return undefined;
}

/**
 * Whether a unit runs while no pipeline run or sweep is in progress: the platform's services, endpoint
 * replicas (at their minimum) and a sweep's dashboard.
 */
function alwaysRuns(d: WorkloadDemand): boolean {
  return d.construct === 'MlPlatform' || d.construct === 'ModelEndpoint' || (d.construct === 'TuningSweep' && d.unit === 'dashboard');
}

/** Whether `d` is a unit of the construct `id`. */
function belongs(d: WorkloadDemand, id: { kind: ReportConstructKind; name: string; namespace: string }): boolean {
  return d.construct === id.kind && d.name === id.name && (id.kind === 'MlPlatform' || d.namespace === id.namespace);
}

/** Whether a finding's workload label (`TrainingPipeline vision/resnet step "train"`) names a unit of the construct `id`. */
function namesWorkloadOf(workload: string, id: { kind: ReportConstructKind; name: string; namespace: string }): boolean {
  const [kind, where] = workload.split(' ');
  if (kind !== id.kind || where === undefined) return false;
  return id.kind === 'MlPlatform' ? where.endsWith(`/${id.name}`) : where === `${id.namespace}/${id.name}`;
}

function countKinds(objs: readonly ApiObject[]): { kind: string; count: number }[] {
  const m = new Map<string, number>();
  for (const o of objs) m.set(o.kind, (m.get(o.kind) ?? 0) + 1);
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([kind, count]) => ({ kind, count }));
}

/** Collects the report's data from every construct under `scope`, in tree order. */
export function collectReport(scope: IConstruct): ReportModel {
  const all = scope.node.findAll();
  const owners = all.filter(isOwner);
  // The checks look at the whole app; keep the units and findings of the constructs under `scope`.
  const ids = owners.map(identify);
  const units = workloadDemands(scope).filter((d) => ids.some((id) => belongs(d, id)));
  const findings = checkPlatform(scope).filter((f) => ids.some((id) => namesWorkloadOf(f.workload, id)));

  const objectsOf = new Map<IConstruct | undefined, ApiObject[]>();
  for (const c of all) {
    if (!ApiObject.isApiObject(c)) continue;
    const o = ownerOf(c);
    objectsOf.set(o, [...(objectsOf.get(o) ?? []), c]);
  }
  const constructs: ConstructRow[] = owners.map((c) => {
    const id = identify(c);
    const mine = units.filter((d) => belongs(d, id));
    return Object.assign({}, id, {
      objects: countKinds(objectsOf.get(c) ?? []),
      idle: mine.filter(alwaysRuns).reduce((a, d) => add(a, d, d.pods.min), ZERO),
      // What can run at once: every unit of a sweep, an endpoint or a platform; the steps of a pipeline as its DAG allows.
      peak: {
        cpuMillis: peakAtOnce(mine, (d) => d.cpu.millicores).total,
        memoryBytes: peakAtOnce(mine, (d) => d.memory.bytes).total,
        gpus: peakAtOnce(mine, (d) => d.gpu?.count ?? 0).total,
      },
    });
  });
  const others = objectsOf.get(undefined) ?? [];
  if (others.length > 0) constructs.push({ kind: 'Other', name: '(outside the mlplatform constructs)', namespace: '', objects: countKinds(others), idle: ZERO, peak: ZERO });

  // Pools and tenants come from every platform of the app: a chart of workloads may use a platform of another chart.
  const platforms = scope.node.root.node.findAll().filter((c): c is MlPlatform => c instanceof MlPlatform);
  const pools: PoolRow[] = [];
  for (const p of platforms) {
    const ctx = p.context;
    for (const pool of ctx.pools) {
      const mine = units.filter((d) => d.gpu?.pool === pool.pool && (platforms.length === 1 || ctx.tenants.some((t) => t.namespace === d.namespace)));
      const consumers = mine.map((d) => ({ label: unitLabel(d), gpus: d.gpu!.count * d.pods.max }));
      // Per construct, the units that can run at once (a pipeline's steps as its DAG allows); constructs run independently.
      const byConstruct = new Map<string, WorkloadDemand[]>();
      for (const d of mine) {
        const key = `${d.construct}\u0000${d.namespace}\u0000${d.name}`;
        byConstruct.set(key, [...(byConstruct.get(key) ?? []), d]);
      }
      const demand = [...byConstruct.values()].reduce((s, g) => s + peakAtOnce(g, (d) => d.gpu!.count).total, 0);
      pools.push({
        platform: p.platformName,
        pool,
        capacity: pool.maxNodes * pool.allocatablePerNode,
        demand,
        consumers,
        usdPerNodeHour: pool.instance.onDemandUsdPerHour,
        peakNodes: Math.min(pool.maxNodes, Math.max(pool.minNodes, Math.ceil(demand / pool.allocatablePerNode))),
      });
    }
  }

  const sweeps: SweepRow[] = owners.filter((c): c is TuningSweep => c instanceof TuningSweep).map((s) => sweepRow(s, pools));
  const pipelines: PipelineRow[] = owners.filter((c): c is TrainingPipeline => c instanceof TrainingPipeline).map((p) => {
    const spec = p.spec;
    return {
      name: spec.name,
      namespace: spec.namespace,
      schedule: spec.schedule ? spec.schedule.schedules.join(', ') + (spec.schedule.timezone ? ` (${spec.schedule.timezone})` : '') : undefined,
      steps: spec.steps.map((s) => ({
        name: s.name,
        dependencies: s.dependencies,
        when: s.when,
        nodes: s.nodes,
        gpus: s.compute.gpu?.count ?? 0,
        pool: s.compute.gpu?.pool?.pool,
      })),
    };
  });
  const endpoints: EndpointRow[] = owners.filter((c): c is ModelEndpoint => c instanceof ModelEndpoint).map((e) => {
    const spec = e.spec;
    return {
      name: spec.name,
      namespace: spec.namespace,
      stable: spec.traffic.stable,
      backends: spec.traffic.backends,
      mirrors: spec.traffic.mirrors,
      versions: spec.versions.map((v) => {
        const d = units.find((u) => u.construct === 'ModelEndpoint' && u.name === spec.name && u.namespace === spec.namespace && u.unit === v.name);
        return { name: v.name, gpus: v.compute.gpu?.count ?? 0, pool: v.compute.gpu?.pool?.pool, replicas: d ? d.pods : { min: 0, max: 0 } };
      }),
    };
  });
  return {
    platforms: platforms.map((p) => ({ name: p.platformName, namespace: p.namespace, tenants: p.context.tenants })),
    constructs,
    units,
    pools,
    pipelines,
    sweeps,
    endpoints,
    findings,
  };
}

/** `TrainingPipeline vision/resnet step train`. */
export function unitLabel(d: WorkloadDemand): string {
  return `${d.construct} ${d.namespace}/${d.name} ${d.unit}`;
}

function sweepRow(s: TuningSweep, pools: readonly PoolRow[]): SweepRow {
  const spec = s.spec;
  const b = spec.budget;
  const gpu = spec.trial.compute.gpu;
  const gpusPerTrial = gpu?.count ?? 0;
  const poolName = gpu?.pool?.pool;
  const poolRow = pools.find((p) => p.pool.pool === poolName);
  // Every trial that may run: the finished ones plus the failures the budget tolerates, each at most its timeout;
  // and never more than the workers running until the deadline.
  const byTrials = b.trialTimeoutSeconds !== undefined ? (b.trials + b.maxFailedTrials) * b.trialTimeoutSeconds * gpusPerTrial : undefined;
  const byDeadline = b.deadlineSeconds !== undefined ? b.workers * b.deadlineSeconds * gpusPerTrial : undefined;
  const gpuSeconds = byTrials !== undefined && byDeadline !== undefined ? Math.min(byTrials, byDeadline) : byTrials ?? byDeadline;
  const gpuHours = gpuSeconds === undefined ? undefined : gpuSeconds / 3600;
  const usdPerGpuHour = poolRow?.usdPerNodeHour !== undefined ? poolRow.usdPerNodeHour / poolRow.pool.allocatablePerNode : undefined;
  return {
    name: spec.name,
    namespace: spec.namespace,
    trials: b.trials,
    maxFailedTrials: b.maxFailedTrials,
    workers: b.workers,
    trialTimeoutSeconds: b.trialTimeoutSeconds,
    deadlineSeconds: b.deadlineSeconds,
    gpusPerTrial,
    pool: poolName,
    gpuHours,
    usdPerGpuHour,
    usd: gpuHours !== undefined && usdPerGpuHour !== undefined ? gpuHours * usdPerGpuHour : gpusPerTrial === 0 ? 0 : undefined,
  };
}

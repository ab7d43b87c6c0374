import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { IConstruct } from 'constructs';
import { CheckFinding, WorkloadDemand } from '../core/checks';
import { diagramInput, renderMarkdown, renderSummary } from './private/report-markdown';
import { renderMermaid } from './private/report-mermaid';
import { collectReport, ReportModel } from './private/report-model';

/** CPU, memory and GPUs requested by one construct. */
export interface ReportRequests {
  /** CPU in millicores. */
  readonly cpuMillicores: number;
  /** Memory in bytes. */
  readonly memoryBytes: number;
  /** GPUs (or MIG slices, or time-sliced shares). */
  readonly gpus: number;
}

/** One construct of the report: the objects it emits and what its pods request. */
export interface ReportConstruct {
  /** `MlPlatform`, `TrainingPipeline`, `TuningSweep`, `ModelEndpoint`, or `Other` for objects outside them. */
  readonly kind: string;
  /** Its name. */
  readonly name: string;
  /** Namespace of its workloads ('' for `Other`). */
  readonly namespace: string;
  /** Objects emitted, by kind (sorted by kind). */
  readonly objects: readonly { readonly kind: string; readonly count: number }[];
  /** What always runs: platform services, endpoint replicas at their minimum. */
  readonly idle: ReportRequests;
  /** Every unit at its maximum pods, a pipeline's steps as many at once as its DAG allows. */
  readonly peak: ReportRequests;
}

/** A GPU pool: capacity, the demand on it and its price envelope. */
export interface ReportPool {
  /** The platform that declares it. */
  readonly platform: string;
  /** Pool name. */
  readonly pool: string;
  /** Accelerator id. */
  readonly accelerator: string;
  /** EC2 instance type of its nodes. */
  readonly instanceType: string;
  /** Extended resource its nodes advertise. */
  readonly resourceName: string;
  /** `maxNodes × allocatable per node`. */
  readonly capacity: number;
  /** Peak GPUs on the pool: Σ GPUs × maximum pods of the units that can run at once (a pipeline's steps as its DAG allows). */
  readonly demand: number;
  /** Each unit on the pool (`TuningSweep vision/resnet-sweep worker`) and its GPUs at peak. */
  readonly consumers: readonly { readonly unit: string; readonly gpus: number }[];
  /** Nodes at minimum, at the peak demand, and at maximum. */
  readonly nodes: { readonly min: number; readonly peak: number; readonly max: number };
  /** On-demand USD per node-hour from the accelerator catalog; undefined when it has no price. */
  readonly usdPerNodeHour?: number;
  /** USD per hour at minimum, at the peak demand and at maximum nodes; undefined without a price. */
  readonly usdPerHour?: { readonly min: number; readonly peak: number; readonly max: number };
}

/** A sweep's worst case. */
export interface ReportSweep {
  /** Sweep name. */
  readonly name: string;
  /** Namespace. */
  readonly namespace: string;
  /** Worst-case GPU-hours; undefined when neither a trial timeout nor a deadline bounds it. */
  readonly gpuHours?: number;
  /** Worst-case USD; undefined when unbounded or without a price. */
  readonly usd?: number;
}

/** What {@link platformReport} returns. */
export interface PlatformReport {
  /** The whole `platform.md`. */
  readonly markdown: string;
  /** The Mermaid flowchart inside it (without the code fence). */
  readonly mermaid: string;
  /** A short plain-text table for the terminal. */
  readonly summary: string;
  /** The constructs, in tree order. */
  readonly constructs: readonly ReportConstruct[];
  /** The schedulable units of the constructs (pipeline steps, sweep workers, endpoint versions, platform services). */
  readonly units: readonly WorkloadDemand[];
  /** The GPU pools of the app's platforms. */
  readonly pools: readonly ReportPool[];
  /** The sweeps' worst cases. */
  readonly sweeps: readonly ReportSweep[];
  /** The synth-time check findings of the constructs. */
  readonly findings: readonly CheckFinding[];
}

function toReport(model: ReportModel): PlatformReport {
  const req = (r: { cpuMillis: number; memoryBytes: number; gpus: number }): ReportRequests => ({ cpuMillicores: r.cpuMillis, memoryBytes: r.memoryBytes, gpus: r.gpus });
  return {
    markdown: renderMarkdown(model),
    mermaid: renderMermaid(diagramInput(model)),
    summary: renderSummary(model),
    constructs: model.constructs.map((c) => ({ kind: c.kind, name: c.name, namespace: c.namespace, objects: c.objects, idle: req(c.idle), peak: req(c.peak) })),
    units: model.units,
    pools: model.pools.map((p) => ({
      platform: p.platform,
      pool: p.pool.pool,
      accelerator: p.pool.accelerator,
      instanceType: p.pool.instanceType,
      resourceName: p.pool.resourceName,
      capacity: p.capacity,
      demand: p.demand,
      consumers: p.consumers.map((c) => ({ unit: c.label, gpus: c.gpus })),
      nodes: { min: p.pool.minNodes, peak: p.peakNodes, max: p.pool.maxNodes },
      usdPerNodeHour: p.usdPerNodeHour,
      usdPerHour: p.usdPerNodeHour === undefined ? undefined : {
        min: p.pool.minNodes * p.usdPerNodeHour, peak: p.peakNodes * p.usdPerNodeHour, max: p.pool.maxNodes * p.usdPerNodeHour,
      },
    })),
    sweeps: model.sweeps.map((s) => ({ name: s.name, namespace: s.namespace, gpuHours: s.gpuHours, usd: s.usd })),
    findings: model.findings,
  };
}

/**
 * The platform report of the constructs under `scope` (an App, a Chart or any construct): per
 * construct the objects it emits and the CPU, memory and GPUs it requests; GPU demand against each
 * pool's capacity; a cost envelope (per pool the min, peak and max USD per hour from the accelerator
 * catalog's pinned prices; per sweep the worst-case GPU-hours and USD of its budget); the synth-time
 * check findings; and a Mermaid diagram of pools, tenants, pipelines, sweeps and endpoints with their
 * traffic splits. Pools and tenants come from every MlPlatform of the app. The output has no
 * timestamp: the same constructs give the same bytes.
 */
export function platformReport(scope: IConstruct): PlatformReport {
  return toReport(collectReport(scope));
}

/** Options of {@link writePlatformReport}. */
export interface WritePlatformReportOptions {
  /**
   * Folder to write into.
   * @default the app's `outdir`, next to the manifests
   */
  readonly outdir?: string;
  /**
   * File name.
   * @default 'platform.md'
   */
  readonly fileName?: string;
}

/**
 * Writes the {@link platformReport} of `app` as `platform.md` next to the manifests (call it after
 * `app.synth()`) and returns it with the path written; print `summary` for the terminal.
 */
export function writePlatformReport(app: App, options: WritePlatformReportOptions = {}): PlatformReport & { readonly file: string } {
  const report = platformReport(app);
  const dir = options.outdir ?? app.outdir;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, options.fileName ?? 'platform.md');
  fs.writeFileSync(file, report.markdown);
  return Object.assign({}, report, { file });
}

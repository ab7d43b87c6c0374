import { DiagramInput, renderMermaid } from './report-mermaid';
import { PoolRow, ReportModel, Requests } from './report-model';
import { PRICES_AS_OF, PRICES_REGION } from '../../core';

const GIB = 1024 ** 3;

/** A number with at most `digits` decimals, trailing zeros dropped: 12.5, 3, 0.25. */
function num(n: number, digits = 3): string {
  const f = 10 ** digits;
  return String(Math.round(n * f) / f);
}

/** Cores: `4.5`. */
export function cores(millis: number): string {
  return num(millis / 1000);
}

/** GiB with at most two decimals: `40.25 GiB`. */
export function gib(bytes: number): string {
  return `${num(bytes / GIB, 2)} GiB`;
}

/** Dollars with cents: `$8.05`. */
export function usd(n: number): string {
  return `$${(Math.round(n * 100) / 100).toFixed(2)}`;
}

/** `2h`, `90m`, `45s`. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A Markdown table cell: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function table(head: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string[] {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(cell)).join(' | ')} |`);
}

function range(min: number, max: number, f: (n: number) => string = String): string {
  return min === max ? f(max) : `${f(min)}–${f(max)}`;
}

function requests(idle: Requests, env: Requests, key: keyof Requests, f: (n: number) => string): string {
  return `${f(idle[key])} / ${f(env[key])}`;
}

/** The diagram's input, from the model. */
export function diagramInput(model: ReportModel): DiagramInput {
  return {
    pools: model.pools.map((p) => ({
      platform: p.platform,
      name: p.pool.pool,
      accelerator: p.pool.accelerator,
      instanceType: p.pool.instanceType,
      minNodes: p.pool.minNodes,
      maxNodes: p.pool.maxNodes,
      perNode: p.pool.allocatablePerNode,
    })),
    tenants: model.platforms.flatMap((p) => p.tenants.map((t) => ({ platform: p.name, name: t.name, namespace: t.namespace, gpus: t.quota.gpus }))),
    pipelines: model.pipelines,
    sweeps: model.sweeps,
    endpoints: model.endpoints,
  };
}

/** The whole `platform.md`. Deterministic: no timestamps, rows in construct-tree order. */
export function renderMarkdown(model: ReportModel): string {
  const out: string[] = [
    '# Platform report',
    '',
    'Written by `platformReport()` of `mlplatform/cdk8s` from the construct tree: what the synthesized manifests create,',
    'request and may cost. Regenerated on every synth; do not edit by hand.',
    '',
  ];

  out.push('## Objects emitted', '');
  out.push(...table(['Construct', 'Name', 'Namespace', 'Objects', 'By kind'], model.constructs.map((c) => [
    c.kind, c.name, c.namespace, String(c.objects.reduce((s, o) => s + o.count, 0)), c.objects.map((o) => `${o.kind} ${o.count}`).join(', '),
  ]), ['l', 'l', 'l', 'r', 'l']));
  out.push('');

  out.push('## Requests', '');
  out.push('Per construct, as *idle / peak*: idle is what always runs (platform services, endpoint replicas at their minimum,',
    'sweep dashboards); peak is every unit at its maximum pods at once (the pipeline steps that can run at the same time as',
    'the DAG allows, sweep workers, endpoint replicas at their maximum): an upper bound.', '');
  const rows = model.constructs.filter((c) => c.kind !== 'Other');
  out.push(...table(['Construct', 'Name', 'CPU (cores)', 'Memory', 'GPUs'], rows.map((c) => [
    c.kind, c.name, requests(c.idle, c.peak, 'cpuMillis', cores), requests(c.idle, c.peak, 'memoryBytes', gib), requests(c.idle, c.peak, 'gpus', String),
  ]), ['l', 'l', 'r', 'r', 'r']));
  out.push('');
  if (model.units.length > 0) {
    out.push('Per unit (requests of one pod):', '');
    out.push(...table(['Construct', 'Name', 'Unit', 'Pods', 'CPU', 'Memory', 'GPUs', 'Pool'], model.units.map((d) => [
      d.construct, `${d.namespace}/${d.name}`, d.unit, range(d.pods.min, d.pods.max), cores(d.cpu.millicores), gib(d.memory.bytes),
      d.gpu ? `${d.gpu.count} ${d.gpu.resourceName ?? 'nvidia.com/gpu'}` : '0', d.gpu?.pool ?? '',
    ]), ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'l']));
    out.push('');
  }

  out.push('## GPU demand vs pool capacity', '');
  if (model.pools.length === 0) {
    out.push('No GPU pools declared.', '');
  } else {
    out.push('Capacity is `maxNodes × allocatable per node`; peak demand adds every unit on the pool at its maximum pods, a pipeline\'s steps as many at once as its DAG allows.', '');
    out.push(...table(['Pool', 'Accelerator', 'Instance', 'Nodes', 'Per node', 'Capacity', 'Peak demand', 'Headroom', 'Demand by unit'], model.pools.map((p) => [
      p.pool.pool, p.pool.accelerator, p.pool.instanceType, range(p.pool.minNodes, p.pool.maxNodes), `${p.pool.allocatablePerNode} ${p.pool.resourceName}`,
      String(p.capacity), String(p.demand), p.demand > p.capacity ? `over by ${p.demand - p.capacity}` : String(p.capacity - p.demand),
      p.consumers.map((c) => `${c.label}: ${c.gpus}`).join('; ') || '(none)',
    ]), ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l']));
    out.push('');
  }

  out.push('## Cost envelope', '');
  out.push(`On-demand Linux prices in ${PRICES_REGION} pinned in the accelerator catalog (as of ${PRICES_AS_OF}); spot pools are shown`,
    'at the on-demand price, their ceiling. GPU nodes only: the CPU nodes of the platform services are not counted.', '');
  if (model.pools.length > 0) {
    const priced = model.pools.filter((p) => p.usdPerNodeHour !== undefined);
    const total = (nodes: (p: PoolRow) => number) => usd(priced.reduce((s, p) => s + nodes(p) * p.usdPerNodeHour!, 0));
    const price = (p: PoolRow, nodes: number) => (p.usdPerNodeHour !== undefined ? usd(nodes * p.usdPerNodeHour) : 'n/a');
    out.push('*Min* is every pool at `minNodes`, *peak* the nodes the peak demand above brings up, *max* every pool at `maxNodes`.', '');
    out.push(...table(['Pool', 'Instance', 'Capacity type', '$/node-hour', 'Nodes', 'Min $/hour', 'Peak $/hour', 'Max $/hour'], [
      ...model.pools.map((p) => [
        p.pool.pool, p.pool.instanceType, p.pool.capacityType, p.usdPerNodeHour !== undefined ? `$${p.usdPerNodeHour}` : 'no price', range(p.pool.minNodes, p.pool.maxNodes),
        price(p, p.pool.minNodes), `${price(p, p.peakNodes)} (${p.peakNodes} node${p.peakNodes === 1 ? '' : 's'})`, price(p, p.pool.maxNodes),
      ]),
      ['**total**', '', '', '', '', `**${total((p) => p.pool.minNodes)}**`, `**${total((p) => p.peakNodes)}**`, `**${total((p) => p.pool.maxNodes)}**`],
    ], ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r']));
    out.push('');
  }
  if (model.sweeps.length > 0) {
    out.push('Sweeps, worst case: every trial of the budget plus every failure it tolerates runs to its timeout',
      '(`(trials + maxFailedTrials) × trialTimeout × GPUs per trial`), capped by `workers × deadline × GPUs per trial`.', '');
    out.push(...table(['Sweep', 'Pool', 'Trials', 'Failures allowed', 'Workers', 'Trial timeout', 'Deadline', 'GPUs/trial', 'Worst-case GPU-hours', '$/GPU-hour', 'Worst-case $'],
      model.sweeps.map((s) => [
        `${s.namespace}/${s.name}`, s.pool ?? '', String(s.trials), String(s.maxFailedTrials), String(s.workers),
        s.trialTimeoutSeconds !== undefined ? duration(s.trialTimeoutSeconds) : 'none', s.deadlineSeconds !== undefined ? duration(s.deadlineSeconds) : 'none',
        String(s.gpusPerTrial), s.gpuHours !== undefined ? num(s.gpuHours, 2) : 'unbounded (set budget.trialTimeout or budget.deadline)',
        s.usdPerGpuHour !== undefined ? `$${num(s.usdPerGpuHour, 4)}` : s.gpusPerTrial === 0 ? '' : 'no price', s.usd !== undefined ? usd(s.usd) : 'n/a',
      ]), ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
    out.push('');
  }

  out.push('## Check findings', '');
  if (model.findings.length === 0) {
    out.push('No findings: every workload is schedulable, fits its pool and its tenant\'s quota, and reads only what it may.', '');
  } else {
    out.push(...table(['Severity', 'Check', 'Workload', 'Finding', 'Fix'], model.findings.map((f) => [f.severity, f.check, f.workload, f.message, f.fix])));
    out.push('');
  }

  out.push('## Diagram', '');
  out.push('GPU pools, tenants, pipelines (their DAGs), sweeps and endpoints (their traffic split; dotted: mirrored copies).',
    'Dotted arrows to a pool carry the GPUs a unit takes there at its maximum.', '');
  out.push('```mermaid', renderMermaid(diagramInput(model)).trimEnd(), '```', '');
  return out.join('\n');
}

function pad(rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows.map((r) => r.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
}

/** The short plain-text summary for the terminal. */
export function renderSummary(model: ReportModel): string {
  const lines: string[] = [];
  lines.push(...pad([
    ['construct', 'name', 'objects', 'cpu', 'memory', 'gpus'],
    ...model.constructs.map((c) => [
      c.kind, c.name, String(c.objects.reduce((s, o) => s + o.count, 0)),
      c.kind === 'Other' ? '' : `${cores(c.idle.cpuMillis)}/${cores(c.peak.cpuMillis)}`,
      c.kind === 'Other' ? '' : `${num(c.idle.memoryBytes / GIB, 2)}/${num(c.peak.memoryBytes / GIB, 2)}Gi`,
      c.kind === 'Other' ? '' : `${c.idle.gpus}/${c.peak.gpus}`,
    ]),
  ], ['l', 'l', 'r', 'r', 'r', 'r']));
  if (model.pools.length > 0) {
    lines.push('');
    lines.push(...pad([
      ['pool', 'accelerator', 'nodes', 'demand/capacity', '$/hour'],
      ...model.pools.map((p) => [
        p.pool.pool, p.pool.accelerator, range(p.pool.minNodes, p.pool.maxNodes), `${p.demand}/${p.capacity}${p.demand > p.capacity ? ` over by ${p.demand - p.capacity}` : ''}`,
        p.usdPerNodeHour !== undefined ? `${usd(p.pool.minNodes * p.usdPerNodeHour)}–${usd(p.pool.maxNodes * p.usdPerNodeHour)}` : 'no price',
      ]),
    ], ['l', 'l', 'r', 'r', 'r']));
  }
  for (const s of model.sweeps) {
    if (s.gpusPerTrial === 0) continue;
    lines.push(`sweep ${s.namespace}/${s.name}: worst case ${s.gpuHours !== undefined ? `${num(s.gpuHours, 2)} GPU-hours` : 'unbounded'}${s.usd !== undefined ? `, ${usd(s.usd)}` : ''}`);
  }
  const errors = model.findings.filter((f) => f.severity === 'error').length;
  const warnings = model.findings.length - errors;
  lines.push(`checks: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

import { diskSizeGiBFor } from '../gpu-conventions';
import { GpuPoolSpec } from '../platform/pools';
import { TenantSpec } from '../platform/tenants';
import { Cpu, Size } from '../quantities';
import { AtOnce, peakAtOnce } from './concurrency';
import { fitPool, PoolFit } from './fit';
import { CheckFinding, WorkloadDemand, workloadLabel } from './types';

/** The pools and tenants demands are checked against (a `PlatformContext` has both). */
export interface CheckTarget {
  /** Declared GPU pools. */
  readonly pools: readonly GpuPoolSpec[];
  /** Declared tenants. */
  readonly tenants: readonly TenantSpec[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Schedulability: every GPU pod fits one node of its pool (accelerator, GPUs, CPU and memory within
 * the allocatable share, tolerations), and a gang (multi-node step) fits the pool at its maximum
 * size at once. Errors; the fix names the pools where the pod would fit.
 */
export function checkSchedulability(demands: readonly WorkloadDemand[], target: CheckTarget): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const d of demands) {
    if (!d.gpu) continue;
    if (d.gpu.pool === '') {
      // Resolved without declared pools: it selects nodes by accelerator label only.
      const finding = unpooled(d, target);
      if (finding) out.push(finding);
      continue;
    }
    if (target.pools.length === 0) continue;
    const pool = target.pools.find((p) => p.pool === d.gpu!.pool);
    const fit = pool ? fitPool(d, pool) : undefined;
    if (fit && fit.reasons.length === 0 && !(d.gang && d.pods.min > fit.podsAtMaxNodes)) continue;
    const workload = workloadLabel(d);
    const fitsElsewhere = target.pools.filter((p) => p !== pool && fitPool(d, p).reasons.length === 0).map((p) => `"${p.pool}"`);
    const elsewhere = fitsElsewhere.length ? `place it on pool ${fitsElsewhere.join(' or ')} (\`pool\`), or ` : '';
    if (!pool || !fit) {
      out.push({
        check: 'schedulability',
        severity: 'error',
        workload,
        message: `${workload} selects GPU pool "${d.gpu.pool}", which the platform does not declare (pools: ${target.pools.map((p) => p.pool).join(', ')})`,
        fix: `${elsewhere}declare pool "${d.gpu.pool}" with addGpuPool()`,
      });
      continue;
    }
    if (fit.reasons.length > 0) {
      const disk = fit.ephemeralStorageShort ? diskFix(d, pool, fit.allocatable.ephemeralStorageMiB) : undefined;
      const others = fit.reasons.length > (disk ? 1 : 0)
        ? `lower the pod's requests to fit ${pool.instance.name} (${fit.allocatable.cpuMillicores}m CPU, ${fit.allocatable.memoryMiB}Mi memory, ${pool.allocatablePerNode} ${pool.resourceName} allocatable), or give the pool a larger instanceType`
        : undefined;
      out.push({
        check: 'schedulability',
        severity: 'error',
        workload,
        message: `${workload} cannot be scheduled on pool "${pool.pool}" (${pool.instance.name}): it ${fit.reasons.join('; it ')}`,
        fix: `${elsewhere}${[others, disk].filter((x) => x).join('; and ')}`,
      });
      continue;
    }
    if (d.gang && d.pods.min > fit.podsAtMaxNodes) {
      out.push({
        check: 'schedulability',
        severity: 'error',
        workload,
        message: `${workload} needs ${plural(d.pods.min, 'node')} of ${d.gpu.count} GPU${d.gpu.count === 1 ? '' : 's'} at once, but pool "${pool.pool}" holds at most ${fit.podsAtMaxNodes} (${plural(pool.maxNodes, 'node')} × ${fit.podsPerNode} per node)`,
        fix: `raise pool "${pool.pool}"'s maxNodes to ${Math.ceil(d.pods.min / fit.podsPerNode)}, or lower \`nodes\` to ${fit.podsAtMaxNodes}`,
      });
    }
  }
  return out;
}

/** What to change when a pod's ephemeral storage exceeds a node's: the construct's own props, or the pool's `diskSize`. */
function diskFix(d: WorkloadDemand, pool: GpuPoolSpec, allocatableMiB: number): string {
  const props = d.construct === 'ModelEndpoint'
    ? 'the version\'s `ephemeralStorage` plus the endpoint\'s `modelStorage` (the server requests both)'
    : d.construct === 'TuningSweep' ? 'the trial\'s `ephemeralStorage`' : d.construct === 'TrainingPipeline' ? 'the step\'s `ephemeralStorage`' : 'the ephemeral-storage requests';
  return `lower ${props} so the pod's ${d.ephemeralStorage} fits the ${allocatableMiB}Mi one node allocates, or raise pool "${pool.pool}"'s \`diskSize\` to at least Size.gibibytes(${diskSizeGiBFor(d.ephemeralStorage)}) (now ${pool.diskSize})`;
}

/**
 * A GPU demand that no declared pool placed (the workload was declared while the platform had no GPU
 * pool): an error when pools were declared later (the pods carry neither a pool's node selector nor
 * its tolerations) or when it runs in a tenant (the tenant's ResourceQuota allows GPUs only of
 * declared pools, so the pods are never admitted). Without pools and outside tenants it selects
 * nodes by the `mlplatform.io/accelerator` label, which is allowed.
 */
function unpooled(d: WorkloadDemand, target: CheckTarget): CheckFinding | undefined {
  const gpu = d.gpu!;
  const workload = workloadLabel(d);
  const offering = target.pools.filter((p) => p.accelerator === gpu.accelerator).map((p) => `"${p.pool}"`);
  const tenant = target.tenants.find((t) => t.namespace === d.namespace);
  const need = d.pods.max * gpu.count;
  const name = offering.length ? target.pools.find((p) => p.accelerator === gpu.accelerator)!.pool : gpu.accelerator.replace(/^nvidia-/, '');
  const declare = `declare a GPU pool offering it before the workload, e.g. \`platform.addGpuPool('${name}', { accelerator: '${gpu.accelerator}', maxNodes: ${Math.max(1, need)} })\``;
  const quota = tenant ? `, and give tenant "${tenant.name}" \`quota.gpus: { '${name}': ${need} }\`` : '';
  if (target.pools.length > 0) {
    return {
      check: 'schedulability',
      severity: 'error',
      workload,
      message: `${workload} needs ${gpu.accelerator} GPUs but was declared before any GPU pool, so its pods carry no pool's node selector and tolerations (pools now: ${target.pools.map((p) => p.pool).join(', ')})`,
      fix: offering.length
        ? `declare the workload after the pools (it then lands on pool ${offering.join(' or ')})${quota}`
        : `${declare}${quota}`,
    };
  }
  if (!tenant) return undefined;
  return {
    check: 'schedulability',
    severity: 'error',
    workload,
    message: `${workload} needs ${need} ${gpu.accelerator} GPU${need === 1 ? '' : 's'}, but no GPU pool of the platform offers ${gpu.accelerator}: tenant "${tenant.name}"'s ResourceQuota allows GPUs of declared pools only, so its pods are never admitted`,
    fix: `${declare}${quota}`,
  };
}

/**
 * Units by construct: the units of one sweep, endpoint or platform all run at once; the steps of one
 * pipeline run as its DAG allows ({@link peakAtOnce}).
 */
function concurrentGroups(demands: readonly WorkloadDemand[]): WorkloadDemand[][] {
  const groups = new Map<string, WorkloadDemand[]>();
  for (const d of demands) {
    const key = `${d.construct}\u0000${d.namespace}\u0000${d.name}`;
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  return [...groups.values()];
}

function groupLabel(g: readonly WorkloadDemand[]): string {
  return g.length === 1 ? workloadLabel(g[0]) : `${g[0].construct} ${g[0].namespace}/${g[0].name}`;
}

/** The label of the units of a peak: the step itself, or the pipeline and its steps that run together. */
function peakLabel(g: readonly WorkloadDemand[], at: readonly WorkloadDemand[]): string {
  if (g[0].construct !== 'TrainingPipeline' || g.length === 1) return groupLabel(g);
  if (at.length === 1) return workloadLabel(at[0]);
  return `${g[0].construct} ${g[0].namespace}/${g[0].name} steps ${at.map((d) => `"${d.unit}"`).join(', ')}`;
}

/** `3 pods`, prefixed with the step name when several steps of a pipeline run together. */
function podsOf(at: readonly WorkloadDemand[], d: WorkloadDemand): string {
  const step = d.construct === 'TrainingPipeline' && at.length > 1 ? `step "${d.unit}" ` : '';
  return `${step}${d.pods.max} pod${d.pods.max === 1 ? '' : 's'}`;
}

/** What the `parallelism` of a pipeline took off the plain sum, in words (empty when nothing). */
function capped(at: AtOnce, weight: (d: WorkloadDemand) => number): string {
  const sum = at.units.reduce((s, d) => s + d.pods.max * weight(d), 0);
  return at.total < sum ? `, at most ${at.units[0].parallelism} pods at once by the pipeline's parallelism` : '';
}

/**
 * Capacity: a sweep's parallel workers and an endpoint's replicas at `maxReplicas`, times their GPUs,
 * against what their pool holds at its maximum size. Warnings (the extra pods wait; nothing fails),
 * with the numbers.
 */
export function checkCapacity(demands: readonly WorkloadDemand[], target: CheckTarget): CheckFinding[] {
  return capacityOf(concurrentGroups(demands), target);
}

function capacityOf(groups: readonly WorkloadDemand[][], target: CheckTarget): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const g of groups) {
    const byPool = new Map<string, WorkloadDemand[]>();
    for (const d of g) {
      if (!d.gpu) continue;
      const same = byPool.get(d.gpu.pool);
      if (same) same.push(d);
      else byPool.set(d.gpu.pool, [d]);
    }
    for (const [name, onPool] of byPool) {
      const pool = target.pools.find((p) => p.pool === name);
      if (!pool) continue;
      // Pods of the units on the pool that run at once, measured in GPUs, against the pool's GPUs at maxNodes.
      const at = peakAtOnce(onPool, (d) => d.gpu!.count);
      const ds = at.units;
      // One gang alone is schedulability's (it must fit the pool at once); gangs beside other units here.
      if (ds.length === 1 && ds[0].gang) continue;
      const fits = ds.map((d) => fitPool(d, pool));
      if (fits.some((f) => f.reasons.length > 0)) continue;
      const gpus = at.total;
      const most = pool.allocatablePerNode * pool.maxNodes;
      const podsOver = ds.some((d, i) => d.pods.max > fits[i].podsAtMaxNodes);
      if (gpus <= most && !podsOver) continue;
      const workload = peakLabel(onPool, ds);
      const parts = ds.map((d) => `${d.construct === 'TrainingPipeline' && ds.length > 1 ? `step "${d.unit}" ` : ''}${d.pods.max} ${d.construct === 'TuningSweep' ? 'parallel worker' : d.construct === 'ModelEndpoint' ? `"${d.unit}" replica` : 'pod'}${d.pods.max === 1 ? '' : 's'} × ${d.gpu!.count} ${pool.resourceName}`);
      const holds = ds.length === 1
        ? `holds at most ${plural(fits[0].podsAtMaxNodes, 'such pod')} (${plural(pool.maxNodes, 'node')} × ${fits[0].podsPerNode} per node; ${most} ${pool.resourceName} in all)`
        : `has at most ${most} (${plural(pool.maxNodes, 'node')} × ${pool.allocatablePerNode})`;
      out.push({
        check: 'capacity',
        severity: 'warning',
        workload,
        message: `${workload} asks for ${parts.join(' + ')} = ${gpus} at once${capped(at, (d) => d.gpu!.count)}, but pool "${pool.pool}" ${holds}: the rest wait for capacity`,
        fix: capacityFix(ds, fits, pool, most),
      });
    }
  }
  return out;
}

/** What to lower, in the construct's own props: a sweep's `budget.workers`, an endpoint's `maxReplicas`, a pipeline's `parallelism`. */
function capacityFix(ds: readonly WorkloadDemand[], fits: readonly PoolFit[], pool: GpuPoolSpec, most: number): string {
  const raise = `raise pool "${pool.pool}"'s maxNodes`;
  const fitting = Math.min(...fits.map((f) => f.podsAtMaxNodes));
  switch (ds[0].construct) {
    case 'TuningSweep': return `lower budget.workers to ${fitting}, or ${raise}`;
    case 'ModelEndpoint': return `lower maxReplicas to fit ${most} ${pool.resourceName}, or ${raise}`;
    // Gangs (multi-node steps) are schedulability's; what runs at once here is a fan-out's items.
    case 'TrainingPipeline': return ds.length === 1
      ? `set the pipeline's parallelism to ${fitting} (at most ${plural(fitting, 'pod')} of step "${ds[0].unit}" at once), or ${raise}`
      : `make steps ${ds.map((d) => `"${d.unit}"`).join(', ')} run one after another (\`after\`), or set the pipeline's parallelism to ${Math.floor(most / Math.max(...ds.map((d) => d.gpu!.count)))}, or ${raise}`;
    default: return `lower the replicas to ${fitting}, or ${raise}`;
  }
}

/**
 * Tenancy: the units that run at once in a tenant's namespace fit its ResourceQuota (CPU, memory,
 * pods, GPUs per pool at their maximum); a GPU workload in a tenant without GPU quota on its pool is
 * an error. Namespaces that are no tenant's are not checked.
 */
export function checkTenancy(demands: readonly WorkloadDemand[], target: CheckTarget): CheckFinding[] {
  return tenancyOf(concurrentGroups(demands), target);
}

function tenancyOf(groups: readonly WorkloadDemand[][], target: CheckTarget): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const g of groups) {
    const tenant = target.tenants.find((t) => t.namespace === g[0].namespace);
    if (!tenant) continue;
    const q = tenant.quota;
    const add = (at: readonly WorkloadDemand[], message: string, fix: string) => out.push({ check: 'tenancy', severity: 'error', workload: peakLabel(g, at), message, fix });
    const pipeline = g[0].construct === 'TrainingPipeline' && g.length > 1;
    /** How to lower a peak of several steps: the steps one after another, or fewer pods at once. */
    const serialize = (at: readonly WorkloadDemand[]) => (pipeline && at.length > 1
      ? `make steps ${at.map((d) => `"${d.unit}"`).join(', ')} run one after another (\`after\`), or set the pipeline's parallelism, or `
      : '');
    // A GPU demand of no declared pool is schedulability's (no pool offers its accelerator).
    const pools = [...new Set(g.filter((d) => d.gpu && d.gpu.pool !== '').map((d) => d.gpu!.pool))];
    for (const pool of pools) {
      const weight = (d: WorkloadDemand) => (d.gpu?.pool === pool ? d.gpu.count : 0);
      const at = peakAtOnce(g, weight);
      const ds = at.units;
      const quota = q.gpus[pool] ?? 0;
      const need = at.total;
      const detail = ds.map((d) => `${podsOf(ds, d)} × ${d.gpu!.count} GPU${d.gpu!.count === 1 ? '' : 's'}`).join(' + ') + capped(at, weight);
      const workload = peakLabel(g, ds);
      if (quota === 0) {
        add(ds, `${workload} uses ${ds[0].gpu!.accelerator} GPUs of pool "${pool}", but tenant "${tenant.name}" has no GPU quota on that pool (needs ${need}: ${detail})`,
          `give tenant "${tenant.name}" quota.gpus["${pool}"] of at least ${need}, or run the workload without GPUs`);
      } else if (need > quota) {
        const per = Math.max(...ds.map((d) => d.gpu!.count));
        add(ds, `${workload} needs up to ${need} GPUs of pool "${pool}" at once (${detail}), but tenant "${tenant.name}" may use ${quota}`,
          `${serialize(ds)}lower the ${ds[0].construct === 'TuningSweep' ? 'workers' : ds[0].construct === 'ModelEndpoint' ? 'maxReplicas' : 'pods'} to fit ${quota} GPUs (${Math.floor(quota / per)} pods of ${per}), or raise quota.gpus["${pool}"] of tenant "${tenant.name}" to ${need}`);
      }
    }
    const detailOf = (at: AtOnce, f: (d: WorkloadDemand) => string, weight: (d: WorkloadDemand) => number) =>
      at.units.map((d) => `${pipeline && at.units.length > 1 ? `step "${d.unit}" ` : ''}${d.pods.max} × ${f(d)}`).join(' + ') + capped(at, weight);
    const cpuWeight = (d: WorkloadDemand) => d.cpu.millicores;
    const cpuAt = peakAtOnce(g, cpuWeight);
    const cpu = Cpu.millis(cpuAt.total);
    if (cpu.compareTo(q.cpu) > 0) {
      add(cpuAt.units, `${peakLabel(g, cpuAt.units)} requests ${cpu} CPU at once (${detailOf(cpuAt, (d) => d.cpu.toString(), cpuWeight)}), above tenant "${tenant.name}"'s CPU quota (${q.cpu})`,
        `${serialize(cpuAt.units)}lower the pods or their cpu, or raise tenant "${tenant.name}"'s quota.cpu to ${cpu}`);
    }
    const memoryWeight = (d: WorkloadDemand) => d.memory.bytes;
    const memoryAt = peakAtOnce(g, memoryWeight);
    const memory = Size.bytes(memoryAt.total);
    if (memory.compareTo(q.memory) > 0) {
      add(memoryAt.units, `${peakLabel(g, memoryAt.units)} requests ${memory} memory at once (${detailOf(memoryAt, (d) => d.memory.toString(), memoryWeight)}), above tenant "${tenant.name}"'s memory quota (${q.memory})`,
        `${serialize(memoryAt.units)}lower the pods or their memory, or raise tenant "${tenant.name}"'s quota.memory to ${memory}`);
    }
    const podsAt = peakAtOnce(g, () => 1);
    const pods = podsAt.total;
    if (pods > q.pods) {
      add(podsAt.units, `${peakLabel(g, podsAt.units)} runs up to ${pods} pods at once (${podsAt.units.map((d) => `${d.unit} ${d.pods.max}`).join(', ')}${capped(podsAt, () => 1)}), above tenant "${tenant.name}"'s pod quota (${q.pods})`,
        `${serialize(podsAt.units)}lower the pods, or raise tenant "${tenant.name}"'s quota.pods to ${pods}`);
    }
  }
  return out;
}

/** Schedulability, capacity and tenancy findings of `demands`, before any severity override. */
export function checkDemands(demands: readonly WorkloadDemand[], target: CheckTarget): CheckFinding[] {
  const groups = concurrentGroups(demands);
  return [...checkSchedulability(demands, target), ...capacityOf(groups, target), ...tenancyOf(groups, target)];
}

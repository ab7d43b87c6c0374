/**
 * The report's Mermaid flowchart: GPU pools, tenants, pipelines (their DAGs), sweeps and endpoints
 * with their traffic splits. Pure: built from plain data, so hostile names can be tested directly.
 */

/** A GPU pool, as the diagram shows it. */
export interface DiagramPool {
  readonly platform: string;
  readonly name: string;
  readonly accelerator: string;
  readonly instanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  /** Allocatable GPUs (or shares) per node. */
  readonly perNode: number;
}

/** A tenant, as the diagram shows it. */
export interface DiagramTenant {
  readonly platform: string;
  readonly name: string;
  readonly namespace: string;
  /** GPU quota per pool. */
  readonly gpus: Readonly<Record<string, number>>;
}

/** A pipeline's DAG. */
export interface DiagramPipeline {
  readonly name: string;
  readonly namespace: string;
  readonly schedule?: string;
  readonly steps: readonly {
    readonly name: string;
    readonly dependencies: readonly string[];
    readonly when?: string;
    readonly nodes: number;
    readonly gpus: number;
    readonly pool?: string;
  }[];
}

/** A sweep. */
export interface DiagramSweep {
  readonly name: string;
  readonly namespace: string;
  readonly workers: number;
  readonly trials: number;
  readonly gpusPerTrial: number;
  readonly pool?: string;
}

/** An endpoint with its traffic split. */
export interface DiagramEndpoint {
  readonly name: string;
  readonly namespace: string;
  readonly stable: string;
  readonly backends: readonly { readonly name: string; readonly weight: number }[];
  readonly mirrors: readonly { readonly name: string; readonly percent: number }[];
  readonly versions: readonly { readonly name: string; readonly gpus: number; readonly pool?: string; readonly replicas: { readonly min: number; readonly max: number } }[];
}

/** Everything the diagram shows. */
export interface DiagramInput {
  readonly pools: readonly DiagramPool[];
  readonly tenants: readonly DiagramTenant[];
  readonly pipelines: readonly DiagramPipeline[];
  readonly sweeps: readonly DiagramSweep[];
  readonly endpoints: readonly DiagramEndpoint[];
}

// Characters kept as they are inside a quoted label; every other ASCII character becomes an entity code.
const SAFE = /[A-Za-z0-9 .,:/()'*+=_~-]/;

/**
 * Text for a double-quoted Mermaid label (`id["…"]`, `-->|"…"|`): ASCII punctuation that Mermaid
 * could read as syntax (quotes, brackets, `#`, `%`, `@`, `;`, `|`, `<`, `>`, backticks) becomes an
 * entity code (`#quot;`, `#91;`), line breaks become spaces, and non-ASCII text is kept.
 */
export function mermaidText(text: string): string {
  let out = '';
  for (const ch of text.replace(/[\r\n\t]+/g, ' ')) {
    const code = ch.codePointAt(0)!;
    if (code > 0x7f || SAFE.test(ch)) out += ch;
    else if (ch === '"') out += '#quot;';
    else out += `#${code};`;
  }
  return out;
}

/** A quoted label from lines of text (joined with `<br/>`). */
function label(...lines: string[]): string {
  return `"${lines.map(mermaidText).join('<br/>')}"`;
}

const gpuText = (n: number): string => `${n} GPU${n === 1 ? '' : 's'}`;

/** The Mermaid flowchart (without the code fence). Deterministic: ids follow the input order. */
export function renderMermaid(input: DiagramInput): string {
  const lines: string[] = ['flowchart LR'];
  const edges: string[] = [];
  let next = 0;
  const id = (prefix: string): string => `${prefix}${next++}`;
  const poolIds = new Map<string, string>();
  const platforms = [...new Set([...input.pools.map((p) => p.platform), ...input.tenants.map((t) => t.platform)])];
  const poolId = (pool: string | undefined, namespace: string): string | undefined => {
    if (pool === undefined) return undefined;
    const tenant = input.tenants.find((t) => t.namespace === namespace);
    return poolIds.get(`${tenant?.platform ?? ''}\u0000${pool}`) ?? [...poolIds.entries()].find(([k]) => k.endsWith(`\u0000${pool}`))?.[1];
  };

  // GPU pools, one group per platform.
  for (const platform of platforms) {
    const pools = input.pools.filter((p) => p.platform === platform);
    if (pools.length === 0) continue;
    lines.push(`  subgraph ${id('g')}[${label(platforms.length > 1 ? `GPU pools of platform ${platform}` : 'GPU pools')}]`);
    lines.push('    direction TB');
    for (const p of pools) {
      const pid = id('pool');
      poolIds.set(`${platform}\u0000${p.name}`, pid);
      lines.push(`    ${pid}[${label(`pool ${p.name}`, `${p.accelerator} (${p.instanceType})`, `${p.minNodes}–${p.maxNodes} nodes × ${p.perNode}`)}]`);
    }
    lines.push('  end');
  }

  const namespaces = [...new Set([
    ...input.tenants.map((t) => t.namespace),
    ...input.pipelines.map((w) => w.namespace),
    ...input.sweeps.map((w) => w.namespace),
    ...input.endpoints.map((w) => w.namespace),
  ])];
  for (const ns of namespaces) {
    const tenant = input.tenants.find((t) => t.namespace === ns);
    const quota = tenant ? Object.entries(tenant.gpus).filter(([, n]) => n > 0).map(([pool, n]) => `${pool} ${n}`).join(', ') : '';
    const title = tenant
      ? [`tenant ${tenant.name} (namespace ${ns})`, quota ? `GPU quota: ${quota}` : 'no GPU quota']
      : [`namespace ${ns}`];
    lines.push(`  subgraph ${id('ns')}[${label(...title)}]`);
    for (const p of input.pipelines.filter((w) => w.namespace === ns)) renderPipeline(p, lines, edges, id, (pool) => poolId(pool, ns));
    for (const s of input.sweeps.filter((w) => w.namespace === ns)) {
      const sid = id('sweep');
      const each = s.gpusPerTrial > 0 ? ` × ${gpuText(s.gpusPerTrial)}` : '';
      lines.push(`    ${sid}[[${label(`sweep ${s.name}`, `${s.trials} trials, ${s.workers} workers${each}`)}]]`);
      const target = poolId(s.pool, ns);
      if (target) edges.push(`  ${sid} -.->|${label(`${s.workers} × ${gpuText(s.gpusPerTrial)}`)}| ${target}`);
    }
    for (const e of input.endpoints.filter((w) => w.namespace === ns)) renderEndpoint(e, lines, edges, id, (pool) => poolId(pool, ns));
    lines.push('  end');
  }
  return [...lines, ...edges].join('\n') + '\n';
}

function renderPipeline(p: DiagramPipeline, lines: string[], edges: string[], id: (prefix: string) => string, poolId: (pool?: string) => string | undefined): void {
  lines.push(`    subgraph ${id('pipeline')}[${label(`pipeline ${p.name}`, ...(p.schedule ? [`schedule ${p.schedule}`] : []))}]`);
  lines.push('      direction LR');
  const stepIds = new Map<string, string>();
  for (const s of p.steps) {
    const sid = id('step');
    stepIds.set(s.name, sid);
    const gpus = s.gpus > 0 ? [s.nodes > 1 ? `${s.nodes} nodes × ${gpuText(s.gpus)}` : gpuText(s.gpus)] : s.nodes > 1 ? [`${s.nodes} nodes`] : [];
    lines.push(`      ${sid}[${label(s.name, ...gpus)}]`);
  }
  for (const s of p.steps) {
    for (const d of s.dependencies) {
      const from = stepIds.get(d);
      if (!from) continue;
      lines.push(s.when ? `      ${from} -->|${label(`when ${s.when}`)}| ${stepIds.get(s.name)}` : `      ${from} --> ${stepIds.get(s.name)}`);
    }
    const target = s.gpus > 0 ? poolId(s.pool) : undefined;
    if (target) edges.push(`  ${stepIds.get(s.name)} -.->|${label(s.nodes > 1 ? `${s.nodes} × ${gpuText(s.gpus)}` : gpuText(s.gpus))}| ${target}`);
  }
  lines.push('    end');
}

function renderEndpoint(e: DiagramEndpoint, lines: string[], edges: string[], id: (prefix: string) => string, poolId: (pool?: string) => string | undefined): void {
  lines.push(`    subgraph ${id('endpoint')}[${label(`endpoint ${e.name}`)}]`);
  lines.push('      direction LR');
  const entry = id('traffic');
  lines.push(`      ${entry}((${label('requests')}))`);
  const versionIds = new Map<string, string>();
  for (const v of e.versions) {
    const vid = id('version');
    versionIds.set(v.name, vid);
    const replicas = v.replicas.min === v.replicas.max ? `${v.replicas.max} replica${v.replicas.max === 1 ? '' : 's'}` : `${v.replicas.min}–${v.replicas.max} replicas`;
    const name = v.name === e.stable && v.name !== 'stable' ? `${v.name} (stable)` : v.name;
    lines.push(`      ${vid}[${label(name, v.gpus > 0 ? `${replicas} × ${gpuText(v.gpus)}` : replicas)}]`);
    const target = v.gpus > 0 ? poolId(v.pool) : undefined;
    if (target) edges.push(`  ${vid} -.->|${label(`${v.replicas.max} × ${gpuText(v.gpus)}`)}| ${target}`);
  }
  for (const b of e.backends) {
    const to = versionIds.get(b.name);
    if (to) lines.push(`      ${entry} -->|${label(`${b.weight}%`)}| ${to}`);
  }
  for (const m of e.mirrors) {
    const to = versionIds.get(m.name);
    if (to) lines.push(`      ${entry} -.->|${label(`mirror ${m.percent}%`)}| ${to}`);
  }
  lines.push('    end');
}

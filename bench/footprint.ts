// Footprint of a synthesized platform: what its long-running pods request, and how much YAML it is.
// `npm run footprint` prints it for the default platform next to the Kubeflow figures it replaces.
import { App, Chart, Yaml } from 'cdk8s';

/** Requests of one long-running component. */
export interface ComponentFootprint {
  readonly component: string;
  readonly replicas: number;
  /** Millicores requested in total (all replicas). */
  readonly cpuMillis: number;
  /** Bytes requested in total (all replicas). */
  readonly memoryBytes: number;
  /** Where the figure comes from. */
  readonly source: string;
}

/** The footprint of a set of objects. */
export interface Footprint {
  readonly components: ComponentFootprint[];
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly objects: number;
  readonly yamlBytes: number;
}

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Millicores of a CPU quantity. */
export function cpuMillis(q: string | undefined): number {
  if (!q) return 0;
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

/** Bytes of a memory quantity. */
export function memoryBytes(q: string | undefined): number {
  if (!q) return 0;
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(q);
  if (!m) throw new Error(`not a quantity: ${q}`);
  return Number(m[1]) * (m[2] ? UNITS[m[2]] : 1);
}

function podRequests(spec: any): { cpu: number; mem: number } {
  // Init containers run before the others: the pod requests the larger of the two sums.
  const req = (c: any) => ({ cpu: cpuMillis(c.resources?.requests?.cpu), mem: memoryBytes(c.resources?.requests?.memory) });
  const main = (spec.containers ?? []).map(req).reduce((a: any, r: any) => ({ cpu: a.cpu + r.cpu, mem: a.mem + r.mem }), { cpu: 0, mem: 0 });
  const init = (spec.initContainers ?? []).map(req).reduce((a: any, r: any) => ({ cpu: Math.max(a.cpu, r.cpu), mem: Math.max(a.mem, r.mem) }), { cpu: 0, mem: 0 });
  return { cpu: Math.max(main.cpu, init.cpu), mem: Math.max(main.mem, init.mem) };
}

/**
 * Sums the requests of every long-running pod (Deployments and StatefulSets × replicas; an HPA's
 * minReplicas when one targets the Deployment) plus add-on controllers installed through Argo CD
 * Applications or Flux HelmReleases, read from the values we give their charts. Jobs and CronJobs
 * are transient and not counted.
 */
export function footprint(objects: any[], yaml: string): Footprint {
  const components: ComponentFootprint[] = [];
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  for (const o of objects) {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === o.metadata.name && h.metadata.namespace === o.metadata.namespace);
    const replicas = hpa?.spec.minReplicas ?? o.spec.replicas ?? 1;
    const r = podRequests(o.spec.template.spec);
    components.push({ component: `${o.kind}/${o.metadata.name}`, replicas, cpuMillis: r.cpu * replicas, memoryBytes: r.mem * replicas, source: 'pod template' });
  }
  for (const o of objects) {
    const values = o.kind === 'Application' ? o.spec.source?.helm?.valuesObject : o.kind === 'HelmRelease' ? o.spec.values : undefined;
    if (!values) continue;
    const chart = o.kind === 'Application' ? (o.spec.source.chart ?? o.spec.source.repoURL.split('/').pop()) : o.spec.chart.spec.chart;
    if (chart === 'argo-workflows') {
      const replicas = values.controller?.replicas ?? 1;
      const req = values.controller?.resources?.requests ?? {};
      components.push({ component: 'argo-workflows controller', replicas, cpuMillis: cpuMillis(req.cpu) * replicas, memoryBytes: memoryBytes(req.memory) * replicas, source: 'chart values (controller.resources)' });
      if (values.server?.enabled !== false) {
        const s = values.server?.resources?.requests ?? {};
        components.push({ component: 'argo-workflows server', replicas: 1, cpuMillis: cpuMillis(s.cpu), memoryBytes: memoryBytes(s.memory), source: 'chart values (server.resources)' });
      }
    }
  }
  return {
    components,
    cpuMillis: components.reduce((a, c) => a + c.cpuMillis, 0),
    memoryBytes: components.reduce((a, c) => a + c.memoryBytes, 0),
    objects: objects.length,
    yamlBytes: Buffer.byteLength(yaml, 'utf8'),
  };
}

/** Footprint of a chart built by `build`, synthesized in memory. */
export function chartFootprint(build: (chart: Chart) => void): Footprint {
  const app = new App({ outdir: '/dev/null' });
  const chart = new Chart(app, 'footprint');
  build(chart);
  const objects = chart.toJson();
  return footprint(objects, Yaml.stringify(...objects));
}

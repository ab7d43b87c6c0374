import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';

/** A Kubernetes object as synthesized (plain JSON). */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly [k: string]: unknown;
  };
  readonly [k: string]: any;
}

/**
 * Builds a chart in memory with `build`, synthesizes it and returns the chart and its objects.
 * Nothing is written to disk.
 */
export function synthChart(build: (chart: Chart) => void, opts: { namespace?: string } = {}): { app: App; chart: Chart; objects: K8sObject[] } {
  const app = Testing.app();
  const chart = new Chart(app, 'test', { namespace: opts.namespace });
  build(chart);
  return { app, chart, objects: Testing.synth(chart) as K8sObject[] };
}

/** Synthesizes every chart of `app` and returns all objects, chart after chart. */
export function synthApp(app: App): K8sObject[] {
  return app.charts.flatMap((c) => c.toJson() as K8sObject[]);
}

/** Every object of `kind` (optionally `apiVersion` too: `argoproj.io/v1alpha1/WorkflowTemplate`). */
export function findAll(objects: readonly K8sObject[], kind: string): K8sObject[] {
  const [apiVersion, k] = splitKind(kind);
  return objects.filter((o) => o.kind === k && (apiVersion === undefined || o.apiVersion === apiVersion));
}

/**
 * The one object of `kind` named `name` (and in `namespace` when given). Fails with the list of
 * objects of that kind when there is none or more than one — never looks objects up by index.
 */
export function find(objects: readonly K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const candidates = findAll(objects, kind);
  const hits = candidates.filter((o) => o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  if (hits.length !== 1) {
    const have = candidates.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).join(', ') || 'none';
    throw new Error(`expected exactly one ${kind} "${name}"${namespace ? ` in ${namespace}` : ''}, found ${hits.length} (have: ${have})`);
  }
  return hits[0];
}

/** Whether an object of `kind` named `name` exists. */
export function has(objects: readonly K8sObject[], kind: string, name: string): boolean {
  return findAll(objects, kind).some((o) => o.metadata?.name === name);
}

/** Every PodSpec in `obj`: the known workload paths, CronJobs, and any object with a `containers` array. */
export function podSpecs(obj: unknown): any[] {
  const out: any[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {v.forEach(walk);} else if (v && typeof v === 'object') {
      if (Array.isArray((v as any).containers)) out.push(v);
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(obj);
  return out;
}

/** A construct scope for props-only tests that need a parent but no synthesis. */
export function scope(): Construct {
  return new Chart(Testing.app(), 'scope');
}

function splitKind(kind: string): [string | undefined, string] {
  const i = kind.lastIndexOf('/');
  return i < 0 ? [undefined, kind] : [kind.slice(0, i), kind.slice(i + 1)];
}

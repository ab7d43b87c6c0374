/**
 * What the tier checks on a running cluster, read from the API server's own state: pods the
 * controllers created (or failed to: `FailedCreate` events carry Pod Security's refusals), and
 * where the scheduler put them (or why it did not: the `PodScheduled` condition).
 */
import { Cluster } from './cluster';
import { Kube, Manifest } from './kube';
import { ACCELERATOR_LABEL, GPU_POOL_LABEL } from '../../src/core';

/** Namespaces the tier itself uses (not the platform's). */
const TIER_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'default', 'kueue-system', 'argo']);

/** `FailedCreate`/`FailedScheduling`-like warning events of the platform's namespaces, as text. */
export async function warningEvents(kube: Kube, reasons: readonly string[]): Promise<string[]> {
  const events = await kube.list('v1', 'Event');
  return events.filter((e) => e.type === 'Warning' && reasons.includes(e.reason) && !TIER_NAMESPACES.has(e.metadata.namespace))
    .map((e) => `${e.involvedObject.kind} ${e.metadata.namespace}/${e.involvedObject.name}: ${e.reason}: ${e.message}`);
}

/**
 * Waits until every Deployment and StatefulSet among `objects` has all its replicas created, and
 * fails with the controllers' `FailedCreate` events when one does not (Pod Security refusals among
 * them).
 */
export async function expectWorkloadPods(cluster: Cluster, objects: readonly Manifest[]): Promise<void> {
  const kube = cluster.plane.admin;
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  expect(workloads.length).toBeGreaterThan(0);
  const missing = async () => {
    const out: string[] = [];
    for (const w of workloads) {
      const live = await kube.get(w.apiVersion, w.kind, w.metadata.namespace, w.metadata.name);
      const want = live?.spec?.replicas ?? 1;
      const have = live?.status?.replicas ?? 0;
      if (have < want) out.push(`${w.kind} ${w.metadata.namespace}/${w.metadata.name}: ${have} of ${want} pods`);
    }
    return out;
  };
  try {
    await kube.waitFor('every replica created', async () => ((await missing()).length === 0 ? true : undefined), 120_000, 1000);
  } catch {
    const events = await warningEvents(kube, ['FailedCreate']);
    throw new Error(`pods missing:\n  ${(await missing()).join('\n  ')}\nwarning events:\n  ${events.join('\n  ') || '(none)'}`);
  }
  // Transient refusals the Job controller retries at once: a quota update that lost a race ("the object has
  // been modified"), and Kueue's pod webhook answering before its informer cache holds the new Job
  // (`Job.batch "<name>" not found`); the pods' placement below is what must hold.
  const failed = (await warningEvents(kube, ['FailedCreate']))
    .filter((e) => !/the object has been modified/.test(e) && !/admission webhook "mpod\.kb\.io" denied the request: Job\.batch "[^"]+" not found/.test(e));
  expect(failed).toEqual([]);
}

/** The node group a pod must land in: its pool, any pool of its accelerator, or the CPU nodes. */
export function expectedGroups(cluster: Cluster, pod: any): string[] {
  const sel = pod.spec.nodeSelector ?? {};
  if (sel[GPU_POOL_LABEL]) return [sel[GPU_POOL_LABEL]];
  if (sel[ACCELERATOR_LABEL]) return cluster.groups.filter((g) => g.labels[ACCELERATOR_LABEL] === sel[ACCELERATOR_LABEL]).map((g) => g.name);
  return ['system'];
}

/** Pods of the platform's namespaces. */
export async function platformPods(kube: Kube): Promise<any[]> {
  return (await kube.list('v1', 'Pod')).filter((p) => !TIER_NAMESPACES.has(p.metadata.namespace));
}

/** Why the scheduler left a pod pending (its PodScheduled condition). */
export function unschedulableReason(pod: any): string | undefined {
  const c = (pod.status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled' && x.status === 'False');
  return c ? `${c.reason}: ${c.message}` : undefined;
}

/** Waits until every platform pod is bound, then checks each is on a node of its declared group. */
export async function expectPodsPlaced(cluster: Cluster): Promise<void> {
  const kube = cluster.plane.admin;
  const nodes = new Map((await kube.list('v1', 'Node')).map((n) => [n.metadata.name, n.metadata.labels['mlplatform.test/node-group']]));
  let pods: any[] = [];
  try {
    await kube.waitFor('every pod bound to a node', async () => {
      pods = await platformPods(kube);
      return pods.length > 0 && pods.every((p) => p.spec.nodeName) ? true : undefined;
    }, 120_000, 500);
  } catch {
    const pending = pods.filter((p) => !p.spec.nodeName).map((p) => `${p.metadata.namespace}/${p.metadata.name}: ${unschedulableReason(p) ?? 'not yet considered'}`);
    throw new Error(`pods not scheduled:\n  ${pending.join('\n  ')}`);
  }
  const misplaced = pods.map((p) => ({ pod: `${p.metadata.namespace}/${p.metadata.name}`, node: p.spec.nodeName, group: nodes.get(p.spec.nodeName), want: expectedGroups(cluster, p) }))
    .filter((x) => !x.want.includes(x.group!));
  expect(misplaced).toEqual([]);
}

/** Kueue's label naming a workload's LocalQueue. */
export const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';

/** A queued Job and what Kueue made of it. */
export interface QueuedJob {
  readonly job: string;
  readonly admitted: boolean;
  /** Kueue's word when not admitted: the Workload's QuotaReserved/Admitted condition messages. */
  readonly why?: string;
}

/** Every Job carrying a queue name, with its Workload's admission state (as Kueue set it). */
export async function queuedJobs(kube: Kube): Promise<QueuedJob[]> {
  const jobs = (await kube.list('batch/v1', 'Job')).filter((j) => j.metadata.labels?.[QUEUE_LABEL]);
  const workloads = await kube.list('kueue.x-k8s.io/v1beta2', 'Workload');
  return jobs.map((j) => {
    const wl = workloads.find((w) => (w.metadata.ownerReferences ?? []).some((r: any) => r.uid === j.metadata.uid));
    const cond = (t: string) => (wl?.status?.conditions ?? []).find((c: any) => c.type === t);
    const admitted = cond('Admitted')?.status === 'True' && j.spec.suspend !== true;
    const why = admitted ? undefined : wl
      ? ['QuotaReserved', 'Admitted'].map((t) => cond(t)).filter((c) => c).map((c: any) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join('; ') || 'no condition yet'
      : 'no Workload (Kueue did not pick the Job up)';
    return { job: `${j.metadata.namespace}/${j.metadata.name}`, admitted, why };
  });
}

/** Waits until every queued Job is admitted; fails with Kueue's reasons for the ones that are not. */
export async function expectQueuedJobsAdmitted(kube: Kube, expectedCount: number): Promise<QueuedJob[]> {
  let last: QueuedJob[] = [];
  try {
    await kube.waitFor('every queued Job admitted by Kueue', async () => {
      last = await queuedJobs(kube);
      return last.length === expectedCount && last.every((j) => j.admitted) ? true : undefined;
    }, 120_000, 500);
  } catch {
    throw new Error(`queued Jobs not admitted (expected ${expectedCount}):\n  ${last.map((j) => `${j.job}: ${j.admitted ? 'admitted' : j.why}`).join('\n  ')}`);
  }
  return last;
}

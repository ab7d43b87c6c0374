/**
 * The synth-time schedulability check against the real scheduler, in both directions: endpoints
 * that fit their pool and endpoints that do not (too many GPUs, CPU or memory for one node of the
 * pool), synthesized with the check downgraded to a warning so that the unschedulable ones are
 * emitted too. The endpoints the check flags are exactly the ones whose pods the scheduler leaves
 * Pending (`Unschedulable`); every other pod is bound to a node of its pool. (More GPUs per pod than a
 * node of the pool has is not a check but a ValidationError of the endpoint: it is never emitted.)
 */
import { App, Chart } from 'cdk8s';
import { MlPlatform, ModelEndpoint } from '../../src/cdk8s';
import { checkPlatform } from '../../src/cdk8s/checks';
import { Cpu, ModelSource, Runtime, Scaling, Size } from '../../src/core';
import { Cluster, startCluster, synthObjects } from './cluster';
import { expectedGroups, platformPods, unschedulableReason } from './expectations';

/** Endpoints on the a10g pool (g5.2xlarge: 8 vCPU, 32 GiB, 1 A10G per node): which fit one node. */
const ENDPOINTS: Array<{ name: string; cpu: number; memoryGiB: number; gpus: number; fits: boolean }> = [
  { name: 'fits', cpu: 4, memoryGiB: 16, gpus: 1, fits: true },
  { name: 'fits-cpu-only', cpu: 2, memoryGiB: 4, gpus: 0, fits: true },
  { name: 'too-much-cpu', cpu: 12, memoryGiB: 16, gpus: 1, fits: false },
  { name: 'too-much-memory', cpu: 4, memoryGiB: 40, gpus: 1, fits: false },
];

let cluster: Cluster;
let flagged: string[];

beforeAll(async () => {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'sched');
  const platform = new MlPlatform(chart, 'ml', { namespace: 'mlplatform', checks: { schedulability: 'warning', capacity: 'warning' } });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 2 });
  platform.addTenant('serving', { quota: { cpu: Cpu.cores(200), memory: Size.gibibytes(800), gpus: { a10g: 40 }, pods: 100 } });
  for (const e of ENDPOINTS) {
    new ModelEndpoint(chart, e.name, {
      platform,
      namespace: 'serving',
      runtime: e.gpus ? Runtime.triton() : Runtime.mlflow(),
      resources: e.gpus
        ? { cpu: Cpu.cores(e.cpu), memory: Size.gibibytes(e.memoryGiB), gpus: e.gpus, accelerator: 'nvidia-a10g' }
        : { cpu: Cpu.cores(e.cpu), memory: Size.gibibytes(e.memoryGiB) },
      scaling: Scaling.fixed(1),
      checks: { schedulability: 'warning', capacity: 'warning' },
      versions: [{ name: 'stable', stable: true, model: ModelSource.registry(e.name, { alias: 'champion' }) }],
    });
  }
  const objects = synthObjects(app);
  flagged = ENDPOINTS.map((e) => e.name).filter((name) => checkPlatform(chart).some((f) => f.check === 'schedulability' && f.workload.includes(`/${name}`)));
  cluster = await startCluster({ name: 'sched', platform, objects });
});

afterAll(async () => {
  await cluster?.stop();
});

test('the check flags exactly the endpoints that do not fit one node of their pool', () => {
  expect(flagged.sort()).toEqual(ENDPOINTS.filter((e) => !e.fits).map((e) => e.name).sort());
});

test('the scheduler leaves exactly the flagged endpoints Pending, and places every other pod on its pool', async () => {
  const kube = cluster.plane.admin;
  const nodes = new Map((await kube.list('v1', 'Node')).map((n) => [n.metadata.name, n.metadata.labels['mlplatform.test/node-group']]));
  let pods: any[] = [];
  // Wait until the scheduler has decided on every endpoint pod: bound, or marked Unschedulable.
  await kube.waitFor('a scheduling decision for every endpoint pod', async () => {
    pods = (await platformPods(kube)).filter((p) => p.metadata.namespace === 'serving');
    const decided = pods.every((p) => p.spec.nodeName || unschedulableReason(p));
    return pods.length >= ENDPOINTS.length && decided ? true : undefined;
  }, 90_000, 500);
  const endpointOf = (p: any) => ENDPOINTS.map((e) => e.name).filter((n) => p.metadata.name.startsWith(`${n}-`)).sort((a, b) => b.length - a.length)[0];
  const pending = [...new Set(pods.filter((p) => !p.spec.nodeName).map(endpointOf))].sort();
  expect(pending).toEqual(flagged.sort());
  for (const p of pods.filter((x) => x.spec.nodeName)) {
    expect([p.metadata.name, expectedGroups(cluster, p)]).toEqual([p.metadata.name, expect.arrayContaining([nodes.get(p.spec.nodeName)])]);
  }
  // The scheduler's reasons name the resource the check named.
  const reasons = pods.filter((p) => !p.spec.nodeName).map((p) => `${endpointOf(p)}: ${unschedulableReason(p)}`);
  expect(reasons.find((r) => r.startsWith('too-much-cpu'))).toMatch(/Insufficient cpu/);
  expect(reasons.find((r) => r.startsWith('too-much-memory'))).toMatch(/Insufficient memory/);
});

/**
 * The synth-time schedulability check against the real scheduler, in both directions: endpoints
 * that fit their pool and endpoints that do not (too many GPUs, CPU or memory for one node of the
 * pool), synthesized with the check downgraded to a warning so that the unschedulable ones are
 * emitted too. The endpoints the check flags are exactly the ones whose pods the scheduler leaves
 * Pending (`Unschedulable`); every other pod is bound to a node of its pool. (More GPUs per pod than a
 * node of the pool has is not a check but a ValidationError of the endpoint: it is never emitted.)
 */
import { App, Chart } from 'cdk8s';
import { Cluster, startCluster, synthObjects } from './cluster';
import { expectedGroups, platformPods, queuedJobs, unschedulableReason } from './expectations';
import { MlPlatform, ModelEndpoint, TuningSweep } from '../../src/cdk8s';
import { checkPlatform } from '../../src/cdk8s/checks';
import { Cpu, ModelSource, Runtime, Scaling, Size } from '../../src/core';

/** Endpoints on the a10g pool (g5.2xlarge: 8 vCPU, 32 GiB, 1 A10G per node): which fit one node. */
const ENDPOINTS: Array<{ name: string; cpu: number; memoryGiB: number; gpus: number; fits: boolean }> = [
  { name: 'fits', cpu: 4, memoryGiB: 16, gpus: 1, fits: true },
  { name: 'fits-cpu-only', cpu: 2, memoryGiB: 4, gpus: 0, fits: true },
  { name: 'too-much-cpu', cpu: 12, memoryGiB: 16, gpus: 1, fits: false },
  { name: 'too-much-memory', cpu: 4, memoryGiB: 40, gpus: 1, fits: false },
];

let cluster: Cluster;
let flagged: string[];
/** What the synth-time admission check (Kueue 0.19's rules on the synthesized objects) says of the two sweeps. */
let admissionFindings: string[];

beforeAll(async () => {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'sched');
  const platform = new MlPlatform(chart, 'ml', { namespace: 'mlplatform', checks: { schedulability: 'warning', capacity: 'warning' } });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 4 });
  platform.addTenant('serving', { quota: { cpu: Cpu.cores(200), memory: Size.gibibytes(800), gpus: { a10g: 40 }, pods: 100 } });
  // A queued tenant with 4 A10Gs and two sweeps of 3 one-GPU workers each: each fits the quota alone, both do not.
  platform.addTenant('batch', { quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: 4 } }, queue: true });
  for (const name of ['sweep-first', 'sweep-second']) {
    new TuningSweep(chart, name, {
      platform,
      namespace: 'batch',
      trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', '-m', 'train'], cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, accelerator: 'nvidia-a10g' },
      parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 6, workers: 3 },
      checks: { schedulability: 'warning', capacity: 'warning', tenancy: 'warning' },
    });
  }
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
  admissionFindings = checkPlatform(chart).filter((f) => f.check === 'admission').map((f) => f.message);
  flagged = ENDPOINTS.map((e) => e.name).filter((name) => checkPlatform(chart).some((f) => f.check === 'schedulability' && f.workload.includes(`/${name}`)));
  cluster = await startCluster({ name: 'sched', platform, objects, kueue: true });
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

test("Kueue admits the queued sweep that fits the tenant's GPU quota and holds the one beyond it", async () => {
  const kube = cluster.plane.admin;
  let jobs: Awaited<ReturnType<typeof queuedJobs>> = [];
  await kube.waitFor('one sweep admitted and one held for quota', async () => {
    jobs = await queuedJobs(kube);
    const held = jobs.filter((j) => !j.admitted && /QuotaReserved=False/.test(j.why ?? ''));
    return jobs.length === 2 && jobs.filter((j) => j.admitted).length === 1 && held.length === 1 ? true : undefined;
  }, 60_000, 500);
  const held = jobs.find((j) => !j.admitted)!;
  // Each sweep alone fits its ClusterQueue (3 of 4 GPUs): the synth-time admission check flags neither,
  // and the real Kueue admits one of them; the other waits only for *unused* quota, not for a quota it can never get.
  expect(admissionFindings).toEqual([]);
  // Kueue's own words: the held Job waits for nvidia.com/gpu quota of the pool's flavor.
  expect(held.why).toMatch(/insufficient unused quota for nvidia\.com\/gpu/);
  // The held Job stays suspended: none of its pods exist.
  const pods = (await platformPods(kube)).filter((p) => p.metadata.namespace === 'batch' && p.metadata.labels?.['job-name'] === held.job.split('/')[1]);
  expect(pods).toEqual([]);
});

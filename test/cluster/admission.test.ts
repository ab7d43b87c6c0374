/**
 * The synth-time Kueue admission check against the real Kueue manager (sigs.k8s.io/kueue v0.19.2), in
 * both directions: a queued sweep whose workers fit the tenant's ClusterQueue, one whose workers
 * exceed the flavor's nominal quota, and one in a tenant whose ClusterQueue was patched not to cover
 * ephemeral-storage (issue #21 item 1). The platform's `admission` check is downgraded to a warning so
 * that the refused ones are emitted too. The sweeps the check flags are exactly the ones Kueue never
 * admits, for the reason the check names; the other is admitted.
 */
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import { Cluster, startCluster, synthObjects } from './cluster';
import { queuedJobs } from './expectations';
import { MlPlatform, TuningSweep } from '../../src/cdk8s';
import { checkPlatform } from '../../src/cdk8s/checks';
import { Cpu, Size } from '../../src/core';

let cluster: Cluster;
let flagged: Map<string, string>;

beforeAll(async () => {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'adm');
  const platform = new MlPlatform(chart, 'ml', { namespace: 'mlplatform', checks: { admission: 'warning', capacity: 'warning', tenancy: 'warning' } });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 8 });
  platform.addTenant('batch', { quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: 4 } }, queue: true });
  platform.addTenant('legacy', { quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(256), gpus: { a10g: 4 } }, queue: true });
  // The legacy tenant's ClusterQueue without ephemeral-storage, as it was before item 1 was fixed.
  const legacy = platform.node.findAll().find((c): c is ApiObject => c instanceof ApiObject && c.kind === 'ClusterQueue' && c.name === 'ml-legacy')!;
  legacy.addJsonPatch(JsonPatch.replace('/spec/resourceGroups/0/coveredResources', ['cpu', 'memory']));
  legacy.addJsonPatch(JsonPatch.remove('/spec/resourceGroups/0/flavors/0/resources/2'));
  const sweep = (name: string, namespace: string, workers: number) => new TuningSweep(chart, name, {
    platform,
    namespace,
    trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', '-m', 'train'], cpu: Cpu.cores(2), memory: Size.gibibytes(8), gpus: 1, accelerator: 'nvidia-a10g' },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 10, workers },
    checks: { capacity: 'warning', tenancy: 'warning' },
  });
  sweep('fits', 'batch', 3);
  sweep('too-many', 'batch', 5);
  sweep('uncovered', 'legacy', 1);
  const objects = synthObjects(app);
  flagged = new Map(checkPlatform(chart).filter((f) => f.check === 'admission').map((f) => [f.workload.split('/')[1], f.message]));
  cluster = await startCluster({ name: 'adm', platform, objects, kueue: true });
});

afterAll(async () => {
  await cluster?.stop();
});

test('the check flags the sweep beyond the flavor quota and the one whose ClusterQueue does not cover ephemeral-storage', () => {
  expect([...flagged.keys()].sort()).toEqual(['too-many', 'uncovered']);
  expect(flagged.get('too-many')).toContain('insufficient quota for nvidia.com/gpu in flavor ml-a10g: 5 pods request 5 > 4');
  expect(flagged.get('uncovered')).toContain('"resource ephemeral-storage unavailable in ClusterQueue" ml-legacy');
});

test('Kueue admits exactly the sweep the check lets through, and gives the check\'s reasons for the others', async () => {
  const kube = cluster.plane.admin;
  let jobs: Awaited<ReturnType<typeof queuedJobs>> = [];
  await kube.waitFor('Kueue decided on the three sweeps', async () => {
    jobs = await queuedJobs(kube);
    const refused = jobs.filter((j) => !j.admitted && /QuotaReserved=False/.test(j.why ?? ''));
    return jobs.length === 3 && jobs.filter((j) => j.admitted).length === 1 && refused.length === 2 ? true : undefined;
  }, 120_000, 500);
  const of = (sweep: string) => jobs.find((j) => j.job.startsWith(`${sweep === 'uncovered' ? 'legacy' : 'batch'}/${sweep}-workers-`))!;
  expect(of('fits').admitted).toBe(true);
  // Kueue's own words (pkg/scheduler/flavorassigner/flavorassigner.go): the same rule the check applies.
  expect(of('too-many').why).toMatch(/insufficient quota for nvidia\.com\/gpu in flavor ml-a10g, .*current podset request \(5\) > maximum capacity \(4\)/);
  expect(of('uncovered').why).toMatch(/resource ephemeral-storage unavailable in ClusterQueue/);
});

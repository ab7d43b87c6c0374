/**
 * Generated platforms on the real engines: the fuzzer's valid scenarios (test/fuzz/arbitraries:
 * every option family of the four constructs — stores, exposures, pools with MIG and time-slicing,
 * tenants with and without queues, pipelines, sweeps, endpoints) with fixed seeds, each on its own
 * control plane with Kueue. What passes the synth-time checks must be accepted by the API server,
 * get all its pods, have them placed on their pools, and have its queued Jobs admitted.
 *
 * `CLUSTER_SEEDS=1,2,3` picks the seeds (default: two).
 */
import { App, Chart } from 'cdk8s';
import * as fc from 'fast-check';
import { build, scenario } from '../fuzz/arbitraries/scenario';
import { Cluster, startCluster, synthObjects } from './cluster';
import { expectPodsPlaced, expectQueuedJobsAdmitted, expectWorkloadPods, QUEUE_LABEL } from './expectations';

const SEEDS = (process.env.CLUSTER_SEEDS ?? '11,23').split(',').map((s) => Number(s.trim()));

describe.each(SEEDS)('generated platform, seed %i', (seed) => {
  let cluster: Cluster;
  let objects: any[];

  beforeAll(async () => {
    const [s] = fc.sample(scenario({ pipelines: 2, sweeps: 2, endpoints: 2 }), { seed, numRuns: 1 });
    const app = new App({ outdir: '/nonexistent' });
    const chart = new Chart(app, 'generated');
    const built = build(chart, s);
    objects = synthObjects(app);
    cluster = await startCluster({ name: `seed-${seed}`, platform: built.platform, objects, kueue: true });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('the API server accepts every object, without a warning', () => {
    expect(cluster.problems).toEqual([]);
  });

  test('every pod is created and placed on its pool', async () => {
    await expectWorkloadPods(cluster, objects);
    await expectPodsPlaced(cluster);
  });

  test('Kueue admits every queued Job', async () => {
    const queued = objects.filter((o) => o.kind === 'Job' && o.metadata.labels?.[QUEUE_LABEL]);
    await expectQueuedJobsAdmitted(cluster.plane.admin, queued.length);
  });
});

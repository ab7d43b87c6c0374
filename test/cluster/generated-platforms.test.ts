/**
 * Generated platforms on the real engines: the fuzzer's valid scenarios (test/fuzz/arbitraries:
 * every option family of the four constructs — stores, exposures, pools with MIG and time-slicing,
 * tenants with and without queues, pipelines, sweeps, endpoints) with fixed seeds, each on its own
 * control plane with Kueue. What passes the synth-time checks must be accepted by the API server,
 * get all its pods, have them placed on their pools, and have its queued Jobs admitted.
 *
 * `CLUSTER_SEEDS=1,2,3` picks the seeds (default: two). Beside them, the benchmark's platform (four
 * tenants, two of them queued, four pools — whole GPUs, time-sliced, H100, MIG — and twelve pipelines,
 * sweeps and endpoints) on one cluster.
 */
import { App, Chart } from 'cdk8s';
import * as fc from 'fast-check';
import { Cluster, startCluster, synthObjects } from './cluster';
import { expectPodsPlaced, expectQueuedJobsAdmitted, expectWorkloadPods, QUEUE_LABEL } from './expectations';
import { buildBenchPlatform } from '../../bench/workloads';
import { MlPlatform } from '../../src/cdk8s';
import { build, scenario } from '../fuzz/arbitraries/scenario';

const SEEDS = (process.env.CLUSTER_SEEDS ?? '11,23').split(',').map((s) => Number(s.trim()));

/** A platform to apply: its construct and every object of its app. */
type Declared = { platform: MlPlatform; objects: any[] };

const CASES: Array<[string, () => Declared]> = [
  ...SEEDS.map((seed): [string, () => Declared] => [`generated platform, seed ${seed}`, () => {
    const [s] = fc.sample(scenario({ pipelines: 2, sweeps: 2, endpoints: 2 }), { seed, numRuns: 1 });
    const app = new App({ outdir: '/nonexistent' });
    const built = build(new Chart(app, 'generated'), s);
    return { platform: built.platform, objects: synthObjects(app) };
  }]),
  ['the benchmark platform: 4 tenants, 4 pools, 12 workloads', () => {
    const app = new App({ outdir: '/nonexistent' });
    const platform = buildBenchPlatform(new Chart(app, 'bench'), 12);
    return { platform, objects: synthObjects(app) };
  }],
];

describe.each(CASES)('%s', (name, declare) => {
  let cluster: Cluster;
  let objects: any[];

  beforeAll(async () => {
    const d = declare();
    objects = d.objects;
    cluster = await startCluster({ name: name.replace(/[^a-z0-9]+/gi, '-').slice(0, 30), platform: d.platform, objects, kueue: true });
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

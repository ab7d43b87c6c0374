import { chartFootprint, cpuMillis, memoryBytes } from '../../bench/footprint';
import { MlPlatform } from '../../src/cdk8s';

describe('footprint', () => {
  test('quantity parsing', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('2')).toBe(2000);
    expect(memoryBytes('96Mi')).toBe(96 * 2 ** 20);
    expect(memoryBytes('1G')).toBe(1e9);
  });

  // Issue: the default platform (tracking, database, object store, Argo Workflows controller as
  // configured through its chart values) requests at most 500m CPU and 1 GiB memory in total.
  test('the default platform stays within 500m CPU and 1 GiB requested', () => {
    const f = chartFootprint((chart) => new MlPlatform(chart, 'ml'));
    expect(f.components.map((c) => [c.component, c.replicas, c.cpuMillis, c.memoryBytes / 2 ** 20])).toEqual([
      ['StatefulSet/ml-postgres', 1, 100, 256],
      ['StatefulSet/ml-s3', 1, 100, 192],
      ['Deployment/ml-tracking', 1, 100, 320],
      ['argo-workflows controller', 1, 50, 96],
    ]);
    expect(f.cpuMillis).toBeLessThanOrEqual(500);
    expect(f.memoryBytes).toBeLessThanOrEqual(2 ** 30);
    // 26, plus the 6 Secrets the bootstrap fills, created empty so that its Role needs no `create`.
    expect(f.objects).toBe(32);
  });

  test('an HPA counts its minReplicas', () => {
    const f = chartFootprint((chart) => new MlPlatform(chart, 'ml', { tracking: { autoscaling: { minReplicas: 3, maxReplicas: 6 } } }));
    expect(f.components.find((c) => c.component === 'Deployment/ml-tracking')).toMatchObject({ replicas: 3, cpuMillis: 300 });
  });
});

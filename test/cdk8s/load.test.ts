// The library takes only types from cdk8s-plus-27 (its kinds are in KUBE): no process that imports
// it loads cdk8s-plus-27 (≈ 80 ms and ≈ 13 MiB of RSS), unless it converts a quantity for cdk8s-plus itself.
import { Cpu } from '../../src/core';

function unloadable(): never {
  throw new Error('cdk8s-plus-27 was loaded');
}

// doMock outlives isolateModules: undo it after each test.
afterEach(() => jest.dontMock('cdk8s-plus-27'));

test('a platform with pipelines (multi-node steps included), sweeps and endpoints synthesizes with cdk8s-plus-27 unloadable', async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('cdk8s-plus-27', unloadable);
    const { App, Chart } = await import('cdk8s');
    const { buildBenchPlatform } = await import('../../bench/workloads');
    const chart = new Chart(new App({ outdir: '/dev/null' }), 'c');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      buildBenchPlatform(chart, 10);
      const kinds = new Set(chart.toJson().map((o: { kind: string }) => o.kind));
      for (const kind of ['WorkflowTemplate', 'Job', 'Deployment', 'HorizontalPodAutoscaler', 'ScaledObject', 'NetworkPolicy', 'ResourceQuota', 'StatefulSet']) expect([kind, kinds.has(kind)]).toEqual([kind, true]);
    } finally {
      warn.mockRestore();
    }
  });
});

test('toKplusCpu loads cdk8s-plus-27 on first use', async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('cdk8s-plus-27', unloadable);
    const { toKplusCpu } = await import('../../src/cdk8s');
    expect(() => toKplusCpu(Cpu.millis(250))).toThrow('cdk8s-plus-27 was loaded');
  });
  jest.dontMock('cdk8s-plus-27');
  const { toKplusCpu } = await import('../../src/cdk8s');
  expect(toKplusCpu(Cpu.millis(250)).amount).toBe('250m');
});

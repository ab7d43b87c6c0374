import * as fc from 'fast-check';
import { Cpu, GpuPoolSpec, Issues, resolveCompute, resolveGpuPool, Size, ValidationError } from '../../src/core';

function pools(): GpuPoolSpec[] {
  const issues = new Issues('test');
  const list = [
    resolveGpuPool(issues, 'a', 'a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 }),
    resolveGpuPool(issues, 'b', 'h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2 }),
    resolveGpuPool(issues, 'c', 'l4-shared', { accelerator: 'nvidia-l4', maxNodes: 2, sharing: { timeSlicing: { replicas: 4 } } }),
  ];
  issues.throwIfAny();
  return list as GpuPoolSpec[];
}

function resolve(o: Parameters<typeof resolveCompute>[2], p: GpuPoolSpec[] = pools()) {
  const issues = new Issues('Step "train"');
  const spec = resolveCompute(issues, 'resources', o, p);
  issues.throwIfAny();
  return spec;
}

function fails(o: Parameters<typeof resolveCompute>[2], p: GpuPoolSpec[] = pools()): ValidationError {
  try {
    resolve(o, p);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('resolveCompute', () => {
  test('defaults: 500m CPU bursting to 1, 1Gi memory, 2Gi scratch, no GPU', () => {
    const s = resolve({});
    expect([s.cpu.toString(), s.cpuLimit.toString(), s.memory.toString(), s.ephemeralStorage.toString(), s.gpu]).toEqual(['500m', '1', '1Gi', '2Gi', undefined]);
  });

  test('a GPU request lands on the first pool of its accelerator that fits', () => {
    const s = resolve({ gpus: 8, accelerator: 'nvidia-h100-80gb' });
    expect(s.gpu).toMatchObject({ count: 8, resourceName: 'nvidia.com/gpu', nodeSelector: { 'mlplatform.io/gpu-pool': 'h100' } });
    expect(s.gpu!.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(resolve({ gpus: 1 }).gpu!.pool!.pool).toBe('a10g');
    expect(resolve({ gpus: 1, pool: 'l4-shared' }).gpu!.pool!.pool).toBe('l4-shared');
  });

  test('without pools, a GPU workload selects nodes by accelerator label', () => {
    const s = resolve({ gpus: 2, accelerator: 'nvidia-l4' }, []);
    expect(s.gpu).toEqual({ count: 2, resourceName: 'nvidia.com/gpu', nodeSelector: { 'mlplatform.io/accelerator': 'nvidia-l4' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(fails({ gpus: 1 }, []).issues[0]).toMatchObject({ path: 'resources.accelerator' });
  });

  test('errors name the path, the value and the pools there are', () => {
    expect(fails({ gpus: 1.5 }).message).toContain('`resources.gpus` (1.5): must be a whole number ≥ 0');
    expect(fails({ gpus: 16, accelerator: 'nvidia-h100-80gb' }).message).toContain('`resources.gpus` (16): exceeds what one node of h100 (8 per container) offers');
    expect(fails({ gpus: 2, pool: 'l4-shared' }).message).toContain('l4-shared (1 per container)');
    expect(fails({ gpus: 1, accelerator: 'nvidia-t4' }).message).toContain('pools have: a10g (nvidia-a10g), h100 (nvidia-h100-80gb), l4-shared (nvidia-l4)');
    expect(fails({ gpus: 1, pool: 'nope' }).issues[0]).toMatchObject({ path: 'resources.pool', value: 'nope' });
    expect(fails({ accelerator: 'nvidia-a10g' }).issues[0]).toMatchObject({ path: 'resources.gpus' });
    expect(fails({ cpu: Cpu.cores(2), cpuLimit: Cpu.cores(1) }).issues[0]).toMatchObject({ path: 'resources.cpuLimit', value: '1' });
    expect(fails({ memory: Size.gibibytes(1), sharedMemory: Size.gibibytes(1) }).issues[0]).toMatchObject({ path: 'resources.sharedMemory' });
  });

  test('property: any GPU count up to a pool’s per-container maximum is placed on a pool that advertises it', () => {
    const p = pools();
    fc.assert(fc.property(fc.constantFrom(...p), fc.integer({ min: 1, max: 8 }), (pool, n) => {
      const issues = new Issues('x');
      const s = resolveCompute(issues, 'r', { gpus: n, pool: pool.pool }, p);
      if (n <= pool.maxPerContainer) {
        return issues.ok && s.gpu!.pool === pool && s.gpu!.count === n && s.gpu!.count <= pool.allocatablePerNode;
      }
      return !issues.ok && issues.all[0].path === 'r.gpus';
    }));
  });
});

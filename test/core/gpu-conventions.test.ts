import * as fc from 'fast-check';
import { AcceleratorCatalog } from '../../src/core/accelerators';
import {
  ACCELERATOR_LABEL, acceleratorNodeSelector, CAPACITY_TYPE_LABEL, cheapestInstanceType, DEVICE_PLUGIN_CONFIG_LABEL, diskSizeGiBFor,
  eksAllocatableEphemeralStorageMiB, eksReservedCpuMillicores, eksReservedMemoryMiB, fitInstanceType, GPU_POOL_LABEL, GPU_TAINT, GPU_TOLERATION,
  gpuPoolConventions, MIG_CONFIG_LABEL, nodeAllocatable,
} from '../../src/core/gpu-conventions';
import type { GpuPoolDeclaration } from '../../src/core/gpu-conventions';
import { Size } from '../../src/core/quantities';
import { validationError } from '../support/errors';

const catalog = AcceleratorCatalog.DEFAULT;


describe('label and taint convention', () => {
  test('constants', () => {
    expect([ACCELERATOR_LABEL, GPU_POOL_LABEL, CAPACITY_TYPE_LABEL, DEVICE_PLUGIN_CONFIG_LABEL, MIG_CONFIG_LABEL]).toEqual([
      'mlplatform.io/accelerator', 'mlplatform.io/gpu-pool', 'mlplatform.io/capacity-type', 'nvidia.com/device-plugin.config', 'nvidia.com/mig.config',
    ]);
    expect(GPU_TAINT).toEqual({ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' });
    expect(GPU_TOLERATION).toEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(acceleratorNodeSelector('nvidia-l4')).toEqual({ 'mlplatform.io/accelerator': 'nvidia-l4' });
  });
});

describe('gpuPoolConventions', () => {
  test('whole GPUs: nvidia.com/gpu, GPUs per node, the taint and its toleration', () => {
    expect(gpuPoolConventions({ name: 'a10g', accelerator: 'nvidia-a10g', instanceType: 'g5.12xlarge', capacityType: 'on-demand' })).toEqual({
      pool: 'a10g',
      accelerator: 'nvidia-a10g',
      instanceType: 'g5.12xlarge',
      sharing: 'none',
      labels: {
        'mlplatform.io/accelerator': 'nvidia-a10g',
        'mlplatform.io/gpu-pool': 'a10g',
        'mlplatform.io/capacity-type': 'on-demand',
        'nvidia.com/device-plugin.config': 'mlplatform-whole-gpu',
      },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      resourceName: 'nvidia.com/gpu',
      allocatablePerNode: 4,
      maxPerContainer: 4,
      nodeSelector: { 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      devicePluginConfigName: 'mlplatform-whole-gpu',
      devicePluginConfig: { version: 'v1', flags: { migStrategy: 'none' } },
      karpenterAware: true,
    });
  });

  test('MIG: nvidia.com/mig-<profile>, instances per GPU x GPUs, the MIG manager label, not Karpenter-provisionable', () => {
    const c = gpuPoolConventions({ name: 'a100-mig', accelerator: 'nvidia-a100-40gb', instanceType: 'p4d.24xlarge', capacityType: 'spot', sharing: { mig: '1g.5gb' } });
    expect(c.sharing).toBe('mig');
    expect(c.resourceName).toBe('nvidia.com/mig-1g.5gb');
    expect(c.allocatablePerNode).toBe(56);
    expect(c.maxPerContainer).toBe(56);
    expect(c.labels).toEqual({
      'mlplatform.io/accelerator': 'nvidia-a100-40gb',
      'mlplatform.io/gpu-pool': 'a100-mig',
      'mlplatform.io/capacity-type': 'spot',
      'nvidia.com/device-plugin.config': 'mlplatform-mig-mixed',
      'nvidia.com/mig.config': 'all-1g.5gb',
    });
    expect(c.devicePluginConfig).toEqual({ version: 'v1', flags: { migStrategy: 'mixed' } });
    expect(c.karpenterAware).toBe(false);
    expect(c.taints).toEqual([GPU_TAINT]);
    expect(c.tolerations).toEqual([GPU_TOLERATION]);
  });

  test('MIG on H100: 1g.10gb is 7 per GPU, so 56 per p5.48xlarge; 3g.40gb gives 2 x 8 = 16', () => {
    const pool = (mig: string) => gpuPoolConventions({ name: 'h100', accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', capacityType: 'on-demand', sharing: { mig } });
    expect([pool('1g.10gb').resourceName, pool('1g.10gb').allocatablePerNode]).toEqual(['nvidia.com/mig-1g.10gb', 56]);
    expect([pool('3g.40gb').resourceName, pool('3g.40gb').allocatablePerNode]).toEqual(['nvidia.com/mig-3g.40gb', 16]);
  });

  test('time-slicing: nvidia.com/gpu x replicas, one share per container, the device plugin config', () => {
    const c = gpuPoolConventions({ name: 'l4-shared', accelerator: 'nvidia-l4', instanceType: 'g6.12xlarge', capacityType: 'spot', sharing: { timeSlicing: { replicas: 4 } } });
    expect([c.sharing, c.resourceName, c.allocatablePerNode, c.maxPerContainer, c.karpenterAware]).toEqual(['time-slicing', 'nvidia.com/gpu', 16, 1, true]);
    expect(c.devicePluginConfigName).toBe('mlplatform-time-sliced-4');
    expect(c.labels['nvidia.com/device-plugin.config']).toBe('mlplatform-time-sliced-4');
    expect(c.labels['nvidia.com/mig.config']).toBeUndefined();
    expect(c.devicePluginConfig).toEqual({
      version: 'v1',
      flags: { migStrategy: 'none' },
      sharing: { timeSlicing: { renameByDefault: false, failRequestsGreaterThanOne: true, resources: [{ name: 'nvidia.com/gpu', replicas: 4 }] } },
    });
  });

  test('every bad field is reported once, with the fix', () => {
    const e = validationError(() => gpuPoolConventions({
      name: 'L4_pool', accelerator: 'nvidia-l4', instanceType: 'g5.xlarge', capacityType: 'reserved' as never, sharing: { mig: '1g.5gb' },
    }));
    expect(e.message).toBe([
      'GPU pool "L4_pool": 4 invalid props',
      '  - `name` ("L4_pool"): must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and "-", '
        + 'starting and ending with a letter or digit (for example "l4-pool-95168f01")',
      '  - `capacityType` ("reserved"): must be "on-demand" or "spot"',
      '  - `instanceType` ("g5.xlarge"): carries nvidia-a10g, not nvidia-l4; use one of g6.xlarge, g6.2xlarge, g6.4xlarge, g6.8xlarge, '
        + 'g6.16xlarge, g6.12xlarge, g6.24xlarge, g6.48xlarge',
      '  - `sharing.mig` ("1g.5gb"): nvidia-l4 does not support MIG; use timeSlicing, or an accelerator with MIG '
        + '(nvidia-a100-40gb, nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h200-141gb)',
    ].join('\n'));
  });

  test.each<[string, Partial<GpuPoolDeclaration>, string, string]>([
    ['unknown accelerator', { accelerator: 'nvidia-v100' }, 'accelerator', 'is not a known accelerator; use one of nvidia-t4, '],
    ['unknown instance type', { instanceType: 'p3.2xlarge' }, 'instanceType', 'is not a known GPU instance type; use one of '],
    ['a profile the GPU lacks', { sharing: { mig: '1g.10gb' } }, 'sharing.mig', 'is not a MIG profile of nvidia-h200-141gb; use one of 1g.18gb, 1g.35gb, '],
    ['one replica', { sharing: { timeSlicing: { replicas: 1 } } }, 'sharing.timeSlicing.replicas', 'must be an integer of 2 or more'],
    ['fractional replicas', { sharing: { timeSlicing: { replicas: 2.5 } } }, 'sharing.timeSlicing.replicas', 'must be an integer of 2 or more'],
    ['both kinds of sharing', { sharing: { mig: '1g.18gb', timeSlicing: { replicas: 2 } } as never }, 'sharing', 'must be { mig: "<profile>" } or'],
    ['empty sharing', { sharing: {} as never }, 'sharing', 'must be { mig: "<profile>" } or'],
  ])('rejects %s', (_, change, path, message) => {
    const e = validationError(() => gpuPoolConventions({
      name: 'h200', accelerator: 'nvidia-h200-141gb', instanceType: 'p5en.48xlarge', capacityType: 'on-demand', ...change,
    } as GpuPoolDeclaration));
    expect(e.issues.map((i) => i.path)).toEqual([path]);
    expect(e.issues[0].message.startsWith(message)).toBe(true);
  });

  test('property: per-node count is instances-per-GPU x GPUs for MIG, GPUs x replicas for time-slicing', () => {
    const migCases = catalog.instanceTypes.flatMap((t) => catalog.accelerator(t.accelerator).migProfiles.map((p) => ({ t, p })));
    fc.assert(fc.property(fc.constantFrom(...migCases), fc.constantFrom<'on-demand' | 'spot'>('on-demand', 'spot'), ({ t, p }, capacityType) => {
      const c = gpuPoolConventions({ name: 'pool', accelerator: t.accelerator, instanceType: t.name, capacityType, sharing: { mig: p.name } });
      expect(c.allocatablePerNode).toBe(p.maxPerGpu * t.gpuCount);
      expect(c.resourceName).toBe(`nvidia.com/mig-${p.name}`);
      expect(c.labels[CAPACITY_TYPE_LABEL]).toBe(capacityType);
    }));
    fc.assert(fc.property(fc.constantFrom(...catalog.instanceTypes), fc.integer({ min: 2, max: 64 }), (t, replicas) => {
      const c = gpuPoolConventions({ name: 'ts', accelerator: t.accelerator, instanceType: t.name, capacityType: 'spot', sharing: { timeSlicing: { replicas } } });
      expect([c.resourceName, c.allocatablePerNode, c.maxPerContainer]).toEqual(['nvidia.com/gpu', t.gpuCount * replicas, 1]);
      expect(c.nodeSelector).toEqual({ [ACCELERATOR_LABEL]: t.accelerator, [GPU_POOL_LABEL]: 'ts' });
    }));
  });
});

describe('node allocatable (EKS kubelet reservation)', () => {
  test('CPU reservation: 6% / 1% / 0.5% / 0.25% tiers', () => {
    expect([1, 2, 4, 16, 48, 96, 192].map(eksReservedCpuMillicores)).toEqual([60, 70, 80, 110, 190, 310, 550]);
    expect(eksReservedMemoryMiB(110)).toBe(1465);
  });

  test.each([
    // [type, maxPods, Karpenter's published allocatable cpu (m), memory (Mi)] for AL2023
    ['g4dn.xlarge', 29, 3920, 14481],
    ['g6.xlarge', 58, 3920, 14162],
    ['g6e.48xlarge', 492, 191450, 1449132],
    ['p4d.24xlarge', 737, 95690, 1082712],
    ['p5.48xlarge', 100, 191450, 1938410],
  ])('%s with %i pods matches Karpenter: %im CPU, %iMi', (name, maxPods, cpu, mem) => {
    expect(nodeAllocatable(catalog.instanceType(name), { maxPods })).toEqual({
      cpuMillicores: cpu,
      memoryMiB: mem,
      // 100 GiB less 1 GiB kubeReserved less int64(capacity × float32(0.1)) = 10 GiB + 160 bytes, rounded down.
      ephemeralStorageMiB: 91135,
      gpus: catalog.instanceType(name).gpuCount,
      accelerator: catalog.instanceType(name).accelerator,
      efaInterfaces: catalog.instanceType(name).efaInterfaces,
    });
  });

  test('ephemeral storage: the node volume less kubeReserved (1Gi) and int64(capacity × float32(0.1)) (nodefs.available<10%)', () => {
    const t = catalog.instanceType('g4dn.12xlarge');
    expect(nodeAllocatable(t).ephemeralStorageMiB).toBe(91135);
    // 500 GiB: 536870912000 − 1073741824 − 53687092000 bytes (the float32 tenth is 800 bytes above 50 GiB).
    expect(nodeAllocatable(t, { diskSize: Size.gibibytes(500) }).ephemeralStorageMiB).toBe(Math.floor((536870912000 - 1073741824 - 53687092000) / 2 ** 20));
    expect(eksAllocatableEphemeralStorageMiB(Size.gibibytes(20))).toBe(17407);
    expect(diskSizeGiBFor(Size.gibibytes(110))).toBe(124);
    expect(eksAllocatableEphemeralStorageMiB(Size.gibibytes(124)) * 2 ** 20).toBeGreaterThanOrEqual(Size.gibibytes(110).bytes);
    expect(eksAllocatableEphemeralStorageMiB(Size.gibibytes(123)) * 2 ** 20).toBeLessThan(Size.gibibytes(110).bytes);
    // The seed-23 scenario: a 110Gi server on g4dn.12xlarge with the default volume does not fit.
    expect(fitInstanceType('g4dn.12xlarge', { ephemeralStorageGiB: 110 }).reasons).toEqual(['needs 112640Mi ephemeral storage; a g4dn.12xlarge node with a 100Gi volume allocates 91135Mi']);
    expect(fitInstanceType('g4dn.12xlarge', { ephemeralStorageGiB: 110 }, { diskSize: Size.gibibytes(124) }).fits).toBe(true);
    expect(() => fitInstanceType('g4dn.12xlarge', { ephemeralStorageGiB: -1 })).toThrow('`ephemeralStorageGiB` (-1): must be a number of GiB, 0 or more');
  });

  test('DaemonSet requests come off the top; bad options are rejected', () => {
    const t = catalog.instanceType('g5.xlarge');
    const base = nodeAllocatable(t);
    expect(base).toMatchObject({ cpuMillicores: 3920, memoryMiB: 13590 });
    expect(nodeAllocatable(t, { daemonSetCpuMillicores: 400, daemonSetMemoryMiB: 1024 })).toMatchObject({ cpuMillicores: 3520, memoryMiB: 12566 });
    const e = validationError(() => nodeAllocatable(t, { maxPods: 0, vmMemoryOverhead: 1, daemonSetCpuMillicores: -1 }));
    expect(e.issues.map((i) => i.path)).toEqual(['maxPods', 'vmMemoryOverhead', 'daemonSetCpuMillicores']);
  });

  test('property: allocatable is positive and below capacity on every type', () => {
    fc.assert(fc.property(fc.constantFrom(...catalog.instanceTypes), fc.integer({ min: 1, max: 250 }), (t, maxPods) => {
      const a = nodeAllocatable(t, { maxPods });
      expect(a.cpuMillicores).toBeGreaterThan(0);
      expect(a.cpuMillicores).toBeLessThan(t.vcpu * 1000);
      expect(a.memoryMiB).toBeGreaterThan(0);
      expect(a.memoryMiB).toBeLessThan(t.memoryGiB * 1024 * 0.925);
    }));
  });
});

describe('fit and cheapest', () => {
  test('a request that fits', () => {
    const r = fitInstanceType('p4d.24xlarge', { accelerator: 'nvidia-a100-40gb', gpus: 8, cpuCores: 90, memoryGiB: 1000, efa: true });
    expect(r.fits).toBe(true);
    expect(r.reasons).toEqual([]);
  });

  test('every unmet need is one reason', () => {
    const r = fitInstanceType('g5.xlarge', { accelerator: 'nvidia-a100-40gb', gpus: 8, cpuCores: 4, memoryGiB: 15, efa: true });
    expect(r.fits).toBe(false);
    expect(r.reasons).toEqual([
      'g5.xlarge carries nvidia-a10g, not nvidia-a100-40gb',
      'needs 8 GPUs on one node; g5.xlarge has 1',
      'needs 4000m CPU; g5.xlarge allocates 3920m of its 4 vCPU',
      'needs 15360Mi memory; g5.xlarge allocates 13590Mi of its 16Gi',
      'needs EFA; g5.xlarge has none',
    ]);
  });

  test('a malformed request is a ValidationError naming the fields', () => {
    const e = validationError(() => fitInstanceType('g5.xlarge', { accelerator: 'tpu', gpus: -1, cpuCores: Number.NaN, memoryGiB: -2 }));
    expect(e.issues.map((i) => i.path)).toEqual(['gpus', 'cpuCores', 'memoryGiB', 'accelerator']);
  });

  test('cheapest instance for a need', () => {
    expect(cheapestInstanceType({ accelerator: 'nvidia-a10g', gpus: 1, cpuCores: 6, memoryGiB: 20 })?.name).toBe('g5.2xlarge');
    expect(cheapestInstanceType({ accelerator: 'nvidia-h100-80gb', gpus: 8, efa: true })?.name).toBe('p5.48xlarge');
    expect(cheapestInstanceType({ accelerator: 'nvidia-h200-141gb', gpus: 8 })?.name).toBe('p5en.48xlarge');
    expect(cheapestInstanceType({ gpus: 1 })?.name).toBe('g4dn.xlarge');
    expect(cheapestInstanceType({ accelerator: 'nvidia-l4', gpus: 16 })).toBeUndefined();
  });

  test('property: the cheapest fitting type fits, and no priced type that fits is cheaper', () => {
    const request = fc.record({
      accelerator: fc.option(fc.constantFrom(...catalog.accelerators.map((a) => a.id)), { nil: undefined }),
      gpus: fc.integer({ min: 0, max: 8 }),
      cpuCores: fc.double({ min: 0, max: 200, noNaN: true }),
      memoryGiB: fc.double({ min: 0, max: 2100, noNaN: true }),
      efa: fc.boolean(),
    });
    fc.assert(fc.property(request, (r) => {
      const best = cheapestInstanceType(r);
      const fitting = catalog.instanceTypes.filter((t) => t.onDemandUsdPerHour !== undefined && fitInstanceType(t, r).fits);
      if (!best) {
        expect(fitting).toEqual([]);
        return;
      }
      expect(fitInstanceType(best, r).fits).toBe(true);
      expect(Math.min(...fitting.map((t) => t.onDemandUsdPerHour!))).toBe(best.onDemandUsdPerHour);
    }), { numRuns: 200 });
  });
});

import * as fc from 'fast-check';
import { BUILTIN_ACCELERATORS, BUILTIN_INSTANCE_TYPES, INSTANCE_FAMILIES } from '../../src/core/accelerator-catalog';
import type { AcceleratorProps, InstanceTypeProps } from '../../src/core/accelerator-catalog';
import { AcceleratorCatalog, defineAccelerator, defineInstanceType } from '../../src/core/accelerators';
import type { InstanceType } from '../../src/core/accelerators';
import { ValidationError } from '../../src/core/errors';

/*
 * Consistency properties of the pinned catalog, and the validation of custom entries.
 */

const catalog = AcceleratorCatalog.DEFAULT;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const anyType = fc.constantFrom(...catalog.instanceTypes);
const anyAccelerator = fc.constantFrom(...catalog.accelerators);
const anyMig = fc.constantFrom(...catalog.accelerators.flatMap((a) => a.migProfiles.map((p) => ({ a, p }))));

/** Pairs of sizes of one family with the same GPU count, smaller vCPU first. */
const sameShapePairs: [InstanceType, InstanceType][] = catalog.instanceTypes.flatMap((a) => catalog.instanceTypes
  .filter((b) => b.family === a.family && b.gpuCount === a.gpuCount && b.vcpu > a.vcpu)
  .map((b): [InstanceType, InstanceType] => [a, b]));

/** The paths of a ValidationError thrown by `fn` (fails when nothing is thrown). */
function issuePaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e.issues.map((i) => i.path);
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('catalog consistency', () => {
  test('the built-in declarations all validate and are all in DEFAULT', () => {
    expect(catalog.accelerators.map((a) => a.id)).toEqual(BUILTIN_ACCELERATORS.map((a) => a.id));
    expect(catalog.instanceTypes.map((t) => t.name)).toEqual(BUILTIN_INSTANCE_TYPES.map((t) => t.name));
    expect(INSTANCE_FAMILIES.map((f) => f.name)).toEqual(['g4dn', 'g5', 'g6', 'g6e', 'p4d', 'p4de', 'p5', 'p5e', 'p5en']);
  });

  test('every instance type references a known accelerator, and its family the same one', () => {
    fc.assert(fc.property(anyType, (t) => {
      expect(catalog.accelerator(t.accelerator).id).toBe(t.accelerator);
      expect(INSTANCE_FAMILIES.find((f) => f.name === t.family)?.accelerator).toBe(t.accelerator);
    }));
  });

  test('GPU counts, vCPUs and EFA interfaces are integers; GPUs and vCPUs positive; memory positive', () => {
    fc.assert(fc.property(anyType, (t) => {
      expect(Number.isInteger(t.gpuCount) && t.gpuCount > 0).toBe(true);
      expect(Number.isInteger(t.vcpu) && t.vcpu > 0).toBe(true);
      expect(Number.isInteger(t.efaInterfaces) && t.efaInterfaces >= 0).toBe(true);
      expect(t.memoryGiB).toBeGreaterThan(0);
    }));
  });

  test('every accelerator id is a DNS-1123 label; every label value it or an instance type writes is valid', () => {
    fc.assert(fc.property(anyAccelerator, (a) => {
      expect(a.id.length).toBeLessThanOrEqual(63);
      expect(a.id).toMatch(DNS_1123_LABEL);
      expect(a.gfdProduct).toMatch(LABEL_VALUE);
      expect(a.karpenterGpuName).toMatch(DNS_1123_LABEL);
    }));
    fc.assert(fc.property(anyType, (t) => {
      expect(t.name.length).toBeLessThanOrEqual(63);
      expect(t.name).toMatch(LABEL_VALUE);
      expect(t.name.startsWith(`${t.family}.`)).toBe(true);
    }));
  });

  test('within a family, a bigger size with the same GPU count costs more', () => {
    expect(sameShapePairs.length).toBeGreaterThan(20);
    fc.assert(fc.property(fc.constantFrom(...sameShapePairs), ([small, big]) => {
      if (small.onDemandUsdPerHour === undefined || big.onDemandUsdPerHour === undefined) return;
      expect(big.onDemandUsdPerHour).toBeGreaterThan(small.onDemandUsdPerHour);
      expect(big.memoryGiB).toBeGreaterThanOrEqual(small.memoryGiB);
    }));
  });

  test('every price is positive, and only p5e lacks one', () => {
    fc.assert(fc.property(anyType, (t) => {
      if (t.onDemandUsdPerHour === undefined) expect(t.priceNote).toBeDefined();
      else expect(t.onDemandUsdPerHour).toBeGreaterThan(0);
    }));
    expect(catalog.instanceTypes.filter((t) => t.onDemandUsdPerHour === undefined).map((t) => t.name)).toEqual(['p5e.48xlarge']);
  });

  test('total GPU memory is the per-GPU memory times the GPU count', () => {
    fc.assert(fc.property(anyType, (t) => {
      expect(t.totalGpuMemoryGB).toBe(catalog.accelerator(t.accelerator).memoryGB * t.gpuCount);
    }));
  });

  test('EC2-reported GPU memory never exceeds the published memory', () => {
    fc.assert(fc.property(anyAccelerator, (a) => {
      expect(a.ec2GpuMemoryMiB! / 1024).toBeLessThanOrEqual(a.memoryGB * 1.03);
      expect(a.ec2GpuMemoryMiB! / 1024).toBeGreaterThan(a.memoryGB * 0.9);
    }));
  });

  test('NVLink only on multi-GPU p sizes; EFA on every p size', () => {
    fc.assert(fc.property(anyType, (t) => {
      expect(t.nvlink).toBe(t.family.startsWith('p') && t.gpuCount > 1);
      if (t.family.startsWith('p')) expect(t.efaInterfaces).toBeGreaterThan(0);
    }));
  });

  test("MIG profiles fit the GPU: slices x instances within the GPU, named memory NVIDIA's rounding of the share", () => {
    fc.assert(fc.property(anyMig, ({ a, p }) => {
      expect(p.memorySlices * p.maxPerGpu).toBeLessThanOrEqual(a.migMemorySlices);
      expect(p.computeSlices * p.maxPerGpu).toBeLessThanOrEqual(a.migComputeSlices);
      expect(p.memoryGB).toBeLessThanOrEqual(a.memoryGB);
      expect(Math.abs(p.memoryGB - (a.memoryGB * p.memorySlices) / a.migMemorySlices)).toBeLessThanOrEqual(0.5);
      expect(p.resourceName).toBe(`nvidia.com/mig-${p.name}`);
      expect(p.name).toBe(`${p.computeSlices}g.${p.memoryGB}gb`);
    }));
  });

  test('profile names are unique per GPU', () => {
    fc.assert(fc.property(anyAccelerator, (a) => {
      expect(new Set(a.migProfiles.map((p) => p.name)).size).toBe(a.migProfiles.length);
    }));
  });
});

const VALID_ACCELERATOR: AcceleratorProps = {
  id: 'nvidia-a30',
  displayName: 'NVIDIA A30',
  memoryGB: 24,
  architecture: 'ampere',
  gfdProduct: 'NVIDIA-A30',
  migComputeSlices: 4,
  migMemorySlices: 4,
  migProfiles: [{ name: '1g.6gb', memorySlices: 1, maxPerGpu: 4 }, { name: '2g.12gb', memorySlices: 2, maxPerGpu: 2 }],
};

/** A DNS-1123-invalid string: empty, uppercase, a bad character, a leading '-', or too long. */
const badDnsLabel = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[a-z0-9-]{0,10}[A-Z_. ][a-z0-9-]{0,10}$/),
  fc.stringMatching(/^-[a-z0-9-]{0,20}$/),
  fc.stringMatching(/^[a-z0-9]{64,70}$/),
);
const notPositive = fc.oneof(fc.constant(0), fc.double({ max: 0, noNaN: true }), fc.constant(Number.NaN), fc.constant(Infinity));
const notPositiveInt = fc.oneof(notPositive, fc.double({ min: 0.01, max: 100, noNaN: true }).filter((n) => !Number.isInteger(n)));

/** One kind of bad accelerator input each: [path, mutation]. */
const badAccelerator: fc.Arbitrary<[string, Partial<Record<string, unknown>>]> = fc.oneof(
  badDnsLabel.map((id): [string, object] => ['id', { id }]),
  fc.constantFrom('', '   ').map((displayName): [string, object] => ['displayName', { displayName }]),
  notPositive.map((memoryGB): [string, object] => ['memoryGB', { memoryGB }]),
  fc.constantFrom('volta', 'Hopper', '').map((architecture): [string, object] => ['architecture', { architecture }]),
  fc.constantFrom('', 'has space', '-lead', 'x'.repeat(64)).map((gfdProduct): [string, object] => ['gfdProduct', { gfdProduct }]),
  fc.constantFrom('gpu', 'nvidia.com/', '/gpu').map((resourceName): [string, object] => ['resourceName', { resourceName }]),
  fc.constantFrom('amd', 'intel').map((vendor): [string, object] => ['vendor', { vendor }]),
  notPositiveInt.map((ec2GpuMemoryMiB): [string, object] => ['ec2GpuMemoryMiB', { ec2GpuMemoryMiB }]),
  fc.constantFrom('1g', '1g.6GB', 'g.6gb', '0g.6gb').map((name): [string, object] =>
    ['migProfiles[1].name', { migProfiles: [VALID_ACCELERATOR.migProfiles![0], { name, memorySlices: 1, maxPerGpu: 1 }] }]),
  fc.integer({ min: 3, max: 50 }).map((maxPerGpu): [string, object] =>
    ['migProfiles[1].maxPerGpu', { migProfiles: [VALID_ACCELERATOR.migProfiles![0], { name: '2g.12gb', memorySlices: 2, maxPerGpu }] }]),
  fc.constant<[string, object]>(['migProfiles[1].name', { migProfiles: [VALID_ACCELERATOR.migProfiles![0], VALID_ACCELERATOR.migProfiles![0]] }]),
);

const VALID_TYPE: InstanceTypeProps = { name: 'g6.xlarge', accelerator: 'nvidia-l4', gpuCount: 1, vcpu: 4, memoryGiB: 16, onDemandUsdPerHour: 0.8048 };

const badInstanceType: fc.Arbitrary<[string, object]> = fc.oneof(
  fc.constantFrom('', 'g6', 'G6.XLARGE', 'g6.x large', '.xlarge', `g6.${'x'.repeat(61)}`).map((name): [string, object] => ['name', { name }]),
  fc.constantFrom('nvidia-b200', '', 'NVIDIA-L4').map((accelerator): [string, object] => ['accelerator', { accelerator }]),
  notPositiveInt.map((gpuCount): [string, object] => ['gpuCount', { gpuCount }]),
  notPositiveInt.map((vcpu): [string, object] => ['vcpu', { vcpu }]),
  notPositive.map((memoryGiB): [string, object] => ['memoryGiB', { memoryGiB }]),
  notPositive.map((onDemandUsdPerHour): [string, object] => ['onDemandUsdPerHour', { onDemandUsdPerHour }]),
  fc.oneof(fc.integer({ max: -1 }), fc.constant(0.5)).map((efaInterfaces): [string, object] => ['efaInterfaces', { efaInterfaces }]),
  fc.integer({ min: 1, max: 1000 }).filter((n) => n !== 24).map((totalGpuMemoryGB): [string, object] => ['totalGpuMemoryGB', { totalGpuMemoryGB }]),
);

describe('custom entries are validated', () => {
  test('a valid A30 (4 + 4 slices) is accepted', () => {
    const a30 = defineAccelerator(VALID_ACCELERATOR);
    expect(a30.migProfiles.map((p) => [p.name, p.computeSlices, p.memoryGB, p.maxPerGpu])).toEqual([['1g.6gb', 1, 6, 4], ['2g.12gb', 2, 12, 2]]);
  });

  test('defineAccelerator rejects each kind of bad input with one issue naming its path', () => {
    fc.assert(fc.property(badAccelerator, ([path, mutation]) => {
      expect(issuePaths(() => defineAccelerator({ ...VALID_ACCELERATOR, ...mutation } as AcceleratorProps))).toEqual([path]);
    }), { numRuns: 300 });
  });

  test('the error message names the path and the value', () => {
    fc.assert(fc.property(notPositive, (memoryGB) => {
      expect(() => defineAccelerator({ ...VALID_ACCELERATOR, memoryGB })).toThrow(/`memoryGB` \(.*\): must be a positive number of GB/);
    }));
  });

  test('defineInstanceType rejects each kind of bad input with one issue naming its path', () => {
    fc.assert(fc.property(badInstanceType, ([path, mutation]) => {
      expect(issuePaths(() => defineInstanceType({ ...VALID_TYPE, ...mutation } as InstanceTypeProps))).toEqual([path]);
    }), { numRuns: 300 });
  });

  test('several bad fields are all reported in one error', () => {
    fc.assert(fc.property(fc.uniqueArray(badAccelerator, { minLength: 2, maxLength: 4, selector: ([p]) => p.replace(/\[.*/, '') }), (bads) => {
      const mutation = Object.assign({}, ...bads.map(([, m]) => m));
      expect(issuePaths(() => defineAccelerator({ ...VALID_ACCELERATOR, ...mutation }))).toEqual(expect.arrayContaining(bads.map(([p]) => p)));
    }));
  });
});

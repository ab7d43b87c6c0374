import { PRICES_AS_OF, PRICES_REGION, PRICES_SOURCE } from '../../src/core/accelerator-catalog';
import {
  AcceleratorCatalog, defineAccelerator, defineInstanceType, migResourceName, NVIDIA_AMI_TYPES, NVIDIA_GPU_RESOURCE,
} from '../../src/core/accelerators';
import { ValidationError } from '../../src/core/errors';
import { B200, P6_B200 } from '../support/accelerators';
import { validationError } from '../support/errors';

const catalog = AcceleratorCatalog.DEFAULT;
const NVIDIA_X86 = ['AL2023_x86_64_NVIDIA', 'BOTTLEROCKET_x86_64_NVIDIA'];


describe('built-in instance types', () => {
  test('p4d.24xlarge: 8 A100 40GB, 96 vCPU, 1152 GiB, EFA, NVLink', () => {
    expect(catalog.instanceType('p4d.24xlarge')).toEqual({
      name: 'p4d.24xlarge',
      family: 'p4d',
      accelerator: 'nvidia-a100-40gb',
      gpuCount: 8,
      vcpu: 96,
      memoryGiB: 1152,
      totalGpuMemoryGB: 320,
      onDemandUsdPerHour: 21.95764,
      efaInterfaces: 4,
      nvlink: true,
      cpuArchitecture: 'x86_64',
      eksAmiTypes: NVIDIA_X86,
    });
  });

  test('g5.xlarge: 1 A10G, 4 vCPU, 16 GiB, no EFA', () => {
    expect(catalog.instanceType('g5.xlarge')).toEqual({
      name: 'g5.xlarge',
      family: 'g5',
      accelerator: 'nvidia-a10g',
      gpuCount: 1,
      vcpu: 4,
      memoryGiB: 16,
      totalGpuMemoryGB: 24,
      onDemandUsdPerHour: 1.006,
      efaInterfaces: 0,
      nvlink: false,
      cpuArchitecture: 'x86_64',
      eksAmiTypes: NVIDIA_X86,
    });
  });

  test('p5.48xlarge: 8 H100, 192 vCPU, 2048 GiB, 32 EFA interfaces', () => {
    const t = catalog.instanceType('p5.48xlarge');
    expect([t.accelerator, t.gpuCount, t.vcpu, t.memoryGiB, t.totalGpuMemoryGB]).toEqual(['nvidia-h100-80gb', 8, 192, 2048, 640]);
    expect([t.onDemandUsdPerHour, t.efaInterfaces, t.nvlink]).toEqual([55.04, 32, true]);
  });

  test('p5.4xlarge is the real single-H100 size: 16 vCPU, 256 GiB, 1 EFA interface, no NVLink', () => {
    const t = catalog.instanceType('p5.4xlarge');
    expect([t.accelerator, t.gpuCount, t.vcpu, t.memoryGiB, t.onDemandUsdPerHour, t.efaInterfaces, t.nvlink])
      .toEqual(['nvidia-h100-80gb', 1, 16, 256, 6.88, 1, false]);
  });

  test('p5e.48xlarge has no on-demand price and says why', () => {
    const t = catalog.instanceType('p5e.48xlarge');
    expect(t.onDemandUsdPerHour).toBeUndefined();
    expect(t.priceNote).toBe('no on-demand price published; EC2 Capacity Blocks for ML only');
    expect([t.accelerator, t.gpuCount, t.totalGpuMemoryGB, t.efaInterfaces]).toEqual(['nvidia-h200-141gb', 8, 1128, 32]);
  });

  test.each([
    ['g4dn.metal', 'nvidia-t4', 8, 96, 384, 7.824, 1],
    ['g6.16xlarge', 'nvidia-l4', 1, 64, 256, 3.3968, 1],
    ['g6e.xlarge', 'nvidia-l40s', 1, 4, 32, 1.861, 0],
    ['g6e.48xlarge', 'nvidia-l40s', 8, 192, 1536, 30.13118, 4],
    ['p4de.24xlarge', 'nvidia-a100-80gb', 8, 96, 1152, 27.44705, 4],
    ['p5en.48xlarge', 'nvidia-h200-141gb', 8, 192, 2048, 63.296, 16],
  ])('%s: %s x%i, %i vCPU, %i GiB, $%d/h, %i EFA', (name, acc, gpus, vcpu, mem, usd, efa) => {
    const t = catalog.instanceType(name);
    expect([t.accelerator, t.gpuCount, t.vcpu, t.memoryGiB, t.onDemandUsdPerHour, t.efaInterfaces]).toEqual([acc, gpus, vcpu, mem, usd, efa]);
  });

  test('every size of the nine families is present', () => {
    const sizes = (f: string, s: string[]) => s.map((x) => `${f}.${x}`);
    const g = ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'];
    expect(catalog.instanceTypes.map((t) => t.name).sort()).toEqual([
      ...sizes('g4dn', ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', 'metal']),
      ...sizes('g5', g), ...sizes('g6', g), ...sizes('g6e', g),
      'p4d.24xlarge', 'p4de.24xlarge', 'p5.4xlarge', 'p5.48xlarge', 'p5e.48xlarge', 'p5en.48xlarge',
    ].sort());
  });

  test('the price table records its date, region and source', () => {
    expect(PRICES_AS_OF).toBe('2026-11-09');
    expect(PRICES_REGION).toBe('us-east-1');
    expect(PRICES_SOURCE).toContain('June-2025');
  });
});

describe('built-in accelerators', () => {
  test.each([
    ['nvidia-t4', 'NVIDIA T4', 16, 'turing', 'Tesla-T4', 't4', 16384],
    ['nvidia-a10g', 'NVIDIA A10G', 24, 'ampere', 'NVIDIA-A10G', 'a10g', 22888],
    ['nvidia-l4', 'NVIDIA L4', 24, 'ada-lovelace', 'NVIDIA-L4', 'l4', 22888],
    ['nvidia-l40s', 'NVIDIA L40S', 48, 'ada-lovelace', 'NVIDIA-L40S', 'l40s', 45776],
    ['nvidia-a100-40gb', 'NVIDIA A100 40GB (SXM4)', 40, 'ampere', 'NVIDIA-A100-SXM4-40GB', 'a100', 40960],
    ['nvidia-a100-80gb', 'NVIDIA A100 80GB (SXM4)', 80, 'ampere', 'NVIDIA-A100-SXM4-80GB', 'a100', 81920],
    ['nvidia-h100-80gb', 'NVIDIA H100 80GB (SXM5)', 80, 'hopper', 'NVIDIA-H100-80GB-HBM3', 'h100', 81920],
    ['nvidia-h200-141gb', 'NVIDIA H200 141GB (SXM5)', 141, 'hopper', 'NVIDIA-H200', 'h200', 144384],
  ])('%s', (id, displayName, memoryGB, architecture, gfdProduct, karpenterGpuName, ec2GpuMemoryMiB) => {
    expect(catalog.accelerator(id)).toMatchObject({
      id, displayName, vendor: 'nvidia', memoryGB, architecture, resourceName: 'nvidia.com/gpu', gfdProduct, karpenterGpuName, ec2GpuMemoryMiB,
    });
  });

  test('only A100, H100 and H200 support MIG', () => {
    expect(catalog.accelerators.filter((a) => a.migCapable).map((a) => a.id))
      .toEqual(['nvidia-a100-40gb', 'nvidia-a100-80gb', 'nvidia-h100-80gb', 'nvidia-h200-141gb']);
    expect(catalog.accelerator('nvidia-l40s').migProfiles).toEqual([]);
  });

  const profiles = (id: string) => catalog.accelerator(id).migProfiles.map((p) => [p.name, p.maxPerGpu]);
  test('A100 40GB MIG profiles and instances per GPU', () => {
    expect(profiles('nvidia-a100-40gb')).toEqual([['1g.5gb', 7], ['1g.10gb', 4], ['2g.10gb', 3], ['3g.20gb', 2], ['4g.20gb', 1], ['7g.40gb', 1]]);
  });
  test('A100 80GB and H100 80GB MIG profiles and instances per GPU', () => {
    const expected = [['1g.10gb', 7], ['1g.20gb', 4], ['2g.20gb', 3], ['3g.40gb', 2], ['4g.40gb', 1], ['7g.80gb', 1]];
    expect(profiles('nvidia-a100-80gb')).toEqual(expected);
    expect(profiles('nvidia-h100-80gb')).toEqual(expected);
  });
  test('H200 MIG profiles and instances per GPU', () => {
    expect(profiles('nvidia-h200-141gb')).toEqual([['1g.18gb', 7], ['1g.35gb', 4], ['2g.35gb', 3], ['3g.71gb', 2], ['4g.71gb', 1], ['7g.141gb', 1]]);
  });
  test('a MIG profile carries its slices and mixed-strategy resource name', () => {
    expect(catalog.accelerator('nvidia-a100-40gb').migProfiles[0]).toEqual({
      name: '1g.5gb', computeSlices: 1, memorySlices: 1, memoryGB: 5, maxPerGpu: 7, resourceName: 'nvidia.com/mig-1g.5gb',
    });
    expect(migResourceName('3g.40gb')).toBe('nvidia.com/mig-3g.40gb');
    expect(NVIDIA_GPU_RESOURCE).toBe('nvidia.com/gpu');
  });
});

describe('lookups', () => {
  test('an unknown accelerator throws a ValidationError naming the known ids', () => {
    const e = validationError(() => catalog.accelerator('nvidia-b300'));
    expect(e.message).toBe('Accelerator catalog: 1 invalid prop\n  - `accelerator` ("nvidia-b300"): is not a known accelerator; use one of '
      + 'nvidia-t4, nvidia-a10g, nvidia-l4, nvidia-l40s, nvidia-a100-40gb, nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h200-141gb');
  });

  test('an unknown instance type throws at path instanceType, listing the known names', () => {
    const e = validationError(() => catalog.instanceType('p3.2xlarge'));
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0].path).toBe('instanceType');
    expect(e.issues[0].message).toMatch(/^is not a known GPU instance type; use one of g4dn\.xlarge, .*p5en\.48xlarge$/);
  });

  test('instanceTypesFor filters by GPUs and EFA, cheapest first, unpriced last', () => {
    const names = (id: string, f = {}) => catalog.instanceTypesFor(id, f).map((t) => t.name);
    expect(names('nvidia-a100-40gb', { minGpus: 8 })).toEqual(['p4d.24xlarge']);
    expect(names('nvidia-h100-80gb')).toEqual(['p5.4xlarge', 'p5.48xlarge']);
    expect(names('nvidia-h200-141gb')).toEqual(['p5en.48xlarge', 'p5e.48xlarge']);
    expect(names('nvidia-a10g', { minGpus: 2, maxGpus: 4 })).toEqual(['g5.12xlarge', 'g5.24xlarge']);
    expect(names('nvidia-l4', { efa: true })).toEqual(['g6.8xlarge', 'g6.16xlarge', 'g6.12xlarge', 'g6.24xlarge', 'g6.48xlarge']);
    expect(() => catalog.instanceTypesFor('nvidia-v100')).toThrow(ValidationError);
  });

  test('NVIDIA AMI types per CPU architecture', () => {
    expect(NVIDIA_AMI_TYPES).toEqual({ x86_64: NVIDIA_X86, arm64: ['AL2023_ARM_64_NVIDIA', 'BOTTLEROCKET_ARM_64_NVIDIA'] });
  });
});

describe('custom entries', () => {
  test('defineAccelerator fills the defaults', () => {
    const a = defineAccelerator({ id: 'nvidia-rtx-a6000', displayName: 'NVIDIA RTX A6000', memoryGB: 48, architecture: 'ampere', gfdProduct: 'NVIDIA-RTX-A6000' });
    expect(a).toEqual({
      id: 'nvidia-rtx-a6000',
      displayName: 'NVIDIA RTX A6000',
      vendor: 'nvidia',
      memoryGB: 48,
      architecture: 'ampere',
      resourceName: 'nvidia.com/gpu',
      gfdProduct: 'NVIDIA-RTX-A6000',
      migCapable: false,
      migProfiles: [],
      migComputeSlices: 7,
      migMemorySlices: 8,
    });
    expect(Object.isFrozen(a)).toBe(true);
  });

  test('with() adds custom accelerators and instance types without touching the receiver', () => {
    const extended = catalog.with({
      accelerators: [B200],
      instanceTypes: [P6_B200],
    });
    expect(extended.instanceType('p6-b200.48xlarge')).toMatchObject({ family: 'p6-b200', totalGpuMemoryGB: 1440, eksAmiTypes: NVIDIA_X86 });
    expect(extended.accelerator('nvidia-b200').migProfiles.map((p) => p.resourceName)).toEqual(['nvidia.com/mig-1g.23gb', 'nvidia.com/mig-7g.180gb']);
    expect(catalog.hasAccelerator('nvidia-b200')).toBe(false);
    expect(extended.instanceTypes).toHaveLength(catalog.instanceTypes.length + 1);
  });

  test('with() rejects duplicates and bad entries in one error, under their list path', () => {
    const e = validationError(() => catalog.with({
      accelerators: [{ ...B200, id: 'nvidia-t4' }, { ...B200, memoryGB: -1 }],
      instanceTypes: [{ name: 'g5.xlarge', accelerator: 'nvidia-a10g', gpuCount: 1, vcpu: 4, memoryGiB: 16 }],
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['accelerators[0].id', 'accelerators[1].memoryGB', 'instanceTypes[0].name']);
    expect(e.issues.map((i) => i.message)).toEqual([
      'is already in the catalog; choose another id',
      'must be a positive number of GB as NVIDIA publishes it, e.g. 80',
      'is already in the catalog; choose another name',
    ]);
    expect(e.message.split('\n')[0]).toBe('Accelerator catalog: 3 invalid props');
  });

  test('defineAccelerator lists every bad field with its value and fix', () => {
    const e = validationError(() => defineAccelerator({
      id: 'Bad_ID',
      displayName: '',
      memoryGB: 0,
      architecture: 'volta' as never,
      gfdProduct: 'has space',
      resourceName: 'gpu',
      migProfiles: [{ name: '1g.5gb', memorySlices: 1, maxPerGpu: 7 }, { name: '1g.5gb', memorySlices: 1, maxPerGpu: 7 }],
    }));
    expect(e.message).toBe([
      'Accelerator "Bad_ID": 7 invalid props',
      '  - `id` ("Bad_ID"): must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and "-", '
        + 'starting and ending with a letter or digit (for example "bad-id-f3338185")',
      '  - `displayName` (""): must be a non-empty string, e.g. "NVIDIA A100 80GB"',
      '  - `memoryGB` (0): must be a positive number of GB as NVIDIA publishes it, e.g. 80',
      '  - `architecture` ("volta"): must be one of turing, ampere, ada-lovelace, hopper, blackwell',
      '  - `resourceName` ("gpu"): must be an extended resource name "<domain>/<name>", e.g. "nvidia.com/gpu"',
      "  - `gfdProduct` (\"has space\"): must be a label value: at most 63 letters, digits, '-', '_' or '.', "
        + 'starting and ending with a letter or digit, as GPU Feature Discovery writes it, e.g. "NVIDIA-A100-SXM4-80GB"',
      '  - `migProfiles[1].name` ("1g.5gb"): duplicates migProfiles[0]; list each profile once',
    ].join('\n'));
  });

  test('MIG profiles are checked against the GPU geometry', () => {
    const e = validationError(() => defineAccelerator({
      ...B200,
      migProfiles: [
        { name: '8g.180gb', memorySlices: 8, maxPerGpu: 1 },
        { name: '1g.40gb', memorySlices: 1, maxPerGpu: 7 },
        { name: '2g.45gb', memorySlices: 2, maxPerGpu: 4 },
        { name: '1g.23gb', memorySlices: 9, maxPerGpu: 0 },
      ],
    }));
    expect(e.issues.map((i) => [i.path, i.message])).toEqual([
      ['migProfiles[0].name', 'uses 8 compute slices; the GPU has 7'],
      ['migProfiles[1].name', 'names 40 GB but 1 of 8 memory slices of 180 GB hold about 23 GB'],
      ['migProfiles[2].maxPerGpu', 'at most 3 fit one GPU (8 memory and 7 compute slices)'],
      ['migProfiles[3].memorySlices', 'must be an integer from 1 to 8'],
      ['migProfiles[3].maxPerGpu', 'must be a positive integer (instances per GPU)'],
    ]);
  });

  test('defineInstanceType checks the accelerator, the counts, the GPU memory total, the price and the AMIs', () => {
    const e = validationError(() => defineInstanceType({
      name: 'G5.XL', accelerator: 'nvidia-a10g', gpuCount: 1.5, vcpu: 0, memoryGiB: -16, onDemandUsdPerHour: 0, efaInterfaces: -1,
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['name', 'gpuCount', 'vcpu', 'memoryGiB', 'onDemandUsdPerHour', 'efaInterfaces']);
    const e2 = validationError(() => defineInstanceType({
      name: 'g5.2xlarge',
      accelerator: 'nvidia-a10g',
      gpuCount: 1,
      vcpu: 8,
      memoryGiB: 32,
      totalGpuMemoryGB: 22,
      nvlink: true,
      eksAmiTypes: ['AL2023_ARM_64_NVIDIA'],
    }));
    expect(e2.issues.map((i) => [i.path, i.message])).toEqual([
      ['totalGpuMemoryGB', 'must equal gpuCount x nvidia-a10g memoryGB (1 x 24 = 24); fix whichever is wrong'],
      ['nvlink', 'needs at least 2 GPUs; set it to false for a single-GPU size'],
      ['eksAmiTypes', 'must be a non-empty subset of AL2023_x86_64_NVIDIA, BOTTLEROCKET_x86_64_NVIDIA'],
    ]);
    const e3 = validationError(() => defineInstanceType({ name: 'x1.big', accelerator: 'nvidia-b200', gpuCount: 1, vcpu: 1, memoryGiB: 1 }));
    expect(e3.issues[0].path).toBe('accelerator');
    expect(e3.issues[0].message).toMatch(/^is not a known accelerator; use one of nvidia-t4, .* or define it with defineAccelerator$/);
  });

  test('arm64 instance types default to the arm64 NVIDIA AMIs', () => {
    const t = defineInstanceType({ name: 'g5g.xlarge', accelerator: 'nvidia-t4', gpuCount: 1, vcpu: 4, memoryGiB: 8, cpuArchitecture: 'arm64' });
    expect(t.eksAmiTypes).toEqual(['AL2023_ARM_64_NVIDIA', 'BOTTLEROCKET_ARM_64_NVIDIA']);
  });
});

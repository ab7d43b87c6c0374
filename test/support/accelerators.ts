// A custom accelerator and its instance type, shared by the catalog tests and the fuzz arbitraries.
import type { AcceleratorProps, InstanceTypeProps } from '../../src/core/accelerator-catalog';

/** NVIDIA B200 (not in the built-in catalog): two MIG profiles. */
export const B200: AcceleratorProps = {
  id: 'nvidia-b200',
  displayName: 'NVIDIA B200',
  memoryGB: 180,
  architecture: 'blackwell',
  gfdProduct: 'NVIDIA-B200',
  karpenterGpuName: 'b200',
  migProfiles: [{ name: '1g.23gb', memorySlices: 1, maxPerGpu: 7 }, { name: '7g.180gb', memorySlices: 8, maxPerGpu: 1 }],
};

/** The instance type with eight B200s. */
export const P6_B200: InstanceTypeProps = {
  name: 'p6-b200.48xlarge', accelerator: 'nvidia-b200', gpuCount: 8, vcpu: 192, memoryGiB: 2048, onDemandUsdPerHour: 113.9328, efaInterfaces: 8, nvlink: true,
};

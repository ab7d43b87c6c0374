import * as fc from 'fast-check';
import {
  AcceleratorCatalog, Cpu, Dataset, EndpointExposure, GpuPoolOptions, GpuPoolSpec, Issues, ModelSource, nodeAllocatable, PlatformContext, resolveGpuPool,
  resolveCompute, resolveModelEndpoint, resolvePipeline, resolveTenant, Scaling, Size, TenantOptions,
} from '../../src/core';
import {
  applySeverities, CheckFinding, checkCapacity, checkDataAccess, checkDemands, checkSchedulability, checkTenancy, endpointDataAccess, endpointDemands,
  fitPool, peakAtOnce, pipelineDataAccess, pipelineDemands, pipelineReadScopes, podRequest, resolveCheckSeverities, StoreAccess, tolerates, WorkloadDataAccess, WorkloadDemand,
} from '../../src/core/checks';
import { resolveSweep, SweepOptions, sweepDemands, sweepPodRequest } from '../../src/core/sweep';
import { validationError } from '../support/errors';

function pool(name: string, o: GpuPoolOptions): GpuPoolSpec {
  const issues = new Issues('pool');
  const p = resolveGpuPool(issues, 'pool', name, o);
  issues.throwIfAny();
  return p!;
}

const a10g = pool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 3 });
const a10gBig = pool('a10g-big', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 2 });
const l4 = pool('l4', { accelerator: 'nvidia-l4', maxNodes: 2, sharing: { timeSlicing: { replicas: 4 } } });
const h100 = pool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2 });

function target(tenant: TenantOptions = {}, pools: GpuPoolSpec[] = [a10g, l4]): { pools: GpuPoolSpec[]; tenants: PlatformContext['tenants'] } {
  const issues = new Issues('tenant');
  const t = resolveTenant(issues, 't', 'vision', tenant, pools);
  issues.throwIfAny();
  return { pools, tenants: [t] };
}

/** A platform context built by hand, as a team without MlPlatform would. */
function context(tenant: TenantOptions = {}): PlatformContext {
  return {
    name: 'ml',
    namespace: 'mlplatform',
    tracking: { uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'basic', credentials: { name: 'ml-tracking', keys: { username: 'username', password: 'password' } }, podLabels: {}, port: 5000 },
    store: { root: 's3://ml-bucket', bucket: 'ml-bucket', prefix: '', region: 'us-east-1', insecure: false, port: 443, credentials: { name: 'ml-store', keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } } },
    database: { host: 'db', port: 5432, database: 'mlflow', sslMode: 'disable', credentials: { name: 'ml-database', keys: { username: 'username', password: 'password' } } },
    ...target(tenant),
    addons: new Set(),
  };
}

function demand(o: Partial<WorkloadDemand> & { gpus?: number; pool?: string; accelerator?: string } = {}): WorkloadDemand {
  const { gpus, pool: p, accelerator, ...rest } = o;
  return {
    construct: 'TrainingPipeline',
    name: 'train',
    namespace: 'vision',
    unit: 'fit',
    cpu: Cpu.cores(2),
    memory: Size.gibibytes(8),
    ephemeralStorage: Size.gibibytes(2),
    pods: { min: 1, max: 1 },
    ...(gpus ? { gpu: { pool: p ?? 'a10g', accelerator: accelerator ?? 'nvidia-a10g', count: gpus } } : {}),
    ...rest,
  };
}

/** A pipeline `train` in `vision` with one step. */
function oneStepPipeline(step: NonNullable<Parameters<typeof resolvePipeline>[0]['steps']>[number], ctx: PlatformContext = context()) {
  return resolvePipeline({ name: 'train', owner: {}, namespace: 'vision', steps: [step] }, ctx);
}

const messages = (fs: readonly CheckFinding[]) => fs.map((f) => `${f.severity} ${f.check}: ${f.message} | ${f.fix}`);

describe('fit math', () => {
  test('a one-GPU pod on a g5.xlarge: one per node, maxNodes at most', () => {
    const fit = fitPool(demand({ gpus: 1 }), a10g);
    expect(fit).toMatchObject({ reasons: [], podsPerNode: 1, podsAtMaxNodes: 3, allocatable: { cpuMillicores: 3920, memoryMiB: 13590 } });
  });

  test('CPU-bound pods per node: the smallest of GPUs, CPU and memory', () => {
    // p5.48xlarge: 8 GPUs, 191450m CPU, 1938300Mi allocatable; 1 GPU + 40 cores per pod → 4 by CPU.
    expect(fitPool(demand({ gpus: 1, pool: 'h100', accelerator: 'nvidia-h100-80gb', cpu: Cpu.cores(40) }), h100)).toMatchObject({ podsPerNode: 4, podsAtMaxNodes: 8 });
    expect(fitPool(demand({ gpus: 2, pool: 'h100', accelerator: 'nvidia-h100-80gb' }), h100)).toMatchObject({ podsPerNode: 4, podsAtMaxNodes: 8 });
  });

  test('tolerations follow the Kubernetes matching rules', () => {
    const taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present' }, taint)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'absent' }, taint)).toBe(false);
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  test('property: podsPerNode pods fit one node and one more does not (below the 110-pod cap)', () => {
    const types = AcceleratorCatalog.DEFAULT.instanceTypes.filter((t) => t.onDemandUsdPerHour !== undefined);
    const pools = types.flatMap((t) => [100, 500].map((disk) => pool(`p-${disk}-${t.name.replace(/\./g, '-')}`.slice(0, 40), {
      accelerator: t.accelerator, instanceType: t.name, maxNodes: 4, diskSize: Size.gibibytes(disk),
    })));
    fc.assert(fc.property(
      fc.constantFrom(...pools), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 16, max: 2_000_000 }),
      fc.integer({ min: 0, max: 600_000 }),
      (p, gpus, millis, mib, diskMiB) => {
        const d = demand({ gpus, pool: p.pool, accelerator: p.accelerator, cpu: Cpu.millis(millis), memory: Size.mebibytes(mib), ephemeralStorage: Size.mebibytes(diskMiB) });
        const fit = fitPool(d, p);
        const a = nodeAllocatable(p.instance, { diskSize: p.diskSize });
        const fitsOne = gpus <= p.maxPerContainer && millis <= a.cpuMillicores && mib <= a.memoryMiB && diskMiB <= a.ephemeralStorageMiB;
        if (!fitsOne) return fit.reasons.length > 0 && fit.podsPerNode === 0 && fit.ephemeralStorageShort === diskMiB > a.ephemeralStorageMiB;
        const n = fit.podsPerNode;
        const within = (k: number) => k * millis <= a.cpuMillicores && k * mib <= a.memoryMiB && k * gpus <= p.allocatablePerNode && k * diskMiB <= a.ephemeralStorageMiB;
        return fit.reasons.length === 0 && n >= 1 && within(n) && (n === 110 || !within(n + 1)) && fit.podsAtMaxNodes === n * p.maxNodes;
      },
    ));
  });
});

describe('schedulability', () => {
  test('pass: a GPU step that fits its pool, and CPU-only work, which no GPU pool constrains', () => {
    expect(checkSchedulability([demand({ gpus: 1 }), demand({ cpu: Cpu.cores(64) })], target())).toEqual([]);
  });

  test('CPU and memory beyond the instance\'s allocatable share: the numbers, and the pool where it fits', () => {
    const f = checkSchedulability([demand({ gpus: 1, cpu: Cpu.cores(4), memory: Size.gibibytes(16) })], target({}, [a10g, a10gBig, l4]));
    expect(messages(f)).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" cannot be scheduled on pool "a10g" (g5.xlarge): it needs 4000m CPU per pod; one g5.xlarge node of pool "a10g" allocates 3920m of its 4 vCPU; ' +
        'it needs 16384Mi memory per pod; one g5.xlarge node of pool "a10g" allocates 13590Mi of its 16Gi | ' +
        'place it on pool "a10g-big" (`pool`), or lower the pod\'s requests to fit g5.xlarge (3920m CPU, 13590Mi memory, 1 nvidia.com/gpu allocatable), or give the pool a larger instanceType',
    ]);
    expect(f[0].workload).toBe('TrainingPipeline vision/train step "fit"');
  });

  test('GPUs per pod beyond a node, and beyond one time-sliced share', () => {
    expect(messages(checkSchedulability([demand({ gpus: 2 })], target()))[0])
      .toContain('cannot be scheduled on pool "a10g" (g5.xlarge): it needs 2 nvidia.com/gpu per pod; one g5.xlarge node of pool "a10g" has 1');
    expect(messages(checkSchedulability([demand({ gpus: 2, pool: 'l4', accelerator: 'nvidia-l4' })], target()))[0])
      .toContain('it needs 2 GPUs per pod; pool "l4" shares its GPUs by time-slicing (1 share per container)');
  });

  test('another accelerator than the pool\'s, a pool nobody declared, a missing toleration', () => {
    expect(messages(checkSchedulability([demand({ gpus: 1, accelerator: 'nvidia-l4' })], target()))[0])
      .toContain('it needs nvidia-l4; pool "a10g" has nvidia-a10g');
    expect(messages(checkSchedulability([demand({ gpus: 1, pool: 'a100' })], target()))).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" selects GPU pool "a100", which the platform does not declare (pools: a10g, l4) | place it on pool "a10g" (`pool`), or declare pool "a100" with addGpuPool()',
    ]);
    const bare = demand({ gpu: { pool: 'a10g', accelerator: 'nvidia-a10g', count: 1, tolerations: [] } });
    expect(messages(checkSchedulability([bare], target()))[0]).toContain('it does not tolerate the taint nvidia.com/gpu=present:NoSchedule of pool "a10g"');
  });

  test('a multi-node step needs `nodes` nodes of one pool at once', () => {
    const gang = (nodes: number) => demand({ gpus: 8, pool: 'h100', accelerator: 'nvidia-h100-80gb', cpu: Cpu.cores(96), memory: Size.gibibytes(1024), pods: { min: nodes, max: nodes }, gang: true });
    expect(checkSchedulability([gang(2)], target({}, [h100]))).toEqual([]);
    expect(messages(checkSchedulability([gang(3)], target({}, [h100])))).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" needs 3 nodes of 8 GPUs at once, but pool "h100" holds at most 2 (2 nodes × 1 per node) | raise pool "h100"\'s maxNodes to 3, or lower `nodes` to 2',
    ]);
  });
});

describe('ephemeral storage (the pool\'s diskSize less the kubelet\'s reservation and nodefs eviction threshold)', () => {
  const big = pool('big-disk', { accelerator: 'nvidia-a10g', maxNodes: 2, diskSize: Size.gibibytes(200) });
  const onPool = (p: GpuPoolSpec, ephemeralStorage: Size, construct: WorkloadDemand['construct'] = 'TrainingPipeline') =>
    demand({ construct, gpus: 1, pool: p.pool, accelerator: p.accelerator, ephemeralStorage });

  test('the pool default is 100 GiB: 91135Mi allocatable; a pod of exactly that fits, 89Gi (a naive 100 - 1 - 10) does not', () => {
    expect(a10g.diskSize).toEqual(Size.gibibytes(100));
    expect(checkSchedulability([onPool(a10g, Size.mebibytes(91135))], target())).toEqual([]);
    expect(messages(checkSchedulability([onPool(a10g, Size.gibibytes(89))], target()))[0])
      .toContain('it needs 91136Mi ephemeral storage per pod; one g5.xlarge node of pool "a10g" allocates 91135Mi of its 100Gi volume');
  });

  test('1 GiB over a node: the workload, the pool, the numbers and the fix (lower ephemeralStorage, or raise diskSize)', () => {
    expect(messages(checkSchedulability([onPool(a10g, Size.mebibytes(91135 + 1024))], target()))).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" cannot be scheduled on pool "a10g" (g5.xlarge): it needs 92159Mi ephemeral storage per pod; ' +
        'one g5.xlarge node of pool "a10g" allocates 91135Mi of its 100Gi volume | ' +
        'lower the step\'s `ephemeralStorage` so the pod\'s 92159Mi fits the 91135Mi one node allocates, or raise pool "a10g"\'s `diskSize` to at least Size.gibibytes(102) (now 100Gi)',
    ]);
  });

  test('a custom diskSize: 200 GiB holds a 110Gi endpoint pod; the fix names the endpoint\'s props and the pool where it fits', () => {
    expect(nodeAllocatable(big.instance, { diskSize: big.diskSize }).ephemeralStorageMiB).toBe(183295);
    const server = onPool(a10g, Size.gibibytes(110), 'ModelEndpoint');
    expect(checkSchedulability([onPool(big, Size.gibibytes(110), 'ModelEndpoint')], target({}, [a10g, big]))).toEqual([]);
    const f = checkSchedulability([server], target({}, [a10g, big]));
    expect(f.map((x) => x.fix)).toEqual([
      'place it on pool "big-disk" (`pool`), or lower the version\'s `ephemeralStorage` plus the endpoint\'s `modelStorage` (the server requests both) so the pod\'s 110Gi fits the 91135Mi one node allocates, ' +
        'or raise pool "a10g"\'s `diskSize` to at least Size.gibibytes(124) (now 100Gi)',
    ]);
  });

  test('CPU and disk both short: both fixes', () => {
    const d = demand({ gpus: 1, cpu: Cpu.cores(8), ephemeralStorage: Size.gibibytes(120) });
    expect(checkSchedulability([d], target())[0].fix).toBe('lower the pod\'s requests to fit g5.xlarge (3920m CPU, 13590Mi memory, 1 nvidia.com/gpu allocatable), or give the pool a larger instanceType; ' +
      'and lower the step\'s `ephemeralStorage` so the pod\'s 120Gi fits the 91135Mi one node allocates, or raise pool "a10g"\'s `diskSize` to at least Size.gibibytes(135) (now 100Gi)');
  });

  test('pods per node are limited by ephemeral storage too (a capacity warning)', () => {
    const sweep = demand({ construct: 'TuningSweep', name: 'lr', unit: 'worker', gpus: 1, pool: 'l4', accelerator: 'nvidia-l4', cpu: Cpu.millis(100), memory: Size.mebibytes(256), ephemeralStorage: Size.gibibytes(40), pods: { min: 5, max: 5 } });
    expect(fitPool(sweep, l4).podsPerNode).toBe(2);
    expect(messages(checkCapacity([sweep], target()))[0]).toContain('pool "l4" holds at most 4 such pods (2 nodes × 2 per node; 8 nvidia.com/gpu in all)');
  });

  test('a pod requests the sum of its containers, or its largest init container when larger (PodRequests); emptyDir sizeLimits are no requests', () => {
    expect(podRequest([Size.gibibytes(1), Size.gibibytes(2)], [Size.gibibytes(4), Size.gibibytes(1)])).toEqual(Size.gibibytes(4));
    expect(podRequest([Size.gibibytes(3), Size.gibibytes(2)], [Size.gibibytes(4)])).toEqual(Size.gibibytes(5));
    expect(podRequest([])).toEqual(Size.bytes(0));
    // A step with DVC inputs and outputs: three emptyDirs of the scratch size, one scratch request (the DVC init container's is the same).
    const spec = oneStepPipeline({
      name: 'fit',
      image: 'ghcr.io/acme/train:1.0',
      ephemeralStorage: Size.gibibytes(30),
      outputs: ['model'],
      inputs: { raw: Dataset.fromDvc({ repository: 'https://github.com/acme/data.git', revision: 'v1', path: 'raw' }) },
    });
    expect(pipelineDemands(spec).map((d) => d.ephemeralStorage)).toEqual([Size.gibibytes(30)]);
  });

  test('an endpoint version that fetches its model: the server requests scratch + model volume, the fetch step the model volume', () => {
    const spec = resolveModelEndpoint('resnet', {
      namespace: 'vision',
      modelStorage: Size.gibibytes(40),
      resources: { ephemeralStorage: Size.gibibytes(5) },
      versions: [{ name: 'stable', model: ModelSource.uri('s3://ml-bucket/models/resnet/7') }],
      exposure: EndpointExposure.gateway({ host: 'resnet.example.com', gateway: { name: 'gw', namespace: 'gateways' } }),
    }, { platform: context() });
    expect(endpointDemands(spec).map((d) => d.ephemeralStorage.toString())).toEqual(['45Gi']);
  });
});

describe('capacity (warnings)', () => {
  const sweep = (workers: number, p = 'a10g', acc = 'nvidia-a10g') => demand({
    construct: 'TuningSweep', name: 'lr', unit: 'worker', gpus: 1, pool: p, accelerator: acc, cpu: Cpu.millis(600), memory: Size.gibibytes(2), pods: { min: workers, max: workers },
  });

  test('pass: parallel workers the pool holds', () => {
    expect(checkCapacity([sweep(3)], target())).toEqual([]);
    expect(checkCapacity([sweep(8, 'l4', 'nvidia-l4')], target())).toEqual([]);
  });

  test('a sweep\'s parallel × GPUs per trial beyond the pool\'s maximum', () => {
    expect(messages(checkCapacity([sweep(4)], target()))).toEqual([
      'warning capacity: TuningSweep vision/lr worker asks for 4 parallel workers × 1 nvidia.com/gpu = 4 at once, but pool "a10g" holds at most 3 such pods (3 nodes × 1 per node; 3 nvidia.com/gpu in all): the rest wait for capacity | lower budget.workers to 3, or raise pool "a10g"\'s maxNodes',
    ]);
    expect(messages(checkCapacity([sweep(9, 'l4', 'nvidia-l4')], target()))[0]).toContain('9 parallel workers × 1 nvidia.com/gpu = 9 at once, but pool "l4" holds at most 8 such pods (2 nodes × 4 per node; 8 nvidia.com/gpu in all)');
  });

  test('pods per node are limited by CPU and memory too, not only by GPU shares', () => {
    // Four L4 shares per g6.xlarge node, but one 8Gi pod fills its 13590Mi allocatable memory.
    const big = demand({ construct: 'TuningSweep', name: 'lr', unit: 'worker', gpus: 1, pool: 'l4', accelerator: 'nvidia-l4', pods: { min: 4, max: 4 } });
    expect(messages(checkCapacity([big], target()))).toEqual([
      'warning capacity: TuningSweep vision/lr worker asks for 4 parallel workers × 1 nvidia.com/gpu = 4 at once, but pool "l4" holds at most 2 such pods (2 nodes × 1 per node; 8 nvidia.com/gpu in all): the rest wait for capacity | lower budget.workers to 2, or raise pool "l4"\'s maxNodes',
    ]);
  });

  test('an endpoint\'s versions at maxReplicas × GPUs, summed on their pool', () => {
    const v = (unit: string, max: number) => demand({ construct: 'ModelEndpoint', name: 'resnet', unit, gpus: 1, pods: { min: 1, max } });
    expect(checkCapacity([v('stable', 2), v('canary', 1)], target())).toEqual([]);
    const f = checkCapacity([v('stable', 3), v('canary', 1)], target());
    expect(messages(f)).toEqual([
      'warning capacity: ModelEndpoint vision/resnet asks for 3 "stable" replicas × 1 nvidia.com/gpu + 1 "canary" replica × 1 nvidia.com/gpu = 4 at once, but pool "a10g" has at most 3 (3 nodes × 1): the rest wait for capacity | lower maxReplicas to fit 3 nvidia.com/gpu, or raise pool "a10g"\'s maxNodes',
    ]);
  });
});

describe('tenancy', () => {
  test('pass: within the quota', () => {
    expect(checkTenancy([demand({ gpus: 1 })], target({ quota: { gpus: { a10g: 1 } } }))).toEqual([]);
  });

  test('a GPU workload in a tenant with no GPU quota on its pool', () => {
    expect(messages(checkTenancy([demand({ gpus: 1 })], target()))).toEqual([
      'error tenancy: TrainingPipeline vision/train step "fit" uses nvidia-a10g GPUs of pool "a10g", but tenant "vision" has no GPU quota on that pool (needs 1: 1 pod × 1 GPU) | give tenant "vision" quota.gpus["a10g"] of at least 1, or run the workload without GPUs',
    ]);
  });

  test('GPUs, CPU, memory and pods beyond the quota, summed over the units that run at once', () => {
    const t = target({ quota: { gpus: { a10g: 2 }, cpu: Cpu.cores(8), memory: Size.gibibytes(16), pods: 4 } });
    const w = demand({ construct: 'TuningSweep', name: 'lr', unit: 'worker', gpus: 1, cpu: Cpu.millis(2100), memory: Size.mebibytes(4608), pods: { min: 4, max: 4 } });
    const c = demand({ construct: 'TuningSweep', name: 'lr', unit: 'study-creation', cpu: Cpu.millis(100), memory: Size.mebibytes(512), pods: { min: 0, max: 1 } });
    expect(messages(checkTenancy([w, c], t))).toEqual([
      'error tenancy: TuningSweep vision/lr needs up to 4 GPUs of pool "a10g" at once (4 pods × 1 GPU), but tenant "vision" may use 2 | lower the workers to fit 2 GPUs (2 pods of 1), or raise quota.gpus["a10g"] of tenant "vision" to 4',
      'error tenancy: TuningSweep vision/lr requests 8500m CPU at once (4 × 2100m + 1 × 100m), above tenant "vision"\'s CPU quota (8) | lower the pods or their cpu, or raise tenant "vision"\'s quota.cpu to 8500m',
      'error tenancy: TuningSweep vision/lr requests 18944Mi memory at once (4 × 4608Mi + 1 × 512Mi), above tenant "vision"\'s memory quota (16Gi) | lower the pods or their memory, or raise tenant "vision"\'s quota.memory to 18944Mi',
      'error tenancy: TuningSweep vision/lr runs up to 5 pods at once (worker 4, study-creation 1), above tenant "vision"\'s pod quota (4) | lower the pods, or raise tenant "vision"\'s quota.pods to 5',
    ]);
  });

  test('pipeline steps that run one after another are checked alone; other namespaces are not a tenant\'s', () => {
    const t = target({ quota: { cpu: Cpu.cores(8) } });
    expect(checkTenancy([demand({ unit: 'a', cpu: Cpu.cores(6) }), demand({ unit: 'b', cpu: Cpu.cores(6), after: ['a'] })], t)).toEqual([]);
    expect(messages(checkTenancy([demand({ unit: 'a', cpu: Cpu.cores(6), pods: { min: 1, max: 2 } })], t))[0]).toContain('step "a" requests 12 CPU at once (2 × 6)');
    expect(checkTenancy([demand({ namespace: 'elsewhere', cpu: Cpu.cores(100) })], t)).toEqual([]);
  });

  test('property: a workload within every quota dimension has no tenancy finding, and one above the GPU quota always has', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 16 }), (pods, gpus, quota) => {
      const t = target({ quota: { gpus: { a10g: quota }, cpu: Cpu.cores(1000), memory: Size.gibibytes(10_000), pods: 100 } });
      const d = demand({ construct: 'TuningSweep', name: 'lr', unit: 'worker', gpu: { pool: 'a10g', accelerator: 'nvidia-a10g', count: gpus }, pods: { min: pods, max: pods } });
      const found = checkTenancy([d], t);
      return (pods * gpus > quota) === (found.length === 1) && found.every((f) => f.message.includes(String(pods * gpus)));
    }));
  });
});

describe('sweep demands (what checkSweepCapacity checked at construction, now checked at synth)', () => {
  const base: SweepOptions = {
    trial: { image: 'ghcr.io/acme/train:1.0', command: ['python', 'train.py'], gpus: 1, accelerator: 'nvidia-a10g' },
    parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
    budget: { trials: 40, workers: 2 },
  };
  const findings = (o: Partial<SweepOptions>, ctx: PlatformContext) => {
    const issues = new Issues('TuningSweep "s"');
    const spec = resolveSweep(issues, 's', 'vision', { ...base, ...o }, ctx);
    issues.throwIfAny();
    return messages(checkDemands(sweepDemands(spec), ctx));
  };

  test('fits: two one-GPU workers on a three-node pool within the quota', () => {
    expect(findings({}, context({ quota: { gpus: { a10g: 2 } } }))).toEqual([]);
  });

  test('parallelism × GPUs beyond the pool maximum is a warning; beyond the quota an error', () => {
    expect(findings({ budget: { trials: 40, workers: 4 } }, context({ quota: { gpus: { a10g: 8 } } }))).toEqual([
      'warning capacity: TuningSweep vision/s worker asks for 4 parallel workers × 1 nvidia.com/gpu = 4 at once, but pool "a10g" holds at most 3 such pods (3 nodes × 1 per node; 3 nvidia.com/gpu in all): the rest wait for capacity | lower budget.workers to 3, or raise pool "a10g"\'s maxNodes',
    ]);
    expect(findings({}, context())[0]).toContain('error tenancy: TuningSweep vision/s uses nvidia-a10g GPUs of pool "a10g", but tenant "vision" has no GPU quota on that pool (needs 2: 2 pods × 1 GPU)');
  });

  test('time-sliced shares count per node; GPU quota too small for every worker', () => {
    const trial = { ...base.trial, accelerator: 'nvidia-l4', cpu: Cpu.millis(500), memory: Size.gibibytes(2) };
    expect(findings({ trial, budget: { trials: 40, workers: 8 } }, context({ quota: { gpus: { l4: 8 } } }))).toEqual([]);
    expect(findings({ trial, budget: { trials: 40, workers: 9 } }, context({ quota: { gpus: { l4: 9 } } }))[0])
      .toContain('9 parallel workers × 1 nvidia.com/gpu = 9 at once, but pool "l4" holds at most 8 such pods (2 nodes × 4 per node; 8 nvidia.com/gpu in all)');
    expect(findings({ budget: { trials: 40, workers: 3 } }, context({ quota: { gpus: { a10g: 2 } } }))).toEqual([
      'error tenancy: TuningSweep vision/s needs up to 3 GPUs of pool "a10g" at once (3 pods × 1 GPU), but tenant "vision" may use 2 | lower the workers to fit 2 GPUs (2 pods of 1), or raise quota.gpus["a10g"] of tenant "vision" to 3',
    ]);
  });

  test('the Optuna container is counted beside each trial, and the study-creation pod beside the workers', () => {
    const trial = { image: 'ghcr.io/acme/train:1.0', command: ['train'], cpu: Cpu.cores(2), memory: Size.gibibytes(4) };
    const issues = new Issues('s');
    const spec = resolveSweep(issues, 's', 'vision', { ...base, trial, budget: { trials: 40, workers: 4 } }, context());
    expect(sweepPodRequest(spec)).toEqual({ cpu: Cpu.millis(2100), memory: Size.mebibytes(4608), ephemeralStorage: Size.mebibytes(2304), gpus: 0 });
    expect(sweepDemands(spec, { dashboard: true }).map((d) => [d.unit, d.cpu.toString(), d.memory.toString(), d.ephemeralStorage.toString(), d.pods.max])).toEqual([
      ['worker', '2100m', '4608Mi', '2304Mi', 4], ['study-creation', '100m', '512Mi', '256Mi', 1], ['dashboard', '100m', '384Mi', '0', 1],
    ]);
    expect(sweepDemands(spec, { studyCreation: false }).map((d) => d.unit)).toEqual(['worker']);
  });
});

describe('data access', () => {
  const path = (prefix: string, bucket = 'b') => ({ bucket, prefix });
  const read = (prefix: string, o: Partial<StoreAccess> = {}): StoreAccess => ({ path: path(prefix), origin: 'versions[0].model', ...o });
  const endpoint = (o: Partial<WorkloadDataAccess> = {}): WorkloadDataAccess => ({
    workload: 'ModelEndpoint vision/resnet version "stable"', namespace: 'vision', reads: [read('pipelines/vision/train/run-1/fit/model/')], writes: [], grants: [], ...o,
  });
  const pipeline = (namespace = 'vision'): WorkloadDataAccess => ({
    workload: `TrainingPipeline ${namespace}/train`, namespace, reads: [], writes: [{ path: path(`pipelines/${namespace}/train/`), origin: 'artifacts' }], grants: [],
  });

  test('pass: written by a pipeline of the namespace, granted, or read with credentials of its own', () => {
    expect(checkDataAccess([pipeline(), endpoint()])).toEqual([]);
    expect(checkDataAccess([endpoint({ grants: [{ path: path('pipelines/'), origin: 'granted s3://b/pipelines/' }] })])).toEqual([]);
    expect(checkDataAccess([endpoint({ reads: [read('models/x/', { ownCredentials: true })] })])).toEqual([]);
  });

  test('a read nothing writes or grants; a read only another namespace writes', () => {
    expect(messages(checkDataAccess([endpoint({ reads: [read('models/x/')] })]))).toEqual([
      'error data-access: ModelEndpoint vision/resnet version "stable" reads s3://b/models/x/ (versions[0].model), which no pipeline step of its namespace writes and nothing grants it | ' +
        'grant it: `<pipeline>.artifacts.grantRead(<workload>)` for the outputs of a pipeline, or `StoreLocation.fromUri(\'s3://b/models/x/\').grantRead(<workload>)` (`platform.storeLocation(prefix)` below the platform\'s store) for data put there by other means',
    ]);
    const cross = endpoint({ reads: [read('pipelines/nlp/train/run-1/fit/model/')] });
    expect(messages(checkDataAccess([pipeline('nlp'), cross]))[0])
      .toContain('reads s3://b/pipelines/nlp/train/run-1/fit/model/ (versions[0].model), which only TrainingPipeline nlp/train of another namespace writes, and which is not granted to it');
    expect(checkDataAccess([pipeline('nlp'), { ...cross, grants: [{ path: path('pipelines/nlp/train/'), origin: 'granted' }] }])).toEqual([]);
  });

  test('the ServiceAccount carries exactly the reads: none missing, none extra', () => {
    const sa = (readScopes: string[]) => endpoint({ reads: [read('models/x/', { ownCredentials: true })], identity: { serviceAccount: 'resnet-stable', readScopes } });
    expect(checkDataAccess([sa(['s3://b/models/x/'])])).toEqual([]);
    expect(messages(checkDataAccess([sa(['s3://b/'])]))).toEqual([
      'error data-access: ServiceAccount "resnet-stable" of ModelEndpoint vision/resnet version "stable" carries read scopes [s3://b/] but the workload reads [s3://b/models/x/]: missing s3://b/models/x/; not read s3://b/ | ' +
        'do not edit the read-scope annotation by hand (escape hatches, patches): read data through props and grant it with a `grant*` verb',
    ]);
    expect(messages(checkDataAccess([sa([])]))[0]).toContain('carries read scopes [] but the workload reads [s3://b/models/x/]: missing s3://b/models/x/ |');
  });
});

describe('severity overrides', () => {
  const f: CheckFinding = { check: 'capacity', severity: 'warning', workload: 'w', message: 'm', fix: 'x' };
  const e: CheckFinding = { check: 'tenancy', severity: 'error', workload: 'w', message: 'm', fix: 'x' };

  test('downgrade an error, upgrade a warning, leave the rest', () => {
    expect(applySeverities([f, e], { tenancy: 'warning' }).map((x) => x.severity)).toEqual(['warning', 'warning']);
    expect(applySeverities([f, e], { capacity: 'error' }).map((x) => x.severity)).toEqual(['error', 'error']);
    expect(applySeverities([f, e]).map((x) => x.severity)).toEqual(['warning', 'error']);
  });

  test('unknown checks and severities fail with the path and the fix', () => {
    const err = validationError(() => {
      const issues = new Issues('MlPlatform "ml"');
      resolveCheckSeverities(issues, 'checks', { capacity: 'info', quota: 'warning' } as never);
      issues.throwIfAny();
    });
    expect(err.message).toContain("`checks.capacity` (\"info\"): must be 'error' or 'warning'");
    expect(err.message).toContain('`checks.quota` ("warning"): is not a check; use one of: schedulability, capacity, tenancy, admission, data-access');
  });
});

describe('demands and accesses of validated specs', () => {
  const IMAGE = 'ghcr.io/acme/train:1.0.0';
  const ctx = context({ quota: { gpus: { a10g: 8 } } });

  test('pipeline: one demand per step; multi-node steps are gangs; fan-outs count their items up to parallelism', () => {
    const spec = resolvePipeline({
      name: 'train',
      owner: {},
      namespace: 'vision',
      parallelism: 3,
      steps: [
        { name: 'prep', image: IMAGE, forEach: ['a', 'b', 'c', 'd'], cpu: Cpu.cores(1) },
        { name: 'ddp', image: IMAGE, command: ['t.py'], nodes: 2, gpus: 1, accelerator: 'nvidia-a10g', after: ['prep'] },
        { name: 'eval', image: IMAGE, forEach: ['x', 'y'], after: ['ddp'] },
      ],
    }, ctx);
    expect(pipelineDemands(spec).map((d) => [d.unit, d.cpu.toString(), d.gpu?.pool, d.pods, d.gang ?? false])).toEqual([
      ['prep', '1', undefined, { min: 1, max: 3 }, false],
      ['ddp', '500m', 'a10g', { min: 2, max: 2 }, true],
      ['eval', '500m', undefined, { min: 1, max: 2 }, false],
    ]);
  });

  test('pipeline: the step I/O containers count — the outputs uploader beside each node adds to the pod, the init container is a maximum', () => {
    const spec = resolvePipeline({
      name: 'train',
      owner: {},
      namespace: 'vision',
      steps: [
        { name: 'prep', image: IMAGE, cpu: Cpu.millis(50), memory: Size.mebibytes(128), ephemeralStorage: Size.mebibytes(100), outputs: ['data'], inputs: { raw: Dataset.fromBucket({ prefix: 'ds', version: 'v1' }) } },
        { name: 'ddp', image: IMAGE, command: ['t.py'], nodes: 2, gpus: 1, accelerator: 'nvidia-a10g', cpu: Cpu.cores(4), memory: Size.gibibytes(8), ephemeralStorage: Size.gibibytes(10), after: ['prep'], inputs: { d: { step: 'prep', output: 'data' } }, outputs: ['model'] },
      ],
    }, ctx);
    // src/core/pipeline/io.ts STEP_IO_RESOURCES: 100m, 256Mi, 256Mi ephemeral-storage per container.
    expect(pipelineDemands(spec).map((d) => [d.unit, d.cpu.toString(), d.memory.toKubernetes(), d.ephemeralStorage.toKubernetes()])).toEqual([
      ['prep', '100m', '256Mi', '256Mi'],
      ['ddp', '4100m', '8448Mi', '10496Mi'],
    ]);
  });

  test('pipeline: bucket datasets and DVC remotes in the platform bucket are reads; the artifact prefix is its write', () => {
    const spec = oneStepPipeline({
      name: 'fit',
      image: IMAGE,
      inputs: {
        data: Dataset.fromBucket({ prefix: 'datasets/cifar10', version: 'v3' }),
        labels: Dataset.fromDvc({ repository: 'https://github.com/acme/labels.git', revision: 'v1.0', path: 'labels', remote: 'dvc/labels' }),
        public: Dataset.fromDvc({ repository: 'https://github.com/acme/public.git', revision: 'v2', path: 'data' }),
      },
    }, ctx);
    expect(pipelineDataAccess(spec)).toEqual({
      workload: 'TrainingPipeline vision/train',
      namespace: 'vision',
      reads: [
        { path: { bucket: 'ml-bucket', prefix: 'datasets/cifar10/v3/' }, origin: 'steps.fit.inputs.data' },
        { path: { bucket: 'ml-bucket', prefix: 'dvc/labels/' }, origin: 'steps.fit.inputs.labels.remote' },
      ],
      writes: [{ path: { bucket: 'ml-bucket', prefix: 'pipelines/vision/train/' }, origin: 'artifacts' }],
      grants: [],
    });
    expect(pipelineReadScopes(spec)).toEqual(['s3://ml-bucket/datasets/cifar10/v3/', 's3://ml-bucket/dvc/labels/']);
  });

  test('endpoint: one demand per version, the fetch step\'s requests when larger; URI models are reads', () => {
    const spec = resolveModelEndpoint('resnet', {
      namespace: 'vision',
      resources: { cpu: Cpu.millis(100), memory: Size.mebibytes(256) },
      versions: [
        { name: 'stable', model: ModelSource.uri('s3://ml-bucket/models/resnet/7') },
        { name: 'canary', weight: 10, model: ModelSource.registry('resnet', { alias: 'candidate' }), scaling: Scaling.fixed(1) },
      ],
      exposure: EndpointExposure.gateway({ host: 'resnet.example.com', gateway: { name: 'gw', namespace: 'gateways' } }),
    }, { platform: ctx });
    expect(endpointDemands(spec).map((d) => [d.unit, d.cpu.toString(), d.memory.toString(), d.pods])).toEqual([
      ['stable', '250m', '512Mi', { min: 2, max: 2 }],
      ['canary', '250m', '512Mi', { min: 1, max: 1 }],
    ]);
    expect(endpointDataAccess(spec).map((a) => [a.workload, a.reads])).toEqual([
      ['ModelEndpoint vision/resnet version "stable"', [{ path: { bucket: 'ml-bucket', prefix: 'models/resnet/7/' }, origin: 'versions[0].model' }]],
      // A registry model reads where the namespace's registration steps register their sources; not checked against writes (an alias resolves at run time).
      ['ModelEndpoint vision/resnet version "canary"', [{ path: { bucket: 'ml-bucket', prefix: 'pipelines/vision/' }, origin: 'versions[1].model', registry: 'resnet' }]],
    ]);
  });

  test('Katib sweeps: the trial alone per worker, no study-creation pod', () => {
    const issues = new Issues('s');
    const spec = resolveSweep(issues, 's', 'vision', {
      trial: { image: IMAGE, command: ['train'], cpu: Cpu.cores(2), memory: Size.gibibytes(4) },
      parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 10, workers: 3 },
    }, ctx, { storage: false });
    expect(sweepDemands(spec, { studyCreation: false, optuna: false }).map((d) => [d.unit, d.cpu.toString(), d.memory.toString(), d.pods.max])).toEqual([['worker', '2', '4Gi', 3]]);
  });
});

describe('placement prefers a pool that fits the whole container', () => {
  test('a 6-core step of accelerator nvidia-a10g lands on the g5.2xlarge pool, a small one on the first pool', () => {
    const pools = [a10g, a10gBig];
    const place = (cpu: Cpu) => {
      const issues = new Issues('step');
      const c = resolveCompute(issues, 'step', { gpus: 1, accelerator: 'nvidia-a10g', cpu, memory: Size.gibibytes(8) }, pools);
      issues.throwIfAny();
      return c.gpu!.pool!.pool;
    };
    expect(place(Cpu.cores(6))).toBe('a10g-big');
    expect(place(Cpu.cores(2))).toBe('a10g');
    // Nothing fits a 64-core step: it is placed on the first pool, and the schedulability check names the numbers.
    expect(place(Cpu.cores(64))).toBe('a10g');
  });
});

describe('data access: one finding per prefix', () => {
  test('two steps reading the same ungranted prefix make one finding naming both', () => {
    const reads: StoreAccess[] = [
      { path: { bucket: 'b', prefix: 'dvc/vision/' }, origin: 'steps.prepare.inputs.raw.remote' },
      { path: { bucket: 'b', prefix: 'dvc/vision/' }, origin: 'steps.finetune.inputs.raw.remote' },
    ];
    const f = checkDataAccess([{ workload: 'TrainingPipeline vision/resnet', namespace: 'vision', reads, writes: [], grants: [] }]);
    expect(f.map((x) => x.message)).toEqual([
      'TrainingPipeline vision/resnet reads s3://b/dvc/vision/ (steps.prepare.inputs.raw.remote, steps.finetune.inputs.raw.remote), which no pipeline step of its namespace writes and nothing grants it',
    ]);
  });
});

describe('GPU workloads of no declared pool are schedulability\'s, not tenancy\'s', () => {
  // Resolved while the platform had no GPU pool: the demand names pool '' and selects nodes by accelerator label.
  const unpooled = demand({ gpus: 2, pool: '', accelerator: 'nvidia-a10g' });

  test('in a tenant of a platform without pools: no pool offers the accelerator; how to add one and its quota', () => {
    const t = target({}, []);
    expect(messages(checkDemands([unpooled], t))).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" needs 2 nvidia-a10g GPUs, but no GPU pool of the platform offers nvidia-a10g: tenant "vision"\'s ResourceQuota allows GPUs of declared pools only, so its pods are never admitted | ' +
        'declare a GPU pool offering it before the workload, e.g. `platform.addGpuPool(\'a10g\', { accelerator: \'nvidia-a10g\', maxNodes: 2 })`, and give tenant "vision" `quota.gpus: { \'a10g\': 2 }`',
    ]);
    // Never the impossible `quota.gpus[""]`.
    expect(checkTenancy([unpooled], t)).toEqual([]);
    expect(messages(checkDemands([unpooled], t)).join('\n')).not.toContain('quota.gpus[""]');
  });

  test('outside tenants, without pools, it selects nodes by the accelerator label: no finding', () => {
    expect(checkDemands([{ ...unpooled, namespace: 'elsewhere' }], target({}, []))).toEqual([]);
  });

  test('pools declared after the workload: it carries no pool\'s selector and tolerations; the pool that offers it is named', () => {
    expect(messages(checkSchedulability([unpooled], target({}, [a10g, l4])))).toEqual([
      'error schedulability: TrainingPipeline vision/train step "fit" needs nvidia-a10g GPUs but was declared before any GPU pool, so its pods carry no pool\'s node selector and tolerations (pools now: a10g, l4) | ' +
        'declare the workload after the pools (it then lands on pool "a10g"), and give tenant "vision" `quota.gpus: { \'a10g\': 2 }`',
    ]);
    expect(messages(checkSchedulability([{ ...unpooled, gpu: { ...unpooled.gpu!, accelerator: 'nvidia-h100-80gb' } }], target({}, [a10g])))[0]).toContain(
      '| declare a GPU pool offering it before the workload, e.g. `platform.addGpuPool(\'h100-80gb\', { accelerator: \'nvidia-h100-80gb\', maxNodes: 2 })`');
  });
});

describe('capacity names the prop of each construct that bounds its concurrent pods', () => {
  const on = (construct: WorkloadDemand['construct'], max: number, unit = 'worker') => demand({ construct, name: 'x', unit, gpus: 1, pods: { min: 1, max } });
  const fixOf = (d: WorkloadDemand) => checkCapacity([d], target()).map((f) => f.fix);

  test('a pipeline\'s fan-out is bounded by the pipeline\'s parallelism (gangs are schedulability\'s)', () => {
    expect(fixOf(on('TrainingPipeline', 5, 'shard'))).toEqual(['set the pipeline\'s parallelism to 3 (at most 3 pods of step "shard" at once), or raise pool "a10g"\'s maxNodes']);
    expect(fixOf({ ...on('TrainingPipeline', 5, 'ddp'), pods: { min: 5, max: 5 }, gang: true })).toEqual([]);
  });

  test('a sweep by budget.workers, an endpoint by maxReplicas; never another construct\'s prop', () => {
    expect(fixOf(on('TuningSweep', 5))).toEqual(['lower budget.workers to 3, or raise pool "a10g"\'s maxNodes']);
    expect(fixOf(on('ModelEndpoint', 5, 'stable'))).toEqual(['lower maxReplicas to fit 3 nvidia.com/gpu, or raise pool "a10g"\'s maxNodes']);
    expect(fixOf(on('TrainingPipeline', 5))[0]).not.toContain('maxReplicas');
  });
});

describe('peak concurrent demand: the steps of a pipeline that can run at the same time', () => {
  const step = (unit: string, o: Partial<WorkloadDemand> & { gpus?: number } = {}) => demand({ unit, pool: 'h100', accelerator: 'nvidia-h100-80gb', ...o });
  const gpus = (d: WorkloadDemand) => d.gpu?.count ?? 0;
  const h100Quota = (n: number) => target({ quota: { gpus: { h100: n }, cpu: Cpu.cores(1000), memory: Size.gibibytes(10_000), pods: 100 } }, [h100]);

  test('three independent 16-GPU steps need 48 at once: a tenancy error against a quota of 16, naming the three steps', () => {
    const ds = ['a', 'b', 'c'].map((u) => step(u, { gpus: 8, pods: { min: 2, max: 2 }, gang: true }));
    expect(peakAtOnce(ds, gpus)).toEqual({ total: 48, units: ds });
    expect(messages(checkTenancy(ds, h100Quota(16)))).toEqual([
      'error tenancy: TrainingPipeline vision/train steps "a", "b", "c" needs up to 48 GPUs of pool "h100" at once (step "a" 2 pods × 8 GPUs + step "b" 2 pods × 8 GPUs + step "c" 2 pods × 8 GPUs), but tenant "vision" may use 16 | '
      + 'make steps "a", "b", "c" run one after another (`after`), or set the pipeline\'s parallelism, or lower the pods to fit 16 GPUs (2 pods of 8), or raise quota.gpus["h100"] of tenant "vision" to 48',
    ]);
  });

  test('the same steps in a chain need 16 at once: no finding', () => {
    const ds = [step('a', { gpus: 8, pods: { min: 2, max: 2 }, gang: true }), step('b', { gpus: 8, pods: { min: 2, max: 2 }, gang: true, after: ['a'] }), step('c', { gpus: 8, pods: { min: 2, max: 2 }, gang: true, after: ['b'] })];
    expect(peakAtOnce(ds, gpus).total).toBe(16);
    expect(checkTenancy(ds, h100Quota(16))).toEqual([]);
  });

  test('a diamond: the two middle steps run together, the ends alone; dependencies are transitive', () => {
    const ds = [step('prep', { gpus: 4 }), step('left', { gpus: 2, after: ['prep'] }), step('right', { gpus: 3, after: ['prep'] }), step('join', { gpus: 4, after: ['left', 'right'] })];
    expect(peakAtOnce(ds, gpus)).toEqual({ total: 5, units: [ds[1], ds[2]] });
    // `join` after `left` only: it may overlap `right` (3 + 4).
    const open = [ds[0], ds[1], ds[2], step('join', { gpus: 4, after: ['left'] })];
    expect(peakAtOnce(open, gpus).total).toBe(7);
    expect(messages(checkTenancy(open, h100Quota(6)))[0]).toContain('TrainingPipeline vision/train steps "right", "join" needs up to 7 GPUs of pool "h100" at once');
  });

  test('the pipeline\'s parallelism caps the pods that run at once (Argo counts a multi-node step as one pod)', () => {
    const fanOut = ['a', 'b', 'c'].map((u) => step(u, { gpus: 2, pods: { min: 1, max: 3 }, parallelism: 4 }));
    expect(peakAtOnce(fanOut, gpus).total).toBe(8);
    expect(messages(checkTenancy(fanOut, h100Quota(6)))[0]).toContain('needs up to 8 GPUs of pool "h100" at once (step "a" 3 pods × 2 GPUs + step "b" 3 pods × 2 GPUs + step "c" 3 pods × 2 GPUs, at most 4 pods at once by the pipeline\'s parallelism)');
    const gangs = ['a', 'b', 'c'].map((u) => step(u, { gpus: 8, pods: { min: 2, max: 2 }, gang: true, parallelism: 2 }));
    expect(peakAtOnce(gangs, gpus).total).toBe(32);
  });

  test('capacity: parallel steps on one pool are summed too (a warning: the rest wait)', () => {
    const ds = ['a', 'b'].map((u) => demand({ unit: u, gpus: 1, pods: { min: 1, max: 2 } }));
    expect(messages(checkCapacity(ds, target()))).toEqual([
      'warning capacity: TrainingPipeline vision/train steps "a", "b" asks for step "a" 2 pods × 1 nvidia.com/gpu + step "b" 2 pods × 1 nvidia.com/gpu = 4 at once, but pool "a10g" has at most 3 (3 nodes × 1): the rest wait for capacity | '
      + 'make steps "a", "b" run one after another (`after`), or set the pipeline\'s parallelism to 3, or raise pool "a10g"\'s maxNodes',
    ]);
    expect(checkCapacity([ds[0], { ...ds[1], after: ['a'] }], target())).toEqual([]);
  });

  test('property: the peak is the heaviest set of pairwise independent steps (brute force over every subset), and a parallelism cap is an upper bound of the exact one', () => {
    const dag = fc.integer({ min: 1, max: 7 }).chain((n) => fc.record({
      weights: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }),
      pods: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
      // Edges only from lower to higher index: acyclic.
      edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 12 }),
      parallelism: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    }));
    fc.assert(fc.property(dag, ({ weights, pods, edges, parallelism }) => {
      const n = weights.length;
      const after = weights.map(() => new Set<number>());
      for (const [x, y] of edges) if (x < y) after[y].add(x);
      const ds = weights.map((w, i) => demand({ unit: `s${i}`, gpus: w, pool: 'h100', pods: { min: 1, max: pods[i] }, after: [...after[i]].map((j) => `s${j}`), ...(parallelism ? { parallelism } : {}) }));
      // Reachability by repeated relaxation.
      const reach = weights.map((_, i) => new Set(after[i]));
      for (let round = 0; round < n; round++) for (let i = 0; i < n; i++) for (const j of [...reach[i]]) for (const k of reach[j]) reach[i].add(k);
      let best = 0;
      let bestCapped = 0;
      // Every non-empty subset of the steps.
      const subsets = weights.reduce<number[][]>((all, _, i) => [...all, ...all.map((x) => [...x, i])], [[]]).slice(1);
      for (const members of subsets) {
        if (members.some((i) => members.some((j) => reach[i].has(j)))) continue;
        best = Math.max(best, members.reduce((s, i) => s + weights[i] * pods[i], 0));
        const podWeights = members.flatMap((i) => new Array<number>(pods[i]).fill(weights[i])).sort((a, b) => b - a);
        bestCapped = Math.max(bestCapped, podWeights.slice(0, parallelism ?? podWeights.length).reduce((s, w) => s + w, 0));
      }
      const peak = peakAtOnce(ds, gpus);
      if (parallelism === undefined) {
        // The units named reach the peak and are pairwise independent.
        const named = peak.units.map((d) => Number(d.unit.slice(1)));
        return peak.total === best && named.reduce((s, i) => s + weights[i] * pods[i], 0) === best && named.every((i) => named.every((j) => !reach[i].has(j)));
      }
      const equalWeights = new Set(weights.filter((w) => w > 0)).size <= 1;
      return peak.total >= bestCapped && peak.total <= best && (!equalWeights || peak.total === bestCapped);
    }), { numRuns: 300 });
  });
});

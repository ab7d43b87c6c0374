import { Cpu, GpuPoolSpec, Issues, PlatformContext, resolveGpuPool, resolveTenant, Size, TenantOptions } from '../../src/core';
import { checkSweepCapacity, resolveSweep, SweepOptions, sweepPodRequest } from '../../src/core/sweep';

function pool(name: string, o: Parameters<typeof resolveGpuPool>[3]): GpuPoolSpec {
  const issues = new Issues('pool');
  const p = resolveGpuPool(issues, 'pool', name, o);
  issues.throwIfAny();
  return p!;
}

/** A platform context built by hand, as a team without MlPlatform would. */
function context(tenant: TenantOptions = {}): PlatformContext {
  const pools = [pool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 3 }), pool('l4', { accelerator: 'nvidia-l4', maxNodes: 2, sharing: { timeSlicing: { replicas: 4 } } })];
  const issues = new Issues('tenant');
  const t = resolveTenant(issues, 't', 'vision', tenant, pools);
  issues.throwIfAny();
  return {
    name: 'ml',
    namespace: 'mlplatform',
    tracking: { uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'basic', credentials: { name: 'ml-tracking', keys: { username: 'username', password: 'password' } }, podLabels: {}, port: 5000 },
    store: { root: 's3://b', bucket: 'b', prefix: '', region: 'us-east-1', insecure: false, port: 443 },
    database: { host: 'db', port: 5432, database: 'mlflow', sslMode: 'disable', credentials: { name: 'ml-database', keys: { username: 'username', password: 'password' } } },
    pools,
    tenants: [t],
    addons: new Set(),
  };
}

const base: SweepOptions = {
  trial: { image: 'ghcr.io/acme/train:1.0', command: ['python', 'train.py'], gpus: 1, accelerator: 'nvidia-a10g' },
  parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true }],
  objectives: [{ metric: 'loss', direction: 'minimize' }],
  budget: { trials: 40, workers: 2 },
};

function issuesOf(o: Partial<SweepOptions>, ctx: PlatformContext, namespace = 'vision'): Issues {
  const issues = new Issues('TuningSweep "s"');
  const spec = resolveSweep(issues, 's', namespace, { ...base, ...o }, ctx);
  if (issues.ok) checkSweepCapacity(issues, spec, ctx, 1);
  return issues;
}

function check(o: Partial<SweepOptions>, ctx: PlatformContext, namespace = 'vision'): Record<string, string> {
  return Object.fromEntries(issuesOf(o, ctx, namespace).all.map((i) => [i.path, i.message]));
}

describe('what the pool and the tenant quota can hold', () => {
  test('fits: two one-GPU workers on a three-node pool within the quota', () => {
    expect(check({}, context({ quota: { gpus: { a10g: 2 } } }))).toEqual({});
  });

  test('parallelism × GPUs beyond the pool maximum', () => {
    expect(check({ budget: { trials: 40, workers: 4 } }, context({ quota: { gpus: { a10g: 8 } } }))).toEqual({
      'budget.workers': '× 1 GPU per trial exceeds what pool "a10g" can run at once (3 nodes × 1 trial per node = 3); lower workers to 3 or raise the pool\'s maxNodes',
    });
  });

  test('time-sliced shares count per node', () => {
    const trial = { ...base.trial, accelerator: 'nvidia-l4' };
    expect(check({ trial, budget: { trials: 40, workers: 8 } }, context({ quota: { gpus: { l4: 8 } } }))).toEqual({});
    expect(check({ trial, budget: { trials: 40, workers: 9 } }, context({ quota: { gpus: { l4: 9 } } }))['budget.workers']).toMatch(/2 nodes × 4 trials per node = 8/);
  });

  test('no GPU quota on the pool, or too little for every worker', () => {
    expect(check({}, context())).toEqual({ 'trial.gpus': 'exceeds tenant "vision"\'s GPU quota on pool "a10g" (0); raise quota.gpus["a10g"] or use another pool' });
    expect(check({ budget: { trials: 40, workers: 3 } }, context({ quota: { gpus: { a10g: 2 } } }))).toEqual({
      'budget.workers': '× 1 GPUs exceeds tenant "vision"\'s GPU quota on pool "a10g" (2); lower workers to 2 or raise the quota',
    });
  });

  test('CPU, memory and pod quota, counting the Optuna container beside each trial', () => {
    const trial = { image: 'ghcr.io/acme/train:1.0', command: ['train'], cpu: Cpu.cores(2), memory: Size.gibibytes(4) };
    const ctx = context({ quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(16), pods: 4 } });
    const issues = issuesOf({ trial, budget: { trials: 40, workers: 4 } }, ctx);
    expect(issues.all.map((i) => i.path)).toEqual(['budget.workers', 'budget.workers', 'budget.workers']);
    expect(issues.all.map((i) => i.message)).toEqual([
      "× 2100m CPU per worker (trial + Optuna) = 8400m exceeds tenant \"vision\"'s CPU quota (8); lower workers or trial.cpu, or raise the quota",
      "× 4608Mi memory per worker (trial + Optuna) = 18Gi exceeds tenant \"vision\"'s memory quota (16Gi); lower workers or trial.memory, or raise the quota",
      '+ 1 other sweep pod exceeds tenant "vision"\'s pod quota (4)',
    ]);
    const spec = resolveSweep(new Issues('s'), 's', 'vision', { ...base, trial }, ctx);
    expect(sweepPodRequest(spec)).toEqual({ cpu: Cpu.millis(2100), memory: Size.mebibytes(4608), gpus: 0 });
  });

  test('the namespace must be a tenant of the platform', () => {
    expect(check({}, context({ quota: { gpus: { a10g: 2 } } }), 'other')).toEqual({
      namespace: 'must be a tenant namespace of platform "ml" (it has: vision); add the tenant first with addTenant()',
    });
  });
});

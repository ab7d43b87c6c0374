import { renderResourceFlavors, renderTenant, TenantPlatform } from '../../src/cdk8s/private/tenant';
import { Issues } from '../../src/core/errors';
import { GpuPoolOptions, GpuPoolSpec, resolveGpuPool } from '../../src/core/platform/pools';
import { resolveTenant, TenantOptions, TenantSpec } from '../../src/core/platform/tenants';
import { Cpu, Size } from '../../src/core/quantities';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, synthChart } from '../support/synth';

function pool(name: string, o: GpuPoolOptions): GpuPoolSpec {
  const issues = new Issues('test');
  const p = resolveGpuPool(issues, `pools.${name}`, name, o);
  expect(issues.all).toEqual([]);
  return p!;
}

const A10G = pool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
const MIG = pool('a100-mig', { accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, maxNodes: 2, sharing: { mig: '1g.10gb' } });
const SLICED = pool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 3, sharing: { timeSlicing: { replicas: 4 } } });
const POOLS = [A10G, MIG, SLICED];

function tenant(name: string, o: TenantOptions = {}, pools: readonly GpuPoolSpec[] = POOLS): TenantSpec {
  const issues = new Issues('test');
  const t = resolveTenant(issues, `tenants.${name}`, name, o, pools);
  expect(issues.all).toEqual([]);
  return t;
}

const TRACKING = { podLabels: { 'app.kubernetes.io/name': 'ml-tracking', 'app.kubernetes.io/part-of': 'ml' }, port: 5000 };
const STORE = { podLabels: { 'app.kubernetes.io/name': 'ml-store', 'app.kubernetes.io/part-of': 'ml' }, port: 8333 };
const DATABASE = { podLabels: { 'app.kubernetes.io/name': 'ml-db', 'app.kubernetes.io/part-of': 'ml' }, port: 5432 };

function platform(o: Partial<TenantPlatform> = {}): TenantPlatform {
  return { name: 'ml', namespace: 'mlplatform', pools: POOLS, tracking: TRACKING, store: STORE, database: DATABASE, kueue: true, ...o };
}

function render(t: TenantSpec, p: TenantPlatform = platform(), opts: { namespace?: string; flavors?: boolean } = {}): K8sObject[] {
  const { objects } = synthChart((chart) => {
    if (opts.flavors) renderResourceFlavors(chart, p.name, p.pools);
    renderTenant(chart, t, p);
  }, { namespace: opts.namespace });
  expectValidManifests(objects);
  return objects;
}

const TEAM_LABELS = {
  'app.kubernetes.io/name': 'team-a',
  'app.kubernetes.io/component': 'tenant',
  'app.kubernetes.io/part-of': 'ml',
  'app.kubernetes.io/managed-by': 'mlplatform',
  'mlplatform.io/tenant': 'team-a',
};

describe('renderTenant with minimal options', () => {
  const objects = render(tenant('team-a'));

  test('creates no pod-bearing object, no RoleBinding and no queue', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'LimitRange/team-a-container-defaults',
      'Namespace/team-a',
      'NetworkPolicy/team-a-allow-database',
      'NetworkPolicy/team-a-allow-dns',
      'NetworkPolicy/team-a-allow-https-egress',
      'NetworkPolicy/team-a-allow-same-namespace',
      'NetworkPolicy/team-a-allow-store',
      'NetworkPolicy/team-a-allow-tracking',
      'NetworkPolicy/team-a-default-deny',
      'ResourceQuota/team-a-quota',
    ]);
  });

  test('the Namespace enforces Pod Security restricted, pinned to v1.27', () => {
    const ns = find(objects, 'Namespace', 'team-a');
    expect(ns.apiVersion).toBe('v1');
    expect(ns.metadata).toEqual({
      name: 'team-a',
      labels: {
        ...TEAM_LABELS,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.27',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'v1.27',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'v1.27',
      },
    });
  });

  test('every namespaced object is in the tenant namespace with the tenant labels', () => {
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
      expect(o.metadata.namespace).toBe('team-a');
      expect(o.metadata.labels).toEqual(TEAM_LABELS);
    }
  });

  test('the default quota: CPU, memory, memory limits at 2x, pods, storage, claims, and no GPU', () => {
    expect(find(objects, 'ResourceQuota', 'team-a-quota').spec).toEqual({
      hard: {
        'requests.cpu': '8',
        'requests.memory': '32Gi',
        'limits.memory': '64Gi',
        'pods': '50',
        'requests.storage': '100Gi',
        'persistentvolumeclaims': '50',
        'requests.nvidia.com/gpu': '0',
        'requests.nvidia.com/mig-1g.10gb': '0',
      },
    });
  });

  test('the LimitRange sets default requests and limits', () => {
    expect(find(objects, 'LimitRange', 'team-a-container-defaults').spec).toEqual({
      limits: [{ type: 'Container', default: { cpu: '1', memory: '1Gi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }],
    });
  });
});

describe('ResourceQuota GPUs', () => {
  const hard = (t: TenantSpec, pools: readonly GpuPoolSpec[] = POOLS) =>
    find(render(t, platform({ pools })), 'ResourceQuota', `${t.name}-quota`).spec.hard;

  test('sums pools per resource name: whole and time-sliced GPUs share nvidia.com/gpu, MIG has its own', () => {
    const h = hard(tenant('gpu', { quota: { gpus: { 'a10g': 2, 'l4-shared': 8, 'a100-mig': 14 } } }));
    expect(h['requests.nvidia.com/gpu']).toBe('10');
    expect(h['requests.nvidia.com/mig-1g.10gb']).toBe('14');
    expect(Object.keys(h).filter((k) => k.includes('nvidia.com'))).toEqual(['requests.nvidia.com/gpu', 'requests.nvidia.com/mig-1g.10gb']);
  });

  test('a tenant with MIG slices only gets 0 whole GPUs', () => {
    const h = hard(tenant('mig', { quota: { gpus: { 'a100-mig': 7 } } }));
    expect(h['requests.nvidia.com/mig-1g.10gb']).toBe('7');
    expect(h['requests.nvidia.com/gpu']).toBe('0');
  });

  test('without any declared pool, GPUs are still quota 0', () => {
    const h = hard(tenant('cpu-only', {}, []), []);
    expect(Object.keys(h).filter((k) => k.includes('nvidia.com'))).toEqual(['requests.nvidia.com/gpu']);
    expect(h['requests.nvidia.com/gpu']).toBe('0');
  });

  test('custom quota values render as Kubernetes quantities', () => {
    const h = hard(tenant('custom', { quota: { cpu: Cpu.millis(2500), memory: Size.mebibytes(1536), pods: 7, storage: Size.tebibytes(1) } }));
    expect(h).toEqual({
      'requests.cpu': '2500m',
      'requests.memory': '1536Mi',
      'limits.memory': '3Gi',
      'pods': '7',
      'requests.storage': '1Ti',
      'persistentvolumeclaims': '7',
      'requests.nvidia.com/gpu': '0',
      'requests.nvidia.com/mig-1g.10gb': '0',
    });
  });

  test('limits.memory never drops below one default container limit', () => {
    const h = hard(tenant('small', { quota: { memory: Size.mebibytes(256) }, containerDefaults: { memoryLimit: Size.gibibytes(1) } }));
    expect(h['requests.memory']).toBe('256Mi');
    expect(h['limits.memory']).toBe('1Gi');
  });

  test('a GPU quota naming an undeclared pool fails with the path and the fix', () => {
    const t = tenant('bad', { quota: { gpus: { a10g: 1 } } });
    expect(() => synthChart((chart) => renderTenant(chart, t, platform({ pools: [MIG] })))).toThrow(
      'Tenant "bad": 1 invalid prop\n  - `quota.gpus.a10g` (1): names no GPU pool; declare it first, or use one of: a100-mig',
    );
  });
});

test('custom container defaults go into the LimitRange', () => {
  const t = tenant('lr', { containerDefaults: { cpuRequest: Cpu.millis(250), cpuLimit: Cpu.cores(2), memoryRequest: Size.mebibytes(512), memoryLimit: Size.gibibytes(4) } });
  expect(find(render(t), 'LimitRange', 'lr-container-defaults').spec.limits).toEqual([
    { type: 'Container', default: { cpu: '2', memory: '4Gi' }, defaultRequest: { cpu: '250m', memory: '512Mi' } },
  ]);
});

describe('RoleBindings', () => {
  const objects = render(tenant('team-a', { namespace: 'team-a-ns', access: { admins: ['oidc:ml-leads'], viewers: ['oidc:auditors', 'oidc:ml-all', 'oidc:auditors'] } }));

  test('one binding per role with groups, to the built-in ClusterRole', () => {
    expect(findAll(objects, 'RoleBinding').map((o) => o.metadata.name).sort()).toEqual(['team-a-admin', 'team-a-view']);
    const admin = find(objects, 'RoleBinding', 'team-a-admin', 'team-a-ns');
    expect(admin.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(admin.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' });
    expect(admin.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:ml-leads' }]);
  });

  test('groups are bound once each, in order', () => {
    const view = find(objects, 'RoleBinding', 'team-a-view', 'team-a-ns');
    expect(view.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
    expect(view.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:auditors' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:ml-all' },
    ]);
  });

  test('editors get an edit binding', () => {
    const b = find(render(tenant('eds', { access: { editors: ['devs'] } })), 'RoleBinding', 'eds-edit');
    expect(b.roleRef.name).toBe('edit');
    expect(b.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]);
  });
});

describe('NetworkPolicies', () => {
  const objects = render(tenant('team-a'));
  const spec = (name: string) => find(objects, 'NetworkPolicy', name, 'team-a').spec;
  const platformPeer = (labels: Record<string, string>) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlplatform' } },
    podSelector: { matchLabels: labels },
  });

  test('default deny of ingress and egress for every pod', () => {
    expect(spec('team-a-default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  test('DNS to kube-dns only, UDP and TCP 53', () => {
    expect(spec('team-a-allow-dns')).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      }],
    });
  });

  test('all traffic between pods of the namespace', () => {
    expect(spec('team-a-allow-same-namespace')).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
  });

  test.each([
    ['tracking', TRACKING],
    ['store', STORE],
    ['database', DATABASE],
  ])('egress to the platform %s pods on their port only', (role, peer) => {
    expect(spec(`team-a-allow-${role}`)).toEqual({
      // The database only from the pods that log in with the tenant's own role (a sweep's Optuna pods).
      podSelector: role === 'database' ? { matchLabels: { 'mlplatform.io/database-client': 'true' } } : {},
      policyTypes: ['Egress'],
      egress: [{ to: [platformPeer(peer.podLabels)], ports: [{ protocol: 'TCP', port: peer.port }] }],
    });
  });

  test('HTTPS egress outside the private ranges', () => {
    expect(spec('team-a-allow-https-egress')).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'] } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      }],
    });
  });

  test('no store or database policy when they are external', () => {
    const names = findAll(render(tenant('ext'), platform({ store: undefined, database: undefined })), 'NetworkPolicy').map((o) => o.metadata.name).sort();
    expect(names).toEqual(['ext-allow-dns', 'ext-allow-https-egress', 'ext-allow-same-namespace', 'ext-allow-tracking', 'ext-default-deny']);
  });
});

describe('Kueue', () => {
  const t = tenant('team-a', { namespace: 'team-a-ns', queue: true, quota: { cpu: Cpu.cores(64), memory: Size.gibibytes(512), gpus: { 'a10g': 4, 'a100-mig': 14, 'l4-shared': 8 } } });
  const objects = render(t, platform(), { flavors: true });

  test('a ClusterQueue admitting the tenant namespace, one resource group per resource kind', () => {
    const cq = find(objects, 'kueue.x-k8s.io/v1beta2/ClusterQueue', 'ml-team-a');
    expect(cq.metadata).toEqual({ name: 'ml-team-a', labels: TEAM_LABELS });
    expect(cq.spec).toEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a-ns' } },
      resourceGroups: [
        {
          coveredResources: ['cpu', 'memory', 'ephemeral-storage'],
          flavors: [{
            name: 'ml-default',
            resources: [{ name: 'cpu', nominalQuota: '64' }, { name: 'memory', nominalQuota: '512Gi' }, { name: 'ephemeral-storage', nominalQuota: '1Ti' }],
          }],
        },
        {
          coveredResources: ['nvidia.com/gpu'],
          flavors: [
            { name: 'ml-a10g', resources: [{ name: 'nvidia.com/gpu', nominalQuota: 4 }] },
            { name: 'ml-l4-shared', resources: [{ name: 'nvidia.com/gpu', nominalQuota: 8 }] },
          ],
        },
        {
          coveredResources: ['nvidia.com/mig-1g.10gb'],
          flavors: [{ name: 'ml-a100-mig', resources: [{ name: 'nvidia.com/mig-1g.10gb', nominalQuota: 14 }] }],
        },
      ],
    });
  });

  test("the ClusterQueue's ephemeral-storage quota is the tenant's quota.ephemeralStorage", () => {
    const own = render(tenant('team-a', { queue: true, quota: { ephemeralStorage: Size.gibibytes(300) } }), platform(), { flavors: true });
    const group = find(own, 'ClusterQueue', 'ml-team-a').spec.resourceGroups[0];
    expect(group.flavors[0].resources).toContainEqual({ name: 'ephemeral-storage', nominalQuota: '300Gi' });
  });

  test('a LocalQueue in the tenant namespace pointing at the ClusterQueue', () => {
    const lq = find(objects, 'kueue.x-k8s.io/v1beta2/LocalQueue', 'team-a-ns', 'team-a-ns');
    expect(lq.spec).toEqual({ clusterQueue: 'ml-team-a' });
  });

  test('every ClusterQueue flavor is a rendered ResourceFlavor', () => {
    const flavors = new Set(findAll(objects, 'ResourceFlavor').map((o) => o.metadata.name));
    const used = find(objects, 'ClusterQueue', 'ml-team-a').spec.resourceGroups.flatMap((g: any) => g.flavors.map((f: any) => f.name));
    for (const f of used) expect(flavors).toContain(f);
  });

  test('a CPU-only queue has the cpu/memory/ephemeral-storage group only, with the default quotas', () => {
    const cq = find(render(tenant('cpu', { queue: true })), 'ClusterQueue', 'ml-cpu');
    expect(cq.spec.resourceGroups).toEqual([{
      coveredResources: ['cpu', 'memory', 'ephemeral-storage'],
      flavors: [{
        name: 'ml-default',
        resources: [{ name: 'cpu', nominalQuota: '8' }, { name: 'memory', nominalQuota: '32Gi' }, { name: 'ephemeral-storage', nominalQuota: '1Ti' }],
      }],
    }]);
  });

  test('no queue without Kueue, nor without queue', () => {
    const kinds = (objs: K8sObject[]) => objs.filter((o) => o.apiVersion.startsWith('kueue.x-k8s.io/'));
    expect(kinds(render(tenant('q', { queue: true }), platform({ kueue: false })))).toEqual([]);
    expect(kinds(render(tenant('q'), platform()))).toEqual([]);
  });
});

describe('renderResourceFlavors', () => {
  const { objects } = synthChart((chart) => renderResourceFlavors(chart, 'ml', POOLS));

  test('validates', () => {
    expectValidManifests(objects);
  });

  test('a default flavor without node labels', () => {
    const f = find(objects, 'kueue.x-k8s.io/v1beta2/ResourceFlavor', 'ml-default');
    expect(f.metadata).toEqual({ name: 'ml-default', labels: { 'app.kubernetes.io/part-of': 'ml', 'app.kubernetes.io/managed-by': 'mlplatform' } });
    expect(f.spec).toEqual({});
  });

  test('one flavor per pool selecting its nodes by pool label, with its tolerations', () => {
    expect(findAll(objects, 'ResourceFlavor').map((o) => o.metadata.name)).toEqual(['ml-default', 'ml-a10g', 'ml-a100-mig', 'ml-l4-shared']);
    expect(find(objects, 'ResourceFlavor', 'ml-a100-mig').spec).toEqual({
      nodeLabels: { 'mlplatform.io/gpu-pool': 'a100-mig' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
  });
});

describe('names and scope', () => {
  test('cluster-scoped objects carry no namespace even in a chart with a default namespace', () => {
    const objects = render(tenant('team-a', { queue: true, quota: { gpus: { a10g: 1 } } }), platform(), { namespace: 'elsewhere', flavors: true });
    for (const kind of ['Namespace', 'ClusterQueue', 'ResourceFlavor']) {
      for (const o of findAll(objects, kind)) expect(o.metadata.namespace).toBeUndefined();
    }
    for (const o of objects.filter((x) => !['Namespace', 'ClusterQueue', 'ResourceFlavor'].includes(x.kind))) {
      expect(o.metadata.namespace).toBe('team-a');
    }
  });

  test('long tenant names keep every object name a DNS-1123 label', () => {
    const long = 'a'.repeat(60);
    const objects = render(tenant(long, { queue: true }), platform({ name: 'platform-with-a-long-name' }));
    for (const o of objects) {
      expect(o.metadata.name!.length).toBeLessThanOrEqual(63);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(new Set(findAll(objects, 'NetworkPolicy').map((o) => o.metadata.name)).size).toBe(7);
  });

  test('two tenants render side by side under their own constructs', () => {
    const p = platform();
    const { chart, objects } = synthChart((c) => {
      renderTenant(c, tenant('team-a', { queue: true }), p);
      renderTenant(c, tenant('team-b', { queue: true }), p);
    });
    expectValidManifests(objects);
    expect(chart.node.children.map((c) => c.node.id)).toEqual(['team-a', 'team-b']);
    expect(findAll(objects, 'Namespace').map((o) => o.metadata.name)).toEqual(['team-a', 'team-b']);
    expect(findAll(objects, 'ClusterQueue').map((o) => o.metadata.name)).toEqual(['ml-team-a', 'ml-team-b']);
  });
});

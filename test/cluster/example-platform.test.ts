/**
 * The example platform (examples/cdk8s-platform: embedded stores, three GPU pools, two tenants, a
 * pipeline, a sweep and an endpoint) on a real control plane with Kueue running: every object is
 * accepted by the API server (strict field validation, CEL rules, Pod Security "restricted"), the
 * controllers create every pod, and the real scheduler places each pod on a node of the pool it
 * declares.
 */
import { App } from 'cdk8s';
import { Cluster, startCluster, synthObjects } from './cluster';
import { expectPodsPlaced, expectQueuedJobsAdmitted, expectWorkloadPods, QUEUE_LABEL } from './expectations';
import { Manifest } from './kube';
import { ask, groupSubject, serviceAccounts, serviceAccountSubject } from './rbac';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';

let cluster: Cluster;
let objects: Manifest[];
let platform: MlPlatform;

beforeAll(async () => {
  const app = new App({ outdir: '/nonexistent' });
  platform = buildExample(app).platform;
  objects = synthObjects(app);
  cluster = await startCluster({ name: 'example', platform, objects, kueue: true });
});

afterAll(async () => {
  await cluster?.stop();
});

test('the API server accepts every object, without a warning', () => {
  expect(cluster.problems).toEqual([]);
});

test('the controllers create every pod the workloads ask for (Pod Security admits them)', async () => {
  await expectWorkloadPods(cluster, objects);
});

test('the scheduler places every pod on a node of the pool it declares', async () => {
  await expectPodsPlaced(cluster);
});

test('Kueue admits the queued Jobs within the tenant\'s quota', async () => {
  const queued = objects.filter((o: any) => o.kind === 'Job' && o.metadata.labels?.[QUEUE_LABEL]);
  expect(queued.length).toBeGreaterThan(0);
  await expectQueuedJobsAdmitted(cluster.plane.admin, queued.length);
});

describe('RBAC, as the API server authorizes it', () => {
  const denied = (answers: { allowed: boolean }[]) => answers.filter((a) => a.allowed);

  test("each tenant's groups act in their own namespace: admins and editors read its Secrets, viewers do not", async () => {
    const kube = cluster.plane.admin;
    for (const t of platform.context.tenants) {
      const writers = [...t.access.admins, ...t.access.editors].map(groupSubject);
      const own = await ask(kube, writers, ['get', 'list', 'create'], 'secrets', [t.namespace]);
      expect(own.filter((a) => !a.allowed)).toEqual([]);
      const viewers = await ask(kube, t.access.viewers.map(groupSubject), ['get', 'list'], 'secrets', [t.namespace]);
      expect(denied(viewers)).toEqual([]);
      const readers = await ask(kube, t.access.viewers.map(groupSubject), ['get', 'list'], 'pods', [t.namespace]);
      expect(readers.filter((a) => !a.allowed)).toEqual([]);
    }
  });

  test("no tenant group reaches another tenant's namespace or the platform's", async () => {
    const kube = cluster.plane.admin;
    const tenants = platform.context.tenants;
    for (const t of tenants) {
      const groups = [...t.access.admins, ...t.access.editors, ...t.access.viewers]
        // A group bound in two tenants (a platform-wide admins group) reaches both by design.
        .filter((g) => !tenants.some((u) => u !== t && [...u.access.admins, ...u.access.editors, ...u.access.viewers].includes(g)))
        .map(groupSubject);
      const others = [platform.namespace, ...tenants.filter((u) => u !== t).map((u) => u.namespace)];
      const answers = await ask(kube, groups, ['get', 'list', 'create', 'update', 'delete'], 'secrets', others);
      expect(denied(answers)).toEqual([]);
      const pods = await ask(kube, groups, ['list', 'create'], 'pods', others);
      expect(denied(pods)).toEqual([]);
    }
  });

  test("no tenant workload's ServiceAccount reads Secrets or creates pods anywhere", async () => {
    const kube = cluster.plane.admin;
    const tenantNamespaces = platform.context.tenants.map((t) => t.namespace);
    const accounts = serviceAccounts(objects).filter((s) => tenantNamespaces.some((n) => s.user.startsWith(`system:serviceaccount:${n}:`)));
    expect(accounts.length).toBeGreaterThan(0);
    const namespaces = [platform.namespace, ...tenantNamespaces];
    expect(denied(await ask(kube, accounts, ['get', 'list'], 'secrets', namespaces))).toEqual([]);
    expect(denied(await ask(kube, accounts, ['create'], 'pods', namespaces))).toEqual([]);
  });

  test('the bootstrap reads and updates only the Secrets its Role names, and creates none (they are in the manifests, empty)', async () => {
    const kube = cluster.plane.admin;
    const roles = objects.filter((o: any) => o.kind === 'Role' && (o.rules ?? []).some((r: any) => r.resources?.includes('secrets') && r.resourceNames));
    expect(roles.length).toBeGreaterThan(0);
    const binding = objects.find((o: any) => o.kind === 'RoleBinding' && o.roleRef.name === roles[0].metadata.name) as any;
    const sa = binding.subjects[0];
    const bootstrap = serviceAccountSubject(sa.namespace, sa.name);
    for (const role of roles as any[]) {
      const ns = role.metadata.namespace;
      const names: string[] = role.rules.find((r: any) => r.resourceNames).resourceNames;
      for (const name of names) {
        const named = await ask(kube, [bootstrap], ['get', 'update'], 'secrets', [ns], name);
        expect(named.filter((a) => !a.allowed)).toEqual([]);
      }
      const other = await ask(kube, [bootstrap], ['get', 'update', 'delete', 'list', 'create'], 'secrets', [ns], 'some-other-secret');
      expect(denied(other)).toEqual([]);
      expect(denied(await ask(kube, [bootstrap], ['create'], 'secrets', [ns]))).toEqual([]);
      // Each Secret it writes exists once the manifests are applied (the ones it only reads are the user's).
      const applied = objects.filter((o: any) => o.kind === 'Secret' && o.metadata.namespace === ns).map((o: any) => o.metadata.name);
      if (ns !== 'mlplatform') expect(names.filter((n) => !applied.includes(n))).toEqual([]);
    }
  });
});

import * as fc from 'fast-check';
import {
  checkNamespace, checkRbacSubject, Issues, reservedNamespaceOwner, reservedNamespaces, VERSIONS, withVersions,
} from '../../src/core';
import { DEFAULT_ARGOCD_NAMESPACE, DEFAULT_FLUX_NAMESPACE } from '../../src/core/platform/addons';

const issuesOf = (fn: (issues: Issues) => void) => {
  const issues = new Issues('t');
  fn(issues);
  return issues.all.map((i) => `${i.path} (${JSON.stringify(i.value)}): ${i.message}`);
};

// kube-system / kube-public: k8s.io/apimachinery pkg/apis/meta/v1/types.go (NamespaceSystem,
// NamespacePublic); default / kube-node-lease: k8s.io/api core/v1/types.go (NamespaceDefault,
// NamespaceNodeLease). The add-on namespaces come from src/core/versions.ts, never from a copy here.
describe('reservedNamespaces', () => {
  test("derived from the version table: every add-on chart's namespace, Argo CD's and Flux's, default and Prometheus'", () => {
    const reserved = reservedNamespaces();
    const charts = Object.values(VERSIONS.charts).map((c) => c.namespace);
    expect(charts.length).toBeGreaterThanOrEqual(7);
    for (const ns of [...charts, DEFAULT_ARGOCD_NAMESPACE, DEFAULT_FLUX_NAMESPACE, 'default', 'monitoring']) expect(reserved.has(ns)).toBe(true);
    // Exactly those: nothing hand-copied beside them.
    expect([...reserved.keys()].sort()).toEqual([...new Set([...charts, 'argocd', 'flux-system', 'default', 'monitoring'])].sort());
    expect(reserved.get('envoy-gateway-system')).toBe("the envoyGateway add-on's namespace (versions.charts.envoyGateway.namespace)");
    expect(reserved.get('argo')).toBe("the argoWorkflows add-on's namespace (versions.charts.argoWorkflows.namespace)");
    // Two charts in one namespace: both named.
    expect(reserved.get('kserve')).toBe("the kserveCrd and kserve add-ons' namespace (versions.charts.kserveCrd.namespace, versions.charts.kserve.namespace)");
  });

  test('an overridden chart namespace and the delivery namespace are reserved too; the pinned defaults stay reserved', () => {
    const versions = withVersions({ charts: { kueue: { namespace: 'queues' } } });
    const reserved = reservedNamespaces({ versions, deliveryNamespace: 'gitops' });
    expect(reserved.get('queues')).toBe("the kueue add-on's namespace (versions.charts.kueue.namespace)");
    expect(reserved.get('kueue-system')).toBeDefined();
    expect(reserved.get('gitops')).toBe('the namespace of the add-on delivery (addons.delivery)');
    expect(reservedNamespaces().has('queues')).toBe(false);
  });

  test('every kube-* name is Kubernetes\'; names that merely contain "kube" are free', () => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease', 'kube-flannel']) expect(reservedNamespaceOwner(ns)).toMatch(/^reserved for Kubernetes/);
    for (const ns of ['kubeflow', 'team-kube-a', 'vision', 'mlplatform', 'argo-team']) expect(reservedNamespaceOwner(ns)).toBeUndefined();
  });

  test('property: a DNS label is accepted by checkNamespace exactly when it is no reserved namespace', () => {
    const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,14}[a-z0-9])?$/);
    const names = fc.oneof(label, fc.constantFrom(...reservedNamespaces().keys()), label.map((l) => `kube-${l}`));
    fc.assert(fc.property(names, (ns) => {
      const issues = new Issues('t');
      const ok = checkNamespace(issues, 'namespace', ns, 'fix it');
      const reserved = ns.startsWith('kube-') || reservedNamespaces().has(ns);
      return ok === !reserved && issues.all.length === (reserved ? 1 : 0);
    }));
  });
});

describe('checkNamespace', () => {
  test('one issue naming the path, the value, the owner and the fix', () => {
    expect(issuesOf((i) => checkNamespace(i, 'namespace', 'kube-system', 'give the platform a namespace of its own'))).toEqual([
      'namespace ("kube-system"): is reserved for Kubernetes (every "kube-*" namespace: kube-system, kube-public, kube-node-lease…); give the platform a namespace of its own',
    ]);
    expect(issuesOf((i) => checkNamespace(i, 'tenants.x.namespace', 'default', 'rename it'))).toEqual([
      'tenants.x.namespace ("default"): is Kubernetes\' default namespace (the `kubernetes` Service and every object without a namespace); rename it',
    ]);
  });

  test('a malformed name gets the DNS-1123 issue only', () => {
    const found = issuesOf((i) => checkNamespace(i, 'namespace', 'Kube-System', 'x'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^namespace \("Kube-System"\): must be a DNS-1123 label of at most 63 characters/);
  });
});

// The groups Kubernetes itself asserts: k8s.io/apiserver pkg/authentication/user/user.go
// (system:masters, system:nodes, system:authenticated, system:unauthenticated…) and
// pkg/authentication/serviceaccount/util.go (system:serviceaccounts, system:serviceaccounts:<ns>),
// in the Go module cache (k8s.io/apiserver@v0.37.2).
describe('checkRbacSubject', () => {
  test('system groups are rejected, each with what it stands for and the opt-in', () => {
    const check = (g: string) => issuesOf((i) => checkRbacSubject(i, 'access.editors[0]', g, false, 'access.allowSystemGroups'));
    expect(check('system:authenticated')).toEqual([
      'access.editors[0] ("system:authenticated"): is a Kubernetes system group (every authenticated user and every ServiceAccount of the cluster); ' +
      'bind a group of your identity provider instead, or set `access.allowSystemGroups: true` to bind system groups on purpose',
    ]);
    expect(check('system:serviceaccounts:ci')[0]).toContain('(every ServiceAccount of namespace "ci", so every pod there)');
    expect(check('system:serviceaccounts')[0]).toContain('(every ServiceAccount of every namespace, so every pod)');
    expect(check('system:unauthenticated')[0]).toContain('(every anonymous request)');
    expect(check('system:masters')[0]).toContain('(the cluster administrators, who bypass RBAC anyway)');
    expect(check(' system:nodes')[0]).toContain('(every kubelet)');
    expect(check('system:bootstrappers')[0]).toContain('(a name Kubernetes reserves for its own users and groups)');
  });

  test('identity-provider groups pass; with the opt-in system groups pass too; empty names never do', () => {
    for (const g of ['vision-team', 'oidc:ml-leads', 'System:authenticated', 'team-system:x']) expect(issuesOf((i) => checkRbacSubject(i, 'p', g, false, 'o'))).toEqual([]);
    expect(issuesOf((i) => checkRbacSubject(i, 'p', 'system:serviceaccounts:ci', true, 'o'))).toEqual([]);
    expect(issuesOf((i) => checkRbacSubject(i, 'p', '  ', true, 'o'))).toEqual(['p ("  "): must be a non-empty group name']);
  });
});

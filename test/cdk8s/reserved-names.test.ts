import { Chart, Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform, MlPlatformProps, ModelEndpoint, TrainingPipeline, TuningSweep } from '../../src/cdk8s';
import { AddonDelivery, ModelSource, StudyStorage, TenantOptions } from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject } from '../support/synth';

/*
 * Issue #20 item 6: namespaces Kubernetes or the platform's add-ons use, and Kubernetes' own
 * groups, are rejected wherever the user names one — each with one ValidationError naming the prop
 * path, the value and the fix — and the opt-in for system groups renders them as asked.
 */

const IMAGE = 'ghcr.io/acme/train:1.0.0';
const KUBE = 'is reserved for Kubernetes (every "kube-*" namespace: kube-system, kube-public, kube-node-lease…)';

function platform(props: MlPlatformProps = {}): MlPlatform {
  return new MlPlatform(new Chart(Testing.app(), 'c'), 'ml', props);
}

function tenantError(name: string, o: TenantOptions = {}, props: MlPlatformProps = {}): string {
  const p = platform(props);
  return validationError(() => p.addTenant(name, o)).message;
}

describe('MlPlatform namespace', () => {
  test('kube-*, default and add-on namespaces are rejected with the fix', () => {
    expect(validationError(() => platform({ namespace: 'kube-system' })).message).toBe([
      'MlPlatform "ml": 1 invalid prop',
      `  - \`namespace\` ("kube-system"): ${KUBE}; give the platform a namespace of its own (the default is "mlplatform")`,
    ].join('\n'));
    expect(validationError(() => platform({ namespace: 'default' })).issues.map((i) => i.message)).toEqual([
      'is Kubernetes\' default namespace (the `kubernetes` Service and every object without a namespace); give the platform a namespace of its own (the default is "mlplatform")',
    ]);
    for (const [ns, owner] of [
      ['argo', "the argoWorkflows add-on's namespace (versions.charts.argoWorkflows.namespace)"],
      ['kueue-system', "the kueue add-on's namespace (versions.charts.kueue.namespace)"],
      ['envoy-gateway-system', "the envoyGateway add-on's namespace (versions.charts.envoyGateway.namespace)"],
      ['cert-manager', "the certManager add-on's namespace (versions.charts.certManager.namespace)"],
      ['nvidia-device-plugin', "the nvidiaDevicePlugin add-on's namespace (versions.charts.nvidiaDevicePlugin.namespace)"],
      ['argocd', "Argo CD's namespace (AddonDelivery.argoCd())"],
      ['flux-system', "Flux's namespace (AddonDelivery.flux())"],
    ]) {
      expect(validationError(() => platform({ namespace: ns })).issues.map((i) => [i.path, i.value, i.message])).toEqual([
        ['namespace', ns, `is ${owner}; give the platform a namespace of its own (the default is "mlplatform")`],
      ]);
    }
  });

  test("an add-on's overridden namespace and the delivery's own namespace are reserved for the platform too", () => {
    expect(validationError(() => platform({ versions: { charts: { argoWorkflows: { namespace: 'mlplatform' } } } })).issues.map((i) => [i.path, i.value])).toEqual([['namespace', 'mlplatform']]);
    expect(validationError(() => platform({ namespace: 'gitops', addons: { delivery: AddonDelivery.flux({ namespace: 'gitops' }) } })).issues.map((i) => i.message)).toEqual([
      'is the namespace of the add-on delivery (addons.delivery); give the platform a namespace of its own (the default is "mlplatform")',
    ]);
  });
});

describe('tenant namespaces', () => {
  test('a tenant named like an add-on namespace: the name is the namespace, so the fix is to rename it or set one', () => {
    expect(tenantError('envoy-gateway-system')).toBe([
      'MlPlatform "ml": addTenant("envoy-gateway-system"): 1 invalid prop',
      '  - `options.name` ("envoy-gateway-system"): is the envoyGateway add-on\'s namespace (versions.charts.envoyGateway.namespace); ' +
      'rename the tenant, or give it a namespace of its own in `namespace` (the name is the namespace by default)',
    ].join('\n'));
    // Reserved whether or not this platform enables the add-on (another installer may have put it there).
    expect(tenantError('keda')).toContain("`options.name` (\"keda\"): is the keda add-on's namespace");
  });

  test('an explicit tenant namespace that is reserved', () => {
    expect(tenantError('ops', { namespace: 'kube-system' })).toBe([
      'MlPlatform "ml": addTenant("ops"): 1 invalid prop',
      `  - \`options.namespace\` ("kube-system"): ${KUBE}; give the tenant a namespace of its own in \`namespace\``,
    ].join('\n'));
    expect(tenantError('ops', { namespace: 'monitoring' })).toContain('`options.namespace` ("monitoring"): is the Prometheus namespace endpoints expect');
    // The platform's own add-on table and delivery decide: an overridden Kueue namespace, Flux's custom namespace.
    expect(tenantError('ops', { namespace: 'queues' }, { versions: { charts: { kueue: { namespace: 'queues' } } } })).toContain("is the kueue add-on's namespace");
    expect(tenantError('gitops', {}, { addons: { delivery: AddonDelivery.flux({ namespace: 'gitops' }) } })).toContain('is the namespace of the add-on delivery (addons.delivery)');
  });

  test('a tenant may still be named like a reserved namespace when it is given its own', () => {
    const p = platform();
    expect(p.addTenant('argo', { namespace: 'team-argo' }).namespace).toBe('team-argo');
    expectValidManifests(Testing.synth(p.node.scope as Chart) as K8sObject[]);
  });
});

describe('tenant access: Kubernetes system groups', () => {
  test('system:authenticated and other system groups are rejected, each path named', () => {
    const message = tenantError('vision', { access: { admins: ['ml-leads'], editors: ['system:authenticated'], viewers: ['analysts', 'system:serviceaccounts'] } });
    expect(message).toBe([
      'MlPlatform "ml": addTenant("vision"): 2 invalid props',
      '  - `options.access.editors[0]` ("system:authenticated"): is a Kubernetes system group (every authenticated user and every ServiceAccount of the cluster); ' +
      'bind a group of your identity provider instead, or set `options.access.allowSystemGroups: true` to bind system groups on purpose',
      '  - `options.access.viewers[1]` ("system:serviceaccounts"): is a Kubernetes system group (every ServiceAccount of every namespace, so every pod); ' +
      'bind a group of your identity provider instead, or set `options.access.allowSystemGroups: true` to bind system groups on purpose',
    ].join('\n'));
  });

  test('allowSystemGroups: true binds them as asked, beside the identity-provider groups', () => {
    const p = platform();
    p.addTenant('vision', { access: { editors: ['vision-team'], viewers: ['system:serviceaccounts:ci'], allowSystemGroups: true } });
    const objects = Testing.synth(p.node.scope as Chart) as K8sObject[];
    expectValidManifests(objects);
    expect(find(objects, 'RoleBinding', 'vision-view').subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:ci' }]);
    expect(find(objects, 'RoleBinding', 'vision-edit').subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'vision-team' }]);
    // The opt-in is a boolean, nothing else.
    expect(tenantError('nlp', { access: { viewers: ['system:serviceaccounts:ci'], allowSystemGroups: 'yes' as never } }).split('\n').slice(1)).toEqual([
      '  - `options.access.allowSystemGroups` ("yes"): must be true or false',
      expect.stringContaining('`options.access.viewers[0]` ("system:serviceaccounts:ci"): is a Kubernetes system group'),
    ]);
  });
});

describe('workload namespaces: the same check for TrainingPipeline, TuningSweep and ModelEndpoint', () => {
  const FIX = 'run the workload in a tenant namespace (MlPlatform.addTenant) or in a namespace of your own';
  const sweepProps = {
    trial: { image: IMAGE, command: ['python', 'train.py'] },
    parameters: [{ name: 'lr', type: 'float' as const, low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' as const }],
    budget: { trials: 4 },
  };
  const model = ModelSource.uri('s3://models/iris/3', { credentials: { accessKeyId: { name: 'k', key: 'id' }, secretAccessKey: { name: 'k', key: 'secret' } } });
  const build = {
    pipeline: (chart: Chart, ns: string, p?: MlPlatform) => new TrainingPipeline(chart, 'train', { platform: p, namespace: ns, steps: [{ name: 'a', image: IMAGE }] }),
    sweep: (chart: Chart, ns: string, p?: MlPlatform) => new TuningSweep(chart, 'sweep', { ...sweepProps, platform: p, namespace: ns, storage: p ? undefined : StudyStorage.fromSecret({ name: 'optuna-db', key: 'url' }) }),
    endpoint: (chart: Chart, ns: string, p?: MlPlatform) => new ModelEndpoint(chart, 'iris', { platform: p, namespace: ns, versions: [{ name: 'stable', model }] }),
  };

  for (const [kind, make] of Object.entries(build)) {
    test(`${kind}: kube-system, default and add-on namespaces, with or without a platform`, () => {
      for (const [ns, owner] of [
        ['kube-system', KUBE],
        ['default', "is Kubernetes' default namespace (the `kubernetes` Service and every object without a namespace)"],
        ['argo', "is the argoWorkflows add-on's namespace (versions.charts.argoWorkflows.namespace)"],
        ['kserve', "is the kserveCrd and kserve add-ons' namespace (versions.charts.kserveCrd.namespace, versions.charts.kserve.namespace)"],
      ]) {
        const bare = validationError(() => make(new Chart(Testing.app(), 'c'), ns));
        expect(bare.issues.map((i) => [i.path, i.value, i.message])).toEqual([['namespace', ns, `${owner}; ${FIX}`]]);
        // On a platform: the same single issue, not a second "not a tenant namespace" one.
        const { chart, platform: p } = buildPlatform(Testing.app());
        const on = validationError(() => make(chart, ns, p));
        expect(on.issues.map((i) => [i.path, i.value, i.message])).toEqual([['namespace', ns, bare.issues[0].message]]);
      }
    });
  }

  test('a free namespace still works without a platform, and a tenant namespace with one', () => {
    for (const make of Object.values(build)) {
      const chart = new Chart(Testing.app(), 'c');
      make(chart, 'research');
      expectValidManifests(chart.toJson() as K8sObject[]);
    }
    const { chart, platform: p } = buildPlatform(Testing.app());
    for (const make of Object.values(build)) make(chart, 'vision', p);
    expectValidManifests(chart.toJson() as K8sObject[]);
  });
});

// The NetworkPolicy evaluator of test/support/network-policy.ts on known cases: the examples of
// https://kubernetes.io/docs/concepts/services-networking/network-policies/ (with the answers the
// page gives), the API reference's defaulting and selector rules, and the pod extraction.
import { extractPods } from '../support/network-pods';
import { cidrContains, PortSet, reachability, selectorMatches } from '../support/network-policy';
import { K8sObject } from '../support/synth';

type Labels = Record<string, string>;

function namespace(name: string, labels: Labels = {}): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function pod(ns: string, name: string, labels: Labels, ports: object[] = []): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'main', image: 'example.com/app:1', ports }] },
  };
}

function policy(ns: string, name: string, spec: object): K8sObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

const id = (ns: string, name: string) => `${ns}/Pod/${name}`;

describe('no policy: every pod is non-isolated', () => {
  const r = reachability([pod('a', 'x', {}), pod('b', 'y', {})], { external: [{ name: 'internet', ip: '203.0.113.7' }] });

  test('every connection is allowed, both ways and to the outside', () => {
    expect(r.ports(id('a', 'x'), id('b', 'y')).toString()).toBe('*');
    expect(r.can(id('b', 'y'), id('a', 'x'), 9999, 'UDP')).toBe(true);
    expect(r.can(id('a', 'x'), 'internet', 443)).toBe(true);
    expect(r.can('internet', id('a', 'x'), 22)).toBe(true);
    expect(r.explain(id('a', 'x'), id('b', 'y'), 80)).toEqual({ allowed: true, egress: { isolated: false, allowedBy: [] }, ingress: { isolated: false, allowedBy: [] } });
  });
});

describe('the documentation\'s test-network-policy', () => {
  // The page's "Example NetworkPolicy", verbatim.
  const objects = [
    namespace('default'),
    namespace('myproject', { project: 'myproject' }),
    namespace('other', { project: 'other' }),
    policy('default', 'test-network-policy', {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
    }),
    pod('default', 'db', { role: 'db' }),
    pod('default', 'frontend', { role: 'frontend' }),
    pod('default', 'backend', { role: 'backend' }),
    pod('myproject', 'any', { app: 'whatever' }),
    pod('other', 'frontend', { role: 'frontend' }),
  ];
  const r = reachability(objects, {
    external: [
      { name: 'in-block', ip: '172.17.0.5' },
      { name: 'in-except', ip: '172.17.1.5' },
      { name: 'egress-target', ip: '10.0.0.7' },
      { name: 'outside-egress', ip: '10.0.1.7' },
    ],
  });
  const db = id('default', 'db');

  test('ingress to role=db on TCP 6379 from role=frontend of its namespace, any pod of project=myproject, 172.17.0.0/16 but 172.17.1.0/24', () => {
    expect(r.sourcesOf(db, 6379)).toEqual([id('default', 'frontend'), id('myproject', 'any'), 'in-block']);
    expect(r.can(id('default', 'frontend'), db, 6380)).toBe(false);
    expect(r.can(id('default', 'frontend'), db, 6379, 'UDP')).toBe(false);
    expect(r.explain(id('other', 'frontend'), db, 6379)).toEqual({ allowed: false, egress: { isolated: false, allowedBy: [] }, ingress: { isolated: true, allowedBy: [] } });
    expect(r.explain(id('myproject', 'any'), db, 6379).ingress).toEqual({ isolated: true, allowedBy: ['default/test-network-policy'] });
  });

  test('egress from role=db only to 10.0.0.0/24 on TCP 5978; pods (no IP) are not in any ipBlock', () => {
    expect(r.destinationsOf(db, 5978)).toEqual(['egress-target']);
    expect(r.ports(db, 'egress-target').toString()).toBe('TCP:5978');
    expect(r.can(db, 'outside-egress', 5978)).toBe(false);
    expect(r.ports(db, id('default', 'frontend')).isEmpty()).toBe(true);
  });

  test('pods the policy does not select stay open', () => {
    expect(r.ports(id('other', 'frontend'), id('default', 'backend')).toString()).toBe('*');
  });

  test('a pod with an explicit IP matches ipBlock peers', () => {
    const withIp = reachability(objects, { podIps: { [id('other', 'frontend')]: '172.17.3.4', [id('default', 'backend')]: '10.0.0.9' } });
    expect(withIp.can(id('other', 'frontend'), db, 6379)).toBe(true);
    expect(withIp.ports(db, id('default', 'backend')).toString()).toBe('TCP:5978');
  });
});

describe('"Behavior of to and from selectors": one peer with both selectors is an AND, two peers an OR', () => {
  const objects = (from: object[]) => [
    namespace('alice-ns', { user: 'alice' }),
    namespace('bob-ns', { user: 'bob' }),
    policy('srv', 'allow', { podSelector: {}, ingress: [{ from }] }),
    pod('srv', 'server', {}),
    pod('srv', 'local-client', { role: 'client' }),
    pod('alice-ns', 'client', { role: 'client' }),
    pod('alice-ns', 'other', { role: 'other' }),
    pod('bob-ns', 'client', { role: 'client' }),
  ];
  const server = id('srv', 'server');

  test('AND: client pods in namespaces of user=alice', () => {
    const r = reachability(objects([{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }]));
    expect(r.sourcesOf(server, 80)).toEqual([id('alice-ns', 'client')]);
  });

  test('OR: every pod of user=alice namespaces, and client pods of the policy\'s own namespace', () => {
    const r = reachability(objects([{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }]));
    expect(r.sourcesOf(server, 80)).toEqual([id('srv', 'local-client'), id('alice-ns', 'client'), id('alice-ns', 'other')]);
  });

  test('an empty namespaceSelector selects every namespace; an empty podSelector alone, every pod of the policy\'s namespace', () => {
    expect(reachability(objects([{ namespaceSelector: {} }])).sourcesOf(server, 80).length).toBe(5);
    expect(reachability(objects([{ podSelector: {} }])).sourcesOf(server, 80)).toEqual([id('srv', 'server'), id('srv', 'local-client')]);
  });

  test('namespaces carry kubernetes.io/metadata.name, with or without a Namespace object', () => {
    const r = reachability([...objects([{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['bob-ns', 'lone'] }] } }]), pod('lone', 'p', {})]);
    expect(r.sourcesOf(server, 80)).toEqual([id('bob-ns', 'client'), id('lone', 'p')]);
  });
});

describe('default policies and policyTypes defaulting', () => {
  const pods = [pod('n', 'a', { app: 'a' }), pod('n', 'b', { app: 'b' })];
  const a = id('n', 'a'), b = id('n', 'b');

  test('default deny ingress: b cannot reach a, a still reaches b', () => {
    const r = reachability([...pods, policy('n', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })]);
    expect(r.ports(b, a).isEmpty()).toBe(true);
    expect(r.ports(a, a).isEmpty()).toBe(true);
    expect(r.ports(a, b).isEmpty()).toBe(true);
  });

  test('allow all ingress (`ingress: [{}]`) beside a default deny', () => {
    const r = reachability([...pods,
      policy('n', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
      policy('n', 'allow-all-ingress', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] })]);
    expect(r.ports(b, a).toString()).toBe('*');
    expect(r.explain(b, a, 1).ingress.allowedBy).toEqual(['n/allow-all-ingress']);
  });

  test('default deny egress: a reaches nothing; a pod of another namespace still reaches a', () => {
    const r = reachability([...pods, pod('m', 'c', {}), policy('n', 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] })]);
    expect(r.destinationsOf(a, 80)).toEqual([]);
    expect(r.can(id('m', 'c'), a, 80)).toBe(true);
  });

  test('no policyTypes with egress rules: Ingress AND Egress (the pod also becomes ingress-isolated)', () => {
    const r = reachability([...pods, policy('n', 'egress-only', { podSelector: { matchLabels: { app: 'a' } }, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] })]);
    expect(r.ports(a, b).toString()).toBe('UDP:53');
    expect(r.ports(b, a).isEmpty()).toBe(true);
  });

  test('no policyTypes, `egress: []`: Ingress only (SetDefaults_NetworkPolicy counts rules, not the field)', () => {
    const r = reachability([...pods, policy('n', 'empty-egress', { podSelector: { matchLabels: { app: 'a' } }, egress: [] })]);
    expect(r.ports(a, b).toString()).toBe('*');
    expect(r.ports(b, a).isEmpty()).toBe(true);
  });

  test('a policy selects pods of its own namespace only', () => {
    const r = reachability([...pods, pod('m', 'a', { app: 'a' }), policy('m', 'deny', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress'] })]);
    expect(r.can(b, a, 80)).toBe(true);
    expect(r.can(b, id('m', 'a'), 80)).toBe(false);
  });
});

describe('ports', () => {
  const server = pod('n', 'server', { app: 'server' }, [
    { name: 'http', containerPort: 8080 },
    { name: 'dns', containerPort: 5353, protocol: 'UDP' },
    { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
  ]);
  const client = pod('n', 'client', { app: 'client' });
  const s = id('n', 'server'), c = id('n', 'client');
  const ingress = (ports: object[]) => reachability([server, client, policy('n', 'p', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports }] })]);

  test('endPort: the range is inclusive (the documentation\'s 32000-32768 example)', () => {
    const r = reachability([server, client, policy('n', 'multi-port-egress', {
      podSelector: { matchLabels: { app: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
    })], { external: [{ name: 'ext', ip: '10.0.0.1' }] });
    expect([31999, 32000, 32768, 32769].map((p) => r.can(c, 'ext', p))).toEqual([false, true, true, false]);
    expect(r.ports(c, 'ext').toString()).toBe('TCP:32000-32768');
  });

  test('a named port resolves against the destination\'s container ports of that name and protocol', () => {
    expect(ingress([{ port: 'http' }]).ports(c, s).toString()).toBe('TCP:8080');
    expect(ingress([{ port: 'dns', protocol: 'UDP' }]).ports(c, s).toString()).toBe('UDP:5353');
    expect(ingress([{ port: 'dns' }]).ports(c, s).isEmpty()).toBe(true);
    expect(ingress([{ port: 'grpc' }]).ports(c, s).isEmpty()).toBe(true);
    expect(ingress([{ port: 'http' }]).can(c, s, 'http')).toBe(true);
  });

  test('an egress named port resolves against the destination; an external endpoint has none', () => {
    const r = reachability([server, client, policy('n', 'p', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'metrics' }] }] })],
      { external: [{ name: 'ext', ip: '198.51.100.1' }] });
    expect(r.ports(c, s).toString()).toBe('TCP:9090');
    expect(r.ports(c, 'ext').isEmpty()).toBe(true);
  });

  test('protocol defaults to TCP; a protocol without port is every port of it; no ports is every port of every protocol', () => {
    expect(ingress([{ port: 80 }]).ports(c, s).toString()).toBe('TCP:80');
    expect(ingress([{ protocol: 'UDP' }]).ports(c, s).toString()).toBe('UDP:*');
    expect(ingress([]).ports(c, s).toString()).toBe('*');
  });

  test('rules and policies add up (union), and explain names each policy that allows', () => {
    const r = reachability([server, client,
      policy('n', 'one', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 80 }] }, { ports: [{ port: 81 }] }] }),
      policy('n', 'two', { podSelector: {}, ingress: [{ ports: [{ port: 81 }, { port: 'metrics' }] }] })]);
    expect(r.ports(c, s).toString()).toBe('TCP:80-81,9090');
    expect(r.explain(c, s, 81).ingress).toEqual({ isolated: true, allowedBy: ['n/one', 'n/two'] });
  });

  test('a connection needs the source\'s egress AND the destination\'s ingress', () => {
    const r = reachability([server, client,
      policy('n', 'in', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 8080 }, { port: 9090 }] }] }),
      policy('n', 'out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 8080 }, { port: 7000 }] }] })]);
    expect(r.ports(c, s).toString()).toBe('TCP:8080');
    expect(r.explain(c, s, 9090)).toEqual({ allowed: false, egress: { isolated: true, allowedBy: [] }, ingress: { isolated: true, allowedBy: ['n/in'] } });
  });
});

describe('selectors, CIDRs and port sets', () => {
  test('matchExpressions: In, NotIn (a missing key matches), Exists, DoesNotExist, with matchLabels ANDed', () => {
    const sel = (operator: string, values?: string[]) => ({ matchExpressions: [{ key: 'tier', operator, values }] });
    const three: Labels[] = [{ tier: 'web' }, { tier: 'db' }, {}];
    const two: Labels[] = [{ tier: '' }, {}];
    expect(three.map((l) => selectorMatches(sel('In', ['web', 'api']), l))).toEqual([true, false, false]);
    expect(three.map((l) => selectorMatches(sel('NotIn', ['web']), l))).toEqual([false, true, true]);
    expect(two.map((l) => selectorMatches(sel('Exists'), l))).toEqual([true, false]);
    expect(two.map((l) => selectorMatches(sel('DoesNotExist'), l))).toEqual([false, true]);
    expect(selectorMatches({ matchLabels: { app: 'x' }, ...sel('Exists') }, { tier: 'a' })).toBe(false);
    expect(selectorMatches({}, {})).toBe(true);
    expect(() => selectorMatches(sel('Gt', ['1']), {})).toThrow('unknown label selector operator "Gt"');
  });

  test('CIDRs: IPv4 and IPv6, prefix edges, no match across families', () => {
    expect(cidrContains('0.0.0.0/0', '203.0.113.7')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('172.16.0.0/12', '172.31.255.255')).toBe(true);
    expect(cidrContains('172.16.0.0/12', '172.32.0.0')).toBe(false);
    expect(cidrContains('10.1.2.3/32', '10.1.2.3')).toBe(true);
    expect(cidrContains('2001:db8::/64', '2001:db8::1')).toBe(true);
    expect(cidrContains('2001:db8::/64', '2001:db8:0:1::1')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(() => cidrContains('10.0.0.0/33', '10.0.0.1')).toThrow('not a CIDR');
  });

  test('PortSet merges adjacent ranges and renders compactly', () => {
    const set = PortSet.range('TCP', 80).union(PortSet.range('TCP', 81, 90)).union(PortSet.range('UDP', 53));
    expect(set.toString()).toBe('TCP:80-90 UDP:53');
    expect(set.intersect(PortSet.protocol('TCP')).toString()).toBe('TCP:80-90');
    expect(PortSet.none().toString()).toBe('-');
    expect(set.minus(PortSet.range('TCP', 85)).toString()).toBe('TCP:80-84,86-90 UDP:53');
    expect(PortSet.all().minus(PortSet.range('TCP', 1, 442)).minus(PortSet.range('TCP', 444, 65535)).minus(PortSet.protocol('UDP')).toString()).toBe('TCP:443 SCTP:*');
    expect(set.minus(PortSet.all()).isEmpty()).toBe(true);
  });

  test('invalid policies are errors, not silent answers', () => {
    const bad = (spec: object) => () => reachability([policy('n', 'bad', spec)]);
    expect(bad({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }))
      .toThrow('n/bad: rule 0 from[0] needs exactly one of ipBlock or podSelector/namespaceSelector');
    expect(bad({ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] })).toThrow('endPort needs a numeric port');
  });
});

describe('render', () => {
  test('one line per reachable destination, `(none)` for a source that reaches nothing', () => {
    const r = reachability([
      pod('n', 'a', { app: 'a' }, [{ name: 'http', containerPort: 8080 }]),
      pod('n', 'b', { app: 'b' }),
      policy('n', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      policy('n', 'b-to-a', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'a' } } }] }, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }] }] }),
      policy('n', 'a-from-b', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 'http' }] }] }),
    ], { external: [{ name: 'internet', ip: '203.0.113.7' }] });
    expect(r.render()).toBe([
      'n/Pod/a',
      '  (none)',
      'n/Pod/b',
      '  -> n/Pod/a  TCP:8080',
      '  -> internet  TCP:443',
      'internet',
      '  (none)',
    ].join('\n'));
    expect(r.render({ from: (x) => x === 'n/Pod/b', to: (x) => x === 'internet' })).toBe('n/Pod/b\n  -> internet  TCP:443');
    expect(() => r.can('n/Pod/zz', 'internet', 443)).toThrow('no pod or external endpoint "n/Pod/zz" (have: n/Pod/a, n/Pod/b, internet)');
  });
});

describe('extractPods: the pod templates and the labels their controllers add', () => {
  const meta = (name: string, labels: Labels = {}) => ({ name, namespace: 'ns', labels });
  const template = (labels: Labels) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'i:1', ports: [{ name: 'http', containerPort: 80 }] }] } });

  test('workload kinds: ids, template labels and controller labels, ports with TCP by default', () => {
    const pods = extractPods([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web', { ignored: 'x' }), spec: { template: template({ app: 'web' }) } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('db'), spec: { template: template({ app: 'db' }) } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('agent'), spec: { template: template({ app: 'agent' }) } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('once'), spec: { completionMode: 'Indexed', template: template({ app: 'once' }) } },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('nightly'), spec: { jobTemplate: { spec: { template: template({ app: 'nightly' }) } } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm'), data: {} },
    ]);
    expect(pods.map((p) => [p.id, p.labels])).toEqual([
      ['ns/Deployment/web', { 'app': 'web', 'pod-template-hash': 'hash' }],
      ['ns/StatefulSet/db', { 'app': 'db', 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0' }],
      ['ns/DaemonSet/agent', { app: 'agent' }],
      ['ns/Job/once', { 'app': 'once', 'batch.kubernetes.io/job-name': 'once', 'job-name': 'once', 'batch.kubernetes.io/job-completion-index': '0' }],
      ['ns/CronJob/nightly', { 'app': 'nightly', 'batch.kubernetes.io/job-name': 'nightly-29000000', 'job-name': 'nightly-29000000' }],
    ]);
    expect(pods[0].ports).toEqual([{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
  });

  test('Argo: each pod-creating template, with the workflow label, podMetadata, the template\'s labels, on-exit, and the Job a resource template creates', () => {
    const manifest = [
      'apiVersion: batch/v1', 'kind: Job', 'metadata:', '  generateName: big-', 'spec:', '  template:', '    metadata:',
      '      labels: {step: big}', '    spec:', '      containers: [{name: c, image: "i:1", args: ["{{inputs.parameters.x}}"]}]',
    ].join('\n');
    const pods = extractPods([{
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'WorkflowTemplate',
      metadata: meta('wt'),
      spec: {
        entrypoint: 'main',
        onExit: 'bye',
        podMetadata: { labels: { team: 't', step: 'overridden' } },
        templates: [
          { name: 'main', dag: { tasks: [{ name: 'a', template: 'a' }, { name: 'big', template: 'big' }] } },
          { name: 'a', metadata: { labels: { step: 'a' } }, container: { image: 'i:1', ports: [{ containerPort: 7000 }] }, sidecars: [{ name: 's', image: 'i:1', ports: [{ name: 'sc', containerPort: 7001 }] }] },
          { name: 'big', resource: { action: 'create', manifest } },
          { name: 'bye', script: { image: 'i:1', source: 'echo' } },
        ],
      },
    }, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ClusterWorkflowTemplate',
      metadata: { name: 'shared' },
      spec: { templates: [{ name: 'echo', container: { image: 'i:1' } }] },
    }], { clusterWorkflowTemplateNamespace: 'team' });
    const argo = { 'workflows.argoproj.io/workflow': 'wt-xxxxx', 'workflows.argoproj.io/completed': 'false' };
    expect(pods.map((p) => [p.id, p.labels])).toEqual([
      ['ns/WorkflowTemplate/wt/a', { ...argo, team: 't', step: 'a' }],
      ['ns/WorkflowTemplate/wt/big', { ...argo, team: 't', step: 'overridden' }],
      ['ns/WorkflowTemplate/wt/big/Job', { 'step': 'big', 'batch.kubernetes.io/job-name': 'big-xxxxx', 'job-name': 'big-xxxxx' }],
      ['ns/WorkflowTemplate/wt/bye', { ...argo, 'workflows.argoproj.io/on-exit': 'true', 'team': 't', 'step': 'overridden' }],
      ['team/ClusterWorkflowTemplate/shared/echo', { 'workflows.argoproj.io/workflow': 'shared-xxxxx', 'workflows.argoproj.io/completed': 'false' }],
    ]);
    expect(pods[0].ports).toEqual([{ containerPort: 7000, protocol: 'TCP' }, { name: 'sc', containerPort: 7001, protocol: 'TCP' }]);
  });
});

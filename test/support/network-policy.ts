// A small evaluator of Kubernetes `networking.k8s.io/v1` NetworkPolicy semantics, for tests that
// ask which pod may open which port on which pod (or cluster-external address), computed from the
// synthesized objects. It follows https://kubernetes.io/docs/concepts/services-networking/network-policies/
// and the API reference (../shared/crds/kubernetes/v1.27.0/_definitions.json, io.k8s.api.networking.v1.*):
// - a policy selects pods of its own namespace by `spec.podSelector` (empty = every pod);
// - `policyTypes` absent: Ingress always, Egress when `spec.egress` is non-empty (kubernetes
//   pkg/apis/networking/v1/defaults.go SetDefaults_NetworkPolicy);
// - a pod is isolated for a direction iff some policy selecting it has that type; an isolated
//   pod's traffic in that direction is allowed iff some rule of some selecting policy allows it;
// - a connection is allowed iff the source's egress and the destination's ingress allow it;
// - peers: `podSelector` alone = pods of the policy's namespace, `namespaceSelector` alone = every
//   pod of the selected namespaces, both in one peer = their AND, `ipBlock` = addresses in `cidr`
//   minus `except`; `from`/`to` absent or empty = every source/destination;
// - ports: `protocol` defaults to TCP, `port` absent = every port of the protocol, `endPort` makes
//   a range, a named port is resolved against the destination pod's container ports of that name
//   and protocol; `ports` absent or empty = every port and protocol.
// Implementation-defined upstream, chosen here: pods have no IP unless one is given
// (`podIps`), so `ipBlock` peers match cluster-external addresses only (the docs: ipBlock "should
// be cluster-external IPs"; Calico and Cilium do match pod IPs too: give pods IPs to see that).
// A pod template stands for all its replicas (`ports(a, a)` is replica to replica).
// External endpoints are never isolated (no policy selects them) and match no pod/namespace
// selector. Not modelled: traffic from the pod's own node (always allowed upstream), hostNetwork
// pods, Services (policies see pod addresses and target ports after DNAT), AdminNetworkPolicy.
import { ContainerPort, extractNamespaces, extractPods, ExtractOptions, PodTemplate, Protocol } from './network-pods';
import { K8sObject } from './synth';

export type { PodTemplate, Protocol } from './network-pods';

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const MAX_PORT = 65535;

/** A cluster-external endpoint, by address: the internet, the API server, a cloud metadata service. */
export interface External {
  /** The id to query it by (`can(pod, 'internet', 443)`); must not contain `/`. */
  readonly name: string;
  readonly ip: string;
}

/** Options of `reachability`. */
export interface ReachabilityOptions extends ExtractOptions {
  /** Cluster-external endpoints, as destinations and as sources. @default none */
  readonly external?: readonly External[];
  /** IP addresses of pods by id, so that `ipBlock` peers match them. @default none */
  readonly podIps?: Readonly<Record<string, string>>;
}

type Ranges = ReadonlyArray<readonly [number, number]>;

/** A set of (protocol, port) pairs, each protocol's ports as sorted disjoint ranges. */
export class PortSet {
  static none(): PortSet {
    return new PortSet({});
  }
  static all(): PortSet {
    return new PortSet(Object.fromEntries(PROTOCOLS.map((p) => [p, [[1, MAX_PORT]]])));
  }
  static range(protocol: Protocol, from: number, to: number = from): PortSet {
    return new PortSet({ [protocol]: [[from, to]] });
  }
  static protocol(protocol: Protocol): PortSet {
    return PortSet.range(protocol, 1, MAX_PORT);
  }

  private constructor(private readonly byProtocol: Partial<Record<Protocol, Ranges>>) {}

  union(o: PortSet): PortSet {
    return new PortSet(Object.fromEntries(PROTOCOLS.map((p) => [p, normalize([...this.of(p), ...o.of(p)])])));
  }

  intersect(o: PortSet): PortSet {
    const out: Partial<Record<Protocol, Ranges>> = {};
    for (const p of PROTOCOLS) {
      const r: [number, number][] = [];
      for (const [a, b] of this.of(p)) {
        for (const [c, d] of o.of(p)) {
          const lo = Math.max(a, c), hi = Math.min(b, d);
          if (lo <= hi) r.push([lo, hi]);
        }
      }
      out[p] = normalize(r);
    }
    return new PortSet(out);
  }

  /** The pairs of this set that are not in `o`. */
  minus(o: PortSet): PortSet {
    const out: Partial<Record<Protocol, Ranges>> = {};
    for (const p of PROTOCOLS) {
      let rest: Array<[number, number]> = this.of(p).map(([a, b]) => [a, b]);
      for (const [c, d] of o.of(p)) {
        rest = rest.flatMap(([a, b]): Array<[number, number]> => [
          ...(a < c ? [[a, Math.min(b, c - 1)] as [number, number]] : []),
          ...(b > d ? [[Math.max(a, d + 1), b] as [number, number]] : []),
        ]).filter(([a, b]) => a <= b);
      }
      out[p] = normalize(rest);
    }
    return new PortSet(out);
  }

  has(protocol: Protocol, port: number): boolean {
    return this.of(protocol).some(([a, b]) => a <= port && port <= b);
  }

  isEmpty(): boolean {
    return PROTOCOLS.every((p) => this.of(p).length === 0);
  }

  /** `*` (every port of every protocol), or e.g. `TCP:5000,8000-8002 UDP:53`, `TCP:*`, or `-` (none). */
  toString(): string {
    const full = (p: Protocol) => this.of(p).length === 1 && this.of(p)[0][0] === 1 && this.of(p)[0][1] === MAX_PORT;
    if (PROTOCOLS.every(full)) return '*';
    const parts = PROTOCOLS.filter((p) => this.of(p).length > 0)
      .map((p) => `${p}:${full(p) ? '*' : this.of(p).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`);
    return parts.length ? parts.join(' ') : '-';
  }

  private of(p: Protocol): Ranges {
    return this.byProtocol[p] ?? [];
  }
}

function normalize(r: Array<readonly [number, number]>): Ranges {
  const sorted = [...r].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

// ---- label selectors (apimachinery pkg/labels/selector.go semantics) ----

interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: string[] }>;
}

/** Whether `labels` match `selector`; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In': if (!has || !(e.values ?? []).includes(labels[e.key])) return false; break;
      // NotIn matches pods without the key (labels.Requirement.Matches).
      case 'NotIn': if (has && (e.values ?? []).includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`unknown label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  return true;
}

// ---- IP addresses and CIDRs ----

interface Ip { readonly bits: 32 | 128; readonly n: bigint }

function parseIp(s: string): Ip {
  if (s.includes(':')) {
    const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw new Error(`not an IP address: ${s}`);
    return { bits: 128, n: groups.reduce((acc, g) => acc * 65536n + BigInt(parseInt(g, 16)), 0n) };
  }
  const octets = s.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) throw new Error(`not an IP address: ${s}`);
  return { bits: 32, n: octets.reduce((acc, o) => acc * 256n + BigInt(Number(o)), 0n) };
}

/** Whether `ip` lies in `cidr` (same address family only). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, len] = cidr.split('/');
  const net = parseIp(base), addr = parseIp(ip);
  const prefix = len === undefined ? net.bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > net.bits) throw new Error(`not a CIDR: ${cidr}`);
  if (net.bits !== addr.bits) return false;
  const block = 2n ** BigInt(net.bits - prefix);
  return net.n / block === addr.n / block;
}

// ---- policies ----

interface Peer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort { readonly protocol?: Protocol; readonly port?: number | string; readonly endPort?: number }
interface Rule { readonly peers?: readonly Peer[]; readonly ports?: readonly PolicyPort[] }

interface Policy {
  /** `namespace/name`. */
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
  readonly types: ReadonlySet<'Ingress' | 'Egress'>;
}

function parsePolicy(o: K8sObject, defaultNamespace: string): Policy {
  const spec = o.spec ?? {};
  const namespace = o.metadata.namespace ?? defaultNamespace;
  const name = `${namespace}/${o.metadata.name}`;
  const types: Array<'Ingress' | 'Egress'> = spec.policyTypes?.length
    ? spec.policyTypes
    : ['Ingress', ...((spec.egress?.length ?? 0) > 0 ? ['Egress' as const] : [])];
  const rules = (list: any[] | undefined, peerKey: 'from' | 'to'): Rule[] | undefined => list?.map((r, i) => {
    for (const [j, p] of ((r[peerKey] ?? []) as Peer[]).entries()) {
      const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
      if (selectors === (p.ipBlock !== undefined)) throw new Error(`${name}: rule ${i} ${peerKey}[${j}] needs exactly one of ipBlock or podSelector/namespaceSelector`);
    }
    for (const [j, p] of ((r.ports ?? []) as PolicyPort[]).entries()) {
      if (p.endPort !== undefined && typeof p.port !== 'number') throw new Error(`${name}: rule ${i} ports[${j}]: endPort needs a numeric port`);
      if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) throw new Error(`${name}: rule ${i} ports[${j}]: unknown protocol ${p.protocol}`);
    }
    return { peers: r[peerKey], ports: r.ports };
  });
  return { name, namespace, podSelector: spec.podSelector ?? {}, ingress: rules(spec.ingress, 'from'), egress: rules(spec.egress, 'to'), types: new Set(types) };
}

// ---- endpoints and the matrix ----

interface Endpoint {
  readonly id: string;
  /** Set for pods, absent for external endpoints. */
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
  readonly ip?: string;
}

/** Why a direction allows or denies: not isolated, or the policies whose rules allow it. */
export interface DirectionVerdict {
  /** Whether some policy selecting the pod has this policy type. */
  readonly isolated: boolean;
  /** `namespace/name` of each selecting policy with a rule that allows the traffic. */
  readonly allowedBy: readonly string[];
}

/** `can`'s reasoning for one connection. */
export interface Explanation {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

/** Which endpoint may open which port on which endpoint, from the objects' NetworkPolicies. */
export class Reachability {
  /** The pods found in the objects, in object order. */
  readonly pods: readonly PodTemplate[];
  /** Every policy, as `namespace/name`. */
  readonly policyNames: readonly string[];
  private readonly endpoints: ReadonlyMap<string, Endpoint>;
  private readonly policies: readonly Policy[];
  private readonly namespaces: Map<string, Record<string, string>>;
  private readonly cache = new Map<string, PortSet>();

  constructor(objects: readonly K8sObject[], opts: ReachabilityOptions = {}) {
    const defaultNamespace = opts.defaultNamespace ?? 'default';
    const ips = opts.podIps ?? {};
    this.pods = extractPods(objects, opts).map((p) => (ips[p.id] ? { ...p, ip: ips[p.id] } : p));
    this.policies = objects
      .filter((o) => o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'NetworkPolicy')
      .map((o) => parsePolicy(o, defaultNamespace));
    this.policyNames = this.policies.map((p) => p.name);
    this.namespaces = extractNamespaces(objects);
    const endpoints = new Map<string, Endpoint>();
    for (const p of this.pods) endpoints.set(p.id, p);
    for (const e of opts.external ?? []) {
      if (e.name.includes('/') || endpoints.has(e.name)) throw new Error(`external endpoint name ${e.name} must be unique and contain no "/"`);
      parseIp(e.ip);
      endpoints.set(e.name, { id: e.name, labels: {}, ports: [], ip: e.ip });
    }
    for (const id of Object.keys(ips)) if (!endpoints.has(id)) throw new Error(`podIps: no pod ${id}`);
    this.endpoints = endpoints;
  }

  /** Every endpoint id: the pods, then the external endpoints. */
  get ids(): string[] {
    return [...this.endpoints.keys()];
  }

  /** The ports `from` may open on `to`: its egress AND `to`'s ingress. */
  ports(from: string, to: string): PortSet {
    const key = `${from}\n${to}`;
    let set = this.cache.get(key);
    if (!set) {
      const src = this.endpoint(from), dst = this.endpoint(to);
      set = this.direction('Egress', src, src, dst).ports.intersect(this.direction('Ingress', dst, src, dst).ports);
      this.cache.set(key, set);
    }
    return set;
  }

  /** Whether `from` may open `port` (a number, or a name of `to`'s container ports) on `to`. */
  can(from: string, to: string, port: number | string, protocol: Protocol = 'TCP'): boolean {
    return this.ports(from, to).has(protocol, this.portNumber(to, port, protocol));
  }

  /** Why `can(from, to, port)` answers as it does: the verdict of each direction with the policies that allow it. */
  explain(from: string, to: string, port: number | string, protocol: Protocol = 'TCP'): Explanation {
    const src = this.endpoint(from), dst = this.endpoint(to);
    const n = this.portNumber(to, port, protocol);
    const verdict = (d: 'Egress' | 'Ingress', self: Endpoint): DirectionVerdict => {
      const r = this.direction(d, self, src, dst);
      return { isolated: r.isolated, allowedBy: r.byPolicy.filter(([, s]) => s.has(protocol, n)).map(([name]) => name) };
    };
    const egress = verdict('Egress', src), ingress = verdict('Ingress', dst);
    const ok = (v: DirectionVerdict) => !v.isolated || v.allowedBy.length > 0;
    return { allowed: ok(egress) && ok(ingress), egress, ingress };
  }

  /** The ids that may open `port` on `to`. */
  sourcesOf(to: string, port: number | string, protocol: Protocol = 'TCP'): string[] {
    return this.ids.filter((from) => this.can(from, to, port, protocol));
  }

  /** The ids on which `from` may open `port`. */
  destinationsOf(from: string, port: number, protocol: Protocol = 'TCP'): string[] {
    return this.ids.filter((to) => this.ports(from, to).has(protocol, port));
  }

  /**
   * The matrix as text: for each source, one line per destination it may reach with the ports
   * (`*` = every port of every protocol), e.g. `  -> mlplatform/Deployment/ml-tracking  TCP:5000`.
   * Sources without any destination show `  (none)`; external-to-external pairs are left out.
   */
  render(filter: { from?: (id: string) => boolean; to?: (id: string) => boolean } = {}): string {
    const lines: string[] = [];
    for (const from of this.ids.filter(filter.from ?? (() => true))) {
      lines.push(from);
      const external = this.endpoint(from).namespace === undefined;
      const reach = this.ids.filter(filter.to ?? (() => true))
        .filter((to) => !external || this.endpoint(to).namespace !== undefined)
        .map((to) => [to, this.ports(from, to)] as const)
        .filter(([, s]) => !s.isEmpty());
      if (!reach.length) lines.push('  (none)');
      for (const [to, s] of reach) lines.push(`  -> ${to}  ${s}`);
    }
    return lines.join('\n');
  }

  private endpoint(id: string): Endpoint {
    const e = this.endpoints.get(id);
    if (!e) throw new Error(`no pod or external endpoint ${JSON.stringify(id)} (have: ${this.ids.join(', ')})`);
    return e;
  }

  private portNumber(to: string, port: number | string, protocol: Protocol): number {
    if (typeof port === 'number') return port;
    const hit = this.endpoint(to).ports.find((p) => p.name === port && p.protocol === protocol);
    if (!hit) throw new Error(`${to} has no ${protocol} container port named ${port}`);
    return hit.containerPort;
  }

  /**
   * One direction as seen from `self` (the source for Egress, the destination for Ingress):
   * whether it is isolated, and the ports each selecting policy's rules allow to/from the peer.
   */
  private direction(d: 'Egress' | 'Ingress', self: Endpoint, src: Endpoint, dst: Endpoint): { isolated: boolean; ports: PortSet; byPolicy: Array<[string, PortSet]> } {
    const peer = d === 'Egress' ? dst : src;
    const selecting = self.namespace === undefined
      ? []
      : this.policies.filter((p) => p.types.has(d) && p.namespace === self.namespace && selectorMatches(p.podSelector, self.labels));
    if (!selecting.length) return { isolated: false, ports: PortSet.all(), byPolicy: [] };
    const byPolicy = selecting.map((p): [string, PortSet] => {
      let set = PortSet.none();
      for (const rule of (d === 'Egress' ? p.egress : p.ingress) ?? []) {
        if (rule.peers?.length && !rule.peers.some((x) => this.peerMatches(x, p.namespace, peer))) continue;
        set = set.union(rulePorts(rule, dst));
      }
      return [p.name, set];
    });
    return { isolated: true, ports: byPolicy.reduce((acc, [, s]) => acc.union(s), PortSet.none()), byPolicy };
  }

  private peerMatches(peer: Peer, policyNamespace: string, e: Endpoint): boolean {
    if (peer.ipBlock) {
      return e.ip !== undefined && cidrContains(peer.ipBlock.cidr, e.ip) && !(peer.ipBlock.except ?? []).some((x) => cidrContains(x, e.ip!));
    }
    if (e.namespace === undefined) return false;
    const inNamespace = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, this.namespaceLabels(e.namespace))
      : e.namespace === policyNamespace;
    return inNamespace && (!peer.podSelector || selectorMatches(peer.podSelector, e.labels));
  }

  private namespaceLabels(ns: string): Record<string, string> {
    return this.namespaces.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
  }
}

/** The ports a rule allows towards `dst` (whose container ports resolve named ports). */
function rulePorts(rule: Rule, dst: Endpoint): PortSet {
  if (!rule.ports?.length) return PortSet.all();
  let set = PortSet.none();
  for (const p of rule.ports) {
    const protocol = p.protocol ?? 'TCP';
    if (p.port === undefined) set = set.union(PortSet.protocol(protocol));
    else if (typeof p.port === 'number') set = set.union(PortSet.range(protocol, p.port, p.endPort ?? p.port));
    else for (const c of dst.ports) if (c.name === p.port && c.protocol === protocol) set = set.union(PortSet.range(protocol, c.containerPort));
  }
  return set;
}

/** Builds the reachability matrix of `objects` (synthesized manifests as plain JSON). */
export function reachability(objects: readonly K8sObject[], opts: ReachabilityOptions = {}): Reachability {
  return new Reachability(objects, opts);
}

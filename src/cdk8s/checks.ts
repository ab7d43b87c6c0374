import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  applySeverities, CheckFinding, CheckSeverities, CheckTarget, checkClusterQueueFlavors, checkDemands, CHECK_IDS, checkKueueAdmission, checkReads, KueueObjects,
  KUEUE_QUEUE_LABEL, kueueObjects, podRequest, queuedPodSets, StoreAccess, StorePath, StoreWrites, WorkloadDataAccess, WorkloadDemand,
} from '../core/checks';
import { Issues } from '../core/errors';
import { Cpu, Size } from '../core/quantities';
import { plainMetadata } from './private/object';

/**
 * What a workload construct hands to the synth-time checks.
 * @internal
 */
export interface WorkloadCheckInput {
  /** Its schedulable units. */
  readonly demands: readonly WorkloadDemand[];
  /** Its object-store reads, writes, grants and identities. */
  readonly dataAccess: readonly WorkloadDataAccess[];
  /** The pools and tenants of its platform (none without a platform: nothing to check against). */
  readonly target?: CheckTarget;
  /** Severity overrides: the platform's, then the construct's own. */
  readonly severities: CheckSeverities;
}

/** Key of the method through which workload constructs take part in the checks. */
const CHECK_INPUT = Symbol.for('mlplatform.checks.input');
/** Key of the flag of constructs that list demands but have nothing to check. */
const DEMANDS_ONLY = Symbol.for('mlplatform.checks.demandsOnly');
/** Key of the method returning a workload's writes alone. */
const CHECK_WRITES = Symbol.for('mlplatform.checks.writes');
/** Key of the method returning a platform's Kueue admission findings. */
const CHECK_ADMISSION = Symbol.for('mlplatform.checks.admission');

interface Checked extends IConstruct {
  /** Demands only (the platform's own services): nothing to check, so left out of the validations. */
  [DEMANDS_ONLY]?: boolean;
  [CHECK_INPUT](): WorkloadCheckInput;
  /** Its writes alone (cheaper than the whole input). */
  [CHECK_WRITES]?(): readonly WorkloadDataAccess[];
  /** A platform's Kueue admission findings, after its severity overrides. */
  [CHECK_ADMISSION]?(): CheckFinding[];
}


function isChecked(c: IConstruct): c is Checked {
  return typeof (c as unknown as Record<symbol, unknown>)[CHECK_INPUT] === 'function';
}

const grants = new WeakMap<IConstruct, StoreAccess[]>();

/**
 * A prefix of an object store, to grant workloads read access to: `pipeline.artifacts`,
 * `platform.storeLocation('datasets/cifar10')` or `StoreLocation.fromUri('s3://bucket/prefix/')`.
 * A workload may read a prefix of the platform's store only when a pipeline step of its namespace
 * writes it or it was granted with {@link grantRead}; the data-access check fails synthesis otherwise.
 */
export class StoreLocation {
  /** A prefix given by URI, `s3://<bucket>/<prefix>` (a trailing `/` is added). */
  public static fromUri(uri: string): StoreLocation {
    const m = typeof uri === 'string' ? /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri) : null;
    if (!m || (m[2] ?? '').split('/').includes('..')) {
      new Issues('StoreLocation').add('uri', uri, 'must be an object-store URI such as "s3://bucket/datasets/cifar10/"').throwIfAny();
    }
    const prefix = (m![2] ?? '').replace(/^\/+|\/+$/g, '');
    return new StoreLocation({ bucket: m![1], prefix: prefix ? `${prefix}/` : '' }, `s3://${m![1]}/${prefix ? `${prefix}/` : ''}`);
  }

  private constructor(
    /** Bucket and key prefix (ending with `/`, or '' for the whole bucket). */
    public readonly path: StorePath,
    /** What the prefix holds, as findings name it. */
    private readonly description: string,
  ) {}

  /** `s3://<bucket>/<prefix>`. */
  public get uri(): string {
    return `s3://${this.path.bucket}/${this.path.prefix}`;
  }

  /**
   * Lets `grantee` (a TrainingPipeline, TuningSweep or ModelEndpoint) read this prefix: the
   * data-access check then accepts its reads below it. The grantee's ServiceAccount still carries
   * only the prefixes it actually reads (least privilege), which the AWS side turns into its role.
   */
  public grantRead(grantee: IConstruct): void {
    if (!isChecked(grantee)) {
      new Issues('StoreLocation.grantRead').add('grantee', grantee?.node?.path, 'must be a TrainingPipeline, TuningSweep or ModelEndpoint').throwIfAny();
    }
    grants.set(grantee, [...(grants.get(grantee) ?? []), { path: this.path, origin: `granted ${this.description}` }]);
  }
}

/**
 * Internal wiring of the workload constructs (not part of the public API: export `checkPlatform`,
 * `workloadDemands`, `formatFinding`, `servicePodDemands` and `StoreLocation` from the entry point).
 * @internal
 */
export const checksWiring = {
  /** Makes `construct` a checked workload: its findings run as a cdk8s validation (errors fail `app.synth()`, warnings are printed). */
  register(construct: IConstruct, input: () => WorkloadCheckInput, writes?: () => readonly WorkloadDataAccess[]): void {
    (construct as unknown as Record<symbol, unknown>)[CHECK_INPUT] = input;
    (construct as unknown as Record<symbol, unknown>)[CHECK_WRITES] = writes ?? (() => []);
    generation++;
    construct.node.addValidation({ validate: () => validateWorkload(construct as Checked) });
  },
  /** Tells the checks that a workload's writes may have changed (a pipeline's steps changed). */
  changed(): void {
    generation++;
  },
  /** Lists `construct`'s demands in {@link workloadDemands} without checking them (the platform's own services). */
  registerDemands(construct: IConstruct, demands: () => readonly WorkloadDemand[]): void {
    const c = construct as unknown as Record<symbol, unknown>;
    c[CHECK_INPUT] = (): WorkloadCheckInput => ({ demands: demands(), dataAccess: [], severities: {} });
    c[DEMANDS_ONLY] = true;
    // A platform: the Kueue admission of the queued workloads of its tenants, checked on the synthesized objects.
    c[CHECK_ADMISSION] = () => applySeverities(admissionFindings(construct), (construct as { checkSeverities?: CheckSeverities }).checkSeverities ?? {});
    construct.node.addValidation({ validate: () => report((c[CHECK_ADMISSION] as () => CheckFinding[])()) });
    generation++;
  },
  /** The object-store access of every workload of the app `scope` belongs to (the platform's store identities are made of it). */
  dataAccessOf(scope: IConstruct): readonly WorkloadDataAccess[] {
    return checkedUnder(scope).filter((c) => !c[DEMANDS_ONLY]).flatMap((c) => c[CHECK_INPUT]().dataAccess);
  },
  /** The prefixes granted to `construct`. */
  grantsOf(construct: IConstruct): readonly StoreAccess[] {
    return grants.get(construct) ?? [];
  },
  /** The annotations of the synthesized ApiObject at `id` under `scope`, or undefined. */
  annotationsOf(scope: IConstruct, ...ids: string[]): Record<string, string> | undefined {
    let c: IConstruct | undefined = scope;
    for (const id of ids) c = c?.node.tryFindChild(id);
    if (!c || !(c instanceof ApiObject)) return undefined;
    // Without JSON patches the object's annotations are its metadata's (the whole object's JSON, a
    // few times dearer, is rendered once by the synthesis itself); with patches they may differ.
    const patches = (c as unknown as { patches?: readonly unknown[] }).patches;
    const annotations = patches?.length === 0 ? plainMetadata(c.metadata)?.annotations : c.toJson().metadata?.annotations;
    return (annotations ?? {}) as Record<string, string>;
  },
};

function checkedUnder(scope: IConstruct): Checked[] {
  return scope.node.root.node.findAll().filter(isChecked);
}

/**
 * Bumped whenever a workload joins the checks or may change what it writes: the app-wide part of
 * the checks (which workloads there are, what they write) is computed once per construct-tree root
 * and generation, not once per workload (cdk8s validates every construct in one pass).
 */
let generation = 0;

/** The app-wide part of the checks: the same for every workload of one synthesis. */
interface AppChecks {
  readonly generation: number;
  /** Children of the root when computed (a chart added or removed invalidates it too). */
  readonly children: number;
  /** The checked workloads (not the demands-only platforms), in tree order. */
  readonly workloads: readonly Checked[];
  /** What they write, indexed: what reads may rely on without a grant. */
  readonly writes: StoreWrites;
}

const appChecks = new WeakMap<IConstruct, AppChecks>();

function appChecksOf(scope: IConstruct): AppChecks {
  const root = scope.node.root;
  const children = root.node.children.length;
  const cached = appChecks.get(root);
  if (cached && cached.generation === generation && cached.children === children) return cached;
  const workloads = checkedUnder(root).filter((c) => !c[DEMANDS_ONLY]);
  // Cheap: no identity is read, only the writes.
  const writes = StoreWrites.of(workloads.flatMap((c) => c[CHECK_WRITES]?.() ?? c[CHECK_INPUT]().dataAccess));
  const fresh: AppChecks = { generation, children, workloads, writes };
  appChecks.set(root, fresh);
  return fresh;
}

const rank = (f: CheckFinding) => CHECK_IDS.indexOf(f.check);

/** The findings of one workload: its demands against its platform, its reads and identity against what the app writes. */
function findingsOf(input: WorkloadCheckInput, data: readonly CheckFinding[]): CheckFinding[] {
  const own = [...(input.target ? checkDemands(input.demands, input.target) : []), ...data];
  return applySeverities(own, input.severities);
}

/** Findings of every checked workload under the root of `scope`, paired with the construct they belong to. */
function collect(scope: IConstruct): { construct: Checked; finding: CheckFinding }[] {
  const app = appChecksOf(scope);
  const workloads = app.workloads.map((construct) => ({ construct, input: construct[CHECK_INPUT]() }));
  // Data-access findings by the workload label they name (two constructs may share one), in order.
  const allData = checkReads(workloads.flatMap((w) => w.input.dataAccess), app.writes);
  const byLabel = new Map<string, number[]>();
  allData.forEach((f, i) => {
    const same = byLabel.get(f.workload);
    if (same) same.push(i);
    else byLabel.set(f.workload, [i]);
  });
  const out: { construct: Checked; finding: CheckFinding }[] = [];
  for (const w of workloads) {
    const labels = new Set(w.input.dataAccess.map((a) => a.workload));
    const data = [...labels].flatMap((l) => byLabel.get(l) ?? []).sort((a, b) => a - b).map((i) => allData[i]);
    for (const finding of findingsOf(w.input, data)) out.push({ construct: w.construct, finding });
  }
  for (const platform of checkedUnder(scope).filter((c) => c[CHECK_ADMISSION])) {
    for (const finding of platform[CHECK_ADMISSION]!()) out.push({ construct: platform, finding });
  }
  return out.sort((a, b) => rank(a.finding) - rank(b.finding));
}

/** Kinds of the Kueue objects (and of the add-on objects carrying its configuration). */
const KUEUE_KINDS = new Set(['ResourceFlavor', 'ClusterQueue', 'LocalQueue', 'Application', 'HelmRelease']);
/** Kinds that may submit pods to a queue: Jobs, and Argo objects whose resource templates create Jobs. */
const QUEUED_KINDS = new Set(['Job', 'WorkflowTemplate', 'Workflow', 'CronWorkflow']);

/** The nearest checked construct above `c`. */
function checkedOwnerOf(c: IConstruct): Checked | undefined {
  for (let s: IConstruct | undefined = c.node.scope; s; s = s.node.scope) if (isChecked(s)) return s;
  return undefined;
}

/**
 * Kueue admission (core `checkKueueAdmission`, Kueue 0.19's rules) of the queued Jobs of the app
 * whose LocalQueue is in a namespace of `platform`'s tenants, and the platform's ClusterQueues'
 * flavors, on the synthesized objects: what Kueue will be given, not what the specs meant. Only
 * objects that can be queued are rendered: Jobs with the queue-name label, and Argo objects in a
 * queued namespace whose construct has a multi-node step (the others create no Job).
 */
function admissionFindings(platform: IConstruct): CheckFinding[] {
  const own = platform.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'ClusterQueue');
  if (own.length === 0) return [];
  const all = platform.node.root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
  const kueue = kueueObjects(all.filter((c) => KUEUE_KINDS.has(c.kind)).map((c) => c.toJson()));
  const mine = new Set(own.map((o) => o.name));
  const namespaces = new Set([...kueue.localQueues.values()].filter((lq) => mine.has(lq.spec?.clusterQueue)).map((lq) => lq.metadata?.namespace));
  const findings: CheckFinding[] = [];
  for (const c of all) {
    if (!QUEUED_KINDS.has(c.kind)) continue;
    const patched = (c as unknown as { patches?: readonly unknown[] }).patches?.length !== 0;
    const owner = checkedOwnerOf(c);
    const demands = owner && !owner[DEMANDS_ONLY] ? owner[CHECK_INPUT]().demands : undefined;
    if (!patched && c.kind === 'Job' && c.metadata.getLabel(KUEUE_QUEUE_LABEL) === undefined) continue;
    if (!patched && c.kind !== 'Job' && (!namespaces.has(c.metadata.namespace) || (demands && !demands.some((d) => d.gang)))) continue;
    const sets = queuedPodSets([c.toJson()]).filter((p) => namespaces.has(p.namespace));
    if (sets.length === 0) continue;
    const label = demands?.[0] ? `${demands[0].construct} ${demands[0].namespace}/${demands[0].name}` : undefined;
    findings.push(...checkKueueAdmission(sets, kueue, (p) => label ?? p.source));
  }
  const onlyMine: KueueObjects = Object.assign({}, kueue, { clusterQueues: new Map([...kueue.clusterQueues].filter(([n]) => mine.has(n))) });
  return [...checkClusterQueueFlavors(onlyMine, (cq) => `MlPlatform ${(platform as { namespace?: string }).namespace}/${platform.node.id} ClusterQueue ${cq}`), ...findings];
}

/** Every schedulable unit of the workload constructs (TrainingPipeline, TuningSweep, ModelEndpoint, MlPlatform) in the app of `scope`. */
export function workloadDemands(scope: IConstruct): WorkloadDemand[] {
  return checkedUnder(scope).flatMap((c) => [...c[CHECK_INPUT]().demands]);
}

/**
 * Every finding of the synth-time checks (schedulability, capacity, tenancy, data access) in the app
 * of `scope`, after the severity overrides of the platform (`MlPlatformProps.checks`) and of each
 * construct (its `checks` prop). `app.synth()` runs the same checks and fails on the errors.
 */
export function checkPlatform(scope: IConstruct): CheckFinding[] {
  return collect(scope).map((x) => x.finding);
}

/** One line per finding: `error (tenancy): <message>. Fix: <fix>`. */
export function formatFinding(f: CheckFinding): string {
  return `${f.severity} (${f.check}): ${f.message}. Fix: ${f.fix}`;
}

function validateWorkload(construct: Checked): string[] {
  const input = construct[CHECK_INPUT]();
  return report(findingsOf(input, checkReads(input.dataAccess, appChecksOf(construct).writes)).sort((a, b) => rank(a) - rank(b)));
}

/** Prints the warnings of `mine` and returns its errors, formatted (what a cdk8s validation returns). */
function report(mine: readonly CheckFinding[]): string[] {
  for (const f of mine.filter((x) => x.severity === 'warning')) {
    // Warnings do not fail synthesis: print them where `cdk8s synth` users see them.
    console.warn(`[mlplatform] ${formatFinding(f)}`);
  }
  return mine.filter((f) => f.severity === 'error').map(formatFinding);
}

/**
 * The demands of the platform's own services, read from the pod templates it synthesizes
 * (Deployments and StatefulSets in its namespace: tracking server, database, object store): per pod
 * the sum of the containers' requests (or the largest init container's, when larger), pods from
 * `replicas` up to the HorizontalPodAutoscaler's `maxReplicas`.
 */
export function servicePodDemands(scope: IConstruct, platform: string): WorkloadDemand[] {
  const kinds = ['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler'];
  const json = scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && kinds.includes(c.kind)).map((o) => o.toJson());
  const hpaMax = new Map<string, number>();
  for (const h of json.filter((o) => o.kind === 'HorizontalPodAutoscaler')) hpaMax.set(`${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`, h.spec.maxReplicas);
  const out: WorkloadDemand[] = [];
  for (const o of json.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    const pod = o.spec?.template?.spec ?? {};
    const size = (c: any, name: string) => (c.resources?.requests?.[name] !== undefined ? Size.parse(String(c.resources.requests[name])) : Size.bytes(0));
    const sum = (cs: any[] = []) => cs.reduce((acc, c) => ({
      cpu: acc.cpu.plus(c.resources?.requests?.cpu !== undefined ? Cpu.parse(String(c.resources.requests.cpu)) : Cpu.millis(0)),
      memory: acc.memory.plus(size(c, 'memory')),
    }), { cpu: Cpu.millis(0), memory: Size.bytes(0) });
    const main = sum(pod.containers);
    const init = (pod.initContainers ?? []).map((c: any) => sum([c]));
    const cpu = init.reduce((m: Cpu, c: { cpu: Cpu }) => (c.cpu.compareTo(m) > 0 ? c.cpu : m), main.cpu);
    const memory = init.reduce((m: Size, c: { memory: Size }) => (c.memory.compareTo(m) > 0 ? c.memory : m), main.memory);
    const ephemeralStorage = podRequest((pod.containers ?? []).map((c: any) => size(c, 'ephemeral-storage')), (pod.initContainers ?? []).map((c: any) => size(c, 'ephemeral-storage')));
    const replicas = o.spec?.replicas ?? 1;
    out.push({
      construct: 'MlPlatform',
      name: platform,
      namespace: o.metadata?.namespace ?? '',
      unit: o.metadata?.name ?? '',
      cpu,
      memory,
      ephemeralStorage,
      pods: { min: replicas, max: hpaMax.get(`${o.kind}/${o.metadata?.name}`) ?? replicas },
    });
  }
  return out;
}

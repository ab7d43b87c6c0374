/**
 * One cluster of the tier for one test file: the control plane, the add-ons' CRDs, kwok nodes for
 * the platform's GPU pools (plus CPU nodes), the volume stand-in, and optionally Kueue and the Argo
 * Workflows controller — then the platform's objects, applied the documented way.
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdk8s';
import { applyAll, ApplyProblem } from './apply';
import { ArgoRun, startArgo } from './argo';
import { ControlPlane, startControlPlane } from './control-plane';
import { installCrds } from './crds';
import { EngineName } from './engines';
import { Manifest } from './kube';
import { startKueue } from './kueue';
import { NodeGroup, poolNodeGroup, startNodes, systemNodeGroup } from './nodes';
import { provisionVolumes } from './volumes';
import { MlPlatform } from '../../src/cdk8s';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Name for the working folder (logs, certificates, etcd data). */
  readonly name: string;
  /** The platform whose pools become node groups. */
  readonly platform: MlPlatform;
  /** Every synthesized object of the app (the platform's add-on objects configure the controllers). */
  readonly objects: readonly Manifest[];
  /** Run Kueue. @default false */
  readonly kueue?: boolean;
  /** Run the Argo Workflows controller. @default false */
  readonly argo?: boolean;
  /** Nodes per GPU pool at most (a pool's maxNodes is used when smaller). @default 8 */
  readonly maxNodesPerPool?: number;
}

/** A running cluster with the platform applied. */
export interface Cluster {
  readonly plane: ControlPlane;
  readonly groups: readonly NodeGroup[];
  /** What the API server refused or warned about while applying the objects. */
  readonly problems: readonly ApplyProblem[];
  readonly kueueConfig?: any;
  /** The Argo Workflows controller's config and the executor's part of its pods, when `argo` is on. */
  readonly argo?: ArgoRun;
  stop(): Promise<void>;
}

/** Synthesizes `app` into plain objects (every chart). */
export function synthObjects(app: App): Manifest[] {
  return app.charts.flatMap((c) => c.toJson() as Manifest[]);
}

/** Kinds of the GitOps tools (Argo CD, Flux) whose controllers own the add-on objects. */
const GITOPS_GROUPS = ['argoproj.io/v1alpha1/Application', 'helm.toolkit.fluxcd.io/', 'source.toolkit.fluxcd.io/'];

/** Namespaces of the GitOps objects among `objects` that the objects do not create themselves. */
export function gitOpsNamespaces(objects: readonly Manifest[]): string[] {
  const created = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
  const used = objects.filter((o) => GITOPS_GROUPS.some((g) => `${o.apiVersion}/${o.kind}`.startsWith(g)))
    .map((o) => o.metadata.namespace).filter((n): n is string => !!n && !created.has(n));
  return [...new Set(used)].sort();
}

/** Starts a cluster for `o.platform` and applies `o.objects`. */
export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const extra: EngineName[] = ['kwok'];
  if (o.kueue) extra.push('kueue');
  if (o.argo) extra.push('argo');
  const dir = mkdtempSync(join(tmpdir(), `mlplatform-cluster-${o.name}-`));
  const plane = await startControlPlane({ dir, extraEngines: extra });
  let volumeTimer: NodeJS.Timeout | undefined;
  let argo: ArgoRun | undefined;
  const stop = async () => {
    if (volumeTimer) clearInterval(volumeTimer);
    argo?.executor.stop();
    await plane.stop();
  };
  try {
    await installCrds(plane.admin);
    // The GitOps controller (Argo CD or Flux) is installed before the platform, in its own namespace,
    // which is where the add-on Applications / HelmReleases go: those namespaces exist already.
    for (const ns of gitOpsNamespaces(o.objects)) {
      await plane.admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'tier');
    }
    const max = o.maxNodesPerPool ?? 8;
    const groups = [systemNodeGroup(), ...o.platform.context.pools.map((p) => {
      const g = poolNodeGroup(p);
      return { ...g, count: Math.min(g.count, max) };
    })];
    await startNodes(plane, groups);
    let provisioning = false;
    volumeTimer = setInterval(() => {
      if (provisioning) return;
      provisioning = true;
      provisionVolumes(plane.admin).catch(() => undefined).finally(() => { provisioning = false; });
    }, 500);
    const kueueConfig = o.kueue ? await startKueue(plane, o.objects) : undefined;
    argo = o.argo ? await startArgo(plane, o.objects) : undefined;
    const problems = await applyAll(plane.admin, o.objects);
    return { plane, groups, problems, kueueConfig, argo, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Nodes without containers: kwok (built from sigs.k8s.io/kwok) manages Node objects we create and
 * plays the kubelet's part in their status — heartbeats and leases, pods Running once scheduled,
 * pods of Jobs and of Argo Workflows Succeeded. The stages are kwok's own (`kustomize/stage/...` of
 * the pinned module), plus one that completes Argo's pods the way pod-complete completes Jobs'.
 *
 * One node group per declared GPU pool: the pool's labels and taints (gpuPoolConventions), the
 * instance type's allocatable CPU and memory (nodeAllocatable, as EKS computes it) and
 * `allocatablePerNode` of the pool's resource (`nvidia.com/gpu`, MIG or time-sliced replicas), so the
 * real scheduler decides from the same facts a real node would report. Plus a CPU group for the
 * platform's services.
 */
import { execFileSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { ControlPlane } from './control-plane';
import { FatalError } from './kube';
import { eksAllocatableEphemeralStorageMiB, GpuPoolSpec, nodeAllocatable, Size } from '../../src/core';

/** The root volume of the tier's CPU nodes, GiB. */
const SYSTEM_NODE_DISK_GIB = 200;

/** The annotation kwok selects its nodes by. */
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

/** The node objects of one group. */
export interface NodeGroup {
  readonly name: string;
  readonly count: number;
  readonly labels: Record<string, string>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  readonly allocatable: Record<string, string>;
}

/**
 * CPU-only nodes for the platform's services and CPU steps (m6i.4xlarge-sized: 16 vCPU, 64 GiB, a
 * 200 GiB root volume — the example's CPU `prepare` step asks for 100 GiB of scratch). The platform
 * declares no CPU pool, so synth cannot check these; they stand for the cluster's general nodes.
 */
export function systemNodeGroup(count = 4): NodeGroup {
  return {
    name: 'system',
    count,
    labels: { 'node.kubernetes.io/instance-type': 'm6i.4xlarge' },
    taints: [],
    allocatable: {
      'cpu': '15890m',
      'memory': '57000Mi',
      'pods': '110',
      'ephemeral-storage': `${eksAllocatableEphemeralStorageMiB(Size.gibibytes(SYSTEM_NODE_DISK_GIB))}Mi`,
    },
  };
}

/** The node group of one GPU pool: `maxNodes` nodes as the pool's node group would start them. */
export function poolNodeGroup(pool: GpuPoolSpec): NodeGroup {
  const a = nodeAllocatable(pool.instance, { diskSize: pool.diskSize });
  return {
    name: pool.pool,
    count: pool.maxNodes,
    labels: { ...pool.labels, 'node.kubernetes.io/instance-type': pool.instanceType },
    taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
    allocatable: {
      'cpu': `${a.cpuMillicores}m`,
      'memory': `${a.memoryMiB}Mi`,
      'pods': '110',
      // The pool's volume (diskSize) less the kubelet's reservation and nodefs eviction threshold.
      'ephemeral-storage': `${a.ephemeralStorageMiB}Mi`,
      [pool.resourceName]: String(pool.allocatablePerNode),
    },
  };
}

/** The Node objects of `groups`. */
export function nodeObjects(groups: readonly NodeGroup[]): any[] {
  return groups.flatMap((g) => Array.from({ length: g.count }, (_, i) => {
    const name = `${g.name}-${i}`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          ...g.labels,
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'type': 'kwok',
          'mlplatform.test/node-group': g.name,
        },
      },
      spec: { taints: g.taints.length ? g.taints : undefined },
      status: {
        capacity: g.allocatable,
        allocatable: g.allocatable,
        nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
        phase: 'Running',
      },
    };
  }));
}

/** An extra stage: Argo's pods complete like Jobs' (kwok's pod-complete, selecting Workflow owners). */
function argoPodComplete(podComplete: string): string {
  return podComplete
    .replace(/name: pod-complete/, 'name: pod-complete-argo')
    .replace(/- 'Job'/, "- 'Workflow'");
}

/** Starts kwok for the nodes annotated `kwok.x-k8s.io/node: fake` and creates `groups`' nodes. */
export async function startNodes(plane: ControlPlane, groups: readonly NodeGroup[]): Promise<void> {
  const kwok = plane.engines.kwok;
  if (!kwok) throw new Error('kwok is not among the built engines: startControlPlane({ extraEngines: ["kwok"] })');
  const moduleDir = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], {
    cwd: join(__dirname, 'engines', 'kwok'), encoding: 'utf8',
  }).trim();
  const stage = (p: string) => readFileSync(join(moduleDir, 'kustomize', 'stage', p), 'utf8');
  const podComplete = stage('pod/fast/pod-complete.yaml');
  const config = join(plane.dir, 'kwok.yaml');
  writeFileSync(config, [
    stage('node/fast/node-initialize.yaml'),
    stage('node/heartbeat-with-lease/node-heartbeat-with-lease.yaml'),
    stage('pod/fast/pod-ready.yaml'),
    podComplete,
    argoPodComplete(podComplete),
    stage('pod/fast/pod-delete.yaml'),
  ].join('\n---\n'));
  plane.start('kwok', join(kwok.bin, 'kwok'), [
    `--kubeconfig=${plane.kubeconfigs.admin}`, `--config=${config}`,
    '--manage-all-nodes=false', `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
    '--node-ip=127.0.0.1', '--cidr=10.244.0.1/16', '--node-lease-duration-seconds=40',
    '--server-address=127.0.0.1:0',
  ]);
  for (const n of nodeObjects(groups)) await plane.admin.create(n);
  await plane.admin.waitFor('every node Ready (kwok running)', async () => {
    const nodes = await plane.admin.list('v1', 'Node');
    const ready = nodes.filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    if (plane.procs.find((p) => p.name === 'kwok')?.child.exitCode !== null) throw new FatalError(`kwok exited: ${plane.tail('kwok')}`);
    return ready.length === nodes.length && nodes.length > 0 ? true : undefined;
  }, 120_000, 300);
}

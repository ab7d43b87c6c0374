/**
 * The static half of the harness: for every container of every pod of a synthesized app, every file
 * it mounts must be readable by the container's uid/gids, and every writable volume it mounts
 * (emptyDir, claim) writable — evaluated with the same rules (rules.ts) the harness uses to write
 * the files, so the check and the running pods cannot disagree.
 *
 * Secrets the bootstrap writes at run time are not among the synthesized objects: a volume that
 * names one is evaluated with a stand-in Secret holding the keys the volume's `items` name (or one
 * key when it projects every key) — ownership and modes do not depend on the values.
 */
import { parse } from 'yaml';
import { imageFor } from './images';
import { PodInstance, admit, containerMounts, podFromWorkload, prepareVolumes } from './pod';
import { ContainerConfigError, Identity, VolumeLayout, describe, effectiveIdentity, permits, resolve, visiblePaths } from './rules';
import { KubeObject, MemorySource, ObjectSource } from './source';

/** One problem: a file a container cannot read, or a volume it cannot write. */
export interface Finding {
  readonly workload: string;
  readonly container: string;
  readonly identity: Identity;
  readonly path: string;
  readonly problem: string;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job', 'CronJob', 'DaemonSet']);

/**
 * Every workload among `objects` as a pod-creating object: Deployments, StatefulSets, Jobs,
 * CronJobs, DaemonSets, and the pods of Argo WorkflowTemplates/CronWorkflows — each `container`
 * template as a pod (the workflow's volumes + the template's, the template's `securityContext` or
 * else the workflow's, its `initContainers`; Argo's own executor containers and volumes are not
 * modelled) and each `resource` template's manifest that is itself a workload (a multi-node Job).
 */
export function workloadsOf(objects: readonly KubeObject[]): { label: string; workload: KubeObject }[] {
  const out: { label: string; workload: KubeObject }[] = [];
  for (const o of objects) {
    const label = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (WORKLOAD_KINDS.has(o.kind)) out.push({ label, workload: o });
    const wf = o.kind === 'WorkflowTemplate' ? o.spec : o.kind === 'CronWorkflow' ? o.spec?.workflowSpec : undefined;
    for (const t of wf?.templates ?? []) {
      const where = `${label} template ${t.name}`;
      if (t.container || t.script) {
        const container = { name: 'main', ...(t.container ?? t.script) };
        out.push({
          label: where,
          workload: {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: { name: `${o.metadata.name}-${t.name}`, namespace: o.metadata.namespace },
            spec: {
              template: {
                spec: {
                  serviceAccountName: t.serviceAccountName ?? wf.serviceAccountName,
                  automountServiceAccountToken: t.automountServiceAccountToken ?? wf.automountServiceAccountToken,
                  securityContext: t.securityContext ?? wf.securityContext,
                  initContainers: t.initContainers,
                  containers: [container],
                  volumes: [...(wf.volumes ?? []), ...(t.volumes ?? [])],
                },
              },
            },
          },
        });
      }
      if (t.resource?.manifest) {
        // Argo's tags (the value expressions of multi-node steps are unquoted) read as placeholders, as Argo's lint does.
        const m = parse(String(t.resource.manifest).replace(/\{\{[^}]*\}\}/g, 'placeholder'));
        if (m && WORKLOAD_KINDS.has(m.kind)) out.push({ label: where, workload: { ...m, metadata: { ...m.metadata, name: m.metadata?.name ?? `${m.metadata?.generateName ?? t.name}x`, namespace: m.metadata?.namespace ?? o.metadata.namespace } } });
      }
    }
  }
  return out;
}

/** Checks every workload among `objects`. */
export async function checkReadability(objects: readonly KubeObject[]): Promise<Finding[]> {
  const workloads = workloadsOf(objects);
  const source = new StandInSource(objects, workloads.map((w) => w.workload));
  const findings: Finding[] = [];
  for (const { label, workload } of workloads) {
    const pod = await admit(podFromWorkload(workload), source);
    findings.push(...await checkPod(pod, source, label));
  }
  return findings;
}

/** Checks one admitted pod. */
export async function checkPod(pod: PodInstance, source: ObjectSource, label: string): Promise<Finding[]> {
  const volumes = await prepareVolumes(pod, { source, tokens: { token: async () => 'token' }, resourceValue: () => '1' });
  const findings: Finding[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    let id: Identity;
    try {
      id = effectiveIdentity(pod.spec, c, imageFor(c.image, { optional: true })?.users ?? { primaryGid: {} });
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      findings.push({ workload: label, container: c.name, identity: { uid: -1, gid: -1, groups: [] }, path: '', problem: e.message });
      continue;
    }
    const add = (path: string, problem: string) => findings.push({ workload: label, container: c.name, identity: id, path, problem });
    for (const m of containerMounts(c, volumes)) {
      for (const [path, problem] of mountProblems(m.volume, m.mountPath, m.readOnly, m.subPath, id)) add(path, problem);
    }
  }
  return findings;
}

/** What is wrong with one mount for `id`: `[path inside the container, problem]`. */
export function mountProblems(volume: VolumeLayout, mountPath: string, readOnly: boolean, subPath: string | undefined, id: Identity): [string, string][] {
  const out: [string, string][] = [];
  const root = subPath ?? '';
  // The kubelet resolves a subPath itself (as root) and bind-mounts what it finds.
  const top = resolve(volume, { uid: 0, gid: 0, groups: [] }, root);
  if (!top.node) return [[mountPath, `subPath ${subPath}: ${top.error}`]];
  const files = top.node.kind === 'file' ? [''] : (volume.type === 'emptyDir' || volume.type === 'persistentVolumeClaim' ? [] : visiblePaths(volume)
    .filter((p) => !subPath || p.startsWith(`${subPath}/`)).map((p) => (subPath ? p.slice(subPath.length + 1) : p)));
  for (const f of files) {
    const r = resolve(volume, id, [root, f].filter(Boolean).join('/'));
    const where = [mountPath, f].filter(Boolean).join('/');
    if (!r.node) out.push([where, r.error!]);
    else if (!permits(id, r.node, 4)) out.push([where, `not readable (${describe(r.node)})`]);
  }
  if (!readOnly && (volume.type === 'emptyDir' || volume.type === 'persistentVolumeClaim') && top.node.kind === 'dir') {
    if (!permits(id, top.node, 2) || !permits(id, top.node, 1)) out.push([mountPath, `not writable (${describe(top.node)})`]);
  }
  return out;
}

/** The synthesized objects, with a stand-in for each Secret or ConfigMap that only exists at run time. */
class StandInSource extends MemorySource {
  private readonly wanted = new Map<string, Set<string>>();

  constructor(objects: readonly KubeObject[], workloads: readonly KubeObject[]) {
    super(objects);
    for (const w of workloads) {
      const spec = w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec;
      for (const v of spec.volumes ?? []) {
        const refs = [v.secret ? ['Secret', v.secret.secretName, v.secret.items] : undefined, v.configMap ? ['ConfigMap', v.configMap.name, v.configMap.items] : undefined,
          ...(v.projected?.sources ?? []).map((s: any) => (s.secret ? ['Secret', s.secret.name, s.secret.items] : s.configMap ? ['ConfigMap', s.configMap.name, s.configMap.items] : undefined))];
        for (const r of refs) {
          if (!r) continue;
          const k = `${r[0]}/${w.metadata.namespace}/${r[1]}`;
          const keys = this.wanted.get(k) ?? new Set<string>();
          for (const item of r[2] ?? [{ key: 'any-key' }]) keys.add(item.key);
          this.wanted.set(k, keys);
        }
      }
    }
  }

  public async getObject(kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    const real = this.getSync(kind, namespace, name);
    // A Secret the manifests create empty is the bootstrap's to fill at run time: stand in for its content too.
    const empty = real?.kind === 'Secret' && Object.keys(real.data ?? {}).length === 0 && Object.keys((real as any).stringData ?? {}).length === 0;
    if (real && !empty) return real;
    if (kind === 'ConfigMap' && name === 'kube-root-ca.crt') return { apiVersion: 'v1', kind, metadata: { name, namespace }, data: { 'ca.crt': 'ca' } };
    const keys = this.wanted.get(`${kind}/${namespace}/${name}`);
    if (!keys) return undefined;
    const data = Object.fromEntries([...keys].map((k) => [k, Buffer.from('stand-in').toString('base64')]));
    return kind === 'Secret' ? { apiVersion: 'v1', kind, metadata: { name, namespace }, data } : { apiVersion: 'v1', kind, metadata: { name, namespace }, binaryData: data };
  }
}

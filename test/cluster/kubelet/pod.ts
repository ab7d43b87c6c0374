/**
 * From a synthesized workload to the pod the kubelet gets, and that pod's volumes as the kubelet
 * prepares them (the layouts of rules.ts, filled from the ObjectSource).
 *
 * Admission and defaulting the API server applies before a kubelet sees the pod, as far as our
 * objects need them (k8s.io/kubernetes@v1.37.2):
 * - plugin/pkg/admission/serviceaccount/admission.go: unless `automountServiceAccountToken` is
 *   false on the pod (or else on its ServiceAccount), a projected volume `kube-api-access-…`
 *   (`TokenVolumeSource`: token, ca.crt from ConfigMap kube-root-ca.crt, namespace; defaultMode
 *   0644) mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container
 *   that has no mount there;
 * - pkg/apis/core/v1/defaults.go: `enableServiceLinks` true, volume `defaultMode` 0644.
 * A StatefulSet's `volumeClaimTemplates` become claims `<template>-<set>-<ordinal>`
 * (pkg/controller/statefulset/stateful_set_utils.go `getPersistentVolumeClaimName`).
 */
import { randomBytes } from 'crypto';
import { Identity, Projection, VolumeLayout, ContainerConfigError, DEFAULT_MODE, atomicWriterLayout, claimLayout, emptyDirLayout, makePayload, FsNode } from './rules';
import { ObjectSource, configMapData, secretData } from './source';

/** The API server's mount path for the service-account token (admission.go `DefaultAPITokenMountPath`). */
export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A pod as the kubelet receives it: its spec after admission, its metadata, and where it came from. */
export interface PodInstance {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: any;
  /** Claim name of each volume that comes from a StatefulSet's volumeClaimTemplates. */
  readonly claims: Record<string, string>;
}

/** The pod template of a Deployment, StatefulSet, Job, CronJob or DaemonSet, as a pod named like its controller names it. */
export function podFromWorkload(workload: any, opts: { ordinal?: number; name?: string } = {}): PodInstance {
  const kind = workload.kind;
  const template = kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec?.template;
  if (!template?.spec) throw new Error(`${kind} ${workload.metadata?.name} has no pod template`);
  const namespace = workload.metadata.namespace ?? 'default';
  const ordinal = opts.ordinal ?? 0;
  const base = workload.metadata.name;
  const name = opts.name ?? (kind === 'StatefulSet' ? `${base}-${ordinal}` : `${base}-${randomBytes(3).toString('hex').slice(0, 5)}`);
  const spec = JSON.parse(JSON.stringify(template.spec));
  const claims: Record<string, string> = {};
  if (kind === 'StatefulSet') {
    for (const t of workload.spec.volumeClaimTemplates ?? []) {
      const claim = `${t.metadata.name}-${base}-${ordinal}`;
      claims[t.metadata.name] = claim;
      // The StatefulSet controller adds the claim as a pod volume (stateful_set_utils.go `updateStorage`).
      spec.volumes = [...(spec.volumes ?? []).filter((v: any) => v.name !== t.metadata.name), { name: t.metadata.name, persistentVolumeClaim: { claimName: claim } }];
    }
  }
  return {
    name,
    namespace,
    uid: randomUid(),
    labels: { ...(template.metadata?.labels ?? {}), ...(kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': name } : {}) },
    annotations: { ...(template.metadata?.annotations ?? {}) },
    spec,
    claims,
  };
}

function randomUid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Applies the ServiceAccount admission plugin and the defaults the kubelet relies on. */
export async function admit(pod: PodInstance, source: ObjectSource): Promise<PodInstance> {
  const spec = JSON.parse(JSON.stringify(pod.spec));
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= 'default';
  let automount: boolean | undefined = spec.automountServiceAccountToken;
  if (automount === undefined) {
    const sa = await source.getObject('ServiceAccount', pod.namespace, spec.serviceAccountName);
    automount = sa?.automountServiceAccountToken ?? true;
  }
  if (automount) {
    const volumeName = `kube-api-access-${randomBytes(3).toString('hex').slice(0, 5)}`;
    let needs = false;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (!(c.volumeMounts ?? []).some((m: any) => m.mountPath === SA_MOUNT_PATH)) {
        c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: SA_MOUNT_PATH }];
        needs = true;
      }
    }
    if (needs) {
      spec.volumes = [...(spec.volumes ?? []), {
        name: volumeName,
        projected: {
          defaultMode: DEFAULT_MODE,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      }];
    }
  }
  return { ...pod, spec };
}

/** What the kubelet asks the API server for besides objects: service-account tokens. */
export interface TokenIssuer {
  token(namespace: string, serviceAccount: string): Promise<string>;
}

/** `fieldpath.ExtractFieldPathAsString` for the fields a pod may reference (and status.podIP → 127.0.0.1: every pod shares the loopback). */
export function podField(pod: PodInstance, fieldPath: string, spec: any = pod.spec): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.namespace;
    case 'metadata.uid': return pod.uid;
    case 'metadata.labels': return formatMap(pod.labels);
    case 'metadata.annotations': return formatMap(pod.annotations);
    case 'spec.nodeName': return 'harness-node';
    case 'spec.serviceAccountName': return spec.serviceAccountName ?? 'default';
    case 'status.podIP': case 'status.hostIP': return '127.0.0.1';
    case 'status.podIPs': case 'status.hostIPs': return '127.0.0.1';
    default: throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  }
}

/** pkg/fieldpath/fieldpath.go `FormatMap`: `key="value"` lines, keys sorted, values Go-quoted. */
function formatMap(m: Record<string, string>): string {
  return Object.keys(m).sort().map((k) => `${k}=${JSON.stringify(m[k])}`).join('\n');
}

/** The atomic writer's timestamp directory name (`newTimestampDir`: `..2006_01_02_15_04_05.` + MkdirTemp's random digits). */
export function timestampDirName(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
}

/** Options for preparing volumes. */
export interface VolumeContext {
  readonly source: ObjectSource;
  /** Issues projected service-account tokens (a volume with one fails without it). */
  readonly tokens?: TokenIssuer;
  /** The current contents of claims mounted before, by claim name. */
  readonly claimState?: (claim: string) => FsNode[] | undefined;
  /** `resourceFieldRef` values (the node's allocatable when no limit is set). */
  readonly resourceValue?: (containerName: string | undefined, resource: string, divisor?: string) => string;
}

/** Every volume of the pod, prepared as the kubelet prepares it (before any container starts). */
export async function prepareVolumes(pod: PodInstance, ctx: VolumeContext): Promise<Map<string, VolumeLayout>> {
  const out = new Map<string, VolumeLayout>();
  const fsGroup: number | undefined = pod.spec.securityContext?.fsGroup;
  const policy: string | undefined = pod.spec.securityContext?.fsGroupChangePolicy;
  const ns = pod.namespace;
  const secretPayload = async (src: any, defaultMode: number) => {
    const s = await ctx.source.getObject('Secret', ns, src.secretName ?? src.name);
    return makePayload(`secret "${src.secretName ?? src.name}"`, src.items, s ? secretData(s) : undefined, defaultMode, src.optional === true);
  };
  const configMapPayload = async (src: any, defaultMode: number) => {
    const cm = await ctx.source.getObject('ConfigMap', ns, src.name);
    return makePayload(`configmap "${src.name}"`, src.items, cm ? configMapData(cm) : undefined, defaultMode, src.optional === true);
  };
  const downwardPayload = (items: any[], defaultMode: number) => {
    const payload: Record<string, Projection> = {};
    for (const item of items ?? []) {
      let value: string;
      if (item.fieldRef) {value = podField(pod, item.fieldRef.fieldPath);} else if (item.resourceFieldRef) {
        if (!ctx.resourceValue) throw new ContainerConfigError(`downwardAPI ${item.path}: resourceFieldRef needs resource values`);
        value = ctx.resourceValue(item.resourceFieldRef.containerName, item.resourceFieldRef.resource, item.resourceFieldRef.divisor);
      } else {throw new ContainerConfigError(`downwardAPI ${item.path}: neither fieldRef nor resourceFieldRef`);}
      payload[item.path] = { data: Buffer.from(value), mode: item.mode ?? defaultMode };
    }
    return payload;
  };
  // util.go `FsUserFrom`: one non-root runAsUser shared by every container, else none.
  const fsUser = (() => {
    let u: number | undefined;
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const r = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
      if (r === undefined || (u !== undefined && u !== r)) return undefined;
      u = r;
    }
    return u;
  })();

  for (const v of pod.spec.volumes ?? []) {
    const stamp = timestampDirName();
    if (v.secret) {
      out.set(v.name, atomicWriterLayout(v.name, 'secret', await secretPayload(v.secret, v.secret.defaultMode ?? DEFAULT_MODE), fsGroup, stamp));
    } else if (v.configMap) {
      out.set(v.name, atomicWriterLayout(v.name, 'configMap', await configMapPayload(v.configMap, v.configMap.defaultMode ?? DEFAULT_MODE), fsGroup, stamp));
    } else if (v.downwardAPI) {
      out.set(v.name, atomicWriterLayout(v.name, 'downwardAPI', downwardPayload(v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE), fsGroup, stamp));
    } else if (v.projected) {
      const defaultMode = v.projected.defaultMode ?? DEFAULT_MODE;
      const payload: Record<string, Projection> = {};
      for (const src of v.projected.sources ?? []) {
        if (src.secret) {
          Object.assign(payload, await secretPayload(src.secret, defaultMode));
        } else if (src.configMap) {
          Object.assign(payload, await configMapPayload(src.configMap, defaultMode));
        } else if (src.downwardAPI) {
          Object.assign(payload, downwardPayload(src.downwardAPI.items, defaultMode));
        } else if (src.serviceAccountToken) {
          if (!ctx.tokens) throw new ContainerConfigError(`volume ${v.name}: a service-account token is projected, but the harness has no token issuer (no API server)`);
          const token = await ctx.tokens.token(ns, pod.spec.serviceAccountName ?? 'default');
          // projected.go `collectData`: 0600 (owner fsUser) when fsGroup or fsUser is set.
          const mode = fsUser !== undefined || fsGroup !== undefined ? 0o600 : defaultMode;
          payload[src.serviceAccountToken.path] = { data: Buffer.from(token), mode, uid: fsUser };
        } else {throw new ContainerConfigError(`volume ${v.name}: projected source ${Object.keys(src).join(',')} is not supported by the harness`);}
      }
      out.set(v.name, atomicWriterLayout(v.name, 'projected', payload, fsGroup, stamp));
    } else if (v.emptyDir) {
      out.set(v.name, emptyDirLayout(v.name, v.emptyDir.medium, fsGroup));
    } else if (v.persistentVolumeClaim) {
      out.set(v.name, claimLayout(v.name, fsGroup, policy, ctx.claimState?.(v.persistentVolumeClaim.claimName)));
    } else {
      throw new ContainerConfigError(`volume ${v.name}: type ${Object.keys(v).filter((k) => k !== 'name').join(',')} is not supported by the harness`);
    }
  }
  return out;
}

/** A container's identity-independent view of one mount: which volume, where, read-only or not, and the subPath. */
export interface MountView {
  readonly volume: VolumeLayout;
  readonly mountPath: string;
  readonly readOnly: boolean;
  readonly subPath?: string;
}

/** The container's mounts (kubelet_pods.go `makeMounts`: read-only when the volumeMount says so or the volume is an API-data volume). */
export function containerMounts(container: any, volumes: Map<string, VolumeLayout>): MountView[] {
  return (container.volumeMounts ?? []).map((m: any) => {
    const volume = volumes.get(m.name);
    if (!volume) throw new ContainerConfigError(`container ${container.name}: volumeMount ${m.name} names no volume of the pod`);
    if (m.subPathExpr) throw new ContainerConfigError(`container ${container.name}: subPathExpr is not supported by the harness`);
    return { volume, mountPath: m.mountPath, readOnly: m.readOnly === true || volume.readOnly, subPath: m.subPath || undefined };
  });
}

export type { Identity };

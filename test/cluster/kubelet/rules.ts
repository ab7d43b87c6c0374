/* eslint-disable no-bitwise */ // file modes are bit sets: the kernel's and the kubelet's rules are bit operations
/**
 * The kubelet's rules for who a container runs as and which files, with which owners and modes, its
 * volumes hold — one module, used both by the harness (which writes the files) and by the static
 * readability check (which only evaluates them). All citations are to k8s.io/kubernetes@v1.37.2
 * (in the Go module cache: /root/go/pkg/mod/k8s.io/kubernetes@v1.37.2).
 *
 * What is modelled:
 * - identity: pkg/securitycontext `DetermineEffectiveSecurityContext` (container fields override the
 *   pod's), pkg/kubelet/kuberuntime/security_context.go (`SupplementalGroups` = fsGroup +
 *   supplementalGroups), security_context_others.go `verifyRunAsNonRoot`; the runtime's primary
 *   group when runAsGroup is unset is the image's passwd entry for the uid, else 0 (containerd/runc);
 * - Secret, ConfigMap, projected and downwardAPI volumes: a tmpfs (pkg/volume/secret/secret.go
 *   `wrappedVolumeSpec`: an emptyDir of medium Memory, whose root is tmpfs's default 1777) written
 *   by pkg/volume/util/atomic_writer.go `Write`: a `..<timestamp>` directory (0755,
 *   `newTimestampDir`), each file with its mode (`writePayloadToDir`, nested directories
 *   `MkdirAll(…, 0777)` under the kubelet's umask 022, so 0755), `..data` → that directory, and one
 *   relative symlink per top-level name (`createUserVisibleFiles`); files are root:root;
 *   `MakePayload` (secret.go, configmap.go): `items` select keys (a missing key fails unless
 *   `optional`), per-item `mode` over `defaultMode` (default 0644, `SecretVolumeSourceDefaultMode`);
 *   projected service-account tokens get 0600 when fsGroup or a pod-wide runAsUser is set
 *   (projected.go `collectData`; the owner then is that user, util.go `FsUserFrom`);
 * - fsGroup: pkg/volume/volume_linux.go `changeFilePermission` on every path of the volume after
 *   the timestamp directory is written (the `setPerms` hook, before the symlinks exist): group :=
 *   fsGroup, mode |= 0440 for read-only volumes (Secret/ConfigMap/projected/downwardAPI: `ReadOnly:
 *   true` in their `GetAttributes`) or 0660 otherwise, directories also |= 0110 and setgid; with
 *   `fsGroupChangePolicy: OnRootMismatch` only when the root does not already match
 *   (`requiresPermissionChange`) — the kubelet passes the policy for persistent volumes only;
 * - emptyDir: pkg/volume/emptydir/empty_dir.go `setupDir` (0777 directory) or `setupTmpfs` (a tmpfs,
 *   root 1777) for `medium: Memory`, then the fsGroup change; `sizeLimit` is not enforced here (the
 *   kubelet evicts on it, it does not stop a write);
 * - a PersistentVolumeClaim: a freshly formatted block volume (ext4 as EBS/PD CSI drivers create it:
 *   root directory root:root 0755 with `lost+found` 0700), CSIDriver `fsGroupPolicy:
 *   ReadWriteOnceWithFSType`, so the fsGroup change applies. (A hostPath-backed provisioner such as
 *   local-path skips it — the stricter, common case is the one modelled.)
 *
 * Not modelled: SELinux labels, the new `defaultUser`/`items[].user` fields (KEP-5936, unused by
 * mlplatform), image volumes, the image's own /etc/group memberships of the uid.
 */

/** Who a container's process is. */
export interface Identity {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (fsGroup, then supplementalGroups). */
  readonly groups: readonly number[];
}

/** The image facts identity depends on: its USER and its /etc/passwd. */
export interface ImageUsers {
  /** The image's USER as a uid (undefined: root; a name is not supported by the harness). */
  readonly user?: number;
  /** Primary gid of each uid in the image's /etc/passwd. */
  readonly primaryGid: Readonly<Record<number, number>>;
}

/** Raised where the kubelet refuses to start a container (CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CreateContainerConfigError';
  }
}

/** The container's effective uid, gid and supplementary groups. */
export function effectiveIdentity(pod: any, container: any, image: ImageUsers): Identity {
  const psc = pod.securityContext ?? {};
  const csc = container.securityContext ?? {};
  const runAsUser: number | undefined = csc.runAsUser ?? psc.runAsUser;
  const runAsGroup: number | undefined = csc.runAsGroup ?? psc.runAsGroup;
  const runAsNonRoot: boolean | undefined = csc.runAsNonRoot ?? psc.runAsNonRoot;
  const uid = runAsUser ?? image.user ?? 0;
  if (runAsNonRoot && uid === 0) {
    throw new ContainerConfigError(runAsUser === 0
      ? `container's runAsUser breaks non-root policy (container: ${container.name})`
      : `container has runAsNonRoot and image will run as root (container: ${container.name})`);
  }
  const gid = runAsGroup ?? image.primaryGid[uid] ?? 0;
  const groups: number[] = [];
  if (psc.fsGroup !== undefined) groups.push(psc.fsGroup);
  for (const g of psc.supplementalGroups ?? []) groups.push(g);
  return { uid, gid, groups };
}

// ---------------------------------------------------------------------------------------------
// Volume layouts

/** One path of a volume, relative to its root ('' is the root). */
export interface FsNode {
  readonly path: string;
  readonly kind: 'dir' | 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  readonly data?: Buffer;
  /** Symlink target (relative, as the kubelet writes it). */
  readonly target?: string;
}

/** A volume as the kubelet prepares it. */
export interface VolumeLayout {
  readonly name: string;
  readonly type: 'secret' | 'configMap' | 'projected' | 'downwardAPI' | 'emptyDir' | 'persistentVolumeClaim';
  /** tmpfs-backed (Memory emptyDir and every API-data volume). */
  readonly tmpfs: boolean;
  /** The kubelet mounts it read-only whatever the volumeMount says (API-data volumes). */
  readonly readOnly: boolean;
  /** The paths, parents before children. For a claim: its state when first mounted. */
  readonly nodes: FsNode[];
}

/** One file of an API-data volume's payload. */
export interface Projection {
  readonly data: Buffer;
  readonly mode: number;
  /** Owner when the kubelet sets one (projected service-account tokens); else root. */
  readonly uid?: number;
}

/** `SecretVolumeSourceDefaultMode` / `ConfigMapVolumeSourceDefaultMode` / `ProjectedVolumeSourceDefaultMode` / `DownwardAPIVolumeSourceDefaultMode`. */
export const DEFAULT_MODE = 0o644;
/** The kubelet's umask on the directories it creates with MkdirAll(…, 0777). */
const KUBELET_DIR_MODE = 0o755;

/**
 * The payload of a Secret or ConfigMap source (`MakePayload` in secret.go / configmap.go).
 * `data` undefined: the object does not exist (an error unless `optional`).
 */
export function makePayload(what: string, items: any[] | undefined, data: Record<string, Buffer> | undefined, defaultMode: number, optional: boolean): Record<string, Projection> {
  if (!data) {
    if (!optional) throw new ContainerConfigError(`${what} not found`);
    data = {};
  }
  const out: Record<string, Projection> = {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) out[k] = { data: v, mode: defaultMode };
    return out;
  }
  for (const item of items) {
    const v = data[item.key];
    if (v === undefined) {
      if (optional) continue;
      throw new ContainerConfigError(`${what}: references non-existent key: ${item.key}`);
    }
    out[item.path] = { data: v, mode: item.mode ?? defaultMode };
  }
  return out;
}

/**
 * The layout atomic_writer.go `Write` produces for `payload` on a fresh tmpfs, followed by the
 * fsGroup change of volume_linux.go (applied, like the kubelet's `setPerms` hook, before the
 * `..data` and user-visible symlinks are created). `stamp` is the timestamp directory's name.
 */
export function atomicWriterLayout(name: string, type: VolumeLayout['type'], payload: Record<string, Projection>, fsGroup: number | undefined, stamp: string): VolumeLayout {
  const nodes: FsNode[] = [{ path: '', kind: 'dir', mode: 0o1777, uid: 0, gid: 0 }];
  nodes.push({ path: stamp, kind: 'dir', mode: KUBELET_DIR_MODE, uid: 0, gid: 0 });
  const dirs = new Set<string>();
  const files: FsNode[] = [];
  for (const p of Object.keys(payload).sort()) {
    validatePayloadPath(p);
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = `${stamp}/${parts.slice(0, i).join('/')}`;
      if (!dirs.has(d)) {
        dirs.add(d);
        nodes.push({ path: d, kind: 'dir', mode: KUBELET_DIR_MODE, uid: 0, gid: 0 });
      }
    }
    const f = payload[p];
    files.push({ path: `${stamp}/${p}`, kind: 'file', mode: f.mode & 0o7777, uid: f.uid ?? 0, gid: 0, data: f.data });
  }
  nodes.push(...files);
  if (fsGroup !== undefined) for (const n of nodes) changeFilePermission(n, fsGroup, true);
  nodes.push({ path: '..data', kind: 'symlink', mode: 0o777, uid: 0, gid: 0, target: stamp });
  const top = new Set(Object.keys(payload).map((p) => p.split('/')[0]));
  for (const t of [...top].sort()) nodes.push({ path: t, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, target: `..data/${t}` });
  return { name, type, tmpfs: true, readOnly: true, nodes };
}

/** atomic_writer.go `validatePath`: relative, no `..` element, not starting with `..`. */
function validatePayloadPath(p: string): void {
  if (p === '' || p.startsWith('/') || p.startsWith('..') || p.split('/').includes('..')) {
    throw new ContainerConfigError(`invalid volume item path ${JSON.stringify(p)}`);
  }
}

/** volume_linux.go `changeFilePermission`: group := fsGroup; mode |= rw/ro mask (+x and setgid on directories); symlinks only chowned. */
export function changeFilePermission(n: FsNode, fsGroup: number, readOnly: boolean): void {
  n.gid = fsGroup;
  if (n.kind === 'symlink') return;
  let mask = readOnly ? 0o440 : 0o660;
  if (n.kind === 'dir') mask |= 0o2000 | 0o110;
  n.mode |= mask;
}

/** An emptyDir: `setupDir` (0777) or a tmpfs (1777), then the fsGroup change (read-write). */
export function emptyDirLayout(name: string, medium: string | undefined, fsGroup: number | undefined): VolumeLayout {
  const tmpfs = medium === 'Memory';
  if (medium && medium !== 'Memory') throw new ContainerConfigError(`emptyDir ${name}: medium ${medium} is not supported by the harness`);
  const root: FsNode = { path: '', kind: 'dir', mode: tmpfs ? 0o1777 : 0o777, uid: 0, gid: 0 };
  if (fsGroup !== undefined) changeFilePermission(root, fsGroup, false);
  return { name, type: 'emptyDir', tmpfs, readOnly: false, nodes: [root] };
}

/**
 * A freshly provisioned block volume (ext4's root and lost+found), then the fsGroup change with
 * the pod's `fsGroupChangePolicy` (`OnRootMismatch` skips it when the root already matches).
 * `existing` are the volume's nodes as they are now, for a volume mounted before.
 */
export function claimLayout(name: string, fsGroup: number | undefined, policy: string | undefined, existing?: FsNode[]): VolumeLayout {
  const nodes: FsNode[] = existing ?? [
    { path: '', kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
    { path: 'lost+found', kind: 'dir', mode: 0o700, uid: 0, gid: 0 },
  ];
  if (fsGroup !== undefined && !(policy === 'OnRootMismatch' && !requiresPermissionChange(nodes[0], fsGroup, false))) {
    for (const n of nodes) changeFilePermission(n, fsGroup, false);
  }
  return { name, type: 'persistentVolumeClaim', tmpfs: false, readOnly: false, nodes };
}

/** volume_linux.go `requiresPermissionChange`. */
export function requiresPermissionChange(root: FsNode, fsGroup: number, readOnly: boolean): boolean {
  if (root.gid !== fsGroup || root.kind !== 'dir') return true;
  const want = (readOnly ? 0o440 : 0o660) | 0o110;
  return (root.mode & want) !== want || (root.mode & 0o2000) === 0;
}

// ---------------------------------------------------------------------------------------------
// Access, as the kernel decides it for a process without capabilities

/** Whether `id` has permission `bit` (4 read, 2 write, 1 execute/search) on `n` (generic_permission, no CAP_DAC_*). */
export function permits(id: Identity, n: Pick<FsNode, 'mode' | 'uid' | 'gid'>, bit: 4 | 2 | 1): boolean {
  if (id.uid === n.uid) return ((n.mode >> 6) & bit) !== 0;
  if (id.gid === n.gid || id.groups.includes(n.gid)) return ((n.mode >> 3) & bit) !== 0;
  return (n.mode & bit) !== 0;
}

/** A path of a volume resolved the way `open(2)` resolves it: the nodes searched and the final node. */
export interface Resolution {
  readonly node?: FsNode;
  /** Why it cannot be reached (missing, a directory it cannot search). */
  readonly error?: string;
}

/** Resolves `path` (relative to the volume's root, symlinks followed inside the volume), checking search permission on every directory passed. */
export function resolve(layout: VolumeLayout, id: Identity, path: string): Resolution {
  const byPath = new Map(layout.nodes.map((n) => [n.path, n]));
  let cur = byPath.get('')!;
  let parts = path.split('/').filter((p) => p && p !== '.');
  let hops = 0;
  let at = '';
  while (parts.length) {
    if (!permits(id, cur, 1)) return { error: `cannot search ${at || '/'} (${describe(cur)})` };
    const next = at ? `${at}/${parts[0]}` : parts[0];
    const n = byPath.get(next);
    if (!n) return { error: `${next} does not exist` };
    if (n.kind === 'symlink') {
      if (++hops > 40) return { error: `${next}: too many symlinks` };
      const base = at;
      parts = [...n.target!.split('/'), ...parts.slice(1)];
      // Relative target: resolve from the symlink's directory.
      at = base;
      cur = byPath.get(base)!;
      continue;
    }
    parts = parts.slice(1);
    at = next;
    cur = n;
  }
  return { node: cur };
}

/** `rwx` text of a node for messages: `0440 root:0`. */
export function describe(n: Pick<FsNode, 'mode' | 'uid' | 'gid'>): string {
  return `mode ${(n.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${n.uid}:${n.gid}`;
}

/** The paths a container sees at the top of a volume (`items` paths, or the keys). */
export function visiblePaths(layout: VolumeLayout): string[] {
  const stamp = layout.nodes.find((n) => n.path === '..data')?.target;
  if (!stamp) return [];
  return layout.nodes.filter((n) => n.kind === 'file' && n.path.startsWith(`${stamp}/`)).map((n) => n.path.slice(stamp.length + 1));
}

import type { k8s } from 'cdk8s-plus-27';
import type { Json } from './object';
import { Cpu, Size } from '../../core';

/** Requests and limits of one container (both always set: DESIGN.md §5). */
export interface ContainerResources {
  readonly cpu: { readonly request: Cpu; readonly limit: Cpu };
  readonly memory: { readonly request: Size; readonly limit: Size };
  readonly ephemeralStorage?: { readonly request: Size; readonly limit: Size };
  /** Extended resources (GPUs): request == limit. */
  readonly extended?: Readonly<Record<string, number>>;
}

/** Shorthand for resources with a request and a limit. */
export function resources(cpuRequest: string, cpuLimit: string, memoryRequest: string, memoryLimit: string, extras: Pick<ContainerResources, 'ephemeralStorage' | 'extended'> = {}): ContainerResources {
  return {
    cpu: { request: cpuOf(cpuRequest), limit: cpuOf(cpuLimit) },
    memory: { request: sizeOf(memoryRequest), limit: sizeOf(memoryLimit) },
    ...extras,
  };
}

// The renderers' fixed quantities, parsed once per process (Cpu and Size are immutable).
const CPUS = new Map<string, Cpu>();
const SIZES = new Map<string, Size>();
function cpuOf(q: string): Cpu {
  let c = CPUS.get(q);
  if (!c) CPUS.set(q, c = Cpu.parse(q));
  return c;
}
function sizeOf(q: string): Size {
  let s = SIZES.get(q);
  if (!s) SIZES.set(q, s = Size.parse(q));
  return s;
}

/** The `resources` field of a container. */
export function renderResources(r: ContainerResources): Json<k8s.ResourceRequirements> {
  const requests: Record<string, string> = { cpu: r.cpu.request.toKubernetes(), memory: r.memory.request.toKubernetes() };
  const limits: Record<string, string> = { cpu: r.cpu.limit.toKubernetes(), memory: r.memory.limit.toKubernetes() };
  if (r.ephemeralStorage) {
    requests['ephemeral-storage'] = r.ephemeralStorage.request.toKubernetes();
    limits['ephemeral-storage'] = r.ephemeralStorage.limit.toKubernetes();
  }
  for (const [name, n] of Object.entries(r.extended ?? {})) {
    requests[name] = String(n);
    limits[name] = String(n);
  }
  return { requests, limits };
}

/** A container spec with the restricted security context every mlplatform container gets. */
export interface ContainerOptions extends Omit<Json<k8s.Container>, 'securityContext' | 'resources' | 'imagePullPolicy'> {
  readonly resources: ContainerResources;
  /** uid to run as. @default the pod's */
  readonly runAsUser?: number;
}

/** The restricted (PSS) container security context, with a read-only root filesystem. */
export function restrictedContainerSecurity(runAsUser?: number): Json<k8s.SecurityContext> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Renders a container with the restricted security context and its resources. */
export function container(o: ContainerOptions): Json<k8s.Container> {
  const { resources: r, runAsUser, ...rest } = o;
  return Object.assign({}, rest, {
    imagePullPolicy: 'IfNotPresent',
    resources: renderResources(r),
    securityContext: restrictedContainerSecurity(runAsUser),
  });
}

/** Pod-level options. */
export interface PodOptions {
  readonly containers: Json<k8s.Container>[];
  readonly initContainers?: Json<k8s.Container>[];
  readonly volumes?: Json<k8s.Volume>[];
  readonly serviceAccountName: string;
  /** Mount the ServiceAccount token. @default false */
  readonly automountServiceAccountToken?: boolean;
  readonly runAsUser: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Json<k8s.Toleration>[];
  readonly terminationGracePeriodSeconds?: number;
  readonly affinity?: Json<k8s.Affinity>;
  readonly topologySpreadConstraints?: Json<k8s.TopologySpreadConstraint>[];
}

/** A PodSpec that passes Pod Security "restricted": non-root, seccomp RuntimeDefault, no token unless asked. */
export function podSpec(o: PodOptions): Json<k8s.PodSpec> {
  return {
    serviceAccountName: o.serviceAccountName,
    automountServiceAccountToken: o.automountServiceAccountToken ?? false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: o.runAsUser,
      runAsGroup: o.runAsGroup ?? o.runAsUser,
      ...(o.fsGroup !== undefined ? { fsGroup: o.fsGroup, fsGroupChangePolicy: 'OnRootMismatch' } : {}),
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: o.containers,
    ...(o.initContainers?.length ? { initContainers: o.initContainers } : {}),
    ...(o.volumes?.length ? { volumes: o.volumes } : {}),
    ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
    ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
    ...(o.tolerations?.length ? { tolerations: o.tolerations } : {}),
    ...(o.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: o.terminationGracePeriodSeconds } : {}),
    ...(o.affinity ? { affinity: o.affinity } : {}),
    ...(o.topologySpreadConstraints ? { topologySpreadConstraints: o.topologySpreadConstraints } : {}),
  };
}

/** An `emptyDir` volume (memory-backed when `medium` is 'Memory'), always size-limited. */
export function emptyDir(name: string, sizeLimit: string, medium?: 'Memory'): Json<k8s.Volume> {
  return { name, emptyDir: { sizeLimit, ...(medium ? { medium } : {}) } };
}

/** An env var read from a Secret key. */
export function secretEnv(name: string, secretName: string, key: string): Json<k8s.EnvVar> {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/** Standard recommended labels (`app.kubernetes.io/*`). */
export function appLabels(name: string, component: string, partOf: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': partOf,
    'app.kubernetes.io/managed-by': 'mlplatform',
  };
}

/** The selector subset of {@link appLabels}. */
export function selectorLabels(name: string, partOf: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': partOf };
}

/** Where a database client mounts the server's CA bundle (a Secret volume): libpq reads `PGSSLROOTCERT`. */
export const DATABASE_CA_DIR = '/etc/mlplatform/database-ca';
/** The CA bundle's file name inside {@link DATABASE_CA_DIR}. */
export const DATABASE_CA_FILE = 'ca.crt';
/** `PGSSLROOTCERT`'s value: the mounted CA bundle. */
export const DATABASE_CA_PATH = `${DATABASE_CA_DIR}/${DATABASE_CA_FILE}`;

/**
 * The database CA for a libpq client: a Secret volume with the one key as `ca.crt`, world-readable
 * (`defaultMode: 0444`: a CA certificate is public, and the kubelet writes Secret files root-owned, so
 * any `runAsUser` can read it without an fsGroup), its read-only mount, and `PGSSLROOTCERT`, which
 * libpq (and so psycopg2 and SQLAlchemy) uses as `sslrootcert` when the connection string has none.
 */
export function databaseCa(ref: { readonly name: string; readonly key: string } | undefined): {
  volumes: Json<k8s.Volume>[]; mounts: Json<k8s.VolumeMount>[]; env: Json<k8s.EnvVar>[];
} {
  if (!ref) return { volumes: [], mounts: [], env: [] };
  return {
    volumes: [{ name: 'database-ca', secret: { secretName: ref.name, items: [{ key: ref.key, path: DATABASE_CA_FILE }], defaultMode: 0o444 } }],
    mounts: [{ name: 'database-ca', mountPath: DATABASE_CA_DIR, readOnly: true }],
    env: [{ name: 'PGSSLROOTCERT', value: DATABASE_CA_PATH }],
  };
}

/** Where credentials are mounted as files: `<CREDENTIALS_DIR>/<purpose>/<VARIABLE>` (issue #20 item 5). */
export const CREDENTIALS_DIR = '/var/run/secrets/mlplatform';

/** One credential a program reads from a file: the variable it stands for and the Secret key it holds. */
export interface CredentialRef {
  /** The variable the program would otherwise read (`SWEEP_DB_PASSWORD`); the file is named after it and `<name>_FILE` gives its path. */
  readonly name: string;
  readonly secretName: string;
  readonly key: string;
}

/**
 * Credentials as files for a program we own: one projected volume `credentials-<purpose>` with each
 * Secret key as a file named after its variable, mounted read-only at `<CREDENTIALS_DIR>/<purpose>`, and
 * `<VARIABLE>_FILE` (the path, never the value) in the container's environment. The files are
 * `0440`: the kubelet writes Secret files root-owned and, with the pod's `fsGroup`, gives them that
 * group keeping the mode (`pkg/volume/volume_linux.go` SetVolumeOwnership: read-only volumes get the
 * `0440` mask), so every container of a pod that sets `fsGroup` can read them and nobody else.
 * The pod must set `fsGroup` (podSpec's option); the readability check (test/cluster/kubelet) proves it.
 */
export function credentialFiles(purpose: string, refs: readonly CredentialRef[]): {
  volumes: Json<k8s.Volume>[]; mounts: Json<k8s.VolumeMount>[]; env: Json<k8s.EnvVar>[];
} {
  if (refs.length === 0) return { volumes: [], mounts: [], env: [] };
  const dir = `${CREDENTIALS_DIR}/${purpose}`;
  const bySecret = new Map<string, { key: string; path: string }[]>();
  for (const r of refs) bySecret.set(r.secretName, [...(bySecret.get(r.secretName) ?? []), { key: r.key, path: r.name }]);
  const name = `credentials-${purpose}`;
  return {
    volumes: [{ name, projected: { defaultMode: 0o440, sources: [...bySecret].map(([secretName, items]) => ({ secret: { name: secretName, items } })) } }],
    mounts: [{ name, mountPath: dir, readOnly: true }],
    env: refs.map((r) => ({ name: `${r.name}_FILE`, value: `${dir}/${r.name}` })),
  };
}

/** {@link credentialFiles} for env vars as {@link secretEnv} makes them: the `secretKeyRef` ones become files, the rest stay. */
export function credentialFilesFromEnv(purpose: string, env: readonly Json<k8s.EnvVar>[]): ReturnType<typeof credentialFiles> {
  const refs: CredentialRef[] = [];
  const plain: Json<k8s.EnvVar>[] = [];
  for (const e of env) {
    const r = e.valueFrom?.secretKeyRef;
    if (r) refs.push({ name: e.name, secretName: r.name!, key: r.key });
    else plain.push(e);
  }
  const files = credentialFiles(purpose, refs);
  return { volumes: files.volumes, mounts: files.mounts, env: [...plain, ...files.env] };
}

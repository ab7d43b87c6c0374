import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PlatformNames } from './names';
import { Json, KUBE, kube } from './object';
import { appLabels, container, credentialFiles, credentialFilesFromEnv, emptyDir, podSpec, resources, selectorLabels } from './pod';
import { renderStatefulService } from './stateful';
import { BackendStoreSpec, shortHash } from '../../core';

/** Port of PostgreSQL. */
export const POSTGRES_PORT = 5432;
/** uid/gid of the `postgres` user in the official Alpine image. */
const POSTGRES_UID = 70;
/** Database (and superuser) the embedded PostgreSQL creates; the superuser is the bootstrap's alone. */
export const EMBEDDED_DATABASE = 'mlflow';

/**
 * A PostgreSQL identifier from name parts (DNS labels): joined with `_`, `-` turned into `_`; past 63
 * bytes (where PostgreSQL would silently truncate, so two long names could meet) it keeps 54
 * characters and a hash of the whole.
 */
export function postgresIdentifier(...parts: string[]): string {
  const joined = parts.join('_').replace(/-/g, '_');
  return joined.length <= 63 ? joined : `${joined.slice(0, 54)}_${shortHash(joined, 8)}`;
}

/** The tracking server's database role of platform `platform`. */
export function trackingRole(platform: string): string {
  return postgresIdentifier(platform, 'tracking');
}

/** Role and study database of tenant `tenant` of platform `platform`. */
export function tenantDatabase(platform: string, tenant: string): { role: string; database: string } {
  return { role: postgresIdentifier(platform, 'tenant', tenant), database: postgresIdentifier(platform, 'studies', tenant) };
}

/** What the database renderer needs. */
export interface DatabaseInput {
  readonly platform: string;
  readonly namespace: string;
  readonly names: PlatformNames;
  readonly image: string;
  readonly spec: Extract<BackendStoreSpec, { kind: 'embedded' }>;
}

/** Labels of the embedded database's pods. */
export function databasePodLabels(i: { platform: string; names: PlatformNames }): Record<string, string> {
  return selectorLabels(i.names.postgres, i.platform);
}

/**
 * The embedded PostgreSQL: a one-replica StatefulSet on a PersistentVolumeClaim, its headless
 * Service and ServiceAccount. The password comes from the Secret the bootstrap Job generates; the
 * pod waits for it.
 */
export function renderDatabase(scope: Construct, i: DatabaseInput): void {
  const { names, namespace } = i;
  const labels = appLabels(names.postgres, 'database', i.platform);
  const selector = databasePodLabels(i);
  const pgIsReady = ['/bin/sh', '-c', `pg_isready -h 127.0.0.1 -p ${POSTGRES_PORT} -U "$POSTGRES_USER" -d "$POSTGRES_DB"`];
  renderStatefulService(scope, {
    id: 'postgres',
    name: names.postgres,
    namespace,
    labels,
    selector,
    headless: true,
    port: { name: 'postgres', port: POSTGRES_PORT },
    storage: i.spec.storage,
    storageClassName: i.spec.storageClassName,
    pod: podSpec({
      serviceAccountName: names.postgres,
      runAsUser: POSTGRES_UID,
      fsGroup: POSTGRES_UID,
      terminationGracePeriodSeconds: 90,
      containers: [container({
        name: 'postgres',
        image: i.image,
        // The image's entrypoint runs `postgres` with these arguments (its first starts with "-").
        // max_connections is declared (BackendStore.embedded({ maxConnections })): the sweeps on this
        // database are checked against it at synth time.
        args: ['-c', `max_connections=${i.spec.maxConnections}`],
        ports: [{ name: 'postgres', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
        env: [
          { name: 'POSTGRES_USER', value: EMBEDDED_DATABASE },
          { name: 'POSTGRES_DB', value: EMBEDDED_DATABASE },
          { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgres/password' },
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        resources: resources('100m', '1', '256Mi', '1Gi'),
        volumeMounts: [
          { name: 'data', mountPath: '/var/lib/postgresql/data' },
          { name: 'run', mountPath: '/var/run/postgresql' },
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'password', mountPath: '/run/secrets/postgres', readOnly: true },
        ],
        readinessProbe: { exec: { command: pgIsReady }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        livenessProbe: { exec: { command: pgIsReady }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
        startupProbe: { exec: { command: pgIsReady }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
      })],
      volumes: [
        emptyDir('run', '16Mi'),
        emptyDir('tmp', '256Mi'),
        { name: 'password', secret: { secretName: names.postgresSecret, items: [{ key: 'password', path: 'password' }], defaultMode: 0o440 } },
      ],
    }),
  });
}

/** What the backup renderer needs. */
export interface BackupInput extends DatabaseInput {
  readonly uploaderImage: string;
  /** Store access for the upload: endpoint (undefined for AWS), bucket, prefix, region, credential env vars. */
  readonly store: { readonly endpoint?: string; readonly bucket: string; readonly prefix: string; readonly region: string; readonly credentialEnv: Json<k8s.EnvVar>[] };
}

/** Python (stdlib + boto3, present in the MLflow image) that uploads the dump and keeps the newest N. */
const UPLOAD_SCRIPT = [
  'import boto3, glob, os',
  // The store keys from the mounted files (credentialFiles), passed to boto3 explicitly; none: the workload identity.
  "keys = {n.lower(): open(os.environ[n + '_FILE']).read() for n in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY') if os.environ.get(n + '_FILE')}",
  "s3 = boto3.client('s3', endpoint_url=os.environ.get('S3_ENDPOINT') or None, region_name=os.environ['AWS_DEFAULT_REGION'], **keys)",
  "bucket, prefix, keep = os.environ['BUCKET'], os.environ['BACKUP_PREFIX'], int(os.environ['KEEP'])",
  "for f in glob.glob('/backup/*.dump'):",
  "    s3.upload_file(f, bucket, prefix + os.path.basename(f)); print('uploaded', prefix + os.path.basename(f))",
  "keys = sorted(o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix) for o in p.get('Contents', []))",
  'for k in keys[:-keep] if len(keys) > keep else []:',
  "    s3.delete_object(Bucket=bucket, Key=k); print('pruned', k)",
].join('\n');

/**
 * Nightly logical backups: `pg_dump` (an init container with the server's own image, so the client
 * is never older than the server) into a size-limited emptyDir, then an upload to the object store
 * under `<prefix>/backups/postgres/`, keeping the newest `keep` dumps.
 */
export function renderBackup(scope: Construct, i: BackupInput): void {
  const backup = i.spec.backup;
  if (!backup) return;
  const { names, namespace } = i;
  const labels = appLabels(names.backup, 'database-backup', i.platform);
  // Credentials as files (pod.ts credentialFiles; the pod's fsGroup makes the 0440 files readable by both containers'
  // users). pg_dump is given the password in its own environment by the shell: libpq's PGPASSFILE would refuse a
  // file with group bits (src/interfaces/libpq/fe-connect.c passwordFromFile: "has group or world access"), which
  // the kubelet's fsGroup change always leaves on (pkg/volume/volume_linux.go: mode |= 0440 for read-only volumes).
  const dumpFiles = credentialFiles('database', [{ name: 'PGPASSWORD', secretName: names.postgresSecret, key: 'password' }]);
  const storeFiles = credentialFilesFromEnv('store', i.store.credentialEnv);
  kube(scope, 'backup-sa', KUBE.ServiceAccount, {
    metadata: { name: names.backup, namespace, labels },
    automountServiceAccountToken: false,
  });
  const prefix = `${i.store.prefix ? `${i.store.prefix}/` : ''}backups/postgres/`;
  kube(scope, 'backup', KUBE.CronJob, {
    metadata: { name: names.backup, namespace, labels },
    spec: {
      schedule: backup.schedule,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 3600,
          ttlSecondsAfterFinished: 86400,
          template: {
            metadata: { labels },
            spec: podSpec({
              serviceAccountName: names.backup,
              runAsUser: 1000,
              fsGroup: 1000,
              restartPolicy: 'Never',
              initContainers: [container({
                name: 'dump',
                image: i.image,
                runAsUser: POSTGRES_UID,
                command: ['/bin/sh', '-c', `PGPASSWORD="$(cat "$PGPASSWORD_FILE")" || exit 1; export PGPASSWORD; exec pg_dump -Fc -h "$PGHOST" -U "$PGUSER" -d "$PGDATABASE" -f "/backup/${EMBEDDED_DATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"`],
                env: [
                  { name: 'PGHOST', value: `${names.postgres}.${namespace}.svc` },
                  { name: 'PGUSER', value: EMBEDDED_DATABASE },
                  { name: 'PGDATABASE', value: EMBEDDED_DATABASE },
                  ...dumpFiles.env,
                ],
                resources: resources('50m', '500m', '64Mi', '256Mi'),
                volumeMounts: [{ name: 'backup', mountPath: '/backup' }, { name: 'tmp', mountPath: '/tmp' }, ...dumpFiles.mounts],
              })],
              containers: [container({
                name: 'upload',
                image: i.uploaderImage,
                command: ['python', '-c', UPLOAD_SCRIPT],
                env: [
                  { name: 'HOME', value: '/tmp' },
                  ...(i.store.endpoint ? [{ name: 'S3_ENDPOINT', value: i.store.endpoint }] : []),
                  { name: 'AWS_DEFAULT_REGION', value: i.store.region },
                  { name: 'BUCKET', value: i.store.bucket },
                  { name: 'BACKUP_PREFIX', value: prefix },
                  { name: 'KEEP', value: String(backup.keep) },
                  ...storeFiles.env,
                ],
                resources: resources('50m', '500m', '128Mi', '512Mi'),
                volumeMounts: [{ name: 'backup', mountPath: '/backup', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }, ...storeFiles.mounts],
              })],
              volumes: [emptyDir('backup', `${Math.max(1, Math.ceil(i.spec.storage.toGibibytes()))}Gi`), emptyDir('tmp', '256Mi'), ...dumpFiles.volumes, ...storeFiles.volumes],
            }),
          },
        },
      },
    },
  });
}

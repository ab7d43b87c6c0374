import { cronError } from '../cron';
import { Issues } from '../errors';
import { HOST_FIX, isHost } from '../hosts';
import { isDnsLabel, isDnsSubdomain, checkAnnotations } from '../names';
import { checkFactoryArgs } from '../prop-shapes';
import { Size } from '../quantities';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';

/**
 * `max_connections` of the embedded PostgreSQL unless given: PostgreSQL's default (100) cannot hold a
 * 100-worker sweep beside the platform's services; 200 can (one connection per sweep worker, see
 * docs/tuning-sweep.md, "Database connections").
 */
export const EMBEDDED_POSTGRES_MAX_CONNECTIONS = 200;
/** PostgreSQL's own default `max_connections`: assumed for a server that declares no other. */
export const POSTGRES_DEFAULT_MAX_CONNECTIONS = 100;

/** Options of the embedded PostgreSQL (a StatefulSet on a PersistentVolumeClaim). */
export interface EmbeddedDatabaseOptions {
  /**
   * The server's `max_connections`. Sweeps on the platform's database must fit in it (one
   * connection per worker): synthesis fails otherwise, naming this option.
   * @default EMBEDDED_POSTGRES_MAX_CONNECTIONS (200)
   */
  readonly maxConnections?: number;
  /**
   * Size of the data volume.
   * @default Size.gibibytes(10)
   */
  readonly storage?: Size;
  /**
   * StorageClass of the data volume.
   * @default the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Nightly logical backups (`pg_dump`) into the platform's object store under `backups/postgres/`.
   * `false` turns them off.
   * @default { schedule: '0 3 * * *', keep: 7 }
   */
  readonly backup?: DatabaseBackupOptions | false;
}

/** Schedule and retention of the embedded database's backups. */
export interface DatabaseBackupOptions {
  /**
   * Cron schedule (five fields, in the cluster's time zone).
   * @default '0 3 * * *'
   */
  readonly schedule?: string;
  /**
   * How many backups to keep.
   * @default 7
   */
  readonly keep?: number;
}

/** Connection to a PostgreSQL server the platform does not run (RDS, Cloud SQL, an operator's cluster). */
export interface ExternalDatabaseOptions {
  /** Host name or IP address. */
  readonly host: string;
  /**
   * Port.
   * @default 5432
   */
  readonly port?: number;
  /** Database name for the tracking server (sweeps create their own schema inside it). */
  readonly database: string;
  /** The user name, from a Secret. */
  readonly username: SecretKeyRef;
  /** The password, from a Secret. */
  readonly password: SecretKeyRef;
  /**
   * libpq `sslmode`.
   * @default 'require'
   */
  readonly sslMode?: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  /**
   * The CA certificate(s) the server's certificate must chain to (PEM; for RDS, the public RDS CA
   * bundle), from a key of a Secret in the platform namespace. Required with `verify-ca` and
   * `verify-full`: every client (tracking server, bootstrap, sweeps) mounts it and points libpq at it
   * (`PGSSLROOTCERT`); the bootstrap copies it into each tenant namespace for sweeps.
   * @default none (libpq's `~/.postgresql/root.crt`, which the images do not have)
   */
  readonly caCertificate?: SecretKeyRef;
  /**
   * The server's `max_connections` (`SHOW max_connections`; on RDS it follows the instance class's
   * memory). Sweeps on the platform's database must fit in it (one connection per worker):
   * synthesis fails otherwise, naming this option.
   * @default POSTGRES_DEFAULT_MAX_CONNECTIONS (100, PostgreSQL's default)
   */
  readonly maxConnections?: number;
}

/** The validated backend store. */
export type BackendStoreSpec =
  | { readonly kind: 'embedded'; readonly storage: Size; readonly storageClassName?: string; readonly backup?: { readonly schedule: string; readonly keep: number }; readonly maxConnections: number }
  | { readonly kind: 'external'; readonly host: string; readonly port: number; readonly database: string; readonly username: SecretKeyRef; readonly password: SecretKeyRef; readonly sslMode: string; readonly caCertificate?: SecretKeyRef; readonly maxConnections: number };

function maxConnectionsOf(issues: Issues, path: string, given: number | undefined, fallback: number): number {
  const n = given ?? fallback;
  if (!Number.isInteger(n) || n < 20 || n > 100_000) issues.add(`${path}.maxConnections`, given, "must be the server's max_connections, a whole number from 20 to 100000");
  return n;
}

/**
 * `caCertificate` against `sslMode`: libpq verifies the server's certificate with `verify-ca` and
 * `verify-full` only, and then needs the CA (without one it reads `~/.postgresql/root.crt` and fails).
 */
export function checkCaCertificate(issues: Issues, path: string, sslMode: string, ca: SecretKeyRef | undefined): void {
  if (ca !== undefined) {
    checkSecretKeyRef(issues, `${path}.caCertificate`, ca);
    if (!['verify-ca', 'verify-full'].includes(sslMode)) {
      issues.add(`${path}.caCertificate`, `${ca?.name}/${ca?.key}`, `is used only with sslMode 'verify-full' or 'verify-ca' (sslMode is '${sslMode}'): set sslMode: 'verify-full', or drop caCertificate`);
    }
  } else if (sslMode === 'verify-ca' || sslMode === 'verify-full') {
    issues.add(`${path}.caCertificate`, undefined,
      `is required with sslMode '${sslMode}': give the Secret key holding the server's CA bundle (PEM), e.g. caCertificate: { name: 'rds-ca', key: 'ca.pem' }`);
  }
}

/**
 * Where the tracking server (and sweeps) keep their metadata: an embedded PostgreSQL (default) or
 * an external one.
 */
export class BackendStore {
  /** An in-cluster PostgreSQL StatefulSet with a generated password and nightly backups. */
  public static embedded(options: EmbeddedDatabaseOptions = {}): BackendStore {
    return checkFactoryArgs(new BackendStore('embedded', options), 'BackendStore.embedded', { options });
  }
  /** A PostgreSQL server reached over the network, credentials from Secrets. */
  public static external(options: ExternalDatabaseOptions): BackendStore {
    return checkFactoryArgs(new BackendStore('external', options), 'BackendStore.external', { options });
  }

  private constructor(private readonly kind: 'embedded' | 'external', private readonly options: EmbeddedDatabaseOptions | ExternalDatabaseOptions) {}

  /** @internal validates and returns the spec, recording issues under `path`. */
  public _resolve(issues: Issues, path: string): BackendStoreSpec {
    if (this.kind === 'embedded') {
      const o = this.options as EmbeddedDatabaseOptions;
      const storage = o.storage ?? Size.gibibytes(10);
      if (!(storage instanceof Size) || storage.bytes < 2 ** 30) issues.add(`${path}.storage`, o.storage?.toString(), 'must be at least 1Gi (Size.gibibytes(1))');
      if (o.storageClassName !== undefined && !isDnsSubdomain(o.storageClassName)) issues.add(`${path}.storageClassName`, o.storageClassName, 'must be a StorageClass name (DNS-1123 subdomain)');
      let backup: { schedule: string; keep: number } | undefined;
      if (o.backup !== false) {
        const schedule = o.backup?.schedule ?? '0 3 * * *';
        const keep = o.backup?.keep ?? 7;
        const err = cronError(schedule);
        if (err) issues.add(`${path}.backup.schedule`, schedule, err);
        if (!Number.isInteger(keep) || keep < 1) issues.add(`${path}.backup.keep`, keep, 'must be a whole number ≥ 1');
        backup = { schedule, keep };
      }
      const maxConnections = maxConnectionsOf(issues, path, o.maxConnections, EMBEDDED_POSTGRES_MAX_CONNECTIONS);
      return { kind: 'embedded', storage, storageClassName: o.storageClassName, backup, maxConnections };
    }
    const o = this.options as ExternalDatabaseOptions;
    if (typeof o.host !== 'string' || !isHost(o.host)) issues.add(`${path}.host`, o.host, HOST_FIX);
    const port = o.port ?? 5432;
    if (!Number.isInteger(port) || port < 1 || port > 65535) issues.add(`${path}.port`, port, 'must be a port number 1-65535');
    if (typeof o.database !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(o.database)) issues.add(`${path}.database`, o.database, 'must be a PostgreSQL database name (letters, digits, "_", at most 63)');
    checkSecretKeyRef(issues, `${path}.username`, o.username);
    checkSecretKeyRef(issues, `${path}.password`, o.password);
    const sslMode = o.sslMode ?? 'require';
    if (!['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslMode)) issues.add(`${path}.sslMode`, sslMode, 'must be one of disable, prefer, require, verify-ca, verify-full');
    checkCaCertificate(issues, path, sslMode, o.caCertificate);
    const maxConnections = maxConnectionsOf(issues, path, o.maxConnections, POSTGRES_DEFAULT_MAX_CONNECTIONS);
    return {
      kind: 'external',
      host: o.host,
      port,
      database: o.database,
      username: o.username,
      password: o.password,
      sslMode,
      ...(o.caCertificate !== undefined ? { caCertificate: o.caCertificate } : {}),
      maxConnections,
    };
  }
}

/** Options of the embedded S3-compatible object store (a StatefulSet on a PersistentVolumeClaim). */
export interface EmbeddedObjectStoreOptions {
  /**
   * Size of the data volume.
   * @default Size.gibibytes(50)
   */
  readonly storage?: Size;
  /**
   * StorageClass of the data volume.
   * @default the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * The bucket created at start-up, holding artifacts, pipeline outputs, datasets and backups.
   * @default 'mlplatform'
   */
  readonly bucket?: string;
}

/** How workloads authenticate to an external S3 bucket. */
export type StoreCredentials =
  | { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef }
  | { readonly workloadIdentity: { readonly serviceAccountAnnotations: Readonly<Record<string, string>> } };

/** An S3 bucket (or any S3-compatible endpoint) the platform does not run. */
export interface S3BucketOptions {
  /** Bucket name. */
  readonly bucket: string;
  /** AWS region (or the region string the S3-compatible endpoint expects). */
  readonly region: string;
  /**
   * Key prefix under which everything of this platform lives.
   * @default '' (the bucket root)
   */
  readonly prefix?: string;
  /**
   * Endpoint URL for S3-compatible stores (`https://storage.example.com`).
   * @default AWS S3 of `region`
   */
  readonly endpoint?: string;
  /** Access keys from a Secret, or a workload identity (IRSA / Pod Identity annotations). */
  readonly credentials: StoreCredentials;
}

/** The validated artifact store. */
export type ArtifactStoreSpec =
  | { readonly kind: 'embedded'; readonly storage: Size; readonly storageClassName?: string; readonly bucket: string; readonly prefix: ''; readonly region: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly region: string; readonly prefix: string; readonly endpoint?: string; readonly credentials: StoreCredentials };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Where artifacts, pipeline outputs, datasets and backups live: an embedded S3-compatible store
 * (default) or an external S3 bucket.
 */
export class ArtifactStore {
  /** An in-cluster S3-compatible server (see `VERSIONS.images.objectStore`) with generated keys. */
  public static embedded(options: EmbeddedObjectStoreOptions = {}): ArtifactStore {
    return checkFactoryArgs(new ArtifactStore('embedded', options), 'ArtifactStore.embedded', { options });
  }
  /** An external S3 bucket, or any S3-compatible endpoint. */
  public static s3(options: S3BucketOptions): ArtifactStore {
    return checkFactoryArgs(new ArtifactStore('s3', options), 'ArtifactStore.s3', { options });
  }

  private constructor(private readonly kind: 'embedded' | 's3', private readonly options: EmbeddedObjectStoreOptions | S3BucketOptions) {}

  /** @internal validates and returns the spec, recording issues under `path`. */
  public _resolve(issues: Issues, path: string): ArtifactStoreSpec {
    if (this.kind === 'embedded') {
      const o = this.options as EmbeddedObjectStoreOptions;
      const storage = o.storage ?? Size.gibibytes(50);
      if (!(storage instanceof Size) || storage.bytes < 2 ** 30) issues.add(`${path}.storage`, o.storage?.toString(), 'must be at least 1Gi (Size.gibibytes(1))');
      if (o.storageClassName !== undefined && !isDnsSubdomain(o.storageClassName)) issues.add(`${path}.storageClassName`, o.storageClassName, 'must be a StorageClass name (DNS-1123 subdomain)');
      const bucket = o.bucket ?? 'mlplatform';
      if (!BUCKET.test(bucket) || !isDnsLabel(bucket)) issues.add(`${path}.bucket`, bucket, 'must be 3-63 lowercase letters, digits and "-"');
      return { kind: 'embedded', storage, storageClassName: o.storageClassName, bucket, prefix: '', region: 'us-east-1' };
    }
    const o = this.options as S3BucketOptions;
    if (typeof o.bucket !== 'string' || !BUCKET.test(o.bucket) || o.bucket.includes('..')) issues.add(`${path}.bucket`, o.bucket, 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"');
    if (typeof o.region !== 'string' || !/^[a-z0-9-]{2,32}$/.test(o.region)) issues.add(`${path}.region`, o.region, 'must be a region such as "us-east-1"');
    const prefix = (o.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (/[^A-Za-z0-9!_.*'()/-]/.test(prefix)) {
      issues.add(`${path}.prefix`, o.prefix, 'must use only letters, digits and ! _ . \' ( ) / -');
    } else if (prefix !== '' && (prefix.includes('*') || prefix.split('/').some((seg) => seg === '..' || seg === '.' || seg === ''))) {
      // A wildcard in an IAM resource or a bucket policy matches more than the prefix, and ".." escapes it
      // in every client that normalizes paths: neither can scope the platform's keys.
      issues.add(`${path}.prefix`, o.prefix, 'must be a plain key prefix such as "ml/prod": no "*" (a wildcard in the IAM policies), no "." or ".." segments and no "//"');
    }
    if (o.endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(o.endpoint)) issues.add(`${path}.endpoint`, o.endpoint, 'must be an http(s) URL such as "https://s3.example.com"');
    const c = o.credentials as any;
    if (!c || typeof c !== 'object') {
      issues.add(`${path}.credentials`, c, 'is required: { accessKeyId, secretAccessKey } Secret references, or { workloadIdentity: { serviceAccountAnnotations } }');
    } else if ('workloadIdentity' in c) {
      const ann = c.workloadIdentity?.serviceAccountAnnotations;
      if (!ann || typeof ann !== 'object' || Object.keys(ann).length === 0) {
        issues.add(`${path}.credentials.workloadIdentity.serviceAccountAnnotations`, ann, 'must hold the identity annotation, e.g. { "eks.amazonaws.com/role-arn": "arn:aws:iam::…:role/…" }');
      } else {
        checkAnnotations(issues, `${path}.credentials.workloadIdentity.serviceAccountAnnotations`, ann);
      }
      if ('accessKeyId' in c || 'secretAccessKey' in c) issues.add(`${path}.credentials`, Object.keys(c), 'give either access keys or a workload identity, not both');
    } else {
      checkSecretKeyRef(issues, `${path}.credentials.accessKeyId`, c.accessKeyId);
      checkSecretKeyRef(issues, `${path}.credentials.secretAccessKey`, c.secretAccessKey);
    }
    return { kind: 's3', bucket: o.bucket, region: o.region, prefix, endpoint: o.endpoint, credentials: o.credentials };
  }
}

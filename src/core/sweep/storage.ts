import { Issues } from '../errors';
import { HOST_FIX, isHost } from '../hosts';
import { shortHash } from '../names';
import { PlatformContext } from '../platform/context';
import { checkCaCertificate } from '../platform/stores';
import { checkFactoryArgs } from '../prop-shapes';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';

/** A PostgreSQL server for the study, given by its parts (the password never enters a manifest). */
export interface PostgresStorageOptions {
  /** Host name or address. */
  readonly host: string;
  /** Port. @default 5432 */
  readonly port?: number;
  /** Database name. */
  readonly database: string;
  /** libpq `sslmode`. @default 'require' */
  readonly sslMode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  /**
   * The CA certificate(s) the server's certificate must chain to (PEM), from a key of a Secret in the
   * sweep's namespace. Required with `verify-ca` and `verify-full`: the sweep's Optuna containers mount
   * it and point libpq at it (`PGSSLROOTCERT`).
   * @default none
   */
  readonly caCertificate?: SecretKeyRef;
  /** User name, from a Secret in the sweep's namespace. */
  readonly username: SecretKeyRef;
  /** Password, from a Secret in the sweep's namespace. */
  readonly password: SecretKeyRef;
  /** PostgreSQL schema of the Optuna tables (created by the study-creation Job). @default {@link defaultStudySchema} */
  readonly schema?: string;
  /**
   * The server's `max_connections`: the sweep's workers (one connection each, plus the
   * study-creation Job's) must fit in it, less PostgreSQL's 3 superuser slots; synthesis fails otherwise.
   * @default 100 (PostgreSQL's default)
   */
  readonly maxConnections?: number;
}

/** Options of {@link StudyStorage.platform} and {@link StudyStorage.fromSecret}. */
export interface PlatformStorageOptions {
  /** PostgreSQL schema of the Optuna tables. @default {@link defaultStudySchema} */
  readonly schema?: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The default PostgreSQL schema of a namespace's studies: `optuna_<namespace>` ("-" becomes "_";
 * shortened with a hash past 63 characters). Optuna's tables live there, apart from MLflow's
 * tables (both use an `alembic_version` table, so they cannot share a schema), one schema per
 * tenant, so a tenant's dashboard shows only that tenant's studies.
 */
export function defaultStudySchema(namespace: string): string {
  const s = `optuna_${namespace.replace(/-/g, '_')}`;
  return s.length <= 63 ? s : `${s.slice(0, 54)}_${shortHash(namespace)}`;
}

/**
 * Where the Optuna study lives (RDB storage, PostgreSQL only: the workers serialize trial creation
 * with a PostgreSQL advisory lock).
 */
export type StudyStorageSpec =
  | {
    readonly kind: 'postgres';
    readonly host: string;
    readonly port: number;
    readonly database: string;
    /** The Secret key that holds the database name, when it comes from the tenant's Secret (then `database` is only a fallback). */
    readonly databaseRef?: SecretKeyRef;
    readonly sslMode: string;
    /** The CA bundle (PEM) in the sweep's namespace, mounted for libpq (`PGSSLROOTCERT`) with `verify-ca`/`verify-full`. */
    readonly caCertificate?: SecretKeyRef;
    readonly username: SecretKeyRef;
    readonly password: SecretKeyRef;
    /** PostgreSQL schema of the Optuna tables. */
    readonly schema: string;
    /** Labels of the database pods, when it runs in the cluster (for NetworkPolicy peers). */
    readonly podLabels?: Readonly<Record<string, string>>;
  }
  | {
    readonly kind: 'url';
    /** A Secret key holding a SQLAlchemy URL, `postgresql+psycopg2://user:password@host:5432/db`. */
    readonly url: SecretKeyRef;
    /** PostgreSQL schema of the Optuna tables. */
    readonly schema: string;
  };

/** Options of {@link StudyStorage.fromSecret}. */
export interface SecretStorageOptions extends PlatformStorageOptions {
  /**
   * The server's `max_connections`: the sweep's workers (one connection each, plus the
   * study-creation Job's) must fit in it, less PostgreSQL's 3 superuser slots; synthesis fails otherwise.
   * @default 100 (PostgreSQL's default)
   */
  readonly maxConnections?: number;
}

type Options = { kind: 'platform'; o: PlatformStorageOptions } | { kind: 'postgres'; o: PostgresStorageOptions } | { kind: 'url'; url: SecretKeyRef; o: SecretStorageOptions };

/** The study's database: the platform's PostgreSQL (default), another PostgreSQL, or a URL in a Secret. */
export class StudyStorage {
  /** The platform's PostgreSQL, with the credentials Secret the platform copies into each tenant namespace. */
  public static platform(options: PlatformStorageOptions = {}): StudyStorage {
    return checkFactoryArgs(new StudyStorage({ kind: 'platform', o: options }), 'StudyStorage.platform', { options });
  }
  /** Another PostgreSQL server, credentials from Secrets. */
  public static postgres(options: PostgresStorageOptions): StudyStorage {
    return checkFactoryArgs(new StudyStorage({ kind: 'postgres', o: options }), 'StudyStorage.postgres', { options });
  }
  /**
   * A complete SQLAlchemy URL kept in a Secret (`postgresql+psycopg2://…`), e.g. one an operator
   * such as CloudNativePG or Crunchy writes. Special characters in the password must be
   * percent-encoded in the URL.
   */
  public static fromSecret(url: SecretKeyRef, options: SecretStorageOptions = {}): StudyStorage {
    return checkFactoryArgs(new StudyStorage({ kind: 'url', url, o: options }), 'StudyStorage.fromSecret', { url, options });
  }

  private constructor(private readonly options: Options) {}

  /** @internal the declared `maxConnections` of a server other than the platform's (validated), or undefined. */
  public _connections(issues: Issues, path: string): { readonly maxConnections?: number } | undefined {
    const o = this.options;
    if (o.kind === 'platform') return undefined;
    const n = o.o.maxConnections;
    if (n !== undefined && (!Number.isInteger(n) || n < 20 || n > 100_000)) issues.add(`${path}.maxConnections`, n, "must be the server's max_connections, a whole number from 20 to 100000");
    return { maxConnections: n };
  }

  /** @internal validates and resolves against the platform (required for `platform()`). */
  public _resolve(issues: Issues, path: string, ctx: PlatformContext | undefined, namespace: string): StudyStorageSpec | undefined {
    const o = this.options;
    const schemaOf = (given: string | undefined) => {
      if (given !== undefined && !(typeof given === 'string' && SCHEMA.test(given))) issues.add(`${path}.schema`, given, 'must be a lowercase PostgreSQL identifier (letters, digits, "_"; at most 63), e.g. "optuna"');
      return given ?? defaultStudySchema(namespace);
    };
    if (o.kind === 'platform') {
      const schema = schemaOf(o.o.schema);
      if (!ctx) {
        issues.add(path, 'platform', 'needs `platform` (the platform PostgreSQL); without one give StudyStorage.postgres({...}) or StudyStorage.fromSecret({ name, key })');
        return undefined;
      }
      const d = ctx.database;
      return {
        kind: 'postgres',
        host: d.host,
        port: d.port,
        database: d.database,
        ...(d.credentials.keys.database ? { databaseRef: { name: d.credentials.name, key: d.credentials.keys.database } } : {}),
        sslMode: d.sslMode,
        ...(d.caCertificate ? { caCertificate: d.caCertificate } : {}),
        username: { name: d.credentials.name, key: d.credentials.keys.username },
        password: { name: d.credentials.name, key: d.credentials.keys.password },
        schema,
        podLabels: d.podLabels,
      };
    }
    if (o.kind === 'url') {
      const schema = schemaOf(o.o.schema);
      return checkSecretKeyRef(issues, `${path}.url`, o.url) ? { kind: 'url', url: o.url, schema } : undefined;
    }
    const p = o.o;
    const before = issues.all.length;
    if (typeof p.host !== 'string' || !isHost(p.host)) issues.add(`${path}.host`, p.host, HOST_FIX);
    const port = p.port ?? 5432;
    if (!Number.isInteger(port) || port < 1 || port > 65535) issues.add(`${path}.port`, p.port, 'must be a port from 1 to 65535');
    if (typeof p.database !== 'string' || !/^[A-Za-z0-9_$-]{1,63}$/.test(p.database)) issues.add(`${path}.database`, p.database, 'must be a database name (letters, digits, "_", "$" or "-", at most 63)');
    const sslMode = p.sslMode ?? 'require';
    if (!['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslMode)) issues.add(`${path}.sslMode`, p.sslMode, 'must be a libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full');
    checkCaCertificate(issues, path, sslMode, p.caCertificate);
    checkSecretKeyRef(issues, `${path}.username`, p.username);
    checkSecretKeyRef(issues, `${path}.password`, p.password);
    const schema = schemaOf(p.schema);
    if (issues.all.length > before) return undefined;
    return {
      kind: 'postgres',
      host: p.host,
      port,
      database: p.database,
      sslMode,
      ...(p.caCertificate !== undefined ? { caCertificate: p.caCertificate } : {}),
      username: p.username,
      password: p.password,
      schema,
    };
  }
}

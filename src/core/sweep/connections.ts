import { SweepSpec } from './sweep';
import { PlatformContext } from '../platform/context';
import { POSTGRES_DEFAULT_MAX_CONNECTIONS } from '../platform/stores';

/**
 * Server connections each sweep pod holds at most. The sweep program (src/programs/sweep_lib.py,
 * `CONNECTIONS_PER_PROCESS`) gives each worker and dashboard process one pooled connection
 * (SQLAlchemy QueuePool, `pool_size=1`, `max_overflow=0`) shared by its storage calls, its trial
 * heartbeat thread and the study's advisory lock; a pod's init container (the read-only wait probe,
 * one short connection at a time) has ended before the worker starts, so a pod never holds two. The
 * study-creation Job holds two for a moment: Optuna opens a session while it holds a connection
 * when it creates the tables (optuna/storages/_rdb/storage.py, `_VersionManager._init_alembic`).
 */
export const SWEEP_CONNECTIONS = Object.freeze({ perWorker: 1, studyCreation: 2, dashboard: 1 });

/** PostgreSQL's `superuser_reserved_connections` default: slots ordinary roles cannot use. */
export const POSTGRES_SUPERUSER_RESERVED_CONNECTIONS = 3;

/**
 * Connections kept free on the platform's database for its own services (the tracking server's
 * pools, the auth database, the bootstrap and backup Jobs, psql sessions), an assumption: sweeps on
 * the platform's database get `max_connections − 3 − 50`.
 */
export const PLATFORM_SERVICES_CONNECTIONS = 50;

/** The database a sweep's study lives in, as far as its connection limit goes. */
export interface StudyDatabaseLimit {
  /** Identifies the server and database (sweeps with the same key share the limit). */
  readonly key: string;
  /** Where it is declared, for people: e.g. `the platform's database`. */
  readonly description: string;
  /** The server's `max_connections`. */
  readonly maxConnections: number;
  /** Connections sweeps cannot use (superuser slots, the platform's services). */
  readonly reserved: number;
  /** What to raise to allow more, named in errors. */
  readonly limitProp: string;
}

/** Connections a sweep holds at most at once: one per worker, the study-creation Job's, the dashboard's. */
export function sweepConnections(spec: SweepSpec, o: { readonly dashboard?: boolean } = {}): number {
  return spec.budget.workers * SWEEP_CONNECTIONS.perWorker + SWEEP_CONNECTIONS.studyCreation + (o.dashboard ? SWEEP_CONNECTIONS.dashboard : 0);
}

/**
 * The connection limit of a sweep's study database: the platform's (its `BackendStore`'s
 * `maxConnections`, less what its services keep), or the sweep's own server's
 * (`StudyStorage.postgres/fromSecret({ maxConnections })`, PostgreSQL's default 100 when not given).
 */
export function studyDatabaseLimit(spec: SweepSpec, ctx: PlatformContext | undefined, own: { readonly maxConnections?: number } | undefined): StudyDatabaseLimit | undefined {
  const s = spec.storage;
  if (!s) return undefined;
  const d = ctx?.database;
  if (s.kind === 'postgres' && d && s.host === d.host && s.port === d.port && s.database === d.database && own === undefined) {
    return {
      key: `${d.host}:${d.port}/${d.database}`,
      description: `the platform's database (max_connections ${d.maxConnections ?? POSTGRES_DEFAULT_MAX_CONNECTIONS})`,
      maxConnections: d.maxConnections ?? POSTGRES_DEFAULT_MAX_CONNECTIONS,
      reserved: POSTGRES_SUPERUSER_RESERVED_CONNECTIONS + PLATFORM_SERVICES_CONNECTIONS,
      limitProp: "the platform's `backendStore` maxConnections (BackendStore.embedded/external({ maxConnections }))",
    };
  }
  const max = own?.maxConnections ?? POSTGRES_DEFAULT_MAX_CONNECTIONS;
  const key = s.kind === 'postgres' ? `${s.host}:${s.port}/${s.database}` : `secret:${spec.namespace}/${s.url.name}/${s.url.key}`;
  return {
    key,
    description: `the study database ${s.kind === 'postgres' ? key : `in Secret ${s.url.name}`} (max_connections ${max}${own?.maxConnections === undefined ? ", PostgreSQL's default" : ''})`,
    maxConnections: max,
    reserved: POSTGRES_SUPERUSER_RESERVED_CONNECTIONS,
    limitProp: '`storage` maxConnections (the server\'s max_connections)',
  };
}

/** Connections sweeps may use on a database. */
export function sweepConnectionBudget(limit: StudyDatabaseLimit): number {
  return limit.maxConnections - limit.reserved;
}

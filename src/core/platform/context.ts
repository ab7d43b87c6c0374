import { AddonName } from '../versions';
import type { PlatformAppsGateway } from './exposure';
import { GpuPoolSpec } from './pools';
import { TenantSpec } from './tenants';

/** Secret names and keys, valid in the platform namespace and in every tenant namespace. */
export interface SecretKeys {
  /** Secret name. */
  readonly name: string;
  /** Keys by role, e.g. `{ username: 'username', password: 'password' }`. */
  readonly keys: Readonly<Record<string, string>>;
}

/**
 * Everything TrainingPipeline, TuningSweep and ModelEndpoint need from a platform. `MlPlatform`
 * provides one; a team without an MlPlatform builds one by hand from its own services
 * (composability).
 */
export interface PlatformContext {
  /** Platform name (prefix of its objects). */
  readonly name: string;
  /** Namespace of the shared services. */
  readonly namespace: string;
  /** The MLflow tracking server. */
  readonly tracking: {
    /** In-cluster URI, e.g. `http://ml-tracking.mlplatform.svc.cluster.local:5000`. */
    readonly uri: string;
    /** Authentication mode workloads must satisfy. */
    readonly auth: 'basic' | 'oidc' | 'disabled';
    /** MLflow credentials (`username`, `password`) in each tenant namespace, with basic auth. */
    readonly credentials?: SecretKeys;
    /** Labels of the tracking pods (for NetworkPolicy peers). */
    readonly podLabels: Readonly<Record<string, string>>;
    /** Port workloads use. */
    readonly port: number;
  };
  /** The S3-compatible object store. */
  readonly store: {
    /** `s3://bucket/prefix` root of everything the platform stores. */
    readonly root: string;
    readonly bucket: string;
    /** Key prefix ('' for the bucket root). */
    readonly prefix: string;
    readonly region: string;
    /** Endpoint URL for S3-compatible stores; undefined for AWS S3. */
    readonly endpoint?: string;
    /** Whether the endpoint is plain HTTP. */
    readonly insecure: boolean;
    /** Access keys (`accessKeyId`, `secretAccessKey`) in each tenant namespace, unless workload identity is used. */
    readonly credentials?: SecretKeys;
    /** Annotations a workload's ServiceAccount needs for workload identity. */
    readonly serviceAccountAnnotations?: Readonly<Record<string, string>>;
    /** Labels of the embedded store's pods (for NetworkPolicy peers), when embedded. */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** Port of the embedded store. */
    readonly port: number;
  };
  /** PostgreSQL for sweeps (Optuna RDB storage). */
  readonly database: {
    readonly host: string;
    readonly port: number;
    /** Database name, unless `credentials.keys.database` names the Secret key that holds each tenant's own. */
    readonly database: string;
    readonly sslMode: string;
    /**
     * The server's CA bundle (PEM), a Secret key valid in each tenant namespace, with `verify-ca`/`verify-full`:
     * sweeps mount it and point libpq at it (`PGSSLROOTCERT`). MlPlatform's bootstrap copies it there.
     * @default none
     */
    readonly caCertificate?: { readonly name: string; readonly key: string };
    /**
     * `username` and `password` (and optionally `database`) in each tenant namespace: with MlPlatform, the
     * tenant's own role, owner of its own study database, never the platform's login.
     */
    readonly credentials: SecretKeys;
    /** Labels of the embedded database's pods, when embedded. */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** The server's `max_connections`, which sweeps must fit in. @default 100 (PostgreSQL's default) */
    readonly maxConnections?: number;
  };
  /** Declared GPU pools. */
  readonly pools: readonly GpuPoolSpec[];
  /** Declared tenants. */
  readonly tenants: readonly TenantSpec[];
  /** Add-ons installed (or declared pre-installed) on the cluster. */
  readonly addons: ReadonlySet<AddonName>;
  /**
   * How the platform is reached from outside: the Gateway its routes attach to (endpoints attach
   * theirs there too), or the IngressClass it uses.
   * @default { kind: 'none' }
   */
  readonly exposure?: PlatformExposure;
}

/** The platform's exposure, as workloads that publish routes need it. */
export type PlatformExposure =
  | { readonly kind: 'none' }
  | {
    readonly kind: 'gateway';
    /** The Gateway (and, for the platform's own Gateway, the listener) the tracking UI's HTTPRoute attaches to. */
    readonly gateway: { readonly name: string; readonly namespace: string; readonly sectionName?: string };
    /** Whether the listener terminates TLS. */
    readonly https: boolean;
    /** Public host of the tracking UI (apps routes may not claim it). @default unknown */
    readonly host?: string;
    /**
     * The platform Gateway's listeners for applications, which admit routes from tenant
     * namespaces: endpoints and sweep dashboards that name no Gateway attach there.
     * @default none: workloads must name a Gateway
     */
    readonly apps?: PlatformAppsGateway;
  }
  | { readonly kind: 'ingress'; readonly className: string; readonly tls?: { readonly clusterIssuer?: string; readonly issuer?: string } };

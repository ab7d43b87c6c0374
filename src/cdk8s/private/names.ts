import { childName } from '../../core';

/** The object names of one platform's shared services, derived once from its name. */
export interface PlatformNames {
  readonly tracking: string;
  readonly postgres: string;
  readonly store: string;
  readonly bootstrap: string;
  readonly backup: string;
  /** Secret: `password` (and `username`) of the embedded database. */
  readonly postgresSecret: string;
  /** Secret: `accessKeyId`, `secretAccessKey`, `s3.json` of the embedded store. */
  readonly storeSecret: string;
  /** Secret: `username`, `password` of the MLflow admin (generated when not given). */
  readonly adminSecret: string;
  /** Secret: `username`, `password` of the tracking server's own database role (generated). */
  readonly trackingDatabaseSecret: string;
  /** Secret: `backend-store-uri`, `basic_auth.ini`, `flask-secret-key` composed by the bootstrap Job. */
  readonly trackingConfigSecret: string;
  /** Secret: `password` OAuth2 Proxy sends upstream for the people it signed in (OIDC mode). */
  readonly oidcProxySecret: string;
  /** ConfigMap: MLflow's OIDC-mode authorization function and its group mapping. */
  readonly oidcConfig: string;
  /** Secret in each tenant namespace: `accessKeyId`, `secretAccessKey`. */
  readonly tenantStoreSecret: string;
  /** Secret in each tenant namespace: `username`, `password`, `database` of the tenant's own database role. */
  readonly tenantDatabaseSecret: string;
  /** Secret in each tenant namespace: `username`, `password` of the tenant's MLflow user. */
  readonly tenantTrackingSecret: string;
  /** Secret in each tenant namespace: `ca.crt`, the external database's CA bundle (copied with verify-ca/verify-full). */
  readonly tenantDatabaseCaSecret: string;
}

/** Names for platform `name`. */
export function platformNames(name: string): PlatformNames {
  return {
    tracking: childName(name, 'tracking'),
    postgres: childName(name, 'postgres'),
    store: childName(name, 's3'),
    bootstrap: childName(name, 'bootstrap'),
    backup: childName(name, 'backup', 52),
    postgresSecret: childName(name, 'postgres-credentials'),
    storeSecret: childName(name, 's3-credentials'),
    adminSecret: childName(name, 'mlflow-admin'),
    trackingDatabaseSecret: childName(name, 'tracking-database'),
    trackingConfigSecret: childName(name, 'tracking-config'),
    oidcProxySecret: childName(name, 'oidc-proxy'),
    oidcConfig: childName(name, 'tracking-oidc'),
    tenantStoreSecret: childName(name, 'store'),
    tenantDatabaseSecret: childName(name, 'database'),
    tenantTrackingSecret: childName(name, 'tracking'),
    tenantDatabaseCaSecret: childName(name, 'database-ca'),
  };
}

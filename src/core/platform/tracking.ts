import { Issues } from '../errors';
import { checkFactoryArgs } from '../prop-shapes';
import { checkSecretKeyRef, SecretKeyRef } from '../secrets';

/** MLflow basic-auth options. */
export interface BasicAuthOptions {
  /**
   * The admin user's name and password, from an existing Secret (same namespace as the platform).
   * @default generated in the cluster by the credentials bootstrap Job into Secret `<platform>-mlflow-admin`
   */
  readonly admin?: { readonly username: SecretKeyRef; readonly password: SecretKeyRef };
  /**
   * Permission users have on resources they did not create. Each tenant has its own MLflow user, so
   * with the default a tenant sees only what it created and what was shared with it
   * (`MlPlatform.shareRegisteredModel`); `READ` lets every tenant read every other tenant's
   * experiments and models.
   * @default 'NO_PERMISSIONS'
   */
  readonly defaultPermission?: 'READ' | 'EDIT' | 'MANAGE' | 'NO_PERMISSIONS';
}

/**
 * OIDC login through OAuth2 Proxy in front of the tracking UI. MLflow still runs its basic-auth app,
 * so its API port admits no request without a login: tenant pods use their tenant's MLflow user, and a
 * person who signed in through the proxy acts as the MLflow user their groups map to (see
 * `adminGroups` and the tenants' `access` groups).
 */
export interface OidcAuthOptions {
  /** OIDC issuer URL, e.g. `https://login.example.com/realms/ml`. */
  readonly issuerUrl: string;
  /** OAuth client id. */
  readonly clientId: string;
  /** OAuth client secret, from a Secret. */
  readonly clientSecret: SecretKeyRef;
  /** Cookie encryption secret (16, 24 or 32 bytes), from a Secret. */
  readonly cookieSecret: SecretKeyRef;
  /**
   * Email domains allowed in, e.g. `['example.com']`. Required: `['*']` (any account the issuer knows)
   * only together with `allowedGroups`.
   */
  readonly emailDomains: readonly string[];
  /** Groups allowed in (the `groups` claim). @default any group of the admitted domains */
  readonly allowedGroups?: readonly string[];
  /**
   * Groups whose members act as the MLflow admin. Everyone else acts as the MLflow user of the first
   * tenant (in declaration order) whose `access.admins` or `access.editors` holds one of their groups,
   * and is refused (403) when there is none.
   * @default none
   */
  readonly adminGroups?: readonly string[];
}

/** The validated authentication mode. */
export type TrackingAuthSpec =
  | { readonly kind: 'basic'; readonly admin?: { readonly username: SecretKeyRef; readonly password: SecretKeyRef }; readonly defaultPermission: string }
  | {
    readonly kind: 'oidc';
    readonly issuerUrl: string;
    readonly clientId: string;
    readonly clientSecret: SecretKeyRef;
    readonly cookieSecret: SecretKeyRef;
    readonly emailDomains: readonly string[];
    readonly allowedGroups: readonly string[];
    readonly adminGroups: readonly string[];
    /** Always NO_PERMISSIONS: people act as their tenant's user. */
    readonly defaultPermission: string;
  }
  | { readonly kind: 'disabled'; readonly reason: string };

/** How users authenticate to the tracking server. On by default; off only when said explicitly. */
export class TrackingAuth {
  /** MLflow's built-in basic-auth app (`--app-name basic-auth`) with per-experiment permissions. */
  public static basic(options: BasicAuthOptions = {}): TrackingAuth {
    return checkFactoryArgs(new TrackingAuth({ kind: 'basic', ...options }), 'TrackingAuth.basic', { options });
  }
  /** OAuth2 Proxy (OIDC) in front of the UI port; in-cluster API access stays on the API port. */
  public static oidc(options: OidcAuthOptions): TrackingAuth {
    return checkFactoryArgs(new TrackingAuth({ kind: 'oidc', ...options }), 'TrackingAuth.oidc', { options });
  }
  /**
   * No authentication. Anyone who can reach the server can read and change every experiment and
   * model. `reason` is required and ends up as an annotation on the Deployment.
   */
  public static disabled(reason: string): TrackingAuth {
    return checkFactoryArgs(new TrackingAuth({ kind: 'disabled', reason }), 'TrackingAuth.disabled', { reason });
  }

  private constructor(private readonly options: any) {}

  /** @internal */
  public _resolve(issues: Issues, path: string): TrackingAuthSpec {
    const o = this.options;
    if (o.kind === 'disabled') {
      if (typeof o.reason !== 'string' || o.reason.trim().length < 3) issues.add(`${path}.reason`, o.reason, 'say why authentication is off (e.g. "behind the corporate VPN proxy")');
      return { kind: 'disabled', reason: o.reason };
    }
    if (o.kind === 'basic') {
      const defaultPermission = o.defaultPermission ?? 'NO_PERMISSIONS';
      if (!['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'].includes(defaultPermission)) issues.add(`${path}.defaultPermission`, defaultPermission, 'must be READ, EDIT, MANAGE or NO_PERMISSIONS');
      if (o.admin !== undefined) {
        checkSecretKeyRef(issues, `${path}.admin.username`, o.admin.username);
        checkSecretKeyRef(issues, `${path}.admin.password`, o.admin.password);
      }
      return { kind: 'basic', admin: o.admin, defaultPermission };
    }
    if (typeof o.issuerUrl !== 'string' || !/^https:\/\/[^\s]+$/.test(o.issuerUrl)) issues.add(`${path}.issuerUrl`, o.issuerUrl, 'must be the https URL of the OIDC issuer');
    if (typeof o.clientId !== 'string' || o.clientId.length === 0) issues.add(`${path}.clientId`, o.clientId, 'must be the OAuth client id');
    checkSecretKeyRef(issues, `${path}.clientSecret`, o.clientSecret);
    checkSecretKeyRef(issues, `${path}.cookieSecret`, o.cookieSecret);
    const list = (name: string, v: unknown, required: boolean): string[] => {
      if (v === undefined && !required) return [];
      if (!Array.isArray(v) || (required && v.length === 0)) {
        issues.add(`${path}.${name}`, v, required ? 'must list the e-mail domains to admit, e.g. ["example.com"]' : 'must be a list of group names');
        return [];
      }
      // oauth2-proxy reads an empty --allowed-group list as "no group restriction", and no admin group as
      // "nobody is admin": an empty list given on purpose says the opposite of what it does.
      if (v.length === 0) {
        issues.add(`${path}.${name}`, v, name === 'allowedGroups'
          ? 'is empty, which oauth2-proxy reads as "any group": name the groups to admit, or omit allowedGroups'
          : 'is empty: name the groups, or omit the prop');
        return [];
      }
      v.forEach((x, i) => {
        if (typeof x !== 'string' || x.trim() === '' || /[\s,]/.test(x)) issues.add(`${path}.${name}[${i}]`, x, 'must be a non-empty name without spaces or commas');
      });
      return v.filter((x) => typeof x === 'string');
    };
    const emailDomains = list('emailDomains', o.emailDomains, true);
    const allowedGroups = list('allowedGroups', o.allowedGroups, false);
    const adminGroups = list('adminGroups', o.adminGroups, false);
    if (emailDomains.includes('*') && allowedGroups.length === 0) {
      issues.add(`${path}.emailDomains`, emailDomains, 'admits every account of the issuer: name the domains, or keep "*" and restrict with allowedGroups');
    }
    return { kind: 'oidc', issuerUrl: o.issuerUrl, clientId: o.clientId, clientSecret: o.clientSecret, cookieSecret: o.cookieSecret, emailDomains, allowedGroups, adminGroups, defaultPermission: 'NO_PERMISSIONS' };
  }
}

/** The MLflow tracking server and model registry. */
export interface TrackingOptions {
  /** Replicas when not autoscaled. @default 1 */
  readonly replicas?: number;
  /** uvicorn worker processes per replica. @default 2 */
  readonly workers?: number;
  /**
   * Extra options for the web server, passed as `--uvicorn-opts` (MLflow 3 serves with uvicorn;
   * `--gunicorn-opts` is deprecated there), e.g. `'--timeout-keep-alive 120'`.
   * @default none
   */
  readonly serverOptions?: string;
  /** Horizontal autoscaling on CPU. @default no autoscaling */
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly cpuUtilization?: number };
  /** Authentication. @default TrackingAuth.basic() */
  readonly auth?: TrackingAuth;
}

/** The validated tracking server. */
export interface TrackingSpec {
  /** Replicas (the HPA's minimum when autoscaled). */
  readonly replicas: number;
  /** Workers per replica. */
  readonly workers: number;
  /** Extra `--uvicorn-opts`. */
  readonly serverOptions?: string;
  /** Autoscaling, when on. */
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly cpuUtilization: number };
  /** Authentication. */
  readonly auth: TrackingAuthSpec;
}

/** Validates tracking options. */
export function resolveTracking(issues: Issues, path: string, o: TrackingOptions = {}): TrackingSpec {
  const replicas = o.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) issues.add(`${path}.replicas`, o.replicas, 'must be a whole number ≥ 1');
  const workers = o.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > 32) issues.add(`${path}.workers`, o.workers, 'must be a whole number from 1 to 32');
  let autoscaling: TrackingSpec['autoscaling'];
  if (o.autoscaling) {
    const a = o.autoscaling;
    const cpuUtilization = a.cpuUtilization ?? 70;
    if (!Number.isInteger(a.minReplicas) || a.minReplicas < 1) issues.add(`${path}.autoscaling.minReplicas`, a.minReplicas, 'must be a whole number ≥ 1');
    if (!Number.isInteger(a.maxReplicas) || a.maxReplicas < a.minReplicas) issues.add(`${path}.autoscaling.maxReplicas`, a.maxReplicas, `must be a whole number ≥ minReplicas (${a.minReplicas})`);
    if (!Number.isInteger(cpuUtilization) || cpuUtilization < 1 || cpuUtilization > 100) issues.add(`${path}.autoscaling.cpuUtilization`, cpuUtilization, 'must be a percentage from 1 to 100');
    if (o.replicas !== undefined) issues.add(`${path}.replicas`, o.replicas, 'conflicts with autoscaling: set autoscaling.minReplicas instead');
    autoscaling = { minReplicas: a.minReplicas, maxReplicas: a.maxReplicas, cpuUtilization };
  }
  if (o.serverOptions !== undefined && (typeof o.serverOptions !== 'string' || o.serverOptions.trim() === '' || /[\n\r]/.test(o.serverOptions))) {
    issues.add(`${path}.serverOptions`, o.serverOptions, 'must be one line of uvicorn options, e.g. "--timeout-keep-alive 120"');
  }
  const auth = (o.auth ?? TrackingAuth.basic())._resolve(issues, `${path}.auth`);
  return { replicas: autoscaling?.minReplicas ?? replicas, workers, serverOptions: o.serverOptions, autoscaling, auth };
}

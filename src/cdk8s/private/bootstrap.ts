import { Lazy } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PlatformNames } from './names';
import { Json, K8sObject, kube, KUBE, ObjectBody } from './object';
import { appLabels, container, databaseCa, emptyDir, podSpec, resources } from './pod';
import { program } from './programs';
import { shortHash } from '../../core';

/**
 * An INI file the bootstrap writes into a Secret from the Secret's own keys (bootstrap.py `ini_file`):
 * one `section`, each option the value of a key of the same Secret; `interpolation` doubles `%` for a
 * reader that uses `configparser.ConfigParser` (MLflow), none for `RawConfigParser` (botocore).
 */
export interface IniFile {
  readonly section: string;
  /** Option → key of the same Secret. */
  readonly values: Record<string, string>;
  readonly interpolation: boolean;
}

/** Key of the INI credentials file in a tenant's store and tracking Secrets (the users' containers mount it). */
export const CREDENTIALS_FILE_KEY = 'credentials';

/** The AWS shared credentials file (`[default]`, read by botocore's SharedCredentialProvider and every AWS SDK) of a Secret's `accessKeyId`/`secretAccessKey`. */
export function awsCredentialsFile(): Record<string, IniFile> {
  return { [CREDENTIALS_FILE_KEY]: { section: 'default', values: { aws_access_key_id: 'accessKeyId', aws_secret_access_key: 'secretAccessKey' }, interpolation: false } };
}

/** MLflow's `~/.mlflow/credentials` (`[mlflow]`, mlflow/utils/credentials.py) of a Secret's `username`/`password`. */
export function mlflowCredentialsFile(): Record<string, IniFile> {
  return { [CREDENTIALS_FILE_KEY]: { section: 'mlflow', values: { mlflow_tracking_username: 'username', mlflow_tracking_password: 'password' }, interpolation: true } };
}

/** A Secret to create when absent: each key a fixed value or random hex of `randomBytes` bytes. */
export interface GeneratedSecret {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Record<string, { value: string } | { randomBytes: number }>;
  /** INI files made of its keys (written too when a kept Secret lacks them). */
  readonly files?: Record<string, IniFile>;
  /** Replace an existing Secret whose fixed values differ or whose random keys are missing (instead of keeping it). */
  readonly replaceWhenDifferent?: boolean;
}
/** A Secret rewritten on every run from templates over other Secrets (`{{secret:ns/name:key|url}}`). */
export interface ComposedSecret {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Record<string, string>;
  /** INI files made of its rendered keys. */
  readonly files?: Record<string, IniFile>;
}
/** A copy of some keys of a Secret into another namespace (`keys`: target key → source key). */
export interface CopiedSecret {
  readonly from: { readonly namespace: string; readonly name: string };
  readonly to: { readonly namespace: string; readonly name: string };
  readonly keys: Record<string, string>;
}
/** A login of the database, kept in a Secret (`usernameKey`, `passwordKey`). */
export interface DatabaseLogin {
  readonly namespace: string;
  readonly name: string;
  readonly usernameKey: string;
  readonly passwordKey: string;
}
/** A role the bootstrap creates (or keeps) with the password of a generated Secret. */
export interface DatabaseRole {
  readonly role: string;
  readonly secret: { readonly namespace: string; readonly name: string; readonly passwordKey: string };
  /** The role's own database (a tenant's study database). */
  readonly database?: string;
}
/** The database roles and databases the bootstrap sets up with the admin login. */
export interface DatabasePlan {
  readonly host: string;
  readonly port: number;
  /** The MLflow database: owned by the tracking role, no CONNECT for anyone else. */
  readonly database: string;
  readonly sslMode: string;
  /** Path of the CA bundle for `verify-ca`/`verify-full`, mounted into the bootstrap pod. */
  readonly sslRootCert?: string;
  /** The superuser (embedded) or master user (external): never copied out of the platform namespace. */
  readonly admin: DatabaseLogin;
  readonly tracking: DatabaseRole;
  readonly tenants: (DatabaseRole & { readonly database: string })[];
}
/** The whole plan the bootstrap program carries out. */
export interface BootstrapPlan {
  labels: Record<string, string>;
  generate: GeneratedSecret[];
  compose: ComposedSecret[];
  copy: CopiedSecret[];
  database?: DatabasePlan;
  /** Workloads to restart when a run changes the composed Secret they read only at start. */
  restarts?: { secret: { namespace: string; name: string }; workload: { resource: 'statefulsets' | 'deployments'; namespace: string; name: string } }[];
  bucket?: { name: string; endpoint: string; region: string; credentials: { namespace: string; name: string; accessKeyIdKey: string; secretAccessKeyKey: string } };
  mlflowUsers?: {
    uri: string;
    admin: { namespace: string; name: string; usernameKey: string; passwordKey: string };
    /** Each user's Secret holds `username`, `password` and its `files`. */
    users: { username: string; secret: { namespace: string; name: string }; files?: Record<string, IniFile> }[];
    /** Permissions given with the admin login (MLflow 3's `users/permissions/grant`), e.g. READ on a shared model. */
    grants: { username: string; resourceType: 'registered_model' | 'experiment'; resourceId: string; permission: 'READ' | 'EDIT' | 'MANAGE' }[];
    /**
     * Experiments shared read-only (`MlPlatform.shareExperiment`), by name: MLflow keys experiment permissions
     * by id, which the bootstrap looks up (creating the experiment for its owner when it does not exist yet).
     */
    experimentShares?: { name: string; owner: string; readers: string[] }[];
  };
}

/** Template reference to another Secret's key; `url` percent-encodes it, `ini` escapes `%` for configparser. */
export function secretRef(namespace: string, name: string, key: string, url = false, ini = false): string {
  return `{{secret:${namespace}/${name}:${key}${url ? '|url' : ''}${ini ? '|ini' : ''}}}`;
}

/** What the bootstrap renderer needs. */
export interface BootstrapInput {
  readonly platform: string;
  readonly namespace: string;
  readonly names: PlatformNames;
  readonly image: string;
  readonly plan: BootstrapPlan;
  /** Completes the plan from what the app declared after the platform (run at synthesis, before the plan is rendered). */
  readonly finalize?: () => void;
  /**
   * The database's CA bundle (a Secret key in the namespace), mounted at `DATABASE_CA_PATH`, which the
   * plan's `database.sslRootCert` names, with `verify-ca`/`verify-full`.
   */
  readonly databaseCa?: { readonly name: string; readonly key: string };
}

/** The Job's name: the base name plus a hash of the plan, so the Job runs again exactly when the plan changes. */
class PlanJob extends K8sObject {
  constructor(scope: Construct, id: string, props: Json<k8s.KubeJobProps>, private readonly base: string, private readonly plan: () => BootstrapPlan) {
    super(scope, id, Object.assign({}, props as ObjectBody, { apiVersion: KUBE.Job.apiVersion, kind: KUBE.Job.kind }));
  }
  public toJson(): any {
    const json = super.toJson();
    json.metadata.name = `${this.base}-${shortHash(JSON.stringify(this.plan()))}`;
    return json;
  }
}

/**
 * The credentials bootstrap: a Job (MLflow image, Python stdlib + boto3) that generates every
 * password and key inside the cluster, so no credential is ever written into the manifests. The
 * Secrets it writes are in the manifests, empty; its ServiceAccount may only read and replace the
 * Secrets the plan names (no `create`), in the platform namespace and (through
 * {@link Bootstrap.grantNamespace}) in each tenant namespace.
 */
export class Bootstrap extends Construct {
  private readonly secretNames = new Map<string, Set<string>>();
  /** Workloads the bootstrap may restart, by namespace and resource. */
  private readonly restartable = new Map<string, Map<string, Set<string>>>();
  private readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, private readonly input: BootstrapInput) {
    super(scope, id);
    const { names, namespace } = input;
    this.labels = appLabels(names.bootstrap, 'credentials-bootstrap', input.platform);
    kube(this, 'sa', KUBE.ServiceAccount, {
      metadata: { name: names.bootstrap, namespace, labels: this.labels },
      automountServiceAccountToken: false,
    });
    kube(this, 'program', KUBE.ConfigMap, {
      metadata: { name: names.bootstrap, namespace, labels: this.labels },
      data: {
        'bootstrap.py': program('bootstrap.py').text,
        'plan.json': Lazy.any({ produce: () => JSON.stringify(this.finalPlan(), null, 2) }) as any,
      },
    });
    this.grantNamespace(namespace);
    const ca = databaseCa(input.databaseCa);
    new PlanJob(this, 'job', {
      metadata: { name: names.bootstrap, namespace, labels: this.labels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels: this.labels },
          spec: podSpec({
            serviceAccountName: names.bootstrap,
            automountServiceAccountToken: true,
            runAsUser: 1000,
            restartPolicy: 'Never',
            containers: [container({
              name: 'bootstrap',
              image: input.image,
              command: ['python', '/etc/bootstrap/bootstrap.py'],
              env: [{ name: 'HOME', value: '/tmp' }, { name: 'PLAN', value: '/etc/bootstrap/plan.json' }, ...ca.env],
              resources: resources('50m', '500m', '128Mi', '256Mi'),
              volumeMounts: [{ name: 'program', mountPath: '/etc/bootstrap', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }, ...ca.mounts],
            })],
            volumes: [{ name: 'program', configMap: { name: names.bootstrap } }, emptyDir('tmp', '64Mi'), ...ca.volumes],
          }),
        },
      },
    }, names.bootstrap, () => this.finalPlan());
  }

  /** The plan, completed by the platform's finalizer. */
  private finalPlan(): BootstrapPlan {
    this.input.finalize?.();
    return this.input.plan;
  }

  /** Lets the bootstrap create Secrets in `namespace` and read/replace the ones the plan names there. */
  public grantNamespace(namespace: string): void {
    if (this.secretNames.has(namespace)) return;
    const names = new Set<string>();
    this.secretNames.set(namespace, names);
    const id = namespace === this.input.namespace ? 'rbac' : `rbac-${namespace}`;
    const roleName = this.input.names.bootstrap;
    kube(this, `${id}-role`, KUBE.Role, {
      metadata: { name: roleName, namespace, labels: this.labels },
      rules: Lazy.any({
        produce: () => [
          // No `create` (which Kubernetes cannot limit by name): the Secrets it writes are in the manifests, empty.
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: [...names].sort() },
          ...[...(this.restartable.get(namespace) ?? new Map<string, Set<string>>())].sort(([a], [b]) => a.localeCompare(b)).map(([resource, workloads]) => (
            { apiGroups: ['apps'], resources: [resource], verbs: ['patch'], resourceNames: [...workloads].sort() })),
        ],
      }) as any,
    });
    kube(this, `${id}-binding`, KUBE.RoleBinding, {
      metadata: { name: roleName, namespace, labels: this.labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: this.input.names.bootstrap, namespace: this.input.namespace }],
    });
  }

  /** Lets the bootstrap restart (patch the pod template of) one workload. */
  public allowRestart(namespace: string, resource: 'statefulsets' | 'deployments', name: string): void {
    this.grantNamespace(namespace);
    const byResource = this.restartable.get(namespace) ?? new Map<string, Set<string>>();
    this.restartable.set(namespace, byResource);
    byResource.set(resource, (byResource.get(resource) ?? new Set<string>()).add(name));
  }

  /**
   * Records that the plan writes Secret `name` in `namespace`: the manifests create it empty (type
   * Opaque, no data: no credential is ever written here), so the bootstrap only updates it.
   */
  public writesSecret(namespace: string, name: string): void {
    this.useSecret(namespace, name);
    const id = `secret-${namespace}-${name}`;
    if (this.node.tryFindChild(id)) return;
    kube(this, id, KUBE.Secret, { metadata: { name, namespace, labels: { ...this.input.plan.labels } }, type: 'Opaque' });
  }

  /** Every Secret the plan writes (generated, composed, copied, MLflow users'), created empty in the manifests. */
  public writesPlannedSecrets(): void {
    const p = this.input.plan;
    for (const g of p.generate) this.writesSecret(g.namespace, g.name);
    for (const c of p.compose) this.writesSecret(c.namespace, c.name);
    for (const c of p.copy) this.writesSecret(c.to.namespace, c.to.name);
    for (const u of p.mlflowUsers?.users ?? []) this.writesSecret(u.secret.namespace, u.secret.name);
  }

  /** Records that the plan reads or writes Secret `name` in `namespace` (for the Role's resourceNames). */
  public useSecret(namespace: string, name: string): void {
    this.grantNamespace(namespace);
    this.secretNames.get(namespace)!.add(name);
  }
}

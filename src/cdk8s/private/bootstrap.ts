import { Lazy } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PlatformNames } from './names';
import { Json, K8sObject, kube, KUBE, ObjectBody } from './object';
import { appLabels, container, emptyDir, podSpec, resources } from './pod';
import { program } from './programs';
import { shortHash } from '../../core';

/** A Secret to create when absent: each key a fixed value or random hex of `randomBytes` bytes. */
export interface GeneratedSecret {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Record<string, { value: string } | { randomBytes: number }>;
}
/** A Secret rewritten on every run from templates over other Secrets (`{{secret:ns/name:key|url}}`). */
export interface ComposedSecret {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Record<string, string>;
}
/** A copy of some keys of a Secret into another namespace (`keys`: target key → source key). */
export interface CopiedSecret {
  readonly from: { readonly namespace: string; readonly name: string };
  readonly to: { readonly namespace: string; readonly name: string };
  readonly keys: Record<string, string>;
}
/** The whole plan the bootstrap program carries out. */
export interface BootstrapPlan {
  labels: Record<string, string>;
  generate: GeneratedSecret[];
  compose: ComposedSecret[];
  copy: CopiedSecret[];
  bucket?: { name: string; endpoint: string; region: string; credentials: { namespace: string; name: string; accessKeyIdKey: string; secretAccessKeyKey: string } };
  mlflowUsers?: {
    uri: string;
    admin: { namespace: string; name: string; usernameKey: string; passwordKey: string };
    users: { username: string; secret: { namespace: string; name: string } }[];
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
}

/** The Job's name: the base name plus a hash of the plan, so the Job runs again exactly when the plan changes. */
class PlanJob extends K8sObject {
  constructor(scope: Construct, id: string, props: Json<k8s.KubeJobProps>, private readonly base: string, private readonly plan: BootstrapPlan) {
    super(scope, id, Object.assign({}, props as ObjectBody, { apiVersion: KUBE.Job.apiVersion, kind: KUBE.Job.kind }));
  }
  public toJson(): any {
    const json = super.toJson();
    json.metadata.name = `${this.base}-${shortHash(JSON.stringify(this.plan))}`;
    return json;
  }
}

/**
 * The credentials bootstrap: a Job (MLflow image, Python stdlib + boto3) that generates every
 * password and key inside the cluster, so no credential is ever written into the manifests. Its
 * ServiceAccount may only create Secrets and read/replace the ones the plan names, in the platform
 * namespace and (through {@link Bootstrap.grantNamespace}) in each tenant namespace.
 */
export class Bootstrap extends Construct {
  private readonly secretNames = new Map<string, Set<string>>();
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
        'plan.json': Lazy.any({ produce: () => JSON.stringify(input.plan, null, 2) }) as any,
      },
    });
    this.grantNamespace(namespace);
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
              env: [{ name: 'HOME', value: '/tmp' }, { name: 'PLAN', value: '/etc/bootstrap/plan.json' }],
              resources: resources('50m', '500m', '128Mi', '256Mi'),
              volumeMounts: [{ name: 'program', mountPath: '/etc/bootstrap', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
            })],
            volumes: [{ name: 'program', configMap: { name: names.bootstrap } }, emptyDir('tmp', '64Mi')],
          }),
        },
      },
    }, names.bootstrap, input.plan);
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
      rules: [
        // Creation cannot be limited by name (the API server authorizes it before the name is known).
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: Lazy.any({ produce: () => [...names].sort() }) as any },
      ],
    });
    kube(this, `${id}-binding`, KUBE.RoleBinding, {
      metadata: { name: roleName, namespace, labels: this.labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: this.input.names.bootstrap, namespace: this.input.namespace }],
    });
  }

  /** Records that the plan reads or writes Secret `name` in `namespace` (for the Role's resourceNames). */
  public useSecret(namespace: string, name: string): void {
    this.grantNamespace(namespace);
    this.secretNames.get(namespace)!.add(name);
  }
}

/**
 * The access matrix of a platform, asked of the real API server's authorizer
 * (SubjectAccessReviews against the RBAC objects we applied and the built-in admin/edit/view
 * ClusterRoles of the API server's bootstrap policy).
 */
import { Kube, Manifest } from './kube';

/** A subject: a user with groups (a ServiceAccount is `system:serviceaccount:<ns>:<name>`). */
export interface Subject {
  readonly label: string;
  readonly user: string;
  readonly groups: readonly string[];
}

/** The subject of a ServiceAccount, with the groups the token authenticator gives it. */
export function serviceAccountSubject(namespace: string, name: string): Subject {
  return {
    label: `sa ${namespace}/${name}`,
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** The subject of a member of `group` (an OIDC group bound by a tenant's access). */
export function groupSubject(group: string): Subject {
  return { label: `group ${group}`, user: `member-of-${group}`, groups: [group, 'system:authenticated'] };
}

/** One question and the server's answer. */
export interface AccessAnswer {
  readonly subject: string;
  readonly verb: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
  readonly allowed: boolean;
}

/** Asks the server whether each subject may `verb` `resource` in each namespace (optionally one object `name`). */
export async function ask(kube: Kube, subjects: readonly Subject[], verbs: readonly string[], resource: string,
  namespaces: readonly string[], name?: string, group = ''): Promise<AccessAnswer[]> {
  const out: AccessAnswer[] = [];
  for (const s of subjects) {
    for (const namespace of namespaces) {
      for (const verb of verbs) {
        const allowed = await kube.can(s.user, s.groups, { verb, resource, group, namespace, name });
        out.push({ subject: s.label, verb, resource, namespace, name, allowed });
      }
    }
  }
  return out;
}

/** ServiceAccounts among `objects`, by namespace. */
export function serviceAccounts(objects: readonly Manifest[]): Subject[] {
  return objects.filter((o) => o.kind === 'ServiceAccount').map((o) => serviceAccountSubject(o.metadata.namespace!, o.metadata.name));
}

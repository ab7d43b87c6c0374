// A small evaluator of IAM role trust policies, for the requests EKS Pod Identity and IRSA make: it
// encodes the parts of IAM's documented rules those requests touch, so tests can ask "would STS let
// this pod assume the role?" of the policy the component actually synthesized.
//
// Rules encoded (AWS IAM User Guide):
// - "Policy evaluation logic": an explicit Deny wins, else an Allow whose Principal, Action and
//   every Condition match allows, else the implicit deny.
// - "IAM JSON policy elements: Condition": operators are ANDed; within one operator every key is
//   ANDed; the values listed for one key are ORed.
// - "IAM JSON policy elements: Condition operators": StringEquals is an exact, case-sensitive match
//   (StringLike adds `*` and `?`); "If the key that you specify in a policy condition is not present
//   in the request context, the values do not match and the condition is false".
// Anything else (other operators, NotAction, NotPrincipal, multi-valued keys) throws, so a policy
// this evaluator cannot judge never passes by accident.

/** One request to STS, as IAM sees it when it reads the role's trust policy. */
export interface TrustRequest {
  /** The action: `sts:AssumeRole`, `sts:TagSession`, `sts:AssumeRoleWithWebIdentity`… */
  readonly action: string;
  /** The calling principal: a service (`pods.eks.amazonaws.com`) or a federated provider's ARN. */
  readonly principal: { readonly Service?: string; readonly Federated?: string };
  /** The request context's keys and values (e.g. `aws:RequestTag/kubernetes-namespace`). */
  readonly context: Readonly<Record<string, string>>;
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Record<string, string | string[]>;
  readonly Action: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
  readonly [other: string]: unknown;
}

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);

function like(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

function conditionHolds(condition: Statement['Condition'], context: TrustRequest['context']): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    if (operator !== 'StringEquals' && operator !== 'StringLike') throw new Error(`iam-trust: operator ${operator} is not encoded`);
    for (const [key, wanted] of Object.entries(keys)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const match = operator === 'StringEquals' ? (p: string) => p === actual : (p: string) => like(p, actual);
      if (!list(wanted).some(match)) return false;
    }
  }
  return true;
}

function matches(s: Statement, r: TrustRequest): boolean {
  for (const k of Object.keys(s)) {
    if (!['Sid', 'Effect', 'Principal', 'Action', 'Condition'].includes(k)) throw new Error(`iam-trust: element ${k} is not encoded`);
  }
  const principal = s.Principal ?? {};
  const byService = r.principal.Service !== undefined && list(principal.Service ?? []).includes(r.principal.Service);
  const byProvider = r.principal.Federated !== undefined && list(principal.Federated ?? []).includes(r.principal.Federated);
  if (!byService && !byProvider) return false;
  if (!list(s.Action).some((a) => like(a, r.action))) return false;
  return conditionHolds(s.Condition, r.context);
}

/** Whether the trust policy `policy` (a document or its JSON) lets the request through. */
export function trustAllows(policy: unknown, r: TrustRequest): boolean {
  const doc = (typeof policy === 'string' ? JSON.parse(policy) : policy) as { Statement: readonly Statement[] };
  const hits = doc.Statement.filter((s) => matches(s, r));
  if (hits.some((s) => s.Effect === 'Deny')) return false;
  return hits.some((s) => s.Effect === 'Allow');
}

/**
 * The two requests EKS Pod Identity makes for a pod of ServiceAccount `namespace/serviceAccount`
 * in cluster `clusterName` (AssumeRole with session tags, which IAM also checks as TagSession),
 * with the session tags listed in the EKS User Guide ("Define permissions for EKS Pod Identities
 * to assume roles based on tags", List of session tags added by EKS Pod Identity). With
 * `sessionTags: false` (an association with `disableSessionTags`) the request carries none.
 */
export function podIdentityRequests(p: { clusterName: string; namespace: string; serviceAccount: string; sessionTags?: boolean }): TrustRequest[] {
  const context: Record<string, string> = p.sessionTags === false ? {} : {
    'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:us-east-1:123456789012:cluster/${p.clusterName}`,
    'aws:RequestTag/eks-cluster-name': p.clusterName,
    'aws:RequestTag/kubernetes-namespace': p.namespace,
    'aws:RequestTag/kubernetes-service-account': p.serviceAccount,
    'aws:RequestTag/kubernetes-pod-name': `${p.serviceAccount}-5d8f7c9b4-x2x7k`,
    'aws:RequestTag/kubernetes-pod-uid': '0f0e0d0c-0b0a-0908-0706-050403020100',
  };
  const principal = { Service: 'pods.eks.amazonaws.com' };
  return ['sts:AssumeRole', 'sts:TagSession'].map((action) => ({ action, principal, context }));
}

/** Whether EKS Pod Identity gets credentials of the role for that pod: both of its requests pass. */
export function podIdentityAllowed(policy: unknown, p: Parameters<typeof podIdentityRequests>[0]): boolean {
  return podIdentityRequests(p).every((r) => trustAllows(policy, r));
}

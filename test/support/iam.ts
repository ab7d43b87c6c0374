/**
 * A small evaluator of IAM identity policies — enough to replay S3 call sequences against the policies
 * mlplatform emits, and no more. What it implements, from the IAM User Guide:
 *
 * - Evaluation (reference_policies_evaluation-logic.html, "Determining whether a request is allowed or
 *   denied within an account"): an explicit Deny in any statement wins; otherwise an Allow whose Action,
 *   Resource and Condition all match allows; otherwise the request is implicitly denied.
 * - Action (reference_policies_elements_action.html): `service:Name`, case-insensitive, with `*` and
 *   `?` wildcards; a list matches when any entry matches.
 * - Resource (reference_policies_elements_resource.html): the ARN with `*` (any run of characters,
 *   `/` included, and none) and `?` (one character) wildcards, case-sensitive.
 * - Condition (reference_policies_elements_condition_operators.html, reference_policies_elements_condition.html,
 *   "Condition with multiple keys or values"): operators AND-ed, keys within an operator AND-ed, the
 *   values of a key OR-ed; condition key names case-insensitive. StringEquals / StringLike (with `*`
 *   and `?`) and their `...IfExists` forms, and Null. A key absent from the request context does not
 *   match a positive operator ("If the key that you specify in a policy condition is not present in
 *   the request context, the values do not match"), but does match its `...IfExists` form.
 *
 * Anything else (NotAction, NotResource, other operators, policy variables `${…}`) throws, so that a
 * policy using it cannot pass a test by being misread.
 */

/** An IAM policy statement as JSON. */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | boolean | readonly string[]>>>>;
  readonly [other: string]: unknown;
}

/** An IAM policy document as JSON. */
export interface IamPolicy {
  readonly Version: string;
  readonly Statement: IamStatement | readonly IamStatement[];
}

/** One authorization request: the action, the resource ARN, and the request context's condition keys. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys present in the request (absent keys are simply not listed). */
  readonly context?: Readonly<Record<string, string>>;
}

export type IamDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const list = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** IAM's wildcard match: `*` any run of characters (none included), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  if (pattern.includes('${')) throw new Error(`policy variables are not supported by this evaluator: ${pattern}`);
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, caseInsensitive ? 'is' : 's');
  return re.test(value);
}

function conditionMatches(condition: NonNullable<IamStatement['Condition']>, context: Readonly<Record<string, string>>): boolean {
  const ctx = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(condition).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => {
    const actual = ctx.get(key.toLowerCase());
    const values = list(expected as string | readonly string[]).map(String);
    const ifExists = operator.endsWith('IfExists');
    const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    if (op === 'Null') {
      if (values.length !== 1 || !['true', 'false'].includes(values[0])) throw new Error(`Null takes "true" or "false", got ${values.join(',')}`);
      return (actual === undefined) === (values[0] === 'true');
    }
    if (actual === undefined) return ifExists;
    switch (op) {
      case 'StringEquals': return values.some((v) => v === actual);
      case 'StringLike': return values.some((v) => wildcardMatch(v, actual));
      default: throw new Error(`condition operator ${operator} is not supported by this evaluator`);
    }
  }));
}

function statementMatches(s: IamStatement, req: IamRequest): boolean {
  for (const unsupported of ['NotAction', 'NotResource', 'NotPrincipal']) {
    if (unsupported in s) throw new Error(`${unsupported} is not supported by this evaluator (statement ${s.Sid ?? '(no Sid)'})`);
  }
  if (!list(s.Action).some((a) => wildcardMatch(a, req.action, true))) return false;
  if (!list(s.Resource).some((r) => wildcardMatch(r, req.resource))) return false;
  return s.Condition === undefined || conditionMatches(s.Condition, req.context ?? {});
}

/** The decision of `policies` (identity policies of one principal) on `req`. */
export function evaluate(policies: IamPolicy | readonly IamPolicy[], req: IamRequest): IamDecision {
  const statements = list(policies as IamPolicy | readonly IamPolicy[]).flatMap((p) => list(p.Statement));
  const matching = statements.filter((s) => statementMatches(s, req));
  if (matching.some((s) => s.Effect === 'Deny')) return 'ExplicitDeny';
  return matching.some((s) => s.Effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
}

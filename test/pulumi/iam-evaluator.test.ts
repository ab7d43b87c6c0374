/**
 * The IAM evaluator (test/support/iam.ts) and the IAM-checked S3 double (test/support/s3-calls.ts) on
 * cases whose answer AWS documents, before they judge mlplatform's policies.
 */
import { evaluate, IamPolicy, wildcardMatch } from '../support/iam';
import { argoLoad, IamCheckedStore } from '../support/s3-calls';

const BUCKET = 'arn:aws:s3:::acme';
const allow = (Action: string | string[], Resource: string | string[], Condition?: any): IamPolicy => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) }] });

describe('IAM evaluator', () => {
  test('wildcards: `*` matches any run (slashes and nothing included), `?` one character; actions ignore case, ARNs do not', () => {
    expect(wildcardMatch('arn:aws:s3:::acme/data/*', 'arn:aws:s3:::acme/data/a/b.csv')).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::acme/data/*', 'arn:aws:s3:::acme/data/')).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::acme/data/*', 'arn:aws:s3:::acme/data')).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::acme/data/*', 'arn:aws:s3:::acme/database/x')).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::acme/v?', 'arn:aws:s3:::acme/v3')).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::acme/v?', 'arn:aws:s3:::acme/v30')).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::acme/a.b', 'arn:aws:s3:::acme/aXb')).toBe(false); // regex characters are literal
    expect(evaluate(allow('s3:Get*', `${BUCKET}/*`), { action: 'S3:GETOBJECT', resource: `${BUCKET}/k` })).toBe('Allow');
    expect(evaluate(allow('s3:GetObject', `${BUCKET}/Data/*`), { action: 's3:GetObject', resource: `${BUCKET}/data/k` })).toBe('ImplicitDeny');
  });

  test('an explicit Deny wins over any Allow; nothing matching is an implicit deny', () => {
    const policy: IamPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/*` },
        { Effect: 'Deny', Action: 's3:DeleteObject', Resource: `${BUCKET}/keep/*` },
      ],
    };
    expect(evaluate(policy, { action: 's3:DeleteObject', resource: `${BUCKET}/tmp/x` })).toBe('Allow');
    expect(evaluate(policy, { action: 's3:DeleteObject', resource: `${BUCKET}/keep/x` })).toBe('ExplicitDeny');
    expect(evaluate(policy, { action: 's3:ListBucket', resource: BUCKET })).toBe('ImplicitDeny');
    expect(evaluate([policy, allow('s3:ListBucket', BUCKET)], { action: 's3:ListBucket', resource: BUCKET })).toBe('Allow');
  });

  test('the user-folder pattern of the IAM docs: ListBucket limited by StringLike on s3:prefix', () => {
    // IAM User Guide, reference_policies_examples_s3_home-directory-console.html (with a literal user).
    const policy = allow('s3:ListBucket', BUCKET, { StringLike: { 's3:prefix': ['', 'home/', 'home/alice/*'] } });
    const list = (prefix?: string) => evaluate(policy, { action: 's3:ListBucket', resource: BUCKET, context: prefix === undefined ? {} : { 's3:prefix': prefix } });
    expect([list(''), list('home/'), list('home/alice/'), list('home/alice/photos/')]).toEqual(['Allow', 'Allow', 'Allow', 'Allow']);
    expect([list('home/alice'), list('home/bob/'), list('home/alicex/')]).toEqual(['ImplicitDeny', 'ImplicitDeny', 'ImplicitDeny']);
    // A key the request does not carry matches no positive operator (…IfExists excepted).
    expect(list(undefined)).toBe('ImplicitDeny');
    expect(evaluate(allow('s3:ListBucket', BUCKET, { StringLikeIfExists: { 's3:prefix': 'home/*' } }), { action: 's3:ListBucket', resource: BUCKET })).toBe('Allow');
  });

  test('values of one key are OR-ed, keys and operators AND-ed; condition key names ignore case; Null tests presence', () => {
    const policy = allow('s3:ListBucket', BUCKET, { StringEquals: { 's3:delimiter': '/' }, StringLike: { 'S3:Prefix': ['a/*', 'b/*'] } });
    const req = (context: Record<string, string>) => evaluate(policy, { action: 's3:ListBucket', resource: BUCKET, context });
    expect(req({ 's3:prefix': 'b/x', 's3:delimiter': '/' })).toBe('Allow');
    expect(req({ 's3:prefix': 'b/x' })).toBe('ImplicitDeny');
    expect(req({ 's3:prefix': 'c/x', 's3:delimiter': '/' })).toBe('ImplicitDeny');
    const nullPrefix = allow('s3:ListBucket', BUCKET, { Null: { 's3:prefix': 'true' } });
    expect(evaluate(nullPrefix, { action: 's3:ListBucket', resource: BUCKET })).toBe('Allow');
    expect(evaluate(nullPrefix, { action: 's3:ListBucket', resource: BUCKET, context: { 's3:prefix': '' } })).toBe('ImplicitDeny');
  });

  test('what it cannot read it refuses to judge', () => {
    expect(() => evaluate({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: 's3:*', Resource: '*' }] }, { action: 'iam:PassRole', resource: '*' })).toThrow('NotAction is not supported');
    expect(() => evaluate(allow('s3:ListBucket', BUCKET, { StringNotLike: { 's3:prefix': 'x/*' } }), { action: 's3:ListBucket', resource: BUCKET, context: { 's3:prefix': 'y' } })).toThrow('StringNotLike is not supported');
    expect(() => evaluate(allow('s3:GetObject', `${BUCKET}/home/\${aws:username}/*`), { action: 's3:GetObject', resource: `${BUCKET}/home/alice/x` })).toThrow('policy variables');
  });
});

describe('IAM-checked S3', () => {
  test('a missing key: 403 without s3:ListBucket, 404 with it (the example of the GetObject "Permissions" section)', () => {
    const getOnly = allow('s3:GetObject', `${BUCKET}/*`);
    const store = new IamCheckedStore(getOnly).seed('acme', ['1.JPG']);
    expect(store.call({ op: 'GetObject', bucket: 'acme', key: '1.JPG' })).toEqual({ status: 200 });
    expect(store.call({ op: 'GetObject', bucket: 'acme', key: '2.JPG' })).toEqual({ status: 403, code: 'AccessDenied' });
    const withList = new IamCheckedStore([getOnly, allow('s3:ListBucket', BUCKET)]).seed('acme', ['1.JPG']);
    expect(withList.call({ op: 'HeadObject', bucket: 'acme', key: '2.JPG' })).toEqual({ status: 404, code: 'NoSuchKey' });
  });

  test('a ListBucket grant limited to a prefix lists that prefix only, and does not turn a missing key into NoSuchKey', () => {
    const policy = [allow('s3:GetObject', `${BUCKET}/data/*`), allow('s3:ListBucket', BUCKET, { StringLike: { 's3:prefix': 'data/*' } })];
    const store = new IamCheckedStore(policy).seed('acme', ['data/a', 'data/b', 'other/c']);
    expect(store.call({ op: 'ListObjectsV2', bucket: 'acme', prefix: 'data/' })).toEqual({ status: 200, keys: ['data/a', 'data/b'] });
    expect(store.call({ op: 'ListObjectsV2', bucket: 'acme', prefix: 'other/' })).toEqual({ status: 403, code: 'AccessDenied' });
    expect(store.call({ op: 'ListObjectsV2', bucket: 'acme' })).toEqual({ status: 403, code: 'AccessDenied' });
    expect(store.call({ op: 'GetObject', bucket: 'acme', key: 'data/missing' })).toEqual({ status: 403, code: 'AccessDenied' });
  });

  test("Argo's load of a prefix works only when the store answers NoSuchKey for the prefix's own key", () => {
    const objects = ['data/v3/a.csv', 'data/v3/b.csv'];
    const bucketWide = [allow('s3:GetObject', `${BUCKET}/*`), allow('s3:ListBucket', BUCKET)];
    expect(argoLoad(new IamCheckedStore(bucketWide).seed('acme', objects), 'acme', 'data/v3')).toEqual({ ok: true });
    const scoped = [allow('s3:GetObject', `${BUCKET}/data/v3/*`), allow('s3:ListBucket', BUCKET, { StringLike: { 's3:prefix': 'data/v3/*' } })];
    const store = new IamCheckedStore(scoped).seed('acme', objects);
    expect(argoLoad(store, 'acme', 'data/v3')).toEqual({ ok: false, failed: { op: 'HeadObject', bucket: 'acme', key: 'data/v3' }, answer: { status: 403, code: 'AccessDenied' } });
    expect(store.log).toHaveLength(1);
  });
});

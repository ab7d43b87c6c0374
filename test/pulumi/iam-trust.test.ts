import { irsaTrustPolicy } from '../../src/pulumi/workload-identity';
import { podIdentityAllowed, podIdentityRequests, trustAllows } from '../support/iam-trust';

/*
 * The trust-policy evaluator of the test support code, on cases whose answer AWS documents.
 */

// The trust policy the EKS User Guide gives for Pod Identity roles (pod-id-role.html), first
// without, then with its "Setting Conditions" example.
const AWS_DOC_PLAIN = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'AllowEksAuthToAssumeRoleForPodIdentity', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
};
const AWS_DOC_PINNED = {
  Version: '2012-10-17',
  Statement: [{
    ...AWS_DOC_PLAIN.Statement[0],
    Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': ['vision'], 'aws:RequestTag/kubernetes-service-account': ['train'] } },
  }],
};
const pod = (namespace: string, serviceAccount: string, clusterName = 'ml-cluster') => ({ clusterName, namespace, serviceAccount });

describe('trustAllows', () => {
  test('the unconditioned Pod Identity trust policy lets every ServiceAccount of every cluster in', () => {
    expect(podIdentityAllowed(AWS_DOC_PLAIN, pod('vision', 'train'))).toBe(true);
    expect(podIdentityAllowed(AWS_DOC_PLAIN, pod('kube-system', 'anything', 'other'))).toBe(true);
  });

  test("the guide's conditioned policy admits its namespace and ServiceAccount only", () => {
    expect(podIdentityAllowed(AWS_DOC_PINNED, pod('vision', 'train'))).toBe(true);
    expect(podIdentityAllowed(AWS_DOC_PINNED, pod('vision', 'serve'))).toBe(false);
    expect(podIdentityAllowed(AWS_DOC_PINNED, pod('nlp', 'train'))).toBe(false);
  });

  test('a condition key missing from the request does not match (disableSessionTags)', () => {
    expect(podIdentityRequests({ ...pod('vision', 'train'), sessionTags: false })[0].context).toEqual({});
    expect(podIdentityAllowed(AWS_DOC_PINNED, { ...pod('vision', 'train'), sessionTags: false })).toBe(false);
    expect(podIdentityAllowed(AWS_DOC_PLAIN, { ...pod('vision', 'train'), sessionTags: false })).toBe(true);
  });

  test('values of one key are ORed, keys ANDed; an explicit Deny wins; another principal or action is not allowed', () => {
    const either = { Statement: [{ ...AWS_DOC_PLAIN.Statement[0], Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': ['vision', 'nlp'] } } }] };
    expect(podIdentityAllowed(either, pod('nlp', 'x'))).toBe(true);
    expect(podIdentityAllowed(either, pod('web', 'x'))).toBe(false);
    const denied = { Statement: [...AWS_DOC_PLAIN.Statement, { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:*', Condition: { StringLike: { 'aws:RequestTag/kubernetes-namespace': 'kube-*' } } }] };
    expect(podIdentityAllowed(denied, pod('vision', 'train'))).toBe(true);
    expect(podIdentityAllowed(denied, pod('kube-system', 'train'))).toBe(false);
    expect(trustAllows(AWS_DOC_PLAIN, { action: 'sts:AssumeRole', principal: { Service: 'ec2.amazonaws.com' }, context: {} })).toBe(false);
    expect(trustAllows(AWS_DOC_PLAIN, { action: 'sts:AssumeRoleWithWebIdentity', principal: { Service: 'pods.eks.amazonaws.com' }, context: {} })).toBe(false);
  });

  test('IRSA: only the web identity whose sub and aud match', () => {
    const provider = 'arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X';
    const doc = irsaTrustPolicy(provider, 'https://oidc.eks.us-east-1.amazonaws.com/id/X', 'vision', 'train');
    const ask = (sub: string, aud = 'sts.amazonaws.com') => trustAllows(doc, {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { Federated: provider },
      context: { 'oidc.eks.us-east-1.amazonaws.com/id/X:sub': sub, 'oidc.eks.us-east-1.amazonaws.com/id/X:aud': aud },
    });
    expect(ask('system:serviceaccount:vision:train')).toBe(true);
    expect(ask('system:serviceaccount:vision:serve')).toBe(false);
    expect(ask('system:serviceaccount:vision:train', 'other')).toBe(false);
  });

  test('an operator or element it does not encode throws instead of answering', () => {
    const odd = { Statement: [{ ...AWS_DOC_PLAIN.Statement[0], Condition: { ForAnyValue_StringEquals: { 'aws:TagKeys': ['x'] } } }] };
    expect(() => podIdentityAllowed(odd, pod('vision', 'train'))).toThrow(/not encoded/);
    expect(() => podIdentityAllowed({ Statement: [{ ...AWS_DOC_PLAIN.Statement[0], NotAction: 'x' }] }, pod('vision', 'train'))).toThrow(/not encoded/);
  });
});

import * as pulumi from '@pulumi/pulumi';
import { CloudValues, cloudValuePlaceholder, placeholderKeys, substitutePlaceholders } from '../../src/pulumi/cloud-values';
import { KubernetesObjects } from '../../src/pulumi/kubernetes-objects';
import { PulumiMocks, resolve } from '../support/pulumi-mocks';

const mocks = PulumiMocks.install();
const SECRET = (value: unknown) => ({ '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', value });

describe('cloud value placeholders', () => {
  test('a placeholder is a stable, valid host name under .invalid; keys are short alphanumerics', () => {
    expect(cloudValuePlaceholder('bucket')).toBe('mlplatform-cloud-value-bucket.invalid');
    expect(() => cloudValuePlaceholder('db-address')).toThrow('cloud value key "db-address" must be 1-24 lowercase letters and digits');
  });

  test('keys are found in strings and keys of nested objects and arrays; substitution keeps the text around them', () => {
    const b = cloudValuePlaceholder('bucket');
    const value = { args: ['--dest', `s3://${b}/mlartifacts`], env: [{ name: 'X', value: 'plain' }], [`k-${cloudValuePlaceholder('k')}`]: 1 };
    expect(placeholderKeys(value)).toEqual(['bucket', 'k']);
    expect(substitutePlaceholders(value, { bucket: 'acme', k: 'key' })).toEqual({ 'args': ['--dest', 's3://acme/mlartifacts'], 'env': [{ name: 'X', value: 'plain' }], 'k-key': 1 });
    expect(() => substitutePlaceholders(value, { bucket: 'acme' })).toThrow('no value for cloud value placeholder "k" (have: bucket)');
  });

  test('CloudValues: plain strings need no placeholder; Outputs get one; a key is registered once', async () => {
    const values = new CloudValues();
    expect(values.add('region', 'us-east-1')).toBe('us-east-1');
    expect(values.add('bucket', pulumi.output('acme-ml'))).toBe('mlplatform-cloud-value-bucket.invalid');
    expect(() => values.add('bucket', pulumi.output('other'))).toThrow('cloud value "bucket" is already registered');
    expect(values.keys).toEqual(['bucket']);
    expect(await resolve(values.resolve({ uri: 's3://mlplatform-cloud-value-bucket.invalid/x' }))).toEqual({ uri: 's3://acme-ml/x' });
    expect(() => values.resolve('mlplatform-cloud-value-other.invalid')).toThrow('placeholders without a registered cloud value: other');
  });
});

describe('KubernetesObjects with cloud values', () => {
  test('objects that mention placeholders get the values; name and kind stay known; only those objects become secret', async () => {
    const values = new CloudValues();
    const bucket = values.add('bucket', pulumi.output('acme-ml'));
    const password = values.add('password', pulumi.secret('pw'));
    new KubernetesObjects('cv', {
      cloudValues: values,
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'tracking', namespace: 'ml', labels: { a: 'b' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', args: [`s3://${bucket}/mlartifacts`] }] } } } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'ml' }, type: 'Opaque', stringData: { username: 'mlplatform', password } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'ml' }, data: { a: '1' } },
      ],
    });
    const deployment = await mocks.one('kubernetes:apps/v1:Deployment', 'cv-deployment-ml-tracking');
    expect(deployment.inputs).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'tracking', namespace: 'ml', labels: { a: 'b' } },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', args: ['s3://acme-ml/mlartifacts'] }] } } },
    });
    const secret = await mocks.one('kubernetes:core/v1:Secret', 'cv-secret-ml-db');
    expect(secret.inputs).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'ml' }, type: 'Opaque', stringData: SECRET({ username: 'mlplatform', password: 'pw' }) });
    expect(secret.options.additionalSecretOutputs).toEqual(['data', 'stringData']);
    expect((await mocks.one('kubernetes:core/v1:ConfigMap', 'cv-configmap-ml-plain')).inputs).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'ml' }, data: { a: '1' } });
    expect(JSON.stringify(deployment.inputs)).not.toContain('4dabf18193072939515e22adb298388d');
  });

  test('dependsOn reaches every object; a placeholder without cloudValues, or in a name, is an error', async () => {
    const values = new CloudValues();
    const arn = values.add('arn', pulumi.output('arn:aws:iam::1:role/r'));
    const gate = new KubernetesObjects('gate', { objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gate' } }] });
    new KubernetesObjects('dep', { objects: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'x', annotations: { 'eks.amazonaws.com/role-arn': arn } } }], cloudValues: values, dependsOn: [gate] });
    const sa = await mocks.one('kubernetes:core/v1:ServiceAccount', 'dep-serviceaccount-x-sa');
    expect(sa.inputs.metadata).toEqual({ name: 'sa', namespace: 'x', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/r' } });
    expect(sa.options.dependencies.map((u) => u.split('::').pop())).toEqual(['gate-namespace-gate']);
    expect(() => new KubernetesObjects('none', { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: arn } }] }))
      .toThrow('ConfigMap c mentions cloud value placeholders (arn) but no cloudValues were given');
    expect(() => new KubernetesObjects('named', { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cloudValuePlaceholder('arn') } }], cloudValues: values }))
      .toThrow('apiVersion, kind, name and namespace must not hold a cloud value');
  });
});

describe('KubernetesObjects keeps data', () => {
  test('PVCs, and Namespaces holding PVCs or StatefulSet claim templates, are retained on delete; nothing else', async () => {
    new KubernetesObjects('data', {
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'db' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cache' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } },
        { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'pg', namespace: 'db' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'data' } }] } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'scratch', namespace: 'cache' }, spec: {} },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'web' }, data: {} },
      ],
    });
    const root = await mocks.one('mlplatform:index:KubernetesObjects', 'data');
    const retained = (await mocks.childrenOf(root.urn)).filter((c) => c.options.retainOnDelete).map((c) => c.name).sort();
    expect(retained).toEqual(['data-namespace-cache', 'data-namespace-db', 'data-persistentvolumeclaim-cache-scratch']);
  });
});

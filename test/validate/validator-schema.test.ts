import { schemasDir } from '../support/schemas';
import { createValidator, formatFindings, type Finding, type Report } from '../support/validate';

// Test data is built as plain JSON, mutated per test.
type Obj = Record<string, any>;

const restricted = createValidator({ schemaDirs: [schemasDir()], pss: 'restricted' });

/** A Deployment that passes strict validation and PSS restricted. */
function deployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ml', labels: { 'app.kubernetes.io/name': 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'web',
            image: 'ghcr.io/acme/web:1.0.0',
            ports: [{ containerPort: 8080, name: 'http' }],
            resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          }],
        },
      },
    },
  };
}

const widgetCrd = (): Obj => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { kind: 'Widget', plural: 'widgets' },
    scope: 'Namespaced',
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              required: ['size'],
              properties: { size: { type: 'integer', default: 1, minimum: 1 }, color: { type: 'string', enum: ['red', 'blue'] } },
            },
          },
        },
      },
    }],
  },
});
const widget = (spec: Obj): Obj => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ml' }, spec });

const brief = (r: Report): Array<Pick<Finding, 'path' | 'message' | 'source'>> => r.errors.map(({ path, message, source }) => ({ path, message, source }));
const C0 = '/spec/template/spec/containers/0';

describe('schema layer', () => {
  test('a valid Deployment has no finding', () => {
    const r = restricted.validateObjects([deployment()]);
    expect(r).toEqual({ objects: 1, errors: [], warnings: [] });
  });

  test('a typo in a field name is an unknown field (strict, like kubectl --validate=strict)', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].imagePulPolicy = 'Always';
    const r = restricted.validateObjects([d], 'web.yaml');
    expect(r.errors).toEqual([{
      file: 'web.yaml',
      doc: 0,
      kind: 'Deployment',
      name: 'web',
      path: C0,
      message: 'unknown field "imagePulPolicy"',
      source: 'schema',
      origin: 'k8s v1.27.0',
    }]);
    expect(formatFindings(r.errors)).toEqual(['Deployment/web spec.template.spec.containers[0]: unknown field "imagePulPolicy" [schema]']);
  });

  test('unknown fields in metadata and in a CRD are reported too; strict: false accepts them', () => {
    const d = deployment();
    d.metadata.lables = { a: 'b' };
    const isvc = { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'm', namespace: 'ml' }, spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageURI: 's3://b/m' } } } };
    expect(brief(restricted.validateObjects([d, isvc]))).toEqual([
      { path: '/metadata', message: 'unknown field "lables"', source: 'schema' },
      { path: '/spec/predictor/model', message: 'unknown field "storageURI"', source: 'schema' },
    ]);
    const lax = createValidator({ schemaDirs: [schemasDir()], strict: false });
    expect(lax.validateObjects([d, isvc]).errors).toEqual([]);
  });

  test('a wrong type', () => {
    const d = deployment();
    d.spec.replicas = '2';
    expect(brief(restricted.validateObjects([d]))).toEqual([{ path: '/spec/replicas', message: 'must be integer', source: 'schema' }]);
  });

  test('a missing required field (core kind and CRD)', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ml' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', targetPort: 8080 }] } };
    expect(brief(restricted.validateObjects([svc]))).toEqual([{ path: '/spec/ports/0', message: 'missing required field "port"', source: 'schema' }]);
    const job = { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'train', namespace: 'ml' }, spec: {} };
    const r = restricted.validateObjects([job]);
    expect(brief(r)).toEqual([{ path: '/spec', message: 'missing required field "pytorchReplicaSpecs"', source: 'schema' }]);
    expect(r.errors[0].origin).toBe('crd kubeflow.org_pytorchjobs.yaml');
  });

  test('CRD defaults are applied before `required` is checked', () => {
    expect(restricted.validateObjects([widgetCrd(), widget({})]).errors).toEqual([]);
    expect(brief(restricted.validateObjects([widgetCrd(), widget({ size: 0, colour: 'red' })]))).toEqual([
      { path: '/spec/size', message: '0 is less than 1.', source: 'schema' },
      { path: '/spec', message: 'unknown field "colour"', source: 'schema' },
    ]);
  });

  test('a CRD in the input applies to that call only', () => {
    expect(restricted.validateObjects([widgetCrd(), widget({ size: 2 })]).errors).toEqual([]);
    expect(brief(restricted.validateObjects([widget({ size: 2 })]))).toEqual([
      { path: '/kind', message: expect.stringContaining('unknown kind: no schema for example.com/v1 Widget'), source: 'schema' },
    ]);
  });

  test('an unknown kind is an error unless allowed', () => {
    const model = { apiVersion: 'mlops.seldon.io/v1alpha1', kind: 'Model', metadata: { name: 'm', namespace: 'ml' }, spec: {} };
    expect(brief(restricted.validateObjects([model]))).toEqual([
      { path: '/kind', message: expect.stringContaining('unknown kind: no schema for mlops.seldon.io/v1alpha1 Model'), source: 'schema' },
    ]);
    for (const allow of ['Model', 'mlops.seldon.io/v1alpha1/Model']) {
      expect(createValidator({ schemaDirs: [schemasDir()], allowKinds: [allow] }).validateObjects([model]).errors).toEqual([]);
    }
  });

  test.each([
    ['policy/v1beta1', 'PodDisruptionBudget', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } }],
    ['extensions/v1beta1', 'Deployment', deployment().spec],
    ['apps/v1beta2', 'Deployment', deployment().spec],
    ['batch/v1beta1', 'CronJob', { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } } }],
  ])('a removed API version is an error, even with allowKinds: %s %s', (apiVersion, kind, spec) => {
    const obj = { apiVersion, kind, metadata: { name: 'x', namespace: 'ml' }, spec };
    const expected = [{ path: '/apiVersion', message: `${apiVersion} ${kind} is not served by Kubernetes v1.27.0 (removed or not yet added API)`, source: 'schema' }];
    const v = createValidator({ schemaDirs: [schemasDir()], allowKinds: [kind] });
    expect(brief(v.validateObjects([obj]))).toEqual(expected);
  });

  test('policy/v1 PodDisruptionBudget is served', () => {
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'ml' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } };
    expect(restricted.validateObjects([pdb]).errors).toEqual([]);
  });

  test('Katib kinds are checked against its swagger.json (the CRD schema is open)', () => {
    const exp = {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Experiment',
      metadata: { name: 'hpo', namespace: 'ml' },
      spec: { objective: { type: 'maximize', goal: 0.9, objectiveMetricName: 'acc' }, maxTrials: 3 },
    };
    const r = restricted.validateObjects([exp]);
    expect(brief(r)).toEqual([{ path: '/spec', message: 'unknown field "maxTrials"', source: 'schema' }]);
    expect(r.errors[0].origin).toBe('swagger swagger.json');
  });
});

describe('parse layer (YAML 1.1, as kubectl reads it)', () => {
  test('yes/on are booleans and 0755 is octal', () => {
    const text = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: { name: cfg, namespace: ml }',
      'data: { enabled: yes, mode: 0755, ratio: "1.5", dot: . }',
    ].join('\n');
    expect(brief(restricted.validateText(text))).toEqual([
      { path: '/data/enabled', message: 'must be string', source: 'schema' },
      { path: '/data/mode', message: 'must be string', source: 'schema' },
    ]);
  });

  test('syntax errors and duplicate keys are parse findings of their document; the other documents are still checked', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: ml }\n---\napiVersion: v1\nkind: ConfigMap\nkind: Secret\n---\nmetadata: { name: b\n';
    const r = restricted.validateText(text, 'x.yaml');
    expect(r.errors.map((e) => [e.doc, e.source, e.path])).toEqual([[1, 'parse', ''], [2, 'parse', '']]);
    expect(r.errors[0].message).toContain('YAML: Map keys must be unique');
    expect(r.objects).toBe(1);
  });

  test('a kind: List is expanded, nulls are absent, empty documents are skipped', () => {
    const d = deployment();
    d.spec.replicas = null;
    const list = { apiVersion: 'v1', kind: 'List', items: [d, { ...deployment(), metadata: { name: 'other', namespace: 'ml' } }] };
    const r = restricted.validateObjects([list, null, undefined]);
    expect(r).toEqual({ objects: 2, errors: [], warnings: [] });
  });
});

describe('options', () => {
  test('a missing Kubernetes version, schema folder or bad pss level throws', () => {
    expect(() => createValidator({ schemaDirs: [schemasDir()], k8sVersion: '1.99.0' })).toThrow(/no Kubernetes definitions for version 1\.99\.0/);
    expect(() => createValidator({ schemaDirs: ['/nonexistent/schemas'] })).toThrow(/schema folder not found: \/nonexistent\/schemas/);
    expect(() => createValidator({ schemaDirs: [schemasDir()], pss: 'strict' as any })).toThrow(/pss must be/);
  });

  test('defaults: strict, semantic, no pss, k8s 1.27.0, schemasDir()', () => {
    expect(createValidator().options).toEqual({ schemaDirs: [schemasDir()], k8sVersion: '1.27.0', strict: true, semantic: true, allowKinds: [] });
  });

  test('semantic: false skips the apiserver-style checks only', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].resources.requests.memory = '2GB';
    d.spec.replicas = 'two';
    const v = createValidator({ schemaDirs: [schemasDir()], semantic: false });
    expect(brief(v.validateObjects([d]))).toEqual([{ path: '/spec/replicas', message: 'must be integer', source: 'schema' }]);
  });
});

// Issue #22, part 2, "silently accepted": each of these used to synthesize; each is now a ValidationError
// naming the prop and the fix.
import { App, Chart } from 'cdk8s';
import { MlPlatform, ModelEndpoint, TrainingPipeline } from '../../src/cdk8s';
import {
  AddonDelivery, ArtifactStore, cronError, imageReferenceError, ModelSource, TrackingAuth,
} from '../../src/core';
import { MAX_ENV_STRING_BYTES } from '../../src/core/workload';
import { validationError as error } from '../support/errors';


const chart = () => new Chart(new App({ outdir: '/dev/null' }), 'c');
const secret = (name: string) => ({ name, key: 'k' });

describe('calendar-impossible cron schedules', () => {
  // robfig/cron v3.0.1 spec.go `dayMatches` (Kubernetes' and Argo's parser): with the day of week `*`,
  // only the day of month decides, so February 31 never comes; with both restricted, either day matches.
  test.each([
    ['0 0 31 2 *', 'day of month 31 never occurs in month 2'],
    ['0 0 30 feb *', 'day of month 30 never occurs in month feb'],
    ['0 0 31 4,6,9,11 *', 'never occurs'],
    ['0 0 30,31 2 ?', 'never occurs'],
  ])('%s is rejected', (cron, message) => {
    expect(cronError(cron)).toContain(message);
  });

  test.each(['0 0 29 2 *', '0 0 31 2 1', '0 0 31 2 */2', '0 0 31 1-12 *', '0 0 31 */2 *', '0 3 * * *'])('%s can fire, and is accepted', (cron) => {
    expect(cronError(cron)).toBeUndefined();
  });

  test('a pipeline scheduled on February 31 names schedule.cron', () => {
    const c = chart();
    const ml = new MlPlatform(c, 'ml');
    ml.addTenant('vision');
    const e = error(() => new TrainingPipeline(c, 'p', { platform: ml, schedule: { cron: '0 0 31 2 *' }, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0' }] }));
    expect(e.issues.map((i) => i.path)).toEqual(['schedule.cron']);
    expect(e.message).toContain('the schedule would never run');
  });
});

describe('image references: the distribution/reference grammar, no latest anywhere', () => {
  // github.com/distribution/reference v0.6.0 regexp.go (ReferenceRegexp) and reference.go (NameTotalLengthMax = 255).
  test.each([
    'ghcr.io/acme/train:1.4.2', 'python:3.12-slim', 'registry.example.com:5000/ml/x:v1', '[::1]:5000/a/b:1',
    `ghcr.io/acme/x@sha256:${'a'.repeat(64)}`, `ghcr.io/acme/x:1.0@sha256:${'0'.repeat(64)}`, 'a/b__c/d-e.f:1',
  ])('%s is a valid pinned reference', (image) => {
    expect(imageReferenceError(image)).toBeUndefined();
  });

  test.each([
    ['ghcr.io/acme/train:latest', 'latest'],
    [`ghcr.io/acme/train:latest@sha256:${'a'.repeat(64)}`, 'latest'],
    ['ghcr.io/acme/train', 'must be pinned'],
    ['ghcr.io/Acme/train:1', 'must be an image reference'],
    ['ghcr.io/acme/train:1 ', 'must be an image reference'],
    ['ghcr.io/acme/train:1\n', 'must be an image reference'],
    ['-ghcr.io/acme/x:1', 'must be an image reference'],
    ['ghcr.io//x:1', 'must be an image reference'],
    ['ghcr.io/acme/x:{{inputs.parameters.tag}}', 'must be an image reference'],
    [`ghcr.io/${'a'.repeat(256)}:1`, 'must be an image reference'],
    [`ghcr.io/acme/x@sha512:${'a'.repeat(32)}`, 'sha256'],
  ])('%j is rejected', (image, message) => {
    expect(imageReferenceError(image)).toContain(message);
  });

  test('a version override ending in :latest names versions.images.<name>; a chart version "latest" too', () => {
    const e = error(() => new MlPlatform(chart(), 'ml', { versions: { images: { mlflow: 'ghcr.io/mlflow/mlflow:latest' }, charts: { keda: { version: 'latest' } } } }));
    expect(e.issues.map((i) => i.path)).toEqual(['versions.images.mlflow', 'versions.charts.keda.version']);
    expect(e.message).toContain('`versions.images.mlflow` ("ghcr.io/mlflow/mlflow:latest"): must not use the "latest" tag (it floats); pin a version tag or a digest');
  });

  test('a pipeline step image that is not a reference names the step image', () => {
    const c = chart();
    const ml = new MlPlatform(c, 'ml');
    ml.addTenant('vision');
    const e = error(() => new TrainingPipeline(c, 'p', { platform: ml, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0 --privileged' }] }));
    expect(e.issues.map((i) => i.path)).toEqual(['steps.a.image']);
  });
});

describe('store prefixes and model URIs', () => {
  const s3 = (prefix: string) => ArtifactStore.s3({ bucket: 'ml-artifacts', region: 'eu-west-1', prefix, credentials: { accessKeyId: secret('a'), secretAccessKey: secret('b') } });

  test.each(['ml/../other', 'ml/*', '*', 'ml//x', './ml'])('the artifact store prefix %j is rejected', (prefix) => {
    const e = error(() => new MlPlatform(chart(), 'ml', { artifactStore: s3(prefix) }));
    expect(e.issues.map((i) => i.path)).toEqual(['artifactStore.prefix']);
    expect(e.message).toContain('must be a plain key prefix such as "ml/prod"');
  });

  test('a plain prefix is accepted', () => {
    expect(() => new MlPlatform(chart(), 'ml', { artifactStore: s3('ml/prod') })).not.toThrow();
  });

  test.each(['s3://bucket/models/*', 's3://bucket/models/res*net/7', 's3://bucket/*/7'])('the model URI %j is rejected', (uri) => {
    const c = chart();
    const ml = new MlPlatform(c, 'ml');
    ml.addTenant('vision');
    const e = error(() => new ModelEndpoint(c, 'e', { platform: ml, namespace: 'vision', versions: [{ name: 'v1', model: ModelSource.uri(uri) }] }));
    // (the bucket is not the platform's, so the version also needs credentials: another issue, named too)
    expect(e.issues.find((i) => i.path === 'versions[0].model.uri')?.message).toBe('must name one model prefix: no wildcards ("*", "?", "[…]")');
  });
});

describe('workload identities, OIDC groups, env values, add-on values', () => {
  test('an invalid annotation key on a workload identity is named', () => {
    const store = ArtifactStore.s3({ bucket: 'ml-artifacts', region: 'eu-west-1', credentials: { workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x', 'bad key!': 'x', 'a/b/c': 'y' } } } });
    const e = error(() => new MlPlatform(chart(), 'ml', { artifactStore: store }));
    expect(e.issues.map((i) => i.path)).toEqual([
      'artifactStore.credentials.workloadIdentity.serviceAccountAnnotations.bad key!',
      'artifactStore.credentials.workloadIdentity.serviceAccountAnnotations.a/b/c',
    ]);
    expect(e.message).toContain('is not a valid annotation key');
  });

  test('empty OIDC group lists are named (oauth2-proxy reads no --allowed-group as any group)', () => {
    const auth = TrackingAuth.oidc({ issuerUrl: 'https://id.example.com', clientId: 'c', clientSecret: secret('s'), cookieSecret: secret('k'), emailDomains: ['example.com'], allowedGroups: [], adminGroups: [] });
    const e = error(() => new MlPlatform(chart(), 'ml', { tracking: { auth } }));
    // (OIDC also needs an exposure with TLS: another issue, `tracking.auth`)
    expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['tracking.auth.allowedGroups', 'tracking.auth.adminGroups']));
    expect(e.message).toContain('which oauth2-proxy reads as "any group"');
  });

  test('an env value longer than the kernel passes to a process is named', () => {
    const c = chart();
    const ml = new MlPlatform(c, 'ml');
    ml.addTenant('vision');
    const fits = 'x'.repeat(MAX_ENV_STRING_BYTES - 'BIG='.length - 1);
    expect(() => new TrainingPipeline(c, 'ok', { platform: ml, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0', env: { BIG: fits } }] })).not.toThrow();
    const e = error(() => new TrainingPipeline(c, 'p', { platform: ml, steps: [{ name: 'a', image: 'ghcr.io/a/b:1.0', env: { BIG: `${fits}x` } }] }));
    expect(e.issues.map((i) => i.path)).toEqual(['steps.a.env.BIG']);
    expect(e.message).toContain('MAX_ARG_STRLEN');
  });

  test('an add-on values key whose value is undefined (dropped from the YAML) is named', () => {
    const e = error(() => new MlPlatform(chart(), 'ml', { addons: { delivery: AddonDelivery.argoCd(), values: { argoWorkflows: { server: { enabled: undefined } } } } }));
    expect(e.issues.map((i) => i.path)).toEqual(['addons.values.argoWorkflows.server.enabled']);
  });
});

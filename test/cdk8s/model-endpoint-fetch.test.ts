// Issue #21 item 2: a pipeline registers a model, an endpoint serves `models:/<name>@<alias>`.
// MLflow resolves the alias through the tracking server and then downloads the version's source
// client-side (mlflow/store/artifact/models_artifact_repo.py `_get_model_uri_infos` →
// `get_model_version_download_uri`, then `get_artifact_repository(source)`); the registration step
// registers an `s3://` source, which s3_artifact_repo.py reads with boto3 (`_get_s3_client`:
// MLFLOW_S3_ENDPOINT_URL and the AWS credential chain). These tests tie the two synthesized sides
// together; test/cluster/services/model-flow.test.ts runs them against MLflow and SeaweedFS.
import { Chart } from 'cdk8s';
import { MlPlatform, ModelEndpoint, TrainingPipeline } from '../../src/cdk8s';
import { ArtifactStore, Cpu, Size } from '../../src/core';
import { ModelSource, Runtime } from '../../src/core/endpoint';
import { credentialFilesOf, programEnvOf } from '../support/credentials';
import { expectValidManifests } from '../support/expect-valid';
import { find, K8sObject, synthChart } from '../support/synth';

const READ_SCOPE = 'mlplatform.io/model-read-scope';
const ROLE = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml-vision' };

function env(c: any): Record<string, any> {
  return Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

/** A platform with tenant `vision`, a pipeline whose step `train` registers `resnet50@champion`, and an endpoint serving it. */
function flow(platformProps: ConstructorParameters<typeof MlPlatform>[2] = {}, endpoint: { kserve?: boolean } = {}): K8sObject[] {
  return synthChart((chart: Chart) => {
    const platform = new MlPlatform(chart, 'ml', { ...platformProps, addons: { ...platformProps.addons, kserve: endpoint.kserve } });
    platform.addTenant('vision', { quota: { cpu: Cpu.cores(32), memory: Size.gibibytes(128) } });
    const pipeline = new TrainingPipeline(chart, 'resnet', { platform, namespace: 'vision', experiment: 'resnet' });
    pipeline.addStep('train', {
      image: 'ghcr.io/acme/train:1.0.0',
      command: ['python', '-m', 'train'],
      outputs: ['model'],
      registerModel: { output: 'model', name: 'resnet50', alias: 'champion' },
    });
    new ModelEndpoint(chart, 'resnet50', {
      platform,
      namespace: 'vision',
      runtime: Runtime.mlflow(),
      kserve: endpoint.kserve,
      versions: [{ name: 'stable', model: ModelSource.registry('resnet50', { alias: 'champion' }) }],
    });
  }).objects;
}

/** The registration step's container, as the WorkflowTemplate declares it. */
function registration(objects: K8sObject[]): any {
  return find(objects, 'WorkflowTemplate', 'resnet').spec.templates.find((t: any) => t.name === 'register-train').container;
}

describe('ModelEndpoint: a registry model is fetched from where the pipeline registered it', () => {
  test('embedded store: the registered source lies under the read scope; the fetch step reads it with the tenant\'s store keys, like the step that wrote it', () => {
    const objects = flow();
    expectValidManifests(objects);
    const reg = registration(objects);
    const source: string = env(reg).MODEL_SOURCE;
    expect(source).toBe('s3://mlplatform/pipelines/vision/resnet/{{workflow.name}}/train/model');
    const sa = find(objects, 'ServiceAccount', 'resnet50-stable');
    expect(sa.metadata.annotations).toEqual({ [READ_SCOPE]: 's3://mlplatform/pipelines/vision/', 'mlplatform.io/registered-model': 'models:/resnet50' });
    expect(source.startsWith(sa.metadata.annotations![READ_SCOPE])).toBe(true);
    const pod = find(objects, 'Deployment', 'resnet50-stable').spec.template.spec;
    const fetch = pod.initContainers[0];
    // What fetch_model.py works with: its credential files as the variables it sets from them.
    const f = programEnvOf(pod, fetch);
    expect(Object.values(env(fetch)).filter((v) => typeof v !== 'string')).toEqual([]);
    // The same endpoint, region and store Secret as the pipeline's own pods (they wrote the source).
    const train = find(objects, 'WorkflowTemplate', 'resnet').spec.templates.find((t: any) => t.name === 'step-train');
    const step = env(train.container);
    for (const name of ['AWS_DEFAULT_REGION', 'MLFLOW_S3_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'MLFLOW_TRACKING_URI']) {
      expect({ name, value: f[name] }).toEqual({ name, value: step[name] });
    }
    // The step's store keys: the AWS shared credentials file in the same tenant Secret (the bootstrap writes it from those keys).
    expect(credentialFilesOf(train, train.container)).toEqual({ AWS_SHARED_CREDENTIALS: { name: 'ml-store', key: 'credentials' } });
    expect(f.AWS_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: 'ml-store', key: 'accessKeyId' } });
    // Only the fetch step: the server container holds no credential and no store address.
    const server = find(objects, 'Deployment', 'resnet50-stable').spec.template.spec.containers[0];
    expect(Object.keys(env(server)).filter((n) => /^(AWS_|MLFLOW_)/.test(n))).toEqual([]);
  });

  test('workload identity on AWS S3 under a prefix: the role on the version\'s ServiceAccount, no keys, the prefixed pipeline root as read scope', () => {
    const objects = flow({
      artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', prefix: 'platform', credentials: { workloadIdentity: { serviceAccountAnnotations: ROLE } } }),
    });
    const source: string = env(registration(objects)).MODEL_SOURCE;
    expect(source).toBe('s3://acme-ml/platform/pipelines/vision/resnet/{{workflow.name}}/train/model');
    const sa = find(objects, 'ServiceAccount', 'resnet50-stable');
    expect(sa.metadata.annotations).toEqual({ [READ_SCOPE]: 's3://acme-ml/platform/pipelines/vision/', 'mlplatform.io/registered-model': 'models:/resnet50', ...ROLE });
    expect(source.startsWith(sa.metadata.annotations![READ_SCOPE])).toBe(true);
    const f = env(find(objects, 'Deployment', 'resnet50-stable').spec.template.spec.initContainers[0]);
    expect(Object.keys(f)).toEqual([
      'HOME', 'MODEL_URI', 'MODEL_DIR', 'MODEL_STAGING', 'MLFLOW_TRACKING_URI', 'AWS_DEFAULT_REGION', 'MLFLOW_TRACKING_USERNAME_FILE', 'MLFLOW_TRACKING_PASSWORD_FILE',
    ]);
    expect(f.AWS_DEFAULT_REGION).toBe('eu-west-1');
  });

  test('KServe: the predictor runs the same fetch step; its ServiceAccount carries the scope', () => {
    const objects = flow({}, { kserve: true });
    expectValidManifests(objects);
    const predictor = find(objects, 'InferenceService', 'resnet50').spec.predictor;
    const f = programEnvOf(predictor, predictor.initContainers[0]);
    expect(f).toMatchObject({
      MODEL_URI: 'models:/resnet50@champion',
      MLFLOW_S3_ENDPOINT_URL: 'http://ml-s3.mlplatform.svc.cluster.local:8333',
      AWS_SECRET_ACCESS_KEY: { secretKeyRef: { name: 'ml-store', key: 'secretAccessKey' } },
    });
    expect(Object.keys(env(predictor.containers[0])).filter((n) => /^(AWS_|MLFLOW_)/.test(n))).toEqual([]);
    expect(find(objects, 'ServiceAccount', 'resnet50-stable').metadata.annotations![READ_SCOPE]).toBe('s3://mlplatform/pipelines/vision/');
  });

  test('a registry model in a namespace without pipelines still synthesizes (its read is not a missing grant)', () => {
    const build = (model: ModelSource) => () => synthChart((chart) => {
      const platform = new MlPlatform(chart, 'ml', {});
      platform.addTenant('nlp', { quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(32) } });
      new ModelEndpoint(chart, 'bert', { platform, namespace: 'nlp', versions: [{ name: 'stable', model }] });
    }).objects;
    // Control: the data-access check runs here, and an ungranted URI in the store fails it.
    expect(build(ModelSource.uri('s3://mlplatform/models/bert/1'))).toThrow(/data-access.*reads s3:\/\/mlplatform\/models\/bert\/1\//s);
    const objects = build(ModelSource.registry('bert'))();
    expect(find(objects, 'ServiceAccount', 'bert-stable').metadata.annotations![READ_SCOPE]).toBe('s3://mlplatform/pipelines/nlp/');
  });
});

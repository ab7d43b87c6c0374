/**
 * Issue 21 item 0, for every pod: every file a container mounts is readable by its uid/gids, and
 * every writable volume writable — evaluated with the harness's own rules (test/cluster/kubelet/
 * rules.ts, proven against the kernel in harness.test.ts) over the synthesized objects.
 */
import { Testing } from 'cdk8s';
import { buildExample } from '../../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../../src/cdk8s';
import { ArtifactStore, BackendStore, Cpu, Exposure, Size, TrackingAuth } from '../../../src/core';
import { synthChart } from '../../support/synth';
import { checkReadability, workloadsOf } from '../kubelet/readability';
import { KubeObject } from '../kubelet/source';

function findings(objects: KubeObject[]): Promise<string[]> {
  return checkReadability(objects).then((fs) => fs.map((f) => `${f.workload} / ${f.container} (uid ${f.identity.uid}, gid ${f.identity.gid}, groups [${f.identity.groups}]): ${f.path}: ${f.problem}`));
}

test('the example (platform, pipeline, sweep, endpoint): every mounted file readable, every writable volume writable', async () => {
  const app = Testing.app();
  buildExample(app);
  const objects = app.charts.flatMap((c) => c.toJson()) as KubeObject[];
  // The check covers every pod the example makes.
  expect(workloadsOf(objects).map((w) => w.label)).toEqual(expect.arrayContaining([
    'Deployment mlplatform/ml-tracking', 'StatefulSet mlplatform/ml-postgres', 'StatefulSet mlplatform/ml-s3', 'CronJob mlplatform/ml-backup',
    'WorkflowTemplate vision/resnet template step-train', 'WorkflowTemplate vision/resnet template step-finetune', 'Deployment vision/resnet50-stable',
  ]));
  expect(await findings(objects)).toEqual([]);
});

test.each([
  ['OIDC', TrackingAuth.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mlflow', clientSecret: { name: 'oidc', key: 'client-secret' }, cookieSecret: { name: 'oidc', key: 'cookie-secret' }, emailDomains: ['example.com'] })],
  ['basic auth with a user-supplied admin', TrackingAuth.basic({ admin: { username: { name: 'mlflow-admin-user', key: 'name' }, password: { name: 'mlflow-admin-pass', key: 'pw' } } })],
])('external database and S3 with credentials, %s, tenants: every mounted file readable', async (_what, auth) => {
  const { objects } = synthChart((chart) => {
    const platform = new MlPlatform(chart, 'ml', {
      namespace: 'mlplatform',
      backendStore: BackendStore.external({ host: 'db.internal.example.com', database: 'mlflow', username: { name: 'rds', key: 'user' }, password: { name: 'rds', key: 'pass' } }),
      artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', credentials: { accessKeyId: { name: 'aws', key: 'id' }, secretAccessKey: { name: 'aws', key: 'secret' } } }),
      tracking: { auth },
      exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' } }),
    });
    platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 2 });
    platform.addTenant('research', { quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(32), gpus: { a10g: 2 } }, queue: true });
    platform.addTenant('ops');
  });
  expect(workloadsOf(objects as KubeObject[]).map((w) => w.label)).toEqual(expect.arrayContaining(['Deployment mlplatform/ml-tracking']));
  expect(await findings(objects as KubeObject[])).toEqual([]);
});

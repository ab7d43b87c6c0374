/**
 * Issue 21 item 0, for every pod: every file a container mounts is readable by its uid/gids, and
 * every writable volume writable — evaluated with the harness's own rules (test/cluster/kubelet/
 * rules.ts, proven against the kernel in harness.test.ts) over the synthesized objects.
 */
import { Chart, Testing } from 'cdk8s';
import { buildExample } from '../../../examples/cdk8s-platform/platform';
import { MlPlatform, TuningSweep } from '../../../src/cdk8s';
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
    // Static platform keys never leave its namespace: each tenant brings keys of its own (the tenancy rework).
    const keys = (t: string) => ({ accessKeyId: { name: `${t}-aws`, key: 'id' }, secretAccessKey: { name: `${t}-aws`, key: 'secret' } });
    platform.addTenant('research', { quota: { cpu: Cpu.cores(8), memory: Size.gibibytes(32), gpus: { a10g: 2 } }, queue: true, storeCredentials: keys('research') });
    platform.addTenant('ops', { storeCredentials: keys('ops') });
  });
  expect(workloadsOf(objects as KubeObject[]).map((w) => w.label)).toEqual(expect.arrayContaining(['Deployment mlplatform/ml-tracking']));
  expect(await findings(objects as KubeObject[])).toEqual([]);
});

test('verify-full to an external database: the CA bundle every client mounts (tracking, bootstrap, a tenant\'s sweep) is readable', async () => {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const platform = new MlPlatform(chart, 'ml', {
    namespace: 'mlplatform',
    backendStore: BackendStore.external({
      host: 'db.internal.example.com',
      database: 'mlflow',
      sslMode: 'verify-full',
      caCertificate: { name: 'rds-ca', key: 'bundle.pem' },
      username: { name: 'rds', key: 'user' },
      password: { name: 'rds', key: 'pass' },
    }),
  });
  platform.addTenant('research');
  new TuningSweep(chart, 'hp', {
    platform,
    namespace: 'research',
    dashboard: true,
    budget: { trials: 4, workers: 2 },
    trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'] },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'loss', direction: 'minimize' }],
  });
  const objects = chart.toJson() as KubeObject[];
  const mountsCa = workloadsOf(objects).filter((w) => JSON.stringify(w.workload).includes('"database-ca"')).map((w) => w.label.replace(/-[0-9a-f]{8,}$/, '-<hash>'));
  expect(mountsCa).toEqual(expect.arrayContaining(['Deployment mlplatform/ml-tracking', 'Job mlplatform/ml-bootstrap-<hash>', 'Deployment research/hp-dashboard']));
  expect(mountsCa.filter((l) => l.startsWith('Job research/'))).toHaveLength(2);
  expect(await findings(objects)).toEqual([]);
});

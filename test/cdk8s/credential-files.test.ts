// Issue #20 item 5: credentials reach programs as mounted files wherever the program can read files.
// Over every combination of database (embedded with backups, external), store (embedded, S3-compatible
// with static keys, S3 with workload identity) and tracking auth (basic, OIDC), with the example's
// pipeline (DVC input, step I/O, a multi-node step, a registration step, an exit handler), sweep (with
// dashboard) and endpoint (registry model, payload logging): every `secretKeyRef` env var left in any
// container — Deployments, StatefulSets, Jobs, CronJobs, Argo templates and the Jobs embedded in resource
// templates — is one of the documented "the program reads only env" cases (docs/ml-platform.md, "Tenancy
// and trust"), and every credential file a container is told about resolves to a mounted Secret key.
import { App, Chart, Testing } from 'cdk8s';
import { addModelEndpoint } from '../../examples/cdk8s-platform/endpoint';
import { addTrainingPipeline } from '../../examples/cdk8s-platform/pipeline';
import { addTuningSweep } from '../../examples/cdk8s-platform/sweep';
import { MlPlatform, TrainingPipeline, TuningSweep } from '../../src/cdk8s';
import { ArtifactStore, BackendStore, Cpu, Exposure, Size, TrackingAuth } from '../../src/core';
import { workloadsOf } from '../cluster/kubelet/readability';
import { credentialFilesOf, secretEnvOf } from '../support/credentials';

type Database = 'embedded' | 'external';
type Store = 'embedded' | 'static' | 'identity';
type Auth = 'basic' | 'oidc';

function build(database: Database, store: Store, auth: Auth): any[] {
  const app: App = Testing.app();
  const chart = new Chart(app, 'platform');
  const platform = new MlPlatform(chart, 'ml', {
    namespace: 'mlplatform',
    backendStore: database === 'embedded'
      ? BackendStore.embedded({ backup: { schedule: '0 3 * * *', keep: 14 } })
      : BackendStore.external({ host: 'db.internal.example.com', database: 'mlflow', username: { name: 'rds-master', key: 'username' }, password: { name: 'rds-master', key: 'password' } }),
    artifactStore: store === 'embedded' ? ArtifactStore.embedded({ bucket: 'ml-artifacts' }) : ArtifactStore.s3({
      bucket: 'acme-ml',
      region: 'eu-west-1',
      ...(store === 'static' ? { endpoint: 'https://minio.lab.internal' } : {}),
      credentials: store === 'static'
        ? { accessKeyId: { name: 'platform-s3', key: 'id' }, secretAccessKey: { name: 'platform-s3', key: 'secret' } }
        : { workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' } } },
    }),
    tracking: {
      auth: auth === 'basic' ? TrackingAuth.basic() : TrackingAuth.oidc({
        issuerUrl: 'https://login.example.com', clientId: 'mlflow', clientSecret: { name: 'oidc', key: 'c' }, cookieSecret: { name: 'oidc', key: 'k' }, emailDomains: ['example.com'],
      }),
    },
    exposure: Exposure.gateway({ host: 'mlflow.example.com', tls: { clusterIssuer: 'letsencrypt' }, apps: { hostnames: ['*.models.example.com'] } }),
  });
  platform.addGpuPool('a10g', { accelerator: 'nvidia-a10g', instanceType: 'g5.2xlarge', maxNodes: 8, diskSize: Size.gibibytes(200) });
  platform.addGpuPool('h100', { accelerator: 'nvidia-h100-80gb', instanceType: 'p5.48xlarge', maxNodes: 2, diskSize: Size.gibibytes(500) });
  platform.addGpuPool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 4, sharing: { timeSlicing: { replicas: 4 } } });
  const keys = (t: string) => (store === 'static' ? { storeCredentials: { accessKeyId: { name: `${t}-s3`, key: 'id' }, secretAccessKey: { name: `${t}-s3`, key: 'secret' } } } : {});
  platform.addTenant('vision', { quota: { cpu: Cpu.cores(72), memory: Size.gibibytes(640), gpus: { a10g: 8, h100: 16 } }, queue: true, ...keys('vision') });
  platform.addTenant('nlp', keys('nlp'));
  addTrainingPipeline(chart, platform);
  addTuningSweep(chart, platform);
  addModelEndpoint(chart, platform);
  return app.charts.flatMap((c) => c.toJson());
}

/**
 * Who reads a container's env: the third-party programs and the users' containers, by workload and
 * container; everything else in a synthesized pod is a program of ours (src/programs, the inline scripts).
 */
function reader(label: string, container: string): string {
  if (/^Deployment mlplatform\/ml-tracking$/.test(label) && container === 'mlflow') return 'MLflow server';
  if (/^Deployment mlplatform\/ml-tracking$/.test(label) && container === 'oauth2-proxy') return 'OAuth2 Proxy';
  if (/^StatefulSet mlplatform\/ml-postgres$/.test(label)) return 'PostgreSQL image';
  if (/^WorkflowTemplate vision\/resnet template (step-[a-z]+|exit-handler)$/.test(label) && container === 'main') return 'user step';
  if (/^WorkflowTemplate vision\/resnet template step-finetune$/.test(label) && container === 'node') return 'user step';
  if (/^WorkflowTemplate vision\/resnet template step-[a-z]+$/.test(label) && container.startsWith('dvc-')) return 'DVC';
  if (/^Job vision\/resnet-sweep-workers-[0-9a-f]+$/.test(label) && container === 'trial') return 'user trial';
  return 'mlplatform program';
}

/**
 * The documented allow-list: credentials left as env vars, because the program that reads them reads
 * only env (or a file it cannot be pointed at). docs/ml-platform.md "Tenancy and trust" gives the why.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // mlflow/cli/__init__.py: --backend-store-uri / envvar MLFLOW_BACKEND_STORE_URI; auth/__init__.py: MLFLOW_FLASK_SERVER_SECRET_KEY.get();
  // the artifact proxy's boto3 reads the AWS chain: on the embedded store the bootstrap-written shared-credentials file
  // (below); with static keys (the user's own Secret, which the bootstrap does not rewrite) the variables.
  'MLflow server': ['MLFLOW_BACKEND_STORE_URI', 'MLFLOW_FLASK_SERVER_SECRET_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  // basic-auth-password: a flag, env or config setting, no file option.
  'OAuth2 Proxy': ['OAUTH2_PROXY_BASIC_AUTH_PASSWORD'],
  // The users' containers (steps, trials) and DVC read files: AWS_SHARED_CREDENTIALS_FILE and $HOME/.mlflow/credentials
  // (only where the user sets HOME do the MLflow variables stay: the test below).
};

/**
 * Where MLflow's client of a user's container finds its credentials file: `$HOME/.mlflow/credentials`
 * (mlflow/utils/credentials.py `_get_credentials_path`), resolved to the Secret key mounted there.
 */
function mlflowHomeFileOf(pod: any, c: any): { name: string; key: string } | undefined {
  const home = (c.env ?? []).find((e: any) => e.name === 'HOME')?.value;
  if (home === undefined) return undefined;
  const path = `${home}/.mlflow/credentials`;
  // A path under no mount, or under a mount that is not a Secret: no credentials file there.
  if (!(c.volumeMounts ?? []).some((m: any) => m.mountPath === `${home}/.mlflow`)) return undefined;
  return credentialFilesOf(pod, { ...c, env: [{ name: 'MLFLOW_CREDENTIALS_FILE', value: path }] }).MLFLOW_CREDENTIALS;
}

const CASES: [Database, Store, Auth][] = (['embedded', 'external'] as Database[]).flatMap((d) =>
  (['embedded', 'static', 'identity'] as Store[]).flatMap((s) => (['basic', 'oidc'] as Auth[]).map((a) => [d, s, a] as [Database, Store, Auth])));

test('every credential env var left in any container is a documented "the program reads only env" case; every credential file resolves', () => {
  const seen = new Set<string>();
  const ours: string[] = [];
  const filesSeen = new Set<string>();
  for (const [d, s, a] of CASES) {
    for (const { label, workload } of workloadsOf(build(d, s, a))) {
      const pod = workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const who = reader(label, c.name);
        for (const name of Object.keys(secretEnvOf(c))) {
          seen.add(`${who}: ${name}`);
          if (!(ALLOWED[who] ?? []).includes(name)) ours.push(`[${d}, ${s}, ${a}] ${label} / ${c.name}: ${name}`);
        }
        // Throws when a *_FILE names a path no mounted Secret key backs.
        for (const name of Object.keys(credentialFilesOf(pod, c))) filesSeen.add(`${who}: ${name}`);
        if ((c.volumeMounts ?? []).some((m: any) => m.mountPath.endsWith('/.mlflow'))) {
          expect({ label, container: c.name, file: mlflowHomeFileOf(pod, c) }).toEqual({ label, container: c.name, file: { name: 'ml-tracking', key: 'credentials' } });
          filesSeen.add(`${who}: $HOME/.mlflow/credentials`);
        }
      }
    }
  }
  expect(ours).toEqual([]);
  // Exactly the allow-list: each entry occurs (the list is not wider than what is emitted).
  expect([...seen].sort()).toEqual(Object.entries(ALLOWED).flatMap(([who, names]) => names.map((n) => `${who}: ${n}`)).sort());
  // And the programs of ours do read their credentials from files (the check above is not vacuous).
  expect([...filesSeen].sort()).toEqual([
    // The image's entrypoint reads POSTGRES_PASSWORD_FILE (docker-library/postgres docker-entrypoint.sh file_env).
    'PostgreSQL image: POSTGRES_PASSWORD',
    'mlplatform program: AWS_ACCESS_KEY_ID', 'mlplatform program: AWS_SECRET_ACCESS_KEY',
    'mlplatform program: MLFLOW_TRACKING_PASSWORD', 'mlplatform program: MLFLOW_TRACKING_USERNAME',
    'mlplatform program: PGPASSWORD',
    'mlplatform program: SWEEP_DB_NAME', 'mlplatform program: SWEEP_DB_PASSWORD', 'mlplatform program: SWEEP_DB_USER',
    // The users' containers: the AWS shared credentials file (botocore/credentials.py SharedCredentialProvider) and
    // MLflow's ~/.mlflow/credentials, both INI keys the bootstrap writes (bootstrap.py ini_file); DVC the AWS one.
    'DVC: AWS_SHARED_CREDENTIALS',
    'MLflow server: AWS_SHARED_CREDENTIALS',
    'user step: $HOME/.mlflow/credentials', 'user step: AWS_SHARED_CREDENTIALS',
    'user trial: $HOME/.mlflow/credentials', 'user trial: AWS_SHARED_CREDENTIALS',
  ].sort());
});

test('credential files are 0440 on a pod with an fsGroup, and only the containers that read them mount them', () => {
  for (const { label, workload } of workloadsOf(build('embedded', 'embedded', 'basic'))) {
    const pod = workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
    const credentialVolumes = (pod.volumes ?? []).filter((v: any) => v.name.startsWith('credentials-'));
    const securityContext = pod.securityContext;
    for (const v of credentialVolumes) {
      const got = { label, volume: v.name, mode: v.projected.defaultMode, fsGroup: securityContext?.fsGroup !== undefined };
      expect(got).toEqual({ label, volume: v.name, mode: 0o440, fsGroup: true });
    }
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const mounted = (c.volumeMounts ?? []).filter((m: any) => m.name.startsWith('credentials-')).map((m: any) => m.mountPath);
      const told = (c.env ?? []).filter((e: any) => e.name.endsWith('_FILE') && e.value?.startsWith('/var/run/secrets/mlplatform/')).map((e: any) => e.value.replace(/\/[^/]+$/, ''));
      expect({ label, container: c.name, mounted: [...new Set(mounted)].sort() }).toEqual({ label, container: c.name, mounted: [...new Set(told)].sort() });
    }
  }
});

test('OAuth2 Proxy reads its client and cookie secrets from files (its client-secret-file and cookie-secret-file options)', () => {
  const tracking = build('embedded', 'embedded', 'oidc').find((o) => o.kind === 'Deployment' && o.metadata.name === 'ml-tracking').spec.template.spec;
  const proxy = tracking.containers.find((c: any) => c.name === 'oauth2-proxy');
  const flag = (name: string) => proxy.args.find((a: string) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  // The same resolution as credentialFilesOf, for a path given as a flag.
  const resolved = credentialFilesOf(tracking, { ...proxy, env: [{ name: 'CLIENT_SECRET_FILE', value: flag('client-secret-file') }, { name: 'COOKIE_SECRET_FILE', value: flag('cookie-secret-file') }] });
  expect(resolved).toEqual({ CLIENT_SECRET: { name: 'oidc', key: 'c' }, COOKIE_SECRET: { name: 'oidc', key: 'k' } });
  expect(Object.keys(secretEnvOf(proxy))).toEqual(['OAUTH2_PROXY_BASIC_AUTH_PASSWORD']);
  expect(tracking.volumes.find((v: any) => v.name === 'oauth2-proxy-secrets').projected.defaultMode).toBe(0o440);
  expect(tracking.securityContext.fsGroup).toBe(1000);
});

test('a user container whose HOME the user sets keeps the MLflow variables (the file\'s place depends on the image); the AWS file is mounted regardless', () => {
  const app = Testing.app();
  const chart = new Chart(app, 'platform');
  const platform = new MlPlatform(chart, 'ml', { namespace: 'mlplatform' });
  platform.addTenant('vision');
  const pipeline = new TrainingPipeline(chart, 'homes', { platform, namespace: 'vision', experiment: 'homes' });
  pipeline.addStep('own', { image: 'python:3.12-slim', command: ['python', '-c', 'pass'], env: { HOME: '/home/app' } });
  pipeline.addStep('library', { image: 'python:3.12-slim', command: ['python', '-c', 'pass'] });
  const wt = app.charts.flatMap((c) => c.toJson()).find((o: any) => o.kind === 'WorkflowTemplate' && o.metadata.namespace === 'vision');
  const pods = workloadsOf([wt]);
  const step = (name: string) => pods.find((w) => w.label.endsWith(`template step-${name}`))!.workload.spec.template.spec;
  const own = step('own');
  const lib = step('library');
  const c = (pod: any) => pod.containers[0];
  expect(Object.keys(secretEnvOf(c(own))).sort()).toEqual(['MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_USERNAME']);
  expect(mlflowHomeFileOf(own, c(own))).toBeUndefined();
  expect(credentialFilesOf(own, c(own))).toEqual({ AWS_SHARED_CREDENTIALS: { name: 'ml-store', key: 'credentials' } });
  expect(secretEnvOf(c(lib))).toEqual({});
  expect(mlflowHomeFileOf(lib, c(lib))).toEqual({ name: 'ml-tracking', key: 'credentials' });
  expect(credentialFilesOf(lib, c(lib))).toEqual({ AWS_SHARED_CREDENTIALS: { name: 'ml-store', key: 'credentials' } });
  expect(lib.securityContext.fsGroup).toBeDefined();
});

test('a Katib trial (its Experiment\'s trial Job) gets the same files, with fsGroup for their 0440 mode', () => {
  const app = Testing.app();
  const chart = new Chart(app, 'platform');
  const platform = new MlPlatform(chart, 'ml', { namespace: 'mlplatform' });
  platform.addTenant('vision');
  new TuningSweep(chart, 'katib', {
    platform,
    namespace: 'vision',
    engine: 'katib',
    trial: { image: 'ghcr.io/acme/train:1', command: ['python', '-m', 'train'] },
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
    objectives: [{ metric: 'val_loss', direction: 'minimize' }],
    budget: { trials: 4, workers: 2 },
  });
  const exp = app.charts.flatMap((c) => c.toJson()).find((o: any) => o.kind === 'Experiment');
  const pod = exp.spec.trialTemplate.trialSpec.spec.template.spec;
  const c = pod.containers[0];
  expect(secretEnvOf(c)).toEqual({});
  expect(credentialFilesOf(pod, c)).toEqual({ AWS_SHARED_CREDENTIALS: { name: 'ml-store', key: 'credentials' } });
  expect(mlflowHomeFileOf(pod, c)).toEqual({ name: 'ml-tracking', key: 'credentials' });
  expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
  expect(pod.volumes.filter((v: any) => v.projected).map((v: any) => [v.name, v.projected.defaultMode])).toEqual([['credentials-aws', 0o440], ['mlflow-credentials', 0o440]]);
});

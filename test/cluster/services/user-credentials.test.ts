/**
 * Issue #20 item 5, the users' own containers: a pipeline step and a sweep trial of the example get the
 * tenant's store keys as the AWS shared credentials file and the tenant's MLflow user as
 * `$HOME/.mlflow/credentials`, both INI keys the bootstrap writes (src/programs/bootstrap.py `ini_file`).
 * Proven end to end: the INI text comes from bootstrap.py itself (values with `%`, `=`, `#`, `;`), the
 * synthesized pod runs in the kubelet harness (test/cluster/kubelet: the kubelet's mount layout, the
 * nested `/tmp/.mlflow` Secret mount in the `/tmp` emptyDir, 0440 files with the pod's fsGroup, the
 * container's uid), and inside it botocore's own credential chain (botocore/credentials.py
 * `create_credential_resolver`: env, then SharedCredentialProvider reading AWS_SHARED_CREDENTIALS_FILE)
 * and MLflow's own (mlflow/utils/credentials.py `read_mlflow_creds`: env, then ~/.mlflow/credentials,
 * read with ConfigParser interpolation) resolve the tenant's identity.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Testing } from 'cdk8s';
import { buildExample } from '../../../examples/cdk8s-platform/platform';
import { VERSIONS } from '../../../src/core';
import { Kubelet } from '../kubelet/kubelet';
import { workloadsOf } from '../kubelet/readability';
import { KubeObject, MemorySource } from '../kubelet/source';

const TIMEOUT = 120_000;
const PROGRAMS = resolve(__dirname, '../../../src/programs');

/** The Secret data bootstrap.py writes for `files` over `data` (its own ini_file, with the system Python). */
function bootstrapIni(files: any, data: Record<string, string>): Record<string, string> {
  const code = 'import json, sys; sys.path.insert(0, sys.argv[1]); import bootstrap as B; a = json.load(sys.stdin); print(json.dumps(B.with_files({"files": a["files"]}, a["data"], "test")))';
  const r = spawnSync('/usr/bin/python3', ['-c', code, PROGRAMS], { input: JSON.stringify({ files, data }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

// Values an INI writer must not spoil: `%` (ConfigParser interpolation), `=`/`:` (delimiters), `#`/`;` (comments).
const STORE = { accessKeyId: 'AKIA%VISION=1', secretAccessKey: 'se;cr#et/%(x)s=+:' };
const TRACKING = { username: 'vision', password: 'pa%ss=wo;rd#%(home)s' };

/** Inside the container: what botocore's and MLflow's own resolution find, as JSON. */
const PROBE = [
  'import json, os, botocore.session',
  'from mlflow.utils.credentials import read_mlflow_creds',
  'c = botocore.session.get_session().get_credentials()',
  'm = read_mlflow_creds()',
  'print(json.dumps({"uid": os.getuid(), "aws": [c.method, c.access_key, c.secret_key] if c else None, "mlflow": [m.username, m.password],',
  '  "env": sorted(k for k in os.environ if k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"))}))',
].join('\n');

describe('users\' containers read the tenant\'s credentials from the bootstrap-written INI files', () => {
  let kubelet: Kubelet;
  const app = Testing.app();
  buildExample(app);
  const objects = app.charts.flatMap((c) => c.toJson()) as KubeObject[];
  const plan = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'ml-bootstrap')!.data['plan.json']);
  const source = new MemorySource(objects);

  beforeAll(() => {
    // The tenant Secrets as the bootstrap writes them, with the plan's own `files` specs.
    const storeFiles = plan.generate.find((g: any) => g.namespace === 'vision' && g.name === 'ml-store').files;
    const trackingFiles = plan.mlflowUsers.users.find((u: any) => u.secret.namespace === 'vision').files;
    source.putSecret('vision', 'ml-store', bootstrapIni(storeFiles, STORE));
    source.putSecret('vision', 'ml-tracking', bootstrapIni(trackingFiles, TRACKING));
    // The sweep pod also mounts the study database login (its Optuna container's files): present, not probed.
    source.putSecret('vision', 'ml-database', { username: 'ml_tenant_vision', password: 'x', database: 'ml_studies_vision' });
    kubelet = new Kubelet({ source, dir: mkdtempSync(join(tmpdir(), 'user-credentials-')), maxGraceMs: 2000 });
  });
  afterAll(async () => {
    await kubelet?.stop();
  });

  /** The synthesized pod of `label`, its user container running the probe in the MLflow image's stand-in (venv MLflow + Debian botocore). */
  async function probe(label: string, container: string, extraEnv: any[] = []): Promise<any> {
    const w = workloadsOf(objects).find((x) => x.label === label)!.workload;
    const workload = JSON.parse(JSON.stringify(w));
    const spec = workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
    // Only the user's container, as the pod declares it (env, mounts, security context), with the probe as its program.
    spec.initContainers = [];
    spec.containers = spec.containers.filter((c: any) => c.name === container).map((c: any) => ({ ...c, image: VERSIONS.images.mlflow, command: ['python3', '-c', PROBE], args: [], env: [...(c.env ?? []), ...extraEnv] }));
    spec.restartPolicy = 'Never';
    const pod = kubelet.run(workload);
    const exit = await pod.waitForExit(container, TIMEOUT / 2);
    const out = pod.log(container);
    expect({ code: exit.code, out }).toEqual({ code: 0, out: expect.any(String) });
    return { ...JSON.parse(out.trim().split('\n').pop()!), runAsUser: spec.securityContext.runAsUser };
  }

  test.each([
    ['a pipeline step', 'WorkflowTemplate vision/resnet template step-train', 'main'],
    ['a multi-node step\'s node', 'WorkflowTemplate vision/resnet template step-finetune', 'node'],
    ['the exit handler', 'WorkflowTemplate vision/resnet template exit-handler', 'main'],
    ['a sweep trial', (o: KubeObject[]) => workloadsOf(o).find((w) => /^Job vision\/resnet-sweep-workers-/.test(w.label))!.label, 'trial'],
  ])('%s: botocore finds the store keys in the shared credentials file, MLflow the user in ~/.mlflow/credentials, as the container\'s uid', async (_what, label, container) => {
    const got = await probe(typeof label === 'string' ? label : label(objects), container);
    expect(got).toEqual({
      uid: got.runAsUser,
      runAsUser: expect.any(Number),
      // "shared-credentials-file": botocore's SharedCredentialProvider.METHOD.
      aws: ['shared-credentials-file', STORE.accessKeyId, STORE.secretAccessKey],
      mlflow: [TRACKING.username, TRACKING.password],
      env: [],
    });
    expect(got.uid).not.toBe(0);
  }, TIMEOUT);

  test('control: with the variables the containers had before, they win over the files (why they had to go)', async () => {
    source.putSecret('vision', 'env-keys', { id: 'AKIA-FROM-ENV', secret: 'from-env', user: 'env-user', pass: 'env-pass' });
    const env = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: 'env-keys', key } } });
    const got = await probe('WorkflowTemplate vision/resnet template step-train', 'main', [
      env('AWS_ACCESS_KEY_ID', 'id'), env('AWS_SECRET_ACCESS_KEY', 'secret'), env('MLFLOW_TRACKING_USERNAME', 'user'), env('MLFLOW_TRACKING_PASSWORD', 'pass'),
    ]);
    // botocore's EnvProvider.METHOD "env"; MLflow's read_mlflow_creds prefers the variables.
    expect({ aws: got.aws, mlflow: got.mlflow }).toEqual({ aws: ['env', 'AKIA-FROM-ENV', 'from-env'], mlflow: ['env-user', 'env-pass'] });
  }, TIMEOUT);
});

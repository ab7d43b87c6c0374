/**
 * `verify-ca`/`verify-full` to an external PostgreSQL (issue #21 item 3): the CA option is required and
 * checked, and every database client mounts the CA bundle where `PGSSLROOTCERT` points — the tracking
 * server, the bootstrap (whose plan names the file), and a sweep's Optuna containers in a tenant
 * namespace, from the copy the bootstrap writes there. test/engine/database-tls.test.ts connects with
 * these objects to a real PostgreSQL 15 with TLS.
 */
import { Chart, Testing } from 'cdk8s';
import { MlPlatform, TuningSweep } from '../../src/cdk8s';
import { BackendStore, ExternalDatabaseOptions, StudyStorage } from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject } from '../support/synth';

const CA = { name: 'rds-ca', key: 'global-bundle.pem' };
const external = (o: Partial<ExternalDatabaseOptions> = {}) => BackendStore.external({
  host: 'ml.abc123.eu-west-1.rds.amazonaws.com',
  database: 'mlflow',
  sslMode: 'verify-full',
  caCertificate: CA,
  username: { name: 'rds', key: 'username' },
  password: { name: 'rds', key: 'password' },
  ...o,
});
const SWEEP = {
  trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'] },
  parameters: [{ name: 'lr', type: 'float' as const, low: 1e-5, high: 1e-1, log: true }],
  objectives: [{ metric: 'loss', direction: 'minimize' as const }],
  budget: { trials: 4, workers: 2 },
};

function synth(backendStore: BackendStore, sweepStorage?: StudyStorage): K8sObject[] {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const platform = new MlPlatform(chart, 'ml', { backendStore });
  platform.addTenant('team-a');
  platform.addTenant('team-b');
  new TuningSweep(chart, 'hp', { platform, namespace: 'team-a', ...SWEEP, ...(sweepStorage ? { storage: sweepStorage } : {}), dashboard: true });
  return chart.toJson() as K8sObject[];
}

const CA_VOLUME = (secretName: string, key: string) => ({ name: 'database-ca', secret: { secretName, items: [{ key, path: 'ca.crt' }], defaultMode: 0o444 } });
const CA_MOUNT = { name: 'database-ca', mountPath: '/etc/mlplatform/database-ca', readOnly: true };
const CA_ENV = { name: 'PGSSLROOTCERT', value: '/etc/mlplatform/database-ca/ca.crt' };

describe('validation', () => {
  test.each(['verify-full', 'verify-ca'] as const)('BackendStore.external with %s and no caCertificate fails, naming the prop and the fix', (sslMode) => {
    const e = validationError(() => synth(external({ sslMode, caCertificate: undefined })));
    expect(e.issues.map((i) => i.path)).toEqual(['backendStore.caCertificate']);
    expect(e.message).toContain(`\`backendStore.caCertificate\` (undefined): is required with sslMode '${sslMode}': give the Secret key holding the server's CA bundle (PEM)`);
  });

  test('a caCertificate with an sslMode that verifies nothing, and one without a key, fail', () => {
    const e = validationError(() => synth(external({ sslMode: 'require' })));
    expect(e.issues.map((i) => i.path)).toEqual(['backendStore.caCertificate']);
    expect(e.message).toContain("is used only with sslMode 'verify-full' or 'verify-ca' (sslMode is 'require')");
    const e2 = validationError(() => synth(external({ caCertificate: { name: 'rds-ca' } as any })));
    expect(e2.issues.map((i) => i.path)).toEqual(['backendStore.caCertificate.key']);
  });

  test('StudyStorage.postgres: the same rule', () => {
    const pg = { host: 'pg.example.com', database: 'optuna', username: { name: 'pg', key: 'u' }, password: { name: 'pg', key: 'p' } };
    const e = validationError(() => synth(BackendStore.embedded(), StudyStorage.postgres({ ...pg, sslMode: 'verify-full' })));
    expect(e.issues.map((i) => i.path)).toEqual(['storage.caCertificate']);
    expect(e.message).toContain("is required with sslMode 'verify-full'");
    expect(validationError(() => synth(BackendStore.embedded(), StudyStorage.postgres({ ...pg, caCertificate: { name: 'pg-ca', key: 'ca.pem' } }))).issues.map((i) => i.path))
      .toEqual(['storage.caCertificate']);
  });

  test('without verification nothing is mounted (require, the default)', () => {
    const objects = synth(external({ sslMode: 'require', caCertificate: undefined }));
    expect(JSON.stringify(objects)).not.toContain('PGSSLROOTCERT');
    expect(JSON.stringify(objects)).not.toContain('database-ca');
  });
});

describe('verify-full with the CA of a Secret in the platform namespace', () => {
  const objects = synth(external());

  test('the manifests are valid', () => {
    expect(expectValidManifests(objects).errors).toEqual([]);
  });

  test('the tracking server mounts the CA (world-readable) and points libpq at it; the URI asks for verify-full', () => {
    const pod = find(objects, 'Deployment', 'ml-tracking', 'mlplatform').spec.template.spec;
    expect(pod.volumes).toContainEqual(CA_VOLUME(CA.name, CA.key));
    const mlflow = pod.containers.find((c: any) => c.name === 'mlflow');
    expect(mlflow.volumeMounts).toContainEqual(CA_MOUNT);
    expect(mlflow.env).toContainEqual(CA_ENV);
  });

  test('the bootstrap Job mounts it too, and its plan names the file; the tracking URIs carry sslmode=verify-full', () => {
    const cm = find(objects, 'ConfigMap', 'ml-bootstrap', 'mlplatform');
    const plan = JSON.parse(cm.data['plan.json']);
    expect(plan.database).toMatchObject({ host: 'ml.abc123.eu-west-1.rds.amazonaws.com', sslMode: 'verify-full', sslRootCert: CA_ENV.value });
    const job = findAll(objects, 'Job').find((j) => j.metadata.name?.startsWith('ml-bootstrap-'))!;
    const pod = job.spec.template.spec;
    expect(pod.volumes).toContainEqual(CA_VOLUME(CA.name, CA.key));
    expect(pod.containers[0].volumeMounts).toContainEqual(CA_MOUNT);
    const config = plan.compose.find((c: any) => c.name === 'ml-tracking-config').keys;
    expect(config['backend-store-uri']).toMatch(/@ml\.abc123\.eu-west-1\.rds\.amazonaws\.com:5432\/mlflow\?sslmode=verify-full$/);
    expect(config['basic_auth.ini']).toMatch(/database_uri = postgresql\+psycopg2:.*\?sslmode=verify-full\n/);
  });

  test('the bootstrap copies the CA into each tenant namespace, and may read the source and write the copies only', () => {
    const plan = JSON.parse(find(objects, 'ConfigMap', 'ml-bootstrap', 'mlplatform').data['plan.json']);
    expect(plan.copy.filter((c: any) => c.to.name === 'ml-database-ca')).toEqual(['team-a', 'team-b'].map((ns) => ({
      from: { namespace: 'mlplatform', name: CA.name }, to: { namespace: ns, name: 'ml-database-ca' }, keys: { 'ca.crt': CA.key },
    })));
    const names = (ns: string) => find(objects, 'Role', 'ml-bootstrap', ns).rules.find((r: any) => r.resourceNames)?.resourceNames;
    expect(names('mlplatform')).toContain(CA.name);
    for (const ns of ['team-a', 'team-b']) expect(names(ns)).toContain('ml-database-ca');
  });

  test("a sweep on the platform's database: every Optuna container (create, wait, worker, dashboard) mounts the tenant's copy; the trial does not", () => {
    const containers: [string, any, any][] = [];
    for (const o of objects.filter((x) => x.metadata.namespace === 'team-a' && ['Job', 'Deployment'].includes(x.kind))) {
      const pod = o.spec.template.spec;
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) containers.push([`${o.kind}/${o.metadata.name}/${c.name}`, c, pod]);
    }
    const clients = containers.filter(([, c]) => (c.env ?? []).some((e: any) => e.name === 'SWEEP_DB_HOST'));
    expect(clients.map(([n]) => n.split('/').slice(-1)[0]).sort()).toEqual(['create', 'dashboard', 'optuna', 'wait-for-study']);
    for (const [name, c, pod] of clients) {
      expect({ name, env: c.env }).toEqual({ name, env: expect.arrayContaining([CA_ENV, { name: 'SWEEP_DB_SSLMODE', value: 'verify-full' }]) });
      expect({ name, mounts: c.volumeMounts }).toEqual({ name, mounts: expect.arrayContaining([CA_MOUNT]) });
      expect({ name, volumes: pod.volumes }).toEqual({ name, volumes: expect.arrayContaining([CA_VOLUME('ml-database-ca', 'ca.crt')]) });
    }
    const trial = containers.find(([n]) => n.endsWith('/trial'))!;
    expect(trial[1].volumeMounts).not.toContainEqual(CA_MOUNT);
  });

  test('StudyStorage.postgres with its own CA: the Secret of the sweep namespace is mounted as is', () => {
    const own = synth(BackendStore.embedded(), StudyStorage.postgres({
      host: 'pg.example.com',
      database: 'optuna',
      sslMode: 'verify-ca',
      caCertificate: { name: 'pg-ca', key: 'ca.pem' },
      username: { name: 'pg', key: 'u' },
      password: { name: 'pg', key: 'p' },
    }));
    expectValidManifests(own);
    const workers = findAll(own, 'Job').find((j) => j.metadata.namespace === 'team-a' && j.spec.completionMode === 'Indexed')!.spec.template.spec;
    expect(workers.volumes).toContainEqual(CA_VOLUME('pg-ca', 'ca.pem'));
    expect(workers.containers.find((c: any) => c.name === 'optuna').env).toContainEqual(CA_ENV);
    // The platform's database is embedded: no CA for it anywhere.
    expect(find(own, 'Deployment', 'ml-tracking', 'mlplatform').spec.template.spec.volumes).not.toContainEqual(expect.objectContaining({ name: 'database-ca' }));
  });
});

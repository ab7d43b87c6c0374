import { Testing } from 'cdk8s';
import { buildPlatform } from '../../examples/cdk8s-platform/platform';
import { MlPlatform, TrainingPipeline } from '../../src/cdk8s';
import {
  AddonDelivery, ArtifactStore, BackendStore, Cpu, Dataset, Exposure, Size, TrackingAuth,
} from '../../src/core';
import { validationError } from '../support/errors';
import { expectValidManifests } from '../support/expect-valid';
import { find, findAll, K8sObject, podSpecs, synthChart } from '../support/synth';

function minimal(): K8sObject[] {
  return synthChart((chart) => new MlPlatform(chart, 'ml')).objects;
}

function example(): K8sObject[] {
  const app = Testing.app();
  const { chart } = buildPlatform(app);
  return chart.toJson() as K8sObject[];
}

function args(objects: K8sObject[], kind: string, name: string, container = 0): string[] {
  return find(objects, kind, name).spec.template.spec.containers[container].args;
}

function env(c: any): Record<string, any> {
  return Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

function plan(objects: K8sObject[]): any {
  return JSON.parse(find(objects, 'ConfigMap', 'ml-bootstrap').data['plan.json']);
}

describe('MlPlatform: snapshots and strict validation', () => {
  test('minimal props', () => {
    const objects = minimal();
    expectValidManifests(objects);
    expect(objects).toMatchSnapshot();
  });

  test('every prop (the README example)', () => {
    const objects = example();
    expectValidManifests(objects);
    expect(objects).toMatchSnapshot();
  });

  test('external database, external S3 with workload identity, OIDC, Ingress, Flux', () => {
    const { objects } = synthChart((chart) => new MlPlatform(chart, 'ml', {
      backendStore: BackendStore.external({ host: 'db.internal.example.com', database: 'mlflow', username: { name: 'rds', key: 'username' }, password: { name: 'rds', key: 'password' } }),
      artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', prefix: 'platform', credentials: { workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' } } } }),
      tracking: { autoscaling: { minReplicas: 2, maxReplicas: 5 }, auth: TrackingAuth.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mlflow', clientSecret: { name: 'oidc', key: 'client-secret' }, cookieSecret: { name: 'oidc', key: 'cookie-secret' }, emailDomains: ['example.com'], adminGroups: ['ml-admins'] }) },
      exposure: Exposure.ingress({ host: 'mlflow.example.com', className: 'traefik', tls: { clusterIssuer: 'letsencrypt' } }),
      addons: { delivery: AddonDelivery.flux(), keda: true },
    }));
    expectValidManifests(objects);
    expect(objects).toMatchSnapshot();
    expect(findAll(objects, 'StatefulSet')).toEqual([]);
    expect(findAll(objects, 'CronJob')).toEqual([]);
    expect(find(objects, 'ServiceAccount', 'ml-tracking').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' });
    expect(find(objects, 'HorizontalPodAutoscaler', 'ml-tracking').spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(find(objects, 'Deployment', 'ml-tracking').spec.replicas).toBeUndefined();
    expect(find(objects, 'PodDisruptionBudget', 'ml-tracking').spec.minAvailable).toBe(1);
    expect(find(objects, 'Ingress', 'ml-tracking').spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'ml-tracking', port: { number: 4180 } });
    expect(findAll(objects, 'HelmRelease').map((o) => o.metadata.name).sort()).toEqual(['argo-workflows', 'cert-manager', 'keda']);
    expect(plan(objects).compose.find((c: any) => c.name === 'ml-tracking-config').keys['backend-store-uri'])
      .toBe('postgresql+psycopg2://{{secret:mlplatform/ml-tracking-database:username|url}}:{{secret:mlplatform/ml-tracking-database:password|url}}@db.internal.example.com:5432/mlflow?sslmode=require');
    // The master login (Secret `rds`) is the bootstrap's alone: it creates the tracking server's role with it.
    expect(plan(objects).database.admin).toEqual({ namespace: 'mlplatform', name: 'rds', usernameKey: 'username', passwordKey: 'password' });
  });
});

describe('MlPlatform: tracking server', () => {
  test('MLflow with proxied artifacts, basic-auth and the host allow-list', () => {
    const objects = minimal();
    const a = args(objects, 'Deployment', 'ml-tracking');
    expect(a.slice(0, 11)).toEqual(['server', '--host', '0.0.0.0', '--port', '5000', '--workers', '2', '--backend-store-uri', '$(MLFLOW_BACKEND_STORE_URI)', '--serve-artifacts', '--artifacts-destination']);
    expect(a[11]).toBe('s3://mlplatform/mlartifacts');
    expect(a).toEqual(expect.arrayContaining(['--app-name', 'basic-auth']));
    const hosts = a[a.indexOf('--allowed-hosts') + 1].split(',');
    expect(hosts).toEqual(expect.arrayContaining(['ml-tracking.mlplatform.svc.cluster.local', 'ml-tracking.mlplatform.svc.cluster.local:*', 'ml-tracking:*']));
    const c = find(objects, 'Deployment', 'ml-tracking').spec.template.spec.containers[0];
    expect(c.image).toBe('ghcr.io/mlflow/mlflow:v3.18.0-full');
    expect(env(c)).toMatchObject({
      MLFLOW_BACKEND_STORE_URI: { secretKeyRef: { name: 'ml-tracking-config', key: 'backend-store-uri' } },
      MLFLOW_S3_ENDPOINT_URL: 'http://ml-s3.mlplatform.svc.cluster.local:8333',
      // The store identity as the INI file the bootstrap writes into its Secret (boto3's shared-credentials file).
      AWS_SHARED_CREDENTIALS_FILE: '/var/run/secrets/mlplatform/aws/credentials',
      MLFLOW_AUTH_CONFIG_PATH: '/etc/mlflow-auth/basic_auth.ini',
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    });
    expect(env(c).AWS_ACCESS_KEY_ID).toBeUndefined();
    const pod = find(objects, 'Deployment', 'ml-tracking').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'credentials-aws').projected).toEqual({
      defaultMode: 0o440, sources: [{ secret: { name: 'ml-s3-credentials', items: [{ key: 'credentials', path: 'credentials' }] } }],
    });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBe(300);
    expect(find(objects, 'PodDisruptionBudget', 'ml-tracking').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'ml-tracking', 'app.kubernetes.io/part-of': 'ml' } } });
    expect(find(objects, 'Deployment', 'ml-tracking').spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test('workers and server options', () => {
    const { objects } = synthChart((chart) => new MlPlatform(chart, 'ml', { tracking: { workers: 4, serverOptions: '--timeout-keep-alive 120' } }));
    const a = args(objects, 'Deployment', 'ml-tracking');
    expect(a.slice(5, 9)).toEqual(['--workers', '4', '--uvicorn-opts', '--timeout-keep-alive 120']);
    expect(validationError(() => synthChart((chart) => new MlPlatform(chart, 'ml', { tracking: { workers: 0, serverOptions: 'a\nb' } }))).issues.map((i) => i.path))
      .toEqual(['tracking.workers', 'tracking.serverOptions']);
  });

  test('authentication off only when said, with the reason on the Deployment', () => {
    const { objects } = synthChart((chart) => new MlPlatform(chart, 'ml', { tracking: { auth: TrackingAuth.disabled('behind the corporate SSO proxy') } }));
    expect(args(objects, 'Deployment', 'ml-tracking')).not.toContain('--app-name');
    expect(find(objects, 'Deployment', 'ml-tracking').metadata.annotations).toEqual({ 'mlplatform.io/auth-disabled-reason': 'behind the corporate SSO proxy' });
    expect(plan(objects).mlflowUsers).toBeUndefined();
  });
});

describe('MlPlatform: embedded stores and credentials', () => {
  test('PostgreSQL StatefulSet on a PVC, password from the generated Secret, nightly backups', () => {
    const objects = example();
    const sts = find(objects, 'StatefulSet', 'ml-postgres');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('20Gi');
    const c = sts.spec.template.spec.containers[0];
    expect(c.image).toBe('docker.io/library/postgres:17.11-alpine3.24');
    expect(env(c)).toMatchObject({ POSTGRES_PASSWORD_FILE: '/run/secrets/postgres/password', PGDATA: '/var/lib/postgresql/data/pgdata' });
    expect(sts.spec.template.spec.securityContext).toMatchObject({ runAsUser: 70, fsGroup: 70, runAsNonRoot: true });
    const backup = find(objects, 'CronJob', 'ml-backup');
    expect(backup.spec.schedule).toBe('0 3 * * *');
    expect(backup.spec.concurrencyPolicy).toBe('Forbid');
    const upload = backup.spec.jobTemplate.spec.template.spec.containers[0];
    expect(env(upload)).toMatchObject({ BUCKET: 'ml-artifacts', BACKUP_PREFIX: 'backups/postgres/', KEEP: '14' });
  });

  test('SeaweedFS object store with S3 identities from the generated Secret', () => {
    const objects = minimal();
    const sts = find(objects, 'StatefulSet', 'ml-s3');
    const c = sts.spec.template.spec.containers[0];
    expect(c.image).toBe('docker.io/chrislusf/seaweedfs:4.00');
    expect(c.args).toEqual(expect.arrayContaining(['server', '-s3', '-s3.port=8333', '-s3.config=/etc/seaweedfs/s3.json']));
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('50Gi');
    expect(find(objects, 'Service', 'ml-s3').spec.ports).toEqual([{ name: 's3', port: 8333, targetPort: 's3' }]);
  });

  test('no credential in plain text: Secrets only empty (the ones the bootstrap fills), every secret env var is a reference', () => {
    for (const objects of [minimal(), example()]) {
      expect(findAll(objects, 'Secret').filter((s) => (s as any).data !== undefined || (s as any).stringData !== undefined || s.type !== 'Opaque')).toEqual([]);
      for (const spec of objects.flatMap((o) => podSpecs(o))) {
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          for (const e of c.env ?? []) {
            if (/PASSWORD|SECRET|TOKEN|ACCESS_KEY/.test(e.name) && !e.name.endsWith('_FILE')) {
              expect({ name: e.name, valueFrom: e.valueFrom?.secretKeyRef !== undefined }).toEqual({ name: e.name, valueFrom: true });
            }
          }
        }
      }
    }
  });

  test('the bootstrap plan: the superuser and the store admin stay in the platform namespace; each tenant gets its own database role and store identity', () => {
    const p = plan(example());
    expect(p.generate.map((g: any) => `${g.namespace}/${g.name}`)).toEqual([
      'mlplatform/ml-postgres-credentials', 'mlplatform/ml-tracking-database', 'mlplatform/ml-s3-credentials', 'mlplatform/ml-mlflow-admin', 'mlplatform/ml-tracking-config-key',
      'vision/ml-store', 'vision/ml-database', 'nlp/ml-store', 'nlp/ml-database',
    ]);
    expect(p.generate[0].keys).toEqual({ username: { value: 'mlflow' }, password: { randomBytes: 24 } });
    expect(p.generate[1]).toEqual({ namespace: 'mlplatform', name: 'ml-tracking-database', keys: { username: { value: 'ml_tracking' }, password: { randomBytes: 24 } }, replaceWhenDifferent: true });
    expect(p.generate.find((g: any) => g.namespace === 'vision' && g.name === 'ml-database')).toEqual({
      namespace: 'vision', name: 'ml-database', keys: { username: { value: 'ml_tenant_vision' }, password: { randomBytes: 24 }, database: { value: 'ml_studies_vision' } }, replaceWhenDifferent: true,
    });
    expect(p.generate.find((g: any) => g.namespace === 'vision' && g.name === 'ml-store')).toEqual({
      namespace: 'vision',
      name: 'ml-store',
      keys: { accessKeyId: { randomBytes: 10 }, secretAccessKey: { randomBytes: 20 } },
      replaceWhenDifferent: true,
      // The AWS shared credentials file of the same keys, for the users' containers (bootstrap.py ini_file).
      files: { credentials: { section: 'default', values: { aws_access_key_id: 'accessKeyId', aws_secret_access_key: 'secretAccessKey' }, interpolation: false } },
    });
    const config = p.compose.find((c: any) => c.name === 'ml-tracking-config').keys;
    expect(config['backend-store-uri']).toBe('postgresql+psycopg2://{{secret:mlplatform/ml-tracking-database:username|url}}:{{secret:mlplatform/ml-tracking-database:password|url}}@ml-postgres.mlplatform.svc.cluster.local:5432/mlflow');
    expect(config['basic_auth.ini']).toContain('admin_password = {{secret:mlplatform/ml-mlflow-admin:password|ini}}');
    expect(config['basic_auth.ini']).toContain('database_uri = postgresql+psycopg2://{{secret:mlplatform/ml-tracking-database:username|url|ini}}:');
    // No template anywhere outside the platform namespace names a platform-namespace Secret; nothing is copied.
    expect(p.copy).toEqual([]);
    for (const c of p.compose.filter((x: any) => x.namespace !== 'mlplatform')) expect(JSON.stringify(c.keys)).not.toContain('{{secret:mlplatform/');
    expect(p.database).toEqual({
      host: 'ml-postgres.mlplatform.svc.cluster.local',
      port: 5432,
      database: 'mlflow',
      sslMode: 'disable',
      admin: { namespace: 'mlplatform', name: 'ml-postgres-credentials', usernameKey: 'username', passwordKey: 'password' },
      tracking: { role: 'ml_tracking', secret: { namespace: 'mlplatform', name: 'ml-tracking-database', passwordKey: 'password' } },
      tenants: [
        { role: 'ml_tenant_vision', database: 'ml_studies_vision', secret: { namespace: 'vision', name: 'ml-database', passwordKey: 'password' } },
        { role: 'ml_tenant_nlp', database: 'ml_studies_nlp', secret: { namespace: 'nlp', name: 'ml-database', passwordKey: 'password' } },
      ],
    });
    // Each user's Secret also holds MLflow's ~/.mlflow/credentials (`%` doubled: MLflow reads it with ConfigParser).
    const mlflowFile = { credentials: { section: 'mlflow', values: { mlflow_tracking_username: 'username', mlflow_tracking_password: 'password' }, interpolation: true } };
    expect(p.mlflowUsers.users).toEqual([
      { username: 'vision', secret: { namespace: 'vision', name: 'ml-tracking' }, files: mlflowFile },
      { username: 'nlp', secret: { namespace: 'nlp', name: 'ml-tracking' }, files: mlflowFile },
    ]);
    expect(p.bucket).toMatchObject({ name: 'ml-artifacts', endpoint: 'http://ml-s3.mlplatform.svc.cluster.local:8333' });
    expect(p.restarts).toEqual([{ secret: { namespace: 'mlplatform', name: 'ml-s3-credentials' }, workload: { resource: 'statefulsets', namespace: 'mlplatform', name: 'ml-s3' } }]);
  });

  test("the store's identities: the platform's admin one, and one per tenant limited to its own prefixes", () => {
    const p = plan(example());
    const s3 = JSON.parse(p.compose.find((c: any) => c.name === 'ml-s3-credentials').keys['s3.json']);
    const scoped = (ns: string) => ['Read', 'Write', 'List', 'Tagging'].map((v) => `${v}:ml-artifacts/pipelines/${ns}/*`)
      .concat(['Read', 'Write', 'List', 'Tagging'].map((v) => `${v}:ml-artifacts/endpoints/${ns}/*`));
    expect(s3.identities.map((i: any) => [i.name, i.credentials[0].accessKey])).toEqual([
      ['platform', '{{secret:mlplatform/ml-s3-credentials:accessKeyId}}'],
      ['tenant-vision', '{{secret:vision/ml-store:accessKeyId}}'],
      ['tenant-nlp', '{{secret:nlp/ml-store:accessKeyId}}'],
    ]);
    expect(s3.identities[0].actions).toEqual(['Admin', 'Read', 'Write', 'List', 'Tagging']);
    expect(s3.identities[1].actions).toEqual(scoped('vision'));
    expect(s3.identities[2].actions).toEqual(scoped('nlp'));
  });

  test('a read granted to a workload of a tenant is added read-only to that tenant alone', () => {
    const { objects } = synthChart((chart) => {
      const platform = new MlPlatform(chart, 'ml');
      platform.addTenant('a');
      platform.addTenant('b');
      const pipeline = new TrainingPipeline(chart, 'p', {
        platform,
        namespace: 'a',
        steps: [{ name: 'fit', image: 'python:3.11-slim', command: ['python', '-c', 'pass'], inputs: { data: Dataset.fromBucket({ prefix: 'datasets/cifar10', version: 'v3' }) } }],
      });
      platform.storeLocation('datasets/cifar10').grantRead(pipeline);
    });
    const p = plan(objects);
    const s3 = JSON.parse(p.compose.find((c: any) => c.name === 'ml-s3-credentials').keys['s3.json']);
    expect(s3.identities[1].actions).toEqual(expect.arrayContaining(['Read:mlplatform/datasets/cifar10/v3/*', 'List:mlplatform/datasets/cifar10/v3/*']));
    expect(s3.identities[1].actions.filter((a: string) => a.includes('datasets'))).toHaveLength(2);
    expect(s3.identities[2].actions.filter((a: string) => a.includes('datasets'))).toEqual([]);
  });

  test('static store keys stay in the platform namespace: each tenant needs keys of its own', () => {
    const store = ArtifactStore.s3({ bucket: 'ml-data', region: 'us-east-1', endpoint: 'https://minio.lab.internal', credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'key' } } });
    expect(() => synthChart((chart) => new MlPlatform(chart, 'ml', { artifactStore: store }).addTenant('team'))).toThrow(
      /options\.storeCredentials.*static access keys, which never leave the platform namespace.*pipelines\/team\/, endpoints\/team\//);
    const { objects } = synthChart((chart) => new MlPlatform(chart, 'ml', { artifactStore: store })
      .addTenant('team', { storeCredentials: { accessKeyId: { name: 'team-s3', key: 'id' }, secretAccessKey: { name: 'team-s3', key: 'key' } } }));
    const p = plan(objects);
    expect(p.compose.find((c: any) => c.namespace === 'team' && c.name === 'ml-store').keys).toEqual({
      accessKeyId: '{{secret:mlplatform/team-s3:id}}', secretAccessKey: '{{secret:mlplatform/team-s3:key}}',
    });
    expect(JSON.stringify(p)).not.toContain('{{secret:mlplatform/s3:');
    expect(() => synthChart((chart) => new MlPlatform(chart, 'ml').addTenant('team', { storeCredentials: { accessKeyId: { name: 'x', key: 'id' }, secretAccessKey: { name: 'x', key: 'k' } } })))
      .toThrow(/options\.storeCredentials.*only for a store reached with static access keys/);
  });

  test('the bootstrap Role reads only the Secrets the plan names; the Job name follows the plan', () => {
    const objects = example();
    const role = find(objects, 'Role', 'ml-bootstrap', 'vision');
    // No `create` (Kubernetes cannot limit it by name): the Secrets it writes are in the manifests, empty.
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: ['ml-database', 'ml-store', 'ml-tracking'] },
    ]);
    expect(findAll(objects, 'Secret').filter((o) => o.metadata.namespace === 'vision').map((o) => [o.metadata.name, o.type, (o as any).data])).toEqual([
      ['ml-store', 'Opaque', undefined], ['ml-database', 'Opaque', undefined], ['ml-tracking', 'Opaque', undefined],
    ]);
    // In the platform namespace, it may also restart the store (and nothing else) when its identities change.
    expect(find(objects, 'Role', 'ml-bootstrap', 'mlplatform').rules[1]).toEqual({ apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['patch'], resourceNames: ['ml-s3'] });
    const job = findAll(objects, 'Job')[0];
    expect(job.metadata.name).toMatch(/^ml-bootstrap-[0-9a-f]{8}$/);
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(true);
    const other = synthChart((chart) => new MlPlatform(chart, 'ml')).objects;
    expect(findAll(other, 'Job')[0].metadata.name).not.toBe(job.metadata.name);
  });
});

describe('MlPlatform: network policies', () => {
  test('default deny plus exactly the platform traffic', () => {
    const objects = example();
    const names = findAll(objects, 'NetworkPolicy').filter((n) => n.metadata.namespace === 'mlplatform').map((n) => n.metadata.name).sort();
    expect(names).toEqual(['ml-allow-dns', 'ml-backup', 'ml-bootstrap', 'ml-default-deny', 'ml-postgres', 'ml-s3', 'ml-tracking']);
    expect(find(objects, 'NetworkPolicy', 'ml-default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const db = find(objects, 'NetworkPolicy', 'ml-postgres').spec;
    expect(db.policyTypes).toEqual(['Ingress']);
    expect(db.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
    expect(db.ingress[0].from.map((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? 'tenants')).toEqual(['ml-tracking', 'ml-bootstrap', 'ml-backup', 'tenants']);
    // From tenants, only their sweeps' Optuna pods (they log in with the tenant's own role).
    expect(db.ingress[0].from[3].podSelector).toEqual({ matchLabels: { 'mlplatform.io/database-client': 'true' } });
    const tracking = find(objects, 'NetworkPolicy', 'ml-tracking').spec;
    expect(tracking.ingress[1]).toEqual({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'envoy-gateway-system' } } }, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlplatform' } } }], ports: [{ protocol: 'TCP', port: 5000 }] });
  });
});

describe('MlPlatform: exposure', () => {
  test('own Gateway with a cert-manager certificate, GatewayClass and HTTPRoute', () => {
    const objects = example();
    const gw = find(objects, 'Gateway', 'mlplatform');
    expect(gw.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(gw.spec.listeners.map((l: any) => [l.name, l.protocol, l.port, l.hostname])).toEqual([
      ['http', 'HTTP', 80, 'mlflow.example.com'], ['https', 'HTTPS', 443, 'mlflow.example.com'],
      // The apps listeners endpoints and dashboards of the tenants attach to (test/cdk8s/ml-platform-apps.test.ts).
      ['apps-0-http', 'HTTP', 80, '*.models.example.com'], ['apps-0-https', 'HTTPS', 443, '*.models.example.com'],
    ]);
    expect(find(objects, 'GatewayClass', 'envoy-gateway').spec).toEqual({ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' });
    const route = find(objects, 'HTTPRoute', 'ml-tracking');
    expect(route.spec.hostnames).toEqual(['mlflow.example.com']);
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlplatform', namespace: 'mlplatform', sectionName: 'https' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([{ group: '', kind: 'Service', name: 'ml-tracking', port: 5000, weight: 1 }]);
  });

  test('a Gateway the user names: route only', () => {
    const { objects } = synthChart((chart) => new MlPlatform(chart, 'ml', { exposure: Exposure.gateway({ host: 'ml.example.com', gateway: { name: 'public', namespace: 'gateways' } }) }));
    expect(findAll(objects, 'Gateway')).toEqual([]);
    expect(find(objects, 'HTTPRoute', 'ml-tracking').spec.parentRefs[0]).toMatchObject({ name: 'public', namespace: 'gateways' });
    expect(findAll(objects, 'Application').map((a) => a.metadata.name)).toEqual(['argo-workflows']);
  });
});

describe('MlPlatform: pools, tenants and add-ons', () => {
  test('add-ons follow what the platform uses', () => {
    const objects = example();
    expect(findAll(objects, 'Application').map((a) => a.metadata.name).sort()).toEqual(['argo-workflows', 'cert-manager', 'gateway-helm', 'kueue', 'nvidia-device-plugin']);
    const plugin = find(objects, 'Application', 'nvidia-device-plugin').spec.source.helm.valuesObject;
    expect(Object.keys(plugin.config.map).sort()).toEqual(expect.arrayContaining(['default']));
    expect(plugin.config.map[Object.keys(plugin.config.map).find((k) => k !== 'default')!]).toContain('replicas: 4');
    const argo = find(objects, 'Application', 'argo-workflows').spec.source.helm.valuesObject;
    expect(argo.controller.workflowNamespaces).toEqual(expect.arrayContaining(['vision', 'nlp', 'mlplatform']));
  });

  test('tenant quota counts GPUs per pool resource', () => {
    const objects = example();
    const quota = find(objects, 'ResourceQuota', 'vision-quota', 'vision');
    expect(quota.spec.hard['requests.nvidia.com/gpu']).toBe('24');
    expect(find(objects, 'LocalQueue', 'vision', 'vision').spec.clusterQueue).toBe('ml-vision');
  });

  test('tenants reach services known only by port: the API server (Argo executor), an external database, a store endpoint', () => {
    // Only Argo's workflow pods (their executor), only to the API server's ranges (the private ones by default).
    const api = find(example(), 'NetworkPolicy', 'vision-allow-kube-apiserver', 'vision').spec;
    expect(api.podSelector).toEqual({ matchExpressions: [{ key: 'workflows.argoproj.io/workflow', operator: 'Exists' }] });
    expect(api.egress).toEqual([{
      to: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '172.16.0.0/12' } }, { ipBlock: { cidr: '192.168.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }],
    }]);
    const { objects } = synthChart((chart) => {
      const p = new MlPlatform(chart, 'ml', {
        backendStore: BackendStore.external({ host: '10.0.3.7', port: 6432, database: 'ml', username: { name: 'db', key: 'u' }, password: { name: 'db', key: 'p' } }),
        artifactStore: ArtifactStore.s3({ bucket: 'ml-data', region: 'us-east-1', endpoint: 'http://s3.lab.internal:9000', credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'key' } } }),
        addons: { argoWorkflows: false },
      });
      p.addTenant('team', { storeCredentials: { accessKeyId: { name: 'team-s3', key: 'id' }, secretAccessKey: { name: 'team-s3', key: 'key' } } });
    });
    expectValidManifests(objects);
    const ports = (name: string) => find(objects, 'NetworkPolicy', name, 'team').spec.egress[0].ports.map((x: any) => x.port);
    expect(ports('team-allow-database')).toEqual([6432]);
    expect(find(objects, 'NetworkPolicy', 'team-allow-database', 'team').spec.podSelector).toEqual({ matchLabels: { 'mlplatform.io/database-client': 'true' } });
    expect(ports('team-allow-store')).toEqual([9000]);
    expect(findAll(objects, 'NetworkPolicy').map((n) => n.metadata.name)).not.toContain('team-allow-kube-apiserver');
  });

  test('pools and tenants added after construction show up in the lazily rendered values', () => {
    const { objects } = synthChart((chart) => {
      const p = new MlPlatform(chart, 'ml');
      p.addTenant('late');
    });
    expect(find(objects, 'Application', 'argo-workflows').spec.source.helm.valuesObject.controller.workflowNamespaces).toContain('late');
  });

  test('context exposes what workloads need', () => {
    const app = Testing.app();
    const { platform } = buildPlatform(app);
    const ctx = platform.context;
    expect(ctx.tracking).toMatchObject({ uri: 'http://ml-tracking.mlplatform.svc.cluster.local:5000', auth: 'basic', credentials: { name: 'ml-tracking' } });
    expect(ctx.store).toMatchObject({ root: 's3://ml-artifacts', endpoint: 'http://ml-s3.mlplatform.svc.cluster.local:8333', insecure: true, credentials: { name: 'ml-store' } });
    expect(ctx.database).toMatchObject({ host: 'ml-postgres.mlplatform.svc.cluster.local', port: 5432, database: 'mlflow', credentials: { name: 'ml-database' } });
    expect(ctx.pools.map((p) => [p.pool, p.resourceName, p.allocatablePerNode])).toEqual([['a10g', 'nvidia.com/gpu', 1], ['h100', 'nvidia.com/gpu', 8], ['l4-shared', 'nvidia.com/gpu', 4]]);
    expect(ctx.pools[0].nodeSelector).toEqual({ 'mlplatform.io/accelerator': 'nvidia-a10g', 'mlplatform.io/gpu-pool': 'a10g' });
    expect(ctx.tenants.map((t) => [t.namespace, t.queueName])).toEqual([['vision', 'vision'], ['nlp', undefined]]);
    expect([...ctx.addons].sort()).toEqual(['argoWorkflows', 'certManager', 'envoyGateway', 'kueue', 'nvidiaDevicePlugin']);
    expect(ctx.exposure).toEqual({
      kind: 'gateway',
      gateway: { name: 'mlplatform', namespace: 'mlplatform', sectionName: 'https' },
      https: true,
      host: 'mlflow.example.com',
      apps: {
        name: 'mlplatform',
        namespace: 'mlplatform',
        listeners: [{ hostname: '*.models.example.com', sectionName: 'apps-0-https' }],
        https: true,
        proxyNamespace: 'envoy-gateway-system',
      },
    });
  });

  test('every container has requests and limits for CPU and memory', () => {
    for (const spec of example().flatMap((o) => podSpecs(o))) {
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect({ c: c.name, r: Object.keys(c.resources.requests).sort(), l: Object.keys(c.resources.limits).sort() })
          .toEqual({ c: c.name, r: expect.arrayContaining(['cpu', 'memory']), l: expect.arrayContaining(['cpu', 'memory']) });
      }
    }
  });
});

describe('MlPlatform: bad input fails at construction with every issue named', () => {
  const error = validationError;

  test('invalid names', () => {
    const e = error(() => synthChart((chart) => new MlPlatform(chart, 'ML_Platform', { namespace: 'Team Space' })));
    expect(e.issues.map((i) => i.path)).toEqual(['id', 'namespace']);
    expect(e.message).toContain('`namespace` ("Team Space"): must be a DNS-1123 label');
  });

  test('a GPU pool with 0 max nodes, an unknown accelerator, a MIG profile the GPU lacks', () => {
    synthChart((chart) => {
      const p = new MlPlatform(chart, 'ml');
      expect(error(() => p.addGpuPool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 0 })).message)
        .toBe('MlPlatform "ml": addGpuPool("a10g"): 1 invalid prop\n  - `options.maxNodes` (0): must be a whole number ≥ 1 (a pool that can never have a node schedules nothing)');
      expect(error(() => p.addGpuPool('x', { accelerator: 'nvidia-a1000', maxNodes: 1 })).issues[0]).toMatchObject({ path: 'options.accelerator', value: 'nvidia-a1000' });
      expect(error(() => p.addGpuPool('mig', { accelerator: 'nvidia-a10g', maxNodes: 1, sharing: { mig: '1g.10gb' } })).issues[0].path).toMatch(/^options\.sharing/);
      p.addGpuPool('ok', { accelerator: 'nvidia-l4', maxNodes: 1 });
      expect(error(() => p.addGpuPool('ok', { accelerator: 'nvidia-l4', maxNodes: 1 })).issues[0]).toMatchObject({ path: 'name', value: 'ok' });
    });
  });

  test('a GPU pool\'s node volume: 100 GiB by default, a whole number of GiB from 20Gi to 16384Gi', () => {
    synthChart((chart) => {
      const p = new MlPlatform(chart, 'ml');
      expect(p.addGpuPool('plain', { accelerator: 'nvidia-l4', maxNodes: 1 }).diskSize).toEqual(Size.gibibytes(100));
      expect(p.addGpuPool('roomy', { accelerator: 'nvidia-l4', maxNodes: 1, diskSize: Size.gibibytes(500) }).diskSize).toEqual(Size.gibibytes(500));
      const fix = 'must be a whole number of GiB from 20Gi to 16384Gi (the EBS gp3 volume of each node), e.g. Size.gibibytes(100)';
      expect(error(() => p.addGpuPool('tiny', { accelerator: 'nvidia-l4', maxNodes: 1, diskSize: Size.gibibytes(10) })).message)
        .toBe(`MlPlatform "ml": addGpuPool("tiny"): 1 invalid prop\n  - \`options.diskSize\` ("10Gi"): ${fix}`);
      expect(error(() => p.addGpuPool('odd', { accelerator: 'nvidia-l4', maxNodes: 1, diskSize: Size.mebibytes(102_500) })).issues[0]).toMatchObject({ path: 'options.diskSize', value: '102500Mi' });
      expect(error(() => p.addGpuPool('huge', { accelerator: 'nvidia-l4', maxNodes: 1, diskSize: Size.tebibytes(17) })).issues[0]).toMatchObject({ path: 'options.diskSize', value: '17Ti' });
    });
  });

  test('a quota below one pod, a quota on an unknown pool', () => {
    synthChart((chart) => {
      const p = new MlPlatform(chart, 'ml');
      const e = error(() => p.addTenant('team', { quota: { cpu: Cpu.millis(50), memory: Size.mebibytes(64), gpus: { a100: 2 } } }));
      expect(e.issues.map((i) => i.path)).toEqual(['options.quota.cpu', 'options.quota.memory', 'options.quota.gpus.a100']);
      expect(e.message).toContain("`options.quota.cpu` (\"50m\"): is below one pod's default CPU request (100m); raise it");
    });
  });

  test('conflicting store options and a Secret reference without a key', () => {
    const e = error(() => synthChart((chart) => new MlPlatform(chart, 'ml', {
      artifactStore: ArtifactStore.s3({ bucket: 'b1x', region: 'us-east-1', credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'secret' }, workloadIdentity: { serviceAccountAnnotations: { a: 'b' } } } as any }),
      backendStore: BackendStore.external({ host: 'db', database: 'mlflow', username: { name: 'db', key: 'user' }, password: { name: 'db' } as any }),
    })));
    expect(e.issues.map((i) => i.path)).toEqual(['backendStore.password.key', 'artifactStore.credentials']);
    expect(e.message).toContain('`artifactStore.credentials` (["accessKeyId","secretAccessKey","workloadIdentity"]): give either access keys or a workload identity, not both');
  });

  test('OIDC without exposure, bad cron, TLS with two issuers', () => {
    const e = error(() => synthChart((chart) => new MlPlatform(chart, 'ml', {
      backendStore: BackendStore.embedded({ backup: { schedule: '0 25 * * *' } }),
      exposure: Exposure.gateway({ host: 'ml.example.com', tls: { clusterIssuer: 'a', issuer: 'b' } }),
      tracking: { auth: TrackingAuth.oidc({ issuerUrl: 'http://insecure', clientId: 'x', clientSecret: { name: 'o', key: 'c' }, cookieSecret: { name: 'o', key: 'k' }, emailDomains: ['example.com'] }) },
    })));
    expect(e.issues.map((i) => i.path)).toEqual(['backendStore.backup.schedule', 'tracking.auth.issuerUrl', 'exposure.tls']);
    expect(e.message).toContain('`backendStore.backup.schedule` ("0 25 * * *"): hour field: "25" is outside 0-23');
  });
});

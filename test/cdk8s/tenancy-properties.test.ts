// Issue #20's property: over generated platforms (2–5 tenants; embedded or external database; embedded
// store, an S3-compatible one with static keys, or S3 with workload identity; basic auth or OIDC), no object
// in a tenant namespace carries or composes a platform-level credential, and MLflow denies by default.
// "Carries or composes" is read where it happens: the manifests (a Secret with data, a reference to a
// platform Secret) and the credentials bootstrap's plan (what it generates, composes and copies where).
import * as fc from 'fast-check';
import { MlPlatform, MlPlatformProps } from '../../src/cdk8s';
import { ArtifactStore, BackendStore, Exposure, TrackingAuth } from '../../src/core';
import { find, K8sObject, synthChart } from '../support/synth';

const RUNS = Number(process.env.FUZZ_TEST_RUNS ?? 40);
const PLATFORM_NS = 'mlplatform';

interface Case {
  readonly tenants: string[];
  readonly database: 'embedded' | 'external';
  readonly store: 'embedded' | 'static' | 'identity';
  readonly auth: 'basic' | 'oidc';
  readonly prefix?: string;
}

const tenantName = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((n) => !['default', 'argo', 'keda', 'kserve', 'monitoring', 'argocd'].includes(n));
const cases: fc.Arbitrary<Case> = fc.record({
  tenants: fc.uniqueArray(tenantName, { minLength: 2, maxLength: 5 }),
  database: fc.constantFrom('embedded' as const, 'external' as const),
  store: fc.constantFrom('embedded' as const, 'static' as const, 'identity' as const),
  auth: fc.constantFrom('basic' as const, 'oidc' as const),
  prefix: fc.option(fc.constantFrom('ml', 'teams/prod'), { nil: undefined }),
});

function props(c: Case): MlPlatformProps {
  return {
    namespace: PLATFORM_NS,
    backendStore: c.database === 'embedded' ? BackendStore.embedded() : BackendStore.external({
      host: 'db.internal.example.com', database: 'mlflow', username: { name: 'rds-master', key: 'username' }, password: { name: 'rds-master', key: 'password' },
    }),
    artifactStore: c.store === 'embedded' ? ArtifactStore.embedded()
      : ArtifactStore.s3({
        bucket: 'acme-ml',
        region: 'eu-west-1',
        ...(c.prefix ? { prefix: c.prefix } : {}),
        ...(c.store === 'static' ? { endpoint: 'https://minio.lab.internal' } : {}),
        credentials: c.store === 'static'
          ? { accessKeyId: { name: 'platform-s3', key: 'id' }, secretAccessKey: { name: 'platform-s3', key: 'secret' } }
          : { workloadIdentity: { serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml' } } },
      }),
    ...(c.auth === 'oidc' ? {
      exposure: Exposure.gateway({ host: 'ml.example.com', tls: { clusterIssuer: 'letsencrypt' } }),
      tracking: { auth: TrackingAuth.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mlflow', clientSecret: { name: 'oidc', key: 'c' }, cookieSecret: { name: 'oidc', key: 'k' }, emailDomains: ['example.com'] }) },
    } : {}),
  };
}

function build(c: Case): { objects: K8sObject[]; platform: MlPlatform } {
  let platform!: MlPlatform;
  const { objects } = synthChart((chart) => {
    platform = new MlPlatform(chart, 'ml', props(c));
    for (const t of c.tenants) {
      platform.addTenant(t, {
        access: { editors: [`team-${t}`] },
        ...(c.store === 'static' ? { storeCredentials: { accessKeyId: { name: `${t}-s3`, key: 'id' }, secretAccessKey: { name: `${t}-s3`, key: 'secret' } } } : {}),
      });
    }
  });
  return { objects, platform };
}

/** The platform namespace's Secrets that hold a platform-level credential (never a tenant's own). */
function platformCredentials(c: Case): Set<string> {
  const names = ['ml-postgres-credentials', 'ml-postgres-credentials-joined', 'ml-s3-credentials', 'ml-mlflow-admin', 'ml-mlflow-admin-joined',
    'ml-tracking-database', 'ml-tracking-config', 'ml-tracking-config-key', 'ml-oidc-proxy', 'oidc'];
  if (c.database === 'external') names.push('rds-master');
  if (c.store === 'static') names.push('platform-s3');
  return new Set(names);
}

/** Every `namespace/name` a plan template or copy reads. */
function sources(entry: any): string[] {
  const out: string[] = [];
  for (const t of Object.values<string>(entry.keys ?? {})) for (const m of String(t).matchAll(/\{\{secret:([^/]+)\/([^:]+):/g)) out.push(`${m[1]}/${m[2]}`);
  if (entry.from) out.push(`${entry.from.namespace}/${entry.from.name}`);
  return out;
}

test('no object in a tenant namespace carries or composes a platform-level credential, and MLflow denies by default', () => {
  fc.assert(fc.property(cases, (c) => {
    const { objects } = build(c);
    const tenantNs = new Set(c.tenants);
    const secret = platformCredentials(c);
    // Manifests: no Secret with data anywhere; nothing in a tenant namespace names a platform credential Secret.
    for (const o of objects) {
      if (o.kind === 'Secret') expect({ o: `${o.metadata.namespace}/${o.metadata.name}`, data: (o as any).data ?? (o as any).stringData }).toEqual({ o: `${o.metadata.namespace}/${o.metadata.name}`, data: undefined });
      if (!tenantNs.has(o.metadata.namespace ?? '')) continue;
      const text = JSON.stringify(o);
      for (const name of secret) expect({ o: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, names: text.includes(`"${name}"`) ? name : undefined }).toEqual({ o: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, names: undefined });
    }
    // The bootstrap's plan: whatever it writes into a tenant namespace is generated there or made of the
    // tenant's own keys, never of a platform credential.
    const plan = JSON.parse(find(objects, 'ConfigMap', 'ml-bootstrap', PLATFORM_NS).data['plan.json']);
    const written = [...plan.generate, ...plan.compose, ...plan.copy.map((x: any) => ({ ...x, namespace: x.to.namespace, name: x.to.name }))];
    for (const w of written.filter((x: any) => tenantNs.has(x.namespace))) {
      const platformSources = sources(w).filter((s) => s.startsWith(`${PLATFORM_NS}/`) && secret.has(s.slice(PLATFORM_NS.length + 1)));
      expect({ target: `${w.namespace}/${w.name}`, platformSources }).toEqual({ target: `${w.namespace}/${w.name}`, platformSources: [] });
    }
    expect(plan.copy).toEqual([]);
    // Each tenant: its own database role and database, its own MLflow user.
    const roles = plan.database.tenants.map((t: any) => t.role);
    expect(new Set(roles).size).toBe(c.tenants.length);
    expect(plan.database.tenants.map((t: any) => t.secret.namespace)).toEqual(c.tenants);
    expect(plan.mlflowUsers.users.map((u: any) => u.username)).toEqual(c.tenants);
    // The embedded store: each tenant's identity is limited to its own prefixes.
    if (c.store === 'embedded') {
      const s3 = JSON.parse(plan.compose.find((x: any) => x.name === 'ml-s3-credentials').keys['s3.json']);
      // (The embedded store has no prefix of its own: the whole bucket is the platform's.)
      for (const [i, t] of c.tenants.entries()) {
        const id = s3.identities[i + 1];
        expect(id.credentials[0].accessKey).toBe(`{{secret:${t}/ml-store:accessKeyId}}`);
        for (const a of id.actions) expect([t, a]).toEqual([t, expect.stringMatching(new RegExp(`^(Read|Write|List|Tagging):mlplatform/(pipelines|endpoints)/${t}/\\*$`))]);
      }
    }
    // MLflow denies by default, in both modes.
    const ini = plan.compose.find((x: any) => x.name === 'ml-tracking-config').keys['basic_auth.ini'];
    expect(ini).toContain('\ndefault_permission = NO_PERMISSIONS\n');
    expect(ini).toContain(c.auth === 'oidc' ? 'authorization_function = mlflow_oidc_auth:authenticate_request' : 'authorization_function = mlflow.server.auth:authenticate_request_basic_auth');
  }), { numRuns: RUNS, seed: 20261207 });
});

test('the platform credentials the property looks for are the ones the plan really uses (it is not vacuous)', () => {
  for (const c of [
    { tenants: ['a', 'b'], database: 'external', store: 'static', auth: 'oidc' },
    { tenants: ['a', 'b'], database: 'embedded', store: 'embedded', auth: 'basic' },
  ] as Case[]) {
    const { objects } = build(c);
    const plan = JSON.parse(find(objects, 'ConfigMap', 'ml-bootstrap', PLATFORM_NS).data['plan.json']);
    const used = new Set([...plan.generate, ...plan.compose].filter((x: any) => x.namespace === PLATFORM_NS).flatMap((x: any) => [`${x.namespace}/${x.name}`, ...sources(x)]));
    used.add(`${PLATFORM_NS}/${plan.database.admin.name}`);
    const expected = c.database === 'external' ? ['rds-master', 'ml-tracking-database', 'ml-tracking-config', 'ml-mlflow-admin'] : ['ml-postgres-credentials', 'ml-s3-credentials', 'ml-tracking-database', 'ml-tracking-config'];
    if (c.store === 'static') expected.push('platform-s3');
    if (c.auth === 'oidc') expected.push('ml-oidc-proxy');
    for (const name of expected) expect([name, used.has(`${PLATFORM_NS}/${name}`) || objects.some((o) => JSON.stringify(o).includes(`"${name}"`))]).toEqual([name, true]);
    // And the tenant namespaces do hold their own credentials (what the property lets through).
    expect(plan.generate.filter((g: any) => g.namespace === 'a').map((g: any) => g.name).sort()).toEqual(c.store === 'embedded' ? ['ml-database', 'ml-store'] : ['ml-database']);
  }
});

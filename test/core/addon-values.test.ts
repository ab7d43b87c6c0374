import { Validator } from '@cfworker/json-schema';
import { parse } from 'yaml';
import { Issues } from '../../src/core/errors';
import {
  addonValues, AddonValuesInput, DEFAULT_DEVICE_PLUGIN_CONFIG_NAME, s3Endpoint, workflowArtifactKeyFormat,
} from '../../src/core/platform/addon-values';
import { GpuPoolOptions, GpuPoolSpec, resolveGpuPool } from '../../src/core/platform/pools';
import { AddonName, VERSIONS } from '../../src/core/versions';
import { chartDefaults, chartValuesSchema, chartValuesText } from '../support/charts';

/** The default values (text and parsed) of an add-on's pinned chart in shared/charts. */
const rawValues = (name: AddonName): string => chartValuesText(VERSIONS.charts[name].chart);
const defaults = (name: AddonName): Record<string, unknown> => chartDefaults(VERSIONS.charts[name].chart);

// --- Inputs ---

function pool(name: string, o: GpuPoolOptions): GpuPoolSpec {
  const issues = new Issues('test');
  const p = resolveGpuPool(issues, `pools.${name}`, name, o);
  expect(issues.all).toEqual([]);
  return p!;
}

const WHOLE = pool('a10g', { accelerator: 'nvidia-a10g', maxNodes: 4 });
const MIG = pool('a100-mig', { accelerator: 'nvidia-a100-80gb', gpusPerNode: 8, maxNodes: 2, sharing: { mig: '1g.10gb' } });
const SLICED = pool('l4-shared', { accelerator: 'nvidia-l4', maxNodes: 3, sharing: { timeSlicing: { replicas: 4 } } });
const SLICED_TOO = pool('l4-shared-spot', { accelerator: 'nvidia-l4', maxNodes: 3, capacityType: 'spot', sharing: { timeSlicing: { replicas: 4 } } });

/** Embedded S3-compatible store with an access keys Secret; GPU pools of every kind; Gateway on. */
const EMBEDDED: AddonValuesInput = {
  platformNamespace: 'mlplatform',
  tenantNamespaces: ['team-a', 'team-b'],
  store: {
    bucket: 'mlplatform',
    prefix: 'ml',
    region: 'us-east-1',
    endpoint: 'http://ml-store.mlplatform.svc.cluster.local:8333',
    insecure: true,
    credentials: { name: 'ml-store-credentials', keys: { accessKeyId: 'accessKeyId', secretAccessKey: 'secretAccessKey' } },
  },
  pools: [WHOLE, MIG, SLICED, SLICED_TOO],
  gatewayApi: true,
  kserveGateway: { name: 'mlplatform', namespace: 'mlplatform', domain: 'models.example.com', https: true },
};

/** AWS S3 with workload identity (IRSA annotations); no pools; no Gateway; no kube-system access. */
const AWS: AddonValuesInput = {
  platformNamespace: 'ml',
  tenantNamespaces: [],
  store: {
    bucket: 'acme-ml-artifacts',
    prefix: '',
    region: 'eu-west-1',
    insecure: false,
    serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml-store' },
  },
  pools: [],
  gatewayApi: false,
  kubeSystemAccess: false,
};

const ADDONS = Object.keys(VERSIONS.charts) as AddonName[];
const SCENARIOS: Record<string, AddonValuesInput> = { embedded: EMBEDDED, aws: AWS };

// --- Exact values ---

const RESTRICTED = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

describe('addonValues: argo-workflows', () => {
  test('embedded store with an access keys Secret', () => {
    expect(addonValues('argoWorkflows', EMBEDDED)).toEqual({
      crds: { full: false },
      controller: {
        resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        workflowNamespaces: ['team-a', 'team-b', 'mlplatform'],
      },
      server: { enabled: false },
      useStaticCredentials: true,
      artifactRepository: {
        s3: {
          bucket: 'mlplatform',
          endpoint: 'ml-store.mlplatform.svc.cluster.local:8333',
          insecure: true,
          region: 'us-east-1',
          keyFormat: 'ml/pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}',
          accessKeySecret: { name: 'ml-store-credentials', key: 'accessKeyId' },
          secretKeySecret: { name: 'ml-store-credentials', key: 'secretAccessKey' },
        },
      },
      executor: { resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '512Mi' } }, securityContext: RESTRICTED },
      mainContainer: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } }, securityContext: RESTRICTED },
    });
  });

  test('AWS S3 with workload identity: SDK credentials, regional endpoint, annotated server account', () => {
    const v = addonValues('argoWorkflows', AWS) as any;
    expect(v.useStaticCredentials).toBe(false);
    expect(v.artifactRepository.s3).toEqual({
      bucket: 'acme-ml-artifacts',
      endpoint: 's3.eu-west-1.amazonaws.com',
      insecure: false,
      region: 'eu-west-1',
      keyFormat: 'pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}',
      useSDKCreds: true,
    });
    expect(v.server).toEqual({ enabled: false, serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/ml-store' } } });
    expect(v.controller.workflowNamespaces).toEqual(['ml']);
  });

  test('workflow namespaces are de-duplicated', () => {
    expect((addonValues('argoWorkflows', { ...AWS, tenantNamespaces: ['ml', 'a', 'a'] }) as any).controller.workflowNamespaces).toEqual(['ml', 'a']);
  });

  test('overrides deep-merge: turning the Argo Server on keeps the rest', () => {
    const v = addonValues('argoWorkflows', { ...EMBEDDED, overrides: { argoWorkflows: { server: { enabled: true, authModes: ['sso'] } } } }) as any;
    expect(v.server).toEqual({ enabled: true, authModes: ['sso'] });
    expect(v.controller.workflowNamespaces).toEqual(['team-a', 'team-b', 'mlplatform']);
  });
});

describe('workflowArtifactKeyFormat and s3Endpoint', () => {
  test.each([
    ['', 'pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}'],
    ['ml', 'ml/pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}'],
    ['/a/b/', 'a/b/pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}'],
  ])('prefix %p', (prefix, expected) => {
    expect(workflowArtifactKeyFormat(prefix)).toBe(expected);
  });

  test.each([
    [{ region: 'us-east-1', endpoint: 'https://s3.example.com' }, 's3.example.com'],
    [{ region: 'us-east-1', endpoint: 'http://store.ns.svc:8333/' }, 'store.ns.svc:8333'],
    [{ region: 'us-east-1', endpoint: 'store.ns.svc:9000' }, 'store.ns.svc:9000'],
    [{ region: 'us-west-2' }, 's3.us-west-2.amazonaws.com'],
    [{ region: 'cn-north-1' }, 's3.cn-north-1.amazonaws.com.cn'],
  ])('%p → %p', (store, expected) => {
    expect(s3Endpoint(store)).toBe(expected);
  });
});

describe('addonValues: nvidia-device-plugin', () => {
  test('one config per distinct pool config plus default; runs on mlplatform GPU nodes only', () => {
    expect(addonValues('nvidiaDevicePlugin', EMBEDDED)).toEqual({
      config: {
        map: {
          'default': 'version: v1\nflags:\n  migStrategy: none\n',
          'mlplatform-mig-mixed': 'version: v1\nflags:\n  migStrategy: mixed\n',
          'mlplatform-time-sliced-4': expect.stringMatching(/^version: v1\nflags:\n {2}migStrategy: none\nsharing:\n {2}timeSlicing:\n/),
          'mlplatform-whole-gpu': 'version: v1\nflags:\n  migStrategy: none\n',
        },
        default: 'default',
      },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'mlplatform.io/accelerator', operator: 'Exists' }] }],
          },
        },
      },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '100m', memory: '256Mi' } },
    });
  });

  test('every pool label value names a config of the map, and config strings parse back to the pool config', () => {
    const v = addonValues('nvidiaDevicePlugin', EMBEDDED) as any;
    for (const p of EMBEDDED.pools) {
      expect(Object.keys(v.config.map)).toContain(p.labels['nvidia.com/device-plugin.config']);
      expect(parse(v.config.map[p.devicePluginConfigName])).toEqual(p.devicePluginConfig);
    }
    expect(v.config.default).toBe(DEFAULT_DEVICE_PLUGIN_CONFIG_NAME);
  });

  test('MIG is set per config, never through the top-level migStrategy (its env var would override every node config)', () => {
    const v = addonValues('nvidiaDevicePlugin', EMBEDDED) as any;
    expect(v).not.toHaveProperty('migStrategy');
    expect(parse(v.config.map['mlplatform-mig-mixed']).flags.migStrategy).toBe('mixed');
  });

  test('without pools only the default config remains', () => {
    const v = addonValues('nvidiaDevicePlugin', AWS) as any;
    expect(v.config).toEqual({ map: { default: 'version: v1\nflags:\n  migStrategy: none\n' }, default: 'default' });
  });
});

describe('addonValues: the other add-ons', () => {
  test('keda: explicit resources per component', () => {
    expect(addonValues('keda', AWS)).toEqual({
      resources: {
        operator: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        metricServer: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        webhooks: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
      },
    });
  });

  test('kueue: visibility RoleBinding follows kube-system access', () => {
    expect(addonValues('kueue', EMBEDDED)).toEqual({
      enableVisibilityAuthReaderRoleBinding: true,
      controllerManager: { manager: { resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } } },
    });
    expect((addonValues('kueue', AWS) as any).enableVisibilityAuthReaderRoleBinding).toBe(false);
  });

  test('cert-manager: CRDs, and Gateway API through the ControllerConfiguration when needed', () => {
    const on = addonValues('certManager', EMBEDDED) as any;
    expect(on.crds).toEqual({ enabled: true, keep: true });
    expect(on.config).toEqual({ apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true });
    expect(on.resources).toEqual({ requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } });
    expect(addonValues('certManager', AWS)).not.toHaveProperty('config');
  });

  test('envoy-gateway: defaults plus a CPU limit', () => {
    expect(addonValues('envoyGateway', AWS)).toEqual({
      deployment: { envoyGateway: { resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1024Mi' } } } },
    });
  });

  test('kserve-crd: no values', () => {
    expect(addonValues('kserveCrd', EMBEDDED)).toEqual({});
  });

  test('kserve: Standard mode with Gateway API routes on the platform Gateway', () => {
    expect(addonValues('kserve', EMBEDDED)).toEqual({
      kserve: {
        controller: {
          deploymentMode: 'Standard',
          gateway: {
            domain: 'models.example.com',
            urlScheme: 'https',
            ingressGateway: { enableGatewayApi: true, kserveGateway: 'mlplatform/mlplatform', createGateway: false },
          },
        },
      },
    });
  });

  test('kserve: without a Gateway no Ingress is created', () => {
    expect(addonValues('kserve', AWS)).toEqual({ kserve: { controller: { deploymentMode: 'Standard', gateway: { disableIngressCreation: true } } } });
  });
});

// --- Every key we set exists in the pinned chart ---

/** Keys whose contents are user-defined (Kubernetes objects or maps passed through by the chart): checked to exist, not descended into. */
const FREE_FORM_KEYS = new Set([
  'resources', 'nodeSelector', 'tolerations', 'affinity', 'annotations', 'podAnnotations', 'extraArgs', 'env',
  // executor/mainContainer.securityContext are `{}` in the defaults and copied verbatim into the controller config.
  'securityContext',
]);

/** Per-chart paths whose contents are free-form. */
const FREE_FORM_PATHS: Partial<Record<AddonName, readonly string[]>> = {
  // Named device plugin configs: any key, each value one YAML string.
  nvidiaDevicePlugin: ['config.map'],
  // A ControllerConfiguration object; the chart's schema types it as a free object (validated below).
  certManager: ['config'],
};

interface Documented {
  /** Key path. */
  readonly path: string;
  /** Where the chart proves the key exists. */
  readonly proof: { readonly comment: string } | { readonly template: string };
}

const S3_TEMPLATE = 'argoproj/argo-helm@4f4cc4f charts/argo-workflows/templates/controller/workflow-controller-config-map.yaml';

/**
 * Keys a chart documents only as comments or reads only in its templates (its defaults hold `{}`).
 * argo-workflows `artifactRepository.s3: {}` lists its sub-keys as commented YAML, and the config
 * map template reads each one (`.Values.artifactRepository.s3.<key>`).
 */
const DOCUMENTED_ONLY: Partial<Record<AddonName, readonly Documented[]>> = {
  argoWorkflows: [
    { path: 'artifactRepository.s3.bucket', proof: { comment: '# bucket:' } },
    { path: 'artifactRepository.s3.endpoint', proof: { comment: '# endpoint:' } },
    { path: 'artifactRepository.s3.region', proof: { comment: '# region:' } },
    { path: 'artifactRepository.s3.insecure', proof: { comment: '# insecure: false' } },
    { path: 'artifactRepository.s3.useSDKCreds', proof: { comment: '# useSDKCreds: true' } },
    { path: 'artifactRepository.s3.accessKeySecret.name', proof: { comment: '# accessKeySecret:' } },
    { path: 'artifactRepository.s3.accessKeySecret.key', proof: { comment: '# accessKeySecret:' } },
    { path: 'artifactRepository.s3.secretKeySecret.name', proof: { comment: '# secretKeySecret:' } },
    { path: 'artifactRepository.s3.secretKeySecret.key', proof: { comment: '# secretKeySecret:' } },
    // Not among the s3 comments (only under gcs); the template reads it:
    // `{{- if .Values.artifactRepository.s3.keyFormat }} keyFormat: {{ … | quote }}` (not passed through tpl,
    // so `{{workflow.name}}` reaches the controller verbatim).
    { path: 'artifactRepository.s3.keyFormat', proof: { template: S3_TEMPLATE } },
  ],
};

/** Every key path of `values`, stopping at leaves, arrays and free-form keys. */
function keyPaths(values: Record<string, unknown>, freePaths: readonly string[], prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(values)) {
    const p = [...prefix, k];
    out.push(p);
    const descend = v !== null && typeof v === 'object' && !Array.isArray(v) && !FREE_FORM_KEYS.has(k) && !freePaths.includes(p.join('.'));
    if (descend) out.push(...keyPaths(v as Record<string, unknown>, freePaths, p));
  }
  return out;
}

function existsIn(defaultValues: unknown, p: readonly string[]): boolean {
  let node = defaultValues;
  for (const k of p) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.prototype.hasOwnProperty.call(node, k)) return false;
    node = (node as Record<string, unknown>)[k];
  }
  return true;
}

describe('values keys exist in the pinned charts', () => {
  test.each(ADDONS)('%s', (name) => {
    const defaultValues = defaults(name);
    const documented = (DOCUMENTED_ONLY[name] ?? []).map((d) => d.path);
    const missing: string[] = [];
    for (const input of Object.values(SCENARIOS)) {
      for (const p of keyPaths(addonValues(name, input), FREE_FORM_PATHS[name] ?? [])) {
        const key = p.join('.');
        if (existsIn(defaultValues, p)) continue;
        if (documented.includes(key) || documented.some((d) => d.startsWith(`${key}.`))) continue;
        missing.push(key);
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  test('a wrong MLPLATFORM_CHARTS_DIR fails loudly instead of skipping', () => {
    const saved = process.env.MLPLATFORM_CHARTS_DIR;
    process.env.MLPLATFORM_CHARTS_DIR = '/nonexistent/charts';
    try {
      expect(() => chartDefaults('keda')).toThrow(/MLPLATFORM_CHARTS_DIR=\/nonexistent\/charts has no argo-workflows\/values.yaml/);
    } finally {
      if (saved === undefined) delete process.env.MLPLATFORM_CHARTS_DIR;
      else process.env.MLPLATFORM_CHARTS_DIR = saved;
    }
  });

  test('the key check itself rejects a typo', () => {
    expect(existsIn(defaults('argoWorkflows'), ['controller', 'workflowNamespace'])).toBe(false);
    expect(existsIn(defaults('argoWorkflows'), ['controller', 'workflowNamespaces'])).toBe(true);
    expect(keyPaths({ a: { resources: { x: 1 } }, b: [{ c: 1 }] }, []).map((p) => p.join('.'))).toEqual(['a', 'a.resources', 'b']);
  });

  test('each comment-documented key appears, commented, inside its section of the values file (template-proven ones do not)', () => {
    for (const [name, entries] of Object.entries(DOCUMENTED_ONLY) as [AddonName, Documented[]][]) {
      const text = rawValues(name);
      for (const e of entries) {
        const section = e.path.split('.').slice(0, -1);
        // The commented block that follows `<last section key>: {}` (e.g. `s3: {}`) up to the next uncommented key.
        const head = section[section.length - 1] === 's3' ? 's3' : section[section.length - 2];
        const start = text.indexOf(`\n  ${head}: {}\n`);
        expect(start).toBeGreaterThan(0);
        const rest = text.slice(start + head.length + 7);
        const block = rest.slice(0, rest.search(/\n {0,2}[A-Za-z]/));
        if ('comment' in e.proof) expect(block).toContain(e.proof.comment);
        else expect(block).not.toContain(`# ${e.path.split('.').pop()}:`); // hence the template citation
      }
    }
  });

  test('the argo-workflows allow-list is exactly what we set under artifactRepository.s3', () => {
    const set = new Set<string>();
    for (const input of Object.values(SCENARIOS)) {
      for (const p of keyPaths(addonValues('argoWorkflows', input), [])) {
        const k = p.join('.');
        if (k.startsWith('artifactRepository.s3.') && !['accessKeySecret', 'secretKeySecret'].includes(p[p.length - 1])) set.add(k);
      }
    }
    expect([...set].sort()).toEqual(DOCUMENTED_ONLY.argoWorkflows!.map((d) => d.path).sort());
  });
});

describe('cert-manager values pass the chart\'s values.schema.json', () => {
  const schema = chartValuesSchema('cert-manager');
  const validator = new Validator(schema, '7', false);
  const merge = (a: any, b: any): any => {
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
      return out;
    }
    return b === undefined ? a : b;
  };

  test.each(Object.entries(SCENARIOS))('%s (merged over the chart defaults, as Helm validates)', (_, input) => {
    const values = addonValues('certManager', input);
    const result = validator.validate(merge(defaults('certManager'), values));
    expect(result.errors.map((e) => `${e.instanceLocation}: ${e.error}`)).toEqual([]);
    expect(validator.validate(values).valid).toBe(true);
  });

  test('the schema is strict: an unknown key is rejected', () => {
    expect(validator.validate({ crds: { enabled: true, typo: true } }).valid).toBe(false);
    expect(validator.validate({ gatewayAPI: true }).valid).toBe(false);
  });
});

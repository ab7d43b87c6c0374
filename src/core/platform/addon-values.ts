import { ACCELERATOR_LABEL, DevicePluginConfig, GPU_TOLERATION, Toleration } from '../gpu-conventions';
import { AddonName } from '../versions';
import { PlatformContext } from './context';
import { GpuPoolSpec } from './pools';
import { yamlText } from '../yaml-text';

/*
 * Helm values of the cluster add-ons, one function for every delivery (Argo CD Application,
 * Flux HelmRelease, Pulumi helm.v3.Release). Only keys that exist in the pinned chart are set:
 * test/core/addon-values.test.ts checks every key path against the chart's default values file in
 * shared/charts (Helm ignores a typo'd key silently).
 */

/**
 * The platform's object store as the add-ons see it: the part of `PlatformContext['store']` they
 * use, so `ctx.store` can be passed as it is. `credentials` absent means workload identity.
 */
export type AddonStoreInput = Pick<PlatformContext['store'], 'bucket' | 'prefix' | 'region' | 'endpoint' | 'insecure' | 'credentials' | 'serviceAccountAnnotations'>;

/** The Gateway API Gateway KServe attaches its HTTPRoutes to. */
export interface AddonGatewayInput {
  /** Gateway name. */
  readonly name: string;
  /** Gateway namespace. */
  readonly namespace: string;
  /** Domain InferenceService hosts are built under, e.g. `models.example.com`. */
  readonly domain: string;
  /** Whether the Gateway terminates TLS (the URLs KServe reports then start with `https`). */
  readonly https: boolean;
}

/** What the add-ons' Helm values depend on. */
export interface AddonValuesInput {
  /** Namespace of the platform's shared services (Argo Workflows also runs workflows there). */
  readonly platformNamespace: string;
  /** Namespaces of the tenants (Argo Workflows `controller.workflowNamespaces`). */
  readonly tenantNamespaces: readonly string[];
  /** The platform's object store (Argo Workflows' default artifact repository). */
  readonly store: AddonStoreInput;
  /** The declared GPU pools (NVIDIA device plugin configs and placement). */
  readonly pools: readonly GpuPoolSpec[];
  /** Whether cert-manager must issue certificates for Gateway API Gateways (`enableGatewayAPI`). */
  readonly gatewayApi: boolean;
  /**
   * The Gateway KServe exposes InferenceServices through.
   * @default - KServe creates no Ingress and no HTTPRoute (reach models through their Services)
   */
  readonly kserveGateway?: AddonGatewayInput;
  /**
   * Whether add-on releases may create objects in `kube-system`. Kueue's visibility API binds a
   * Role that exists only there; set false under an Argo CD project whose destinations exclude
   * `kube-system`, and create that RoleBinding out of band.
   * @default true
   */
  readonly kubeSystemAccess?: boolean;
  /**
   * Extra values per add-on, deep-merged over ours (objects merge, everything else replaces).
   * E.g. `{ argoWorkflows: { server: { enabled: true } } }` turns on the Argo Workflows UI.
   * @default - none
   */
  readonly overrides?: Partial<Record<AddonName, Readonly<Record<string, unknown>>>>;
}

/** The device plugin config nodes without a pool config label get: whole GPUs, no MIG. */
export const DEFAULT_DEVICE_PLUGIN_CONFIG: DevicePluginConfig = Object.freeze({ version: 'v1', flags: Object.freeze({ migStrategy: 'none' }) });

/** Name of {@link DEFAULT_DEVICE_PLUGIN_CONFIG} in the device plugin's `config.map`. */
export const DEFAULT_DEVICE_PLUGIN_CONFIG_NAME = 'default';

/** Argo Workflows' S3 `keyFormat` under `prefix`: one folder per namespace, workflow and pod. */
export function workflowArtifactKeyFormat(prefix: string): string {
  const root = prefix.replace(/^\/+|\/+$/g, '');
  return `${root ? `${root}/` : ''}pipelines/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}`;
}

/**
 * The Helm values mlplatform gives add-on `name`, computed from `input`, with
 * `input.overrides[name]` deep-merged last.
 *
 * - `argoWorkflows`: small controller (requests 50m/96Mi, limits 500m/512Mi), no Argo Server,
 *   `workflowNamespaces` = tenants + platform, the default S3 artifact repository on the platform
 *   store, PSS-restricted security contexts and explicit resources for executor and main containers,
 *   minified CRDs (`crds.full: false`: the full ones come from a hook Job that downloads them from GitHub).
 * - `nvidiaDevicePlugin`: one `config.map` entry per pool config plus `default`; runs on nodes
 *   labelled `mlplatform.io/accelerator` and tolerates the GPU taint.
 * - `keda`, `kueue`, `envoyGateway`: chart defaults with explicit resources (Kueue: the visibility
 *   RoleBinding follows `kubeSystemAccess`).
 * - `certManager`: CRDs installed, Gateway API enabled when `gatewayApi`.
 * - `kserveCrd`: none. `kserve`: Standard (raw Deployment) mode, Gateway API routes on `kserveGateway`.
 */
export function addonValues(name: AddonName, input: AddonValuesInput): Record<string, unknown> {
  const values = BUILDERS[name](input);
  const extra = input.overrides?.[name];
  return extra ? deepMerge(values, extra) : values;
}

const BUILDERS: Readonly<Record<AddonName, (input: AddonValuesInput) => Record<string, unknown>>> = {
  argoWorkflows: argoWorkflowsValues,
  nvidiaDevicePlugin: nvidiaDevicePluginValues,
  keda: () => ({
    resources: {
      operator: res('50m', '128Mi', '500m', '512Mi'),
      metricServer: res('50m', '96Mi', '500m', '512Mi'),
      webhooks: res('20m', '64Mi', '250m', '256Mi'),
    },
  }),
  kueue: (input) => ({
    enableVisibilityAuthReaderRoleBinding: input.kubeSystemAccess ?? true,
    controllerManager: { manager: { resources: res('100m', '256Mi', '1', '512Mi') } },
  }),
  certManager: (input) => ({
    crds: { enabled: true, keep: true },
    resources: res('20m', '64Mi', '200m', '256Mi'),
    webhook: { resources: res('10m', '32Mi', '100m', '128Mi') },
    cainjector: { resources: res('10m', '64Mi', '200m', '512Mi') },
    // The ControllerConfiguration field (pkg/apis/config/controller/v1alpha1/types.go
    // `EnableGatewayAPI *bool json:"enableGatewayAPI"`), the recommended form since 1.16; the
    // `gatewayAPI.enabled` shown in the chart's comment has no Go field.
    ...(input.gatewayApi ? { config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true } } : {}),
  }),
  envoyGateway: () => ({
    deployment: { envoyGateway: { resources: res('100m', '256Mi', '1', '1024Mi') } },
  }),
  kserveCrd: () => ({}),
  kserve: kserveValues,
};

/**
 * Argo Workflows (chart argo-workflows).
 *
 * CRDs: `crds.full: false` installs the minified CRDs (`x-kubernetes-preserve-unknown-fields`) as
 * ordinary chart resources. The default (`full: true`) applies them from a pre-install/pre-upgrade
 * hook Job that downloads the CRD YAML from GitHub at sync time: it needs egress to github.com and
 * a kubectl image, runs as an Argo CD PreSync hook, and fails in air-gapped clusters. mlplatform
 * validates every Workflow object against the full CRD schemas at synth time, so the cluster-side
 * schema adds little. `crds.keep` (default true) keeps the CRDs, and so the users' workflows, when
 * the release is removed.
 *
 * The Argo Server (UI and API) is off: nothing of the platform needs it. Turn it on with
 * `overrides: { argoWorkflows: { server: { enabled: true } } }` (add `server.authModes` for SSO).
 * With workload identity, the server's ServiceAccount gets the store annotations so the UI can
 * read artifacts; workflow pods use their own ServiceAccounts.
 *
 * Security contexts: executor (init/wait) and main containers get the PSS "restricted" fields.
 * `readOnlyRootFilesystem` is left to each step, since the executor of `resource` templates needs a
 * writable root (argoproj/argo-workflows#10233). Both get explicit resources, so workflow pods
 * pass tenant ResourceQuotas that require limits.
 */
function argoWorkflowsValues(input: AddonValuesInput): Record<string, unknown> {
  const store = input.store;
  const namespaces = [...new Set([...input.tenantNamespaces, input.platformNamespace])];
  const staticKeys = store.credentials !== undefined;
  const s3: Record<string, unknown> = {
    bucket: store.bucket,
    endpoint: s3Endpoint(store),
    insecure: store.insecure,
    region: store.region,
    keyFormat: workflowArtifactKeyFormat(store.prefix),
  };
  if (store.credentials) {
    const { name, keys } = store.credentials;
    s3.accessKeySecret = { name, key: keys.accessKeyId ?? 'accessKeyId' };
    s3.secretKeySecret = { name, key: keys.secretAccessKey ?? 'secretAccessKey' };
  } else {
    s3.useSDKCreds = true;
  }
  const restricted = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const values: Record<string, unknown> = {
    crds: { full: false },
    controller: {
      resources: res('50m', '96Mi', '500m', '512Mi'),
      workflowNamespaces: namespaces,
    },
    server: { enabled: false },
    useStaticCredentials: staticKeys,
    artifactRepository: { s3 },
    executor: { resources: res('10m', '64Mi', '500m', '512Mi'), securityContext: restricted },
    mainContainer: { resources: res('100m', '128Mi', '1', '1Gi'), securityContext: restricted },
  };
  if (!staticKeys && store.serviceAccountAnnotations && Object.keys(store.serviceAccountAnnotations).length > 0) {
    (values.server as Record<string, unknown>).serviceAccount = { annotations: { ...store.serviceAccountAnnotations } };
  }
  return values;
}

/**
 * The S3 endpoint as Argo Workflows wants it: `host[:port]` without scheme. For AWS S3 (no
 * endpoint) the regional endpoint, `s3.<region>.amazonaws.com` (`.com.cn` in China regions).
 */
export function s3Endpoint(store: Pick<AddonStoreInput, 'endpoint' | 'region'>): string {
  if (store.endpoint === undefined) {
    return `s3.${store.region}.amazonaws.com${store.region.startsWith('cn-') ? '.cn' : ''}`;
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(store.endpoint) ? new URL(store.endpoint) : new URL(`http://${store.endpoint}`);
  return url.host;
}

/**
 * NVIDIA device plugin (chart nvidia-device-plugin).
 *
 * `config.map` holds one config per distinct pool `devicePluginConfigName` (nodes pick theirs by
 * the `nvidia.com/device-plugin.config` label our pools set) plus `default` (whole GPUs) for GPU
 * nodes without that label; `config.default` names it.
 *
 * MIG: each MIG pool's config carries `flags.migStrategy: mixed`. The top-level `migStrategy` value
 * is deliberately left unset: the chart turns it into the `MIG_STRATEGY` environment variable, and
 * the plugin ranks flags and environment above the config file, so it would override every node's
 * config. With a config map the chart already adds what MIG needs (SYS_ADMIN and
 * `NVIDIA_MIG_MONITOR_DEVICES`, templates/_helpers.tpl `allPossibleMigStrategiesAreNone`).
 *
 * Placement: the chart's default affinity requires Node Feature Discovery labels or
 * `nvidia.com/gpu.present=true`, which our nodes do not carry (NFD/GFD are off: GFD runs
 * privileged). The affinity here requires `mlplatform.io/accelerator` to exist instead, so the
 * plugin runs exactly on mlplatform GPU pools (and not beside a GPU Operator's own plugin on other
 * nodes). Tolerations: every pool's (the GPU taint).
 */
function nvidiaDevicePluginValues(input: AddonValuesInput): Record<string, unknown> {
  const configs = new Map<string, DevicePluginConfig>([[DEFAULT_DEVICE_PLUGIN_CONFIG_NAME, DEFAULT_DEVICE_PLUGIN_CONFIG]]);
  // Code-unit order (names are DNS labels): `localeCompare` would load the ICU collator, 15 ms on a cold process.
  for (const pool of [...input.pools].sort((a, b) => (a.devicePluginConfigName < b.devicePluginConfigName ? -1 : a.devicePluginConfigName > b.devicePluginConfigName ? 1 : 0))) {
    configs.set(pool.devicePluginConfigName, pool.devicePluginConfig);
  }
  const map: Record<string, string> = {};
  for (const [name, config] of configs) map[name] = yamlText(config);
  const tolerations: Toleration[] = [];
  for (const t of [GPU_TOLERATION, ...input.pools.flatMap((p) => p.tolerations)]) {
    const same = (u: Toleration) => u.key === t.key && u.operator === t.operator && u.value === t.value && u.effect === t.effect;
    if (!tolerations.some(same)) tolerations.push({ ...t });
  }
  return {
    config: { map, default: DEFAULT_DEVICE_PLUGIN_CONFIG_NAME },
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: ACCELERATOR_LABEL, operator: 'Exists' }] }],
        },
      },
    },
    tolerations,
    resources: res('10m', '64Mi', '100m', '256Mi'),
  };
}

/**
 * KServe (chart kserve-resources; install kserve-crd first). Standard mode: plain Deployments,
 * no Knative or Istio. With a Gateway, KServe writes HTTPRoutes attached to it (`createGateway:
 * false`: the platform owns the Gateway); without one, it creates no Ingress at all.
 */
function kserveValues(input: AddonValuesInput): Record<string, unknown> {
  const g = input.kserveGateway;
  const gateway: Record<string, unknown> = g
    ? {
      domain: g.domain,
      urlScheme: g.https ? 'https' : 'http',
      ingressGateway: { enableGatewayApi: true, kserveGateway: `${g.namespace}/${g.name}`, createGateway: false },
    }
    : { disableIngressCreation: true };
  return { kserve: { controller: { deploymentMode: 'Standard', gateway } } };
}

/** A container `resources` block with both requests and limits. */
function res(cpuRequest: string, memoryRequest: string, cpuLimit: string, memoryLimit: string): Record<string, unknown> {
  return { requests: { cpu: cpuRequest, memory: memoryRequest }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `base` with `extra` merged in: objects merge key by key, anything else in `extra` replaces. */
function deepMerge(base: Readonly<Record<string, unknown>>, extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

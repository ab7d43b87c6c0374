/**
 * The Argo Workflows controller (`workflow-controller`, built from github.com/argoproj/argo-workflows/v4
 * at the pinned version) against the tier's API server, and the executor's part of Argo's pods
 * (argo-executor.ts).
 *
 * Its configuration is the one the installed chart would give it: the platform's `argo-workflows`
 * add-on values merged over the chart's defaults (../shared/charts/argo-workflows/values.yaml, chart
 * 1.0.18), mapped to the controller's config keys the way the chart's
 * `templates/controller/workflow-controller-config-map.yaml` does (see {@link argoControllerConfig}),
 * and parsed by the controller itself, strictly (config/controller.go: `yaml.UnmarshalStrict` into
 * config/config.go's `Config`), so a key the library gets wrong stops the controller.
 *
 * Out of the cluster, and so different from the chart's Deployment:
 * - The controller authenticates with the tier's admin certificate (KUBECONFIG), not with the chart's
 *   ServiceAccount and ClusterRole: the chart's RBAC for the controller is not exercised here.
 * - It watches every namespace, as the chart runs it when `singleNamespace` is false (the chart's
 *   `controller.workflowNamespaces` only decides where its workflow RBAC goes, not a controller flag).
 * - Leader election is off (`LEADER_ELECTION_DISABLE=true`); the metrics and telemetry servers get free
 *   ports (the metrics server runs even with the chart's `metricsConfig.enabled: false`, which leaves the
 *   key out and the controller's default on). The health server's `:6060` is fixed in
 *   cmd/workflow-controller/main.go and listens on every interface; nothing in the tier reads it.
 * - The executor image is the chart's (`--executor-image quay.io/argoproj/argoexec:<appVersion>`), but
 *   no container runtime pulls it: the pods it goes into are run by argo-executor.ts.
 * - A MutatingAdmissionPolicy of the tier adds a scheduling gate to the pods the controller creates
 *   (owned by a Workflow), so that their executor's work happens before kwok marks them Succeeded —
 *   in a real pod the wait/resource container finishes before the pod does, and the controller reads
 *   the pod's outputs only in that order. The controller's own objects and config are untouched.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import { ArgoExecutor } from './argo-executor';
import { chartFile, installedValues } from './charts';
import { ControlPlane, freePort } from './control-plane';
import { FatalError } from './kube';

/** The namespace the chart is installed in (the platform's Application's destination). */
export const ARGO_NAMESPACE = 'argo';
/** The scheduling gate the tier puts on Argo's pods until their executor's work is done. */
export const EXECUTOR_GATE = 'mlplatform.test/argo-executor';

/** What {@link startArgo} returns. */
export interface ArgoRun {
  /** The controller's config (the ConfigMap's `config` key, as an object). */
  readonly config: any;
  readonly configMapName: string;
  readonly executorImage: string;
  /** The executor's part of the pods (real argoexec for resource templates, a double for the wait container). */
  readonly executor: ArgoExecutor;
}

/** Keys of `o` whose values are set (Helm's `with`/`if`: not empty, not false, not zero). */
function set(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/**
 * The controller's config from the chart's values, as the chart's ConfigMap template maps them.
 *
 * Followed: argoproj/argo-helm `charts/argo-workflows/templates/controller/workflow-controller-config-map.yaml`
 * at commit ef5eca879341ff358d7d9ae3bfd20e7db1a8daee — the newest version the reference store holds,
 * which may be older than chart 1.0.18. Values of 1.0.18 that template does not map
 * (`controller.workflowEvents`, `controller.failedPodRestart`, `controller.synchronization`) are mapped
 * to the controller's config keys of the same name (config/config.go) only when they differ from the
 * chart's defaults, which the controller's own defaults equal. `tpl` on s3 fields is not evaluated
 * (the platform's values hold no Helm template).
 */
export function argoControllerConfig(values: any, releaseName = 'argo-workflows'): any {
  const c = values.controller ?? {};
  const out: any = {};
  if (c.instanceID?.enabled) out.instanceID = c.instanceID.useReleaseName ? releaseName : c.instanceID.explicitID;
  if (set(c.parallelism)) out.parallelism = c.parallelism;
  if (set(c.resourceRateLimit)) out.resourceRateLimit = c.resourceRateLimit;
  if (set(c.namespaceParallelism)) out.namespaceParallelism = c.namespaceParallelism;
  if (set(c.initialDelay)) out.initialDelay = c.initialDelay;
  const main = values.mainContainer ?? {};
  if (set(main.resources) || set(main.env) || set(main.envFrom) || set(main.securityContext)) {
    out.mainContainer = {
      imagePullPolicy: main.imagePullPolicy || values.images?.pullPolicy,
      ...(set(main.resources) ? { resources: main.resources } : {}),
      ...(set(main.env) ? { env: main.env } : {}),
      ...(set(main.envFrom) ? { envFrom: main.envFrom } : {}),
      ...(set(main.securityContext) ? { securityContext: main.securityContext } : {}),
    };
  }
  const ex = values.executor ?? {};
  if (set(ex.resources) || set(ex.env) || set(ex.securityContext)) {
    out.executor = {
      imagePullPolicy: ex.image?.pullPolicy || values.images?.pullPolicy,
      ...(set(ex.resources) ? { resources: ex.resources } : {}),
      ...(set(ex.env) ? { env: ex.env } : {}),
      ...(set(ex.securityContext) ? { securityContext: ex.securityContext } : {}),
    };
  }
  const repo = values.artifactRepository ?? {};
  if (set(repo.s3) || set(repo.gcs) || set(repo.azure) || set(values.customArtifactRepository)) {
    const r: any = {};
    if (repo.archiveLogs) r.archiveLogs = repo.archiveLogs;
    if (set(repo.gcs)) r.gcs = repo.gcs;
    if (set(repo.azure)) r.azure = repo.azure;
    if (set(repo.s3)) {
      const s3 = repo.s3;
      r.s3 = {
        ...(values.useStaticCredentials ? {
          accessKeySecret: { key: s3.accessKeySecret?.key, name: s3.accessKeySecret?.name },
          secretKeySecret: { key: s3.secretKeySecret?.key, name: s3.secretKeySecret?.name },
        } : {}),
        bucket: s3.bucket ?? '',
        endpoint: s3.endpoint ?? '',
        insecure: s3.insecure,
        ...(s3.keyFormat ? { keyFormat: s3.keyFormat } : {}),
        ...(s3.region ? { region: s3.region } : {}),
        ...(s3.roleARN ? { roleARN: s3.roleARN } : {}),
        ...(s3.useSDKCreds ? { useSDKCreds: s3.useSDKCreds } : {}),
        ...(set(s3.encryptionOptions) ? { encryptionOptions: s3.encryptionOptions } : {}),
      };
    }
    if (set(values.customArtifactRepository)) Object.assign(r, values.customArtifactRepository);
    out.artifactRepository = r;
  }
  const metrics = (m: any) => ({
    enabled: m.enabled,
    path: m.path,
    port: m.port,
    ...(m.metricsTTL ? { metricsTTL: m.metricsTTL } : {}),
    ignoreErrors: m.ignoreErrors,
    secure: m.secure,
  });
  if (c.metricsConfig?.enabled) out.metricsConfig = metrics(c.metricsConfig);
  if (c.telemetryConfig?.enabled) out.telemetryConfig = metrics(c.telemetryConfig);
  if (set(c.persistence)) out.persistence = c.persistence;
  if (set(c.workflowDefaults)) out.workflowDefaults = c.workflowDefaults;
  if (values.server?.sso?.enabled) throw new Error('argo.ts does not map server.sso (the platform disables the Argo server)');
  for (const k of ['workflowRestrictions', 'links', 'columns', 'navColor', 'retentionPolicy']) if (set(c[k])) out[k] = c[k];
  if (set(values.emissary?.images)) out.images = values.emissary.images;
  out.nodeEvents = { enabled: c.nodeEvents?.enabled };
  if (set(c.kubeConfig)) out.kubeConfig = c.kubeConfig;
  if (set(c.podGCGracePeriodSeconds)) out.podGCGracePeriodSeconds = c.podGCGracePeriodSeconds;
  if (set(c.podGCDeleteDelayDuration)) out.podGCDeleteDelayDuration = c.podGCDeleteDelayDuration;
  // Not in the stored template (see above): only when the platform changes the chart's default.
  if (c.workflowEvents?.enabled === false) out.workflowEvents = { enabled: false };
  if (c.failedPodRestart?.enabled) out.failedPodRestart = c.failedPodRestart;
  if (set(c.synchronization)) out.synchronization = c.synchronization;
  return out;
}

/** The chart's values with the platform's `argo-workflows` add-on values merged over them. */
export function argoValues(objects: readonly any[]): any {
  return installedValues(objects, 'argo-workflows');
}

/** The chart's executor image: `executor.image` with the chart's appVersion as the default tag (templates/_helpers.tpl). */
export function executorImage(values: any): string {
  const chart = chartFile('argo-workflows', 'Chart.yaml');
  const i = values.executor.image;
  return `${i.registry ? `${i.registry}/` : ''}${i.repository}:${i.tag || values.images?.tag || chart.appVersion}`;
}

/** Starts the controller for the platform whose synthesized objects are `objects`, and the executor's stand-in for its pods. */
export async function startArgo(plane: ControlPlane, objects: readonly any[]): Promise<ArgoRun> {
  const argo = plane.engines.argo;
  if (!argo) throw new Error('argo is not among the built engines');
  const values = argoValues(objects);
  const config = argoControllerConfig(values);
  const run = { ...config };
  // The metrics and telemetry servers listen on every interface (util/telemetry/exporter_prometheus.go), and
  // the metrics one runs even when the chart leaves `metricsConfig` out (`enabled` unset): only their ports change.
  run.metricsConfig = { ...run.metricsConfig, port: await freePort() };
  run.telemetryConfig = { ...run.telemetryConfig, port: await freePort() };
  // The chart's fullname for the release (templates/_helpers.tpl: "<release>-workflow-controller").
  const configMapName = `argo-workflows-${values.controller.name}-configmap`;
  const image = executorImage(values);
  const kube = plane.admin;
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGO_NAMESPACE } }, 'tier');
  await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMapName, namespace: ARGO_NAMESPACE }, data: { config: stringify(run) } }, 'tier');
  // The tier's hold on Argo's pods (see the header): a scheduling gate on every pod a Workflow owns.
  await kube.apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicy',
    metadata: { name: 'tier-argo-executor-gate' },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      matchConditions: [{ name: 'owned-by-a-workflow', expression: "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, r.kind == 'Workflow')" }],
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      mutations: [{
        patchType: 'ApplyConfiguration',
        applyConfiguration: { expression: `Object{spec: Object.spec{schedulingGates: [Object.spec.schedulingGates{name: "${EXECUTOR_GATE}"}]}}` },
      }],
    },
  }, 'tier');
  await kube.apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata: { name: 'tier-argo-executor-gate' },
    spec: { policyName: 'tier-argo-executor-gate' },
  }, 'tier');

  const name = 'workflow-controller';
  plane.start(name, join(argo.bin, 'workflow-controller'), [
    '--configmap', configMapName, '--executor-image', image, '--namespace', ARGO_NAMESPACE,
    '--loglevel', values.controller.logging?.level ?? 'info', '--log-format', 'json',
  ], { PATH: process.env.PATH, HOME: plane.dir, KUBECONFIG: plane.kubeconfigs.admin, LEADER_ELECTION_DISABLE: 'true' });
  // Ready when it has read its config (it stops on a key it does not know) and started its informers.
  await kube.waitFor('workflow-controller started', async () => {
    const p = plane.procs.find((x) => x.name === name)!;
    const log = readFileSync(p.log, 'utf8');
    if (p.child.exitCode !== null) throw new FatalError(`workflow-controller exited: ${plane.tail(name)}`);
    if (/error unmarshaling JSON|unknown field/.test(log)) throw new FatalError(`workflow-controller refused its config: ${plane.tail(name, 4)}`);
    return /Starting Workflow Controller/i.test(log) && /Started workflow/i.test(log) ? true : undefined;
  }, 60_000, 500);
  const executor = new ArgoExecutor(plane, join(argo.bin, 'argoexec'));
  executor.start();
  return { config, configMapName, executorImage: image, executor };
}

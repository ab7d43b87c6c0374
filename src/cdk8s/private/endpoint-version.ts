import { Construct } from 'constructs';
import { renderPayloadLoggerConfigMap } from './endpoint-logging';
import { endpointLabels, versionLabels, versionPodSpec } from './endpoint-pod';
import { K8sObject, KUBE, kube } from './object';
import { ModelEndpointSpec, ModelVersionSpec } from '../../core/endpoint';

/**
 * Annotation naming the store prefix a version's ServiceAccount must be able to read (the AWS side
 * grants exactly this): the model's prefix, or for a registry model the root its `s3://` sources live under.
 */
export const READ_SCOPE_ANNOTATION = 'mlplatform.io/model-read-scope';
/** Annotation naming the registered model a version serves (`models:/<name>`; MLflow's permissions decide who reads it). */
export const REGISTERED_MODEL_ANNOTATION = 'mlplatform.io/registered-model';
/** Annotation naming the exact bucket prefix a version writes its payload logs to (the AWS side grants s3:PutObject on exactly this). */
export const PAYLOAD_LOG_SCOPE_ANNOTATION = 'mlplatform.io/payload-log-scope';
/** KEDA polling interval, seconds. */
const KEDA_POLLING_SECONDS = 15;
/** Scale-down stabilization of every autoscaler, seconds (no flapping after a burst). */
const SCALE_DOWN_STABILIZATION = 300;
/** Threshold of the wake-up trigger: high enough that it never asks for more than one replica. */
const WAKE_THRESHOLD = '1000000000';

/** The Service port that carries metrics when the runtime has a separate metrics listener (Triton). */
export function metricsServicePort(v: ModelVersionSpec): number | undefined {
  const m = v.runtime.metrics;
  return m && m.port !== v.runtime.port ? m.port : undefined;
}

/** The KEDA cooldowns of a version: with scale to zero, never shorter than the start-up budget. */
export function kedaTiming(v: ModelVersionSpec): { cooldownPeriod: number; initialCooldownPeriod?: number } {
  const s = v.scaling;
  if (s.kind !== 'keda' || s.minReplicas > 0) return { cooldownPeriod: 300 };
  const budget = v.startup.budget.toSeconds();
  return { cooldownPeriod: Math.max(s.idle.toSeconds(), budget), initialCooldownPeriod: budget };
}

/**
 * One version: ServiceAccount (read and payload-log write scopes, workload identity annotations),
 * the endpoint's payload-logger ConfigMap (once, when a version logs), Deployment (rolling
 * update with one surge and none unavailable), Service, PodDisruptionBudget, and an HPA (CPU) or a
 * KEDA ScaledObject (request rate / concurrency, optional scale to zero with a wake-up trigger).
 * With `serviceAccountOnly` (KServe runs the pods), only the ServiceAccount.
 */
export function renderVersion(scope: Construct, e: ModelEndpointSpec, v: ModelVersionSpec, o: { platform: string; prometheusUrl?: string; serviceAccountOnly?: boolean }): void {
  const c = new Construct(scope, v.name);
  const { labels, selector } = versionLabels(e, v, o.platform);
  const metadata = { name: v.objectName, namespace: e.namespace, labels };
  // The store prefix either kind reads (what the AWS side grants and the data-access check compares),
  // and for a registry model the registered model (MLflow's permissions enforce that part).
  const scopeAnnotation: Record<string, string> = v.readScope ? { [READ_SCOPE_ANNOTATION]: `s3://${v.readScope.bucket}/${v.readScope.prefix}` } : {};
  if (v.readScope?.kind === 'registry') scopeAnnotation[REGISTERED_MODEL_ANNOTATION] = `models:/${v.readScope.model}`;
  if (v.writeScope) scopeAnnotation[PAYLOAD_LOG_SCOPE_ANNOTATION] = `s3://${v.writeScope.bucket}/${v.writeScope.prefix}`;
  kube(c, 'sa', KUBE.ServiceAccount, {
    metadata: Object.assign({}, metadata, { annotations: Object.assign({}, scopeAnnotation, v.serviceAccountAnnotations) }),
    automountServiceAccountToken: false,
  });
  if (o.serviceAccountOnly) return;
  if (v.logging) renderPayloadLoggerConfigMap(scope, e, endpointLabels(e, o.platform));
  const autoscaled = v.scaling.kind !== 'fixed';
  kube(c, 'deployment', KUBE.Deployment, {
    metadata,
    spec: Object.assign({}, autoscaled ? {} : { replicas: v.scaling.minReplicas }, {
      selector: { matchLabels: selector },
      progressDeadlineSeconds: v.startup.progressDeadlineSeconds,
      revisionHistoryLimit: 5,
      // Zero downtime: a new replica must be ready before an old one goes (GPU versions need one spare GPU during a rollout).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: versionPodSpec(e, v, { serviceAccountName: v.objectName, containerName: 'server', spread: selector }),
      },
    }),
  });
  const metrics = metricsServicePort(v);
  // `http` is the logging proxy's port when the version logs payloads (see endpoint-logging.ts), else the server's.
  kube(c, 'service', KUBE.Service, {
    metadata,
    spec: {
      selector,
      ports: [
        { name: 'http', port: v.runtime.port, targetPort: 'http', protocol: 'TCP' },
        ...(v.runtime.grpcPort !== undefined ? [{ name: 'grpc', port: v.runtime.grpcPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }] : []),
        ...(metrics !== undefined ? [{ name: 'metrics', port: metrics, targetPort: 'metrics', protocol: 'TCP' }] : []),
      ],
    },
  });
  kube(c, 'pdb', KUBE.PodDisruptionBudget, {
    metadata,
    spec: { selector: { matchLabels: selector }, maxUnavailable: 1 },
  });
  const behavior = { scaleDown: { stabilizationWindowSeconds: SCALE_DOWN_STABILIZATION } };
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: v.objectName };
  const s = v.scaling;
  if (s.kind === 'cpu') {
    kube(c, 'hpa', KUBE.HorizontalPodAutoscalerV2, {
      metadata,
      spec: {
        scaleTargetRef: target,
        minReplicas: s.minReplicas,
        maxReplicas: s.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.utilization } } }],
        behavior,
      },
    });
  }
  if (s.kind === 'keda') {
    const trigger = (name: string, query: string, threshold: string, activation: number) => ({
      type: 'prometheus',
      name,
      metricType: 'AverageValue',
      metadata: { serverAddress: o.prometheusUrl!, query, threshold, activationThreshold: String(activation), ignoreNullValues: 'true' },
    });
    const triggers = [trigger(s.signal, s.query!, String(s.target), s.minReplicas === 0 && !s.activationQuery ? s.activationThreshold : 0)];
    if (s.minReplicas === 0 && s.activationQuery) triggers.push(trigger('wake', s.activationQuery, WAKE_THRESHOLD, s.activationThreshold));
    new K8sObject(c, 'scaledobject', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata,
      spec: {
        scaleTargetRef: target,
        minReplicaCount: s.minReplicas,
        maxReplicaCount: s.maxReplicas,
        pollingInterval: KEDA_POLLING_SECONDS,
        ...kedaTiming(v),
        advanced: { horizontalPodAutoscalerConfig: { name: v.objectName, behavior } },
        triggers,
      },
    });
  }
}

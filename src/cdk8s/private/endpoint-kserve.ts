import { Construct } from 'constructs';
import { versionLabels, versionPodSpec } from './endpoint-pod';
import { K8sObject } from './object';
import { ModelEndpointSpec, ModelVersionSpec } from '../../core/endpoint';

/** KServe's deployment-mode annotation; `Standard` is the mode formerly called `RawDeployment`. */
export const KSERVE_DEPLOYMENT_MODE = 'serving.kserve.io/deploymentMode';
/** KServe's autoscaler-class annotation (`hpa`, `keda`, `external`, `none`). */
export const KSERVE_AUTOSCALER_CLASS = 'serving.kserve.io/autoscalerClass';

function predictor(e: ModelEndpointSpec, v: ModelVersionSpec, platform: string): Record<string, unknown> {
  const pod = versionPodSpec(e, v, { serviceAccountName: v.objectName, containerName: 'kserve-container' });
  return Object.assign({}, pod, { labels: versionLabels(e, v, platform).labels });
}

/** The stable predictor's replica and autoscaling fields. */
function scaling(v: ModelVersionSpec, prometheusUrl: string): { fields: Record<string, unknown>; autoscalerClass: string } {
  const s = v.scaling;
  const bounds = { minReplicas: s.minReplicas, maxReplicas: s.maxReplicas };
  if (s.kind === 'fixed') return { fields: bounds, autoscalerClass: 'none' };
  if (s.kind === 'cpu') return { fields: Object.assign({}, bounds, { scaleMetric: 'cpu', scaleMetricType: 'Utilization', scaleTarget: s.utilization }), autoscalerClass: 'hpa' };
  return {
    fields: Object.assign({}, bounds, {
      autoScaling: {
        metrics: [{
          type: 'External',
          external: { metric: { backend: 'prometheus', serverAddress: prometheusUrl, query: s.query }, target: { type: 'AverageValue', averageValue: String(s.target) } },
        }],
      },
    }),
    autoscalerClass: 'keda',
  };
}

/**
 * The endpoint as one KServe InferenceService in Standard mode: the stable version is the
 * predictor, every other serving version a `spec.canary` entry (KServe ≥ 0.20) with its
 * `trafficPercent`; each runs the same pod as the plain output (fetch step, probes, placement),
 * with a rolling update that keeps every replica until its successor is ready.
 */
export function renderInferenceService(scope: Construct, e: ModelEndpointSpec, labels: Record<string, string>, o: { platform: string; prometheusUrl: string }): void {
  const stable = e.versions.find((v) => v.name === e.traffic.stable)!;
  const s = scaling(stable, o.prometheusUrl);
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
  const canary = e.traffic.backends
    .filter((b) => b.name !== stable.name)
    .map((b) => {
      const v = e.versions.find((x) => x.name === b.name)!;
      return { trafficPercent: b.weight, predictor: { name: v.name, ...predictor(e, v, o.platform), minReplicas: v.scaling.minReplicas, deploymentStrategy: strategy } };
    });
  new K8sObject(scope, 'inferenceservice', {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: e.name,
      namespace: e.namespace,
      labels,
      annotations: { [KSERVE_DEPLOYMENT_MODE]: 'Standard', [KSERVE_AUTOSCALER_CLASS]: s.autoscalerClass },
    },
    spec: {
      predictor: Object.assign({}, predictor(e, stable, o.platform), s.fields, { deploymentStrategy: strategy, timeout: (stable.runtime.requestTimeout).toSeconds() }),
      ...(canary.length ? { canary } : {}),
    },
  });
}

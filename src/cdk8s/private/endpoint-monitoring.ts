import { Construct } from 'constructs';
import { ENDPOINT_LABEL, VERSION_LABEL, versionLabels } from './endpoint-pod';
import { metricsServicePort } from './endpoint-version';
import { K8sObject } from './object';
import { ModelEndpointSpec, ModelVersionSpec } from '../../core/endpoint';

/** Default latency threshold, seconds: generation (vLLM) is measured end to end, so it gets more. */
function defaultLatency(v: ModelVersionSpec): number {
  return v.runtime.kind === 'vllm' ? 30 : 1;
}

/**
 * Scraping and alerting: one ServiceMonitor per version (a PodMonitor with KServe, whose Services
 * it does not own) copying the endpoint and version pod labels onto every series, and one
 * PrometheusRule with error-ratio, latency and saturation alerts per version, where its runtime
 * exports the signal.
 */
export function renderMonitoring(scope: Construct, e: ModelEndpointSpec, labels: Record<string, string>, platform: string): void {
  const m = e.monitoring;
  if (!m) return;
  const meta = (name: string) => ({ name, namespace: e.namespace, labels: Object.assign({}, labels, m.labels) });
  for (const v of e.versions) {
    const metrics = v.runtime.metrics;
    if (!metrics) continue;
    const common = { interval: m.interval.toGo(), path: metrics.path, scheme: 'http' };
    const podTargetLabels = [ENDPOINT_LABEL, VERSION_LABEL];
    if (e.kserve) {
      new K8sObject(scope, `podmonitor-${v.name}`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: meta(v.objectName),
        spec: {
          selector: { matchLabels: { [ENDPOINT_LABEL]: e.name, [VERSION_LABEL]: v.name } },
          podTargetLabels,
          podMetricsEndpoints: [{ portNumber: metrics.port, ...common }],
        },
      });
      continue;
    }
    new K8sObject(scope, `servicemonitor-${v.name}`, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta(v.objectName),
      spec: {
        selector: { matchLabels: versionLabels(e, v, platform).selector },
        podTargetLabels,
        endpoints: [{ port: metricsServicePort(v) !== undefined ? 'metrics' : 'http', ...common }],
      },
    });
  }
  const a = m.alerts;
  if (!a) return;
  const rules: unknown[] = [];
  for (const v of e.versions) {
    const ruleLabels = { severity: 'warning', endpoint: e.name, version: v.name, namespace: e.namespace };
    const add = (alert: string, expr: string | undefined, threshold: number, summary: string) => {
      if (!expr) return;
      rules.push({
        alert,
        expr: `(${expr}) > ${threshold}`,
        for: a.for.toGo(),
        labels: ruleLabels,
        annotations: { summary: `${e.namespace}/${e.name} version ${v.name}: ${summary}`, description: `{{ $value }} (threshold ${threshold}) for ${a.for.toGo()}.` },
      });
    };
    add('ModelEndpointErrorRatioHigh', v.queries.errorRatio, a.errorRatio, 'failed requests above threshold');
    add('ModelEndpointLatencyHigh', v.queries.latencySeconds, a.latencySeconds ?? defaultLatency(v), 'request latency (seconds) above threshold');
    add('ModelEndpointSaturated', v.queries.saturation, a.saturation, 'capacity in use above threshold');
  }
  new K8sObject(scope, 'rules', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: meta(e.name),
    spec: { groups: [{ name: `${e.namespace}.${e.name}.model-endpoint`, rules }] },
  });
}

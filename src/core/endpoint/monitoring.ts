import { Issues } from '../errors';
import { isDnsLabel, isLabelValue, isQualifiedName } from '../names';
import { Duration } from '../quantities';

/** Namespace endpoints expect Prometheus in unless told otherwise (kube-prometheus-stack's usual `monitoring`). */
export const DEFAULT_PROMETHEUS_NAMESPACE = 'monitoring';

/** The Prometheus that scrapes endpoints and that KEDA queries. */
export interface PrometheusOptions {
  /**
   * Query URL (KEDA's `serverAddress`).
   * @default 'http://prometheus-operated.monitoring.svc.cluster.local:9090' (kube-prometheus-stack in `monitoring`)
   */
  readonly url?: string;
  /** Namespace its pods run in (the NetworkPolicy admits scrapes from there). @default 'monitoring' */
  readonly namespace?: string;
  /**
   * Labels of its pods. The default is the label Prometheus Operator sets on every Prometheus pod.
   * @default { 'app.kubernetes.io/name': 'prometheus' }
   */
  readonly podLabels?: Readonly<Record<string, string>>;
}

/** Alert thresholds (PrometheusRule), per version. */
export interface AlertThresholds {
  /** Fire when failed / all requests exceeds this fraction. @default 0.05 */
  readonly errorRatio?: number;
  /** Fire when latency in seconds (p95, or mean where the runtime has no histogram) exceeds this. @default 1; 30 for vLLM */
  readonly latencySeconds?: number;
  /** Fire when the fraction of capacity in use exceeds this. @default 0.9 */
  readonly saturation?: number;
  /** How long a condition must hold before the alert fires. @default Duration.minutes(5) */
  readonly for?: Duration;
}

/** Monitoring of an endpoint. */
export interface MonitoringOptions {
  /** The Prometheus. @default kube-prometheus-stack conventions (see {@link PrometheusOptions}) */
  readonly prometheus?: PrometheusOptions;
  /**
   * Labels on the ServiceMonitor and PrometheusRule, for the Prometheus' `serviceMonitorSelector`
   * and `ruleSelector` (kube-prometheus-stack selects `release: <release name>` by default).
   * @default none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Scrape interval. @default Duration.seconds(30) */
  readonly interval?: Duration;
  /** Alert thresholds; `false` emits no PrometheusRule. @default see {@link AlertThresholds} */
  readonly alerts?: AlertThresholds | false;
}

/** The validated monitoring. */
export interface MonitoringSpec {
  /** The Prometheus: query URL, namespace and pod labels. */
  readonly prometheus: { readonly url: string; readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
  /** Labels of the ServiceMonitors and the PrometheusRule. */
  readonly labels: Readonly<Record<string, string>>;
  /** Scrape interval. */
  readonly interval: Duration;
  /** Alert thresholds; undefined with `alerts: false`. */
  readonly alerts?: { readonly errorRatio: number; readonly latencySeconds?: number; readonly saturation: number; readonly for: Duration };
}

function fraction(issues: Issues, path: string, v: unknown): void {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) issues.add(path, v, 'must be a fraction in (0, 1], e.g. 0.05 for 5%');
}

/** Validates monitoring options (recorded under `path`). */
export function resolveMonitoring(issues: Issues, path: string, o: MonitoringOptions = {}): MonitoringSpec {
  const p = o.prometheus ?? {};
  const url = p.url ?? 'http://prometheus-operated.monitoring.svc.cluster.local:9090';
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) issues.add(`${path}.prometheus.url`, p.url, 'must be the http(s) URL of the Prometheus query API');
  const namespace = p.namespace ?? DEFAULT_PROMETHEUS_NAMESPACE;
  if (!isDnsLabel(namespace)) issues.add(`${path}.prometheus.namespace`, namespace, 'must be a namespace name');
  const podLabels = p.podLabels ?? { 'app.kubernetes.io/name': 'prometheus' };
  const labels = o.labels ?? {};
  for (const [where, map] of [['prometheus.podLabels', podLabels], ['labels', labels]] as const) {
    for (const [k, v] of Object.entries(map)) if (!isQualifiedName(k) || !isLabelValue(v)) issues.add(`${path}.${where}.${k}`, v, 'must be a valid label key and value');
  }
  const interval = o.interval ?? Duration.seconds(30);
  if (!(interval instanceof Duration) || interval.toSeconds() < 5) issues.add(`${path}.interval`, o.interval?.toString(), 'must be a Duration of at least 5 seconds');
  if (o.alerts === false) return { prometheus: { url, namespace, podLabels }, labels, interval };
  const a = o.alerts ?? {};
  const errorRatio = a.errorRatio ?? 0.05;
  const saturation = a.saturation ?? 0.9;
  fraction(issues, `${path}.alerts.errorRatio`, errorRatio);
  fraction(issues, `${path}.alerts.saturation`, saturation);
  if (a.latencySeconds !== undefined && (typeof a.latencySeconds !== 'number' || !(a.latencySeconds > 0) || !Number.isFinite(a.latencySeconds))) {
    issues.add(`${path}.alerts.latencySeconds`, a.latencySeconds, 'must be a number of seconds > 0, e.g. 0.25');
  }
  const forDuration = a.for ?? Duration.minutes(5);
  if (!(forDuration instanceof Duration)) issues.add(`${path}.alerts.for`, a.for, 'must be a Duration');
  return { prometheus: { url, namespace, podLabels }, labels, interval, alerts: { errorRatio, latencySeconds: a.latencySeconds, saturation, for: forDuration } };
}

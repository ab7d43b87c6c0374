import { Construct } from 'constructs';
import { renderExposure } from './exposure';
import { KUBE, kube } from './object';
import { container, emptyDir, podSpec, resources } from './pod';
import { tenantNetworkPolicyName } from './sweep-names';
import { optunaEnv, optunaMounts, optunaVolumes, PROGRAM_DIR, SweepPodsInput } from './sweep-pods';
import { attachToPlatformApps, checkDnsLabel, Exposure, ExposureSpec, Issues, PlatformContext, VERSIONS } from '../../core';

/** Port optuna-dashboard listens on. */
export const DASHBOARD_PORT = 8080;

/** What the dashboard renderer needs besides the pod inputs. */
export interface DashboardInput {
  readonly name: string;
  readonly exposure?: ExposureSpec;
  /** Namespaces whose pods (the gateway or ingress controller) may reach the dashboard. */
  readonly allowFromNamespaces: readonly string[];
}

/**
 * optuna-dashboard for the study's schema: a Deployment (one replica, the pinned dashboard image
 * running `sweep.py dashboard`, which waits for the tables and serves on {@link DASHBOARD_PORT}), a
 * Service, the exposure (an HTTPRoute on the platform Gateway's apps listener or on a named Gateway,
 * or an Ingress) and a NetworkPolicy that admits the gateway's proxy or ingress controller's
 * namespaces (tenant namespaces deny ingress by default).
 */
export function renderDashboard(scope: Construct, i: SweepPodsInput, d: DashboardInput): void {
  const labels = Object.assign({}, i.labels, { 'app.kubernetes.io/component': 'sweep-dashboard' });
  const selector = { 'app.kubernetes.io/name': d.name, 'app.kubernetes.io/component': 'sweep-dashboard' };
  const podLabels = Object.assign({}, labels, { 'app.kubernetes.io/name': d.name });
  const ns = i.spec.namespace;
  const tcp = { tcpSocket: { port: DASHBOARD_PORT } };
  kube(scope, 'dashboard', KUBE.Deployment, {
    metadata: { name: d.name, namespace: ns, labels: podLabels },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: podLabels },
        spec: podSpec({
          serviceAccountName: i.serviceAccount,
          runAsUser: i.runAsUser,
          // The credential files are 0440 with the pod's fsGroup (pod.ts credentialFiles).
          fsGroup: i.runAsUser,
          containers: [container({
            name: 'dashboard',
            image: i.images.dashboard,
            command: ['python', `${PROGRAM_DIR}/sweep.py`, 'dashboard'],
            env: [...optunaEnv(i, false), { name: 'SWEEP_DASHBOARD_PORT', value: String(DASHBOARD_PORT) }],
            ports: [{ name: 'http', containerPort: DASHBOARD_PORT }],
            // It listens only once the creation Job made the tables: a generous startup budget.
            startupProbe: Object.assign({}, tcp, { periodSeconds: 10, failureThreshold: 90 }),
            readinessProbe: Object.assign({}, tcp, { periodSeconds: 10 }),
            livenessProbe: Object.assign({}, tcp, { periodSeconds: 20, failureThreshold: 3 }),
            resources: resources('100m', '500m', '384Mi', '384Mi'),
            volumeMounts: optunaMounts(i, false),
          })],
          volumes: [{ name: 'program', configMap: { name: i.configMap, defaultMode: 0o444 } }, emptyDir('tmp', '256Mi'), ...optunaVolumes(i, false)],
        }),
      },
    },
  });
  kube(scope, 'dashboard-service', KUBE.Service, {
    metadata: { name: d.name, namespace: ns, labels: podLabels },
    spec: { selector, ports: [{ name: 'http', port: DASHBOARD_PORT, targetPort: DASHBOARD_PORT, protocol: 'TCP' }] },
  });
  if (!d.exposure || d.exposure.kind === 'none') return;
  renderExposure(scope, { namespace: ns, name: d.name, labels: podLabels, spec: d.exposure, service: d.name, port: DASHBOARD_PORT, envoyGatewayAddon: false });
  kube(scope, 'dashboard-ingress', KUBE.NetworkPolicy, {
    metadata: { name: tenantNetworkPolicyName(d.name), namespace: ns, labels: podLabels },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...d.allowFromNamespaces] }] } }],
        ports: [{ protocol: 'TCP', port: DASHBOARD_PORT }],
      }],
    },
  });
}

/** The dashboard props {@link resolveDashboard} reads (`SweepDashboardOptions` of TuningSweep). */
export interface DashboardOptionsInput {
  readonly exposure?: Exposure;
  readonly allowFromNamespaces?: readonly string[];
}

/**
 * Validates the dashboard props (issues under `dashboard.`). `Exposure.gateway({ host })` without
 * `gateway` attaches to the platform Gateway's apps listener matching `host` and admits the
 * Gateway's proxy namespace; with a named Gateway, Envoy Gateway's namespace is admitted unless
 * `allowFromNamespaces` says otherwise; an Ingress needs `allowFromNamespaces`.
 */
export function resolveDashboard(issues: Issues, o: DashboardOptionsInput, ctx: PlatformContext | undefined, namespace: string): Omit<DashboardInput, 'name'> {
  let exposure = o.exposure?._resolve(issues, 'dashboard.exposure', ctx?.namespace ?? namespace);
  let allow = o.allowFromNamespaces;
  if (exposure?.kind === 'gateway' && exposure.createGateway) {
    // No Gateway named: the platform's apps listener for the host (the platform owns TLS and the class).
    if (exposure.tls) issues.add('dashboard.exposure.tls', exposure.tls, "applies only to the platform's own exposure: the apps listener's TLS is the platform Gateway's; drop `tls`");
    if (exposure.apps) issues.add('dashboard.exposure.apps', exposure.apps.map((a) => a.hostname), "applies only to the platform's own exposure; drop `apps`");
    const at = attachToPlatformApps(issues, 'dashboard.exposure', exposure.host, ctx?.exposure);
    if (at) {
      exposure = { kind: 'gateway', host: exposure.host, gateway: at.gateway, createGateway: false, gatewayClassName: exposure.gatewayClassName };
      allow ??= [at.proxyNamespace];
    }
  }
  if (allow === undefined && exposure?.kind === 'gateway') allow = [VERSIONS.charts.envoyGateway.namespace];
  if (allow === undefined && exposure?.kind === 'ingress') issues.add('dashboard.allowFromNamespaces', undefined, "is required with an Ingress: name the ingress controller's namespace");
  (allow ?? []).forEach((n, i) => checkDnsLabel(issues, `dashboard.allowFromNamespaces[${i}]`, n));
  return { exposure, allowFromNamespaces: allow ?? [] };
}

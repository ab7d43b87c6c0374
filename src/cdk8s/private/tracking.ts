import { Lazy } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PlatformNames } from './names';
import { Json, KUBE, kube } from './object';
import { appLabels, container, databaseCa, emptyDir, podSpec, resources, secretEnv, selectorLabels } from './pod';
import { program } from './programs';
import { AWS_CREDENTIALS_DIR } from './workload-pod';
import { ExposureSpec, TrackingSpec } from '../../core';
import { kubeLiteral } from '../../core/kube-literal';

/** Port of the MLflow server (API and UI). */
export const TRACKING_PORT = 5000;
/** Where the OAuth2 Proxy sidecar reads its client and cookie secrets. */
const OAUTH2_PROXY_SECRETS_DIR = '/var/run/secrets/mlplatform/oauth2-proxy';
/** Port of OAuth2 Proxy in front of the UI, with OIDC. */
export const OIDC_PROXY_PORT = 4180;
const MLFLOW_UID = 1000;

/** What the tracking renderer needs. */
export interface TrackingInput {
  readonly platform: string;
  readonly namespace: string;
  readonly names: PlatformNames;
  readonly image: string;
  readonly oauth2ProxyImage: string;
  readonly spec: TrackingSpec;
  readonly exposure: ExposureSpec;
  /** Where the server writes artifacts it proxies: `s3://bucket/prefix/mlartifacts`. */
  readonly artifactsDestination: string;
  /** S3 endpoint URL for S3-compatible stores. */
  readonly storeEndpoint?: string;
  readonly storeRegion: string;
  /** Env vars that give the server its store credentials (empty with workload identity or a credentials file). */
  readonly storeCredentialEnv: Json<k8s.EnvVar>[];
  /**
   * The AWS shared credentials file (INI, `[default]`) of the server's store identity: a Secret key the
   * bootstrap writes. boto3, which MLflow's artifact proxy uses, reads it through `AWS_SHARED_CREDENTIALS_FILE`.
   */
  readonly storeCredentialsFile?: { readonly name: string; readonly key: string };
  /** ServiceAccount annotations (workload identity). */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /** The database's CA bundle (a Secret key in the namespace), with `verify-ca`/`verify-full`. */
  readonly databaseCa?: { readonly name: string; readonly key: string };
  /** OIDC mode: the admin's user name and the groups → MLflow user mapping (rendered at synthesis). */
  readonly oidc?: {
    readonly admin: { readonly name: string; readonly key: string };
    readonly mapping: () => { adminGroups: string[]; tenants: { username: string; groups: string[] }[] };
  };
}

/** Where the OIDC-mode authorization function, its mapping and its secrets are mounted (on PYTHONPATH). */
const OIDC_DIR = '/etc/mlflow-oidc';

/** Labels of the tracking pods. */
export function trackingPodLabels(i: { platform: string; names: PlatformNames }): Record<string, string> {
  return selectorLabels(i.names.tracking, i.platform);
}

/** Host headers the server accepts (MLflow 3 rejects others with 403 to stop DNS rebinding). */
export function allowedHosts(service: string, namespace: string, publicHost?: string): string[] {
  const hosts = [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, 'localhost', '127.0.0.1'];
  if (publicHost) hosts.push(publicHost);
  return hosts.flatMap((h) => [h, `${h}:*`]);
}

/**
 * The MLflow tracking server and model registry: Deployment, Service, ServiceAccount,
 * PodDisruptionBudget and (when asked) a HorizontalPodAutoscaler. Artifacts are proxied
 * (`--serve-artifacts`), so clients need no object-store credentials.
 */
export function renderTracking(scope: Construct, i: TrackingInput): void {
  const { names, namespace, spec } = i;
  const labels = appLabels(names.tracking, 'tracking', i.platform);
  const selector = trackingPodLabels(i);
  const publicHost = i.exposure.kind === 'none' ? undefined : i.exposure.host;
  // MLflow's basic-auth app runs with OIDC too (people come through the proxy, pods log in as their tenant).
  const basic = spec.auth.kind !== 'disabled';
  const oidc = spec.auth.kind === 'oidc' ? spec.auth : undefined;
  // The backend store and MLflow's auth database (same server) verify its certificate against this CA.
  const ca = databaseCa(i.databaseCa);
  if (oidc && i.oidc) {
    kube(scope, 'tracking-oidc', KUBE.ConfigMap, {
      metadata: { name: names.oidcConfig, namespace, labels },
      data: {
        'mlflow_oidc_auth.py': program('mlflow_oidc_auth.py').text,
        'mapping.json': Lazy.any({ produce: () => JSON.stringify(i.oidc!.mapping(), null, 2) }) as any,
      },
    });
  }

  kube(scope, 'tracking-sa', KUBE.ServiceAccount, {
    metadata: { name: names.tracking, namespace, labels, ...(i.serviceAccountAnnotations ? { annotations: i.serviceAccountAnnotations } : {}) },
    automountServiceAccountToken: false,
  });

  const args = [
    'server',
    '--host', '0.0.0.0',
    '--port', String(TRACKING_PORT),
    '--workers', String(spec.workers),
    ...(spec.serverOptions ? ['--uvicorn-opts', kubeLiteral(spec.serverOptions)] : []),
    '--backend-store-uri', '$(MLFLOW_BACKEND_STORE_URI)',
    '--serve-artifacts',
    '--artifacts-destination', kubeLiteral(i.artifactsDestination),
    '--allowed-hosts', kubeLiteral(allowedHosts(names.tracking, namespace, publicHost).join(',')),
    ...(publicHost ? ['--cors-allowed-origins', kubeLiteral(`https://${publicHost},http://${publicHost}`)] : []),
    ...(basic ? ['--app-name', 'basic-auth'] : []),
  ];
  const env: Json<k8s.EnvVar>[] = [
    { name: 'HOME', value: '/tmp' },
    secretEnv('MLFLOW_BACKEND_STORE_URI', names.trackingConfigSecret, 'backend-store-uri'),
    ...ca.env,
    { name: 'MLFLOW_SERVER_ENABLE_JOB_EXECUTION', value: 'false' },
    { name: 'AWS_DEFAULT_REGION', value: kubeLiteral(i.storeRegion) },
    ...(i.storeEndpoint ? [{ name: 'MLFLOW_S3_ENDPOINT_URL', value: kubeLiteral(i.storeEndpoint) }] : []),
    ...i.storeCredentialEnv,
    ...(i.storeCredentialsFile ? [{ name: 'AWS_SHARED_CREDENTIALS_FILE', value: `${AWS_CREDENTIALS_DIR}/credentials` }] : []),
    ...(basic ? [
      { name: 'MLFLOW_AUTH_CONFIG_PATH', value: '/etc/mlflow-auth/basic_auth.ini' },
      secretEnv('MLFLOW_FLASK_SERVER_SECRET_KEY', names.trackingConfigSecret, 'flask-secret-key'),
    ] : []),
    ...(oidc ? [{ name: 'PYTHONPATH', value: OIDC_DIR }, { name: 'MLFLOW_OIDC_DIR', value: OIDC_DIR }] : []),
  ];
  const health = { httpGet: { path: '/health', port: 'http' } };
  const containers: Json<k8s.Container>[] = [container({
    name: 'mlflow',
    image: i.image,
    command: ['mlflow'],
    args,
    env,
    ports: [{ name: 'http', containerPort: TRACKING_PORT, protocol: 'TCP' }],
    resources: resources('100m', '1', '320Mi', '1Gi'),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...(i.storeCredentialsFile ? [{ name: 'credentials-aws', mountPath: AWS_CREDENTIALS_DIR, readOnly: true }] : []),
      ...(basic ? [{ name: 'auth-config', mountPath: '/etc/mlflow-auth', readOnly: true }] : []),
      ...(oidc ? [{ name: 'oidc', mountPath: OIDC_DIR, readOnly: true }] : []),
      ...ca.mounts,
    ],
    // Start-up runs the database migrations: give it up to 5 minutes.
    startupProbe: Object.assign({}, health, { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 }),
    readinessProbe: Object.assign({}, health, { periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 }),
    livenessProbe: Object.assign({}, health, { periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 }),
  })];
  if (oidc) {
    containers.push(container({
      name: 'oauth2-proxy',
      image: i.oauth2ProxyImage,
      args: [
        '--provider=oidc',
        kubeLiteral(`--oidc-issuer-url=${oidc.issuerUrl}`),
        kubeLiteral(`--client-id=${oidc.clientId}`),
        `--http-address=0.0.0.0:${OIDC_PROXY_PORT}`,
        `--upstream=http://127.0.0.1:${TRACKING_PORT}`,
        ...oidc.emailDomains.map((d) => kubeLiteral(`--email-domain=${d}`)),
        ...oidc.allowedGroups.map((g) => kubeLiteral(`--allowed-group=${g}`)),
        '--skip-provider-button=true',
        '--reverse-proxy=true',
        // Upstream, each request carries `Authorization: Basic <e-mail>:<proxy password>` and the person's
        // groups (X-Forwarded-Groups); the same headers sent by a client are stripped first. MLflow's
        // authorization function (mlflow_oidc_auth.py) maps the groups to an MLflow user.
        '--pass-basic-auth=true',
        '--prefer-email-to-user=true',
        '--pass-user-headers=true',
        '--skip-auth-strip-headers=true',
        '--cookie-secure=true',
        ...(publicHost ? [kubeLiteral(`--redirect-url=https://${publicHost}/oauth2/callback`)] : []),
        // The client and cookie secrets as files (OAuth2 Proxy's `client-secret-file` and `cookie-secret-file`
        // options, pkg/apis/options/legacy_options.go and cookie.go).
        `--client-secret-file=${OAUTH2_PROXY_SECRETS_DIR}/client-secret`,
        `--cookie-secret-file=${OAUTH2_PROXY_SECRETS_DIR}/cookie-secret`,
      ],
      env: [
        // The password it passes upstream has no file option (`basic-auth-password` is a flag, env or config
        // setting only): it stays an env var, like in the config file it would be plain text.
        secretEnv('OAUTH2_PROXY_BASIC_AUTH_PASSWORD', names.oidcProxySecret, 'password'),
      ],
      volumeMounts: [{ name: 'oauth2-proxy-secrets', mountPath: OAUTH2_PROXY_SECRETS_DIR, readOnly: true }],
      ports: [{ name: 'oidc', containerPort: OIDC_PROXY_PORT, protocol: 'TCP' }],
      resources: resources('10m', '200m', '32Mi', '128Mi'),
      readinessProbe: { httpGet: { path: '/ping', port: 'oidc' }, periodSeconds: 10 },
      livenessProbe: { httpGet: { path: '/ping', port: 'oidc' }, periodSeconds: 20 },
    }));
  }
  kube(scope, 'tracking', KUBE.Deployment, {
    metadata: {
      name: names.tracking,
      namespace,
      labels,
      ...(spec.auth.kind === 'disabled' ? { annotations: { 'mlplatform.io/auth-disabled-reason': spec.auth.reason } } : {}),
    },
    spec: Object.assign({}, spec.autoscaling ? {} : { replicas: spec.replicas }, {
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: podSpec({
          serviceAccountName: names.tracking,
          runAsUser: MLFLOW_UID,
          // The kubelet writes Secret volumes root:root; fsGroup makes basic_auth.ini (0440) group-owned by
          // the server's group, so MLflow (uid 1000) can read it (pkg/volume/volume_linux.go SetVolumeOwnership).
          fsGroup: MLFLOW_UID,
          containers,
          volumes: [
            emptyDir('tmp', '2Gi'),
            // 0440 with the pod's fsGroup: readable by the proxy's uid 1000 only (pod.ts credentialFiles).
            ...(oidc ? [{
              name: 'oauth2-proxy-secrets',
              projected: {
                defaultMode: 0o440,
                sources: [
                  { secret: { name: oidc.clientSecret.name, items: [{ key: oidc.clientSecret.key, path: 'client-secret' }] } },
                  { secret: { name: oidc.cookieSecret.name, items: [{ key: oidc.cookieSecret.key, path: 'cookie-secret' }] } },
                ],
              },
            }] : []),
            ...(i.storeCredentialsFile ? [{
              name: 'credentials-aws',
              projected: { defaultMode: 0o440, sources: [{ secret: { name: i.storeCredentialsFile.name, items: [{ key: i.storeCredentialsFile.key, path: 'credentials' }] } }] },
            }] : []),
            ...(basic ? [{ name: 'auth-config', secret: { secretName: names.trackingConfigSecret, items: [{ key: 'basic_auth.ini', path: 'basic_auth.ini' }], defaultMode: 0o440 } }] : []),
            ...(oidc && i.oidc ? [{
              name: 'oidc',
              projected: {
                defaultMode: 0o440,
                sources: [
                  { configMap: { name: names.oidcConfig, items: [{ key: 'mlflow_oidc_auth.py', path: 'mlflow_oidc_auth.py' }, { key: 'mapping.json', path: 'mapping.json' }] } },
                  { secret: { name: names.oidcProxySecret, items: [{ key: 'password', path: 'proxy-password' }] } },
                  { secret: { name: i.oidc.admin.name, items: [{ key: i.oidc.admin.key, path: 'admin-username' }] } },
                ],
              },
            }] : []),
            ...ca.volumes,
          ],
          topologySpreadConstraints: [{
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: selector },
          }],
        }),
      },
    }),
  });
  kube(scope, 'tracking-svc', KUBE.Service, {
    metadata: { name: names.tracking, namespace, labels },
    spec: {
      selector,
      ports: [
        { name: 'http', port: TRACKING_PORT, targetPort: 'http' },
        ...(oidc ? [{ name: 'oidc', port: OIDC_PROXY_PORT, targetPort: 'oidc' }] : []),
      ],
    },
  });
  kube(scope, 'tracking-pdb', KUBE.PodDisruptionBudget, {
    metadata: { name: names.tracking, namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      ...((spec.autoscaling?.minReplicas ?? spec.replicas) > 1 ? { minAvailable: 1 } : { maxUnavailable: 1 }),
    },
  });
  if (spec.autoscaling) {
    kube(scope, 'tracking-hpa', KUBE.HorizontalPodAutoscalerV2, {
      metadata: { name: names.tracking, namespace, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.tracking },
        minReplicas: spec.autoscaling.minReplicas,
        maxReplicas: spec.autoscaling.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.autoscaling.cpuUtilization } } }],
      },
    });
  }
}

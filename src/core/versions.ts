/**
 * Every image and Helm chart mlplatform deploys, pinned in one table. Nothing floats: no `latest`
 * tag, no version range. Override one entry through the props that take a `versions` value (for
 * example to mirror images into a private registry) with {@link withVersions}.
 *
 * Why these images:
 * - **MLflow** `ghcr.io/mlflow/mlflow:<v>-full`: the upstream image's `-full` variant, which installs
 *   `mlflow[extras,db,gateway,genai]` — the PostgreSQL driver (psycopg2), boto3 for S3 and, since
 *   mid-2026, Flask-WTF for `--app-name basic-auth`. The plain tag has none of them (mlflow#9513).
 *   It has no USER line, so the pod sets uid 1000 and `HOME=/tmp`.
 * - **PostgreSQL** the official `postgres` image, Alpine variant (uid 70), major 17 (18 moves PGDATA).
 * - **SeaweedFS** the embedded S3-compatible store: Apache-2.0, maintained, one process serving
 *   S3 from a volume, and what Kubeflow moved to when MinIO stopped publishing community images
 *   (kubeflow/pipelines#11965, kubeflow/manifests#3240). Garage was rejected (AGPL-3.0, cluster
 *   layout step), Ceph RGW needs several daemons.
 */
export interface VersionTable {
  /** Container images, as `registry/repository:tag`. */
  readonly images: {
    /** MLflow tracking server; also runs the credentials bootstrap and backup upload (it has Python and boto3). */
    readonly mlflow: string;
    /** Embedded PostgreSQL (and `pg_dump` for backups). */
    readonly postgres: string;
    /** Embedded S3-compatible object store. */
    readonly objectStore: string;
    /** OAuth2 Proxy, in front of the tracking UI when OIDC authentication is chosen. */
    readonly oauth2Proxy: string;
    /** NVIDIA Triton Inference Server (ModelEndpoint `Runtime.triton()`). */
    readonly triton: string;
    /** vLLM's OpenAI-compatible server (ModelEndpoint `Runtime.vllm()`). */
    readonly vllm: string;
    /**
     * DVC with git, for TrainingPipeline's `Dataset.fromDvc` pulls: Iterative's own image (there is
     * no DVC-only image). Its tag is a rolling major tag rebuilt upstream: pin it by digest with
     * `versions: { images: { dvc: '…@sha256:…' } }` in production.
     */
    readonly dvc: string;
    /** Optuna's official release image (Optuna + psycopg2): TuningSweep's study creation and worker loop. */
    readonly optuna: string;
    /** optuna-dashboard (TuningSweep's optional dashboard). */
    readonly optunaDashboard: string;
  };
  /** Helm charts of the cluster add-ons: repository URL, chart name and exact version. */
  readonly charts: Readonly<Record<AddonName, ChartRef>>;
}

/** A pinned Helm chart. */
export interface ChartRef {
  /** Helm repository URL (`https://…`) or OCI registry path (`oci://…`, without the chart name). */
  readonly repoUrl: string;
  /** Chart name. */
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
  /** The application version the chart deploys (for the docs and the report). */
  readonly appVersion: string;
  /** Namespace the add-on is installed into. */
  readonly namespace: string;
}

/** The add-ons mlplatform can install. */
export type AddonName =
  | 'argoWorkflows' | 'nvidiaDevicePlugin' | 'keda' | 'kueue' | 'certManager' | 'envoyGateway' | 'kserveCrd' | 'kserve';

/** The pinned versions mlplatform ships with. */
export const VERSIONS: VersionTable = {
  images: {
    mlflow: 'ghcr.io/mlflow/mlflow:v3.18.0-full',
    postgres: 'docker.io/library/postgres:17.11-alpine3.24',
    objectStore: 'docker.io/chrislusf/seaweedfs:4.00',
    oauth2Proxy: 'quay.io/oauth2-proxy/oauth2-proxy:v7.12.0',
    triton: 'nvcr.io/nvidia/tritonserver:26.08-py3',
    vllm: 'docker.io/vllm/vllm-openai:v0.29.0',
    dvc: 'docker.io/iterativeai/cml:0-dvc3-base1',
    optuna: 'docker.io/optuna/optuna:v4.9.0-py3.12',
    optunaDashboard: 'ghcr.io/optuna/optuna-dashboard:v0.20.0',
  },
  charts: {
    argoWorkflows: { repoUrl: 'https://argoproj.github.io/argo-helm', chart: 'argo-workflows', version: '1.0.18', appVersion: 'v4.0.6', namespace: 'argo' },
    nvidiaDevicePlugin: { repoUrl: 'https://nvidia.github.io/k8s-device-plugin', chart: 'nvidia-device-plugin', version: '0.20.0', appVersion: '0.20.0', namespace: 'nvidia-device-plugin' },
    keda: { repoUrl: 'https://kedacore.github.io/charts', chart: 'keda', version: '2.20.2', appVersion: '2.20.2', namespace: 'keda' },
    kueue: { repoUrl: 'oci://registry.k8s.io/kueue/charts', chart: 'kueue', version: '0.19.2', appVersion: 'v0.19.2', namespace: 'kueue-system' },
    certManager: { repoUrl: 'oci://quay.io/jetstack/charts', chart: 'cert-manager', version: 'v1.21.1', appVersion: 'v1.21.1', namespace: 'cert-manager' },
    envoyGateway: { repoUrl: 'oci://docker.io/envoyproxy', chart: 'gateway-helm', version: 'v1.9.0', appVersion: 'v1.9.0', namespace: 'envoy-gateway-system' },
    kserveCrd: { repoUrl: 'oci://ghcr.io/kserve/charts', chart: 'kserve-crd', version: 'v0.20.0', appVersion: 'v0.20.0', namespace: 'kserve' },
    kserve: { repoUrl: 'oci://ghcr.io/kserve/charts', chart: 'kserve-resources', version: 'v0.20.0', appVersion: 'v0.20.0', namespace: 'kserve' },
  },
};

/** Overrides for {@link VERSIONS}: any image, or any field of a chart. */
export interface VersionOverrides {
  /** Replacement images. */
  readonly images?: Partial<VersionTable['images']>;
  /** Replacement chart fields. */
  readonly charts?: Partial<Record<AddonName, Partial<ChartRef>>>;
}

/** {@link VERSIONS} with `overrides` applied. */
export function withVersions(overrides: VersionOverrides = {}): VersionTable {
  const charts = { ...VERSIONS.charts } as Record<AddonName, ChartRef>;
  for (const [name, o] of Object.entries(overrides.charts ?? {}) as [AddonName, Partial<ChartRef>][]) {
    charts[name] = Object.assign({}, charts[name], o);
  }
  return { images: Object.assign({}, VERSIONS.images, overrides.images), charts };
}

/**
 * The image reference grammar of github.com/distribution/reference v0.6.0 (regexp.go: `ReferenceRegexp`,
 * reference.go: `NameTotalLengthMax` = 255): `[domain[:port]/]path[:tag][@digest]`, path components
 * lowercase; the name at most 255 characters.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`);

/**
 * What is wrong with an image reference, or undefined when it is a valid reference pinned to a tag
 * other than `latest` or to a sha256 digest (a `latest` tag is refused even beside a digest: nothing
 * named `latest` is deployed).
 */
export function imageReferenceError(image: unknown): string | undefined {
  const m = typeof image === 'string' ? IMAGE_REFERENCE.exec(image) : null;
  if (!m || m[1].length > 255) return 'must be an image reference such as "ghcr.io/org/image:1.2.3" or "…@sha256:<64 hex>" (registry/path in lowercase, no spaces or control characters)';
  const [, , tag, digest] = m;
  if (tag === 'latest') return 'must not use the "latest" tag (it floats); pin a version tag or a digest';
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) return 'must pin a sha256 digest ("@sha256:" and 64 lowercase hex digits)';
  if (tag === undefined && digest === undefined) return 'must be pinned to a tag other than "latest" or a digest';
  return undefined;
}

/** Whether an image reference is valid and pinned: a tag other than `latest`, or a digest (see {@link imageReferenceError}). */
export function isPinnedImage(image: string): boolean {
  return imageReferenceError(image) === undefined;
}

/**
 * Checks version overrides: every image a valid pinned reference (no `latest`), every chart version,
 * repository and name a non-empty value without `latest`. Issues are named under `path`.
 */
export function checkVersionOverrides(issues: { add(path: string, value: unknown, message: string): unknown }, path: string, overrides: VersionOverrides | undefined): void {
  if (overrides === undefined || overrides === null || typeof overrides !== 'object') return;
  for (const [name, image] of Object.entries(overrides.images ?? {})) {
    if (image === undefined) continue;
    const err = imageReferenceError(image);
    if (err) issues.add(`${path}.images.${name}`, image, err);
  }
  for (const [name, chart] of Object.entries(overrides.charts ?? {})) {
    for (const [field, v] of Object.entries(chart ?? {})) {
      if (v === undefined) continue;
      if (typeof v !== 'string' || v.trim() === '') issues.add(`${path}.charts.${name}.${field}`, v, 'must be a non-empty string');
      else if ((field === 'version' || field === 'appVersion') && (/(^|[:@/])latest$/i.test(v) || !/^v?[0-9][0-9A-Za-z.+-]*$/.test(v))) issues.add(`${path}.charts.${name}.${field}`, v, 'must be a pinned version such as "1.2.3" (not "latest" or a range)');
    }
  }
}

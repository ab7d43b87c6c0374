import * as fs from 'node:fs';
import * as path from 'node:path';
import { examplesDir, schemasDir } from '../support/schemas';
import { createValidator, type Finding, type PssLevel, type Report } from '../support/validate';

/**
 * Parity with the script this validator was ported from. GROUND_TRUTH is the verbatim output of
 *   node shared/tools/validate-manifests.mjs --json --no-models --schemas shared/crds --pss restricted <fixture>
 * as [doc, kind, name, path, source, message]. The script writes the root path of a schema error as
 * "/", names the schema as the source of a schema error, and calls parse errors "yaml"; the port says
 * "" (RFC 6901), source "schema" with that name as `origin`, and "parse" (see fromScript).
 */
type ScriptFinding = [number, string, string, string, string, string];

const GROUND_TRUTH: Record<string, ScriptFinding[]> = {
  'bad.yaml': [
    [0, 'Deployment', 'api', '/metadata', 'k8s v1.27.0', 'unknown field "lables"'],
    [0, 'Deployment', 'api', '/spec/replicas', 'k8s v1.27.0', 'must be integer'],
    [0, 'Deployment', 'api', '/spec/template/spec', 'k8s v1.27.0', 'missing required field "containers"'],
    [0, 'Deployment', 'api', '/spec/template/spec', 'k8s v1.27.0', 'unknown field "contianers"'],
    [0, 'Deployment', 'api', '/spec/template/metadata/labels', 'semantic', '`selector` does not match template `labels`'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0', 'k8s v1.27.0', 'unknown field "imagePulPolicy"'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/resources/requests/memory', 'semantic', 'invalid quantity "2GB" (e.g. 500m, 2, 1.5Gi, 512Mi; not "2GB" or "1.5 Gi")'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/resources/requests/gpu', 'semantic', '"gpu" is not a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) and has no domain (e.g. nvidia.com/gpu)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/resources/requests/cpu', 'semantic', 'must be less than or equal to cpu limit 1'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu', 'semantic', 'extended resource nvidia.com/gpu must have a limit (requests are copied from limits; overcommit is not allowed)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/volumeMounts/0/name', 'semantic', 'no volume named "data" in the pod spec'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/name', 'semantic', 'duplicate container name "api"'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/ports/0/name', 'semantic', 'port name "http_port_for_api" must be <= 15 chars of [a-z0-9-] with at least one letter'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation', 'pss', 'PSS restricted: container "api": allowPrivilegeEscalation must be false'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/securityContext/runAsNonRoot', 'pss', 'PSS restricted: container "api": runAsNonRoot must be true (here or at pod level)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/securityContext/seccompProfile/type', 'pss', 'PSS restricted: container "api": seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/0/securityContext/capabilities/drop', 'pss', 'PSS restricted: container "api": capabilities.drop must include "ALL"'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/securityContext/allowPrivilegeEscalation', 'pss', 'PSS restricted: container "api": allowPrivilegeEscalation must be false'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/securityContext/runAsNonRoot', 'pss', 'PSS restricted: container "api": runAsNonRoot must be true (here or at pod level)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/securityContext/seccompProfile/type', 'pss', 'PSS restricted: container "api": seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)'],
    [1, 'Deployment', 'api2', '/spec/template/spec/containers/1/securityContext/capabilities/drop', 'pss', 'PSS restricted: container "api": capabilities.drop must include "ALL"'],
    [2, 'Service', 'Api_Svc', '/metadata/name', 'semantic', '"Api_Svc" must be a DNS-1123 label (<= 63 chars of [a-z0-9-])'],
    [2, 'Service', 'Api_Svc', '/spec/ports/0/name', 'semantic', 'name is required when a Service has more than one port'],
    [2, 'Service', 'Api_Svc', '/spec/ports/1/name', 'semantic', 'name is required when a Service has more than one port'],
    [3, 'PodDisruptionBudget', 'pdb', '/apiVersion', 'schema', 'policy/v1beta1 PodDisruptionBudget is not served by Kubernetes v1.27.0 (removed or not yet added API)'],
    [4, 'Widget', 'w', '/kind', 'schema', 'unknown kind: no schema for example.com/v1 Widget (add its CRD to a --schemas folder or pass --allow-kind Widget)'],
    [5, 'ConfigMap', 'cm', '/metadata/labels/version', 'k8s v1.27.0', 'must be string'],
    [5, 'ConfigMap', 'cm', '/data/bad key', 'semantic', "key must consist of alphanumerics, '-', '_' or '.'"],
  ],
  'crs-bad.yaml': [
    [0, 'PyTorchJob', 'train', '/spec', 'crd kubeflow.org_pytorchjobs.yaml', 'missing required field "pytorchReplicaSpecs"'],
    [0, 'PyTorchJob', 'train', '/spec', 'crd kubeflow.org_pytorchjobs.yaml', 'unknown field "pytorchReplicaSpec"'],
    [1, 'TrainJob', 'tj', '/spec', 'crd trainer.kubeflow.org_trainjobs.yaml', 'missing required field "runtimeRef"'],
    [1, 'TrainJob', 'tj', '/spec/trainer/numNodes', 'crd trainer.kubeflow.org_trainjobs.yaml', 'must be integer'],
    [2, 'InferenceService', 'sklearn', '/spec/predictor/model/resources/requests/cpu', 'crd serving.kserve.io_inferenceservices.yaml', 'invalid quantity (e.g. 500m, 2, 1.5Gi, 512Mi)'],
    [2, 'InferenceService', 'sklearn', '/spec/predictor/model', 'crd serving.kserve.io_inferenceservices.yaml', 'unknown field "storageURI"'],
    [3, 'Experiment', 'hpo', '/spec/objective/goal', 'swagger swagger.json', 'must be number'],
    [3, 'Experiment', 'hpo', '/spec', 'swagger swagger.json', 'unknown field "maxTrials"'],
    [4, 'RayJob', 'rj', '/spec', 'crd ray.io_rayjobs.yaml', 'unknown field "rayClusterSpecs"'],
    [5, 'NodePool', 'gpu', '/spec/limits/cpu', 'crd karpenter.sh_nodepools.yaml', 'invalid quantity (e.g. 500m, 2, 1.5Gi, 512Mi)'],
    [5, 'NodePool', 'gpu', '/spec/template/spec/requirements/0/operator', 'crd karpenter.sh_nodepools.yaml', 'value does not match any of ["Gte","Lte","In","NotIn","Exists","DoesNotExist","Gt","Lt"].'],
    [6, 'WorkflowTemplate', 'pipeline', '/spec', 'crd argoproj.io_workflowtemplates.yaml', 'unknown field "entryPoint"'],
    [7, 'ScaledObject', 'so', '/spec/scaleTargetRef', 'crd keda.sh_scaledobjects.yaml', 'missing required field "name"'],
    [7, 'ScaledObject', 'so', '/spec/triggers/0/metadata/threshold', 'crd keda.sh_scaledobjects.yaml', 'must be string'],
  ],
  'bad-addons.yaml': [
    [0, 'Workflow', 'train-run-1', '/spec', 'crd argoproj.io_workflows.yaml', 'unknown field "serviceAccount"'],
    [1, 'CronWorkflow', 'nightly-train', '/spec', 'crd argoproj.io_cronworkflows.yaml', 'missing required field "schedules"'],
    [1, 'CronWorkflow', 'nightly-train', '/spec', 'crd argoproj.io_cronworkflows.yaml', 'unknown field "schedule"'],
    [2, 'ClusterWorkflowTemplate', 'echo', '/spec/templates/0/container', 'crd argoproj.io_clusterworkflowtemplates.yaml', 'unknown field "comand"'],
    [3, 'TriggerAuthentication', 'prom-auth', '/spec/secretTargetRef/0', 'crd keda.sh_triggerauthentications.yaml', 'missing required field "key"'],
    [3, 'TriggerAuthentication', 'prom-auth', '/spec/secretTargetRef/0', 'crd keda.sh_triggerauthentications.yaml', 'unknown field "keys"'],
    [4, 'ScaledObject', 'endpoint', '/spec', 'crd keda.sh_scaledobjects.yaml', 'unknown field "minReplicas"'],
    [5, 'ScaledJob', 'batch-infer', '/spec', 'crd keda.sh_scaledjobs.yaml', 'unknown field "maxReplicas"'],
    [5, 'ScaledJob', 'batch-infer', '/spec/jobTargetRef/template/spec/containers/0/securityContext/allowPrivilegeEscalation', 'pss', 'PSS restricted: container "infer": allowPrivilegeEscalation must be false'],
    [5, 'ScaledJob', 'batch-infer', '/spec/jobTargetRef/template/spec/containers/0/securityContext/runAsNonRoot', 'pss', 'PSS restricted: container "infer": runAsNonRoot must be true (here or at pod level)'],
    [5, 'ScaledJob', 'batch-infer', '/spec/jobTargetRef/template/spec/containers/0/securityContext/seccompProfile/type', 'pss', 'PSS restricted: container "infer": seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)'],
    [5, 'ScaledJob', 'batch-infer', '/spec/jobTargetRef/template/spec/containers/0/securityContext/capabilities/drop', 'pss', 'PSS restricted: container "infer": capabilities.drop must include "ALL"'],
    [6, 'GatewayClass', 'platform', '/spec', 'crd gateway.networking.k8s.io_gatewayclasses.yaml', 'missing required field "controllerName"'],
    [6, 'GatewayClass', 'platform', '/spec', 'crd gateway.networking.k8s.io_gatewayclasses.yaml', 'unknown field "controller"'],
    [7, 'Gateway', 'platform', '/spec/listeners/0/tls', 'crd gateway.networking.k8s.io_gateways.yaml', 'unknown field "certificateRef"'],
    [8, 'HTTPRoute', 'endpoint', '/spec/rules/0/filters/0/requestMirror', 'crd gateway.networking.k8s.io_httproutes.yaml', 'unknown field "percentage"'],
    [9, 'GRPCRoute', 'endpoint-grpc', '/spec/rules/0/matches/0/method', 'crd gateway.networking.k8s.io_grpcroutes.yaml', 'unknown field "methodName"'],
    [10, 'ReferenceGrant', 'gateway-to-ml-tls', '/spec/to/0', 'crd gateway.networking.k8s.io_referencegrants.yaml', 'unknown field "namespace"'],
    [11, 'ServiceMonitor', 'endpoint', '/spec/endpoints/0', 'crd monitoring.coreos.com_servicemonitors.yaml', 'unknown field "scrapeInterval"'],
    [12, 'PodMonitor', 'trainer', '/spec', 'crd monitoring.coreos.com_podmonitors.yaml', 'unknown field "podMetricEndpoints"'],
    [13, 'PrometheusRule', 'endpoint', '/spec/groups/0/rules/0', 'crd monitoring.coreos.com_prometheusrules.yaml', 'unknown field "annotation"'],
    [14, 'AppProject', 'ml-platform', '/spec', 'crd appproject-crd.yaml', 'unknown field "sourceRepo"'],
    [15, 'Application', 'keda', '/spec/syncPolicy/automated', 'crd application-crd.yaml', 'unknown field "selfheal"'],
    [16, 'HelmRepository', 'kedacore', '/spec', 'crd source.toolkit.fluxcd.io_helmrepositories.yaml', 'unknown field "timout"'],
    [17, 'OCIRepository', 'cert-manager', '/spec/ref', 'crd source.toolkit.fluxcd.io_ocirepositories.yaml', 'unknown field "version"'],
    [18, 'HelmRelease', 'keda', '/spec/install', 'crd helm.toolkit.fluxcd.io_helmreleases.yaml', 'unknown field "crd"'],
    [19, 'ResourceFlavor', 'gpu-a10g', '/spec', 'crd kueue.x-k8s.io_resourceflavors.yaml', 'unknown field "nodeLabel"'],
    [20, 'ClusterQueue', 'team-a', '/spec', 'crd kueue.x-k8s.io_clusterqueues.yaml', 'unknown field "cohort"'],
    [21, 'LocalQueue', 'team-a', '/spec', 'crd kueue.x-k8s.io_localqueues.yaml', 'unknown field "clusterQueueName"'],
    [22, 'WorkloadPriorityClass', 'training-high', '/', 'crd kueue.x-k8s.io_workloadpriorityclasses.yaml', 'missing required field "value"'],
    [22, 'WorkloadPriorityClass', 'training-high', '/', 'crd kueue.x-k8s.io_workloadpriorityclasses.yaml', 'unknown field "spec"'],
    [23, 'JobSet', 'ddp', '/spec/replicatedJobs/0', 'crd jobset.x-k8s.io_jobsets.yaml', 'unknown field "replica"'],
    [23, 'JobSet', 'ddp', '/spec/replicatedJobs/0/template/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation', 'pss', 'PSS restricted: container "trainer": allowPrivilegeEscalation must be false'],
    [23, 'JobSet', 'ddp', '/spec/replicatedJobs/0/template/spec/template/spec/containers/0/securityContext/runAsNonRoot', 'pss', 'PSS restricted: container "trainer": runAsNonRoot must be true (here or at pod level)'],
    [23, 'JobSet', 'ddp', '/spec/replicatedJobs/0/template/spec/template/spec/containers/0/securityContext/seccompProfile/type', 'pss', 'PSS restricted: container "trainer": seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)'],
    [23, 'JobSet', 'ddp', '/spec/replicatedJobs/0/template/spec/template/spec/containers/0/securityContext/capabilities/drop', 'pss', 'PSS restricted: container "trainer": capabilities.drop must include "ALL"'],
    [24, 'Issuer', 'selfsigned', '/spec', 'crd cert-manager.io_issuers.yaml', 'unknown field "selfsigned"'],
    [25, 'ClusterIssuer', 'letsencrypt', '/spec/acme/solvers/0/http01/gatewayHTTPRoute', 'crd cert-manager.io_clusterissuers.yaml', 'unknown field "parentRef"'],
    [26, 'Certificate', 'ml-wildcard', '/spec', 'crd cert-manager.io_certificates.yaml', 'unknown field "dnsName"'],
  ],
  'inline-crd.yaml': [
    [2, '?', '?', '', 'yaml', 'YAML: Map keys must be unique at line 38, column 17:'],
    [3, '?', '?', '', 'yaml', 'YAML: Flow map in block collection must be sufficiently indented and end with a } at line 43, column 1:'],
    [1, 'Widget', 'w1', '/spec/size', 'crd (input)', '0 is less than 1.'],
    [1, 'Widget', 'w1', '/spec', 'crd (input)', 'unknown field "colour"'],
  ],
};

interface Comparable {
  doc: number;
  kind: string;
  name: string;
  path: string;
  source: string;
  origin?: string;
  message: string;
}

function fromScript([doc, kind, name, p, source, message]: ScriptFinding): Comparable {
  const layer = source === 'yaml' ? 'parse' : source === 'semantic' || source === 'pss' ? source : 'schema';
  return {
    doc,
    kind,
    name,
    path: p === '/' ? '' : decodeURIComponent(p),
    source: layer,
    ...(layer === 'schema' && source !== 'schema' ? { origin: source } : {}),
    message,
  };
}

// The only deliberate wording change: the hint of "unknown kind" names the option of this API.
const UNKNOWN_KIND_HINT = / \(add its CRD to a .*\)$/;

function comparable(f: Finding, expected?: Comparable): Comparable {
  const sameUnknownKind = expected && f.message.replace(UNKNOWN_KIND_HINT, '') === expected.message.replace(UNKNOWN_KIND_HINT, '');
  return {
    doc: f.doc,
    kind: f.kind,
    name: f.name,
    path: f.path,
    source: f.source,
    ...(f.origin ? { origin: f.origin } : {}),
    message: sameUnknownKind ? expected.message : f.message,
  };
}

const validators = new Map<string, ReturnType<typeof createValidator>>();
function run(fixture: string, pss?: PssLevel): Report {
  const key = String(pss);
  if (!validators.has(key)) validators.set(key, createValidator({ schemaDirs: [schemasDir()], pss }));
  const file = path.join(examplesDir(), fixture);
  return validators.get(key)!.validateText(fs.readFileSync(file, 'utf8'), fixture);
}

describe('fixtures that must pass', () => {
  test('good.yaml passes strict validation with PSS restricted', () => {
    const r = run('good.yaml', 'restricted');
    expect(r.objects).toBe(3);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  test.each([undefined, 'baseline'] as const)('crs-good.yaml passes (pss %s)', (pss) => {
    const r = run('crs-good.yaml', pss);
    expect(r.objects).toBe(10);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  test.each([undefined, 'baseline'] as const)('good-addons.yaml passes (pss %s)', (pss) => {
    const r = run('good-addons.yaml', pss);
    expect(r.objects).toBe(27);
    expect(r.errors).toEqual([]);
    // PrometheusRule's partial_response_strategy pattern is Go-only regex syntax
    expect(r.warnings.map((w) => `${w.kind} ${w.message}`)).toEqual([
      'PrometheusRule 1 pattern(s) of the monitoring.coreos.com/v1 PrometheusRule schema use Go-only regex syntax and were not checked',
    ]);
  });

  test.each([
    ['crs-good.yaml', 24],
    ['good-addons.yaml', 8],
  ])('%s is not meant for PSS restricted: only pss errors (%i, as the script)', (fixture, count) => {
    const r = run(fixture, 'restricted');
    expect(r.errors.map((e) => e.source)).toEqual(Array(count).fill('pss'));
  });

  test('cel-bad.yaml fails only CEL rules, which are not ported: no error here (as the script without --cel)', () => {
    expect(run('cel-bad.yaml', 'restricted').errors).toEqual([]);
  });
});

describe('fixtures that must fail report exactly what the script reports', () => {
  test.each(Object.keys(GROUND_TRUTH))('%s with PSS restricted', (fixture) => {
    const expected = GROUND_TRUTH[fixture].map(fromScript);
    expect(expected.length).toBeGreaterThan(0);
    const actual = run(fixture, 'restricted').errors.map((f, i) => comparable(f, expected[i]));
    expect(actual).toEqual(expected);
    for (const f of actual) expect(['parse', 'schema', 'semantic', 'pss']).toContain(f.source);
  });

  test.each(Object.keys(GROUND_TRUTH))('%s without PSS: the same minus the pss findings', (fixture) => {
    const expected = GROUND_TRUTH[fixture].map(fromScript).filter((f) => f.source !== 'pss');
    const actual = run(fixture).errors.map((f, i) => comparable(f, expected[i]));
    expect(actual).toEqual(expected);
  });
});

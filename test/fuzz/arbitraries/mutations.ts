// Mutations: one field of a valid scenario set to an invalid value, with the issue path expected.
import * as fc from 'fast-check';
import type { Scenario } from './scenario';
import {
  AddonDelivery, ArtifactStore, BackendStore, Cpu, Duration, EndpointExposure, Exposure, ModelSource, Pruner, Runtime, Sampler, Scaling, Size,
} from '../../../src/core';

/** One invalid field: where it is (the issue path the ValidationError must name) and the mutated scenario. */
export interface Mutation {
  /** The construct the error comes from. */
  readonly construct: 'MlPlatform' | 'addGpuPool' | 'addTenant' | 'TrainingPipeline' | 'TuningSweep' | 'ModelEndpoint';
  /** Issue path the ValidationError must carry. */
  readonly path: string;
  /** The bad value, for the report. */
  readonly value: unknown;
  /** The scenario with the field set. */
  readonly scenario: Scenario;
}

type Field = { construct: Mutation['construct']; path: string; value: unknown; apply: (s: Scenario) => Scenario | undefined };

const set = <T extends readonly any[]>(xs: T, i: number, v: T[number]): T => xs.map((x, j) => (j === i ? v : x)) as unknown as T;

function platformField(path: string, value: unknown, patch: Record<string, unknown>): Field {
  return { construct: 'MlPlatform', path, value, apply: (s) => ({ ...s, platform: { ...s.platform, props: { ...s.platform.props, ...patch } } }) };
}
function trackingField(path: string, value: unknown, patch: Record<string, unknown>): Field {
  return { construct: 'MlPlatform', path, value, apply: (s) => ({ ...s, platform: { ...s.platform, props: { ...s.platform.props, tracking: { ...s.platform.props.tracking, ...patch } as any } } }) };
}
function poolField(path: string, value: unknown, patch: Record<string, unknown>): Field {
  return { construct: 'addGpuPool', path: `options.${path}`, value, apply: (s) => (s.platform.pools.length === 0 ? undefined : { ...s, platform: { ...s.platform, pools: set(s.platform.pools, 0, { ...s.platform.pools[0], options: { ...s.platform.pools[0].options, ...patch } as any }) } }) };
}
function tenantField(path: string, value: unknown, patch: (o: any) => any): Field {
  return { construct: 'addTenant', path: `options.${path}`, value, apply: (s) => ({ ...s, platform: { ...s.platform, tenants: set(s.platform.tenants, 0, { ...s.platform.tenants[0], options: patch(s.platform.tenants[0].options) }) } }) };
}
function pipelineField(path: (p: any) => string, value: unknown, patch: (props: any) => any): Field {
  return {
    construct: 'TrainingPipeline',
    path: '',
    value,
    apply: (s) => (s.pipelines.length === 0 ? undefined : { ...s, pipelines: set(s.pipelines, 0, { ...s.pipelines[0], props: patch(s.pipelines[0].props) }) }),
    // the path depends on the pipeline's first step: resolved in `mutation`
    ...{ pathOf: path },
  } as Field;
}
function stepField(field: string, value: unknown, patch: Record<string, unknown>): Field {
  return pipelineField((p) => `steps.${p.steps[0].name}.${field}`, value, (p) => ({ ...p, steps: set(p.steps, 0, { ...p.steps[0], ...patch }) }));
}
function sweepField(path: string, value: unknown, patch: (props: any) => any, when: (s: Scenario) => boolean = () => true): Field {
  return { construct: 'TuningSweep', path, value, apply: (s) => (s.sweeps.length === 0 || !when(s) ? undefined : { ...s, sweeps: set(s.sweeps, 0, { ...s.sweeps[0], props: patch(s.sweeps[0].props) }) }) };
}
/** A field of the first endpoint (whose model then stays its own: `fromPipeline` would replace a mutated `versions[0].model`). */
function endpointField(path: string, value: unknown, patch: (props: any) => any, when: (s: Scenario) => boolean = () => true): Field {
  return { construct: 'ModelEndpoint', path, value, apply: (s) => (s.endpoints.length === 0 || !when(s) ? undefined : { ...s, endpoints: set(s.endpoints, 0, { id: s.endpoints[0].id, props: patch(s.endpoints[0].props) }) }) };
}

/** Whether the scenario's platform has apps listeners on its own Gateway. */
const hasApps = (s: Scenario): boolean => (s.platform.props.exposure as any)?.options?.apps !== undefined;
/** An endpoint's props without KServe (one version, no weight), for fields KServe does not take. */
const noKserve = (p: any): any => (p.kserve ? { ...p, kserve: undefined, versions: [{ ...p.versions[0], weight: undefined }] } : p);
/** An endpoint whose versions take the endpoint's logging (none of their own). */
const endpointLogging = (p: any, logging: unknown): any => {
  const q = noKserve(p);
  return { ...q, logging, versions: q.versions.map((v: any) => ({ ...v, logging: undefined })) };
};
/** The first version with its own logging. */
const versionLogging = (p: any, logging: unknown): any => {
  const q = noKserve(p);
  return { ...q, versions: [{ ...q.versions[0], logging }, ...q.versions.slice(1)] };
};
const optunaSweep = (s: Scenario): boolean => s.sweeps.length > 0 && s.sweeps[0].props.engine !== 'katib';

/** Every field the mutation arbitrary can break, with its invalid value. */
export const FIELDS: readonly Field[] = [
  // MlPlatform
  platformField('namespace', 'Bad_Namespace', { namespace: 'Bad_Namespace' }),
  platformField('namespace', 'envoy-gateway-system', { namespace: 'envoy-gateway-system' }),
  platformField('backendStore.storage', '512Mi', { backendStore: BackendStore.embedded({ storage: Size.mebibytes(512) }) }),
  platformField('backendStore.backup.schedule', '61 * * * *', { backendStore: BackendStore.embedded({ backup: { schedule: '61 * * * *' } }) }),
  platformField('backendStore.backup.keep', 0, { backendStore: BackendStore.embedded({ backup: { keep: 0 } }) }),
  platformField('backendStore.port', 70000, { backendStore: BackendStore.external({ host: 'db.example.com', port: 70000, database: 'mlflow', username: { name: 'db', key: 'u' }, password: { name: 'db', key: 'p' } }) }),
  platformField('backendStore.host', 'postgres://db:5432', { backendStore: BackendStore.external({ host: 'postgres://db:5432', database: 'mlflow', username: { name: 'db', key: 'u' }, password: { name: 'db', key: 'p' } }) }),
  platformField('artifactStore.bucket', 'Bad_Bucket', { artifactStore: ArtifactStore.embedded({ bucket: 'Bad_Bucket' }) }),
  platformField('artifactStore.region', 'US EAST', { artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'US EAST', credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'secret' } } }) }),
  platformField('artifactStore.endpoint', 'ftp://store', { artifactStore: ArtifactStore.s3({ bucket: 'acme-ml', region: 'eu-west-1', endpoint: 'ftp://store', credentials: { accessKeyId: { name: 's3', key: 'id' }, secretAccessKey: { name: 's3', key: 'secret' } } }) }),
  platformField('exposure.host', 'localhost', { exposure: Exposure.gateway({ host: 'localhost' }) }),
  platformField('exposure.className', 'Bad Class', { exposure: Exposure.ingress({ host: 'ml.example.com', className: 'Bad Class' }) }),
  platformField('exposure.tls', { clusterIssuer: 'a', issuer: 'b' }, { exposure: Exposure.gateway({ host: 'ml.example.com', tls: { clusterIssuer: 'a', issuer: 'b' } }) }),
  platformField('addons.delivery.intervalMinutes', 0, { addons: { delivery: AddonDelivery.flux({ intervalMinutes: 0 }) } }),
  platformField('addons.delivery.destinationServer', 'http://insecure', { addons: { delivery: AddonDelivery.argoCd({ destinationServer: 'http://insecure' }) } }),
  trackingField('tracking.workers', 0, { workers: 0 }),
  trackingField('tracking.serverOptions', 'a\nb', { serverOptions: 'a\nb' }),
  trackingField('tracking.autoscaling.maxReplicas', 1, { replicas: undefined, autoscaling: { minReplicas: 3, maxReplicas: 1 } }),
  platformField('exposure.apps.hostnames[0]', 'Bad_Host.example.com', { exposure: Exposure.gateway({ host: 'ml.example.com', apps: { hostnames: ['Bad_Host.example.com'] } }) }),
  platformField('exposure.apps.hostnames', [], { exposure: Exposure.gateway({ host: 'ml.example.com', apps: { hostnames: [] } }) }),
  platformField('exposure.apps.hostnames[1]', 'ml.example.com', { exposure: Exposure.gateway({ host: 'ml.example.com', apps: { hostnames: ['*.models.example.com', 'ml.example.com'] } }) }),
  platformField('exposure.apps', ['*.models.example.com'], { exposure: Exposure.gateway({ host: 'ml.example.com', gateway: { name: 'gw', namespace: 'gw' }, apps: { hostnames: ['*.models.example.com'] } }) }),
  platformField('checks.tenancy', 'fatal', { checks: { tenancy: 'fatal' } }),
  platformField('checks.quota', 'warning', { checks: { quota: 'warning' } }),
  platformField('checks', 'strict', { checks: 'strict' }),
  // addGpuPool
  poolField('maxNodes', 0, { maxNodes: 0, minNodes: 0 }),
  poolField('minNodes', -1, { minNodes: -1 }),
  poolField('accelerator', 'nvidia-x9000', { accelerator: 'nvidia-x9000' }),
  poolField('capacityType', 'cheap', { capacityType: 'cheap' }),
  poolField('sharing.timeSlicing.replicas', 1, { sharing: { timeSlicing: { replicas: 1 } } }),
  poolField('gpusPerNode', 3, { gpusPerNode: 3, instanceType: undefined }),
  poolField('diskSize', '10Gi', { diskSize: Size.gibibytes(10) }),
  // addTenant
  tenantField('quota.pods', 0, (o) => ({ ...o, quota: { ...o.quota, pods: 0 } })),
  tenantField('quota.gpus.no-such-pool', 1, (o) => ({ ...o, quota: { ...o.quota, gpus: { ...o.quota?.gpus, 'no-such-pool': 1 } } })),
  tenantField('namespace', 'kube-system', (o) => ({ ...o, namespace: 'kube-system' })),
  tenantField('access.admins[0]', '', (o) => ({ ...o, access: { ...o.access, admins: [''] } })),
  tenantField('access.editors[0]', 'system:authenticated', (o) => ({ ...o, access: { ...o.access, editors: ['system:authenticated'], allowSystemGroups: undefined } })),
  tenantField('containerDefaults.cpuRequest', '4', (o) => ({ ...o, containerDefaults: { cpuRequest: Cpu.cores(4), cpuLimit: Cpu.cores(1) } })),
  tenantField('quota.cpu', '10m', (o) => ({ ...o, quota: { ...o.quota, cpu: Cpu.millis(10) } })),
  // TrainingPipeline
  stepField('image', 'ghcr.io/acme/train:latest', { image: 'ghcr.io/acme/train:latest' }),
  stepField('retry.limit', -1, { retry: { limit: -1 } }),
  stepField('timeout', '0s', { timeout: Duration.seconds(0) }),
  stepField('nodes', 0, { nodes: 0 }),
  stepField('cpuLimit', '1m', { cpu: Cpu.millis(100), cpuLimit: Cpu.millis(1) }),
  stepField('memory', '1Mi', { memory: Size.mebibytes(1), sharedMemory: undefined }),
  stepField('runAsUser', 0, { runAsUser: 0 }),
  stepField('env.MLFLOW_RUN_ID', 'MLFLOW_RUN_ID', { env: { MLFLOW_RUN_ID: 'x' } }),
  stepField('gpus', 1.5, { gpus: 1.5 }),
  pipelineField(() => 'parallelism', 0, (p) => ({ ...p, parallelism: 0 })),
  pipelineField(() => 'podGc', 'Never', (p) => ({ ...p, podGc: 'Never' })),
  pipelineField(() => 'schedule.cron', 'every day', (p) => ({ ...p, schedule: { cron: 'every day' } })),
  pipelineField(() => 'schedule.timezone', 'Mars/Olympus', (p) => ({ ...p, schedule: { cron: '0 3 * * *', timezone: 'Mars/Olympus' } })),
  pipelineField(() => 'codeRevision', '-bad rev', (p) => ({ ...p, codeRevision: '-bad rev' })),
  pipelineField(() => 'namespace', 'not-a-tenant', (p) => ({ ...p, namespace: 'not-a-tenant' })),
  pipelineField(() => 'name', 'Bad_Name', (p) => ({ ...p, name: 'Bad_Name' })),
  pipelineField(() => 'versions.images.mlflow', 'ghcr.io/mlflow/mlflow:latest', (p) => ({ ...p, versions: { images: { mlflow: 'ghcr.io/mlflow/mlflow:latest' } } })),
  pipelineField(() => 'checks.data-access', 'off', (p) => ({ ...p, checks: { 'data-access': 'off' } })),
  // TuningSweep
  sweepField('budget.workers', 0, (p) => ({ ...p, budget: { ...p.budget, workers: 0 } })),
  sweepField('budget.trials', 0, (p) => ({ ...p, budget: { ...p.budget, trials: 0 } })),
  sweepField('budget.retries', -1, (p) => ({ ...p, budget: { ...p.budget, retries: -1 } })),
  sweepField('parameters[0].high', 0, (p) => ({ ...p, sampler: undefined, parameters: [{ name: 'lr', type: 'float', low: 1, high: 0 }, ...p.parameters.slice(1).filter((x: any) => x.name !== 'lr')] })),
  sweepField('parameters[0].name', '1lr', (p) => ({ ...p, parameters: [{ ...p.parameters[0], name: '1lr' }, ...p.parameters.slice(1)] })),
  sweepField('sampler.group', true, (p) => ({ ...p, sampler: Sampler.tpe({ group: true }), parameters: p.parameters, constraints: p.constraints })),
  sweepField('pruner.percentile', 200, (p) => ({ ...p, objectives: [p.objectives[0]], pruner: Pruner.percentile(200), metrics: { stdout: true } })),
  sweepField('objectives[0].direction', 'up', (p) => ({ ...p, objectives: [{ metric: 'loss', direction: 'up' }] })),
  sweepField('trial.image', 'python:latest', (p) => ({ ...p, trial: { ...p.trial, image: 'python:latest' } })),
  sweepField('trial.command', [], (p) => ({ ...p, trial: { ...p.trial, command: [] } })),
  sweepField('trial.workingDir', 'app', (p) => ({ ...p, trial: { ...p.trial, workingDir: 'app' } })),
  sweepField('runAsUser', 0, (p) => ({ ...p, runAsUser: 0 })),
  sweepField('heartbeat.gracePeriod', '30s', (p) => ({ ...p, heartbeat: { interval: Duration.seconds(60), gracePeriod: Duration.seconds(30) } })),
  sweepField('namespace', 'not-a-tenant', (p) => ({ ...p, namespace: 'not-a-tenant' })),
  sweepField('metrics', { stdout: false, jsonFile: false }, (p) => ({ ...p, metrics: { stdout: false, jsonFile: false } })),
  sweepField('images.optuna', 'docker.io/optuna/optuna:latest', (p) => ({ ...p, images: { optuna: 'docker.io/optuna/optuna:latest' } })),
  sweepField('checks.capacity', 'info', (p) => ({ ...p, checks: { capacity: 'info' } })),
  sweepField('dashboard.exposure.gateway', undefined, (p) => ({ ...p, dashboard: { exposure: Exposure.gateway({ host: 'optuna.models.example.com' }) } }), (s) => optunaSweep(s) && !hasApps(s)),
  sweepField('dashboard.exposure.host', 'optuna.elsewhere.org', (p) => ({ ...p, dashboard: { exposure: Exposure.gateway({ host: 'optuna.elsewhere.org' }) } }), (s) => optunaSweep(s) && hasApps(s)),
  sweepField('dashboard.allowFromNamespaces', undefined, (p) => ({ ...p, dashboard: { exposure: Exposure.ingress({ host: 'optuna.example.com', className: 'traefik' }) } }), optunaSweep),
  // ModelEndpoint
  endpointField('drainSeconds', 500, (p) => ({ ...p, drainSeconds: 500 })),
  endpointField('modelStorage', '100Mi', (p) => ({ ...p, modelStorage: Size.mebibytes(100) })),
  endpointField('versions[0].name', 'Stable', (p) => ({ ...p, versions: [{ ...p.versions[0], name: 'Stable' }, ...p.versions.slice(1)] })),
  endpointField('versions[0].model.alias', 'latest', (p) => ({ ...p, versions: [{ ...p.versions[0], model: ModelSource.registry('m', { alias: 'latest' }) }, ...p.versions.slice(1)] })),
  endpointField('versions[0].model.uri', 'https://x/model', (p) => ({ ...p, versions: [{ ...p.versions[0], model: ModelSource.uri('https://x/model') }, ...p.versions.slice(1)] })),
  endpointField('versions[0].scaling.replicas', 0, (p) => ({ ...p, versions: [{ ...p.versions[0], scaling: Scaling.fixed(0) }, ...p.versions.slice(1)] })),
  endpointField('versions[0].scaling.utilization', 101, (p) => ({ ...p, versions: [{ ...p.versions[0], scaling: Scaling.cpu({ minReplicas: 1, maxReplicas: 2, utilization: 101 }) }, ...p.versions.slice(1)] })),
  endpointField('versions[0].startupBudget', '10s', (p) => ({ ...p, versions: [{ ...p.versions[0], startupBudget: Duration.seconds(10) }, ...p.versions.slice(1)] })),
  endpointField('versions', [], (p) => ({ ...p, versions: [] })),
  endpointField('namespace', 'not-a-tenant', (p) => ({ ...p, namespace: 'not-a-tenant' })),
  endpointField('monitoring.interval', '1s', (p) => ({ ...p, monitoring: { interval: Duration.seconds(1) } })),
  endpointField('monitoring.alerts.errorRatio', 2, (p) => ({ ...p, monitoring: { alerts: { errorRatio: 2 } } })),
  endpointField('exposure.path', 'api/', (p) => (p.kserve ? { ...p, kserve: undefined, versions: [{ ...p.versions[0], weight: undefined }], exposure: EndpointExposure.gateway({ host: 'm.example.com', gateway: { name: 'gw', namespace: 'gw' }, path: 'api/' }) } : { ...p, exposure: EndpointExposure.gateway({ host: 'm.example.com', gateway: { name: 'gw', namespace: 'gw' }, path: 'api/' }) })),
  endpointField('logging.samplePercent', 0, (p) => endpointLogging(p, { samplePercent: 0 })),
  endpointField('logging.port', 80, (p) => endpointLogging(p, { port: 80 })),
  endpointField('logging.mode', 'both', (p) => endpointLogging(p, { mode: 'both' })),
  endpointField('logging', { samplePercent: 10 }, (p) => ({ ...p, logging: { samplePercent: 10 } }), (s) => s.endpoints[0]?.props.kserve === true),
  endpointField('versions[0].logging.maxBodyBytes', 2097152, (p) => versionLogging(p, { maxBodyBytes: 2 * 1024 * 1024 })),
  endpointField('versions[0].logging.flushInterval', '0s', (p) => versionLogging(p, { flushInterval: Duration.seconds(0) })),
  endpointField('versions[0].logging.batchSize', 0, (p) => versionLogging(p, { batchSize: 0 })),
  endpointField('exposure.grpcHost', 'm.example.com', (p) => ({ ...noKserve(p), exposure: EndpointExposure.gateway({ host: 'm.example.com', grpcHost: 'm.example.com', gateway: { name: 'gw', namespace: 'gw' } }) })),
  endpointField('exposure.gateway', undefined, (p) => ({ ...noKserve(p), exposure: EndpointExposure.gateway({ host: 'm.models.example.com' }) }), (s) => !hasApps(s)),
  endpointField('exposure.host', 'm.elsewhere.org', (p) => ({ ...noKserve(p), exposure: EndpointExposure.gateway({ host: 'm.elsewhere.org' }) }), hasApps),
  endpointField('exposure.grpcHost', 'g.elsewhere.org', (p) => ({ ...noKserve(p), runtime: Runtime.triton({ gpu: false }), resources: { ...p.resources, gpus: undefined, pool: undefined, accelerator: undefined }, exposure: EndpointExposure.gateway({ host: 'm.models.example.com', grpcHost: 'g.elsewhere.org' }) }), (s) => hasApps(s) && ((s.platform.props.exposure as any).options.apps.hostnames as string[]).includes('*.models.example.com')),
  endpointField('checks.schedulability', 'ignore', (p) => ({ ...p, checks: { schedulability: 'ignore' } })),
  endpointField('runtime.workers', 0, (p) => ({ ...p, runtime: Runtime.mlflow({ workers: 0 }), resources: { ...p.resources, gpus: undefined, pool: undefined, accelerator: undefined }, versions: p.versions.map((v: any) => ({ ...v, runtime: undefined })) })),
];

/** A mutation of `valid`: a field drawn from {@link FIELDS} that applies to it. */
export function mutation(valid: fc.Arbitrary<Scenario>): fc.Arbitrary<Mutation> {
  return fc.tuple(valid, fc.constantFrom(...FIELDS)).filter(([s, f]) => f.apply(s) !== undefined).map(([s, f]) => {
    const scenario = f.apply(s)!;
    const pathOf = (f as any).pathOf as ((p: any) => string) | undefined;
    return { construct: f.construct, path: pathOf ? pathOf(scenario.pipelines[0].props) : f.path, value: f.value, scenario };
  });
}

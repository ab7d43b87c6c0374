import { Construct } from 'constructs';
import { checksWiring } from './checks';
import { MlPlatform } from './ml-platform';
import { checkDnsLabel, childName, Exposure, Issues, PlatformContext, shortHash } from '../core';
import { assertPropShapes } from '../core/prop-shapes';
import { KUBE, kube } from './private/object';
import { appLabels } from './private/pod';
import { renderDashboard, resolveDashboard } from './private/sweep-dashboard';
import { checkKatib, renderKatibExperiment } from './private/sweep-katib';
import { sweepNames } from './private/sweep-names';
import { programFiles, programFilesFingerprint, renderCreateJob, renderStorageEgress, renderWorkersJob, SweepPodsInput } from './private/sweep-pods';
import { DATABASE_CLIENT_LABEL } from './private/tenant-network';
import { CheckSeverities, resolveCheckSeverities } from '../core/checks';
import {
  resolveSweep, resolveSweepImages, StudyDatabaseLimit, StudyStorage, studyDatabaseLimit, SweepImages, SweepOptions, SweepResults, sweepResults,
  sweepRuntimeConfig, SweepSpec, SWEEP_CONNECTIONS, sweepConnectionBudget, sweepConnections, sweepDemands,
} from '../core/sweep';

/** Which engine runs the sweep. */
export type SweepEngine = 'optuna' | 'katib';

/** An optuna-dashboard for the study's schema. */
export interface SweepDashboardOptions {
  /**
   * How it is reached from outside: `Exposure.gateway({ host })` (the platform Gateway's apps
   * listener matching `host`), `Exposure.gateway({ host, gateway: { name, namespace } })` (a
   * Gateway whose listener admits routes from the sweep's namespace) or
   * `Exposure.ingress({ host, className })`.
   * @default not exposed: `kubectl port-forward svc/<name>-dashboard 8080`
   */
  readonly exposure?: Exposure;
  /**
   * Namespaces whose pods (the gateway's proxies or the ingress controller) may reach it; tenant
   * namespaces deny ingress by default.
   * @default the Gateway's proxy namespace (the Envoy Gateway add-on's) with a Gateway exposure; required with an Ingress
   */
  readonly allowFromNamespaces?: readonly string[];
}

/** Props of {@link TuningSweep}. */
export interface TuningSweepProps extends SweepOptions {
  /**
   * The platform: its PostgreSQL holds the study, its MLflow server records every trial, its GPU
   * pools place the trials, and `namespace` must be one of its tenants (whose quota the sweep must
   * fit). An `MlPlatform` or a hand-built `PlatformContext`.
   * @default none: give `storage`
   */
  readonly platform?: MlPlatform | PlatformContext;
  /** Namespace of the sweep's objects: a tenant namespace when `platform` is given. */
  readonly namespace: string;
  /** Log the study and each trial to MLflow (the platform's tracking server). @default true with a platform */
  readonly tracking?: boolean;
  /** Also deploy optuna-dashboard (`true` for the defaults). @default no dashboard */
  readonly dashboard?: SweepDashboardOptions | boolean;
  /** Run the sweep with Optuna Jobs, or emit a Katib Experiment instead. @default 'optuna' */
  readonly engine?: SweepEngine;
  /** Replacement images (e.g. a private registry mirror). @default SWEEP_IMAGES */
  readonly images?: Partial<SweepImages>;
  /** uid (and gid) of every container; the trial image's files must be readable by it. @default 1000 */
  readonly runAsUser?: number;
  /** Submit the workers Job to the tenant's Kueue LocalQueue (all workers admitted together). @default true when the tenant has a queue */
  readonly queue?: boolean;
  /**
   * Severity of the synth-time checks for this sweep, over the platform's `checks`: e.g.
   * `{ tenancy: 'warning' }` to synthesize although the workers exceed the tenant's quota.
   * @default the platform's, else every check at its own severity (see docs/checks.md)
   */
  readonly checks?: CheckSeverities;
}

/**
 * A hyperparameter sweep run by Optuna with its study in PostgreSQL.
 *
 * Creates, in `namespace`: a ServiceAccount (no token), a ConfigMap with the sweep program and its
 * configuration, a study-creation Job (creates the schema, tables and study once), and the workers:
 * an Indexed Job of `budget.workers` pods, each running the user's image as container `trial` (a
 * POSIX-sh runner executes each trial's command) beside the pinned Optuna image as container
 * `optuna` (asks for trials under a PostgreSQL advisory lock, streams the output, reports
 * intermediate values, prunes, tells results, heartbeats, retries trials of lost workers, logs to
 * MLflow), until exactly `budget.trials` trials have finished. With a study database other than the
 * platform's, an egress NetworkPolicy to its port. Optionally an optuna-dashboard
 * Deployment, Service, route and NetworkPolicy; or, with `engine: 'katib'`, a Katib Experiment
 * instead of the Jobs. Names of the Jobs and ConfigMap carry a hash of the sweep, so a changed
 * sweep is a new Job continuing the same study.
 */
export class TuningSweep extends Construct {
  /** The validated sweep. */
  public readonly spec: SweepSpec;
  /** Where the results are (study, MLflow parent run and its tags). */
  public readonly results: SweepResults;
  /** Name of the study-creation Job (Optuna engine). */
  public readonly createJobName: string;
  /** Name of the workers Job (Optuna engine). */
  public readonly workersJobName: string;
  /** Name of the program ConfigMap (Optuna engine). */
  public readonly configMapName: string;
  /** Name of the ServiceAccount of every sweep pod. */
  public readonly serviceAccountName: string;
  /** Name of the dashboard's Deployment and Service, when there is one. */
  public readonly dashboardName?: string;
  /** Database connections the sweep holds at most at once (one per worker, the study-creation Job's, the dashboard's); 0 for Katib. */
  public readonly databaseConnections: number;
  private readonly databaseLimit?: StudyDatabaseLimit;

  constructor(scope: Construct, id: string, props: TuningSweepProps) {
    super(scope, id);
    assertPropShapes(`TuningSweep "${id}"`, 'TuningSweep', props);
    const issues = new Issues(`TuningSweep "${id}"`);
    checkDnsLabel(issues, 'id', id, 30);
    const ctx = props.platform instanceof MlPlatform ? props.platform.context : props.platform;
    const engine = props.engine ?? 'optuna';
    if (engine !== 'optuna' && engine !== 'katib') issues.add('engine', engine, 'must be "optuna" or "katib"');
    const katib = engine === 'katib';
    const spec = resolveSweep(issues, id, props.namespace, props, ctx, { storage: !katib });
    const tracking = props.tracking ?? ctx !== undefined;
    if (tracking && !ctx) issues.add('tracking', true, 'needs `platform` (its MLflow server); drop it or give the platform');
    const images = resolveSweepImages(issues, 'images', props.images);
    const runAsUser = props.runAsUser ?? 1000;
    if (!Number.isInteger(runAsUser) || runAsUser < 1) issues.add('runAsUser', props.runAsUser, 'must be a non-root uid (a whole number ≥ 1)');
    const dashboard = props.dashboard ? resolveDashboard(issues, props.dashboard === true ? {} : props.dashboard, ctx, props.namespace) : undefined;
    const tenant = ctx?.tenants.find((t) => t.namespace === props.namespace);
    if (props.queue && !tenant?.queueName) issues.add('queue', true, 'needs a tenant with a Kueue queue (addTenant(…, { queue: true }))');
    const queue = props.queue === false ? undefined : tenant?.queueName;
    if (katib) checkKatib(issues, spec, { dashboard: dashboard !== undefined, storage: props.storage !== undefined });
    const checks = resolveCheckSeverities(issues, 'checks', props.checks);
    // One connection per worker (src/programs/sweep_lib.py): the workers must fit in the study database.
    const declared = issues.all.length;
    const own = katib ? undefined : (props.storage ?? StudyStorage.platform())._connections(issues, 'storage');
    const limit = katib || issues.all.length > declared ? undefined : studyDatabaseLimit(spec, ctx, own);
    const connections = katib ? 0 : sweepConnections(spec, { dashboard: dashboard !== undefined });
    if (limit && Number.isInteger(spec.budget.workers) && connections > sweepConnectionBudget(limit)) {
      issues.add('budget.workers', spec.budget.workers, connectionsFix(limit, connections, connections - spec.budget.workers));
    }
    issues.throwIfAny();
    this.databaseConnections = connections;
    this.databaseLimit = limit;
    if (limit) this.node.addValidation({ validate: () => this.checkSharedDatabase() });
    // Pool capacity and tenant quota are synth-time checks (src/cdk8s/checks.ts): errors fail `app.synth()`.
    const severities = Object.assign({}, props.platform instanceof MlPlatform ? props.platform.checkSeverities : {}, checks);
    checksWiring.register(this, () => ({
      demands: sweepDemands(spec, { studyCreation: !katib, optuna: !katib, dashboard: dashboard !== undefined }),
      dataAccess: [],
      target: ctx,
      severities,
    }));

    this.spec = spec;
    this.results = sweepResults(spec, tracking);
    const config = sweepRuntimeConfig(spec, tracking);
    const files = programFiles(config);
    // The hash of everything the objects are made of: the resolved spec and options, the program files
    // (the fixed programs by their digest, see programFilesFingerprint) and the platform's connections.
    const head = JSON.stringify({ spec, images, runAsUser, tracking, queue, engine });
    const tail = ctx ? `,"ctx":${JSON.stringify({ tracking: ctx.tracking, store: ctx.store })}` : '';
    const hash = shortHash(`${head.slice(0, -1)},"files":${programFilesFingerprint(files)}${tail}}`);
    const names = sweepNames(id, hash);
    this.createJobName = names.createJob;
    this.workersJobName = names.workersJob;
    this.configMapName = names.configMap;
    this.serviceAccountName = names.serviceAccount;
    const labels = Object.assign({}, appLabels(id, 'sweep', ctx?.name ?? id), { 'mlplatform.io/sweep': id });

    kube(this, 'service-account', KUBE.ServiceAccount, {
      metadata: {
        name: names.serviceAccount,
        namespace: spec.namespace,
        labels,
        ...(ctx?.store.serviceAccountAnnotations ? { annotations: { ...ctx.store.serviceAccountAnnotations } } : {}),
      },
      automountServiceAccountToken: false,
    });
    if (katib) {
      renderKatibExperiment(this, { spec, ctx, tracking, runAsUser, labels, serviceAccount: names.serviceAccount, name: names.experiment });
      return;
    }
    kube(this, 'program', KUBE.ConfigMap, { metadata: { name: names.configMap, namespace: spec.namespace, labels }, data: files });
    const db = spec.storage;
    const platformDatabase = ctx !== undefined && db?.kind === 'postgres' && db.host === ctx.database.host && db.port === ctx.database.port;
    // Only pods with this label may reach the platform's PostgreSQL (the tenant's and the platform's policies).
    const podLabels = platformDatabase ? Object.assign({}, labels, { [DATABASE_CLIENT_LABEL]: 'true' }) : labels;
    const input: SweepPodsInput = { spec, config, images, ctx, tracking, runAsUser, labels: podLabels, serviceAccount: names.serviceAccount, configMap: names.configMap, queue };
    renderCreateJob(this, 'create', names.createJob, input);
    renderWorkersJob(this, 'workers', names.workersJob, input);
    if (ctx && db?.kind === 'postgres' && !platformDatabase) {
      renderStorageEgress(this, childName(id, 'allow-study-database'), input, db.port);
    }
    if (dashboard) {
      this.dashboardName = names.dashboard;
      renderDashboard(this, input, { name: names.dashboard, ...dashboard });
    }
  }

  /** Synth time: the sweeps of the app on this sweep's study database fit in it together. */
  private checkSharedDatabase(): string[] {
    const limit = this.databaseLimit!;
    const peers = this.node.root.node.findAll().filter((c): c is TuningSweep => c instanceof TuningSweep && c.databaseLimit?.key === limit.key);
    const total = peers.reduce((n, p) => n + p.databaseConnections, 0);
    if (peers.length < 2 || total <= sweepConnectionBudget(limit)) return [];
    const each = peers.map((p) => `${p.spec.namespace}/${p.spec.name} ${p.databaseConnections}`).join(', ');
    return [`TuningSweep "${this.node.id}": \`budget.workers\` (${this.spec.budget.workers}): the sweeps on ${limit.description} need ${total} connections together (${each}), ` +
      `but it leaves ${sweepConnectionBudget(limit)} for sweeps (${limit.reserved} reserved); lower their budget.workers, or raise ${limit.limitProp} to at least ${total + limit.reserved}`];
  }
}

function connectionsFix(limit: StudyDatabaseLimit, connections: number, others: number): string {
  const budget = sweepConnectionBudget(limit);
  return `needs ${connections} connections to ${limit.description}: one per worker and ${others} for the study-creation Job${others > SWEEP_CONNECTIONS.studyCreation ? ' and the dashboard' : ''}, ` +
    `but it leaves ${budget} for sweeps (${limit.reserved} reserved); lower budget.workers to at most ${Math.max(0, budget - others)}, ` +
    `or raise ${limit.limitProp} to at least ${connections + limit.reserved}`;
}

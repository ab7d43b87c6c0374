/**
 * The example's training pipeline under the real Argo Workflows controller (argo.ts), with Kueue and
 * the real scheduler: a Workflow submitted from the synthesized WorkflowTemplate the way
 * `argo submit --from workflowtemplate/resnet` does runs its DAG to completion, the multi-node step's
 * Job is created by the real executor (`argoexec resource create`) and admitted by Kueue onto the H100
 * nodes, the exit handler runs, and the CronWorkflow makes Workflows when its schedule fires.
 *
 * Real: the API server (strict validation, Pod Security "restricted" on the pods the controller
 * builds, RBAC of the step ServiceAccount for WorkflowTaskResults and Jobs), the controller (template
 * resolution, substitution, DAG, `when`, memoization, exit handler, cron scheduling), argoexec for the
 * resource step, Kueue, the scheduler, the Job controller. Doubled: the user's containers (kwok only
 * sets pod status) and so the wait container's report of their outputs (argo-executor.ts) — the
 * output parameter values below are the test's choice, not a program's.
 */
import { readFileSync } from 'fs';
import { App } from 'cdk8s';
import { Cluster, startCluster, synthObjects } from './cluster';
import { queuedJobs } from './expectations';
import { Manifest } from './kube';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { MlPlatform } from '../../src/cdk8s';

const WF = 'argoproj.io/v1alpha1';
/** The accuracy the doubled train step reports: above the publish gate (`> 0.75`), so publish and register run. */
const ACCURACY = '0.91';

let cluster: Cluster;
let objects: Manifest[];
let platform: MlPlatform;
let template: any;
let cron: any;
/** The first run's name (the scheduled run's cached prepare step reports that run's keys). */
let firstRun: string | undefined;

beforeAll(async () => {
  const app = new App({ outdir: '/nonexistent' });
  platform = buildExample(app).platform;
  objects = synthObjects(app);
  template = objects.find((o) => o.kind === 'WorkflowTemplate');
  cron = objects.find((o) => o.kind === 'CronWorkflow');
  cluster = await startCluster({ name: 'pipeline', platform, objects, kueue: true, argo: true });
  const exec = cluster.argo!.executor;
  exec.setOutputParameters('step-train', { accuracy: ACCURACY });
  exec.setOutputParameters('register-publish', { version: '1' });
});

afterAll(async () => {
  await cluster?.stop();
});

/** Waits for a Workflow to finish; fails with its nodes, the executor's record and the controller's errors. */
async function finished(namespace: string, name: string, timeoutMs: number): Promise<any> {
  const kube = cluster.plane.admin;
  let wf: any;
  try {
    return await kube.waitFor(`Workflow ${name} finished`, async () => {
      wf = await kube.get(WF, 'Workflow', namespace, name);
      return ['Succeeded', 'Failed', 'Error'].includes(wf?.status?.phase) ? wf : undefined;
    }, timeoutMs, 1000);
  } catch (e) {
    const nodes = Object.values(wf?.status?.nodes ?? {}).map((n: any) => `${n.displayName} ${n.type} ${n.phase} ${n.message ?? ''}`);
    const pods = (await kube.list('v1', 'Pod', namespace)).filter((p) => p.metadata.labels?.['workflows.argoproj.io/workflow'] === name)
      .map((p) => `${p.metadata.name} ${p.status.phase} gates=${JSON.stringify(p.spec.schedulingGates ?? [])}`);
    throw new Error(`${String(e)}\nworkflow: ${wf?.status?.phase} ${wf?.status?.message ?? ''}\nnodes:\n  ${nodes.join('\n  ')}\npods:\n  ${pods.join('\n  ')}\n` +
      `executor:\n  ${cluster.argo!.executor.executed.map((x) => `${x.pod} ${x.role} ${x.exitCode} ${x.message ?? ''}`).join('\n  ')}\n` +
      `controller:\n${cluster.plane.tail('workflow-controller', 8)}`);
  }
}

test('the API server accepts every object, without a warning', () => {
  expect(cluster.problems).toEqual([]);
});

test("the controller runs with the chart's config for the platform's values", () => {
  const c = cluster.argo!.config;
  expect(c.artifactRepository.s3).toMatchObject({ bucket: 'ml-artifacts', keyFormat: expect.stringContaining('{{workflow.name}}') });
  expect(c.executor.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
  expect(cluster.argo!.executorImage).toBe('quay.io/argoproj/argoexec:v4.0.6');
});

describe('a pipeline submitted from the WorkflowTemplate', () => {
  let wf: any;
  let name: string;
  const nodes = () => Object.values(wf.status.nodes ?? {}) as any[];

  beforeAll(async () => {
    // What `argo submit --from workflowtemplate/resnet` creates (workflow/common/convert.go NewWorkflowFromWorkflowTemplate).
    const created = await cluster.plane.admin.create({
      apiVersion: WF,
      kind: 'Workflow',
      metadata: { generateName: `${template.metadata.name}-`, namespace: template.metadata.namespace, labels: { 'workflows.argoproj.io/workflow-template': template.metadata.name } } as any,
      spec: { workflowTemplateRef: { name: template.metadata.name } },
    });
    name = created.metadata.name;
    wf = await finished(template.metadata.namespace, name, 150_000);
  });

  test('reaches Succeeded with every DAG task Succeeded, publish and register included', () => {
    const tasks = template.spec.templates.find((t: any) => t.name === template.spec.entrypoint).dag.tasks.map((t: any) => t.name);
    const phases = Object.fromEntries(nodes().filter((n) => tasks.includes(n.displayName)).map((n) => [n.displayName, n.phase]));
    expect({ workflow: wf.status.phase, message: wf.status.message, tasks: phases }).toEqual({
      workflow: 'Succeeded', message: undefined, tasks: Object.fromEntries(tasks.map((t: string) => [t, 'Succeeded'])),
    });
  });

  test('the exit handler runs', () => {
    const exit = nodes().find((n) => n.name === `${name}.onExit`);
    expect(exit?.phase).toBe('Succeeded');
    const ran = cluster.argo!.executor.executed.find((x) => x.nodeId === exit.id);
    expect(ran?.mainArgs?.join(' ')).toContain(`run ${name} ended: Succeeded`);
  });

  test("the controller passes outputs on: the artifact key, the accuracy into publish's command", () => {
    const runs = cluster.argo!.executor.executed.filter((x) => x.pod.includes(name));
    const tmpl = (t: string) => runs.find((x) => x.template === t)!;
    const shards = tmpl('step-prepare').argoTemplate.outputs.artifacts[0].s3.key;
    expect(shards).toBe(`pipelines/vision/resnet/${name}/prepare/shards`);
    // On a platform the train step's I/O init container pulls them, from the key the prepare node reported
    // (src/core/pipeline/io.ts): the controller resolved the DAG argument and the template input into it.
    expect(tmpl('step-train').argoTemplate.inputs.artifacts).toBeUndefined();
    expect(tmpl('step-train').argoTemplate.initContainers.find((c: any) => c.name === 'step-io').args).toContain(`/mnt/inputs/shards=s3://ml-artifacts/${shards}`);
    firstRun = name;
    expect(tmpl('step-publish').mainArgs).toContain(ACCURACY);
    // No template expression is left unresolved in what the pods get.
    for (const r of runs) expect(JSON.stringify([r.argoTemplate, r.mainArgs])).not.toMatch(/\{\{/);
  });

  test("no step's own code holds an API token: the controller mounts the executor's token into its init and wait containers only (issue #20 item 5)", () => {
    const runs = cluster.argo!.executor.executed.filter((x) => x.pod.includes(name));
    expect(runs.length).toBeGreaterThan(3);
    for (const r of runs) {
      expect({ pod: r.pod, automount: r.tokens?.automount }).toEqual({ pod: r.pod, automount: false });
      const resource = r.template === 'step-finetune';
      for (const [container, volume] of Object.entries(r.tokens?.mounts ?? {})) {
        // Argo's executor containers (init, wait; a resource step's main is argoexec itself) get `exec-sa-token`; user code none.
        const executor = container === 'init' || container === 'wait' || (resource && container === 'main');
        expect({ pod: r.pod, container, volume }).toEqual({ pod: r.pod, container, volume: executor ? 'exec-sa-token' : undefined });
      }
    }
  });

  test("the multi-node step: the real argoexec creates the Job, Kueue admits it, its pods run on the H100 pool's nodes", async () => {
    const kube = cluster.plane.admin;
    const ran = cluster.argo!.executor.executed.find((x) => x.pod.includes(name) && x.template === 'step-finetune');
    expect(ran).toMatchObject({ role: 'argoexec resource create', exitCode: 0 });
    const jobs = (await kube.list('batch/v1', 'Job', 'vision', `workflows.argoproj.io/workflow=${name}`));
    expect(jobs.map((j) => j.metadata.generateName)).toEqual(['resnet-finetune-']);
    const job = jobs[0];
    expect(job.metadata.ownerReferences?.map((r: any) => `${r.kind}/${r.name}`)).toContain(`Workflow/${name}`);
    expect(job.status.succeeded).toBe(2);
    const queued = (await queuedJobs(kube)).find((q) => q.job === `vision/${job.metadata.name}`);
    expect(queued).toMatchObject({ admitted: true });
    const pods = await kube.list('v1', 'Pod', 'vision', `batch.kubernetes.io/job-name=${job.metadata.name}`);
    const groupOf = new Map((await kube.list('v1', 'Node')).map((n) => [n.metadata.name, n.metadata.labels['mlplatform.test/node-group']]));
    expect(pods.map((p) => groupOf.get(p.spec.nodeName))).toEqual(['h100', 'h100']);
    // The headless Service the pods rendezvous through (applied with the platform) selects them.
    const svc = await kube.get('v1', 'Service', 'vision', job.spec.template.spec.subdomain);
    expect(svc.spec.clusterIP).toBe('None');
    for (const p of pods) expect(p.metadata.labels).toMatchObject(svc.spec.selector);
  });
});

describe('the CronWorkflow', () => {
  test('the controller accepts the synthesized CronWorkflow: added to its schedule, no SpecError', async () => {
    const kube = cluster.plane.admin;
    const ref = `${cron.metadata.namespace}/${cron.metadata.name}`;
    // cron_controller.go logs "CronWorkflow added" once the spec validated and the schedule parsed (timezone included).
    await kube.waitFor('the controller adding the CronWorkflow', async () => {
      const log = readFileSync(cluster.plane.procs.find((p) => p.name === 'workflow-controller')!.log, 'utf8');
      return log.split('\n').some((l) => l.includes('CronWorkflow added') && l.includes(`"cronWorkflow":"${ref}"`)) ? true : undefined;
    }, 30_000, 1000);
    const live = await kube.get(WF, 'CronWorkflow', cron.metadata.namespace, cron.metadata.name);
    expect((live.status?.conditions ?? []).filter((c: any) => c.type === 'SpecError')).toEqual([]);
  });

  let made: any;
  test('a copy scheduled every minute makes a Workflow from the template when it fires', async () => {
    // The synthesized schedule fires at 03:00 Berlin time; a copy with the same spec but an
    // every-minute schedule shows the controller scheduling it within a bounded wait (≤ 60 s to the tick).
    const kube = cluster.plane.admin;
    const copy = { ...cron, metadata: { ...cron.metadata, name: `${cron.metadata.name}-every-minute` }, spec: { ...cron.spec, schedules: ['* * * * *'] } };
    await kube.apply(copy);
    made = await kube.waitFor('a Workflow made by the CronWorkflow', async () => {
      const wfs = await kube.list(WF, 'Workflow', cron.metadata.namespace, `workflows.argoproj.io/cron-workflow=${copy.metadata.name}`);
      return wfs[0];
    }, 75_000, 1000);
    expect(made.metadata.labels).toMatchObject({ 'mlplatform.io/trigger': 'schedule', 'mlplatform.io/pipeline': 'resnet' });
    expect(made.spec.workflowTemplateRef).toEqual({ name: template.metadata.name });
    const live = await kube.get(WF, 'CronWorkflow', cron.metadata.namespace, copy.metadata.name);
    expect(live.status.lastScheduledTime).toBeDefined();
  });

  test('the scheduled run runs every DAG task to Succeeded (its prepare step a cache hit of the first run)', async () => {
    // Open, and therefore not asserted: in every run so far all tasks of this run Succeeded but the
    // Workflow stayed Running and its exit handler never started (test/cluster/README.md, "found").
    expect(made).toBeDefined();
    const kube = cluster.plane.admin;
    const main = template.spec.templates.find((t: any) => t.name === template.spec.entrypoint);
    const tasks: string[] = main.dag.tasks.map((t: any) => t.name).sort();
    const done = await kube.waitFor('every DAG task of the scheduled run Succeeded', async () => {
      const wf = await kube.get(WF, 'Workflow', cron.metadata.namespace, made.metadata.name);
      const nodes = Object.values<any>(wf?.status?.nodes ?? {}).filter((n) => tasks.includes(n.displayName) && n.phase === 'Succeeded');
      return new Set(nodes.map((n) => n.displayName)).size === tasks.length ? nodes : undefined;
    }, 120_000, 1000);
    expect([...new Set(done.map((n: any) => n.displayName))].sort()).toEqual(tasks);
    // prepare was not run again: train pulls the shards of the run that made them, at the key that run's node reported.
    const train = cluster.argo!.executor.executed.find((x) => x.pod.includes(made.metadata.name) && x.template === 'step-train');
    expect(cluster.argo!.executor.executed.some((x) => x.pod.includes(made.metadata.name) && x.template === 'step-prepare')).toBe(false);
    expect(firstRun).toBeDefined();
    expect(train?.argoTemplate.initContainers.find((c: any) => c.name === 'step-io').args).toContain(
      `/mnt/inputs/shards=s3://ml-artifacts/pipelines/vision/resnet/${firstRun}/prepare/shards`);
  });
});

/**
 * The harness's Job controller (jobs.ts) on known cases, with pods run by the harness: index
 * assignment of an Indexed Job, backoffLimit exhaustion, pod failure policy rules (Ignore for exit
 * 143, FailJob on an exit code, containerName, NotIn over an init container, Ignore on the
 * DisruptionTarget condition of an evicted pod). Expected conditions, reasons and messages are the
 * ones k8s.io/kubernetes@v1.37.2 pkg/controller/job writes (job_controller.go `syncJob`,
 * pod_failure_policy.go `matchPodFailurePolicy`).
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { JobRun, intervals, runJob } from './jobs';
import { Kubelet } from './kubelet';
import { KubeObject, MemorySource } from './source';
import { VERSIONS } from '../../../src/core';

const TIMEOUT = 60_000;
/** The postgres image's stand-in needs no engine; the pods run the host's /bin/sh through it. */
const IMAGE = VERSIONS.images.postgres;
const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };

let kubelet: Kubelet;
const runs: JobRun[] = [];
beforeAll(() => {
  kubelet = new Kubelet({ source: new MemorySource(), dir: mkdtempSync(join(tmpdir(), 'kubelet-jobs-')), maxGraceMs: 2000 });
});
afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  await kubelet?.stop();
});

/** A Job whose container `main` runs `script`; `claim` mounts a claim at /state (it outlives the pods, as a PVC does). */
function job(name: string, spec: Record<string, unknown>, script: string, opts: { claim?: string; init?: string } = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ns' },
    spec: {
      ...spec,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, runAsNonRoot: true },
          ...(opts.init ? { initContainers: [{ name: 'prepare', image: IMAGE, securityContext: restricted, command: ['/bin/sh', '-c', opts.init] }] } : {}),
          containers: [{
            name: 'main',
            image: IMAGE,
            securityContext: restricted,
            command: ['/bin/sh', '-c', script],
            env: [{ name: 'ANNOTATION', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
            ...(opts.claim ? { volumeMounts: [{ name: 'state', mountPath: '/state' }] } : {}),
          }],
          ...(opts.claim ? { volumes: [{ name: 'state', persistentVolumeClaim: { claimName: opts.claim } }] } : {}),
        },
      },
    },
  };
}

function start(j: KubeObject): JobRun {
  const r = runJob(kubelet, j);
  runs.push(r);
  return r;
}

test('intervals as the controller writes completedIndexes', () => {
  expect(intervals([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8');
  expect(intervals([])).toBe('');
});

test('Indexed: each index once, lowest first, at most `parallelism` at a time; the index in the annotation, label, JOB_COMPLETION_INDEX and hostname', async () => {
  const r = start(job('idx', { completionMode: 'Indexed', completions: 4, parallelism: 2 },
    'echo "index=$JOB_COMPLETION_INDEX annotation=$ANNOTATION host=$(hostname)"; sleep 1'));
  expect(await r.wait(TIMEOUT / 2)).toEqual({ type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
  expect(r.status).toMatchObject({ active: 0, succeeded: 4, failed: 0, completedIndexes: '0-3' });
  expect(r.status.conditions.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
  expect(r.pods.map((p) => p.index)).toEqual([0, 1, 2, 3]);
  expect(r.maxActive).toBe(2);
  for (const p of r.pods) {
    expect(p.pod.name).toMatch(new RegExp(`^idx-${p.index}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    expect(p.pod.pod.labels).toMatchObject({ 'batch.kubernetes.io/job-completion-index': String(p.index), 'batch.kubernetes.io/job-name': 'idx', 'job-name': 'idx' });
    expect(p.pod.log('main')).toBe(`index=${p.index} annotation=${p.index} host=idx-${p.index}\n`);
    expect(p.counted).toBe('succeeded');
  }
}, TIMEOUT);

test('backoffLimit: failed pods beyond it fail the Job with BackoffLimitExceeded, replacements after a growing back-off', async () => {
  const r = start(job('crash', { backoffLimit: 2 }, 'echo boom; exit 1'));
  expect(await r.wait(TIMEOUT / 2)).toEqual({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  expect(r.status.conditions.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
  expect(r.status).toMatchObject({ active: 0, succeeded: 0, failed: 3 });
  expect(r.pods.map((p) => [p.counted, p.pod.status.get('main')!.exits])).toEqual(Array(3).fill(['failed', [{ code: 1, signal: null }]]));
  // backoff_utils.go: the base (500 ms here, 10 s upstream) doubled per consecutive failure.
  expect(r.pods[1].createdAt - r.pods[0].finishedAt!).toBeGreaterThanOrEqual(450);
  expect(r.pods[2].createdAt - r.pods[1].finishedAt!).toBeGreaterThanOrEqual(950);
}, TIMEOUT);

describe('podFailurePolicy', () => {
  /** First pod: exits 143 as a worker stopped by SIGTERM does; its replacement finds the mark and succeeds. */
  const sigtermOnce = 'if [ -e /state/seen ]; then echo second; exit 0; fi; touch /state/seen; echo first; exit 143';

  test('Ignore on exit 143 (containerName main): the pod is replaced without counting, even with backoffLimit 0', async () => {
    const r = start(job('ignore', {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { containerName: 'main', operator: 'In', values: [143] }, onPodConditions: [] }] },
    }, sigtermOnce, { claim: 'ignore-state' }));
    expect(await r.wait(TIMEOUT / 2)).toMatchObject({ type: 'Complete', reason: 'CompletionsReached' });
    expect(r.status).toMatchObject({ succeeded: 1, failed: 0 });
    expect(r.pods.map((p) => [p.counted, p.action, p.pod.log('main')])).toEqual([['ignored', 'Ignore', 'first\n'], ['succeeded', undefined, 'second\n']]);
  }, TIMEOUT);

  test('control: a rule for another containerName does not match, so exit 143 counts and backoffLimit 0 fails the Job', async () => {
    const r = start(job('counted', {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { containerName: 'sidecar', operator: 'In', values: [143] }, onPodConditions: [] }] },
    }, sigtermOnce, { claim: 'counted-state' }));
    expect(await r.wait(TIMEOUT / 2)).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect(r.pods.map((p) => [p.counted, p.action])).toEqual([['failed', undefined]]);
  }, TIMEOUT);

  test('FailJob on exit 3: the Job fails at once with reason PodFailurePolicy and upstream\'s message; the other index is deleted', async () => {
    const t0 = Date.now();
    const r = start(job('failjob', {
      completionMode: 'Indexed',
      completions: 2,
      parallelism: 2,
      backoffLimit: 6,
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onExitCodes: { containerName: 'main', operator: 'In', values: [143] }, onPodConditions: [] },
          { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [3] }, onPodConditions: [] },
        ],
      },
    }, 'if [ "$JOB_COMPLETION_INDEX" = 1 ]; then exit 3; fi; exec sleep 60'));
    const end = await r.wait(TIMEOUT / 2);
    const failed = r.pods.find((p) => p.index === 1)!;
    expect(end).toEqual({
      type: 'Failed',
      status: 'True',
      reason: 'PodFailurePolicy',
      message: `Container main for pod ns/${failed.pod.name} failed with exit code 3 matching FailJob rule at index 1`,
    });
    expect(Date.now() - t0).toBeLessThan(30_000);
    const other = r.pods.find((p) => p.index === 0)!;
    expect(other.counted).toBe('deleted');
    expect(other.pod.phase).toBe('Failed');
    // `exec sleep` is the container's PID 1: SIGTERM (no handler) is ignored, so the grace period ends with SIGKILL.
    expect(other.pod.status.get('main')!.exits).toEqual([{ code: null, signal: 'SIGKILL' }]);
    expect(r.pods).toHaveLength(2);
    expect(r.status).toMatchObject({ active: 0, failed: 2, succeeded: 0, completedIndexes: '' });
  }, TIMEOUT);

  test('NotIn without containerName matches an init container\'s exit', async () => {
    const r = start(job('init', {
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [143] }, onPodConditions: [] }] },
    }, 'exit 0', { init: 'exit 5' }));
    const end = await r.wait(TIMEOUT / 2);
    expect(end).toMatchObject({ reason: 'PodFailurePolicy', message: `Container prepare for pod ns/${r.pods[0].pod.name} failed with exit code 5 matching FailJob rule at index 0` });
    expect(r.pods[0].pod.status.get('main')!.exits).toEqual([]);
  }, TIMEOUT);

  test('Ignore on the DisruptionTarget condition: an evicted pod is replaced without counting', async () => {
    const r = start(job('evicted', {
      completionMode: 'Indexed',
      completions: 1,
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
    }, 'if [ -e /state/seen ]; then exit 0; fi; touch /state/seen; exec sleep 60', { claim: 'evicted-state' }));
    const deadline = Date.now() + TIMEOUT / 2;
    while (r.pods[0]?.pod.status.get('main')?.state !== 'running') {
      if (Date.now() > deadline) throw new Error(r.describe());
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 500)); // the shell has written the mark and exec'd sleep
    await r.pods[0].pod.evict();
    expect(await r.wait(TIMEOUT / 2)).toMatchObject({ type: 'Complete' });
    expect(r.pods.map((p) => [p.index, p.counted, p.action])).toEqual([[0, 'ignored', 'Ignore'], [0, 'succeeded', undefined]]);
    expect(r.status).toMatchObject({ failed: 0, succeeded: 1, completedIndexes: '0' });
  }, TIMEOUT);
});

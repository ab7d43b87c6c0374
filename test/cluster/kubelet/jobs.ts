/**
 * A Job controller for the kubelet harness: from a synthesized `batch/v1` Job it creates pods on a
 * {@link Kubelet} and follows them to the Job's end with the real controller's semantics, as far as
 * mlplatform's Jobs use them. Citations are to k8s.io/kubernetes@v1.37.2 pkg/controller/job (in the Go
 * module cache: `$(go env GOMODCACHE)/k8s.io/kubernetes@v1.37.2/pkg/controller/job`).
 *
 * What it does as the controller does:
 * - pods from the template (job_controller.go `manageJob`): the labels the API server's Job strategy
 *   puts on the template (`batch.kubernetes.io/job-name`, `job-name`, `batch.kubernetes.io/controller-uid`,
 *   `controller-uid`: pkg/registry/batch/job/strategy.go `generateSelector`); up to `parallelism`
 *   active pods (default 1), never more than the completions still missing;
 * - `completionMode: Indexed` (indexed_job_utils.go): the lowest pending indexes first
 *   (`firstPendingIndexes`), the `batch.kubernetes.io/job-completion-index` annotation and label
 *   (`addCompletionIndexAnnotation`, `addCompletionIndexLabel`), `JOB_COMPLETION_INDEX` from that label
 *   in every container and init container that does not set it (`addCompletionIndexEnvVariable`),
 *   `hostname: <job>-<index>`, pod names `<job>-<index>-<5 random>` (`podGenerateNameWithIndex`); an
 *   index is done when a pod of it succeeds (`calculateSucceededIndexes`), the Job when all
 *   `completions` indexes are (`status.completedIndexes` in the controller's interval notation);
 * - NonIndexed: done when `completions` pods succeeded (with `completions` unset: when one pod
 *   succeeded and none is active);
 * - failures (`syncJob`): a Failed pod is matched against `podFailurePolicy` (pod_failure_policy.go
 *   `matchPodFailurePolicy`, rules in order, first match wins: `onExitCodes` In/NotIn over the
 *   terminated containers — containers, then init containers — with a non-zero exit, optionally only
 *   `containerName`; else `onPodConditions` type+status): `FailJob` fails the Job with reason
 *   `PodFailurePolicy` and upstream's message, `Ignore` does not count the pod, `Count` (and no match)
 *   counts it; `failed > backoffLimit` (default 6) fails the Job with `BackoffLimitExceeded`; with
 *   `restartPolicy: OnFailure`, container restarts of active pods reaching `backoffLimit` do
 *   (`pastBackoffLimitOnFailure`); `activeDeadlineSeconds` fails it with `DeadlineExceeded`;
 * - a finished Job's active pods are deleted (`deleteActivePods`: SIGTERM, then SIGKILL after the grace
 *   period); the conditions are the interim `FailureTarget` / `SuccessCriteriaMet` followed by `Failed` /
 *   `Complete` with the same reason and message (`trackJobStatusAndRemoveFinalizers`);
 * - replacement pods wait out the pod-failure back-off (backoff_utils.go
 *   `getRemainingTimeForFailuresCount`: the base doubled per consecutive failure since the last
 *   success, capped) — **shortened**: the base is 10 s upstream (`DefaultJobPodFailureBackOff`), 500 ms
 *   here by default, and the cap 10 min upstream (`MaxJobPodFailureBackOff`), 8 s here;
 * - `podReplacementPolicy` defaults to `Failed` when a pod failure policy is set (the API's defaulting):
 *   a deleted pod is replaced only once it has terminated — here every stop is awaited, so both
 *   policies behave alike.
 *
 * Not emulated: `suspend` (Kueue's admission gate: see kueue.ts on the control plane), `backoffLimitPerIndex`
 * / `maxFailedIndexes` / `FailIndex`, `successPolicy`, `ttlSecondsAfterFinished`, pod-creation slow
 * start and API errors, orphan and duplicate-index pods, the tracking finalizers (pods are counted as
 * the kubelet reports them), `status.ready`/`terminating` counters, and the controller's sync cadence
 * (it polls every 100 ms).
 */
import { randomBytes } from 'crypto';
import { constants } from 'os';
import { Kubelet, PodPhase, RunningPod } from './kubelet';
import { KubeObject } from './source';

/** `batch.kubernetes.io/job-completion-index` (k8s.io/api batch/v1 `JobCompletionIndexAnnotation`). */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
const POLL_MS = 100;

/** A Job condition (batch/v1 `JobCondition`). */
export interface JobCondition {
  readonly type: 'FailureTarget' | 'SuccessCriteriaMet' | 'Failed' | 'Complete';
  readonly status: 'True';
  readonly reason: string;
  readonly message: string;
}

/** The Job's status, as the controller writes it. */
export interface JobStatus {
  active: number;
  succeeded: number;
  failed: number;
  /** Indexed Jobs: the succeeded indexes, e.g. `0-2,5`. */
  completedIndexes?: string;
  readonly conditions: JobCondition[];
}

/** One pod the controller created, and how it was counted. */
export interface JobPod {
  readonly pod: RunningPod;
  readonly index?: number;
  /** When the controller created it, and when it counted it as finished (ms since the epoch). */
  readonly createdAt: number;
  finishedAt?: number;
  /** What the controller did with it once it finished (undefined while it is active). */
  counted?: 'succeeded' | 'failed' | 'ignored' | 'deleted';
  /** The pod failure policy's action for a Failed pod (undefined: no rule matched or no policy). */
  action?: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
}

/** Options of {@link runJob}. */
export interface JobControllerOptions {
  /** First pod-failure back-off (10 s upstream). @default 500 ms */
  readonly podFailureBackoffMs?: number;
  /** Cap of the pod-failure back-off (10 min upstream). @default 8 s */
  readonly maxPodFailureBackoffMs?: number;
}

/** The exit code the runtime reports for a container: its code, or 128 + the signal that killed it. */
export function exitCodeOf(exit: { code: number | null; signal: NodeJS.Signals | null }): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? constants.signals[exit.signal] ?? 9 : 9);
}

/** A container's terminated state as the pod status shows it: the last exit, when the container is not running again. */
interface Terminated { readonly name: string; readonly exitCode: number }

function terminatedStatuses(pod: RunningPod, init: boolean): Terminated[] {
  const spec = pod.admitted?.spec ?? pod.pod.spec;
  const names: string[] = (init ? spec.initContainers ?? [] : spec.containers).map((c: any) => c.name);
  const out: Terminated[] = [];
  for (const name of names) {
    const st = pod.status.get(name);
    const last = st?.exits[st.exits.length - 1];
    if (st?.state === 'terminated' && last) out.push({ name, exitCode: exitCodeOf(last) });
  }
  return out;
}

/**
 * pod_failure_policy.go `matchPodFailurePolicy`: the first rule that matches the failed pod, as
 * `{ message (FailJob only), countFailed, action }`.
 */
export function matchPodFailurePolicy(policy: any, pod: RunningPod): { message?: string; countFailed: boolean; action?: JobPod['action'] } {
  if (!policy) return { countFailed: true };
  const rules: any[] = policy.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      // matchOnExitCodes: containers first, then init containers; only terminated, non-zero exits.
      const hit = [...terminatedStatuses(pod, false), ...terminatedStatuses(pod, true)].find((c) => (req.containerName === undefined || req.containerName === c.name)
        && c.exitCode !== 0
        && (req.operator === 'In' ? req.values.includes(c.exitCode) : req.operator === 'NotIn' ? !req.values.includes(c.exitCode) : false));
      if (!hit) continue;
      if (rule.action === 'FailJob') {
        return {
          message: `Container ${hit.name} for pod ${pod.pod.namespace}/${pod.name} failed with exit code ${hit.exitCode} matching FailJob rule at index ${i}`,
          countFailed: true,
          action: 'FailJob',
        };
      }
      return { countFailed: rule.action !== 'Ignore', action: rule.action };
    } else if (rule.onPodConditions) {
      const cond = pod.conditions.find((c) => rule.onPodConditions.some((p: any) => p.type === c.type && p.status === c.status));
      if (!cond) continue;
      if (rule.action === 'FailJob') {
        return { message: `Pod ${pod.pod.namespace}/${pod.name} has condition ${cond.type} matching FailJob rule at index ${i}`, countFailed: true, action: 'FailJob' };
      }
      return { countFailed: rule.action !== 'Ignore', action: rule.action };
    }
  }
  return { countFailed: true };
}

/** indexed_job_utils.go `orderedIntervals.String`: `0-2,5,7-8`. */
export function intervals(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A Job being run by the controller. */
export class JobRun {
  public readonly status: JobStatus = { active: 0, succeeded: 0, failed: 0, conditions: [] };
  public readonly pods: JobPod[] = [];
  /** The controller's own events (pod created, counted, Job finished). */
  public readonly events: string[] = [];
  /** Resolves with the final condition (`Complete` or `Failed`). */
  public readonly done: Promise<JobCondition>;
  /** The most pods that were active at once. */
  public maxActive = 0;
  public readonly uid = uuid();
  private readonly succeededIndexes = new Set<number>();
  private failuresSinceSuccess = 0;
  private lastFailure = 0;
  private stopped = false;
  private readonly started = Date.now();

  constructor(private readonly kubelet: Kubelet, public readonly job: KubeObject, private readonly o: JobControllerOptions = {}) {
    if (job.kind !== 'Job') throw new Error(`runJob: ${job.kind} ${job.metadata.name} is not a Job`);
    if (job.spec?.suspend === true) throw new Error(`Job ${job.metadata.name} is suspended: the harness's controller does not emulate Kueue's admission`);
    this.done = this.loop();
  }

  public get name(): string {
    return this.job.metadata.name!;
  }

  /** The running pods (not finished). */
  public get active(): JobPod[] {
    return this.pods.filter((p) => p.counted === undefined);
  }

  /** Waits for the Job to finish; rejects after `timeoutMs` with the pods' state. */
  public async wait(timeoutMs: number): Promise<JobCondition> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Job ${this.name} did not finish within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the controller and deletes its active pods (the Job deleted with `propagationPolicy: Foreground`). */
  public async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.active.map((p) => p.pod.stop()));
  }

  /** The Job's status, events and each pod's description, for failure messages. */
  public describe(container?: string): string {
    return [
      `job ${this.job.metadata.namespace}/${this.name}: ${JSON.stringify(this.status)}`,
      ...this.events.map((e) => `  ${e}`),
      ...this.pods.map((p) => `${p.pod.describe(container)}\n  counted: ${p.counted ?? 'active'}${p.action ? ` (${p.action})` : ''}`),
    ].join('\n');
  }

  private event(e: string): void {
    this.events.push(`${new Date().toISOString()} ${e}`);
  }

  private async loop(): Promise<JobCondition> {
    const spec = this.job.spec;
    const indexed = spec.completionMode === 'Indexed';
    const parallelism: number = spec.parallelism ?? 1;
    const completions: number | undefined = spec.completions;
    if (indexed && completions === undefined) throw new Error(`Indexed Job ${this.name} without completions`);
    const backoffLimit: number = spec.backoffLimit ?? 6;
    const policy = spec.podFailurePolicy;
    const restartPolicy = spec.template.spec.restartPolicy ?? 'Always';
    if (policy && restartPolicy !== 'Never') throw new Error(`Job ${this.name}: podFailurePolicy needs restartPolicy Never (the API server rejects it otherwise)`);
    const base = this.o.podFailureBackoffMs ?? 500;
    const cap = this.o.maxPodFailureBackoffMs ?? 8_000;
    for (;;) {
      if (this.stopped) return this.finish('Failed', 'Stopped', 'the test stopped the controller');
      // Count newly finished pods.
      let failJob: string | undefined;
      for (const p of this.pods) {
        if (p.counted !== undefined) continue;
        if (p.pod.phase === 'Succeeded') {
          p.counted = 'succeeded';
          p.finishedAt = Date.now();
          this.status.succeeded++;
          if (p.index !== undefined) this.succeededIndexes.add(p.index);
          this.failuresSinceSuccess = 0;
          this.event(`pod ${p.pod.name} succeeded`);
        } else if (p.pod.phase === 'Failed') {
          const m = matchPodFailurePolicy(policy, p.pod);
          p.action = m.action;
          p.counted = m.countFailed ? 'failed' : 'ignored';
          p.finishedAt = Date.now();
          if (m.countFailed) this.status.failed++;
          this.failuresSinceSuccess++;
          this.lastFailure = Date.now();
          if (m.message && !failJob) failJob = m.message;
          this.event(`pod ${p.pod.name} failed (${m.action ?? 'no rule'}): ${m.countFailed ? 'counted' : 'not counted'}`);
        }
      }
      this.status.active = this.active.length;
      if (indexed) {
        this.status.succeeded = this.succeededIndexes.size;
        this.status.completedIndexes = intervals(this.succeededIndexes);
      }
      // The Job's end, in syncJob's order: pod failure policy, backoff limit, deadline, then success.
      let end: Omit<JobCondition, 'type' | 'status'> & { type: 'Failed' | 'Complete' } | undefined;
      if (failJob) {
        end = { type: 'Failed', reason: 'PodFailurePolicy', message: failJob };
      } else if (this.status.failed > backoffLimit || this.pastBackoffLimitOnFailure(restartPolicy, backoffLimit)) {
        end = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (spec.activeDeadlineSeconds !== undefined && Date.now() - this.started >= spec.activeDeadlineSeconds * 1000) {
        end = { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      } else if (this.complete(indexed, completions)) {
        end = { type: 'Complete', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      }
      if (end) {
        const active = this.active;
        await Promise.all(active.map((p) => p.pod.stop()));
        for (const p of active) {
          // trackJobStatusAndRemoveFinalizers: when the Job failed, every pod not terminated counts as failed.
          p.counted = 'deleted';
          if (end.type === 'Failed') this.status.failed++;
        }
        this.status.active = 0;
        return this.finish(end.type, end.reason, end.message);
      }
      // manageJob: create what is missing, after the pod-failure back-off.
      const wait = this.backoffRemaining(base, cap);
      if (wait === 0) {
        const missing = completions === undefined ? (this.status.succeeded > 0 ? 0 : parallelism) : completions - (indexed ? this.succeededIndexes.size : this.status.succeeded);
        const want = Math.max(0, Math.min(parallelism, missing) - this.active.length);
        if (want > 0) {
          if (indexed) {
            for (const ix of this.firstPendingIndexes(want, completions!)) this.create(ix);
          } else {
            for (let k = 0; k < want; k++) this.create(undefined);
          }
        }
      }
      this.status.active = this.active.length;
      this.maxActive = Math.max(this.maxActive, this.status.active);
      await sleep(POLL_MS);
    }
  }

  /** Indexed: every index succeeded; NonIndexed: `completions` pods succeeded, or (unset) one did and none is active. */
  private complete(indexed: boolean, completions: number | undefined): boolean {
    if (indexed) return this.succeededIndexes.size >= completions!;
    if (completions !== undefined) return this.status.succeeded >= completions;
    return this.status.succeeded > 0 && this.status.active === 0;
  }

  private finish(type: 'Failed' | 'Complete', reason: string, message: string): JobCondition {
    this.status.conditions.push({ type: type === 'Failed' ? 'FailureTarget' : 'SuccessCriteriaMet', status: 'True', reason, message });
    const final: JobCondition = { type, status: 'True', reason, message };
    this.status.conditions.push(final);
    this.event(`Job ${type}: ${reason}: ${message}`);
    return final;
  }

  /** job_controller.go `pastBackoffLimitOnFailure`: restarts of active pods' containers reach backoffLimit. */
  private pastBackoffLimitOnFailure(restartPolicy: string, backoffLimit: number): boolean {
    if (restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of this.active) for (const st of p.pod.status.values()) restarts += st.restarts;
    return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
  }

  private backoffRemaining(base: number, cap: number): number {
    if (this.failuresSinceSuccess === 0) return 0;
    let d = base;
    for (let i = 1; i < this.failuresSinceSuccess; i++) {
      d *= 2;
      if (d >= cap) {
        d = cap;
        break;
      }
    }
    return Math.max(0, d - (Date.now() - this.lastFailure));
  }

  /** indexed_job_utils.go `firstPendingIndexes`: the lowest indexes neither succeeded nor active. */
  private firstPendingIndexes(count: number, completions: number): number[] {
    const taken = new Set([...this.succeededIndexes, ...this.active.map((p) => p.index!)]);
    const out: number[] = [];
    for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
    return out;
  }

  private create(index: number | undefined): void {
    const job = this.job;
    const name = this.name;
    const t = JSON.parse(JSON.stringify(job.spec.template));
    t.metadata ??= {};
    // strategy.go generateSelector: the template's labels.
    const selector = { 'batch.kubernetes.io/controller-uid': this.uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': this.uid, 'job-name': name };
    t.metadata.labels = { ...(t.metadata.labels ?? {}), ...selector };
    let podName = `${name}-${suffix()}`;
    if (index !== undefined) {
      for (const c of [...(t.spec.initContainers ?? []), ...t.spec.containers]) {
        if (!(c.env ?? []).some((e: any) => e.name === 'JOB_COMPLETION_INDEX')) {
          c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } }];
        }
      }
      t.metadata.annotations = { ...(t.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(index) };
      t.metadata.labels[COMPLETION_INDEX] = String(index);
      t.spec.hostname = `${name}-${index}`;
      // podGenerateNameWithIndex: the prefix is cut to 58 characters (MaxGeneratedNameLength) keeping `-<index>-`.
      const append = `-${index}-`;
      let prefix = `${name}${append}`;
      if (prefix.length > 58) prefix = `${prefix.slice(0, 58 - append.length)}${append}`;
      podName = `${prefix}${suffix()}`;
    }
    const workload: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: job.metadata.namespace }, spec: { template: t } };
    const pod = this.kubelet.run(workload, { name: podName });
    this.pods.push({ pod, index, createdAt: Date.now() });
    this.event(`created pod ${podName}${index !== undefined ? ` (index ${index})` : ''}`);
  }
}

/** Starts the Job controller for `job` on `kubelet`. */
export function runJob(kubelet: Kubelet, job: KubeObject, opts: JobControllerOptions = {}): JobRun {
  return new JobRun(kubelet, job, opts);
}

/** The phase of a pod, re-exported for callers that only import this module. */
export type { PodPhase };

/** names.SimpleNameGenerator: 5 characters of `bcdfghjklmnpqrstvwxz2456789`. */
function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function uuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { SWEEP_WORKER_RESOURCES, SweepSpec } from './sweep';
import { WorkloadDemand } from '../checks/types';
import { gpuDemand, podRequest } from '../checks/workloads';
import { Cpu, Size } from '../quantities';

const OPTUNA_EPHEMERAL_STORAGE = Size.mebibytes(SWEEP_WORKER_RESOURCES.ephemeralStorageMiB);

/** What one worker pod of a sweep requests (the trial container plus the Optuna container). */
export interface SweepPodRequest {
  readonly cpu: Cpu;
  readonly memory: Size;
  /** Ephemeral storage (its init containers request none). */
  readonly ephemeralStorage: Size;
  /** GPUs (of the trial container's pool). */
  readonly gpus: number;
}

/** The requests of one worker pod. */
export function sweepPodRequest(spec: SweepSpec): SweepPodRequest {
  const c = spec.trial.compute;
  return {
    cpu: c.cpu.plus(Cpu.millis(SWEEP_WORKER_RESOURCES.cpuMillicores)),
    memory: c.memory.plus(Size.mebibytes(SWEEP_WORKER_RESOURCES.memoryMiB)),
    ephemeralStorage: podRequest([c.ephemeralStorage, OPTUNA_EPHEMERAL_STORAGE]),
    gpus: c.gpu?.count ?? 0,
  };
}

/** Requests of the sweep's other pods (the Optuna container alone, and optuna-dashboard). */
export const SWEEP_OTHER_POD_REQUESTS = {
  studyCreation: { cpu: Cpu.millis(SWEEP_WORKER_RESOURCES.cpuMillicores), memory: Size.mebibytes(SWEEP_WORKER_RESOURCES.memoryMiB), ephemeralStorage: OPTUNA_EPHEMERAL_STORAGE },
  dashboard: { cpu: Cpu.millis(100), memory: Size.mebibytes(384), ephemeralStorage: Size.bytes(0) },
} as const;

/** Which of a sweep's other pods run beside the workers. */
export interface SweepPods {
  /** The study-creation Job's pod (Optuna engine). @default true */
  readonly studyCreation?: boolean;
  /** The optuna-dashboard pod. @default false */
  readonly dashboard?: boolean;
  /** Each worker runs the Optuna container beside the trial (the Optuna engine; Katib runs the trial alone). @default true */
  readonly optuna?: boolean;
}

/**
 * The sweep's schedulable units for the synth-time checks: `worker` (`budget.workers` pods at once,
 * each the trial container plus the Optuna container), and the study-creation and dashboard pods.
 * The checks compare the workers × GPUs per trial with the pool's maximum (a warning: extra workers
 * wait) and everything with the tenant's quota (an error).
 */
export function sweepDemands(spec: SweepSpec, pods: SweepPods = {}): WorkloadDemand[] {
  const c = spec.trial.compute;
  // Katib runs the trial container alone (its metrics collector is Katib's, injected at run time).
  const per = (pods.optuna ?? true) ? sweepPodRequest(spec) : { cpu: c.cpu, memory: c.memory, ephemeralStorage: c.ephemeralStorage };
  const gpu = gpuDemand(spec.trial.compute);
  const base = { construct: 'TuningSweep' as const, name: spec.name, namespace: spec.namespace };
  const out: WorkloadDemand[] = [Object.assign({}, base, { unit: 'worker', cpu: per.cpu, memory: per.memory, ephemeralStorage: per.ephemeralStorage, ...(gpu ? { gpu } : {}), pods: { min: spec.budget.workers, max: spec.budget.workers } })];
  if (pods.studyCreation ?? true) out.push(Object.assign({}, base, { unit: 'study-creation', ...SWEEP_OTHER_POD_REQUESTS.studyCreation, pods: { min: 0, max: 1 } }));
  if (pods.dashboard) out.push(Object.assign({}, base, { unit: 'dashboard', ...SWEEP_OTHER_POD_REQUESTS.dashboard, pods: { min: 1, max: 1 } }));
  return out;
}

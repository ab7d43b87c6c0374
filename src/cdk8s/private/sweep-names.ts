import { childName } from '../../core';

/** Names of a sweep's objects. */
export interface SweepNames {
  /** ServiceAccount of every sweep pod (no token mounted). */
  readonly serviceAccount: string;
  /** ConfigMap with the programs and `config.json` (hashed: a running Job keeps its own). */
  readonly configMap: string;
  /** The study-creation Job (hashed: Jobs are immutable, so a changed sweep is a new Job). */
  readonly createJob: string;
  /** The workers' Indexed Job (hashed). */
  readonly workersJob: string;
  /** optuna-dashboard Deployment and Service. */
  readonly dashboard: string;
  /** Katib Experiment. */
  readonly experiment: string;
}

/** The names of sweep `name` whose rendered spec hashes to `hash`. */
export function sweepNames(name: string, hash: string): SweepNames {
  return {
    serviceAccount: name,
    configMap: childName(name, hash),
    createJob: childName(name, `create-${hash}`),
    workersJob: childName(name, `workers-${hash}`),
    dashboard: childName(name, 'dashboard'),
    experiment: name,
  };
}

/** Name of the NetworkPolicy admitting ingress to `target`. */
export function tenantNetworkPolicyName(target: string): string {
  return childName(target, 'allow-ingress');
}

import { Issues } from '../errors';
import { checkFactoryArgs } from '../prop-shapes';
import { Duration } from '../quantities';

/** Replica bounds of an autoscaled version. */
export interface ReplicaBounds {
  /** Fewest replicas (0 = scale to zero, KEDA only, and only with a `startupBudget`). */
  readonly minReplicas: number;
  /** Most replicas. */
  readonly maxReplicas: number;
}

/** Options of {@link Scaling.cpu}. */
export interface CpuScalingOptions extends ReplicaBounds {
  /** Target average CPU utilization, percent of the request. @default 70 */
  readonly utilization?: number;
}

/** Options of {@link Scaling.requestRate} and {@link Scaling.concurrency} (KEDA, Prometheus trigger). */
export interface KedaScalingOptions extends ReplicaBounds {
  /** Target per replica: requests per second (`requestRate`) or requests in flight (`concurrency`). */
  readonly target: number;
  /**
   * PromQL returning the signal for the whole version; `$selector` is replaced by the version's
   * pod labels.
   * @default the runtime's request-rate or in-flight query
   */
  readonly query?: string;
  /**
   * With `minReplicas: 0`: PromQL that is above `activationThreshold` when the version must wake
   * up. A version at zero has no pods, so its own metrics vanish; the signal must be observed
   * elsewhere.
   * @default for shadows and weight-0 versions, the live request rate of the versions that stay warm
   */
  readonly activationQuery?: string;
  /** Activation happens when the activation query exceeds this. @default 0 */
  readonly activationThreshold?: number;
  /**
   * How long without activation before scaling to zero (KEDA `cooldownPeriod`); raised to the
   * start-up budget when shorter, so a replica still starting is never removed (kserve#1247).
   * @default Duration.minutes(5)
   */
  readonly idleBeforeScaleToZero?: Duration;
}

/** The validated scaling. */
export type ScalingSpec =
  | { readonly kind: 'fixed'; readonly minReplicas: number; readonly maxReplicas: number }
  | { readonly kind: 'cpu'; readonly minReplicas: number; readonly maxReplicas: number; readonly utilization: number }
  | {
    readonly kind: 'keda';
    readonly signal: 'requestRate' | 'concurrency';
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly target: number;
    readonly query?: string;
    readonly activationQuery?: string;
    readonly activationThreshold: number;
    readonly idle: Duration;
  };

type Options = { kind: 'fixed'; replicas: number } | ({ kind: 'cpu' } & CpuScalingOptions) | ({ kind: 'keda'; signal: 'requestRate' | 'concurrency' } & KedaScalingOptions);

/**
 * How many replicas a version runs (union-like): a fixed count, an HPA on CPU, or a KEDA
 * ScaledObject on request rate or concurrency read from Prometheus (the only kind that may scale
 * to zero).
 */
export class Scaling {
  /** Exactly `replicas` replicas. */
  public static fixed(replicas: number): Scaling {
    return checkFactoryArgs(new Scaling({ kind: 'fixed', replicas }), 'Scaling.fixed', { replicas });
  }
  /** A HorizontalPodAutoscaler on average CPU utilization (cannot scale to zero). */
  public static cpu(options: CpuScalingOptions): Scaling {
    return checkFactoryArgs(new Scaling({ kind: 'cpu', ...options }), 'Scaling.cpu', { options });
  }
  /** KEDA on requests per second per replica (Prometheus query). */
  public static requestRate(options: KedaScalingOptions): Scaling {
    return checkFactoryArgs(new Scaling({ kind: 'keda', signal: 'requestRate', ...options }), 'Scaling.requestRate', { options });
  }
  /** KEDA on requests in flight per replica (Prometheus query). */
  public static concurrency(options: KedaScalingOptions): Scaling {
    return checkFactoryArgs(new Scaling({ kind: 'keda', signal: 'concurrency', ...options }), 'Scaling.concurrency', { options });
  }

  private constructor(private readonly options: Options) {}

  /** @internal validates and returns the spec, recording issues under `path`. */
  public _resolve(issues: Issues, path: string): ScalingSpec {
    const o = this.options;
    const whole = (name: string, v: unknown, min: number) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) issues.add(`${path}.${name}`, v, `must be a whole number ≥ ${min}`);
    };
    if (o.kind === 'fixed') {
      whole('replicas', o.replicas, 1);
      return { kind: 'fixed', minReplicas: o.replicas, maxReplicas: o.replicas };
    }
    whole('minReplicas', o.minReplicas, 0);
    whole('maxReplicas', o.maxReplicas, 1);
    if (Number.isInteger(o.minReplicas) && Number.isInteger(o.maxReplicas) && o.minReplicas > o.maxReplicas) {
      issues.add(`${path}.minReplicas`, o.minReplicas, `must not exceed maxReplicas (${o.maxReplicas})`);
    }
    if (o.kind === 'cpu') {
      if (o.minReplicas === 0) issues.add(`${path}.minReplicas`, 0, 'a CPU HorizontalPodAutoscaler cannot scale to zero; use Scaling.requestRate() or Scaling.concurrency() (KEDA) for that');
      const utilization = o.utilization ?? 70;
      if (!Number.isInteger(utilization) || utilization < 1 || utilization > 100) issues.add(`${path}.utilization`, o.utilization, 'must be a percentage from 1 to 100');
      return { kind: 'cpu', minReplicas: o.minReplicas, maxReplicas: o.maxReplicas, utilization };
    }
    if (typeof o.target !== 'number' || !(o.target > 0) || !Number.isFinite(o.target)) issues.add(`${path}.target`, o.target, `must be a number > 0 (${o.signal === 'requestRate' ? 'requests per second' : 'requests in flight'} per replica)`);
    for (const k of ['query', 'activationQuery'] as const) {
      const q = o[k];
      if (q !== undefined && (typeof q !== 'string' || q.trim().length === 0)) issues.add(`${path}.${k}`, q, 'must be a non-empty PromQL expression');
    }
    const activationThreshold = o.activationThreshold ?? 0;
    if (typeof activationThreshold !== 'number' || !(activationThreshold >= 0)) issues.add(`${path}.activationThreshold`, o.activationThreshold, 'must be a number ≥ 0');
    if (o.minReplicas !== 0 && (o.activationQuery !== undefined || o.activationThreshold !== undefined)) {
      issues.add(`${path}.activationQuery`, o.activationQuery, 'applies only with minReplicas: 0 (activation wakes a version from zero)');
    }
    return {
      kind: 'keda',
      signal: o.signal,
      minReplicas: o.minReplicas,
      maxReplicas: o.maxReplicas,
      target: o.target,
      query: o.query,
      activationQuery: o.activationQuery,
      activationThreshold,
      idle: o.idleBeforeScaleToZero ?? Duration.minutes(5),
    };
  }
}

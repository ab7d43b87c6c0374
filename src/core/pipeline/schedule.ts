import { cronError } from '../cron';
import { Issues } from '../errors';
import { Duration } from '../quantities';
import { CANONICAL_TIME_ZONES } from './time-zones';

/** When and how a pipeline runs on its own (an Argo `CronWorkflow`). */
export interface ScheduleOptions {
  /** Cron expression(s), five fields or a macro such as `@daily`, e.g. `"0 3 * * *"`. */
  readonly cron: string | readonly string[];
  /**
   * IANA time zone the expression is read in, e.g. `"Europe/Berlin"`.
   * @default the controller's (usually UTC)
   */
  readonly timezone?: string;
  /**
   * What to do when a run is due while the previous one still runs.
   * @default 'Forbid'
   */
  readonly concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  /**
   * How late a missed run may still start (e.g. after a controller restart).
   * @default no deadline
   */
  readonly startingDeadline?: Duration;
  /** Succeeded runs kept. @default 3 */
  readonly successfulRunsHistory?: number;
  /** Failed runs kept. @default 3 */
  readonly failedRunsHistory?: number;
  /** Declare the schedule but do not run it. @default false */
  readonly suspend?: boolean;
  /**
   * Parameter values of scheduled runs (by parameter name).
   * @default each parameter's default
   */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** A validated schedule. */
export interface ScheduleSpec {
  readonly schedules: readonly string[];
  readonly timezone?: string;
  readonly concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace';
  readonly startingDeadlineSeconds?: number;
  readonly successfulRunsHistory: number;
  readonly failedRunsHistory: number;
  readonly suspend: boolean;
  readonly parameters: Readonly<Record<string, string>>;
}

/** Validates a schedule; `declared` are the pipeline's parameter names. */
export function resolveSchedule(issues: Issues, path: string, o: ScheduleOptions, declared: readonly string[]): ScheduleSpec {
  const schedules = typeof o.cron === 'string' ? [o.cron] : [...(o.cron ?? [])];
  if (schedules.length === 0) issues.add(`${path}.cron`, o.cron, 'must have at least one cron expression such as "0 3 * * *"');
  schedules.forEach((c, i) => {
    const err = cronError(c);
    if (err) issues.add(typeof o.cron === 'string' ? `${path}.cron` : `${path}.cron[${i}]`, c, err);
  });
  if (o.timezone !== undefined && (!/^(UTC|[A-Z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+)+)$/.test(o.timezone) || !isKnownTimeZone(o.timezone))) {
    issues.add(`${path}.timezone`, o.timezone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
  }
  const policy = o.concurrencyPolicy ?? 'Forbid';
  if (!['Allow', 'Forbid', 'Replace'].includes(policy)) issues.add(`${path}.concurrencyPolicy`, policy, 'must be "Allow", "Forbid" or "Replace"');
  const history = (key: 'successfulRunsHistory' | 'failedRunsHistory'): number => {
    const n = o[key] ?? 3;
    if (!Number.isInteger(n) || n < 0) issues.add(`${path}.${key}`, n, 'must be a whole number ≥ 0');
    return n;
  };
  const parameters = { ...(o.parameters ?? {}) };
  for (const [name, value] of Object.entries(parameters)) {
    if (!declared.includes(name)) issues.add(`${path}.parameters.${name}`, value, `is not a parameter of the pipeline; declare it in \`parameters\` or use one of: ${declared.join(', ') || '(none declared)'}`);
    // Argo substitutes a parameter's value into the templates, then evaluates {{…}} in the result again
    // (argo-workflows v4.0.7 workflow/common/util.go, SubstituteParams).
    if (typeof value === 'string' && value.includes('{{')) issues.add(`${path}.parameters.${name}`, value, 'must not contain "{{": Argo evaluates a {{…}} inside a parameter value; give a literal value');
  }
  return {
    schedules,
    timezone: o.timezone,
    concurrencyPolicy: policy,
    startingDeadlineSeconds: o.startingDeadline?.toSeconds(),
    successfulRunsHistory: history('successfulRunsHistory'),
    failedRunsHistory: history('failedRunsHistory'),
    suspend: o.suspend ?? false,
    parameters,
  };
}

/** Whether the tz database knows `zone` ("Mars/Olympus" has the right shape but is no zone; Argo would reject it at run time). */
function isKnownTimeZone(zone: string): boolean {
  let known = KNOWN_ZONES.get(zone);
  if (known === undefined) {
    // The canonical zones are listed (time-zones.ts); Intl's own list costs 3 ms, and the first
    // DateTimeFormat loads locale data (25 ms), so they are asked only for the rest (aliases such as
    // "US/Eastern", "UTC", zones newer than the list).
    CANONICAL_ZONES ??= new Set(CANONICAL_TIME_ZONES.split(/\s+/).filter((z) => z !== ''));
    known = CANONICAL_ZONES.has(zone) || (typeof Intl.supportedValuesOf === 'function' && Intl.supportedValuesOf('timeZone').includes(zone));
    if (!known) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        known = true;
      } catch {
        known = false;
      }
    }
    KNOWN_ZONES.set(zone, known);
  }
  return known;
}
let CANONICAL_ZONES: ReadonlySet<string> | undefined;
const KNOWN_ZONES = new Map<string, boolean>();

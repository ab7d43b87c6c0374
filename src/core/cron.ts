/**
 * Validation of the standard five-field cron syntax that Kubernetes CronJobs and Argo CronWorkflows
 * accept (minute hour day-of-month month day-of-week), with lists, ranges, steps, `*`, `?`, month and
 * weekday names, and the `@hourly`-style macros.
 */

interface Field { readonly name: string; readonly min: number; readonly max: number; readonly names?: readonly string[] }

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** The macros robfig/cron (used by Kubernetes and Argo) accepts in place of five fields. */
export const CRON_MACROS: readonly string[] = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

function value(text: string, f: Field): number | undefined {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const i = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (i >= 0) return f.name === 'month' ? i + 1 : i;
  return undefined;
}

function checkPart(part: string, f: Field): string | undefined {
  const [range, step, extra] = part.split('/');
  if (extra !== undefined) return `"${part}" has more than one "/"`;
  if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) >= 1)) return `step "${step}" must be a whole number ≥ 1`;
  if (range === '*' || range === '?') return undefined;
  const [lo, hi, more] = range.split('-');
  if (more !== undefined) return `"${range}" is not a range`;
  const a = value(lo, f);
  if (a === undefined || a < f.min || a > f.max) return `"${lo}" is outside ${f.min}-${f.max}`;
  if (hi !== undefined) {
    const b = value(hi, f);
    if (b === undefined || b < f.min || b > f.max) return `"${hi}" is outside ${f.min}-${f.max}`;
    if (b < a) return `range "${range}" runs backwards`;
  }
  return undefined;
}

/**
 * Checks a cron expression.
 * @returns undefined when valid, else what is wrong (naming the field)
 */
export function cronError(expression: string): string | undefined {
  if (typeof expression !== 'string' || expression.trim() === '') return 'must be a cron expression such as "0 3 * * *"';
  const text = expression.trim();
  if (text.startsWith('@')) return CRON_MACROS.includes(text) ? undefined : `unknown macro "${text}" (use one of ${CRON_MACROS.join(', ')})`;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `must have 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`;
  for (let i = 0; i < 5; i++) {
    for (const piece of parts[i].split(',')) {
      const err = piece === '' ? 'has an empty list item' : checkPart(piece, FIELDS[i]);
      if (err) return `${FIELDS[i].name} field: ${err}`;
    }
  }
  return calendarError(parts);
}

/** The values a valid field selects. */
function expandField(text: string, f: Field): Set<number> {
  const out = new Set<number>();
  for (const piece of text.split(',')) {
    const [range, step] = piece.split('/');
    const [lo, hi] = range === '*' || range === '?' ? [f.min, f.max] : range.split('-').map((x) => value(x, f)!);
    const end = hi ?? (step !== undefined && range !== '*' && range !== '?' ? f.max : lo);
    for (let v = lo; v <= end; v += Number(step ?? 1)) out.add(v);
  }
  return out;
}

/** The longest month of each month number (February 29 in leap years). */
const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A schedule that never fires: robfig/cron (Kubernetes' and Argo's parser) matches a day when the
 * day of month and the day of week both match, or either when the other is `*`/`?` (spec.go,
 * `dayMatches`); with the day of week unrestricted, a day of month that no selected month has (31
 * in April, 30 or 31 in February) never matches. Both controllers accept such a schedule and never
 * run it.
 */
function calendarError(parts: readonly string[]): string | undefined {
  const dow = parts[4];
  // `*/2` is no star to robfig/cron (parser.go, getRange: a step > 1 clears the star bit): then either day matches.
  if (dow !== '*' && dow !== '?' && dow !== '*/1') return undefined;
  if (parts[2] === '*' || parts[2] === '?') return undefined;
  const days = expandField(parts[2], FIELDS[2]);
  const months = expandField(parts[3], FIELDS[3]);
  for (const m of months) for (const d of days) if (d <= MONTH_DAYS[m]) return undefined;
  return `day of month ${parts[2]} never occurs in month ${parts[3]}: the schedule would never run; choose a day every selected month has (at most 29 for February, 30 for April, June, September, November)`;
}

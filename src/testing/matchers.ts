import { IConstruct } from 'constructs';
import { manifestsOf, podSecurityViolations, TemplateCheckOptions, validateManifests } from './template';
import { formatFindings, type PssLevel } from './validate';
import { formatFinding } from '../cdk8s/checks';
import { platformReport, PlatformReport } from '../cdk8s/report';
import { CheckFinding, workloadLabel } from '../core/checks';

/** Options of `toRequestGpus`. */
export interface RequestGpusOptions {
  /**
   * Count only the GPUs placed on this pool.
   * @default every pool
   */
  readonly pool?: string;
}

/** The checks `toBeSchedulable` looks at: a pod that fits no pool, a pool too small, a quota too small. */
const SCHEDULING_CHECKS: ReadonlySet<string> = new Set(['schedulability', 'capacity', 'tenancy']);

type Result = { pass: boolean; message: () => string };

function isConstruct(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && typeof (x as { node?: { findAll?: unknown } }).node?.findAll === 'function';
}

function notAConstruct(matcher: string, received: unknown): Result {
  return { pass: false, message: () => `${matcher}: expected a Chart, an App or another construct holding mlplatform constructs, received ${typeof received === 'object' ? Object.prototype.toString.call(received) : String(received)}` };
}

function report(received: IConstruct): PlatformReport {
  return platformReport(received);
}

function usd(n: number): string {
  return `$${(Math.round(n * 100) / 100).toFixed(2)}`;
}

function list(lines: readonly string[]): string {
  return lines.map((l) => `  - ${l}`).join('\n');
}

function findingsText(findings: readonly CheckFinding[]): string {
  return list(findings.map(formatFinding));
}

/**
 * `expect(chart).toBeSchedulable()`: no schedulability, capacity or tenancy finding (errors and
 * warnings): every GPU pod fits a node of its pool, every sweep and endpoint fits its pool at its
 * maximum size, and everything fits its tenant's quota.
 */
export function toBeSchedulable(received: unknown): Result {
  if (!isConstruct(received)) return notAConstruct('toBeSchedulable', received);
  const r = report(received);
  const bad = r.findings.filter((f) => SCHEDULING_CHECKS.has(f.check));
  const gpuUnits = r.units.filter((u) => u.gpu).length;
  return bad.length === 0
    ? { pass: true, message: () => `expected some workload not to be schedulable, but all ${r.units.length} units (${gpuUnits} with GPUs) fit their pools (${r.pools.map((p) => `"${p.pool}"`).join(', ') || 'none declared'}) and tenant quotas` }
    : { pass: false, message: () => `expected every workload to be schedulable, but ${bad.length} finding${bad.length === 1 ? '' : 's'} say${bad.length === 1 ? 's' : ''} otherwise:\n${findingsText(bad)}` };
}

/** `expect(chart).toPassChecks()`: no error finding of any synth-time check (data access included); warnings are allowed. */
export function toPassChecks(received: unknown): Result {
  if (!isConstruct(received)) return notAConstruct('toPassChecks', received);
  const r = report(received);
  const errors = r.findings.filter((f) => f.severity === 'error');
  return errors.length === 0
    ? { pass: true, message: () => `expected a synth-time check to fail, but none did (${r.findings.length} warning${r.findings.length === 1 ? '' : 's'})` }
    : { pass: false, message: () => `expected the synth-time checks to pass, but ${errors.length} failed:\n${findingsText(errors)}` };
}

/**
 * `expect(chart).toRequestGpus(n)`: the workloads under the construct request exactly `n` GPUs (or
 * MIG slices, or time-sliced shares) when every unit runs at its maximum pods (steps × nodes, sweep
 * workers, endpoint replicas at `maxReplicas`).
 */
export function toRequestGpus(received: unknown, expected: number, options: RequestGpusOptions = {}): Result {
  if (!isConstruct(received)) return notAConstruct('toRequestGpus', received);
  const units = report(received).units.filter((u) => u.gpu && (options.pool === undefined || u.gpu.pool === options.pool));
  const total = units.reduce((s, u) => s + u.gpu!.count * u.pods.max, 0);
  const where = options.pool === undefined ? '' : ` on pool "${options.pool}"`;
  const detail = units.length === 0 ? '  (no GPU workload)' : list(units.map((u) => `${workloadLabel(u)}: ${u.pods.max} × ${u.gpu!.count} ${u.gpu!.accelerator} on pool "${u.gpu!.pool}" = ${u.pods.max * u.gpu!.count}`));
  return total === expected
    ? { pass: true, message: () => `expected the workloads not to request ${expected} GPUs${where} at peak, but they do:\n${detail}` }
    : { pass: false, message: () => `expected the workloads to request ${expected} GPUs${where} at peak, but they request ${total}:\n${detail}` };
}

/**
 * `expect(chart).toStayUnderHourlyCost(usd)`: the GPU nodes the workloads bring up at their peak
 * (per pool `ceil(demand / GPUs per node)` nodes, within `minNodes`..`maxNodes`) cost at most `usd`
 * per hour at the accelerator catalog's pinned on-demand prices. A pool without a price fails.
 */
export function toStayUnderHourlyCost(received: unknown, maxUsdPerHour: number): Result {
  if (!isConstruct(received)) return notAConstruct('toStayUnderHourlyCost', received);
  const pools = report(received).pools;
  const unpriced = pools.filter((p) => p.usdPerHour === undefined && p.nodes.peak > 0);
  const total = pools.reduce((s, p) => s + (p.usdPerHour?.peak ?? 0), 0);
  const detail = list(pools.map((p) => p.usdPerHour === undefined
    ? `pool "${p.pool}": ${p.nodes.peak} × ${p.instanceType}, no price in the catalog`
    : `pool "${p.pool}": ${p.nodes.peak} node${p.nodes.peak === 1 ? '' : 's'} × ${p.instanceType} $${p.usdPerNodeHour}/h = ${usd(p.usdPerHour.peak)}/h (peak demand ${p.demand} of ${p.capacity} ${p.resourceName})`));
  const pass = unpriced.length === 0 && total <= maxUsdPerHour;
  return pass
    ? { pass: true, message: () => `expected the GPU pools to cost more than ${usd(maxUsdPerHour)}/hour at peak, but they cost ${usd(total)}:\n${detail}` }
    : {
      pass: false,
      message: () => unpriced.length > 0
        ? `expected the GPU pools to cost at most ${usd(maxUsdPerHour)}/hour at peak, but ${unpriced.map((p) => `pool "${p.pool}" (${p.instanceType})`).join(', ')} has no price:\n${detail}`
        : `expected the GPU pools to cost at most ${usd(maxUsdPerHour)}/hour at peak, but they cost ${usd(total)}:\n${detail}`,
    };
}

/** `expect(chart).toPassPodSecurity('restricted')`: every PodSpec meets the Pod Security Standards level (no schema files needed). */
export function toPassPodSecurity(received: unknown, level: PssLevel = 'restricted'): Result {
  if (!isConstruct(received)) return notAConstruct('toPassPodSecurity', received);
  if (level !== 'restricted' && level !== 'baseline') return { pass: false, message: () => `toPassPodSecurity: level must be 'restricted' or 'baseline', not ${JSON.stringify(level)}` };
  const manifests = manifestsOf(received);
  const violations = podSecurityViolations(manifests, level);
  return violations.length === 0
    ? { pass: true, message: () => `expected some pod to break Pod Security "${level}", but all ${manifests.length} objects pass` }
    : { pass: false, message: () => `expected every pod to pass Pod Security "${level}", but ${violations.length} field${violations.length === 1 ? '' : 's'} do${violations.length === 1 ? 'es' : ''} not:\n${list(violations)}` };
}

/**
 * `expect(chart).toHaveValidManifests()`: every manifest passes strict offline validation against the
 * upstream schemas (unknown fields are errors), the apiserver-style checks and, by default, Pod
 * Security "restricted".
 */
export function toHaveValidManifests(received: unknown, options: TemplateCheckOptions = {}): Result {
  if (!isConstruct(received)) return notAConstruct('toHaveValidManifests', received);
  const manifests = manifestsOf(received);
  if (manifests.length === 0) return { pass: false, message: () => 'expected valid manifests, but the construct synthesizes no object (an empty list would pass vacuously)' };
  const errors = formatFindings(validateManifests(manifests, options).errors);
  return errors.length === 0
    ? { pass: true, message: () => `expected some manifest to be invalid, but all ${manifests.length} pass strict validation` }
    : { pass: false, message: () => `expected all ${manifests.length} manifests to pass strict validation, but ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${list(errors)}` };
}

/** The matchers, for `expect.extend(...)`. {@link installMatchers} does that for you. */
export const mlplatformMatchers = {
  toBeSchedulable,
  toPassChecks,
  toRequestGpus,
  toStayUnderHourlyCost,
  toPassPodSecurity,
  toHaveValidManifests,
};

/**
 * Adds the mlplatform matchers to jest's `expect`: call it once, in a test file or in a file listed
 * in jest's `setupFilesAfterEnv`. Their types come with this module (`jest.Matchers`).
 * @throws when there is no global `expect` (not running under jest)
 */
export function installMatchers(): void {
  const e = (globalThis as { expect?: { extend?: (m: object) => void } }).expect;
  if (typeof e?.extend !== 'function') {
    throw new Error('installMatchers() needs jest\'s global `expect`: call it in a test file or a setupFilesAfterEnv file');
  }
  e.extend(mlplatformMatchers);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** No schedulability, capacity or tenancy finding: every GPU pod fits its pool and its tenant's quota. */
      toBeSchedulable(): R;
      /** No error finding of any synth-time check (warnings allowed). */
      toPassChecks(): R;
      /** Exactly `gpus` GPUs at peak (every unit at its maximum pods), optionally on one pool. */
      toRequestGpus(gpus: number, options?: RequestGpusOptions): R;
      /** The GPU nodes brought up at peak cost at most `usd` per hour (catalog on-demand prices). */
      toStayUnderHourlyCost(usd: number): R;
      /** Every PodSpec meets the Pod Security Standards level. @default 'restricted' */
      toPassPodSecurity(level?: 'restricted' | 'baseline'): R;
      /** Every manifest passes strict offline validation (schemas, apiserver checks, Pod Security). */
      toHaveValidManifests(options?: TemplateCheckOptions): R;
    }
  }
}

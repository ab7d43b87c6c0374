// Properties A and B of issue #22, shared by the jest suite (a fixed-seed sample) and `npm run fuzz`.
// A: a corpus string at any derived string path of a valid scenario either fails with a ValidationError
//    naming that path, or synthesizes objects that — after Argo's, Katib's and the kubelet's
//    substitutions — have the same structure as with the benign value, and programs that still parse.
// B: any JavaScript value at any derived path (present or absent) either synthesizes or fails with a
//    ValidationError naming that path: never another exception.
import * as fc from 'fast-check';
import { scenario, Scenario } from './arbitraries/scenario';
import { HOSTILE_STRINGS } from './corpus/hostile-strings';
import { installFactoryRecorder, issueNamesSite, replaceAt, Site, sitePath, sitesOf, Step, Target, targetsOf, derivedByText } from './inject';
import { synthScenario } from './properties';
import { applyEngines, compareEngined, Engined, ProgramBatch } from './structure';
import { Cpu, Duration, Size, ValidationError } from '../../src/core';

installFactoryRecorder();

/**
 * Props whose strings are Argo templates by design (src/core/pipeline/references.ts: a step's command,
 * args, env and `when`, the exit handler's command, args and env may hold the references it lists;
 * unknown ones are rejected): a hostile value there may add `{{…}}` tags that Argo resolves.
 */
const ARGO_TEMPLATED = /^(steps\[\]\.(command\[\]|args\[\]|env\{\}|when|forEach)|onExit\.(command\[\]|args\[\]|env\{\}))$/;

/** A sweep's trial args: `{{name}}` is replaced by a parameter's value (src/core/sweep/sweep.ts, TrialOptions.args). */
const SWEEP_TEMPLATED = /^trial\.args\[\]$/;

/** One case: a scenario, where to inject and what. */
export interface InjectionCase {
  readonly scenario: Scenario;
  readonly target: Target;
  readonly site: Site;
  readonly value: unknown;
}

const STRING_LEAVES = new Set(['string', 'literal', 'key']);

/** The string sites of a scenario (values of string, string-literal or record-key paths). */
export function stringSites(s: Scenario): { target: Target; site: Site }[] {
  return targetsOf(s).flatMap((target) => {
    const derived = derivedByText(target.entry);
    return sitesOf(target.entry, target.root, derived)
      .filter((site) => typeof site.value === 'string' && derived.get(site.text)!.some((p) => STRING_LEAVES.has(p.leaf) && (p.leaf === 'key') === !!site.isKey))
      .map((site) => ({ target, site }));
  });
}

/** Every site of a scenario, plus the absent optional members of the objects present. */
export function anySites(s: Scenario): { target: Target; site: Site }[] {
  return targetsOf(s).flatMap((target) => {
    const derived = derivedByText(target.entry);
    const present = sitesOf(target.entry, target.root, derived).filter((x) => !x.isKey);
    const absent: Site[] = [];
    const parents: { steps: readonly Step[]; text: string; value: unknown }[] = [{ steps: [], text: '', value: target.root }, ...present];
    for (const parent of parents) {
      const v = parent.value;
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) continue;
      for (const text of derived.keys()) {
        const prefix = parent.text ? `${parent.text}.` : '';
        if (!text.startsWith(prefix)) continue;
        const name = text.slice(prefix.length);
        if (!/^[A-Za-z_$][\w$-]*$/.test(name) || name in v) continue;
        absent.push({ entry: target.entry, steps: [...parent.steps, { kind: 'prop', name }], text, value: undefined });
      }
    }
    return [...present, ...absent].map((site) => ({ target, site }));
  });
}

/** A scenario and one of its string sites, with a corpus string. */
export function hostileCase(): fc.Arbitrary<InjectionCase | undefined> {
  return fc.tuple(scenario({ pipelines: 2, sweeps: 1, endpoints: 1 }), fc.nat(), fc.constantFrom(...HOSTILE_STRINGS)).map(([s, n, h]) => {
    const sites = stringSites(s);
    if (!sites.length) return undefined;
    const { target, site } = sites[n % sites.length];
    return { scenario: s, target, site, value: h.value };
  });
}

/** Wrong JavaScript values: wrong types, null, NaN, infinities, arrays for objects, prototype keys, long arrays, other value classes. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, NaN, Infinity, -Infinity, -1, 0, 0.5, 2 ** 53, 1e308, '', 'x', '1Gi', '-1', true, false, [], [null], [undefined], {}, [{}],
    () => 'fn'),
  fc.constant(null).map(() => JSON.parse('{"__proto__": {"polluted": true}, "name": "x"}')),
  fc.constant(null).map(() => ({ constructor: { prototype: { polluted: true } }, toString: 'x', valueOf: 1 })),
  fc.constant(null).map(() => Object.create(null)),
  fc.constant(null).map(() => Array.from({ length: 10_000 }, (_, i) => `v${i}`)),
  fc.constant(null).map(() => Cpu.cores(1)),
  fc.constant(null).map(() => Size.gibibytes(1)),
  fc.constant(null).map(() => Duration.seconds(1)),
  fc.anything({ maxDepth: 2, maxKeys: 3, withNullPrototype: true, withBigInt: false, withMap: true, withSet: true, withDate: true, withTypedArray: true }),
);

/** A scenario and one of its sites (present or absent), with a wrong value. */
export function wrongCase(): fc.Arbitrary<InjectionCase | undefined> {
  return fc.tuple(scenario({ pipelines: 1, sweeps: 1, endpoints: 1 }), fc.nat(), wrongValue).map(([s, n, value]) => {
    const sites = anySites(s);
    if (!sites.length) return undefined;
    const { target, site } = sites[n % sites.length];
    return { scenario: s, target, site, value };
  });
}

const benignCache = new WeakMap<Scenario, Engined>();

function engined(s: Scenario): Engined & { problems: string[] } {
  return applyEngines(synthScenario(s).objects);
}

function describe(c: InjectionCase): string {
  const v = typeof c.value === 'string' ? JSON.stringify(c.value.length > 60 ? `${c.value.slice(0, 60)}…(${c.value.length})` : c.value) : describeValue(c.value);
  const factories = c.site.steps.filter((x): x is Extract<Step, { kind: 'factory' }> => x.kind === 'factory').map((f) => ` via ${f.cls}.${f.method}()`).join('');
  return `${c.target.entry} \`${sitePath(c.site.steps)}\`${c.site.isKey ? ' (key)' : ''}${factories} = ${v}`;
}

function describeValue(v: unknown): string {
  if (typeof v === 'function') return '[function]';
  if (Array.isArray(v) && v.length > 5) return `[array of ${v.length}]`;
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 60);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Applies a case: the scenario with the value injected (the factories on the path are called again here). */
function inject(c: InjectionCase): Scenario {
  return c.target.put(replaceAt(c.target.root, c.site.steps, c.value, c.site.isKey));
}

/** Outcome of one case. */
export interface Outcome {
  readonly result: 'rejected' | 'accepted' | 'skipped' | 'factory' | 'check';
  readonly problem?: string;
}

/** A synth-time check's finding (docs/checks.md): cdk8s reports the validations' errors in one Error. */
const CHECK_FINDINGS = /^Validation failed with the following errors:(\n\s+\[[^\]]+\] error \((schedulability|capacity|tenancy|admission|data-access)\): [^\n]*)+$/;

function rejection(c: InjectionCase, e: unknown, variant?: () => Scenario): Outcome {
  // A value that is valid on its own but changes what a synth-time check finds (a quota without GPUs).
  if (e instanceof Error && !(e instanceof ValidationError) && CHECK_FINDINGS.test(e.message)) return { result: 'check' };
  if (!(e instanceof ValidationError)) {
    return { result: 'rejected', problem: `${describe(c)}: threw ${(e as Error)?.constructor?.name ?? typeof e}, not a ValidationError: ${String((e as Error)?.message ?? e).split('\n').slice(0, 2).join(' | ').slice(0, 200)}` };
  }
  // A rule across two fields names the one to change, and the other in its message (`accelerator` given, `gpus` 0;
  // a KEDA scaler while `addons.keda` is off).
  const last = [...c.site.steps].reverse().find((x): x is Extract<Step, { kind: 'prop' }> => x.kind === 'prop')?.name;
  const word = last === undefined ? undefined : new RegExp(`(^|[^A-Za-z0-9_])${last.replace(/[^A-Za-z0-9_]/g, '\\$&')}([^A-Za-z0-9_]|$)`);
  if (!e.issues.some((i) => issueNamesSite(i.path, c.site.steps) || (word !== undefined && word.test(i.message)))) {
    // A rule across fields (a default outside a changed enum, a reference to a renamed step): a benign
    // variant of the value fails the same way, so the failure is about the relation, named where it is checked.
    if (variant) {
      try {
        synthScenario(variant());
      } catch (again) {
        if (again instanceof ValidationError && again.issues.some((i) => e.issues.some((j) => j.path === i.path))) return { result: 'rejected' };
      }
    }
    return { result: 'rejected', problem: `${describe(c)}: the ValidationError names other paths: ${e.issues.map((i) => i.path).slice(0, 4).join(', ')}` };
  }
  return { result: 'rejected' };
}

/** Type paths (`<entry> <text>`) property A injected into, for the coverage report of `npm run fuzz`. */
export const REACHED = new Set<string>();

/** Property A on one case; programs are queued on `batch` (call its `flush` to get their verdicts). */
export function checkHostile(c: InjectionCase | undefined, batch: ProgramBatch): Outcome {
  if (!c) return { result: 'skipped' };
  REACHED.add(`${c.target.entry} ${c.site.text}`);
  let benign = benignCache.get(c.scenario);
  if (!benign) {
    benign = engined(c.scenario);
    benignCache.set(c.scenario, benign);
    // The benign programs are parsed too (each distinct text once): the check itself is exercised.
    for (const p of benign.programs) batch.add(p, `benign scenario (${p.where})`);
  }
  const templated = c.target.entry === 'TrainingPipeline' && ARGO_TEMPLATED.test(c.site.text);
  const sweepTemplated = c.target.entry === 'TuningSweep' && SWEEP_TEMPLATED.test(c.site.text);
  // In a templated prop the value keeps the references it had (they decide the template's inputs), the hostile text appended.
  const original = String(c.site.value);
  const hc = templated || sweepTemplated ? { ...c, value: `${original}${String(c.value)}` } : c;
  let hostile: ReturnType<typeof engined>;
  try {
    hostile = engined(inject(hc));
  } catch (e) {
    return rejection(hc, e, () => inject({ ...c, value: `${original}q` }));
  }
  // A value may name things (a step's name in an annotation key): the key renamed with it is data too.
  const rename = original !== '' ? { from: original, to: String(hc.value) } : undefined;
  let problems = [...hostile.problems, ...compareEngined(benign, hostile, templated || sweepTemplated, rename)];
  // A reference added to a templated prop (`{{item.a}}` in a step's args) adds the inputs it reads, by design:
  // there only the documents and programs must still parse.
  if ((templated || sweepTemplated) && String(c.value).includes('{{')) problems = problems.filter((p) => /no longer parses|does not parse/.test(p));
  if (problems.length && !hostile.problems.length) {
    // The original value may collide with a sibling (lists are deduplicated, keys merged): compare with
    // another benign value too, the original with a plain letter appended.
    try {
      const other = engined(inject({ ...c, value: `${original}q` }));
      const again = compareEngined(other, hostile, templated || sweepTemplated, rename && { from: `${original}q`, to: rename.to });
      if (again.length === 0) problems = [];
    } catch { /* the variant is invalid: keep the first comparison */ }
  }
  const known = new Set(benign.programs.map((p) => `${p.lang}\0${p.text}`));
  for (const p of hostile.programs) if (!known.has(`${p.lang}\0${p.text}`)) batch.add(p, `${describe(c)} (${p.where})`);
  return problems.length ? { result: 'accepted', problem: `${describe(hc)}: ${problems.slice(0, 3).join('; ')}` } : { result: 'accepted' };
}

/**
 * Property B on one case. A value class's factory (`Size.gibibytes(x)`, `ModelSource.uri(x)`) is an
 * entry point of its own, called before any construct sees the value: a bad argument must fail there
 * with a ValidationError (naming the argument: the factory cannot know the prop it is for).
 */
export function checkWrong(c: InjectionCase | undefined): Outcome {
  if (!c) return { result: 'skipped' };
  let s: Scenario;
  try {
    s = inject(c);
  } catch (e) {
    if (e instanceof ValidationError) return { result: 'factory' };
    return rejection(c, e);
  }
  try {
    synthScenario(s);
  } catch (e) {
    return rejection(c, e);
  }
  return { result: 'accepted' };
}

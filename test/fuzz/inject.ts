// Injection at derived paths: finds, in a concrete props object, the places that match a path of the
// props list derived from the declarations (prop-paths.ts), and rebuilds the object with one value
// replaced — through arrays, records, plain objects and the static factories of value classes, which
// are called again with the replaced argument (their calls are recorded while the arbitraries run).
import type { Scenario } from './arbitraries/scenario';
import { allPropPaths, PropPath, segmentsText } from './prop-paths';
import * as cdk8s from '../../src/cdk8s';
import * as core from '../../src/core';

/** One step of a concrete path. */
export type Step =
  | { readonly kind: 'prop'; readonly name: string }
  | { readonly kind: 'index'; readonly i: number }
  | { readonly kind: 'key'; readonly k: string }
  | { readonly kind: 'factory'; readonly cls: string; readonly method: string; readonly arg: number };

/** A place in a concrete props object. */
export interface Site {
  readonly entry: string;
  readonly steps: readonly Step[];
  /** The type path (matches {@link PropPath.text}). */
  readonly text: string;
  readonly value: unknown;
  /** The site is a record key (renaming it is the injection), not a value. */
  readonly isKey?: boolean;
}

interface FactoryCall { readonly cls: any; readonly method: string; readonly args: readonly unknown[] }
const calls = new WeakMap<object, FactoryCall>();
let installed = false;

/**
 * Records the calls of every static factory the derived paths go through, so a value built as
 * `Exposure.gateway({...})` can be rebuilt with one option replaced. Idempotent; call it before the
 * arbitraries build values.
 */
export function installFactoryRecorder(): void {
  if (installed) return;
  installed = true;
  const classes: Record<string, any> = { ...cdk8s, ...core };
  const wanted = new Map<string, Set<string>>();
  for (const p of allPropPaths().paths) {
    for (const s of p.segments) if (s.kind === 'factory' && s.arg >= 0) (wanted.get(s.cls) ?? wanted.set(s.cls, new Set()).get(s.cls)!).add(s.method);
  }
  for (const [name, methods] of wanted) {
    const cls = classes[name];
    if (!cls) continue; // a Pulumi-only class: the Pulumi side is not loaded here
    for (const method of methods) {
      const original = cls[method];
      if (typeof original !== 'function' || original.__recorded) continue;
      const wrapped = function (this: unknown, ...args: unknown[]) {
        const out = original.apply(cls, args);
        if (out && typeof out === 'object' && !calls.has(out)) calls.set(out, { cls, method, args });
        return out;
      };
      (wrapped as any).__recorded = true;
      cls[method] = wrapped;
    }
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Every site of `root` (props of `entry`) whose type path is one of the derived paths. */
export function sitesOf(entry: string, root: unknown, derived: ReadonlyMap<string, readonly PropPath[]> = derivedByText(entry)): Site[] {
  const out: Site[] = [];
  const walk = (v: unknown, steps: Step[], text: string): void => {
    if (steps.length && derived.has(text)) out.push({ entry, steps, text, value: v });
    if (v === null || typeof v !== 'object') return;
    const call = calls.get(v as object);
    if (call) {
      call.args.forEach((a, arg) => {
        const step: Step = { kind: 'factory', cls: call.cls.name, method: call.method, arg };
        walk(a, [...steps, step], `${text}<${call.cls.name}.${call.method}#${arg}>`);
      });
      return;
    }
    if (Array.isArray(v)) { v.forEach((x, i) => walk(x, [...steps, { kind: 'index', i }], `${text}[]`)); return; }
    if (!isPlain(v)) return;
    if (derived.has(`${text}{}`)) {
      for (const [k, x] of Object.entries(v)) {
        const keySteps: Step[] = [...steps, { kind: 'key', k }];
        out.push({ entry, steps: keySteps, text: `${text}{}`, value: k, isKey: true });
        walk(x, keySteps, `${text}{}`);
      }
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, [...steps, { kind: 'prop', name: k }], text ? `${text}.${k}` : k);
  };
  walk(root, [], '');
  return out;
}

const byTextCache = new Map<string, Map<string, PropPath[]>>();
/** The derived paths of `entry` by type path. */
export function derivedByText(entry: string): Map<string, PropPath[]> {
  let m = byTextCache.get(entry);
  if (!m) {
    m = new Map();
    for (const p of allPropPaths().paths.filter((x) => x.entry === entry)) (m.get(p.text) ?? m.set(p.text, []).get(p.text)!).push(p);
    byTextCache.set(entry, m);
  }
  return m;
}

/**
 * `root` with the value at `steps` replaced by `value` (or, for a key site, the key renamed to
 * `value`), copied along the path; factories on the path are called again (they may throw).
 */
export function replaceAt(root: unknown, steps: readonly Step[], value: unknown, renameKey = false): unknown {
  if (steps.length === 0) return value;
  const [s, ...rest] = steps;
  if (s.kind === 'factory') {
    const call = calls.get(root as object)!;
    const args = [...call.args];
    args[s.arg] = replaceAt(args[s.arg], rest, value, renameKey);
    return (call.cls[call.method] as (...a: unknown[]) => unknown)(...args);
  }
  if (s.kind === 'index') {
    const arr = [...(root as unknown[])];
    arr[s.i] = replaceAt(arr[s.i], rest, value, renameKey);
    return arr;
  }
  const obj = root as Record<string, unknown>;
  const key = s.kind === 'prop' ? s.name : s.k;
  if (s.kind === 'key' && renameKey && rest.length === 0) {
    // Keep the order of the keys, with this one renamed (a rename onto an existing key overwrites it).
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(obj)) out[k === key ? String(value) : k] = x;
    return out;
  }
  return { ...obj, [key]: replaceAt(obj[key], rest, value, renameKey) };
}

/** The user-facing path of a site (`steps[0].env.HOME`, `exposure.host`: factories are transparent). */
export function sitePath(steps: readonly Step[]): string {
  let out = '';
  for (const s of steps) {
    if (s.kind === 'prop') out += (out ? '.' : '') + s.name;
    else if (s.kind === 'index') out += `[${s.i}]`;
    else if (s.kind === 'key') out += (out ? '.' : '') + s.k;
  }
  return out;
}

/** The prop names along a site's path (no indices, keys or factories). */
function propNames(steps: readonly Step[]): string[] {
  return steps.filter((s): s is Extract<Step, { kind: 'prop' }> => s.kind === 'prop').map((s) => s.name);
}

/**
 * Whether a ValidationError issue path names the site: the site's prop names appear, in order, in
 * the issue path (which may add indices, step names, keys or an `options.` prefix), or — for an
 * error a value class's factory throws when it is called — the issue path is the tail of them.
 */
export function issueNamesSite(issuePath: string, steps: readonly Step[]): boolean {
  const tokens = issuePath.split(/[.[\]]+/).filter(Boolean);
  const names = propNames(steps);
  let i = 0;
  for (const t of tokens) if (i < names.length && t === names[i]) i++;
  if (names.length > 0 && i === names.length) return true;
  // The object holding the value (a union member that fits none, a pair of fields checked together).
  if (names.length > 1) {
    const parent = names.slice(0, -1);
    let j = 0;
    for (const t of tokens) if (j < parent.length && t === parent[j]) j++;
    if (j === parent.length && tokens[tokens.length - 1] === parent[parent.length - 1]) return true;
    // or a sibling in it, for a pair checked together (a request above its limit names the request)
    if (j === parent.length && tokens.length >= 2 && tokens[tokens.length - 2] === parent[parent.length - 1]) return true;
  }
  const words = tokens.filter((t) => !/^\d+$/.test(t));
  if (names.length === 0) return words.length <= 1; // a factory argument at the root of its prop (`model: ModelSource.uri(x)`)
  return words.length > 0 && words.length <= names.length && words.every((w, j) => w === names[names.length - words.length + j]);
}

/** One props object of a scenario, with what puts a replacement back. */
export interface Target {
  readonly entry: string;
  readonly root: unknown;
  readonly put: (root: unknown) => Scenario;
}

const at = <T>(xs: readonly T[], i: number, v: T): T[] => xs.map((x, j) => (j === i ? v : x));

/** The props objects of a scenario, by entry point of the derived list. */
export function targetsOf(s: Scenario): Target[] {
  const out: Target[] = [{ entry: 'MlPlatform', root: s.platform.props, put: (r) => ({ ...s, platform: { ...s.platform, props: r as any } }) }];
  s.platform.pools.forEach((p, i) => out.push({ entry: 'MlPlatform.addGpuPool#1', root: p.options, put: (r) => ({ ...s, platform: { ...s.platform, pools: at(s.platform.pools, i, { ...p, options: r as any }) } }) }));
  s.platform.tenants.forEach((t, i) => out.push({ entry: 'MlPlatform.addTenant#1', root: t.options, put: (r) => ({ ...s, platform: { ...s.platform, tenants: at(s.platform.tenants, i, { ...t, options: r as any }) } }) }));
  s.pipelines.forEach((p, i) => out.push({ entry: 'TrainingPipeline', root: p.props, put: (r) => ({ ...s, pipelines: at(s.pipelines, i, { ...p, props: r as any }) }) }));
  s.sweeps.forEach((w, i) => out.push({ entry: 'TuningSweep', root: w.props, put: (r) => ({ ...s, sweeps: at(s.sweeps, i, { ...w, props: r as any }) }) }));
  s.endpoints.forEach((e, i) => out.push({ entry: 'ModelEndpoint', root: e.props, put: (r) => ({ ...s, endpoints: at(s.endpoints, i, { ...e, props: r as any }) }) }));
  return out;
}

/** Derived paths of the cdk8s entry points (the scenarios build those; the Pulumi args reuse their types). */
export const CDK8S_ENTRIES = ['MlPlatform', 'MlPlatform.addGpuPool#1', 'MlPlatform.addTenant#1', 'TrainingPipeline', 'TuningSweep', 'ModelEndpoint'] as const;

/**
 * Whether a derived path is reached by a site of the scenarios: `TrainingPipeline.addStep#1`'s paths
 * through `TrainingPipeline`'s `steps[]`, a Pulumi component's through the cdk8s entry of the same name
 * (the Pulumi args extend the cdk8s props).
 */
export function coverageKey(p: PropPath): string {
  if (p.entry === 'TrainingPipeline.addStep#1') return `TrainingPipeline ${segmentsText([{ kind: 'prop', name: 'steps', optional: true }, { kind: 'index' }, ...p.segments])}`;
  if (p.entry.startsWith('pulumi.') && (CDK8S_ENTRIES as readonly string[]).includes(p.entry.slice('pulumi.'.length))) return `${p.entry.slice('pulumi.'.length)} ${p.text}`;
  return `${p.entry} ${p.text}`;
}

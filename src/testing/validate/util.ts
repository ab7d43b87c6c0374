import * as fs from 'node:fs';
import * as path from 'node:path';

/** A parsed JSON/YAML mapping. */
export type JsonObject = Record<string, unknown>;

/** A path into an object: property names and array indexes. */
export type Segments = ReadonlyArray<string | number>;

/** True for a plain mapping (not null, not an array). */
export function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` if it is a mapping, else an empty one (for reading optional nested fields). */
export function asObj(v: unknown): JsonObject {
  return isObj(v) ? v : {};
}

/** `v` if it is an array, else an empty one. */
export function asArr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Deep copy of JSON data (no Dates, functions or cycles in manifests and schemas). */
export function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v)) as T;
}

/** Splits an apiVersion into group (`''` for the core group) and version. */
export function gvOf(apiVersion: unknown): { group: string; version: string } {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const i = av.indexOf('/');
  return i < 0 ? { group: '', version: av } : { group: av.slice(0, i), version: av.slice(i + 1) };
}

/** The registry key of a kind: `apps/v1/Deployment`, `v1/Pod`. */
export function keyOf(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** Renders segments as a JSON pointer (`''` for the root). */
export function ptr(segs: Segments): string {
  return segs.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Reads a nested value; `undefined` as soon as a step is missing. */
export function get(o: unknown, segs: Segments): unknown {
  let x: unknown = o;
  for (const k of segs) {
    if (x === null || typeof x !== 'object') return undefined;
    x = (x as Record<string | number, unknown>)[k];
  }
  return x;
}

/** Copies JSON data without null/undefined mapping values: the API server treats null as absent. */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObj(v)) {
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) o[k] = dropNulls(x);
    return o;
  }
  return v;
}

/** Every file under `p` (or `p` itself) whose name ends with one of `exts`, in sorted order. */
export function walkFiles(p: string, exts: readonly string[], out: string[] = []): string[] {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) walkFiles(path.join(p, e), exts, out);
  } else if (exts.some((x) => p.endsWith(x))) {
    out.push(p);
  }
  return out;
}

/** String value of a field for messages and finding labels. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

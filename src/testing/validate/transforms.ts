import { format } from '@cfworker/json-schema';
import { clone, isObj, type JsonObject } from './util';

/** The `$id` under which the Kubernetes core definitions are registered. */
export const CORE_ID = 'https://k8s.schemas.local/core';

/**
 * Strict mode. Kubernetes OpenAPI schemas never say `additionalProperties: false`; the API server
 * rejects (strict field validation) or prunes unknown fields by itself. This adds it to every schema
 * that lists `properties` and neither allows a map (`additionalProperties`) nor says
 * `x-kubernetes-preserve-unknown-fields`. Embedded resources keep `apiVersion`, `kind` and `metadata`.
 * Mutates and returns `s`.
 */
export function strictify<T>(s: T): T {
  if (Array.isArray(s)) {
    s.forEach((x) => strictify(x));
    return s;
  }
  if (!isObj(s)) return s;
  const o: JsonObject = s;
  if (isObj(o.properties)) {
    const props = o.properties;
    for (const v of Object.values(props)) strictify(v);
    const open = o['x-kubernetes-preserve-unknown-fields'] === true || o.additionalProperties !== undefined;
    if (!open) {
      if (o['x-kubernetes-embedded-resource']) for (const k of ['apiVersion', 'kind', 'metadata']) props[k] ??= {};
      o.additionalProperties = false;
    }
  }
  if (o.items) strictify(o.items);
  if (isObj(o.additionalProperties)) strictify(o.additionalProperties);
  if (isObj(o.definitions)) for (const v of Object.values(o.definitions)) strictify(v);
  return s;
}

/**
 * Drops the `pattern`s (Go regular expressions) that JavaScript cannot compile, instead of letting
 * the validator throw on them. Mutates `s`; returns how many were dropped.
 */
export function sanitizePatterns(s: unknown): number {
  if (Array.isArray(s)) return s.reduce((n: number, x) => n + sanitizePatterns(x), 0);
  if (!isObj(s)) return 0;
  let dropped = 0;
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch {
      delete s.pattern;
      dropped++;
    }
  }
  for (const [k, v] of Object.entries(s)) if (k !== 'enum' && k !== 'default' && k !== 'example') dropped += sanitizePatterns(v);
  return dropped;
}

/** Structural-schema defaulting, as the API server does before it validates a custom resource. Mutates `data`. */
export function applyDefaults(schema: unknown, data: unknown): void {
  if (!isObj(schema)) return;
  if (isObj(data) && isObj(schema.properties)) {
    for (const [k, ps] of Object.entries(schema.properties)) {
      if (data[k] === undefined && isObj(ps) && ps.default !== undefined) data[k] = clone(ps.default);
      if (data[k] !== undefined) applyDefaults(ps, data[k]);
    }
  }
  if (isObj(data) && isObj(schema.additionalProperties)) for (const v of Object.values(data)) applyDefaults(schema.additionalProperties, v);
  if (Array.isArray(data) && isObj(schema.items)) for (const v of data) applyDefaults(schema.items, v);
}

/**
 * Swagger definitions that reference Kubernetes types by short name (Katib: `#/definitions/v1.Container`)
 * are pointed at the core definitions; a reference that resolves nowhere becomes an open object.
 * Returns a modified copy.
 */
export function linkSwagger(defs: JsonObject, core: JsonObject | undefined): JsonObject {
  const d = clone(defs);
  const fix = (s: unknown): void => {
    if (Array.isArray(s)) return s.forEach(fix);
    if (!isObj(s)) return;
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#/definitions/')) {
      const name = s.$ref.slice('#/definitions/'.length);
      if (!d[name]) {
        const m = name.match(/^v1\.(.+)$/);
        const candidates = m ? [`io.k8s.api.core.v1.${m[1]}`, `io.k8s.apimachinery.pkg.apis.meta.v1.${m[1]}`] : [];
        const hit = core && candidates.find((c) => core[c]);
        if (hit) {
          s.$ref = `${CORE_ID}#/definitions/${hit}`;
        } else {
          delete s.$ref;
          s.type = 'object';
          s['x-kubernetes-preserve-unknown-fields'] = true;
        }
      }
    }
    for (const v of Object.values(s)) fix(v);
  };
  fix(d);
  return d;
}

const KEPT_FORMATS = ['date', 'date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid'];
let formatsPatched = false;

/**
 * Makes @cfworker/json-schema's format table match kube-apiserver: keep only the formats it checks,
 * with Go-compatible rules (a Go duration, not ISO 8601; base64 that may contain newlines); every
 * other format is ignored. Done once per module instance (the table is module state).
 */
export function patchFormats(): void {
  if (formatsPatched) return;
  formatsPatched = true;
  for (const k of Object.keys(format)) if (!KEPT_FORMATS.includes(k)) delete format[k];
  format.datetime = format['date-time'];
  format.byte = (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s.replace(/[\r\n]/g, ''));
  format.duration = (s) => /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/.test(s);
  format.uri = (s) => /^[A-Za-z][A-Za-z0-9+.-]*:\S*$|^\/\S*$/.test(s);
  format.cidr = (s) => /^[0-9.]+\/\d{1,2}$|^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(s);
  format.mac = (s) => /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(s);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileKey, readCache, writeCache } from './cache';
import { asArr, isObj, keyOf, walkFiles, type JsonObject } from './util';
import { parseSchemaYaml } from './yaml';

/** The schema of one version of a custom resource. */
export interface CrdEntry {
  /** The version's `openAPIV3Schema` (an open object schema when the CRD has none). */
  readonly schema: JsonObject;
  /** The CRD file, or `(input)` for a CRD found among the validated objects. */
  readonly source: string;
  /** The folder of the CRD file (where a swagger.json for open schemas is looked for). */
  readonly dir?: string;
  /** `spec.versions[].served` of the CRD. */
  readonly served: boolean;
}

/** A swagger 2.0 file that describes kinds whose CRD schema is open (Katib). */
export interface SwaggerMatch {
  /** The swagger file. */
  readonly file: string;
  /** Its `definitions`. */
  readonly defs: JsonObject;
  /** The definition of the kind, e.g. `v1beta1.Experiment`. */
  readonly name: string;
}

interface FileIndex {
  /** kind name (any `kind: X` line) and the CRD files that mention it */
  readonly kinds: Array<[string, string[]]>;
  /** JSON files with Kubernetes definitions (x-kubernetes-group-version-kind, io.k8s.api.*) */
  readonly core: string[];
  /** other swagger 2.0 files */
  readonly swaggers: string[];
}

/** Whether a CRD schema accepts anything (no properties, x-kubernetes-preserve-unknown-fields). */
export function isOpenSchema(s: JsonObject | undefined): boolean {
  return !s || (s['x-kubernetes-preserve-unknown-fields'] === true && !isObj(s.properties));
}

/**
 * Registers the versions of a CustomResourceDefinition in `into`, by `group/version/Kind`. Among CRD
 * files the first one read wins; among CRDs of the input (source `(input)`), the last one.
 */
export function registerCrd(into: Map<string, CrdEntry>, crd: unknown, source: string, dir?: string): void {
  const spec = isObj(crd) && isObj(crd.spec) ? crd.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  const validation = isObj(spec.validation) ? spec.validation : {};
  const versions = Array.isArray(spec.versions) ? spec.versions : [{ name: spec.version }];
  for (const v of versions) {
    if (!isObj(v) || typeof v.name !== 'string' || !v.name || typeof names.kind !== 'string' || !names.kind) continue;
    const fromVersion = isObj(v.schema) && isObj(v.schema.openAPIV3Schema) ? v.schema.openAPIV3Schema : undefined;
    const schema = fromVersion ?? (isObj(validation.openAPIV3Schema) ? validation.openAPIV3Schema : undefined);
    const key = keyOf(`${String(spec.group)}/${v.name}`, names.kind);
    if (into.has(key) && source !== '(input)') continue;
    into.set(key, { schema: schema ?? { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true }, source, dir, served: v.served !== false });
  }
}

// Keep only what registerCrd reads, so that the JSON cache stays small.
function reduceCrd(o: JsonObject): JsonObject {
  const spec = isObj(o.spec) ? o.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  return {
    kind: o.kind,
    spec: {
      group: spec.group,
      names: { kind: names.kind },
      version: spec.version,
      validation: spec.validation,
      versions: asArr(spec.versions).map((v) => (isObj(v) ? { name: v.name, served: v.served, schema: v.schema } : v)),
    },
  };
}

const CRD_LINE = /^kind:\s*CustomResourceDefinition\s*$/m;
const KIND_LINE = /^\s*kind:\s*["']?([A-Za-z0-9]+)["']?\s*$/gm;

function buildIndex(files: readonly string[]): FileIndex {
  const kinds = new Map<string, string[]>();
  const index: FileIndex = { kinds: [], core: [], swaggers: [] };
  for (const f of files) {
    if (f.endsWith('.json')) {
      if (path.basename(f) === 'package.json') continue;
      let j: unknown;
      try {
        j = JSON.parse(fs.readFileSync(f, 'utf8'));
      } catch {
        continue;
      }
      if (!isObj(j) || !isObj(j.definitions)) continue;
      const defs = j.definitions;
      const hasGvk = Object.values(defs).some((d) => isObj(d) && d['x-kubernetes-group-version-kind']);
      if (hasGvk && Object.keys(defs).some((k) => k.startsWith('io.k8s.api.'))) index.core.push(f);
      else if (j.swagger) index.swaggers.push(f);
      continue;
    }
    const text = fs.readFileSync(f, 'utf8');
    if (!CRD_LINE.test(text)) continue;
    for (const m of text.matchAll(KIND_LINE)) {
      const list = kinds.get(m[1]) ?? [];
      if (!list.includes(f)) list.push(f);
      kinds.set(m[1], list);
    }
  }
  index.kinds.push(...kinds);
  return index;
}

const versionOf = (f: string): number[] => (f.match(/v(\d+)\.(\d+)\.(\d+)/) ?? ['', '0', '0', '0']).slice(1).map(Number);

/**
 * The schema files of some folders: the Kubernetes core definitions of one version (read at once,
 * 1 MB of JSON), CRD files (indexed by a cheap scan of their `kind:` lines, parsed only when one of
 * their kinds is validated, and cached as JSON on disk), and swagger files (read when needed).
 */
export class SchemaStore {
  /** The store for these folders and Kubernetes version, created once per module instance. */
  public static for(dirs: readonly string[], k8sVersion: string): SchemaStore {
    const resolved = dirs.map((d) => path.resolve(d));
    const key = JSON.stringify([resolved, k8sVersion.replace(/^v/, '')]);
    let store = STORES.get(key);
    if (!store) {
      store = new SchemaStore(resolved, k8sVersion);
      STORES.set(key, store);
    }
    return store;
  }

  /** The folders searched. */
  public readonly dirs: readonly string[];
  /** The core definitions file in use. */
  public readonly coreFile: string;
  /** Its Kubernetes version, e.g. `v1.27.0`. */
  public readonly coreVersion: string;
  /** The core `definitions` (never mutated). */
  public readonly coreDefs: JsonObject;
  private readonly coreGvk = new Map<string, string>();
  private readonly builtinGroups = new Set<string>(['extensions']);
  private readonly crds = new Map<string, CrdEntry>();
  private readonly kindIndex: Map<string, string[]>;
  private readonly pending: Set<string>;
  private readonly swaggerFiles: readonly string[];
  private readonly swaggers = new Map<string, JsonObject>();

  private constructor(dirs: readonly string[], k8sVersion: string) {
    this.dirs = dirs;
    for (const d of dirs) {
      if (!fs.existsSync(d)) throw new Error(`schema folder not found: ${d}`);
    }
    const files = dirs.flatMap((d) => walkFiles(d, ['.json', '.yaml', '.yml']));
    const key = fileKey('index', files);
    let index = readCache<FileIndex>(key);
    if (!index) {
      index = buildIndex(files);
      writeCache(key, index);
    }
    this.kindIndex = new Map(index.kinds);
    this.pending = new Set(index.kinds.flatMap(([, f]) => f));
    this.swaggerFiles = index.swaggers;
    const wanted = `v${k8sVersion.replace(/^v/, '')}`;
    const candidates = [...index.core].sort((a, b) => {
      const x = versionOf(a), y = versionOf(b);
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
    const pick = candidates.find((c) => c.includes(wanted));
    if (!pick) {
      throw new Error(`no Kubernetes definitions for version ${k8sVersion} (kubernetes/${wanted}/_definitions.json) under ${dirs.join(', ')}`);
    }
    this.coreFile = pick;
    this.coreVersion = path.basename(path.dirname(pick));
    this.coreDefs = (JSON.parse(fs.readFileSync(pick, 'utf8')) as { definitions: JsonObject }).definitions;
    for (const [name, d] of Object.entries(this.coreDefs)) {
      for (const g of asArr(isObj(d) ? d['x-kubernetes-group-version-kind'] : undefined)) {
        if (!isObj(g)) continue;
        const group = String(g.group ?? '');
        this.builtinGroups.add(group);
        this.coreGvk.set(keyOf(group ? `${group}/${String(g.version)}` : String(g.version), String(g.kind)), name);
      }
    }
  }

  /** The core definition name of a built-in kind, e.g. `io.k8s.api.apps.v1.Deployment`. */
  public coreDefinition(apiVersion: string, kind: string): string | undefined {
    return this.coreGvk.get(keyOf(apiVersion, kind));
  }

  /** Whether the API group is one of Kubernetes' own (at any version). */
  public isBuiltinGroup(group: string): boolean {
    return this.builtinGroups.has(group);
  }

  /** The CRD schema of a kind from the schema folders, parsing its file(s) on first use. */
  public crd(apiVersion: string, kind: string): CrdEntry | undefined {
    const key = keyOf(apiVersion, kind);
    if (!this.crds.has(key) && !this.coreGvk.has(key)) {
      for (const f of this.kindIndex.get(kind) ?? []) this.parseCrdFile(f);
    }
    return this.crds.get(key);
  }

  /** A swagger file beside a CRD file that defines `<version>.<kind>` (Katib's own OpenAPI). */
  public swaggerFor(dir: string, version: string, kind: string): SwaggerMatch | undefined {
    for (const file of this.swaggerFiles) {
      if (path.dirname(file) !== dir) continue;
      let defs = this.swaggers.get(file);
      if (!defs) {
        defs = (JSON.parse(fs.readFileSync(file, 'utf8')) as { definitions: JsonObject }).definitions;
        this.swaggers.set(file, defs);
      }
      const name = [`${version}.${kind}`, `.${version}.${kind}`].find((n) => defs[n]);
      if (name) return { file, defs, name };
    }
    return undefined;
  }

  // Parsing YAML is the slow part (~0.5 s per MB), so the CRDs of a file are cached as JSON.
  private parseCrdFile(f: string): void {
    if (!this.pending.delete(f)) return;
    const key = fileKey('crd', [f]);
    let crds = readCache<JsonObject[]>(key);
    if (!Array.isArray(crds)) {
      crds = parseSchemaYaml(fs.readFileSync(f, 'utf8'))
        .filter((o): o is JsonObject => isObj(o) && o.kind === 'CustomResourceDefinition')
        .map(reduceCrd);
      writeCache(key, crds);
    }
    for (const o of crds) registerCrd(this.crds, o, f, path.dirname(f));
  }
}

const STORES = new Map<string, SchemaStore>();

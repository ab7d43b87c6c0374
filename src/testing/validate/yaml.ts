import { loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import type { DocumentOptions, ParseOptions, ScalarTag, SchemaOptions, Tags } from 'yaml';
import type { Finding } from './types';

/** Options of the `yaml` package for reading manifests. */
export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

// A YAML 1.1 float needs a digit somewhere: "." and "._" stay strings, as in go-yaml.
const FLOAT_WITH_DIGIT = /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;
const FLOAT_TAG = 'tag:yaml.org,2002:float';
const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

/**
 * YAML 1.1 scalars, as kubectl (go-yaml v2) resolves them and cdk8s writes them: yes/no/on/off/y/n
 * are booleans and 0755 is octal; unlike the YAML 1.1 spec, "." stays a string, 1:30 is not
 * sexagesimal and dates are not timestamps.
 */
export const YAML_OPTIONS: YamlOptions = {
  version: '1.1',
  customTags: (tags: Tags): Tags => tags
    .filter((t) => typeof t === 'string' || (t.format !== 'TIME' && t.tag !== TIMESTAMP_TAG))
    .map((t) => {
      if (typeof t === 'string' || t.tag !== FLOAT_TAG || t.format || !('test' in t) || !t.test) return t;
      return String(t.test).includes('\\.[0-9_]*$') ? { ...(t as ScalarTag), test: FLOAT_WITH_DIGIT } : t;
    }),
};

/** Parsed documents of a multi-document YAML text, with a finding for every document that failed. */
export interface ParsedYaml {
  /** One entry per document: the data, or `null` for an empty or unparsable document. */
  readonly objects: unknown[];
  /** Syntax errors (duplicate keys included), source `parse`. */
  readonly errors: Finding[];
}

/** Parses manifests: YAML 1.1 scalars, unique keys, at most 100 alias expansions per document. */
export function parseManifests(text: string, file = ''): ParsedYaml {
  const objects: unknown[] = [];
  const errors: Finding[] = [];
  parseAllDocuments(text, { ...YAML_OPTIONS, uniqueKeys: true }).forEach((d, doc) => {
    for (const e of d.errors) {
      errors.push({ file, doc, kind: '?', name: '?', path: '', message: `YAML: ${e.message.split('\n')[0]}`, source: 'parse' });
    }
    objects.push(d.errors.length ? null : d.toJS({ maxAliasCount: 100 }));
  });
  return { objects, errors };
}

/**
 * Parses every document of a schema file (CRDs), with no limit on aliases. This is the slow step of a
 * cold start (~0.6 s per MB); results are cached on disk (see cache.ts). js-yaml 4 parses the same
 * files about 10x faster with identical results (checked on all of shared/crds), if it becomes a
 * devDependency.
 */
export function parseSchemaYaml(text: string): unknown[] {
  // Upstream schema files hold no YAML 1.1-only scalars that matter; js-yaml parses the 14 MB of CRDs
  // about 9× faster than \`yaml\` (1.7 s instead of 15 s) with identical results on every shared file.
  return loadAll(text).filter((d) => d !== null && d !== undefined);
}

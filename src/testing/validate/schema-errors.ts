import type { OutputUnit, Schema } from '@cfworker/json-schema';

/** A schema error in the validator's words. */
export interface SchemaError {
  /** JSON pointer into the validated object (`''` for the root). */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

type Lookup = Record<string, Schema | boolean>;

// The pattern that Kubernetes' Quantity schemas start with.
const QUANTITY_PATTERN_START = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))';

// Keywords whose own error only says "a subschema had errors": the leaf errors follow it.
const CONTAINER_KEYWORDS = new Set(['properties', 'items', 'false', '$ref', 'allOf', 'prefixItems']);

/** cfworker's locations are `#` + a URI-encoded JSON pointer; this returns the plain pointer. */
export function decodeLocation(loc: string): string {
  return decodeURIComponent(loc.replace(/^#/, ''));
}

function unescapeSegment(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

// The schema at a keywordLocation, following $ref through the lookup.
function schemaAt(root: Schema, loc: string, lookup: Lookup): unknown {
  let s: unknown = root;
  for (const seg of decodeLocation(loc).split('/').filter(Boolean).map(unescapeSegment)) {
    if (s === null || typeof s !== 'object') return undefined;
    const o = s as Schema;
    s = seg === '$ref' ? lookup[o.__absolute_ref__ ?? o.$ref ?? ''] : o[seg];
    if (s === undefined) return undefined;
  }
  return s;
}

/**
 * Turns @cfworker/json-schema's output (every level of the path, branch noise of anyOf/oneOf) into one
 * error per problem: unknown fields, missing required fields, wrong types, patterns (quantities
 * named as such), enums and limits.
 */
export function schemaErrors(errors: readonly OutputUnit[], root: Schema, lookup: Lookup): SchemaError[] {
  const out: SchemaError[] = [];
  const branchy = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.keywordLocation);
  for (const e of errors) {
    if (CONTAINER_KEYWORDS.has(e.keyword)) continue;
    if (branchy.some((b) => e.keywordLocation.startsWith(b + '/'))) continue;
    const p = decodeLocation(e.instanceLocation);
    if (e.keyword === 'additionalProperties') {
      // reported both for unknown fields (child error keyword "false") and for bad map values (reported by the child itself)
      const m = e.error.match(/^Property "(.*)" does not match additional properties schema/);
      const depth = e.instanceLocation.split('/').length + 1;
      const child = m && errors.find((c) => c.keyword === 'false'
        && c.instanceLocation.startsWith(e.instanceLocation + '/')
        && c.instanceLocation.split('/').length === depth
        && unescapeSegment(decodeURIComponent(c.instanceLocation.split('/').pop() ?? '')) === m[1]);
      if (m && child) out.push({ path: p, message: `unknown field "${m[1]}"` });
      continue;
    }
    if (e.keyword === 'required') {
      const m = e.error.match(/required property "(.*)"/);
      out.push({ path: p, message: `missing required field "${m ? m[1] : '?'}"` });
      continue;
    }
    if (e.keyword === 'type') {
      const m = e.error.match(/Expected "(.*)"/);
      out.push({ path: p, message: `must be ${m ? m[1] : 'of another type'}` });
      continue;
    }
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      out.push({ path: p, message: 'does not match any allowed form (e.g. must be an integer or a string)' });
      continue;
    }
    if (e.keyword === 'pattern') {
      const pat = schemaAt(root, e.keywordLocation, lookup);
      let message: string;
      if (typeof pat !== 'string') message = 'value does not match the required pattern';
      else if (pat.startsWith(QUANTITY_PATTERN_START)) message = 'invalid quantity (e.g. 500m, 2, 1.5Gi, 512Mi)';
      else message = `value does not match pattern ${pat.length > 80 ? pat.slice(0, 77) + '...' : pat}`;
      out.push({ path: p, message });
      continue;
    }
    out.push({ path: p, message: e.error.replace(/^Instance /, 'value ').replace(/^String /, 'value ') });
  }
  return out;
}

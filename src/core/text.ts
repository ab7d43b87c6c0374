/**
 * Characters no string prop may hold, whatever it is for: NUL (the shell and every C program end a
 * string there, so what runs is not what was declared) and the characters YAML 1.1 readers take for
 * line breaks (U+0085, U+2028, U+2029: PyYAML and go-yaml v2 read them so; cdk8s's YAML writer
 * leaves U+2028 and U+2029 raw in plain scalars, which breaks the synthesized document for them).
 */
const FORBIDDEN = /[\u0000\u0085\u2028\u2029]/;

function problem(s: string): string | undefined {
  const m = FORBIDDEN.exec(s);
  if (!m) return undefined;
  if (m[0] === '\u0000') return 'holds a NUL character, which the shell and C programs end the text at; remove it';
  const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `holds ${code}, which YAML 1.1 readers (PyYAML, go-yaml v2) take for a line break in the synthesized manifests; use "\\n" or remove it`;
}

/**
 * Records an issue for every string in `value` (plain objects and arrays, walked; class instances
 * other than plain data — constructs, quantities — skipped) that holds NUL, U+0085, U+2028 or U+2029.
 * Paths are `prefix.key[i]…`, the way the user wrote the prop.
 */
export function checkText(issues: { add(path: string, value: unknown, message: string): unknown }, prefix: string, value: unknown): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string, depth: number) => {
    if (typeof v === 'string') {
      const why = problem(v);
      if (why) issues.add(path, v, why);
      return;
    }
    if (v === null || typeof v !== 'object' || depth > 12 || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return;
    for (const [k, x] of Object.entries(v)) {
      const keyWhy = problem(k);
      const at = path ? `${path}.${k}` : k;
      if (keyWhy) issues.add(at, k, keyWhy);
      walk(x, at, depth + 1);
    }
  };
  walk(value, prefix, 0);
}

/**
 * What Argo Workflows v4.0.7 does to a resource template's manifest text when a step runs, for the
 * tags mlplatform writes there, so fast tests can read the object Argo creates:
 * - a simple tag `{{name}}` is replaced by the variable's value, JSON-escaped for the template's JSON
 *   (util/template/simple_template.go `simpleReplaceStrict`: `strconv.Quote` without its quotes), so
 *   at the manifest's own level the raw value lands in the text;
 * - an expression tag `{{=…}}` is evaluated and its result JSON-marshaled without the outer quotes
 *   (util/template/expression_template.go `expressionReplaceCore`): `toJson(x)` (util/expr/env/env.go
 *   `toJSON`, `json.Marshal`) therefore lands as a JSON string literal, quotes included.
 * Only the expression mlplatform writes (`sprig.replace('\\u0085', '\\\\u0085', toJson(sprig.replace('$', '$$', string(inputs.parameters['x']))))`,
 * src/cdk8s/private/pipeline-multinode.ts) is evaluated here; anything else throws. The real code runs
 * in test/engine/argo-manifest.test.ts (the Go tool in test/engine/argo-substitute).
 */
import { expand, mappingFuncFor } from '../cluster/kubelet/expansion';

const VALUE_EXPRESSION = /^=sprig\.replace\('\\u0085', '\\\\u0085', toJson\(sprig\.replace\('\$', '\$\$', string\(inputs\.parameters\['([-A-Za-z0-9_]+)'\]\)\)\)\)$/;

/** `manifest` with Argo's substitutions made from `values` (keys as Argo names them: `workflow.name`, `inputs.parameters.x`). */
export function argoSubstitute(manifest: string, values: Record<string, string>): string {
  return manifest.replace(/\{\{(.*?)\}\}/g, (whole, tag: string) => {
    const inner = tag.trim();
    const m = VALUE_EXPRESSION.exec(inner);
    if (m) {
      const v = values[`inputs.parameters.${m[1]}`];
      if (v === undefined) throw new Error(`no value for inputs.parameters.${m[1]}`);
      return JSON.stringify(v.replace(/\$/g, '$$$$')).replace(/\u0085/g, '\\u0085');
    }
    if (inner.startsWith('=')) throw new Error(`argoSubstitute does not evaluate ${whole}`);
    if (!(inner in values)) throw new Error(`no value for ${whole}`);
    return values[inner];
  });
}

/** A container's env as the kubelet resolves it (in order, `$(VAR)` over earlier entries; `valueFrom` from `downward`), then its command and args expanded. */
export function resolveContainer(
  c: { command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: unknown }[] },
  downward: Record<string, string> = {},
): { env: Record<string, string>; argv: string[] } {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.valueFrom !== undefined) env[e.name] = downward[e.name] ?? `<${e.name} from valueFrom>`;
    else env[e.name] = expand(e.value ?? '', mappingFuncFor(env));
  }
  const m = mappingFuncFor(env);
  return { env, argv: [...(c.command ?? []), ...(c.args ?? [])].map((t) => expand(t, m)) };
}

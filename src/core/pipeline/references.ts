/**
 * The `{{…}}` references a pipeline step may write into its command, args, env and `when`, how they
 * are checked, and how they are rewritten into the step template's own inputs (Argo only lets a
 * container template read `{{inputs.parameters.*}}`, never another task's outputs).
 */

/** Pipeline parameter, step output and output names: an identifier (Argo parameter names allow no dots). */
export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/** One `{{…}}` reference found in a string. */
export type Reference =
  /** `{{workflow.parameters.<name>}}`: a pipeline parameter. */
  | { readonly kind: 'parameter'; readonly text: string; readonly name: string }
  /** `{{tasks.<step>.outputs.parameters.<output>}}`: an output parameter of an earlier step. */
  | { readonly kind: 'output'; readonly text: string; readonly step: string; readonly output: string }
  /** `{{item}}` or `{{item.<field>}}`: the current item of a fan-out. */
  | { readonly kind: 'item'; readonly text: string; readonly field?: string }
  /** A run-level variable Argo resolves anywhere (`{{workflow.name}}`, `{{pod.name}}`, an `{{=…}}` expression). */
  | { readonly kind: 'global'; readonly text: string }
  /** Anything else: an error. */
  | { readonly kind: 'unknown'; readonly text: string };

const TAG = /\{\{\s*([^{}]*?)\s*\}\}/g;
const GLOBALS = /^(workflow\.(name|namespace|uid|serviceAccountName|duration|status|priority|mainEntrypoint|scheduledTime|creationTimestamp(\.[A-Za-z]+)?|(labels|annotations)\.[-A-Za-z0-9_./]+)|pod\.name|retries|node\.name)$/;

/** Every `{{…}}` reference in `text`, classified. */
export function findReferences(text: string): Reference[] {
  const out: Reference[] = [];
  // Most texts have no reference: skip the regex iterator (a copy of TAG per call).
  if (!text.includes('{{')) return out;
  for (const m of text.matchAll(TAG)) {
    const inner = m[1];
    const whole = m[0];
    let r: RegExpExecArray | null;
    if ((r = /^workflow\.parameters\.([^.\s]+)$/.exec(inner))) {
      out.push({ kind: 'parameter', text: whole, name: r[1] });
    } else if ((r = /^tasks\.([^.\s]+)\.outputs\.parameters\.([^.\s]+)$/.exec(inner))) {
      out.push({ kind: 'output', text: whole, step: r[1], output: r[2] });
    } else if ((r = /^item(?:\.([A-Za-z][A-Za-z0-9_]*))?$/.exec(inner))) {
      out.push(r[1] ? { kind: 'item', text: whole, field: r[1] } : { kind: 'item', text: whole });
    } else if (inner.startsWith('=') || GLOBALS.test(inner)) {
      out.push({ kind: 'global', text: whole });
    } else {
      out.push({ kind: 'unknown', text: whole });
    }
  }
  return out;
}

/**
 * The name of the step-template input that carries a reference: the parameter's own name, `item`,
 * `item-<field>`, or `from-<step>-<output>`. Parameter names have no `-`, so these never collide.
 */
export function inputName(r: Reference): string | undefined {
  switch (r.kind) {
    case 'parameter': return r.name;
    case 'output': return `from-${r.step}-${r.output}`;
    case 'item': return r.field ? `item-${r.field}` : 'item';
    default: return undefined;
  }
}

/** What the DAG task passes for that input (the reference, in DAG scope). */
export function argumentValue(r: Reference): string | undefined {
  switch (r.kind) {
    case 'parameter': return `{{workflow.parameters.${r.name}}}`;
    case 'output': return `{{tasks.${r.step}.outputs.parameters.${r.output}}}`;
    case 'item': return r.field ? `{{item.${r.field}}}` : '{{item}}';
    default: return undefined;
  }
}

/** `text` with every parameter, output and item reference replaced by its template input. */
export function rewriteReferences(text: string): string {
  return text.replace(TAG, (whole) => {
    const [r] = findReferences(whole);
    const name = r ? inputName(r) : undefined;
    return name ? `{{inputs.parameters.${name}}}` : whole;
  });
}

/**
 * Records an issue when `value` holds `{{` or `}}`: the prop is not templated, but Argo substitutes
 * over the whole template (util/template: every `{{…}}` of the template's JSON), so a tag there
 * would be resolved — or make the template unsubmittable — when a run starts.
 */
export function checkNotTemplated(issues: { add(path: string, value: unknown, message: string): unknown }, path: string, value: unknown): boolean {
  if (typeof value !== 'string' || !(value.includes('{{') || value.includes('}}'))) return true;
  issues.add(path, value, 'must not contain `{{` or `}}`: this prop takes no Argo expressions, and Argo would substitute the tag when a run starts; write the literal value');
  return false;
}

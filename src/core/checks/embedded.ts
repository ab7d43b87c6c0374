import { loadAll } from 'js-yaml';

/** Stands for an Argo expression (`{{workflow.name}}`, `{{inputs.parameters.x}}`) in an embedded manifest: a DNS-1123 label. */
export const ARGO_PLACEHOLDER = 'argo-expression';

/** One object an Argo `resource` template creates, parsed from its `manifest` string. */
export interface EmbeddedManifest {
  /** Index of the template in `spec.templates` (or `spec.workflowSpec.templates` of a CronWorkflow). */
  readonly template: number;
  /** Template name. */
  readonly templateName: string;
  /** JSON pointer of the manifest string in the outer object, e.g. `/spec/templates/3/resource/manifest`. */
  readonly pointer: string;
  /** The object, with every `{{…}}` replaced by {@link ARGO_PLACEHOLDER} (and a `generateName` completed to a `name`), or undefined when the text does not parse. */
  readonly object?: Record<string, unknown>;
  /** Why the text does not parse. */
  readonly error?: string;
}

const WORKFLOW_KINDS = new Set(['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow']);

/** Parses a manifest text into its documents; throws on a syntax error. */
export type ManifestParser = (text: string) => unknown[];

/** js-yaml: several times faster than the `yaml` package on the Jobs the renderers write, which matters at synth time. */
const JS_YAML: ManifestParser = (text) => loadAll(text);

/**
 * The objects of the Argo `resource` templates of `obj` (a Workflow, WorkflowTemplate,
 * ClusterWorkflowTemplate or CronWorkflow), parsed as Argo's executor does before it creates them:
 * the template's `{{…}}` expressions substituted (here by a placeholder, since their values are
 * known only at run time) and the text read as YAML. A manifest without `metadata.name` gets
 * `generateName` + `x` as its name, as the API server would generate one. Objects of other kinds
 * have none. With `containing`, only manifests whose text contains it are parsed; `parse` reads the
 * text (js-yaml by default).
 */
export function embeddedManifests(obj: unknown, containing?: string, parse: ManifestParser = JS_YAML): EmbeddedManifest[] {
  if (!obj || typeof obj !== 'object' || !WORKFLOW_KINDS.has(String((obj as { kind?: unknown }).kind))) return [];
  const spec = (obj as { spec?: Record<string, any> }).spec ?? {};
  const cron = (obj as { kind: string }).kind === 'CronWorkflow';
  const templates: unknown = cron ? spec.workflowSpec?.templates : spec.templates;
  if (!Array.isArray(templates)) return [];
  const out: EmbeddedManifest[] = [];
  templates.forEach((t, i) => {
    const manifest = t?.resource?.manifest;
    if (typeof manifest !== 'string' || (containing !== undefined && !manifest.includes(containing))) return;
    const pointer = `${cron ? '/spec/workflowSpec' : '/spec'}/templates/${i}/resource/manifest`;
    const base = { template: i, templateName: String(t.name ?? i), pointer };
    let docs: unknown[];
    try {
      docs = parse(manifest.replace(/\{\{[^}]*\}\}/g, ARGO_PLACEHOLDER));
    } catch (e) {
      out.push(Object.assign({}, base, { error: String((e as Error).message ?? e).split('\n')[0].trim() }));
      return;
    }
    for (const doc of docs) {
      const o = doc as any;
      if (o === null || o === undefined) continue;
      if (typeof o !== 'object' || Array.isArray(o)) {
        out.push(Object.assign({}, base, { error: 'is not a Kubernetes object' }));
        continue;
      }
      const md = (o.metadata ?? {}) as Record<string, unknown>;
      if (md.name === undefined && typeof md.generateName === 'string') o.metadata = Object.assign({}, md, { name: `${md.generateName}x` });
      out.push(Object.assign({}, base, { object: o }));
    }
  });
  return out;
}

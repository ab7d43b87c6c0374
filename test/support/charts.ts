import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * The folder of the pinned charts' default values (layout of `shared/charts`: `<chart>/values.yaml`,
 * Envoy Gateway's `values.tmpl.yaml`, cert-manager's `values.schema.json`): `$MLPLATFORM_CHARTS_DIR`
 * if set; else the `charts` sibling of `$MLPLATFORM_SCHEMAS_DIR`; else the first `shared/charts`
 * found walking up from this file.
 * @throws an Error that says how to fix it, when none is found (the values-key tests never skip)
 */
export function chartsDir(): string {
  const env = process.env.MLPLATFORM_CHARTS_DIR;
  if (env) {
    if (fs.existsSync(path.join(env, 'argo-workflows', 'values.yaml'))) return path.resolve(env);
    throw new Error(`MLPLATFORM_CHARTS_DIR=${env} has no argo-workflows/values.yaml: point it at a copy of shared/charts.`);
  }
  const candidates: string[] = [];
  if (process.env.MLPLATFORM_SCHEMAS_DIR) candidates.push(path.resolve(process.env.MLPLATFORM_SCHEMAS_DIR, '..', 'charts'));
  for (let d = __dirname; ; d = path.dirname(d)) {
    candidates.push(path.join(d, 'shared', 'charts'));
    if (path.dirname(d) === d) break;
  }
  const found = candidates.find((c) => fs.existsSync(path.join(c, 'argo-workflows', 'values.yaml')));
  if (found) return found;
  throw new Error([
    'The pinned charts\' default values (shared/charts/<chart>/values.yaml) were not found; the values-key tests never skip.',
    `Tried: ${candidates.slice(0, 4).join(', ')}${candidates.length > 4 ? ', …' : ''}.`,
    'Check out shared/ beside the repository, or set MLPLATFORM_CHARTS_DIR (or MLPLATFORM_SCHEMAS_DIR, whose sibling is charts/).',
  ].join('\n'));
}

/** The default values file of `chart` (a folder of shared/charts, e.g. `argo-workflows`), as text. */
export function chartValuesText(chart: string): string {
  const dir = path.join(chartsDir(), chart);
  const tmpl = path.join(dir, 'values.tmpl.yaml');
  const file = fs.existsSync(tmpl) ? tmpl : path.join(dir, 'values.yaml');
  if (!fs.existsSync(file)) throw new Error(`${dir} has no values.yaml (nor values.tmpl.yaml): is ${chart} a pinned chart?`);
  return fs.readFileSync(file, 'utf8');
}

/** The default values of `chart`, parsed (an empty file gives `{}`). */
export function chartDefaults(chart: string): Record<string, unknown> {
  return (parse(chartValuesText(chart)) ?? {}) as Record<string, unknown>;
}

/** The `values.schema.json` of `chart`. @throws when the chart ships none */
export function chartValuesSchema(chart: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(chartsDir(), chart, 'values.schema.json'), 'utf8'));
}

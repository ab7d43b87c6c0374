/**
 * What an installed add-on chart runs with: the chart's default values (../shared/charts/<chart>,
 * the pinned chart's own values.yaml) with the values the platform's add-on object carries merged
 * over them, the way Helm merges them. Kueue's and Argo's configurations are derived from this.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';

/** A file of the pinned chart's copy in ../shared/charts/<dir>. */
export function chartFile(dir: string, file: string): any {
  return parse(readFileSync(join(__dirname, '..', '..', '..', 'shared', 'charts', dir, file), 'utf8'));
}

/** Helm's merge of user values over chart defaults: objects merge key by key, anything else replaces. */
export function helmMerge(base: any, over: any): any {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: any = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = v === null ? undefined : helmMerge(base[k], v);
    return out;
  }
  return over;
}

/** The values of the add-on object for `chart` among `objects` (Argo CD Application or Flux HelmRelease). */
export function addonValues(objects: readonly any[], chart: string): Record<string, unknown> {
  for (const o of objects) {
    // An OCI chart is the repository URL's last element (Argo CD's `path: .` form), a Helm repository's is `chart`.
    const src = o.spec?.source;
    if (o.kind === 'Application' && (src?.chart === chart || (src?.repoURL ?? '').replace(/^oci:\/\//, '').endsWith(`/${chart}`))) {
      const h = src.helm ?? {};
      return h.valuesObject ?? (h.values ? parse(h.values) : {});
    }
    if (o.kind === 'HelmRelease' && o.spec?.chart?.spec?.chart === chart) return o.spec.values ?? {};
  }
  throw new Error(`no Argo CD Application or Flux HelmRelease installs the chart ${chart}`);
}

/** The values the chart `chart` (in ../shared/charts/`dir`) installs with, for the platform's `objects`. */
export function installedValues(objects: readonly any[], chart: string, dir = chart): any {
  return helmMerge(chartFile(dir, 'values.yaml'), addonValues(objects, chart));
}

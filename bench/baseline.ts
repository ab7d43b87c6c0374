// The hand-written baseline: the same Kubernetes objects declared directly with cdk8s `ApiObject`
// literals, as a user without mlplatform writes them (no validation, no resolution, no checks).
import { ApiObject, Chart } from 'cdk8s';

/** One object as a user writes it: apiVersion, kind, metadata and the rest of the manifest. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; [k: string]: unknown };

/**
 * Declares `manifests` in `chart`, one `ApiObject` each (ids from kind, namespace and name, as a
 * user would name them). The manifests are the literal objects the user would have written: the
 * benchmark takes them from mlplatform's output for the same platform, so both sides emit
 * byte-identical YAML and the ratio measures only what mlplatform adds.
 */
export function declareHandWritten(chart: Chart, manifests: readonly Manifest[]): ApiObject[] {
  const seen = new Map<string, number>();
  return manifests.map((m) => {
    const base = `${m.kind}-${m.metadata.namespace ?? ''}-${m.metadata.name ?? ''}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const { apiVersion, kind, metadata, ...rest } = m;
    return new ApiObject(chart, n ? `${base}-${n}` : base, { apiVersion, kind, metadata: { ...metadata }, ...rest });
  });
}

import { CheckFinding, StoreAccess, storePathWithin, storeUri, WorkloadDataAccess } from './types';

/**
 * Data access: every object-store prefix a workload reads with the platform's store access was
 * written by a pipeline step of the app or granted to it with a `grant*` verb; and the read scopes
 * its ServiceAccount carries (which the AWS side turns into the IAM policy) are exactly its reads —
 * none missing, none extra. Errors.
 */
export function checkDataAccess(workloads: readonly WorkloadDataAccess[]): CheckFinding[] {
  const out: CheckFinding[] = [];
  const writes = workloads.flatMap((w) => w.writes.map((a) => ({ ...a, by: w.workload, namespace: w.namespace })));
  for (const w of workloads) {
    // One finding per prefix, naming every place that reads it.
    const byUri = new Map<string, StoreAccess[]>();
    for (const r of w.reads) if (!r.ownCredentials) byUri.set(storeUri(r.path), [...(byUri.get(storeUri(r.path)) ?? []), r]);
    for (const [, same] of byUri) {
      const r = { ...same[0], origin: same.map((x) => x.origin).join(', ') };
      const written = writes.some((x) => x.namespace === w.namespace && storePathWithin(r.path, x.path));
      const granted = w.grants.some((g) => storePathWithin(r.path, g.path));
      if (written || granted) continue;
      const elsewhere = writes.filter((x) => storePathWithin(r.path, x.path)).map((x) => x.by);
      out.push({
        check: 'data-access',
        severity: 'error',
        workload: w.workload,
        message: `${w.workload} reads ${storeUri(r.path)} (${r.origin}), which ${elsewhere.length
          ? `only ${elsewhere.join(', ')} of another namespace writes, and which is not granted to it`
          : 'no pipeline step of its namespace writes and nothing grants it'}`,
        fix: `grant it: \`<pipeline>.artifacts.grantRead(<workload>)\` for the outputs of a pipeline, or \`StoreLocation.fromUri('${storeUri(r.path)}').grantRead(<workload>)\` (\`platform.storeLocation(prefix)\` below the platform's store) for data put there by other means`,
      });
    }
    if (!w.identity) continue;
    const want = [...new Set(w.reads.map((r) => storeUri(r.path)))].sort();
    const have = [...new Set(w.identity.readScopes)].sort();
    const missing = want.filter((u) => !have.includes(u));
    const extra = have.filter((u) => !want.includes(u));
    if (missing.length > 0 || extra.length > 0) {
      out.push({
        check: 'data-access',
        severity: 'error',
        workload: w.workload,
        message: `ServiceAccount "${w.identity.serviceAccount}" of ${w.workload} carries read scopes [${have.join(', ')}] but the workload reads [${want.join(', ')}]` +
          `${missing.length ? `: missing ${missing.join(', ')}` : ''}${extra.length ? `${missing.length ? ';' : ':'} not read ${extra.join(', ')}` : ''}`,
        fix: 'do not edit the read-scope annotation by hand (escape hatches, patches): read data through props and grant it with a `grant*` verb',
      });
    }
  }
  return out;
}

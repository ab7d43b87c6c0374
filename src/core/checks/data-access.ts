import { CheckFinding, StoreAccess, StorePath, storePathWithin, storeUri, WorkloadDataAccess } from './types';

/** One write of a workload, in the order the workloads were given. */
interface IndexedWrite {
  readonly path: StorePath;
  readonly by: string;
  readonly namespace: string;
  readonly seq: number;
}

/**
 * Every write of a set of workloads, indexed by bucket and prefix, so that finding the writes that
 * hold a read costs the depth of the read's prefix rather than the number of writes.
 */
export class StoreWrites {
  /** The writes of `workloads` (their reads, grants and identities are ignored). */
  public static of(workloads: readonly Pick<WorkloadDataAccess, 'workload' | 'namespace' | 'writes'>[]): StoreWrites {
    const index = new StoreWrites();
    for (const w of workloads) for (const a of w.writes) index.add(a, w.workload, w.namespace);
    return index;
  }

  /** Writes whose prefix is '' or ends with `/`, by `bucket NUL prefix`. */
  private readonly byPath = new Map<string, IndexedWrite[]>();
  /** Writes with a prefix not ending with `/` (none from the constructs; matched one by one). */
  private readonly irregular: IndexedWrite[] = [];
  private seq = 0;

  private constructor() {}

  private add(a: StoreAccess, by: string, namespace: string): void {
    const w = { path: a.path, by, namespace, seq: this.seq++ };
    if (a.path.prefix !== '' && !a.path.prefix.endsWith('/')) {
      this.irregular.push(w);
      return;
    }
    const key = `${a.path.bucket}\u0000${a.path.prefix}`;
    const same = this.byPath.get(key);
    if (same) same.push(w);
    else this.byPath.set(key, [w]);
  }

  /** The writes whose prefix holds `path` (`storePathWithin(path, write)`), in the order they were given. */
  public holding(path: StorePath): readonly IndexedWrite[] {
    const out: IndexedWrite[] = [];
    const at = (prefix: string) => {
      const ws = this.byPath.get(`${path.bucket}\u0000${prefix}`);
      if (ws) out.push(...ws);
    };
    // A prefix ending with `/` (or '') holds `path` exactly when it is '' or `path`'s prefix cut after one of its `/`.
    at('');
    for (let i = path.prefix.indexOf('/'); i >= 0; i = path.prefix.indexOf('/', i + 1)) at(path.prefix.slice(0, i + 1));
    for (const w of this.irregular) if (storePathWithin(path, w.path)) out.push(w);
    return out.length > 1 ? out.sort((a, b) => a.seq - b.seq) : out;
  }
}

/**
 * Data access: every object-store prefix a workload reads with the platform's store access was
 * written by a pipeline step of the app or granted to it with a `grant*` verb; and the read scopes
 * its ServiceAccount carries (which the AWS side turns into the IAM policy) are exactly its reads —
 * none missing, none extra. Errors.
 */
export function checkDataAccess(workloads: readonly WorkloadDataAccess[]): CheckFinding[] {
  return checkReads(workloads, StoreWrites.of(workloads));
}

/**
 * The data-access findings of `workloads`' reads and identities, against `writes`: the writes of
 * every workload of the app (built once per synthesis with {@link StoreWrites.of}).
 */
export function checkReads(workloads: readonly WorkloadDataAccess[], writes: StoreWrites): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const w of workloads) {
    // One finding per prefix, naming every place that reads it.
    const byUri = new Map<string, StoreAccess[]>();
    for (const r of w.reads) {
      if (r.ownCredentials || r.registry !== undefined) continue;
      const uri = storeUri(r.path);
      const same = byUri.get(uri);
      if (same) same.push(r);
      else byUri.set(uri, [r]);
    }
    for (const [, same] of byUri) {
      const r = Object.assign({}, same[0], { origin: same.map((x) => x.origin).join(', ') });
      const holding = writes.holding(r.path);
      const written = holding.some((x) => x.namespace === w.namespace);
      const granted = w.grants.some((g) => storePathWithin(r.path, g.path));
      if (written || granted) continue;
      const elsewhere = holding.map((x) => x.by);
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
    const wanted = new Set(want);
    const had = new Set(have);
    const missing = want.filter((u) => !had.has(u));
    const extra = have.filter((u) => !wanted.has(u));
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

/**
 * Starts a synthesized platform's shared services on the kubelet harness, from the synthesized
 * objects only: the credentials bootstrap Job (against the Secrets API, with a projected
 * service-account token), the embedded PostgreSQL and SeaweedFS StatefulSets and the MLflow
 * tracking Deployment — all at once, as a cluster would start them: pods whose Secrets do not exist
 * yet wait (FailedMount / CreateContainerConfigError) until the bootstrap writes them.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SecretsApi } from './secrets-api';
import { findEngines } from '../kubelet/engines';
import { Kubelet, RunningPod } from '../kubelet/kubelet';
import { KubeObject, MemorySource, secretData } from '../kubelet/source';

/** The platform's pods on the harness. */
export interface StartedPlatform {
  readonly source: MemorySource;
  readonly api: SecretsApi;
  readonly kubelet: Kubelet;
  readonly pods: { readonly bootstrap: RunningPod; readonly postgres: RunningPod; readonly store: RunningPod; readonly tracking: RunningPod };
  /** A Secret's data as strings (undefined when it does not exist). */
  secret(namespace: string, name: string): Record<string, string> | undefined;
  /**
   * Runs the tier's Python (MLflow's client) on the host with `env`; returns the last line of stdout
   * (the programs print their JSON last; MLflow prints run links before it), fails with stderr.
   */
  python(args: string[], env: Record<string, string>, timeoutMs?: number): string;
  stop(): Promise<void>;
}

/** Finds the one object of `kind` whose name is `name` (or starts with `prefix-` for the bootstrap Job's hashed name). */
export function one(objects: readonly KubeObject[], kind: string, namespace: string, name: string, opts: { prefix?: boolean } = {}): KubeObject {
  const hits = objects.filter((o) => o.kind === kind && o.metadata.namespace === namespace && (opts.prefix ? o.metadata.name!.startsWith(`${name}-`) : o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind} ${namespace}/${name}${opts.prefix ? '-*' : ''}, found ${hits.length}`);
  return hits[0];
}

/** Starts the services of platform `platform` in `namespace`. */
export async function startPlatform(objects: readonly KubeObject[], opts: { platform?: string; namespace?: string } = {}): Promise<StartedPlatform> {
  const engines = findEngines(['python', 'seaweedfs']);
  const p = opts.platform ?? 'ml';
  const ns = opts.namespace ?? 'mlplatform';
  const workloads = {
    bootstrap: one(objects, 'Job', ns, `${p}-bootstrap`, { prefix: true }),
    postgres: one(objects, 'StatefulSet', ns, `${p}-postgres`),
    store: one(objects, 'StatefulSet', ns, `${p}-s3`),
    tracking: one(objects, 'Deployment', ns, `${p}-tracking`),
  };
  const source = new MemorySource(objects);
  const api = await new SecretsApi(source).start();
  api.publishRootCa([...new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name!)), ns]);
  const kubelet = new Kubelet({ source, dir: mkdtempSync(join(tmpdir(), 'kubelet-services-')), apiServer: api });
  const pods = {
    bootstrap: kubelet.run(workloads.bootstrap),
    postgres: kubelet.run(workloads.postgres),
    store: kubelet.run(workloads.store),
    tracking: kubelet.run(workloads.tracking),
  };
  const python = join(engines.python.bin, 'python');
  return {
    source,
    api,
    kubelet,
    pods,
    secret: (namespace, name) => {
      const s = source.getSync('Secret', namespace, name);
      return s ? Object.fromEntries(Object.entries(secretData(s)).map(([k, v]) => [k, v.toString('utf8')])) : undefined;
    },
    python: (args, env, timeoutMs = 120_000) => {
      const r = spawnSync(python, args, { encoding: 'utf8', timeout: timeoutMs, env: { PATH: '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8', ...env } });
      if (r.status !== 0) throw new Error(`python ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr.slice(-4000)}`);
      return r.stdout.trim().split('\n').pop() ?? '';
    },
    stop: async () => {
      await kubelet.stop();
      await api.stop();
    },
  };
}

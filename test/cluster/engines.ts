/**
 * The engines of the cluster tier, built (or taken from the cache) by `build-engines.sh`: where each
 * one's binaries are, and the version that runs. The versions are pinned in `engines/<name>/go.mod`
 * and `python-requirements.txt`; test/cluster/versions.test.ts ties them to src/core/versions.ts.
 */
import { spawnSync } from 'child_process';
import { join } from 'path';

/** The engines `build-engines.sh` knows. */
export type EngineName = 'etcd' | 'kubernetes' | 'kwok' | 'kueue' | 'argo' | 'seaweedfs' | 'python';

/** One built engine. */
export interface Engine {
  readonly name: EngineName;
  readonly version: string;
  readonly bin: string;
  readonly cached: boolean;
}

/** The build script; `MLPLATFORM_BUILD_ENGINES` may point at another checkout's copy. */
export const BUILD_SCRIPT = process.env.MLPLATFORM_BUILD_ENGINES ?? join(__dirname, 'build-engines.sh');

/** Options of {@link ensureEngines}. */
export interface EnsureOptions {
  /**
   * How long to wait for the script. A cold build takes minutes: with a bound, a test that finds an
   * engine unbuilt fails at once, naming the command to run first, instead of building it.
   * @default - no bound (build what is missing)
   */
  readonly waitMs?: number;
}

/**
 * Builds (or finds cached) `names` and returns them by name. A cold build of all of them takes
 * minutes on a 2-core machine; `.ci/run` runs the script before the tests so that its time is
 * reported apart.
 */
export function ensureEngines(names: readonly EngineName[], o: EnsureOptions = {}): Record<EngineName, Engine> {
  const r = spawnSync('bash', [BUILD_SCRIPT, ...names], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', o.waitMs ? 'pipe' : 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
    timeout: o.waitMs,
    killSignal: 'SIGKILL',
  });
  if (r.error || r.status !== 0) {
    throw new Error(`the engines ${names.join(', ')} are not built (or their build failed): run \`${BUILD_SCRIPT} ${names.join(' ')}\` first ` +
      `(it caches them under ~/.cache/mlplatform-engines; a cold build takes minutes). ${r.error ? String(r.error) : (r.stderr ?? '').slice(-2000)}`);
  }
  const engines = {} as Record<EngineName, Engine>;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+) (.+) (\/\S+) \((cached|built in \d+ s)\)$/.exec(line);
    if (!m) continue;
    engines[m[1] as EngineName] = { name: m[1] as EngineName, version: m[2], bin: m[3], cached: m[4] === 'cached' };
  }
  for (const n of names) {
    if (!engines[n]) throw new Error(`build-engines.sh printed no line for ${n}:\n${r.stdout}`);
  }
  return engines;
}

/**
 * How each engine of the tier relates to what the platform deploys (src/core/versions.ts): the same
 * version, or the nearest one its registry serves, with the reason. test/tier/engine-versions.test.ts
 * checks this table against the pins on both sides.
 */
export const ENGINE_PINS: Readonly<Record<string, { readonly deployed: string; readonly runs: string; readonly why?: string }>> = {
  kueue: { deployed: 'v0.19.2 (chart kueue 0.19.2)', runs: 'v0.19.2' },
  argo: {
    deployed: 'v4.0.6 (chart argo-workflows 1.0.18)',
    runs: 'v4.0.7',
    why: 'the Go module proxy serves no v4.0.6 of github.com/argoproj/argo-workflows/v4 ("This module version is not available", 2026-12-07); v4.0.7 is the next patch release',
  },
  mlflow: {
    deployed: 'v3.18.0 (ghcr.io/mlflow/mlflow:v3.18.0-full)',
    runs: '3.17.2',
    why: 'mlflow 3.18.0 requires mlflow-tracing==3.18.0, which the package registry does not serve; 3.17.2 is the newest release whose dependencies all install',
  },
  optuna: { deployed: 'v4.9.0 (docker.io/optuna/optuna:v4.9.0-py3.12)', runs: '4.9.0' },
  seaweedfs: {
    deployed: '4.00 (docker.io/chrislusf/seaweedfs:4.00)',
    runs: 'v0.0.0-20261109003541-7506e5f91cd6 (4.53)',
    why: 'SeaweedFS tags its releases "4.00", not semver, so the Go module proxy serves only pseudo-versions; the one it serves is the 2026-11-09 commit (VERSION_NUMBER 4.53)',
  },
};

/**
 * The engines of the cluster tier, built (or taken from the cache) by `build-engines.sh`: where each
 * one's binaries are, and the version that runs. The versions are pinned in `engines/<name>/go.mod`
 * and `python-requirements.txt`; test/cluster/versions.test.ts ties them to src/core/versions.ts.
 */
import { execFileSync } from 'child_process';
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

const SCRIPT = join(__dirname, 'build-engines.sh');

/**
 * Builds (or finds cached) `names` and returns them by name. A cold build of all of them takes
 * minutes on a 2-core machine; `.ci/run` runs the script before the tests so that its time is
 * reported apart.
 */
export function ensureEngines(names: readonly EngineName[]): Record<EngineName, Engine> {
  const out = execFileSync('bash', [SCRIPT, ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const engines = {} as Record<EngineName, Engine>;
  for (const line of out.split('\n')) {
    const m = /^(\S+) (.+) (\/\S+) \((cached|built in \d+ s)\)$/.exec(line);
    if (!m) continue;
    engines[m[1] as EngineName] = { name: m[1] as EngineName, version: m[2], bin: m[3], cached: m[4] === 'cached' };
  }
  for (const n of names) {
    if (!engines[n]) throw new Error(`build-engines.sh printed no line for ${n}:\n${out}`);
  }
  return engines;
}

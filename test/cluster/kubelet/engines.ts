/**
 * Where the engines the image stand-ins need are: `build-engines.sh` prints each one's bin folder
 * (building it first when it is not cached). A build takes minutes on this machine, so the tests do
 * not wait for one: when the script has not answered within `BUILD_WAIT_MS` (it is building), they
 * fail and name the command to run first. (test/cluster/engines.ts `ensureEngines` is the tier's
 * shared locator; this one differs only by that bound.)
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

/** The engines the image stand-ins use. */
export type StandInEngine = 'python' | 'seaweedfs';

/** A found engine: its version line and its bin folder. */
export interface FoundEngine {
  readonly version: string;
  readonly bin: string;
}

/** The script; `MLPLATFORM_BUILD_ENGINES` may point at another checkout's copy. */
export const BUILD_SCRIPT = process.env.MLPLATFORM_BUILD_ENGINES ?? join(__dirname, '..', 'build-engines.sh');
const BUILD_WAIT_MS = 60_000;
const found = new Map<StandInEngine, FoundEngine>();

/** The engines' bin folders; throws (naming the build command) when one is not built yet. */
export function findEngines(names: readonly StandInEngine[]): Record<StandInEngine, FoundEngine> {
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) {
    const command = `${BUILD_SCRIPT} ${missing.join(' ')}`;
    const r = spawnSync('bash', [BUILD_SCRIPT, ...missing], { encoding: 'utf8', timeout: BUILD_WAIT_MS, killSignal: 'SIGKILL' });
    if (r.error || r.status !== 0) {
      throw new Error(`the engines ${missing.join(', ')} are not built (or their build failed): run \`${command}\` first ` +
        `(it caches them under ~/.cache/mlplatform-engines; a cold build takes minutes). ${r.error ? String(r.error) : r.stderr.slice(-2000)}`);
    }
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+) (.+) (\/\S+) \((cached|built in \d+ s)\)$/.exec(line);
      if (m && (missing as string[]).includes(m[1])) found.set(m[1] as StandInEngine, { version: m[2], bin: m[3] });
    }
  }
  const out = {} as Record<StandInEngine, FoundEngine>;
  for (const n of names) {
    const e = found.get(n);
    if (!e || !existsSync(e.bin)) throw new Error(`${BUILD_SCRIPT} printed no bin folder for ${n}`);
    out[n] = e;
  }
  return out;
}

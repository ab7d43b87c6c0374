/**
 * The engines the image stand-ins need (the MLflow/Optuna virtualenv, SeaweedFS's `weed`), found
 * through the tier's locator (../engines.ts `ensureEngines`) with a bound: a build takes minutes on
 * this machine, so a test that finds one unbuilt fails within a minute, naming the command to run first.
 */
import { existsSync } from 'fs';
import { Engine, ensureEngines } from '../engines';

export { BUILD_SCRIPT } from '../engines';

/** The engines the image stand-ins use. */
export type StandInEngine = 'python' | 'seaweedfs';

/** A found engine: its version line and its bin folder. */
export type FoundEngine = Pick<Engine, 'version' | 'bin'>;

const BUILD_WAIT_MS = 60_000;
const found = new Map<StandInEngine, FoundEngine>();

/** The engines' bin folders; throws (naming the build command) when one is not built yet. */
export function findEngines(names: readonly StandInEngine[]): Record<StandInEngine, FoundEngine> {
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) {
    const engines = ensureEngines(missing, { waitMs: BUILD_WAIT_MS });
    for (const n of missing) found.set(n, engines[n]);
  }
  const out = {} as Record<StandInEngine, FoundEngine>;
  for (const n of names) {
    const e = found.get(n)!;
    if (!existsSync(e.bin)) throw new Error(`the bin folder of ${n} (${e.bin}) is gone`);
    out[n] = e;
  }
  return out;
}

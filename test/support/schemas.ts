import * as fs from 'node:fs';
import * as path from 'node:path';

// The schema locator moved to src/testing/schemas.ts (the `mlplatform/testing` entry point).
export { schemasDir } from '../../src/testing/schemas';

/** The first `<ancestor>/<rel>` folder, walking up from this file's folder. */
function findUp(rel: string): string | undefined {
  for (let d = __dirname; ; d = path.dirname(d)) {
    const candidate = path.join(d, rel);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isDirectory()) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * The validator's example manifests (`shared/tools/validate-manifests-examples`):
 * `$MLPLATFORM_EXAMPLES_DIR` if set, else found walking up from this file.
 * @throws when the folder is not found
 */
export function examplesDir(): string {
  const rel = path.join('shared', 'tools', 'validate-manifests-examples');
  const env = process.env.MLPLATFORM_EXAMPLES_DIR;
  const dir = env ? path.resolve(env) : findUp(rel);
  if (dir && fs.existsSync(path.join(dir, 'good.yaml'))) return dir;
  throw new Error([
    `The validator examples (${rel}/good.yaml and the other fixtures) were not found`,
    env ? `in MLPLATFORM_EXAMPLES_DIR=${env}.` : `in any parent of ${__dirname}.`,
    'Check out shared/ beside the repository, or set MLPLATFORM_EXAMPLES_DIR to that folder.',
  ].join(' '));
}

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (this file is `test/support/schemas.ts`). */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const MANIFEST = path.join(REPO_ROOT, 'schemas', 'manifest.json');
const CACHE_DIR = path.join(REPO_ROOT, '.schemas-cache');
const CORE_FILE = 'kubernetes/v1.27.0/_definitions.json';

/** The schema files the tests need: every `path` of schemas/manifest.json. */
function expectedFiles(): string[] {
  try {
    const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { files: Array<{ path: string }> };
    return manifest.files.map((f) => f.path);
  } catch {
    return [CORE_FILE];
  }
}

function missingFiles(dir: string): string[] {
  return expectedFiles().filter((f) => !fs.existsSync(path.join(dir, f)));
}

/** The first `<ancestor>/<rel>` folder, walking up from this file's folder. */
function findUp(rel: string): string | undefined {
  for (let d = __dirname; ; d = path.dirname(d)) {
    const candidate = path.join(d, rel);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isDirectory()) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

function describeMissing(dir: string, missing: readonly string[]): string {
  const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, and ${missing.length - 5} more` : '');
  return `${dir} lacks ${missing.length} of the files in schemas/manifest.json (${shown})`;
}

function fixInstructions(problems: readonly string[]): string {
  return [
    'Kubernetes/CRD schema files for the manifest tests were not found (the tests validate offline against them and never skip).',
    ...problems.map((p) => `  - ${p}`),
    'Fix it in one of these ways:',
    '  1. export MLPLATFORM_SCHEMAS_DIR=/path/to/shared/crds   (a folder with the layout of shared/crds)',
    '  2. npm run schemas   (downloads the files listed in schemas/manifest.json into .schemas-cache/ and checks their sha256)',
    '  3. node scripts/fetch-schemas.js --from /path/to/shared/crds   (copies a local copy into .schemas-cache/, checking sha256)',
  ].join('\n');
}

/**
 * The folder of upstream schema files (layout of `shared/crds`) used to validate manifests:
 * `$MLPLATFORM_SCHEMAS_DIR` if set; else the first `shared/crds` found walking up from this file
 * (a `shared/` checkout beside the repository); else `<repo>/.schemas-cache` (`npm run schemas`).
 * @throws an Error that says how to fix it, when no complete folder is found
 */
export function schemasDir(): string {
  const env = process.env.MLPLATFORM_SCHEMAS_DIR;
  if (env) {
    const dir = path.resolve(env);
    if (!fs.existsSync(dir)) throw new Error(fixInstructions([`MLPLATFORM_SCHEMAS_DIR=${env}: no such folder`]));
    const missing = missingFiles(dir);
    if (missing.length) throw new Error(fixInstructions([`MLPLATFORM_SCHEMAS_DIR=${env}: ${describeMissing(dir, missing)}`]));
    return dir;
  }
  const problems: string[] = [];
  const shared = findUp(path.join('shared', 'crds'));
  if (shared) {
    const missing = missingFiles(shared);
    if (!missing.length) return shared;
    problems.push(describeMissing(shared, missing));
  } else {
    problems.push(`no shared/crds folder in any parent of ${__dirname}`);
  }
  if (fs.existsSync(CACHE_DIR)) {
    const missing = missingFiles(CACHE_DIR);
    if (!missing.length) return CACHE_DIR;
    problems.push(describeMissing(CACHE_DIR, missing));
  } else {
    problems.push(`${CACHE_DIR} does not exist`);
  }
  throw new Error(fixInstructions(problems));
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

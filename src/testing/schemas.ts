import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root (this file is `src/testing/schemas.ts`, or `lib/testing/schemas.js` once built). */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
const MANIFEST = path.join(PACKAGE_ROOT, 'schemas', 'manifest.json');
const CACHE_DIR = path.join(PACKAGE_ROOT, '.schemas-cache');
const CORE_FILE = 'kubernetes/v1.27.0/_definitions.json';

/** Options of {@link schemasDir}. */
export interface SchemasDirOptions {
  /**
   * The folder of schema files to use (the layout of `shared/crds`: `kubernetes/v1.27.0/_definitions.json`,
   * `argo-workflows/argoproj.io_workflowtemplates.yaml`, ...). It is checked like `$MLPLATFORM_SCHEMAS_DIR`.
   * @default - `$MLPLATFORM_SCHEMAS_DIR`, else a `shared/crds` folder in a parent folder, else `<package>/.schemas-cache`
   */
  readonly dir?: string;
}

/** The schema files the validator needs: every `path` of schemas/manifest.json, or the Kubernetes core definitions. */
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
    '  1. export MLPLATFORM_SCHEMAS_DIR=/path/to/shared/crds   (a folder with the layout of shared/crds), or pass that folder as the `schemasDir` option',
    '  2. npm run schemas   (in the mlplatform repository: downloads the files listed in schemas/manifest.json into .schemas-cache/ and checks their sha256)',
    '  3. node scripts/fetch-schemas.js --from /path/to/shared/crds   (copies a local copy into .schemas-cache/, checking sha256)',
  ].join('\n');
}

function checkGiven(label: string, given: string): string {
  const dir = path.resolve(given);
  if (!fs.existsSync(dir)) throw new Error(fixInstructions([`${label}=${given}: no such folder`]));
  const missing = missingFiles(dir);
  if (missing.length) throw new Error(fixInstructions([`${label}=${given}: ${describeMissing(dir, missing)}`]));
  return dir;
}

/**
 * The folder of upstream schema files (layout of `shared/crds`) used to validate manifests: `options.dir`
 * if given; else `$MLPLATFORM_SCHEMAS_DIR` if set; else the first `shared/crds` found walking up from
 * this file (a `shared/` checkout beside the repository); else `<package>/.schemas-cache` (`npm run schemas`).
 * No schema file ships with the package: the folder always comes from outside.
 * @throws an Error that says how to fix it, when no complete folder is found
 */
export function schemasDir(options: SchemasDirOptions = {}): string {
  if (options.dir !== undefined) return checkGiven('schemasDir', options.dir);
  const env = process.env.MLPLATFORM_SCHEMAS_DIR;
  if (env) return checkGiven('MLPLATFORM_SCHEMAS_DIR', env);
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

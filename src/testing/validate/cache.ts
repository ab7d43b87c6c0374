import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Bump when the shape of cached data changes.
const CACHE_FORMAT = 'mlplatform-validate-1';

/**
 * Where parsed schema files are cached as JSON, so that every jest test file (each has its own module
 * registry) does not parse the same megabytes of CRD YAML again. `MLPLATFORM_VALIDATE_CACHE` overrides
 * the folder; `off` disables the cache. Default: `<tmpdir>/mlplatform-validate-cache`.
 */
export function cacheDir(): string | undefined {
  const env = process.env.MLPLATFORM_VALIDATE_CACHE;
  if (env === 'off') return undefined;
  return env || path.join(os.tmpdir(), 'mlplatform-validate-cache');
}

/** A cache key for data derived from files: their absolute paths, sizes and modification times. */
export function fileKey(label: string, files: readonly string[]): string {
  const h = createHash('sha1').update(`${CACHE_FORMAT}|${label}`);
  for (const f of files) {
    const st = fs.statSync(f);
    h.update(`|${path.resolve(f)}|${st.size}|${st.mtimeMs}`);
  }
  return h.digest('hex');
}

/** The cached value for `key`, or `undefined` (missing, unreadable or disabled). */
export function readCache<T>(key: string): T | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${key}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Stores `value` under `key` (atomically, safe with parallel jest workers); failures are ignored. */
export function writeCache(key: string, value: unknown): void {
  const dir = cacheDir();
  if (!dir) return;
  const file = path.join(dir, `${key}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(value));
    fs.renameSync(tmp, file);
  } catch {
    // the cache is only an optimisation
  }
}

/**
 * Builds (once per machine, cached by the hash of its sources) and runs the Go tool of this folder,
 * which runs Argo Workflows v4.0.7's own substitution code on a step template (see main.go).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

const DIR = __dirname;

/** The tool's binary, built with the Go toolchain from the module cache (or the Go module proxy) on first use. */
export function argoSubstituteTool(): string {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(path.join(DIR, f)));
  const cache = process.env.MLPLATFORM_ENGINES_CACHE ?? path.join(homedir(), '.cache', 'mlplatform-engines');
  const bin = path.join(cache, `argo-substitute-${hash.digest('hex').slice(0, 12)}`, 'argo-substitute');
  if (existsSync(bin)) return bin;
  mkdirSync(path.dirname(bin), { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync('go', ['build', '-o', tmp, '.'], { cwd: DIR, stdio: 'pipe', timeout: 15 * 60_000, env: { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' } });
  renameSync(tmp, bin);
  return bin;
}

/** One case for the tool: a template, the run's variables, and the arguments the DAG task passes. */
export interface SubstituteCase {
  readonly template: unknown;
  readonly globals: Record<string, string>;
  readonly arguments: { readonly parameters: readonly { readonly name: string; readonly value: string }[] };
}

/** What Argo made of it: the object the executor creates, or Argo's error; `lintError`: the lint's parse of the manifest failed. */
export interface SubstituteResult {
  readonly manifest?: any;
  readonly container?: any;
  readonly error?: string;
  readonly lintError?: string;
}

/** Runs every case through the tool (one process). */
export function argoSubstitute(cases: readonly SubstituteCase[]): SubstituteResult[] {
  const r = spawnSync(argoSubstituteTool(), { input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`argo-substitute failed: ${r.error ?? ''} ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as SubstituteResult);
}

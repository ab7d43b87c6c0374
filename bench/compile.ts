// Compiles the benchmark child (and the library it imports) to JavaScript in a temporary folder, so
// the measured processes run no TypeScript compiler: shared by `npm run bench` and `npm run bench:instructions`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

/** The package's emit options that change what a process loads (tsconfig.json, as `npm run compile` builds lib/). */
const EMIT_OPTIONS = ['sourceMap', 'inlineSourceMap', 'inlineSources', 'removeComments'] as const;

/**
 * The `tsc` flags that give the library's JavaScript as the package ships it: the emit options of the
 * repository's tsconfig.json (source maps inline or beside the file, comments kept or not change the
 * text a process holds and parses).
 */
export function packageEmitFlags(root: string): string[] {
  const file = path.join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(`reading ${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  const options: Record<string, unknown> = config.compilerOptions ?? {};
  // All four are off unless set.
  return EMIT_OPTIONS.filter((o) => options[o] === true).map((o) => `--${o}`);
}

/** Compiles `bench/synth-child.ts` of the repository at `root`; returns the path of the compiled child (its folder's parent is the temporary folder to remove). */
export function compileBench(root: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-bench-'));
  // Type errors are the type-check task's business: emit regardless (`noEmitOnError` is off).
  spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '--outDir', out, '--rootDir', root, '--module', 'commonjs', '--target', 'ES2022',
    '--strict', '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', ...packageEmitFlags(root), '--declaration', 'false', path.join(root, 'bench',
      'synth-child.ts')], { stdio: 'ignore' });
  if (!fs.existsSync(path.join(out, 'bench', 'synth-child.js'))) throw new Error('compiling bench/synth-child.ts emitted nothing');
  // The programs the pods run, beside the compiled renderers (src/programs/, as `npm run compile` puts them in lib/programs/).
  const copied = spawnSync(process.execPath, [path.join(root, 'scripts', 'copy-programs.js'), path.join(out, 'src', 'programs')], { stdio: 'ignore' });
  if (copied.status !== 0) throw new Error('copying src/programs/ beside the compiled benchmark failed (scripts/copy-programs.js)');
  // Compiled files resolve packages from the repository's node_modules.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  return path.join(out, 'bench', 'synth-child.js');
}

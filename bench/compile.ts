// Compiles the benchmark child (and the library it imports) to JavaScript in a temporary folder, so
// the measured processes run no TypeScript compiler: shared by `npm run bench` and `npm run bench:instructions`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Compiles `bench/synth-child.ts` of the repository at `root`; returns the path of the compiled child (its folder's parent is the temporary folder to remove). */
export function compileBench(root: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-bench-'));
  // Type errors are the type-check task's business: emit regardless (`noEmitOnError` is off).
  spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '--outDir', out, '--rootDir', root, '--module', 'commonjs', '--target', 'ES2022',
    '--strict', '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--sourceMap', 'false', '--declaration', 'false', path.join(root, 'bench',
      'synth-child.ts')], { stdio: 'ignore' });
  if (!fs.existsSync(path.join(out, 'bench', 'synth-child.js'))) throw new Error('compiling bench/synth-child.ts emitted nothing');
  // Compiled files resolve packages from the repository's node_modules.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  return path.join(out, 'bench', 'synth-child.js');
}

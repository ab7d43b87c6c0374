// `npm run bench`: synthesizes platforms of 10, 100 and 1,000 workloads (pipelines, sweeps and
// endpoints on four pools and four tenants), each run in a fresh compiled child process, several
// runs, median wall time and peak RSS; the hand-written baseline for 100 workloads in the same run;
// and the default platform's footprint next to the Kubeflow figures.
// Options: BENCH_RUNS (default 5), BENCH_SIZES (default 10,100,1000).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = (process.env.BENCH_SIZES ?? '10,100,1000').split(',').map(Number);
/** Sizes of the hand-written baseline: 100 for the ratio, 1,000 for the floor cdk8s itself sets. */
const BASELINE_SIZES = (process.env.BENCH_BASELINE_SIZES ?? '100,1000').split(',').map(Number);
const TARGETS = { ms1000: 2000, mib1000: 300, ratio: 1.25, scaling: 10.5 };

interface Sample { objects: number; yamlBytes: number; declareMs: number; toJsonMs: number; yamlMs: number; totalMs: number; maxRssMiB: number }

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Compiles the benchmark (and the library it imports) to JavaScript once, so children measure no compiler. */
function compile(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-bench-'));
  // Type errors are the type-check task's business: emit regardless (`noEmitOnError` is off).
  spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '--outDir', out, '--rootDir', ROOT, '--module', 'commonjs', '--target', 'ES2022',
    '--strict', '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--sourceMap', 'false', '--declaration', 'false', path.join(ROOT, 'bench',
      'synth-child.ts')], { stdio: 'ignore' });
  if (!fs.existsSync(path.join(out, 'bench', 'synth-child.js'))) throw new Error('compiling bench/synth-child.ts emitted nothing');
  // Compiled files resolve packages from the repository's node_modules.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'));
  return path.join(out, 'bench', 'synth-child.js');
}

function runChild(child: string, args: string[]): Sample {
  const r = spawnSync(process.execPath, [child, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function measure(child: string, args: string[]): Sample & { runs: number } {
  const samples = Array.from({ length: RUNS }, () => runChild(child, args));
  const m = (k: keyof Sample) => median(samples.map((s) => s[k]));
  return {
    runs: RUNS,
    objects: samples[0].objects,
    yamlBytes: samples[0].yamlBytes,
    declareMs: m('declareMs'),
    toJsonMs: m('toJsonMs'),
    yamlMs: m('yamlMs'),
    totalMs: m('totalMs'),
    maxRssMiB: m('maxRssMiB'),
  };
}

function main(): void {
  const wall = Date.now();
  console.log(`bench: ${RUNS} runs per case, fresh child process each, median (node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const child = compile();
  const fixture = (n: number) => path.join(path.dirname(child), `baseline-${n}.json`);
  for (const n of BASELINE_SIZES) runChild(child, ['mlplatform', String(n), fixture(n), '--write-fixture']);

  const rows: [string, Sample][] = [];
  const bySize = new Map<number, Sample>();
  for (const n of SIZES) {
    const s = measure(child, ['mlplatform', String(n)]);
    bySize.set(n, s);
    rows.push([`mlplatform, ${n} workloads`, s]);
  }
  const baselines = new Map<number, Sample>();
  for (const n of BASELINE_SIZES) {
    const b = measure(child, ['baseline', String(n), fixture(n)]);
    baselines.set(n, b);
    rows.push([`hand-written ApiObjects, ${n} workloads`, b]);
  }
  const base = baselines.get(100);

  const f = (x: number) => x.toFixed(0).padStart(7);
  console.log('');
  console.log('| case                                   | objects |  YAML MB | declare ms | toJson ms | YAML ms | total ms | peak RSS MiB |');
  console.log('| -------------------------------------- | ------: | -------: | ---------: | --------: | ------: | -------: | -----------: |');
  for (const [name, s] of rows) {
    console.log(`| ${name.padEnd(38)} | ${String(s.objects).padStart(7)} | ${(s.yamlBytes / 1e6).toFixed(2).padStart(8)} | ${f(s.declareMs).padStart(10)} | ${f(s.toJsonMs).padStart(9)} | ${f(s.yamlMs)} | ${f(s.totalMs).padStart(8)} | ${s.maxRssMiB.toFixed(0).padStart(12)} |`);
  }
  console.log('');
  const checks: [string, boolean][] = [];
  const s100 = bySize.get(100);
  if (s100 && base) {
    const ratio = s100.totalMs / base.totalMs;
    console.log(`ratio mlplatform ÷ hand-written (100 workloads, same objects, byte-equal YAML): ${ratio.toFixed(2)}  (target ≤ ${TARGETS.ratio})`);
    const objectRatio = (s100.declareMs + s100.toJsonMs) / (base.declareMs + base.toJsonMs);
    console.log(`  without the YAML serialization both share: declare + toJson ${objectRatio.toFixed(2)}×`);
    checks.push(['ratio', ratio <= TARGETS.ratio]);
  }
  const s10 = bySize.get(10);
  const s1000 = bySize.get(1000);
  if (s100 && s1000) {
    const scale = s1000.totalMs / s100.totalMs;
    console.log(`scaling 100 → 1,000 workloads: ${scale.toFixed(2)}× the time  (target ≤ ${TARGETS.scaling}×)`);
    checks.push(['scaling', scale <= TARGETS.scaling]);
  }
  if (s10 && s100) console.log(`scaling 10 → 100 workloads: ${(s100.totalMs / s10.totalMs).toFixed(2)}× the time`);
  if (s1000) {
    console.log(`1,000 workloads: ${(s1000.totalMs / 1000).toFixed(2)} s, ${s1000.maxRssMiB.toFixed(0)} MiB peak RSS  (targets ≤ ${TARGETS.ms1000 / 1000} s, ≤ ${TARGETS.mib1000} MiB)`);
    checks.push(['1,000 workloads time', s1000.totalMs <= TARGETS.ms1000], ['1,000 workloads memory', s1000.maxRssMiB <= TARGETS.mib1000]);
  }
  console.log(`targets: ${checks.map(([n, ok]) => `${n} ${ok ? 'met' : 'MISSED'}`).join(', ')}`);
  console.log('');
  // The footprint of the default platform, next to the Kubeflow figures it replaces.
  const fp = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js', { paths: [ROOT] }), '--transpile-only', '--project', path.join(ROOT, 'test',
    'tsconfig.json'), path.join(ROOT, 'bench', 'footprint-print.ts')], { encoding: 'utf8', cwd: ROOT });
  process.stdout.write(fp.stdout || fp.stderr);
  console.log(`\nbench wall time ${((Date.now() - wall) / 1000).toFixed(0)} s`);
  // The compiled copy and the fixtures (the node_modules symlink is unlinked, not followed).
  fs.rmSync(path.dirname(path.dirname(child)), { recursive: true, force: true });
}

main();

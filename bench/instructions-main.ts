// `npm run bench:instructions`: the 100-workload synthesis of `npm run bench` counted instead of
// timed, for mlplatform and the two hand-written forms that run the fastest (the program with helpers
// and the replayed ApiObjects, bench/baseline.ts). Each side's process runs under valgrind's callgrind
// with its cache and branch simulation (I1/D1 32/48 KiB, the shared last level, a branch predictor
// model), once synthesizing (YAML writing left out) and once stopping when its modules are loaded
// (`--stop=loaded`); the difference is the synthesis: the instructions it executed, the instruction
// fetches and data reads/writes that missed the first-level caches, the conditional and indirect
// branches mispredicted. Node runs `--single-threaded`, so V8's optimizing compiler and the garbage
// collector work on the main thread and are counted with it (in the timed bench they partly run on
// the second core). Counts do not depend on how busy the machine is, unlike this VM's wall times;
// V8's own heuristics still move them by a few percent from run to run.
// Needs valgrind (Debian: `apt-get install valgrind`); ≈ 3 minutes per run on 2 cores. Options:
// BENCH_RUNS (default 1; the median per counter when more).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileBench } from './compile';
import { CallgrindCounts, COUNTERS, INSTRUCTION_PARTS, InstructionPart, instructionsByPart, medianCounts, parseCallgrindSummary, subtractCounts } from './instructions';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const WORKLOADS = '100';

interface Counted {
  readonly counts: CallgrindCounts;
  readonly parts: Record<InstructionPart, number>;
}

/** Runs `node --single-threaded <child> <args>` under callgrind; resolves to the summary counts and the instructions per part. */
function counted(child: string, args: string[], out: string): Promise<Counted> {
  const log = `${out}.log`;
  return new Promise((resolve, reject) => {
    const p = spawn('valgrind', ['--tool=callgrind', '--cache-sim=yes', '--branch-sim=yes', `--callgrind-out-file=${out}`, `--log-file=${log}`,
      // V8 writes machine code into memory it then runs: valgrind must notice the rewrites.
      '--smc-check=all-non-file', process.execPath, '--single-threaded', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    p.stdout.resume();
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`valgrind … ${args.join(' ')} exited with ${code}: ${stderr}${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}`));
        return;
      }
      const annotated = spawnSync('callgrind_annotate', ['--show=Ir', '--inclusive=no', '--threshold=100', out], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
      if (annotated.status !== 0) reject(new Error(`callgrind_annotate ${out} failed: ${annotated.stderr}`));
      else resolve({ counts: parseCallgrindSummary(fs.readFileSync(log, 'utf8')), parts: instructionsByPart(annotated.stdout) });
    });
  });
}

/** Runs the jobs `parallel` at a time (callgrind counts are the same whatever else runs). */
async function inParallel<T>(jobs: (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return results;
}

async function main(): Promise<void> {
  const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (valgrind.status !== 0) {
    throw new Error('bench:instructions needs valgrind on the PATH (Debian: apt-get install valgrind)');
  }
  const wall = Date.now();
  const child = compileBench(ROOT);
  const dir = path.dirname(child);
  const fixture = path.join(dir, `baseline-${WORKLOADS}.json`);
  const helpers = path.join(dir, `helpers-${WORKLOADS}.js`);
  const made = spawnSync(process.execPath, [child, 'mlplatform', WORKLOADS, fixture, '--write-fixture', `--write-helpers=${helpers}`, '--no-yaml'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`writing the hand-written forms failed: ${made.stderr}`);
  const sides: [string, string[]][] = [
    ['mlplatform', ['mlplatform', WORKLOADS]],
    ['program with helpers', ['program', WORKLOADS, helpers]],
    ['ApiObjects replayed', ['baseline', WORKLOADS, fixture]],
  ];
  console.log(`bench:instructions: ${WORKLOADS} workloads, ${RUNS} run(s) per case under callgrind (node ${process.version} --single-threaded, ${valgrind.stdout.trim()}), synthesis = a synthesizing run − a run stopped once loaded`);
  type Phase = 'full' | 'loaded';
  const phaseArgs: Record<Phase, string> = { full: '--no-yaml', loaded: '--stop=loaded' };
  const jobs = sides.flatMap(([, args], s) => Array.from({ length: RUNS }, (_, r) => (['full', 'loaded'] as Phase[]).map((phase) => async () => ({
    s, phase, ...await counted(child, [...args, phaseArgs[phase]], path.join(dir, `cg-${s}-${r}-${phase}.out`)),
  }))).flat());
  const results = await inParallel(jobs, Math.max(1, os.cpus().length));
  const synthesis = sides.map((_, s) => {
    const full = results.filter((x) => x.s === s && x.phase === 'full').map((x) => x.counts);
    const loaded = results.filter((x) => x.s === s && x.phase === 'loaded').map((x) => x.counts);
    // Each run's difference, then the median per counter.
    return medianCounts(full.map((f, i) => subtractCounts(f, loaded[i])));
  });
  const parts = sides.map((_, s) => {
    const full = results.filter((x) => x.s === s && x.phase === 'full');
    const loaded = results.filter((x) => x.s === s && x.phase === 'loaded');
    return Object.fromEntries(INSTRUCTION_PARTS.map(({ key }) => [key, median(full.map((f, i) => f.parts[key] - loaded[i].parts[key]))])) as Record<InstructionPart, number>;
  });
  console.log('');
  console.log(`| ${WORKLOADS} workloads, synthesis | ${COUNTERS.map((c) => c.label).join(' | ')} |`);
  console.log(`| --- | ${COUNTERS.map(() => '---:').join(' | ')} |`);
  sides.forEach(([name], s) => console.log(`| ${name} | ${COUNTERS.map((c) => (synthesis[s][c.key] / 1e6).toFixed(1)).join(' | ')} |`));
  for (let s = 1; s < sides.length; s++) {
    console.log(`| mlplatform ÷ ${sides[s][0]} | ${COUNTERS.map((c) => (synthesis[0][c.key] / synthesis[s][c.key]).toFixed(2)).join(' | ')} |`);
  }
  console.log('');
  console.log('(millions; misses of the first-level instruction and data caches, mispredicted conditional and indirect branches)');
  console.log('');
  console.log(`| instructions of the synthesis, by part (millions; by the C++ function charged) | ${sides.map(([name]) => name).join(' | ')} |`);
  console.log(`| --- | ${sides.map(() => '---:').join(' | ')} |`);
  for (const { key, label } of INSTRUCTION_PARTS) console.log(`| ${label} | ${parts.map((p) => (p[key] / 1e6).toFixed(1)).join(' | ')} |`);
  console.log(`\nbench:instructions wall time ${((Date.now() - wall) / 1000).toFixed(0)} s`);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

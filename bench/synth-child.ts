// One measured synthesis in a fresh process: `node synth-child.js <mlplatform|baseline|program> <workloads>[:<kind>] [fixture]`
// (`100` is the mix of 100 workloads, `100:pipelines` 100 pipelines; see bench/workloads.ts). The
// hand-written sides (bench/baseline.ts): `baseline` replays the objects of a JSON fixture, `program`
// runs a program that declares them (the fixture argument is then that program's .js file: the one
// that writes them out, or the one with a helper per shape of object).
// Prints one JSON line. Two phases are timed apart:
// - in-memory synthesis: declaring the constructs, then `chart.toJson()` — dependency ordering, every
//   construct's validations (the synth-time checks) and every object's JSON: what `cdk8s synth`
//   computes before it writes anything;
// - YAML writing: cdk8s's own `Yaml.stringify` of those objects, the same call and options for both sides.
// Peak RSS is read after each phase (the process's maximum so far).
// `--prewarm=<fixture.json>`: before the timed synthesis, the same process synthesizes the mix of 5
// workloads (mlplatform: the constructs; baseline: that fixture's ApiObjects) in an App of its own, so
// each side's code has been compiled and run once: the difference to a run without it is what the
// code's first use costs per process.
// `--repeat=<k>`: the same synthesis k − 1 times over (each in an App of its own, untimed) before the
// timed one: the steady state of a process that synthesizes many charts, as a jest suite of templates
// does — every function compiled, optimized where V8 chose to, the heap grown.
// `--stop=loaded`: exits once the side's modules (and the baseline's fixture) are loaded, printing only
// `loadMs`: under a profiler that counts a whole process (bench/instructions-main.ts), a run with it
// and one without give the synthesis alone by difference. `--no-yaml` skips the YAML writing.
// `--write-fixture` (mlplatform) writes the synthesized objects to the fixture, `--write-program=<file.js>` the
// program that writes them out, `--write-helpers=<file.js>` the program with helpers.
// Each side loads what its program would: mlplatform's the library (and cdk8s), the hand-written ones
// cdk8s alone (and a program its own module: parsing it is its loading); `loadMs` is the process's
// age once they are loaded (Node's start included), and
// `fixtureMs` the baseline's reading of its fixture (the parent leaves it out of the process's time).
import * as fs from 'node:fs';
import { App, Chart, Yaml } from 'cdk8s';
import { handWrittenHelpers, handWrittenProgram, Manifest } from './baseline';
import { BENCH_KINDS, BenchKind } from './mix';

/** The value of `--<name>=<value>` on the command line, if given. */
function option(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const [mode, workloads, fixture] = process.argv.slice(2);
  const [n, only] = workloads.split(':') as [string, BenchKind | undefined];
  if (only !== undefined && !BENCH_KINDS.includes(only)) throw new Error(`unknown workload kind "${only}": use one of ${BENCH_KINDS.join(', ')}`);
  console.warn = () => undefined; // capacity warnings of the checks (pools smaller than the peaks)
  const prewarm = option('prewarm');
  let declare: (chart: Chart) => void;
  let declareWarm: (chart: Chart) => void;
  let loadMs: number;
  /** Reading the baseline's fixture: no hand-written program does it, so it is not part of its process's time. */
  let fixtureMs = 0;
  if (mode === 'baseline') {
    const { declareHandWritten } = await import('./baseline');
    loadMs = process.uptime() * 1000;
    const read = process.hrtime.bigint();
    const manifests: Manifest[] = JSON.parse(fs.readFileSync(fixture!, 'utf8'));
    fixtureMs = Number(process.hrtime.bigint() - read) / 1e6;
    declare = (chart) => declareHandWritten(chart, manifests);
    declareWarm = (chart) => declareHandWritten(chart, JSON.parse(fs.readFileSync(prewarm!, 'utf8')));
  } else if (mode === 'program') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program: { declare: (chart: Chart) => void } = require(fixture!);
    loadMs = process.uptime() * 1000;
    declare = program.declare;
    declareWarm = () => {
      throw new Error('--prewarm warms mlplatform or the replay: a program shares no code with a smaller one');
    };
  } else {
    const { buildBenchPlatform } = await import('./workloads');
    declare = (chart) => buildBenchPlatform(chart, Number(n), only);
    declareWarm = (chart) => buildBenchPlatform(chart, 5);
    loadMs = process.uptime() * 1000;
  }
  if (option('stop') === 'loaded') {
    console.log(JSON.stringify({ mode, workloads: Number(n), only, loadMs, fixtureMs }));
    return;
  }
  if (prewarm !== undefined) {
    const warm = new Chart(new App({ outdir: '/dev/null' }), 'prewarm');
    declareWarm(warm);
    warm.toJson();
  }
  const repeat = Number(option('repeat') ?? 1);
  for (let i = 1; i < repeat; i++) {
    const before = new Chart(new App({ outdir: '/dev/null' }), 'bench');
    declare(before);
    before.toJson();
  }
  synthesize(mode, Number(n), only, fixture, { loadMs, fixtureMs }, declare);
}

interface Times {
  readonly loadMs: number;
  readonly fixtureMs: number;
}

function synthesize(mode: string, n: number, only: BenchKind | undefined, fixture: string | undefined, times: Times, declare: (chart: Chart) => void): void {
  const peakMiB = () => process.resourceUsage().maxRSS / 1024;
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const start = process.hrtime.bigint();
  const app = new App({ outdir: '/dev/null' });
  const chart = new Chart(app, 'bench');
  declare(chart);
  const declared = process.hrtime.bigint();
  const objects = chart.toJson();
  const synthesized = process.hrtime.bigint();
  const synthRssMiB = peakMiB();
  const yaml = process.argv.includes('--no-yaml') ? '' : Yaml.stringify(...objects);
  const end = process.hrtime.bigint();
  const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
  if (process.argv.includes('--write-fixture')) fs.writeFileSync(fixture!, JSON.stringify(objects));
  for (const [name, source] of [['write-program', handWrittenProgram], ['write-helpers', handWrittenHelpers]] as const) {
    const file = option(name);
    if (file !== undefined) fs.writeFileSync(file, source(objects as Manifest[]));
  }
  console.log(JSON.stringify({
    mode,
    workloads: n,
    ...times,
    only,
    objects: objects.length,
    yamlBytes: Buffer.byteLength(yaml),
    declareMs: ms(start, declared),
    toJsonMs: ms(declared, synthesized),
    synthMs: ms(start, synthesized),
    yamlMs: ms(synthesized, end),
    totalMs: ms(start, end),
    startRssMiB,
    synthRssMiB,
    maxRssMiB: peakMiB(),
  }));
}

void main();

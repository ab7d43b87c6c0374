// One measured synthesis in a fresh process: `node synth-child.js <mlplatform|baseline> <workloads> [fixture.json]`.
// Prints one JSON line: wall time of declaring + synthesizing (objects and YAML), peak RSS, counts.
import * as fs from 'node:fs';
import { App, Chart, Yaml } from 'cdk8s';
import { declareHandWritten, Manifest } from './baseline';
import { buildBenchPlatform } from './workloads';

const [mode, n, fixture] = process.argv.slice(2);
console.warn = () => undefined; // capacity warnings of the checks (pools smaller than the peaks)
const manifests: Manifest[] | undefined = mode === 'baseline' ? JSON.parse(fs.readFileSync(fixture!, 'utf8')) : undefined;
const start = process.hrtime.bigint();
const app = new App({ outdir: '/dev/null' });
const chart = new Chart(app, 'bench');
if (mode === 'baseline') declareHandWritten(chart, manifests!);
else buildBenchPlatform(chart, Number(n));
const declared = process.hrtime.bigint();
const objects = chart.toJson();
const synthesized = process.hrtime.bigint();
const yaml = Yaml.stringify(...objects);
const end = process.hrtime.bigint();
const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
if (process.argv.includes('--write-fixture')) fs.writeFileSync(fixture!, JSON.stringify(objects));
console.log(JSON.stringify({
  mode,
  workloads: Number(n),
  objects: objects.length,
  yamlBytes: Buffer.byteLength(yaml),
  declareMs: ms(start, declared),
  toJsonMs: ms(declared, synthesized),
  yamlMs: ms(synthesized, end),
  totalMs: ms(start, end),
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));

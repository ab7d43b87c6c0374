// `npm run footprint`: the default platform's requested CPU/memory, object count and YAML bytes,
// next to the full Kubeflow install it replaces.
import { chartFootprint } from './footprint';
import { MlPlatform } from 'mlplatform/cdk8s';

const KUBEFLOW = { objects: 683, yamlBytes: 12.2e6, cpuMillis: 3300, memoryBytes: 8.2 * 2 ** 30 };

const f = chartFootprint((chart) => new MlPlatform(chart, 'ml'));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log('Default MlPlatform (tracking, database, object store, Argo Workflows controller):');
for (const c of f.components) console.log(`  ${c.component.padEnd(38)} ${String(c.replicas).padStart(2)}×  ${String(c.cpuMillis).padStart(5)}m  ${mib(c.memoryBytes).padStart(8)}   (${c.source})`);
console.log(`  ${'total requested'.padEnd(38)}      ${String(f.cpuMillis).padStart(5)}m  ${mib(f.memoryBytes).padStart(8)}`);
console.log('');
console.log('|                 | mlplatform default | full Kubeflow |');
console.log('| --------------- | -----------------: | ------------: |');
console.log(`| objects         | ${String(f.objects).padStart(18)} | ${String(KUBEFLOW.objects).padStart(13)} |`);
console.log(`| YAML            | ${`${(f.yamlBytes / 1024).toFixed(0)} KiB`.padStart(18)} | ${'12.2 MB'.padStart(13)} |`);
console.log(`| CPU requested   | ${`${f.cpuMillis}m`.padStart(18)} | ${'≈ 3.3 CPU'.padStart(13)} |`);
console.log(`| memory requested| ${mib(f.memoryBytes).padStart(18)} | ${'≈ 8.2 GiB'.padStart(13)} |`);

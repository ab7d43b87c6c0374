// The default platform's footprint next to the full Kubeflow install (printed by `npm run bench`),
// built from the sources (the `footprint` task prints the same table from the compiled package).
import { chartFootprint } from './footprint';
import { MlPlatform } from '../src/cdk8s';

const f = chartFootprint((chart) => new MlPlatform(chart, 'ml'));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log('| default platform footprint | mlplatform default | full Kubeflow |');
console.log('| -------------------------- | -----------------: | ------------: |');
console.log(`| objects                    | ${String(f.objects).padStart(18)} | ${'683'.padStart(13)} |`);
console.log(`| YAML                       | ${`${(f.yamlBytes / 1024).toFixed(0)} KiB`.padStart(18)} | ${'12.2 MB'.padStart(13)} |`);
console.log(`| CPU requested              | ${`${f.cpuMillis}m`.padStart(18)} | ${'≈ 3.3 CPU'.padStart(13)} |`);
console.log(`| memory requested           | ${mib(f.memoryBytes).padStart(18)} | ${'≈ 8.2 GiB'.padStart(13)} |`);

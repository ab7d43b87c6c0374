// `npm run synth`: writes the example platform's manifests to dist/, as `cdk8s synth` does, and next to
// them the platform report dist/platform.md (objects, requests, GPU demand vs pools, cost envelope,
// check findings, a Mermaid diagram), whose summary it prints.
import * as path from 'node:path';
import { App } from 'cdk8s';
import { buildExample } from './platform';
import { writePlatformReport } from 'mlplatform/cdk8s';

const app = new App({ outdir: 'dist' });
buildExample(app);
// The report first: it lists the synth-time check findings even when an error among them stops app.synth().
const report = writePlatformReport(app);
console.log(`${path.relative(process.cwd(), report.file)}:\n${report.summary}`);
app.synth();
for (const chart of app.charts) {
  console.log(`dist/${chart.node.id}.k8s.yaml: ${chart.toJson().length} objects`);
}

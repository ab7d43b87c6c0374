// `npm run synth`: writes the example platform's manifests to dist/, as `cdk8s synth` does.
import { App } from 'cdk8s';
import { buildExample } from './platform';

const app = new App({ outdir: 'dist' });
buildExample(app);
app.synth();
for (const chart of app.charts) {
  console.log(`dist/${chart.node.id}.k8s.yaml: ${chart.toJson().length} objects`);
}

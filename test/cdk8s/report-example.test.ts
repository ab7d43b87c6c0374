// The README example's report is committed as examples/cdk8s-platform/platform.md (what `npm run synth`
// writes to dist/platform.md). This test regenerates it and fails when the committed copy is stale.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { platformReport } from '../../src/cdk8s/report';

const RELATIVE = 'examples/cdk8s-platform/platform.md';
const FILE = path.resolve(__dirname, '..', '..', RELATIVE);
const REFRESH = 'MLPLATFORM_UPDATE_REPORT=1 npx jest test/cdk8s/report-example.test.ts';

/** The first line where two texts differ, for the failure message. */
function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((line, n) => line !== y[n]);
  const at = i < 0 ? x.length : i;
  return `line ${at + 1}:\n  committed: ${JSON.stringify(y[at] ?? '(end of file)')}\n  generated: ${JSON.stringify(x[at] ?? '(end of file)')}`;
}

test(`${RELATIVE} is the report of the README example`, () => {
  const app = Testing.app();
  buildExample(app);
  const { markdown } = platformReport(app);
  if (process.env.MLPLATFORM_UPDATE_REPORT === '1') fs.writeFileSync(FILE, markdown);
  const committed = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
  if (committed !== markdown) {
    throw new Error(`${RELATIVE} is stale (the example or the report changed). Refresh it with:\n  ${REFRESH}\nthen review and commit it. First difference at ${firstDifference(markdown, committed)}`);
  }
  expect(committed).toContain('```mermaid\nflowchart LR\n');
});

// `npx projen shapes`: writes src/core/prop-shapes-data.ts, the run-time shapes of the constructs' props,
// from the TypeScript declarations (test/core/run-time-shapes.test.ts fails while it is stale).
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, shapesModuleText } from './prop-paths';

const target = path.join(ROOT, 'src', 'core', 'prop-shapes-data.ts');
fs.writeFileSync(target, shapesModuleText());
console.log(`wrote ${path.relative(ROOT, target)}`);

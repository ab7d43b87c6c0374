// The built package carries the programs the pods run: `npm run compile` copies src/programs/ to lib/programs/
// (scripts/copy-programs.js), the compiled loader reads them there, and the tarball lists them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { program, PROGRAM_NAMES } from '../../src/cdk8s/private/programs';

const root = path.resolve(__dirname, '../..');
const LIB_PROGRAMS = path.join(root, 'lib', 'programs');

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'lib/cdk8s/private/programs.js'))) {
    throw new Error('lib/ is not built: run `npm run compile` (npm test does it first)');
  }
});

test('lib/programs/ holds every program, byte for byte as in src/programs/, and nothing else', () => {
  expect(fs.readdirSync(LIB_PROGRAMS).sort()).toEqual([...PROGRAM_NAMES].sort());
  for (const name of PROGRAM_NAMES) {
    expect([name, fs.readFileSync(path.join(LIB_PROGRAMS, name)).equals(fs.readFileSync(path.join(root, 'src/programs', name)))]).toEqual([name, true]);
  }
});

test('the compiled loader reads lib/programs/', () => {
  const script = 'const p = require("./lib/cdk8s/private/programs.js"); '
    + 'console.log(JSON.stringify({ dir: p.PROGRAMS_DIR, programs: p.PROGRAM_NAMES.map((n) => [n, p.program(n).sha256]) }));';
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root }).toString());
  expect(out.dir).toBe(LIB_PROGRAMS);
  expect(out.programs).toEqual(PROGRAM_NAMES.map((n) => [n, program(n).sha256]));
});

test('the package tarball lists lib/programs/* (npm pack --dry-run)', () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const [pack] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
  const files = (pack.files as { path: string }[]).map((f) => f.path).filter((p) => p.startsWith('lib/programs/')).sort();
  expect(files).toEqual(PROGRAM_NAMES.map((n) => `lib/programs/${n}`).sort());
});

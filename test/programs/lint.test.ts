// `npm run lint:programs` (scripts/lint-programs.js, part of `npm test`): every finding of shellcheck, pyflakes3 or
// py_compile fails it, and a missing linter fails it too, naming the Debian package, instead of skipping.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/lint-programs.js');
let dir: string;

function lint(env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8', env });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-programs-test-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('clean programs pass, and nothing is written beside them', () => {
  fs.writeFileSync(path.join(dir, 'ok.sh'), '#!/bin/sh\necho "$1"\n');
  fs.writeFileSync(path.join(dir, 'ok.py'), 'import os\n\nprint(os.sep)\n');
  const r = lint();
  expect(r).toEqual({ status: 0, out: expect.stringContaining('shellcheck: 1 file(s) clean') });
  expect(r.out).toContain('pyflakes3: 1 file(s) clean');
  expect(r.out).toContain('py_compile: 1 file(s) clean');
  expect(fs.readdirSync(dir).sort()).toEqual(['ok.py', 'ok.sh']); // no __pycache__
});

test('a finding of each linter fails the run and is printed', () => {
  fs.writeFileSync(path.join(dir, 'unquoted.sh'), '#!/bin/sh\necho $1\n');
  fs.writeFileSync(path.join(dir, 'unused.py'), 'import sys\n\nprint(undefined_name)\n');
  // pyflakes reads this as clean; only compiling finds that `y` has no binding.
  fs.writeFileSync(path.join(dir, 'nonlocal.py'), 'def f():\n    def g():\n        nonlocal y\n    return g\n');
  const r = lint();
  expect(r.status).toBe(1);
  expect(r.out).toContain('lint-programs: 3 problem(s)');
  expect(r.out).toMatch(/shellcheck \(exit 1\):[\s\S]*SC2086/);
  expect(r.out).toContain("unused.py:1:1: 'sys' imported but unused");
  expect(r.out).toContain("unused.py:3:7: undefined name 'undefined_name'");
  expect(r.out).toMatch(/py_compile \(exit 1\):[\s\S]*nonlocal\.py[\s\S]*SyntaxError: no binding for nonlocal 'y' found/);
});

test('a missing linter fails the run, naming the package to install', () => {
  fs.writeFileSync(path.join(dir, 'ok.sh'), '#!/bin/sh\necho "$1"\n');
  fs.writeFileSync(path.join(dir, 'ok.py'), 'print(1)\n');
  const r = lint(Object.assign({}, process.env, { PATH: dir }));
  expect(r.status).toBe(1);
  expect(r.out).toContain("shellcheck: shellcheck is missing: install Debian's shellcheck (apt-get install shellcheck); this lint is never skipped");
  expect(r.out).toContain("pyflakes3: pyflakes3 is missing: install Debian's pyflakes3 (apt-get install pyflakes3); this lint is never skipped");
});

test('a folder without programs fails the run', () => {
  const r = lint();
  expect(r.status).toBe(1);
  expect(r.out).toContain('lint-programs: no program found under');
});

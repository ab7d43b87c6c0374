#!/usr/bin/env node
// Lints the programs the pods run (src/programs/) and their unit tests (test/programs/): `npm run lint:programs`,
// part of `npm test`. Node built-ins only; the linters are Debian's packages, never skipped:
//   shellcheck                        every *.sh (package shellcheck)
//   pyflakes3                         every *.py (package pyflakes3)
//   /usr/bin/python3 -m py_compile    every *.py, compiled by the system Python (package python3); the byte code
//                                     goes to a temporary folder (PYTHONPYCACHEPREFIX), never beside the sources
// Every tool runs on every file; any finding, or a missing tool, ends with exit status 1.
//
//   node scripts/lint-programs.js          src/programs/ and test/programs/
//   node scripts/lint-programs.js DIR...   the *.sh and *.py files of other folders
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const FOLDERS = process.argv.length > 2 ? process.argv.slice(2) : ['src/programs', 'test/programs'];
const PYTHON = '/usr/bin/python3';

function files(ext) {
  return FOLDERS.flatMap((dir) => {
    const abs = path.resolve(REPO_ROOT, dir);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs).filter((f) => f.endsWith(ext)).sort().map((f) => path.relative(REPO_ROOT, path.join(abs, f)));
  });
}

const failures = [];

/** Runs a linter over `targets`; a finding or a missing tool is a failure, with what to install. */
function run(label, command, args, targets, apt, env) {
  if (targets.length === 0) return;
  const r = spawnSync(command, [...args, ...targets], { cwd: REPO_ROOT, encoding: 'utf8', env: Object.assign({}, process.env, env) });
  if (r.error && r.error.code === 'ENOENT') {
    failures.push(`${label}: ${command} is missing: install Debian's ${apt} (apt-get install ${apt}); this lint is never skipped`);
    return;
  }
  if (r.error) {
    failures.push(`${label}: ${r.error.message}`);
    return;
  }
  const output = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0) {
    failures.push(`${label} (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${output || '(no output)'}`);
    return;
  }
  process.stdout.write(`lint-programs: ${label}: ${targets.length} file(s) clean\n`);
}

const shell = files('.sh');
const python = files('.py');
if (shell.length + python.length === 0) {
  process.stderr.write(`lint-programs: no program found under ${FOLDERS.join(', ')}\n`);
  process.exit(1);
}
run('shellcheck', 'shellcheck', [], shell, 'shellcheck');
run('pyflakes3', 'pyflakes3', [], python, 'pyflakes3');
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-programs-'));
try {
  run('py_compile', PYTHON, ['-m', 'py_compile'], python, 'python3', { PYTHONPYCACHEPREFIX: cache });
} finally {
  fs.rmSync(cache, { recursive: true, force: true });
}

if (failures.length > 0) {
  process.stderr.write(`lint-programs: ${failures.length} problem(s)\n\n${failures.join('\n\n')}\n`);
  process.exit(1);
}

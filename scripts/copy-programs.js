#!/usr/bin/env node
// Copies the programs the pods run (src/programs/*.py and *.sh) beside the compiled renderers, where
// the loader (src/cdk8s/private/programs.ts) reads them: part of `npm run compile`. Node built-ins only.
//
//   node scripts/copy-programs.js         into lib/programs/ (what the package ships)
//   node scripts/copy-programs.js DIR     into DIR (the benchmark's compiled copy of src/)
// The destination is emptied first, so a program removed from src/programs/ does not linger in it;
// anything else in src/programs/ (__pycache__, editor files) is not copied.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const SOURCE = path.join(REPO_ROOT, 'src', 'programs');
const PROGRAM = /\.(py|sh)$/;

const dest = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'lib', 'programs'));
const names = fs.readdirSync(SOURCE, { withFileTypes: true }).filter((e) => e.isFile() && PROGRAM.test(e.name)).map((e) => e.name).sort();
if (names.length === 0) {
  process.stderr.write(`copy-programs: no *.py or *.sh file in ${SOURCE}\n`);
  process.exit(1);
}
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
for (const name of names) fs.copyFileSync(path.join(SOURCE, name), path.join(dest, name));
process.stdout.write(`copy-programs: ${names.length} programs to ${path.relative(process.cwd(), dest) || '.'}: ${names.join(' ')}\n`);

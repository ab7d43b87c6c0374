import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectValidManifests } from '../support/expect-valid';
import { examplesDir, schemasDir } from '../support/schemas';
import { createValidator } from '../support/validate';

const saved = { schemas: process.env.MLPLATFORM_SCHEMAS_DIR, examples: process.env.MLPLATFORM_EXAMPLES_DIR };
let empty: string;

beforeEach(() => {
  empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-empty-schemas-'));
});
afterEach(() => {
  for (const [name, value] of [['MLPLATFORM_SCHEMAS_DIR', saved.schemas], ['MLPLATFORM_EXAMPLES_DIR', saved.examples]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(empty, { recursive: true, force: true });
});

test('schemasDir() finds a complete schema folder', () => {
  const dir = schemasDir();
  expect(fs.existsSync(path.join(dir, 'kubernetes', 'v1.27.0', '_definitions.json'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'argo-workflows', 'argoproj.io_workflowtemplates.yaml'))).toBe(true);
});

test('MLPLATFORM_SCHEMAS_DIR wins when it holds the files', () => {
  const dir = schemasDir();
  process.env.MLPLATFORM_SCHEMAS_DIR = dir;
  expect(schemasDir()).toBe(dir);
});

test('an empty MLPLATFORM_SCHEMAS_DIR throws a loud error that says how to fix it', () => {
  process.env.MLPLATFORM_SCHEMAS_DIR = empty;
  const fix = /lacks 48 of the files in schemas\/manifest\.json[\s\S]*export MLPLATFORM_SCHEMAS_DIR=[\s\S]*npm run schemas/;
  expect(() => schemasDir()).toThrow(fix);
  expect(() => schemasDir()).toThrow(/never skip/);
  // and so does everything built on it: nothing is silently skipped
  expect(() => createValidator()).toThrow(fix);
  expect(() => expectValidManifests([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } }])).toThrow(fix);
});

test('a MLPLATFORM_SCHEMAS_DIR that does not exist throws', () => {
  process.env.MLPLATFORM_SCHEMAS_DIR = path.join(empty, 'nope');
  expect(() => schemasDir()).toThrow(/MLPLATFORM_SCHEMAS_DIR=.*nope: no such folder[\s\S]*npm run schemas/);
});

test('examplesDir() finds the validator fixtures, and throws when pointed elsewhere', () => {
  expect(fs.existsSync(path.join(examplesDir(), 'bad.yaml'))).toBe(true);
  process.env.MLPLATFORM_EXAMPLES_DIR = empty;
  expect(() => examplesDir()).toThrow(/validator examples .* were not found in MLPLATFORM_EXAMPLES_DIR=/);
});

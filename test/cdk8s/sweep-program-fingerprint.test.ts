// A sweep's name hash covers its program files through programFilesFingerprint: the fixed programs by
// their SHA-256 (hashed once per process), config.json by its text. Any change to any file must show.
import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import { programFiles, programFilesFingerprint } from '../../src/cdk8s/private/sweep-pods';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;

test('the fingerprint names every file: the fixed programs by the SHA-256 of their text, config.json verbatim', () => {
  const files = programFiles({ study: 'a"b', metric: 'val\nloss', note: 'é中\u2028' } as any);
  const parts = JSON.parse(programFilesFingerprint(files));
  expect(Object.keys(parts)).toEqual(Object.keys(files));
  expect(Object.keys(files)).toEqual(['sweep.py', 'sweep_lib.py', 'sweep_trial.py', 'runner.sh', 'config.json']);
  for (const name of ['sweep.py', 'sweep_lib.py', 'sweep_trial.py', 'runner.sh']) expect(parts[name]).toBe(sha256(files[name]));
  expect(parts['config.json']).toBe(files['config.json']);
});

test('a change to any program file changes the fingerprint, even to one character', () => {
  const files = programFiles({ study: 's' } as any);
  const base = programFilesFingerprint(files);
  for (const name of Object.keys(files)) {
    const edited = Object.assign({}, files, { [name]: `${files[name].slice(0, -1)}${files[name].endsWith('x') ? 'y' : 'x'}` });
    expect(programFilesFingerprint(edited)).not.toBe(base);
    // A file that is not one of the fixed programs enters by its text.
    expect(JSON.parse(programFilesFingerprint(edited))[name]).toBe(edited[name]);
  }
});

test('property: equal configs give equal fingerprints, different configs different ones', () => {
  const config = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
  fc.assert(fc.property(config, config, (a, b) => {
    const fa = programFilesFingerprint(programFiles(a as any));
    expect(programFilesFingerprint(programFiles(JSON.parse(JSON.stringify(a))))).toBe(fa);
    const sameConfig = JSON.stringify(a, null, 2) === JSON.stringify(b, null, 2);
    expect(programFilesFingerprint(programFiles(b as any)) === fa).toBe(sameConfig);
  }), { numRuns: 300 });
});

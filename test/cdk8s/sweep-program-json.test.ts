// The sweep hash serializes the fixed programs once per process: the text must equal JSON.stringify(files).
import { programFiles, programFilesJson } from '../../src/cdk8s/private/sweep-pods';

test('programFilesJson(files) is JSON.stringify(files) for any config (quotes, newlines, unicode)', () => {
  for (const config of [{}, { study: 'a"b', metric: 'val\nloss', note: 'é中\u2028' }, { nested: { list: [1, 2.5, null, true] } }]) {
    const files = programFiles(config as any);
    expect(programFilesJson(files)).toBe(JSON.stringify(files));
  }
});

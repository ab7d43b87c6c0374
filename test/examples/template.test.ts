// Runs the example template test of docs/testing.md (examples/template-test/) as part of the suite,
// and keeps the guide's copy of it verbatim.
import * as fs from 'node:fs';
import * as path from 'node:path';
import '../../examples/template-test/team-template.test';

test('docs/testing.md shows the example template test verbatim', () => {
  const root = path.resolve(__dirname, '..', '..');
  const guide = fs.readFileSync(path.join(root, 'docs', 'testing.md'), 'utf8');
  for (const file of ['team-template.ts', 'team-template.test.ts']) {
    const source = fs.readFileSync(path.join(root, 'examples', 'template-test', file), 'utf8');
    expect(guide).toContain('```ts\n' + source + '```\n');
  }
});

// yamlText: the embedded-manifest writer must give back exactly the data under YAML 1.2 and 1.1 readers.
import * as fc from 'fast-check';
import * as jsYaml from 'js-yaml';
import { parse } from 'yaml';
import { yamlText } from '../../src/core/yaml-text';

const tricky = fc.constantFrom('', ' ', 'yes', 'No', 'ON', 'off', 'y', 'N', 'null', '~', 'true', 'False', '0', '0x1F', '0o17', '1e3', '.inf', '-.Inf', '.nan',
  '2024-01-01', '12:30:00', '190:20:30', '- a', '#c', 'a #b', 'a: b', 'key:', '{x}', '[y]', '"q"', "'s'", '&a', '*a', '!tag', '%x', '@x', '`x`', '|', '>',
  '{{workflow.name}}', '$(JOB_COMPLETION_INDEX)', '--nnodes=2', '-1', '-.inf', '-', '--', '---', '---x', '-o', '/tmp', 'url=s3://b/p', 'http://h:8333', 'a:', 'a: b', 'a:b', 'a::b', '/:', 'x@y', '+1', 'a+b', 'C:/x', 'key=', '-_', '/-1', 'a\nb', 'a\n', 'a\n\n', '\nlead', ' lead\nx', 'trail \nx', 'tab\there', 'x\r\ny', 'é ü 中文',
  '\u2028', '\u0085', 'a\u0000b', '<<', '=', '-', '?', ':', ',', 'kueue.x-k8s.io/queue-name', 'nvidia.com/gpu', '_under', 'A.b/c-d');
const str = fc.oneof(tricky, fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    str, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(str, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
const normalize = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('yamlText', () => {
  test('round-trips any JSON value through YAML 1.2 (yaml, js-yaml) and YAML 1.1 readers', () => {
    fc.assert(fc.property(value, (v) => {
      const text = yamlText(v);
      const expected = normalize(v);
      expect(parse(text)).toEqual(expected);
      expect(parse(text, { version: '1.1' })).toEqual(expected);
      expect(jsYaml.load(text)).toEqual(expected);
    }), { numRuns: 5000 });
  });

  test('writes plain what is plainly a string, quotes the rest, and literal blocks for scripts', () => {
    const text = yamlText({ kind: 'Job', labels: { 'kueue.x-k8s.io/queue-name': 'vision' }, args: ['--nnodes=2', 'yes', '{{workflow.name}}'], n: 2, ok: true, script: 'set -e\necho hi\n', e: [], o: {} });
    expect(text).toBe([
      'kind: Job',
      'labels:',
      '  kueue.x-k8s.io/queue-name: vision',
      'args:',
      '  - --nnodes=2',
      '  - "yes"',
      '  - "{{workflow.name}}"',
      '"n": 2',
      'ok: true',
      'script: |',
      '  set -e',
      '  echo hi',
      'e: []',
      'o: {}',
      '',
    ].join('\n'));
  });

  test('lists of maps put the first key on the dash line', () => {
    expect(yamlText({ rules: [{ action: 'Ignore', on: [{ type: 'DisruptionTarget' }] }] })).toBe(
      'rules:\n  - action: Ignore\n    "on":\n      - type: DisruptionTarget\n');
  });
  test('every string of up to 3 characters from a YAML-hostile alphabet reads back as itself, as key, value and item', () => {
    const chars = 'aeEyYnNoOfFtT/-_.:=@+01x~ #';
    const wrong: string[] = [];
    const visit = (s: string): void => {
      if (s) {
        const text = yamlText({ k: s, [s]: 1, l: [s] });
        for (const r of [parse(text), parse(text, { version: '1.1' }), jsYaml.load(text)] as any[]) {
          if (r.k !== s || r[s] !== 1 || r.l[0] !== s) wrong.push(s);
        }
      }
      if (s.length < 3) for (const c of chars) visit(s + c);
    };
    visit('');
    expect(wrong).toEqual([]);
  });
});

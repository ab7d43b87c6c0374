import { formatValue, Issues, ValidationError } from '../../src/core';

describe('ValidationError', () => {
  test('lists every issue as `path` (value): fix', () => {
    const e = new ValidationError('TuningSweep "hpo"', [
      { path: 'searchSpace.lr.low', value: 0, message: 'must be > 0 when log is true' },
      { path: 'budget.parallel', value: -1, message: 'must be at least 1' },
    ]);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.name).toBe('ValidationError');
    expect(e.issues.map((i) => i.path)).toEqual(['searchSpace.lr.low', 'budget.parallel']);
    expect(e.message).toBe(
      'TuningSweep "hpo": 2 invalid props\n' +
      '  - `searchSpace.lr.low` (0): must be > 0 when log is true\n' +
      '  - `budget.parallel` (-1): must be at least 1');
  });

  test('Issues collects, prefixes nested issues and throws once', () => {
    const issues = new Issues('X');
    issues.add('a', 'v', 'fix a');
    const r = issues.capture('nested', () => { throw new ValidationError('Inner', [{ path: 'b', value: 2, message: 'fix b' }]); });
    expect(r).toBeUndefined();
    expect(issues.ok).toBe(false);
    expect(issues.all.map((i) => i.path)).toEqual(['a', 'nested.b']);
    expect(() => issues.throwIfAny()).toThrow(ValidationError);
    expect(() => new Issues('Y').throwIfAny()).not.toThrow();
    expect(() => issues.capture('x', () => { throw new TypeError('boom'); })).toThrow(TypeError);
  });

  test('formatValue renders values compactly', () => {
    expect(formatValue('a')).toBe('"a"');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatValue('x'.repeat(200))).toHaveLength(80);
    const cyclic: any = {}; cyclic.self = cyclic;
    expect(formatValue(cyclic)).toBe('[object Object]');
  });
});

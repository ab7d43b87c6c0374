import * as fc from 'fast-check';
import { Issues } from '../../src/core';
import { ChoiceValue, resolveSearchSpace, SearchParameter, valueCount } from '../../src/core/sweep';

const NAMES = ['lr', 'layers', 'opt', 'momentum', 'dropout', 'batch', 'act', 'wd', '_beta', 'units2'];

const anyInt: fc.Arbitrary<Omit<SearchParameter & { type: 'int' }, 'name'>> = fc.oneof(
  fc.record({ low: fc.integer({ min: -50, max: 50 }), step: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 30 }) })
    .map(({ low, step, k }) => ({ type: 'int' as const, low, high: low + k * step, step })),
  fc.record({ low: fc.integer({ min: 1, max: 64 }), k: fc.integer({ min: 1, max: 1000 }) }).map(({ low, k }) => ({ type: 'int' as const, low, high: low + k, log: true })),
);

const anyFloat: fc.Arbitrary<Omit<SearchParameter & { type: 'float' }, 'name'>> = fc.oneof(
  fc.record({ low: fc.double({ min: -100, max: 100, noNaN: true }), width: fc.double({ min: 1e-3, max: 100, noNaN: true }) })
    .map(({ low, width }) => ({ type: 'float' as const, low, high: low + width })),
  fc.record({ low: fc.double({ min: 1e-8, max: 1, noNaN: true }), factor: fc.double({ min: 1.5, max: 1e4, noNaN: true }) })
    .map(({ low, factor }) => ({ type: 'float' as const, low, high: low * factor, log: true })),
  fc.record({ low: fc.integer({ min: -20, max: 20 }), step: fc.constantFrom(0.01, 0.1, 0.25, 0.5, 2), k: fc.integer({ min: 1, max: 50 }) })
    .map(({ low, step, k }) => ({ type: 'float' as const, low: low / 10, high: low / 10 + k * step, step })),
);

const anyChoices: fc.Arbitrary<ChoiceValue[]> = fc.uniqueArray(fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.integer({ min: -9, max: 99 }), fc.boolean()), {
  minLength: 1, maxLength: 5, selector: (c) => `${typeof c}:${String(c)}`,
});

/** A valid space: unique names, valid ranges, conditions only on earlier categorical parameters and on their choices. */
const validSpace: fc.Arbitrary<SearchParameter[]> = fc.shuffledSubarray(NAMES, { minLength: 1, maxLength: 7 }).chain((names) =>
  fc.tuple(...names.map(() => fc.tuple(fc.oneof(anyInt, anyFloat, anyChoices.map((choices) => ({ type: 'categorical' as const, choices }))), fc.nat(), fc.nat(), fc.boolean())))
    .map((shapes) => {
      const out: SearchParameter[] = [];
      shapes.forEach(([shape, pick, value, conditional], i) => {
        const parents = out.filter((p): p is SearchParameter & { type: 'categorical' } => p.type === 'categorical');
        const parent = conditional && parents.length > 0 ? parents[pick % parents.length] : undefined;
        const when = parent ? { parameter: parent.name, equals: parent.choices[value % parent.choices.length] } : undefined;
        out.push({ ...shape, name: names[i], ...(when ? { when } : {}) } as SearchParameter);
      });
      return out;
    }));

function issuesOf(space: SearchParameter[]): Issues {
  const issues = new Issues('space');
  resolveSearchSpace(issues, 'parameters', space);
  return issues;
}

/** One corruption of parameter `i`, with the path its issue must name. */
type Corruption = (space: SearchParameter[], i: number) => { space: SearchParameter[]; path: string } | undefined;

function replace(space: SearchParameter[], i: number, p: Record<string, unknown>): SearchParameter[] {
  return space.map((q, j) => (j === i ? (p as unknown as SearchParameter) : q));
}

const corruptions: Record<string, Corruption> = {
  'high not above low': (s, i) => (s[i].type === 'categorical' ? undefined : { space: replace(s, i, { ...s[i], high: s[i].low }), path: `parameters[${i}].high` }),
  'log with low ≤ 0': (s, i) => (s[i].type === 'float'
    ? { space: replace(s, i, { name: s[i].name, type: 'float', low: 0, high: 1, log: true, when: s[i].when }), path: `parameters[${i}].low` } : undefined),
  'empty choices': (s, i) => (s[i].type === 'categorical' ? { space: replace(s, i, { ...s[i], choices: [] }), path: `parameters[${i}].choices` } : undefined),
  'a duplicated choice': (s, i) => (s[i].type === 'categorical'
    ? {
      space: replace(s, i, { ...s[i], choices: [...(s[i] as { choices: readonly ChoiceValue[] }).choices, (s[i] as { choices: readonly ChoiceValue[] }).choices[0]] }),
      path: `parameters[${i}].choices[${(s[i] as { choices: readonly ChoiceValue[] }).choices.length}]`,
    } : undefined),
  'a condition on an unknown parameter': (s, i) => ({ space: replace(s, i, { ...s[i], when: { parameter: 'nope', equals: 'x' } }), path: `parameters[${i}].when.parameter` }),
  'a duplicate name': (s, i) => (i === 0 ? undefined : { space: replace(s, i, { ...s[i], name: s[0].name }), path: `parameters[${i}].name` }),
  'an invalid name': (s, i) => ({ space: replace(s, i, { ...s[i], name: `${i}-bad` }), path: `parameters[${i}].name` }),
  'a non-whole number of steps': (s, i) => (s[i].type === 'int' && !s[i].log
    ? { space: replace(s, i, { ...s[i], step: 2, high: s[i].low + 3 }), path: `parameters[${i}].high` } : undefined),
};

describe('search-space validation (fast-check)', () => {
  test('every valid space is accepted, in order, with its discrete sizes', () => {
    fc.assert(fc.property(validSpace, (space) => {
      const issues = new Issues('space');
      const out = resolveSearchSpace(issues, 'parameters', space);
      expect(issues.all).toEqual([]);
      expect(out.map((p) => p.name)).toEqual(space.map((p) => p.name));
      for (const p of out) {
        const n = valueCount(p);
        if (p.type === 'categorical') expect(n).toBe(p.choices.length);
        if (p.type === 'int') expect(n).toBe((p.high - p.low) / p.step + 1);
        if (p.type === 'float') expect(n === undefined).toBe(p.step === undefined);
      }
    }), { numRuns: 300 });
  });

  test('any single corruption is rejected, naming its path', () => {
    const kinds = Object.keys(corruptions);
    fc.assert(fc.property(validSpace, fc.nat(), fc.constantFrom(...kinds), (space, at, kind) => {
      const i = at % space.length;
      const c = corruptions[kind](space, i);
      fc.pre(c !== undefined);
      const issues = issuesOf(c!.space);
      expect(issues.ok).toBe(false);
      expect(issues.all.map((x) => x.path)).toContain(c!.path);
    }), { numRuns: 500 });
  });
});

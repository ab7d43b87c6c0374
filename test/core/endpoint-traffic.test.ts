import * as fc from 'fast-check';
import { isDnsLabel, Issues } from '../../src/core';
import { mirrorAmount, planTraffic, TrafficInput, versionObjectName } from '../../src/core/endpoint';

/** Distinct version names. */
const names = (n: number) => fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/), { minLength: n, maxLength: n });

/** 1-6 canary / A/B weights whose sum is at most 100. */
const weights = fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }).map((ws) => ws.map((w) => Math.floor(w / ws.length)));

function plan(inputs: TrafficInput[]) {
  const issues = new Issues('test');
  const p = planTraffic(issues, 'versions', inputs);
  return { p, issues: issues.all };
}

describe('traffic splits (fast-check)', () => {
  test('any valid split renders weights that add up to 100, the stable version taking the rest', () => {
    fc.assert(fc.property(weights, names(7), (ws, ns) => {
      const inputs: TrafficInput[] = [{ name: ns[0], stable: true }, ...ws.map((w, i) => ({ name: ns[i + 1], weight: w }))];
      const { p, issues } = plan(inputs);
      expect(issues).toEqual([]);
      expect(p.backends.reduce((a, b) => a + b.weight, 0)).toBe(100);
      expect(p.backends.every((b) => Number.isInteger(b.weight) && b.weight >= 0 && b.weight <= 100)).toBe(true);
      expect(p.stable).toBe(ns[0]);
      expect(p.backends[0].weight).toBe(100 - ws.reduce((a, b) => a + b, 0));
    }));
  });

  test('an explicit stable weight is accepted exactly when the total is 100', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100 }), weights, names(7), (stable, ws, ns) => {
      const total = stable + ws.reduce((a, b) => a + b, 0);
      const { issues } = plan([{ name: ns[0], stable: true, weight: stable }, ...ws.map((w, i) => ({ name: ns[i + 1], weight: w }))]);
      expect(issues.length === 0).toBe(total === 100);
      if (total !== 100) expect(issues[0]).toMatchObject({ path: 'versions[*].weight' });
    }));
  });

  test('shadows never take live traffic; the mirror amount is exactly the percentage', () => {
    const percent = fc.integer({ min: 1, max: 10000 }).map((n) => n / 100);
    fc.assert(fc.property(fc.array(percent, { minLength: 1, maxLength: 3 }), names(4), (ps, ns) => {
      const { p, issues } = plan([{ name: ns[0] }, ...ps.map((m, i) => ({ name: ns[i + 1], mirrorPercent: m }))]);
      expect(issues).toEqual([]);
      expect(p.backends).toEqual([{ name: ns[0], weight: 100 }]);
      for (const m of p.mirrors) {
        const a = mirrorAmount(m.percent);
        const value = 'percent' in a ? a.percent : (100 * a.fraction.numerator) / a.fraction.denominator;
        expect(value).toBeCloseTo(m.percent, 9);
        if ('fraction' in a) expect(a.fraction.numerator).toBeLessThanOrEqual(a.fraction.denominator);
        else expect(Number.isInteger(a.percent)).toBe(true);
      }
    }));
  });

  test('percentages outside 0-100 are always rejected', () => {
    const bad = fc.oneof(fc.double({ min: -1e6, max: -0.01, noNaN: true }), fc.double({ min: 100.01, max: 1e6, noNaN: true }), fc.constant(0));
    fc.assert(fc.property(bad, (m) => {
      const { issues } = plan([{ name: 'stable' }, { name: 'shadow', mirrorPercent: m }]);
      expect(issues.map((i) => i.path)).toContain('versions[1].mirrorPercent');
    }));
  });
});

describe('object names (fast-check)', () => {
  test('<endpoint>-<version> is always a DNS-1123 label of at most 63 characters, distinct per version', () => {
    const endpoint = fc.stringMatching(/^[a-z][a-z0-9-]{0,28}[a-z0-9]$/);
    fc.assert(fc.property(endpoint, names(2), (e, [a, b]) => {
      const [na, nb] = [versionObjectName(e, a), versionObjectName(e, b)];
      expect(isDnsLabel(na) && isDnsLabel(nb)).toBe(true);
      expect(na.length).toBeLessThanOrEqual(63);
      expect(na).not.toBe(nb);
      expect(na).toBe(`${e}-${a}`);
    }));
  });
});

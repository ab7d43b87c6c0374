import * as fc from 'fast-check';
import { checkDnsLabel, childName, dnsLabel, dnsSubdomain, isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName, Issues, labelValue, shortHash } from '../../src/core';

describe('dnsLabel', () => {
  test('keeps a name that is already a valid label', () => {
    expect(dnsLabel('train-resnet')).toBe('train-resnet');
    expect(dnsLabel(['ml', 'tracking'])).toBe('ml-tracking');
  });

  test('sanitizes and appends a hash of the original input', () => {
    expect(dnsLabel('Train_ResNet.50')).toBe(`train-resnet-50-${shortHash('Train_ResNet.50')}`);
    expect(dnsLabel('---')).toBe(shortHash('---'));
  });

  test('truncates to 63 characters with a hash suffix', () => {
    const long = 'a'.repeat(100);
    const name = dnsLabel(long);
    expect(name).toHaveLength(63);
    expect(name.endsWith(`-${shortHash(long)}`)).toBe(true);
    expect(dnsLabel(long, 20)).toHaveLength(20);
  });

  test('childName keeps the suffix readable and the result unique', () => {
    const parent = 'p'.repeat(60);
    const a = childName(parent, 'tracking');
    const b = childName(parent, 'database');
    expect(isDnsLabel(a) && isDnsLabel(b)).toBe(true);
    expect(a).not.toBe(b);
  });

  test('property: always a DNS-1123 label of at most maxLength characters', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.integer({ min: 8, max: 63 }), (s, max) => {
      const n = dnsLabel(s, max);
      return isDnsLabel(n) && n.length <= max;
    }), { numRuns: 2000 });
  });

  test('property: stable (same input, same name) and unique for distinct inputs', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (a, b) => {
      expect(dnsLabel(a)).toBe(dnsLabel(a));
      if (a !== b) expect(dnsLabel(a)).not.toBe(dnsLabel(b));
    }), { numRuns: 2000 });
  });

  test('property: unique across construct paths that differ only in case or punctuation', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9_.]{1,30}$/), { minLength: 1, maxLength: 6 }), (parts) => {
      const lower = parts.map((p) => p.toLowerCase());
      if (lower.join('-') !== parts.join('-')) expect(dnsLabel(parts)).not.toBe(dnsLabel(lower));
    }), { numRuns: 500 });
  });
});

describe('dnsSubdomain and labelValue', () => {
  test('property: subdomains are valid and ≤ 253', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => {
      const n = dnsSubdomain(s);
      return isDnsSubdomain(n) && n.length <= 253;
    }), { numRuns: 1000 });
  });

  test('label values keep case, dots and underscores when valid', () => {
    expect(labelValue('v1.2_RC')).toBe('v1.2_RC');
    expect(labelValue('')).toBe('');
    expect(labelValue('git@github.com:org/repo')).toBe(`git-github.com-org-repo-${shortHash('git@github.com:org/repo')}`);
  });

  test('property: label values are always valid and ≤ 63', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => isLabelValue(labelValue(s))), { numRuns: 2000 });
  });

  test('qualified names (label keys)', () => {
    expect(isQualifiedName('mlplatform.io/gpu-pool')).toBe(true);
    expect(isQualifiedName('app')).toBe(true);
    expect(isQualifiedName('Bad_Prefix/x')).toBe(false);
    expect(isQualifiedName(`x/${'a'.repeat(64)}`)).toBe(false);
  });
});

describe('checkDnsLabel', () => {
  test('records the path, value and a valid suggestion', () => {
    const issues = new Issues('MlPlatform "ml"');
    expect(checkDnsLabel(issues, 'tenants[0].name', 'Team_A')).toBe(false);
    expect(checkDnsLabel(issues, 'pools[0].name', 'gpu-a10g')).toBe(true);
    expect(checkDnsLabel(issues, 'name', '')).toBe(false);
    expect(() => issues.throwIfAny()).toThrow(
      'MlPlatform "ml": 2 invalid props\n' +
      `  - \`tenants[0].name\` ("Team_A"): must be a DNS-1123 label of at most 63 characters: lowercase letters, digits and "-", starting and ending with a letter or digit (for example "team-a-${shortHash('Team_A')}")\n` +
      '  - `name` (""): must be a non-empty DNS-1123 label (lowercase letters, digits and "-")');
  });
});

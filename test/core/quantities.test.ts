import * as fc from 'fast-check';
import { Cpu, Duration, Size, ValidationError } from '../../src/core';

describe('Size', () => {
  test('renders the largest exact binary unit', () => {
    expect(Size.gibibytes(2).toKubernetes()).toBe('2Gi');
    expect(Size.mebibytes(1536).toKubernetes()).toBe('1536Mi');
    expect(Size.gibibytes(1.5).toKubernetes()).toBe('1536Mi');
    expect(Size.bytes(1000).toKubernetes()).toBe('1000');
    expect(Size.tebibytes(1).toGibibytes()).toBe(1024);
  });

  test('parses Kubernetes quantities and rejects 2GB', () => {
    expect(Size.parse('512Mi').bytes).toBe(512 * 2 ** 20);
    expect(Size.parse('1G').bytes).toBe(1e9);
    expect(Size.parse('1G').toKubernetes()).toBe('1G');
    expect(() => Size.parse('2GB')).toThrow(ValidationError);
    expect(() => Size.parse('2GB')).toThrow(/\(\"2GB\"\): must be a Kubernetes quantity such as "512Mi"/);
  });

  test('rejects negative, non-finite and fractional-byte amounts', () => {
    expect(() => Size.gibibytes(-1)).toThrow('`size` (-1): must be a finite number of GiB ≥ 0');
    expect(() => Size.mebibytes(Number.NaN)).toThrow(ValidationError);
    expect(() => Size.bytes(0.5)).toThrow(/whole number of bytes/);
  });

  test('property: toKubernetes round-trips through parse', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (b) => Size.parse(Size.bytes(b).toKubernetes()).bytes === b));
  });

  test('arithmetic', () => {
    expect(Size.mebibytes(512).plus(Size.mebibytes(512)).toKubernetes()).toBe('1Gi');
    expect(Size.mebibytes(256).times(3).toKubernetes()).toBe('768Mi');
    expect(Size.gibibytes(1).compareTo(Size.mebibytes(1024))).toBe(0);
  });
});

describe('Cpu', () => {
  test('renders whole cores and millicores', () => {
    expect(Cpu.cores(2).toKubernetes()).toBe('2');
    expect(Cpu.millis(250).toKubernetes()).toBe('250m');
    expect(Cpu.cores(0.5).toKubernetes()).toBe('500m');
    expect(Cpu.parse('1.5').millicores).toBe(1500);
    expect(Cpu.parse('100m').toCores()).toBe(0.1);
  });

  test('rejects bad input', () => {
    expect(() => Cpu.millis(0.5)).toThrow('`cpu` (0.5): must be a whole number of millicores');
    expect(() => Cpu.cores(-1)).toThrow(ValidationError);
    expect(() => Cpu.parse('1 core')).toThrow(/must be a CPU quantity/);
  });

  test('property: parse(toKubernetes(x)) == x', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 7 }), (m) => Cpu.parse(Cpu.millis(m).toKubernetes()).millicores === m));
  });

  test('arithmetic', () => {
    expect(Cpu.millis(250).plus(Cpu.millis(750)).toKubernetes()).toBe('1');
    expect(Cpu.millis(100).times(5).compareTo(Cpu.millis(500))).toBe(0);
  });
});

describe('Duration', () => {
  test('Go syntax and seconds', () => {
    expect(Duration.minutes(90).toGo()).toBe('1h30m');
    expect(Duration.seconds(45).toGo()).toBe('45s');
    expect(Duration.seconds(0).toGo()).toBe('0s');
    expect(Duration.days(1).toSeconds()).toBe(86400);
    expect(Duration.parse('1h30m').toSeconds()).toBe(5400);
    expect(Duration.parse('2m5s').toSeconds()).toBe(125);
  });

  test('rejects bad input', () => {
    expect(() => Duration.parse('ten minutes')).toThrow('`duration` ("ten minutes"): must be a duration such as "90s", "30m" or "1h30m"');
    expect(() => Duration.seconds(1.5)).toThrow(/whole number of seconds/);
    expect(() => Duration.hours(-2)).toThrow(ValidationError);
  });

  test('property: parse(toGo(x)) == x', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 7 }), (s) => Duration.parse(Duration.seconds(s).toGo()).toSeconds() === s));
  });
});

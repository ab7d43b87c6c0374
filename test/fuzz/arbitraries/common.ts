// Shared building blocks of the fuzzing arbitraries: names, images, quantities, Secret references.
import * as fc from 'fast-check';
import { Cpu, Duration, SecretKeyRef, Size } from '../../../src/core';

/** A DNS-1123 label starting with a letter, of `min`..`max` characters. */
export function dnsLabel(max = 12, min = 1): fc.Arbitrary<string> {
  return fc.tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: Math.max(0, min - 1), maxLength: max - 1 }),
  ).map(([h, t]) => (h + t).replace(/-+$/, '')).filter((s) => s.length >= min);
}

/** An identifier (a letter, then letters, digits and "_"). */
export const identifier: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_'), maxLength: 10 }),
).map(([h, t]) => h + t);

/** A pinned image reference (a version tag or a digest). */
export const image: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('ghcr.io/acme', 'docker.io/library', 'registry.example.com:5000/ml', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team'), dnsLabel(10), fc.nat(20), fc.nat(30), fc.nat(9))
    .map(([r, n, a, b, c]) => `${r}/${n}:${a}.${b}.${c}`),
  fc.tuple(dnsLabel(10), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }))
    .map(([n, d]) => `ghcr.io/acme/${n}@sha256:${d}`),
);

/** A reference to a key of a Secret in the workload's namespace. */
export const secretRef: fc.Arbitrary<SecretKeyRef> = fc.record({
  name: dnsLabel(20),
  key: fc.constantFrom('password', 'username', 'token', 'api-key', 'url', 'AWS_SECRET', 'tls.key'),
});

/** A CPU request in millicores or cores. */
export function cpu(minMillis = 50, maxMillis = 4000): fc.Arbitrary<Cpu> {
  return fc.oneof(
    fc.integer({ min: minMillis, max: maxMillis }).map((m) => Cpu.millis(m)),
    fc.integer({ min: Math.max(1, Math.ceil(minMillis / 1000)), max: Math.max(1, Math.floor(maxMillis / 1000)) }).map((c) => Cpu.cores(c)),
  );
}

/** A memory size in MiB or GiB. */
export function memory(minMiB = 64, maxMiB = 16384): fc.Arbitrary<Size> {
  return fc.oneof(
    fc.integer({ min: minMiB, max: maxMiB }).map((m) => Size.mebibytes(m)),
    fc.integer({ min: Math.max(1, Math.ceil(minMiB / 1024)), max: Math.max(1, Math.floor(maxMiB / 1024)) }).map((g) => Size.gibibytes(g)),
  );
}

/** A duration between `minSeconds` and `maxSeconds`, in the unit a user would write. */
export function duration(minSeconds: number, maxSeconds: number): fc.Arbitrary<Duration> {
  return fc.integer({ min: minSeconds, max: maxSeconds }).map((s) =>
    s % 3600 === 0 ? Duration.hours(s / 3600) : s % 60 === 0 ? Duration.minutes(s / 60) : Duration.seconds(s));
}

/** A fully qualified host name. */
export const host: fc.Arbitrary<string> = fc.tuple(dnsLabel(10), fc.constantFrom('example.com', 'ml.acme.io', 'internal.example.org'))
  .map(([a, b]) => `${a}.${b}`);

/** Environment variables with names outside every reserved prefix. */
export const env: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom('OMP_NUM_THREADS', 'LOG_LEVEL', 'HF_HOME', 'TZ', 'CUDA_LAUNCH_BLOCKING', 'DATA_DIR', 'APP_MODE'),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_./: '), maxLength: 16 }),
  { maxKeys: 3 },
);

/** Labels / annotations with valid keys and values. */
export const labels: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom('release', 'team', 'app.kubernetes.io/instance', 'example.com/tier'),
  dnsLabel(12),
  { maxKeys: 2 },
);

/** Makes `values` unique, keeping the first occurrence (by `key`). */
export function uniqueBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(key(v)) ? false : (seen.add(key(v)), true)));
}

/** Drops undefined fields, so a generated props object looks like one a user writes. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

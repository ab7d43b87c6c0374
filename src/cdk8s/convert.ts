import { Duration as CdkDuration, Size as CdkSize } from 'cdk8s';
import type { Cpu as KplusCpu } from 'cdk8s-plus-27';
import { Cpu, Duration, Size } from '../core';

/** The cdk8s `Size` for a core {@link Size} (exact, in bytes expressed as KiB/MiB/GiB when whole). */
export function toCdk8sSize(size: Size): CdkSize {
  const b = size.bytes;
  if (b % 2 ** 30 === 0) return CdkSize.gibibytes(b / 2 ** 30);
  if (b % 2 ** 20 === 0) return CdkSize.mebibytes(b / 2 ** 20);
  return CdkSize.kibibytes(b / 2 ** 10);
}

/** The cdk8s `Duration` for a core {@link Duration}. */
export function toCdk8sDuration(d: Duration): CdkDuration {
  return CdkDuration.seconds(d.toSeconds());
}

/** The cdk8s-plus `Cpu` for a core {@link Cpu}. */
export function toKplusCpu(cpu: Cpu): KplusCpu {
  // Loaded on first use: nothing else of the library needs cdk8s-plus-27 at run time (≈ 80 ms to load).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kplus = require('cdk8s-plus-27') as typeof import('cdk8s-plus-27');
  return kplus.Cpu.millis(cpu.millicores);
}

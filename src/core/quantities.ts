import { ValidationError } from './errors';

function bad(kind: string, value: unknown, message: string): never {
  throw new ValidationError(kind, [{ path: kind.toLowerCase(), value, message }]);
}

/** `n` when it is a finite number ≥ 0, before any arithmetic on it (an object would throw a TypeError there). */
function amountOf(kind: string, n: number, unit: string): number {
  checkAmount(kind, n, unit);
  return n;
}

function checkAmount(kind: string, amount: number, unit: string): void {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    bad(kind, amount, `must be a finite number of ${unit} ≥ 0`);
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/**
 * An amount of bytes (memory, ephemeral storage, volume size), rendered as a Kubernetes quantity.
 * Built with the unit in the call, never from a loose string: `Size.gibibytes(4)`.
 */
export class Size {
  /** `n` bytes. */
  public static bytes(n: number): Size {
    return new Size(n, 'bytes');
  }
  /** `n` KiB (1024 bytes). */
  public static kibibytes(n: number): Size {
    return new Size(amountOf('Size', n, 'KiB') * BINARY.Ki, 'KiB', n);
  }
  /** `n` MiB. */
  public static mebibytes(n: number): Size {
    return new Size(amountOf('Size', n, 'MiB') * BINARY.Mi, 'MiB', n);
  }
  /** `n` GiB. */
  public static gibibytes(n: number): Size {
    return new Size(amountOf('Size', n, 'GiB') * BINARY.Gi, 'GiB', n);
  }
  /** `n` TiB. */
  public static tebibytes(n: number): Size {
    return new Size(amountOf('Size', n, 'TiB') * BINARY.Ti, 'TiB', n);
  }
  /**
   * Parses a Kubernetes quantity such as `512Mi`, `20Gi`, `1G` or `1048576`. Strings such as `2GB`
   * (not a Kubernetes suffix) are rejected with a {@link ValidationError} naming the fix.
   */
  public static parse(quantity: string): Size {
    const m = typeof quantity === 'string' ? QUANTITY.exec(quantity) : null;
    if (!m) {
      return bad('Size', quantity,
        'must be a Kubernetes quantity such as "512Mi", "20Gi" or "1G" (binary suffixes Ki, Mi, Gi, Ti; decimal k, M, G, T); "2GB" is not one');
    }
    const factor = m[2] ? BINARY[m[2]] ?? DECIMAL[m[2]] : 1;
    return new Size(Number(m[1]) * factor, 'bytes', undefined, quantity);
  }

  /** The number of bytes (an integer). */
  public readonly bytes: number;

  private constructor(bytes: number, unit: string, given?: number, private readonly original?: string) {
    checkAmount('Size', given ?? bytes, unit);
    if (!Number.isFinite(bytes)) bad('Size', given ?? bytes, `is too large: ${given ?? bytes} ${unit} is no finite number of bytes`);
    const rounded = Math.round(bytes);
    if (Math.abs(rounded - bytes) > 1e-6 * Math.max(1, bytes)) {
      bad('Size', given ?? bytes, `must be a whole number of bytes (${bytes} is not); use a smaller unit`);
    }
    this.bytes = rounded;
  }

  /** The size in MiB (may be fractional). */
  public toMebibytes(): number {
    return this.bytes / BINARY.Mi;
  }

  /** The size in GiB (may be fractional). */
  public toGibibytes(): number {
    return this.bytes / BINARY.Gi;
  }

  /** The Kubernetes quantity: the largest binary unit that divides it exactly (`1536Mi`, `2Gi`), else bytes. */
  public toKubernetes(): string {
    if (this.original) return this.original;
    for (const unit of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
      const f = BINARY[unit];
      if (this.bytes >= f && this.bytes % f === 0) return `${this.bytes / f}${unit}`;
    }
    return String(this.bytes);
  }

  /** The sum of this size and `other`. */
  public plus(other: Size): Size {
    return Size.bytes(this.bytes + other.bytes);
  }

  /** This size times a non-negative integer `n`. */
  public times(n: number): Size {
    return Size.bytes(this.bytes * n);
  }

  /** Negative, zero or positive as this size is smaller than, equal to or larger than `other`. */
  public compareTo(other: Size): number {
    return this.bytes - other.bytes;
  }

  /** Same as {@link toKubernetes}. */
  public toString(): string {
    return this.toKubernetes();
  }
}

const CPU = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(m)?$/;

/** An amount of CPU, in whole millicores (`Cpu.millis(500)` is half a core). */
export class Cpu {
  /** `n` millicores (an integer). */
  public static millis(n: number): Cpu {
    return new Cpu(n, 'millicores');
  }
  /** `n` cores; fractions down to a millicore (`Cpu.cores(0.25)`). */
  public static cores(n: number): Cpu {
    checkAmount('Cpu', n, 'cores');
    return new Cpu(Math.round(amountOf('Cpu', n, 'cores') * 1000), 'cores', n);
  }
  /** Parses a Kubernetes CPU quantity: `250m`, `2` or `0.5`. */
  public static parse(quantity: string): Cpu {
    const m = typeof quantity === 'string' ? CPU.exec(quantity) : null;
    if (!m) return bad('Cpu', quantity, 'must be a CPU quantity such as "250m", "2" or "0.5"');
    return m[2] ? Cpu.millis(Number(m[1])) : Cpu.cores(Number(m[1]));
  }

  /** Millicores (an integer). */
  public readonly millicores: number;

  private constructor(millis: number, unit: string, given?: number) {
    checkAmount('Cpu', given ?? millis, unit);
    if (!Number.isFinite(millis)) bad('Cpu', given ?? millis, `is too large: ${given ?? millis} ${unit} is no finite number of millicores`);
    if (!Number.isInteger(millis)) bad('Cpu', given ?? millis, 'must be a whole number of millicores');
    this.millicores = millis;
  }

  /** Cores (may be fractional). */
  public toCores(): number {
    return this.millicores / 1000;
  }

  /** The Kubernetes quantity: `2` for whole cores, `250m` otherwise. */
  public toKubernetes(): string {
    return this.millicores % 1000 === 0 ? String(this.millicores / 1000) : `${this.millicores}m`;
  }

  /** The sum of this amount and `other`. */
  public plus(other: Cpu): Cpu {
    return Cpu.millis(this.millicores + other.millicores);
  }

  /** This amount times a non-negative integer `n`. */
  public times(n: number): Cpu {
    return Cpu.millis(this.millicores * n);
  }

  /** Negative, zero or positive as this amount is smaller than, equal to or larger than `other`. */
  public compareTo(other: Cpu): number {
    return this.millicores - other.millicores;
  }

  /** Same as {@link toKubernetes}. */
  public toString(): string {
    return this.toKubernetes();
  }
}

const GO_DURATION = /^(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+)s)?$/;

/** A length of time, in whole seconds: `Duration.minutes(30)`. */
export class Duration {
  /** `n` whole seconds. */
  public static seconds(n: number): Duration {
    return new Duration(n, 'seconds', n);
  }
  /** `n` minutes. */
  public static minutes(n: number): Duration {
    return new Duration(amountOf('Duration', n, 'minutes') * 60, 'minutes', n);
  }
  /** `n` hours. */
  public static hours(n: number): Duration {
    return new Duration(amountOf('Duration', n, 'hours') * 3600, 'hours', n);
  }
  /** `n` days. */
  public static days(n: number): Duration {
    return new Duration(amountOf('Duration', n, 'days') * 86400, 'days', n);
  }
  /** Parses a Go-style duration of hours, minutes and seconds: `1h30m`, `45s`, `2h`. */
  public static parse(text: string): Duration {
    const m = typeof text === 'string' && text.length > 0 ? GO_DURATION.exec(text) : null;
    if (!m || (!m[1] && !m[2] && !m[3])) return bad('Duration', text, 'must be a duration such as "90s", "30m" or "1h30m"');
    return Duration.seconds(Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0));
  }

  private readonly totalSeconds: number;

  private constructor(seconds: number, unit: string, given: number) {
    checkAmount('Duration', given, unit);
    if (!Number.isInteger(seconds)) bad('Duration', given, `must be a whole number of seconds (${seconds} is not)`);
    this.totalSeconds = seconds;
  }

  /** Whole seconds, as Kubernetes `*Seconds` fields want. */
  public toSeconds(): number {
    return this.totalSeconds;
  }

  /** Go duration syntax (`1h30m`, `45s`, `0s`), as Argo, Flux and KEDA fields want. */
  public toGo(): string {
    let s = this.totalSeconds;
    if (s === 0) return '0s';
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  }

  /** The sum of this duration and `other`. */
  public plus(other: Duration): Duration {
    return Duration.seconds(this.totalSeconds + other.totalSeconds);
  }

  /** Negative, zero or positive as this duration is shorter than, equal to or longer than `other`. */
  public compareTo(other: Duration): number {
    return this.totalSeconds - other.totalSeconds;
  }

  /** Same as {@link toGo}. */
  public toString(): string {
    return this.toGo();
  }
}

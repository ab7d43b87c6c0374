/**
 * One problem found in user input: where it is, what it was, and what to change.
 */
export interface ValidationIssue {
  /** The prop path, as the user wrote it, e.g. `pools[0].maxNodes` or `steps.train.gpus`. */
  readonly path: string;
  /** The offending value (rendered with {@link formatValue} in messages). */
  readonly value: unknown;
  /** What to change, phrased as the fix ("must be at least 1; set it to 1 or more"). */
  readonly message: string;
}

/**
 * Thrown once per construct when its props are invalid. It carries every issue found, not only the
 * first, and its message lists each as `` `path` (value): what to change ``.
 */
export class ValidationError extends Error {
  /** Renders the message for `subject` and `issues` (also used for warnings). */
  public static format(subject: string, issues: readonly ValidationIssue[]): string {
    const n = issues.length;
    const head = `${subject}: ${n} invalid prop${n === 1 ? '' : 's'}`;
    return [head, ...issues.map((i) => `  - \`${i.path}\` (${formatValue(i.value)}): ${i.message}`)].join('\n');
  }

  /** Every issue found, in the order they were found. */
  public readonly issues: readonly ValidationIssue[];

  constructor(subject: string, issues: readonly ValidationIssue[]) {
    super(ValidationError.format(subject, issues));
    this.name = 'ValidationError';
    this.issues = [...issues];
    Object.setPrototypeOf(this, ValidationError.prototype);
  }
}

/**
 * Renders a value compactly for an error message: strings quoted, objects as short JSON,
 * long renderings cut at 80 characters.
 */
export function formatValue(value: unknown): string {
  let text: string;
  if (value === undefined) {text = 'undefined';} else if (typeof value === 'string') {text = JSON.stringify(value);} else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) {text = String(value);} else if (typeof value === 'function') {text = `[function ${(value as { name?: string }).name || 'anonymous'}]`;} else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Collects issues while a construct validates its props, then throws them all at once.
 *
 * ```ts
 * const issues = new Issues('TrainingPipeline train');
 * if (props.retries < 0) issues.add('retries', props.retries, 'must be 0 or more');
 * issues.throwIfAny();
 * ```
 */
export class Issues {
  private readonly list: ValidationIssue[] = [];

  /** @param subject names what is being validated, e.g. `MlPlatform "ml"`. */
  constructor(public readonly subject: string) {}

  /** Records one issue. */
  public add(path: string, value: unknown, message: string): this {
    this.list.push({ path, value, message });
    return this;
  }

  /** Records every issue of a nested validation (paths are prefixed with `prefix.`). */
  public addAll(prefix: string, issues: readonly ValidationIssue[]): this {
    for (const i of issues) this.list.push(Object.assign({}, i, { path: prefix ? `${prefix}.${i.path}` : i.path }));
    return this;
  }

  /**
   * Runs `fn`, and if it throws a {@link ValidationError}, records its issues under `prefix`
   * instead of letting it escape. Returns `fn`'s result, or `undefined` when it failed.
   */
  public capture<T>(prefix: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValidationError) {
        this.addAll(prefix, e.issues);
        return undefined;
      }
      throw e;
    }
  }

  /** Whether no issue has been recorded. */
  public get ok(): boolean {
    return this.list.length === 0;
  }

  /** The issues recorded so far. */
  public get all(): readonly ValidationIssue[] {
    return this.list;
  }

  /** Throws one {@link ValidationError} listing every recorded issue, if any. */
  public throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError(this.subject, this.list);
  }
}

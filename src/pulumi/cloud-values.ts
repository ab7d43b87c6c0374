import * as pulumi from '@pulumi/pulumi';

/*
 * Cloud values (a bucket name, a role ARN, a database endpoint) are Pulumi Outputs, unknown during
 * `pulumi preview` of a new stack. The Kubernetes objects that mention them are still synthesized
 * once, by the cdk8s constructs, with a stable placeholder string in their place; each object is then
 * created with inputs in which the placeholders are replaced inside an `apply`. So every object's
 * type and name are known at preview, and only the fields that carry a cloud value are unknown.
 */

const MARKER = 'mlplatform-cloud-value-';
const SUFFIX = '.invalid';
const PATTERN = /mlplatform-cloud-value-([a-z0-9]+)\.invalid/g;

/**
 * The placeholder synthesized in place of cloud value `key`: `mlplatform-cloud-value-<key>.invalid`.
 * It passes the checks a real value passes (an S3 bucket name, a host name, a DNS name, a label-free
 * annotation value) and, under the reserved `.invalid` top-level domain, can never be a real one.
 */
export function cloudValuePlaceholder(key: string): string {
  if (!/^[a-z0-9]{1,24}$/.test(key)) throw new Error(`cloud value key "${key}" must be 1-24 lowercase letters and digits`);
  return `${MARKER}${key}${SUFFIX}`;
}

/** The keys of every placeholder found anywhere in `value` (strings of nested objects and arrays). */
export function placeholderKeys(value: unknown): string[] {
  const keys = new Set<string>();
  walkStrings(value, (s) => {
    for (const m of s.matchAll(PATTERN)) keys.add(m[1]);
  });
  return [...keys].sort();
}

/**
 * `value` with every placeholder replaced by its entry of `values` (a deep copy; strings keep the text
 * around the placeholder). Throws when a placeholder has no value.
 */
export function substitutePlaceholders<T>(value: T, values: Readonly<Record<string, string>>): T {
  const replace = (s: string): string => s.replace(PATTERN, (_m, key: string) => {
    const v = values[key];
    if (typeof v !== 'string') throw new Error(`no value for cloud value placeholder "${key}" (have: ${Object.keys(values).sort().join(', ') || 'none'})`);
    return v;
  });
  const copy = (v: unknown): unknown => {
    if (typeof v === 'string') return replace(v);
    if (Array.isArray(v)) return v.map(copy);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [replace(k), copy(x)]));
    return v;
  };
  return copy(value) as T;
}

/**
 * The cloud values of one Pulumi component: each registered Input gets a stable placeholder to
 * synthesize with, and {@link CloudValues.resolve} turns a synthesized value back into an Output with
 * the real values in place. A plain string is returned as it is (it needs no placeholder).
 *
 * ```ts
 * const values = new CloudValues();
 * const bucket = values.add('bucket', artifactBucket.bucketName); // "mlplatform-cloud-value-bucket.invalid"
 * new MlPlatform(chart, 'ml', { artifactStore: ArtifactStore.s3({ bucket, ... }) });
 * new KubernetesObjects('ml-objects', { objects: chart.toJson(), cloudValues: values });
 * ```
 */
export class CloudValues {
  private readonly values = new Map<string, pulumi.Input<string>>();
  private readonly seen = new Set<string>();

  /**
   * Registers `value` under `key` and returns what to synthesize with: `value` itself when it is a
   * plain string, otherwise the placeholder of `key`. Registering a key twice is an error.
   */
  public add(key: string, value: pulumi.Input<string>): string {
    const placeholder = cloudValuePlaceholder(key);
    if (this.seen.has(key)) throw new Error(`cloud value "${key}" is already registered`);
    this.seen.add(key);
    if (typeof value === 'string') return value;
    this.values.set(key, value);
    return placeholder;
  }

  /**
   * Binds `value` to `key` after its placeholder was already synthesized (use
   * `cloudValuePlaceholder(key)` to synthesize first, e.g. to validate everything before creating
   * any resource). Binding a key twice is an error.
   */
  public bind(key: string, value: pulumi.Input<string>): void {
    const placeholder = this.add(key, value);
    if (placeholder !== cloudValuePlaceholder(key)) this.values.set(key, value);
  }

  /** The registered keys, sorted. */
  public get keys(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Whether `value` mentions a placeholder (of any component). */
  public mentions(value: unknown): boolean {
    return placeholderKeys(value).length > 0;
  }

  /**
   * `value` with its placeholders replaced, as an Output that depends on exactly the cloud values it
   * mentions (so an object that does not mention a secret does not become secret). Throws at once
   * when `value` mentions a placeholder this set does not hold.
   */
  public resolve<T>(value: T): pulumi.Output<T> {
    const used = placeholderKeys(value);
    const missing = used.filter((k) => !this.values.has(k));
    if (missing.length > 0) throw new Error(`placeholders without a registered cloud value: ${missing.join(', ')}`);
    const inputs: Record<string, pulumi.Input<string>> = {};
    for (const k of used) inputs[k] = this.values.get(k)!;
    return pulumi.all(inputs).apply((resolved) => substitutePlaceholders(value, resolved as Record<string, string>));
  }
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') {
    visit(value);
  } else if (Array.isArray(value)) {
    value.forEach((v) => walkStrings(v, visit));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k);
      walkStrings(v, visit);
    }
  }
}

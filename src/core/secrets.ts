import { Issues } from './errors';
import { isDnsSubdomain } from './names';

/**
 * A reference to one key of an existing Kubernetes Secret. This is how every credential enters
 * mlplatform: the value itself is never written into a manifest.
 */
export interface SecretKeyRef {
  /** The Secret's name (in the namespace of the workload that reads it). */
  readonly name: string;
  /** The key inside the Secret. */
  readonly key: string;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Records an issue for each invalid part of a {@link SecretKeyRef} at `path`.
 * @returns whether the reference is valid
 */
export function checkSecretKeyRef(issues: Issues, path: string, ref: SecretKeyRef | undefined, required = true): boolean {
  if (ref === undefined) {
    if (required) issues.add(path, ref, 'is required: give { name, key } of an existing Secret');
    return !required;
  }
  let ok = true;
  if (typeof ref !== 'object' || ref === null) {
    issues.add(path, ref, 'must be { name, key } of an existing Secret');
    return false;
  }
  if (typeof ref.name !== 'string' || !isDnsSubdomain(ref.name)) {
    issues.add(`${path}.name`, ref.name, 'must be the name of a Secret (a DNS-1123 subdomain)');
    ok = false;
  }
  if (typeof ref.key !== 'string' || ref.key.length === 0 || ref.key.length > 253 || !SECRET_KEY.test(ref.key)) {
    issues.add(`${path}.key`, ref.key, 'must name the key inside the Secret (letters, digits, "-", "_" and "."), e.g. "password"');
    ok = false;
  }
  return ok;
}

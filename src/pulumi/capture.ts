import { Issues, ValidationError } from '../core';

/**
 * Runs `fn` (typically building a cdk8s construct in memory), recording the issues of a
 * ValidationError it throws under `prefix` instead of letting it escape, so that one component
 * reports every problem with its own arg paths: cdk8s paths `options.x` become `<prefix>.x`, `id`
 * (the construct id, which the components take from their resource name) becomes `name`. Any other
 * error is rethrown. Returns undefined when `fn` threw a ValidationError.
 */
export function captureIssues<T>(issues: Issues, prefix: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    for (const i of e.issues) {
      const path = i.path === 'id' ? 'name' : i.path.replace(/^options\./, '');
      issues.add(prefix ? (path === 'options' ? prefix : `${prefix}.${path}`) : path, i.value, i.message);
    }
    return undefined;
  }
}

import type { Finding } from './types';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Renders a JSON pointer as a field path: `/spec/containers/0/resources/limits/nvidia.com~1gpu`
 * becomes `spec.containers[0].resources.limits["nvidia.com/gpu"]`; the root is `(root)`.
 */
export function fieldPath(pointer: string): string {
  if (!pointer || pointer === '/') return '(root)';
  let out = '';
  for (const raw of pointer.replace(/^\//, '').split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(seg)) out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * One line per finding, e.g.
 * `Deployment/web spec.template.spec.containers[0]: unknown field "imagePulPolicy" [schema]`.
 */
export function formatFindings(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.kind}/${f.name} ${fieldPath(f.path)}: ${f.message} [${f.source}]`);
}

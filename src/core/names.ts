import { createHash } from 'node:crypto';
import { Issues } from './errors';

/** Longest DNS-1123 label (Service, Namespace, container and most object names). */
export const MAX_LABEL_LENGTH = 63;
/** Longest DNS-1123 subdomain (ConfigMap, Secret, Deployment names). */
export const MAX_SUBDOMAIN_LENGTH = 253;
/** Length of the hash suffix appended when a name had to be changed or truncated. */
export const HASH_LENGTH = 8;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Whether `s` is a DNS-1123 label: lowercase alphanumerics and '-', ≤ 63 characters. */
export function isDnsLabel(s: string): boolean {
  return typeof s === 'string' && s.length <= MAX_LABEL_LENGTH && DNS_LABEL.test(s);
}

/** Whether `s` is a DNS-1123 subdomain: dot-separated labels, ≤ 253 characters. */
export function isDnsSubdomain(s: string): boolean {
  return typeof s === 'string' && s.length <= MAX_SUBDOMAIN_LENGTH && DNS_SUBDOMAIN.test(s);
}

/** Whether `s` is a valid Kubernetes label value (may be empty), ≤ 63 characters. */
export function isLabelValue(s: string): boolean {
  return typeof s === 'string' && s.length <= MAX_LABEL_LENGTH && LABEL_VALUE.test(s);
}

/** Whether `s` is a valid label or annotation key: an optional DNS subdomain prefix and `/`, then a name ≤ 63. */
export function isQualifiedName(s: string): boolean {
  if (typeof s !== 'string') return false;
  const slash = s.indexOf('/');
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length <= MAX_LABEL_LENGTH && LABEL_KEY_NAME.test(name);
}

/** The first `HASH_LENGTH` hex characters of the SHA-256 of `input`: stable across runs and machines. */
export function shortHash(input: string, length = HASH_LENGTH): string {
  return createHash('sha256').update(input, 'utf8').digest('hex').slice(0, length);
}

function sanitize(s: string, allowed: RegExp, lower: boolean): string {
  const src = lower ? s.toLowerCase() : s;
  let out = '';
  for (const ch of src) out += allowed.test(ch) ? ch : '-';
  return out.replace(/-+/g, '-');
}

function trimEdges(s: string, edge: RegExp): string {
  let start = 0;
  let end = s.length;
  while (start < end && !edge.test(s[start])) start++;
  while (end > start && !edge.test(s[end - 1])) end--;
  return s.slice(start, end);
}

function withHash(base: string, hash: string, max: number, edge: RegExp): string {
  const room = max - hash.length - 1;
  const head = trimEdges(base.slice(0, Math.max(0, room)), edge);
  return head ? `${head}-${hash}` : hash;
}

/**
 * A deterministic DNS-1123 label for `parts` (joined with `-`), at most `maxLength` characters.
 *
 * A name that is already a valid label is kept as it is, so names users chose stay readable. Any
 * other input is lowercased, invalid characters become `-`, and an 8-character hash of the original
 * input is appended, so two different inputs never map to the same name and the same input always
 * does.
 *
 * @param parts the name, or a construct path's segments
 * @param maxLength at most 63 (the default)
 */
export function dnsLabel(parts: string | readonly string[], maxLength = MAX_LABEL_LENGTH): string {
  const raw = typeof parts === 'string' ? parts : parts.filter((p) => p.length > 0).join('-');
  const max = Math.min(Math.max(maxLength, HASH_LENGTH), MAX_LABEL_LENGTH);
  if (raw.length <= max && DNS_LABEL.test(raw)) return raw;
  const base = trimEdges(sanitize(raw, /[a-z0-9-]/, true), /[a-z0-9]/);
  return withHash(base, shortHash(raw), max, /[a-z0-9]/);
}

/**
 * A deterministic DNS-1123 subdomain (≤ 253, or `maxLength`) for `parts`, with the same rules as
 * {@link dnsLabel} (dots are kept).
 */
export function dnsSubdomain(parts: string | readonly string[], maxLength = MAX_SUBDOMAIN_LENGTH): string {
  const raw = typeof parts === 'string' ? parts : parts.filter((p) => p.length > 0).join('-');
  const max = Math.min(Math.max(maxLength, HASH_LENGTH), MAX_SUBDOMAIN_LENGTH);
  if (raw.length <= max && DNS_SUBDOMAIN.test(raw)) return raw;
  const base = trimEdges(sanitize(raw, /[a-z0-9-]/, true), /[a-z0-9]/);
  return withHash(base, shortHash(raw), max, /[a-z0-9]/);
}

/**
 * A deterministic, valid Kubernetes label value for `value` (≤ 63): kept as it is when already
 * valid, otherwise sanitized (`[-A-Za-z0-9_.]`, alphanumeric at both ends) with a hash suffix.
 */
export function labelValue(value: string): string {
  if (isLabelValue(value)) return value;
  const base = trimEdges(sanitize(value, /[-A-Za-z0-9_.]/, false), /[A-Za-z0-9]/);
  return withHash(base, shortHash(value), MAX_LABEL_LENGTH, /[A-Za-z0-9]/);
}

/**
 * A child name `${parent}-${suffix}` that stays a valid DNS label: when too long, the parent part
 * is shortened and a hash of the full name keeps it unique.
 */
export function childName(parent: string, suffix: string, maxLength = MAX_LABEL_LENGTH): string {
  return dnsLabel([parent, suffix], maxLength);
}

/**
 * Checks a user-given name (e.g. a pool, tenant or step name) instead of rewriting it, and records
 * an issue with the fix when it is not a DNS-1123 label of at most `maxLength` characters.
 *
 * @returns whether the name is valid
 */
export function checkDnsLabel(issues: Issues, path: string, value: unknown, maxLength = MAX_LABEL_LENGTH): boolean {
  if (typeof value !== 'string' || value.length === 0) {
    issues.add(path, value, 'must be a non-empty DNS-1123 label (lowercase letters, digits and "-")');
    return false;
  }
  if (value.length > maxLength || !DNS_LABEL.test(value)) {
    const suggestion = dnsLabel(value, maxLength);
    issues.add(path, value,
      `must be a DNS-1123 label of at most ${maxLength} characters: lowercase letters, digits and "-", ` +
      `starting and ending with a letter or digit (for example "${suggestion}")`);
    return false;
  }
  return true;
}

/** The most bytes all annotations of an object may hold (k8s.io/apimachinery pkg/api/validation/objectmeta.go: `TotalAnnotationSizeLimitB`). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/**
 * Checks annotations a user gives for an object (a workload identity's ServiceAccount): each key a
 * qualified name (`[prefix/]name`, as the API server validates it), each value a string, all of them
 * within the API server's 256 KiB. Issues are named `path.<key>`.
 */
export function checkAnnotations(issues: { add(path: string, value: unknown, message: string): unknown }, path: string, annotations: unknown): void {
  if (annotations === null || typeof annotations !== 'object') return;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    if (!isQualifiedName(k)) issues.add(`${path}.${k}`, k, 'is not a valid annotation key: an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and "." starting and ending alphanumeric (e.g. "eks.amazonaws.com/role-arn")');
    if (typeof v !== 'string') issues.add(`${path}.${k}`, v, 'must be a string');
    else size += utf8Length(k) + utf8Length(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) issues.add(path, `${size} bytes`, `holds more than the API server accepts for an object's annotations (${TOTAL_ANNOTATION_SIZE_LIMIT} bytes in all)`);
}

/** The length of `s` in UTF-8 bytes (what the API server and the kernel count). */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Network host names and IP literals as they are composed into connection URIs, libpq conninfo
 * and INI files: the grammar is checked so that no character of a host can mean something else
 * there (`?` starts URI options, `/` a path, `@` user info, `%` configparser interpolation and
 * percent-escapes, whitespace ends a conninfo value).
 */

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner `-`, at most 253 characters. */
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split('.').every((l) => /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** A dotted-quad IPv4 address (each part 0-255, no leading zeros, which some parsers read as octal). */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address (RFC 4291 text form, an IPv4 tail allowed), without brackets or a zone index. */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const groups = halves.flatMap(groupsOf);
  let count = groups.length;
  const last = groups[groups.length - 1];
  // An IPv4 tail stands for the last two groups, and only at the very end.
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last) || !s.endsWith(last)) return false;
    groups.pop();
    count += 1;
  }
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** Whether `s` is a host name or an IPv4/IPv6 address. */
export function isHost(s: string): boolean {
  return isHostName(s) || isIPv4(s) || isIPv6(s);
}

/** `host` as the host part of a URI: an IPv6 address in brackets (RFC 3986 `IP-literal`). */
export function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The fix named when a host is refused. */
export const HOST_FIX = 'must be a DNS host name or an IP address alone (no scheme, port, path, user, "?", "%" or spaces), e.g. "db.example.com" or "10.0.0.5"';

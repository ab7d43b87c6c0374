/**
 * `text` as a literal in a container's command, args or env value: every `$` doubled. Kubernetes
 * expands `$(VAR)` there and turns `$$` into `$` (k8s.io/kubernetes third_party/forked/golang/
 * expansion/expand.go `Expand`), so the container receives exactly `text` — a `$(AWS_SECRET_ACCESS_KEY)`
 * inside a URL or a name the library writes is never replaced by the container's own secret.
 * The user's own command, args and env are not passed through this: `$(VAR)` there is theirs to use.
 */
export function kubeLiteral(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

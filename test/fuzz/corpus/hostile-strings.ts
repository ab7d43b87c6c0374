// The adversarial corpus: strings built to break each grammar a prop reaches — YAML and JSON documents,
// Argo's `{{…}}` templates and `{{=…}}` expressions, Kubernetes `$(VAR)` expansion, Katib's
// `${trialParameters.x}`, shells (quotes, backticks, `$(…)`, `;`, `&&`, globbing), Python source,
// configparser's `%(…)s` interpolation, SQL quoting, URI delimiters, Unicode line separators (U+0085,
// U+2028, U+2029), NUL and other controls, and very long values. Each family is crossed with a few
// benign prefixes so that a value also looks plausible to a check that only tests the first characters.

/** One corpus entry: the string and the grammar it targets. */
export interface HostileString {
  readonly family: string;
  readonly value: string;
}

const yaml = [
  '"', "'", '"\n', "'\n", 'a: b', 'a:\n  b: c', '- x', '- a\n- b', '"\nenvFrom:\n- secretRef:\n    name: admin', "'\nkind: Secret\n",
  '---\nkind: Secret', '...', '{a: 1}', '[1, 2]', '&anchor x', '*anchor', '!!binary aGk=', '!!python/object:os.system', '? complex', '|\n  block',
  '>-\n  folded', '#comment', 'a # comment', 'yes', 'no', 'on', 'off', 'null', '~', '0x1F', '1e3', '012', '.inf', '<<: *a', 'key: &a [*a]',
  '\tindented', '  leading', 'trailing  ', '%YAML 1.1', '@at', '`tick', ': colon-first', 'a: "b\\"', 'x\r\ny: z',
];

const json = [
  '"}', '"]', '\\', '\\"', '","injected":"x', '"},{"kind":"Secret', '{"a":1}', '[{"a":1}]', '\\u0000', '\\ud800', '"\n}', '}{', ']]>', '</script>',
  '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}',
];

const argo = [
  '{{workflow.parameters.x}}', '{{inputs.parameters.secret}}', '{{=sprig.env("HOME")}}', '{{= 1 + 1 }}', '{{workflow.name}}', '{{', '}}', '{{}}', '{{ }}',
  '{{steps.a.outputs.result}}', '{{tasks.train.outputs.parameters.p}}', '{{workflow.serviceAccountName}}', '{{=jsonpath(inputs.parameters.j, "$.a")}}',
  '{{item}}', '{{item.a}}', '{{pod.name}}', '{{retries}}', '{{workflow.outputs.artifacts.a}}', 'a{{b}}c', '{{{x}}}', '{{=toJson(workflow)}}',
];

const katib = ['${trialParameters.lr}', '${trialSpec.Name}', '${trialParameters.x}"', '${', '$', '${{x}}'];

const kube = ['$(HOME)', '$(POD_NAME)', '$(AWS_SECRET_ACCESS_KEY)', '$(MLFLOW_TRACKING_PASSWORD)', '$$(X)', '$$', '$(', '$)', '$(X', '$()', '$(a)$(b)', '$$$(X)'];

const shell = [
  '`id`', '$(id)', '$(rm -rf /)', '; id', '&& id', '|| id', '| id', '& id', '\nid\n', 'a;b', "'; id; '", '"; id; "', '$IFS', '${IFS}', '${HOME}', '$HOME',
  '*', '?', '[a-z]', '~root', '-rf', '--help', '-', '--', '--output=/etc/passwd', '>/tmp/x', '</etc/passwd', '2>&1', '!!', '#', '\\', "\\'", 'a b',
  '$\'\\x41\'', 'eval x', 'exec sh', '(subshell)', '{ a; }', '\'"\'"\'',
];

const python = [
  '"""', "'''", '\'); import os; os.system("id"); (\'', '__import__("os").system("id")', 'f"{__import__(\'os\')}"', '{0.__class__}', '\\N{BULLET}',
  'raise SystemExit', '# coding: latin-1', '\\x00', 'lambda: 0', "r'\\'",
];

const ini = ['%(admin_password)s', '%', '%%', '%(', '%s', '%d', '%(here)s', '[section]', '\n[app:main]\nkey = value', 'a = b', 'a: b\n[x]', ';comment', '%{x}'];

const sql = ["'", "''", "' OR '1'='1", "'; DROP TABLE runs; --", '"; DROP TABLE runs; --', '\\\'', 'a\'b', '$$', '$tag$x$tag$', '/* c */', '--', 'E\'\\x41\'', 'U&"\\0041"'];

const url = [
  '?sslmode=disable', '&sslmode=disable', '#frag', '@evil.example.com', 'user:pass@host', 'host:5432/db?x=1', '//evil.example.com', '/../../etc', '..',
  '../', './', '%2e%2e%2f', '%00', '%0d%0a', 'a/b', '\\\\server\\share', 'http://169.254.169.254/latest/meta-data/', 'file:///etc/passwd', 'javascript:alert(1)',
  'h ost', '[::1]', '127.0.0.1', 'a..b', '*', '**', 'a*', '?', 'gs://x', 's3://bucket/*', 'models:/m/*', 'runs:/*/model', 'https://x/?a=%(b)s',
];

const unicode = [
  '\u0085', 'a\u0085b', '\u2028', 'a\u2028b', '\u2029', '\u00a0', '\u200b', '\ufeff', '\u202e', 'é', 'Ω', '日本', '🚀', '\ud800', '\udfff', 'a\u0085: b',
  '\u000b', '\u000c', 'a\u2029- x', 'ﬀ', 'İ', 'ǅ', '\u0130stanbul',
];

const controls = ['\u0000', 'a\u0000b', '\u0000--x', '\u0001', '\u0007', '\u001b[31m', '\u007f', '\r', '\n', '\r\n', '\t', '\u0008', 'a\rb'];

const shapes = ['', ' ', '  ', '0', '-1', '1e309', 'NaN', 'Infinity', 'true', 'false', 'undefined', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'latest', ':latest', 'x:latest', '@sha256:'];

const long = [
  'a'.repeat(64), 'a'.repeat(254), 'a'.repeat(4096), 'a'.repeat(65_537), 'x'.repeat(262_145), '"'.repeat(1000), '{{'.repeat(500), '$('.repeat(500),
  '\n'.repeat(1000), 'é'.repeat(3000), `${'a'.repeat(62)}-`, 'a.'.repeat(200),
];

const families: Record<string, readonly string[]> = { yaml, json, argo, katib, kube, shell, python, ini, sql, url, unicode, controls, shapes, long };

/** Prefixes that make a hostile suffix look like a plausible value. */
const PREFIXES = ['', 'train', 'ghcr.io/acme/img:1.0', 'db.example.com', 'models'];

function build(): HostileString[] {
  const out: HostileString[] = [];
  const seen = new Set<string>();
  const add = (family: string, value: string) => {
    if (seen.has(value)) return;
    seen.add(value);
    out.push({ family, value });
  };
  for (const [family, values] of Object.entries(families)) {
    for (const v of values) add(family, v);
    // Short values also behind each plausible prefix, and with a trailing suffix (so a `^…$` check with a lazy end sees them).
    for (const v of values.filter((x) => x.length < 80)) {
      for (const p of PREFIXES.slice(1)) add(family, p + v);
      add(family, `${v}x`);
    }
  }
  return out;
}

/** Every string of the corpus, deduplicated, with its family. */
export const HOSTILE_STRINGS: readonly HostileString[] = build();

/** The families of the corpus. */
export const HOSTILE_FAMILIES: readonly string[] = Object.keys(families);

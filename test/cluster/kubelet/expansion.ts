/**
 * Kubernetes' `$(VAR)` expansion, ported line for line from
 * k8s.io/kubernetes@v1.37.2 third_party/forked/golang/expansion/expand.go (`Expand`,
 * `tryReadVariableName`, `MappingFuncFor`): `$(NAME)` is replaced when NAME is defined, kept
 * as-is when it is not; `$$` is an escaped `$`; a `$` followed by anything else is copied with that
 * character; an unclosed `$(` is copied as-is.
 */

/** A lookup over several variable maps, first match wins; unknown names map to `$(NAME)` unchanged. */
export function mappingFuncFor(...context: ReadonlyArray<ReadonlyMap<string, string> | Readonly<Record<string, string>>>): (name: string) => string {
  return (input) => {
    for (const vars of context) {
      const val = vars instanceof Map ? vars.get(input) : (Object.prototype.hasOwnProperty.call(vars, input) ? (vars as Record<string, string>)[input] : undefined);
      if (val !== undefined) return val;
    }
    return `$(${input})`;
  };
}

/** `Expand(input, mapping)`. Works on UTF-16 code units where Go works on bytes: the delimiters are ASCII, so the result is the same. */
export function expand(input: string, mapping: (name: string) => string): string {
  let buf = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] === '$' && cursor + 1 < input.length) {
      buf += input.slice(checkpoint, cursor);
      const [read, isVar, advance] = tryReadVariableName(input.slice(cursor + 1));
      buf += isVar ? mapping(read) : read;
      cursor += advance;
      checkpoint = cursor + 1;
    }
  }
  return buf + input.slice(checkpoint);
}

function tryReadVariableName(input: string): [string, boolean, number] {
  // Go decodes one rune; a surrogate pair is one rune of two code units here.
  const r = input.codePointAt(0)!;
  const size = r > 0xffff ? 2 : 1;
  if (input[0] === '$') return [input.slice(0, size), false, size];
  if (input[0] === '(') {
    for (let i = 1; i < input.length; i++) {
      if (input[i] === ')') return [input.slice(1, i), true, i + 1];
    }
    return ['$(', false, 1];
  }
  return [`$${input.slice(0, size)}`, false, size];
}

// The TypeScript compiler API reports flags as bit sets.
/* eslint-disable no-bitwise */
// The props list, derived from the TypeScript declarations: every path to a leaf of the props of the
// constructs' constructors and public methods (MlPlatform, addGpuPool, addTenant, TrainingPipeline,
// addStep, TuningSweep, ModelEndpoint) and of the Pulumi components' args — through nested
// interfaces, arrays, records, unions, optional members and the static factories of value classes
// (`Exposure.gateway({...})`, `Dataset.fromDvc({...})`, `Size.parse('1Gi')`). A new prop shows up here
// without anyone adding it; the fuzz properties inject values at these paths.
import * as path from 'path';
import * as ts from 'typescript';
import type { Shape } from '../../src/core/prop-shapes';

/** One step of a path. */
export type Segment =
  | { readonly kind: 'prop'; readonly name: string; readonly optional: boolean }
  | { readonly kind: 'index' }
  | { readonly kind: 'key' }
  | { readonly kind: 'factory'; readonly cls: string; readonly method: string; readonly arg: number };

/** What a path ends in. `key` is the key of a record (itself a string the user writes). */
export type LeafKind = 'string' | 'literal' | 'key' | 'number' | 'boolean' | 'object' | 'opaque';

/** One derived path. */
export interface PropPath {
  /** Entry point: `MlPlatform` (constructor props), `MlPlatform.addGpuPool#1`, `pulumi.MlPlatform`, … */
  readonly entry: string;
  readonly segments: readonly Segment[];
  readonly leaf: LeafKind;
  /** For `literal`: the allowed values. */
  readonly literals?: readonly string[];
  /** The path as a type path: `steps[].env{}`, `exposure<Exposure.gateway#0>.host`. */
  readonly text: string;
}

/** An entry point of the derivation: a class whose constructor or method takes props. */
export interface Entry {
  /** Name the paths carry. */
  readonly name: string;
  /** Module (relative to the repository root) that exports the class. */
  readonly module: string;
  readonly cls: string;
  /** `constructor`, or a method name. */
  readonly member: string;
  /** Parameter index of the props. */
  readonly param: number;
}

/** Renders segments as a type path. */
export function segmentsText(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (s.kind === 'prop') out += (out ? '.' : '') + s.name;
    else if (s.kind === 'index') out += '[]';
    else if (s.kind === 'key') out += '{}';
    else out += `<${s.cls}.${s.method}#${s.arg}>`;
  }
  return out;
}

/** The repository root (this file is test/fuzz/prop-paths.ts). */
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Entry points found in the declarations: every exported class of `src/cdk8s` that extends
 * `Construct` (constructor props, and public methods named `add*` whose last parameter is an
 * options object) and every exported class of `src/pulumi` that extends `ComponentResource`
 * (constructor args).
 */
export function findEntries(program: ts.Program): Entry[] {
  const checker = program.getTypeChecker();
  const entries: Entry[] = [];
  for (const [module, base, prefix] of [['src/cdk8s/index.ts', 'Construct', ''], ['src/pulumi/index.ts', 'ComponentResource', 'pulumi.']] as const) {
    const sf = program.getSourceFile(path.join(ROOT, module));
    if (!sf) throw new Error(`prop-paths: ${module} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(sf)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & ts.SymbolFlags.Class)) continue;
      const decl = symbol.declarations?.find(ts.isClassDeclaration);
      if (!decl || !extendsNamed(checker, checker.getDeclaredTypeOfSymbol(symbol), base)) continue;
      const name = symbol.getName();
      const ctor = decl.members.find(ts.isConstructorDeclaration);
      const propsIndex = ctor ? ctor.parameters.length - (base === 'ComponentResource' ? 2 : 1) : -1;
      if (ctor && propsIndex >= 1) entries.push({ name: `${prefix}${name}`, module, cls: name, member: 'constructor', param: propsIndex });
      for (const m of decl.members) {
        if (!ts.isMethodDeclaration(m) || !m.name || !ts.isIdentifier(m.name) || !/^add[A-Z]/.test(m.name.text)) continue;
        if (m.modifiers?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword || x.kind === ts.SyntaxKind.StaticKeyword)) continue;
        const last = m.parameters.length - 1;
        if (last < 0) continue;
        const t = checker.getTypeAtLocation(m.parameters[last]);
        if (!(checker.getNonNullableType(t).flags & ts.TypeFlags.Object)) continue;
        entries.push({ name: `${prefix}${name}.${m.name.text}#${last}`, module, cls: name, member: m.name.text, param: last });
      }
    }
  }
  return entries;
}

function extendsNamed(checker: ts.TypeChecker, t: ts.Type, base: string): boolean {
  const seen = new Set<ts.Type>();
  const walk = (x: ts.Type): boolean => {
    if (seen.has(x)) return false;
    seen.add(x);
    if (x.symbol?.getName() === base) return true;
    return (x.isClassOrInterface() ? checker.getBaseTypes(x) : []).some(walk);
  };
  return walk(t);
}

/** Type names walked as opaque leaves: other constructs, the platform context, Pulumi resources and outputs. */
const OPAQUE = /^(Construct|MlPlatform|TrainingPipeline|TuningSweep|ModelEndpoint|PlatformContext|Promise|PromiseLike|Output|OutputInstance|Resource|CustomResource|ComponentResource|ProviderResource|Chart|App|Date|RegExp|Function|Map|Set)$/;

/** Derives every path of one entry point. */
export function derivePaths(program: ts.Program, entry: Entry, maxDepth = 14): PropPath[] {
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(path.join(ROOT, entry.module))!;
  const moduleSymbol = checker.getSymbolAtLocation(sf)!;
  const exported = checker.getExportsOfModule(moduleSymbol).find((s) => s.getName() === entry.cls)!;
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decl = symbol.declarations!.find(ts.isClassDeclaration)!;
  const member = entry.member === 'constructor'
    ? decl.members.find(ts.isConstructorDeclaration)!
    : decl.members.find((m) => ts.isMethodDeclaration(m) && ts.isIdentifier(m.name) && m.name.text === entry.member) as ts.MethodDeclaration;
  const root = checker.getTypeAtLocation(member.parameters[entry.param]);

  const out = new Map<string, PropPath>();
  const emit = (segments: Segment[], leaf: LeafKind, literals?: string[]) => {
    const text = segmentsText(segments);
    const key = `${text}|${leaf}`;
    const prev = out.get(key);
    if (prev && literals) {
      out.set(key, { ...prev, literals: [...new Set([...(prev.literals ?? []), ...literals])] });
    } else if (!prev) {
      out.set(key, { entry: entry.name, segments: [...segments], leaf, literals, text });
    }
  };

  const walk = (t: ts.Type, segments: Segment[], stack: ts.Type[]): void => {
    if (stack.length > maxDepth || stack.includes(t)) { emit(segments, 'opaque'); return; }
    if (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void | ts.TypeFlags.Never)) return;
    if (t.isUnion()) {
      const literals = t.types.filter((m) => m.isStringLiteral()).map((m) => (m as ts.StringLiteralType).value);
      if (literals.length) emit(segments, 'literal', literals);
      // `boolean` is the union true | false.
      if (t.types.some((m) => m.flags & ts.TypeFlags.BooleanLiteral)) emit(segments, 'boolean');
      for (const m of t.types) if (!m.isStringLiteral() && !(m.flags & ts.TypeFlags.BooleanLiteral)) walk(m, segments, stack);
      return;
    }
    if (t.isIntersection()) {
      // Walk the properties of the whole intersection as one object.
      walkObject(t, segments, [...stack, t]);
      return;
    }
    if (t.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) { emit(segments, 'string'); return; }
    if (t.isStringLiteral()) { emit(segments, 'literal', [t.value]); return; }
    if (t.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) { emit(segments, 'number'); return; }
    if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) { emit(segments, 'boolean'); return; }
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) { emit(segments, 'opaque'); return; }
    if (!(t.flags & ts.TypeFlags.Object)) { emit(segments, 'opaque'); return; }
    const name = (t.aliasSymbol ?? t.symbol)?.getName() ?? '';
    if (OPAQUE.test(name) || OPAQUE.test(t.symbol?.getName() ?? '')) { emit(segments, 'opaque'); return; }
    if (checker.isArrayType(t) || checker.isTupleType(t)) {
      const [element] = checker.getTypeArguments(t as ts.TypeReference);
      if (element) walk(element, [...segments, { kind: 'index' }], [...stack, t]);
      return;
    }
    if (t.getCallSignatures().length && !t.getProperties().length) return; // a function
    const cls = classOf(t);
    if (cls) { walkFactories(cls, segments, [...stack, t]); return; }
    walkObject(t, segments, [...stack, t]);
  };

  const walkObject = (t: ts.Type, segments: Segment[], stack: ts.Type[]): void => {
    const index = checker.getIndexInfosOfType(t).find((i) => i.keyType.flags & ts.TypeFlags.String);
    if (index) {
      emit([...segments, { kind: 'key' }], 'key');
      walk(index.type, [...segments, { kind: 'key' }], stack);
    }
    const props = checker.getPropertiesOfType(t).filter((p) => !p.getName().startsWith('__'));
    if (!index) emit(segments, 'object');
    for (const p of props) {
      const pdecl = p.valueDeclaration ?? p.declarations?.[0];
      if (pdecl && ts.getCombinedModifierFlags(pdecl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      if (pdecl && (ts.isMethodDeclaration(pdecl) || ts.isMethodSignature(pdecl))) continue;
      const pt = checker.getTypeOfSymbol(p);
      if (pt.getCallSignatures().length && !pt.getProperties().some((x) => !['apply', 'call', 'bind', 'toString', 'prototype', 'length', 'arguments', 'caller', 'name'].includes(x.getName()))) continue;
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
      walk(pt, [...segments, { kind: 'prop', name: p.getName(), optional }], stack);
    }
  };

  /** A class with static factories returning it (value classes built as `X.from(...)`): its symbol. */
  function classOf(t: ts.Type): ts.Symbol | undefined {
    const s = t.symbol;
    if (!s || !(s.flags & ts.SymbolFlags.Class)) return undefined;
    return s;
  }

  const walkFactories = (cls: ts.Symbol, segments: Segment[], stack: ts.Type[]): void => {
    const statics = checker.getTypeOfSymbol(cls);
    let found = false;
    for (const p of checker.getPropertiesOfType(statics)) {
      if (p.getName() === 'prototype') continue;
      const pdecl = p.valueDeclaration;
      if (!pdecl || !ts.isMethodDeclaration(pdecl)) continue;
      if (ts.getCombinedModifierFlags(pdecl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      for (const sig of checker.getTypeOfSymbol(p).getCallSignatures()) {
        const ret = checker.getReturnTypeOfSignature(sig);
        if (ret.symbol !== cls && !(ret.isUnion() && ret.types.some((r) => r.symbol === cls))) continue;
        found = true;
        sig.getParameters().forEach((param, i) => {
          const pt = checker.getTypeOfSymbol(param);
          walk(pt, [...segments, { kind: 'factory', cls: cls.getName(), method: p.getName(), arg: i }], stack);
        });
        if (sig.getParameters().length === 0) emit([...segments, { kind: 'factory', cls: cls.getName(), method: p.getName(), arg: -1 }], 'opaque');
      }
    }
    if (!found) emit(segments, 'opaque');
  };

  walk(root, [], []);
  return [...out.values()];
}

let cached: { entries: Entry[]; paths: PropPath[] } | undefined;

/** A program over the public entry points (src/cdk8s/index.ts, src/pulumi/index.ts), with the test tsconfig's options. */
export function publicProgram(): ts.Program {
  const configPath = path.join(ROOT, 'test', 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(configPath));
  return ts.createProgram([path.join(ROOT, 'src/cdk8s/index.ts'), path.join(ROOT, 'src/pulumi/index.ts')], { ...parsed.options, noEmit: true });
}

/** Every entry point and every path of each, derived once per process. */
export function allPropPaths(): { entries: Entry[]; paths: PropPath[] } {
  if (cached) return cached;
  const program = publicProgram();
  const entries = findEntries(program);
  cached = { entries, paths: entries.flatMap((e) => derivePaths(program, e)) };
  return cached;
}

/** A run-time shape, as src/core/prop-shapes.ts checks it (see {@link deriveShapes}). */
export type { Shape };

/**
 * The run-time shapes of the props of the cdk8s entry points: named interfaces once (by name), the
 * entry points' props as references to them. Classes are checked by `instanceof` (by name), other
 * constructs and the platform context are `any`.
 */
export function deriveShapes(
  program: ts.Program,
  entries: readonly Entry[],
): { roots: Record<string, Shape>; named: Record<string, Shape>; factories: Record<string, readonly (readonly [Shape, 0 | 1])[]> } {
  const checker = program.getTypeChecker();
  const named: Record<string, Shape> = {};
  const inProgress = new Set<string>();
  const classes = new Map<string, ts.Symbol>();

  const shapeOf = (t: ts.Type): Shape => {
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return 'any';
    if (t.isUnion()) {
      const members = t.types.filter((m) => !(m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)));
      const lits = members.filter((m) => m.isStringLiteral()).map((m) => (m as ts.StringLiteralType).value);
      const bools = members.some((m) => m.flags & ts.TypeFlags.BooleanLiteral);
      const rest = members.filter((m) => !m.isStringLiteral() && !(m.flags & ts.TypeFlags.BooleanLiteral)).map(shapeOf);
      const all: Shape[] = [...(lits.length ? [{ lit: [...new Set(lits)].sort() }] : []), ...(bools ? ['boolean' as const] : []), ...rest];
      if (all.includes('any')) return 'any';
      const unique = [...new Map(all.map((s) => [JSON.stringify(s), s])).values()];
      return unique.length === 1 ? unique[0] : { union: unique };
    }
    if (t.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) return 'string';
    if (t.isStringLiteral()) return { lit: [t.value] };
    if (t.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return 'number';
    if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return 'boolean';
    if (!(t.flags & ts.TypeFlags.Object)) return 'any';
    const name = t.symbol?.getName() ?? '';
    if (OPAQUE.test(name) || OPAQUE.test(t.aliasSymbol?.getName() ?? '')) return 'any';
    if (checker.isArrayType(t) || checker.isTupleType(t)) {
      const [element] = checker.getTypeArguments(t as ts.TypeReference);
      return { arr: element ? shapeOf(element) : 'any' };
    }
    if (t.symbol && t.symbol.flags & ts.SymbolFlags.Class) {
      classes.set(name, t.symbol);
      return { cls: name };
    }
    if (t.getCallSignatures().length && !t.getProperties().length) return 'any';
    const isNamed = t.symbol && t.symbol.flags & ts.SymbolFlags.Interface && !(t as ts.TypeReference).typeArguments?.length;
    if (isNamed) {
      if (!(name in named) && !inProgress.has(name)) {
        inProgress.add(name);
        named[name] = objectShape(t);
        inProgress.delete(name);
      }
      return { ref: name };
    }
    return objectShape(t);
  };

  const objectShape = (t: ts.Type): Shape => {
    const index = checker.getIndexInfosOfType(t).find((i) => i.keyType.flags & ts.TypeFlags.String);
    if (index) return { rec: shapeOf(index.type) };
    const obj: Record<string, readonly [Shape, 0 | 1]> = {};
    for (const p of checker.getPropertiesOfType(t)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (decl && (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl))) continue;
      if (decl && ts.getCombinedModifierFlags(decl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      obj[p.getName()] = [shapeOf(checker.getTypeOfSymbol(p)), p.flags & ts.SymbolFlags.Optional ? 1 : 0];
    }
    return { obj };
  };

  const roots: Record<string, Shape> = {};
  for (const entry of entries) {
    const sf = program.getSourceFile(path.join(ROOT, entry.module))!;
    const moduleSymbol = checker.getSymbolAtLocation(sf)!;
    const exported = checker.getExportsOfModule(moduleSymbol).find((s) => s.getName() === entry.cls)!;
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations!.find(ts.isClassDeclaration)!;
    const member = entry.member === 'constructor'
      ? decl.members.find(ts.isConstructorDeclaration)!
      : decl.members.find((m) => ts.isMethodDeclaration(m) && ts.isIdentifier(m.name) && m.name.text === entry.member) as ts.MethodDeclaration;
    roots[entry.name] = shapeOf(checker.getTypeAtLocation(member.parameters[entry.param]));
  }
  // The static factories of the value classes met (`ModelSource.registry(name, options)`): their parameters,
  // a list of [shape, optional], walked until no new class turns up.
  const factories: Record<string, readonly (readonly [Shape, 0 | 1])[]> = {};
  for (let done = 0; done < classes.size;) {
    const list = [...classes.entries()].slice(done);
    done += list.length;
    for (const [name, cls] of list) {
      for (const p of checker.getPropertiesOfType(checker.getTypeOfSymbol(cls))) {
        const decl = p.valueDeclaration;
        if (!decl || !ts.isMethodDeclaration(decl) || ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        const [sig] = checker.getTypeOfSymbol(p).getCallSignatures();
        const ret = checker.getReturnTypeOfSignature(sig);
        if (ret.symbol !== cls) continue;
        factories[`${name}.${p.getName()}`] = sig.getParameters().map((param) => {
          const pd = param.valueDeclaration as ts.ParameterDeclaration | undefined;
          const optional = pd && (pd.questionToken || pd.initializer) ? 1 : 0;
          return [shapeOf(checker.getTypeOfSymbol(param)), optional] as const;
        });
      }
    }
  }
  const sortedNamed = Object.fromEntries(Object.entries(named).sort(([a], [b]) => a.localeCompare(b)));
  const sortedFactories = Object.fromEntries(Object.entries(factories).sort(([a], [b]) => a.localeCompare(b)));
  return { roots, named: sortedNamed, factories: sortedFactories };
}

/** The text of src/core/prop-shapes-data.ts, generated from the declarations (`npx projen shapes`). */
export function shapesModuleText(): string {
  const program = publicProgram();
  const entries = findEntries(program).filter((e) => !e.name.startsWith('pulumi.'));
  const { roots, named, factories } = deriveShapes(program, entries);
  return [
    '// ~~ Generated from the TypeScript declarations by test/fuzz/prop-paths.ts (`npx projen shapes`); do not edit.',
    '/* eslint-disable */',
    '// The run-time shapes of the constructs\' props, checked by prop-shapes.ts before any other validation.',
    'import type { Shape } from \'./prop-shapes\';',
    '',
    '/** Props of each entry point (constructor props, `add*` options). */',
    `export const ROOT_SHAPES: Readonly<Record<string, Shape>> = ${JSON.stringify(roots)};`,
    '',
    '/** Named interfaces the shapes refer to. */',
    `export const NAMED_SHAPES: Readonly<Record<string, Shape>> = ${JSON.stringify(named)};`,
    '',
    '/** Parameters of the value classes\' static factories: [shape, optional]. */',
    `export const FACTORY_SHAPES: Readonly<Record<string, readonly (readonly [Shape, 0 | 1])[]>> = ${JSON.stringify(factories)};`,
    '',
  ].join('\n');
}

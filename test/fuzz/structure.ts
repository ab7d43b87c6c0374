// What the consuming engines do with the synthesized objects, reduced to what decides their
// structure: Argo's simple template substitution, Katib's trial-parameter replacement, the kubelet's
// `$(VAR)` expansion; embedded JSON and YAML documents parsed; shell and Python programs collected
// for one batched parse. Two syntheses (a benign and a hostile value at one prop) are compared with
// these applied: the same object tree, the same keys, the same number of substitutions, only leaves
// differing.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { expand } from '../cluster/kubelet/expansion';

/** Counters of the substitutions the engines performed on one synthesis. */
export interface Substitutions {
  /** `{{…}}` tags in Argo objects (each is resolved or fails the run). */
  argoTags: number;
  /** `$(NAME)` references the kubelet expands (NAME defined in the container's env). */
  kubeVars: number;
  /** `${trialParameters.x}` references Katib replaces. */
  katibRefs: number;
}

/** One synthesis with the engines' rules applied. */
export interface Engined {
  readonly objects: unknown[];
  readonly subs: Substitutions;
  /** Programs the pods run (`sh -c`, `python -c`, Argo script sources, `.sh`/`.py` ConfigMap keys). */
  readonly programs: readonly Program[];
}

/** A program a pod runs. */
export interface Program { readonly lang: 'sh' | 'py'; readonly text: string; readonly where: string }

const ARGO_KINDS = new Set(['Workflow', 'WorkflowTemplate', 'CronWorkflow', 'ClusterWorkflowTemplate']);
const ARGO_TAG = /\{\{/g;

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

function countIn(v: unknown, re: RegExp): number {
  let n = 0;
  mapStrings(v, (s) => { n += s.match(re)?.length ?? 0; return s; });
  return n;
}

/**
 * Argo's simple template substitution (argoproj/argo-workflows v4 util/template/simple_template.go:
 * `{{name}}` replaced from the map, unknown tags left for a later pass or failing the run): the
 * workflow parameters (`spec.arguments.parameters[].value`) everywhere, each template's input
 * parameters (`inputs.parameters[].value`/`default`) inside that template.
 */
function argoSubstitute(o: any): any {
  const spec = o.kind === 'CronWorkflow' ? o.spec?.workflowSpec : o.spec;
  if (!spec) return o;
  const global = new Map<string, string>();
  for (const p of spec.arguments?.parameters ?? []) if (p.value !== undefined) global.set(`workflow.parameters.${p.name}`, String(p.value));
  const sub = (s: string, local: Map<string, string>) => s.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (all, name: string) => local.get(name) ?? global.get(name) ?? all);
  const templates = (spec.templates ?? []).map((t: any) => {
    const local = new Map<string, string>();
    for (const p of t.inputs?.parameters ?? []) {
      const v = p.value ?? p.default;
      if (v !== undefined) local.set(`inputs.parameters.${p.name}`, String(v));
    }
    return mapStrings(t, (s) => sub(s, local));
  });
  const out = { ...o, spec: { ...o.spec } };
  const newSpec = { ...mapStrings({ ...spec, templates: [] }, (s) => sub(s, new Map())) as any, templates };
  if (o.kind === 'CronWorkflow') out.spec.workflowSpec = newSpec; else out.spec = newSpec;
  return out;
}

/**
 * Katib's trial template: the trialSpec is serialized to JSON and every `${trialParameters.<name>}`
 * is replaced by the assigned value as raw text, then parsed again (kubeflow/katib
 * pkg/controller.v1beta1/experiment/manifest/generator.go, `GetRunSpecWithHyperParameters`: strings.Replace
 * on the template text). Each categorical choice of the search space is substituted once; the result
 * must parse, and it is returned for the comparison.
 */
function katibSubstitute(o: any, problems: string[]): any {
  const tmpl = o.spec?.trialTemplate;
  if (!tmpl?.trialSpec) return o;
  const text = JSON.stringify(tmpl.trialSpec);
  const params = new Map<string, any>((o.spec.parameters ?? []).map((p: any) => [p.name, p]));
  const trials: unknown[] = [];
  for (const tp of tmpl.trialParameters ?? []) {
    const p = params.get(tp.reference);
    for (const choice of p?.feasibleSpace?.list ?? [p?.feasibleSpace?.min ?? '1']) {
      let t = text;
      for (const other of tmpl.trialParameters) t = t.split('${trialParameters.' + other.name + '}').join(other === tp ? String(choice) : '1');
      try {
        trials.push(JSON.parse(t));
      } catch (e) {
        problems.push(`Katib Experiment ${o.metadata?.name}: the trial template does not parse with ${tp.name}=${JSON.stringify(choice).slice(0, 60)}: ${(e as Error).message}`);
      }
    }
  }
  return { ...o, spec: { ...o.spec, trialTemplate: { ...tmpl, trials } } };
}

/** Pod specs (objects with `containers`) anywhere in `o`. */
function podSpecs(o: unknown, out: any[] = []): any[] {
  if (Array.isArray(o)) { for (const x of o) podSpecs(x, out); return out; }
  if (o && typeof o === 'object') {
    const r = o as any;
    if (Array.isArray(r.containers) && r.containers.every((c: any) => c && typeof c === 'object' && 'image' in c)) out.push(r);
    for (const x of Object.values(r)) podSpecs(x, out);
  }
  return out;
}

/**
 * The kubelet's `$(VAR)` expansion of command, args and env values (k8s.io/kubernetes
 * third_party/forked/golang/expansion/expand.go, ported in test/cluster/kubelet/expansion.ts): env
 * entries are expanded in order against the ones before them; command and args against all. Values
 * from Secrets and fields are stand-ins. Counts the references that were defined (expanded).
 */
function kubeExpand(spec: any, subs: Substitutions): void {
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const vars = new Map<string, string>();
    const mapping = (name: string) => {
      const v = vars.get(name);
      if (v === undefined) return `$(${name})`;
      subs.kubeVars++;
      return v;
    };
    const env = (c.env ?? []).map((e: any) => {
      const value = e.value !== undefined ? expand(String(e.value), mapping) : undefined;
      vars.set(e.name, value ?? `<from ${Object.keys(e.valueFrom ?? {})[0] ?? 'nothing'}>`);
      return value === undefined ? e : { ...e, value };
    });
    if (c.env) c.env = env;
    if (c.command) c.command = c.command.map((s: string) => expand(String(s), mapping));
    if (c.args) c.args = c.args.map((s: string) => expand(String(s), mapping));
  }
}

const SHELL = /(^|\/)(ba|da|a)?sh$/;
const PYTHON = /(^|\/)python[0-9.]*$/;

function programsOf(o: any, where: string, out: Program[]): void {
  for (const spec of podSpecs(o)) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const argv: string[] = [...(c.command ?? []), ...(c.args ?? [])].map(String);
      argv.forEach((a, i) => {
        if (a !== '-c' || i === 0 || i + 1 >= argv.length) return;
        const lang = SHELL.test(argv[i - 1]) ? 'sh' : PYTHON.test(argv[i - 1]) ? 'py' : undefined;
        if (lang) out.push({ lang, text: argv[i + 1], where: `${where} container ${c.name}` });
      });
    }
  }
  const visit = (v: any, at: string) => {
    if (Array.isArray(v)) { v.forEach((x, i) => visit(x, `${at}[${i}]`)); return; }
    if (!v || typeof v !== 'object') return;
    if (typeof v.source === 'string' && Array.isArray(v.command)) {
      const cmd = String(v.command[0] ?? '');
      if (SHELL.test(cmd)) out.push({ lang: 'sh', text: v.source, where: `${where} ${at}.source` });
      if (PYTHON.test(cmd)) out.push({ lang: 'py', text: v.source, where: `${where} ${at}.source` });
    }
    for (const [k, x] of Object.entries(v)) visit(x, `${at}.${k}`);
  };
  visit(o.spec, 'spec');
  if (o.kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (k.endsWith('.sh')) out.push({ lang: 'sh', text: String(v), where: `${where} data.${k}` });
      if (k.endsWith('.py')) out.push({ lang: 'py', text: String(v), where: `${where} data.${k}` });
    }
  }
}

/** Applies the engines' rules to synthesized objects (copies; the input is not changed). */
export function applyEngines(objects: readonly unknown[]): Engined & { problems: string[] } {
  const subs: Substitutions = { argoTags: 0, kubeVars: 0, katibRefs: 0 };
  const problems: string[] = [];
  const programs: Program[] = [];
  const out = objects.map((raw) => {
    let o = JSON.parse(JSON.stringify(raw));
    const where = `${o.kind} ${o.metadata?.name}`;
    if (ARGO_KINDS.has(o.kind)) {
      subs.argoTags += countIn(o.spec, ARGO_TAG);
      o = argoSubstitute(o);
    }
    if (o.kind === 'Experiment' && String(o.apiVersion).startsWith('kubeflow.org/')) {
      subs.katibRefs += countIn(o.spec?.trialTemplate?.trialSpec, /\$\{trialParameters\./g);
      o = katibSubstitute(o, problems);
    }
    for (const spec of podSpecs(o)) kubeExpand(spec, subs);
    programsOf(o, where, programs);
    return o;
  });
  return { objects: out, subs, programs, problems };
}

/** A string that holds a JSON or YAML document (an object or a list), parsed; undefined when it holds none. */
function embedded(s: string): { kind: 'json' | 'yaml'; doc: unknown } | undefined {
  const t = s.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      const doc = JSON.parse(t);
      if (doc && typeof doc === 'object') return { kind: 'json', doc };
    } catch { /* not JSON */ }
  }
  if (s.includes('\n') && /^[\s\S]*?:\s/.test(s)) {
    try {
      const docs = YAML.parseAllDocuments(s);
      if (docs.length === 1 && !docs[0].errors.length) {
        const doc = docs[0].toJS();
        if (doc && typeof doc === 'object') return { kind: 'yaml', doc };
      }
    } catch { /* not YAML */ }
  }
  return undefined;
}

function parseAs(kind: 'json' | 'yaml', s: string): unknown {
  if (kind === 'json') return JSON.parse(s.trim());
  const docs = YAML.parseAllDocuments(s, { version: '1.1' });
  if (docs.length !== 1) throw new Error(`${docs.length} YAML documents`);
  if (docs[0].errors.length) throw new Error(docs[0].errors[0].message);
  // The YAML 1.1 reading too: U+0085 and other line breaks of 1.1 must not fold a line.
  const v12 = YAML.parse(s);
  const v11 = docs[0].toJS();
  if (JSON.stringify(shape(v11)) !== JSON.stringify(shape(v12))) throw new Error('YAML 1.1 and 1.2 readers see different structures');
  return v12;
}

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

/**
 * Compares a benign and a hostile tree: same types, same array lengths, same keys; differing
 * strings that hold a JSON/YAML document in the benign tree must hold one of the same structure in
 * the hostile tree. Returns the differences (at most a few).
 */
export function compareTrees(a: unknown, b: unknown, at: string, problems: string[], keyRename?: { from: string; to: string }): void {
  if (problems.length > 4) return;
  const ta = Array.isArray(a) ? 'array' : a === null ? 'null' : typeof a;
  const tb = Array.isArray(b) ? 'array' : b === null ? 'null' : typeof b;
  if (ta !== tb) { problems.push(`${at}: ${ta} became ${tb}`); return; }
  if (ta === 'array') {
    const xa = a as unknown[];
    const xb = b as unknown[];
    if (xa.length !== xb.length) { problems.push(`${at}: ${xa.length} items became ${xb.length}`); return; }
    xa.forEach((x, i) => compareTrees(x, xb[i], `${at}[${i}]`, problems, keyRename));
    return;
  }
  if (ta === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    const added = kb.filter((k) => !ka.includes(k));
    const removed = ka.filter((k) => !kb.includes(k));
    // A key that is (or is made of) the injected value (a record key the user names — Helm values, input
    // names under a prefix): data, not structure.
    const renamed = (k: string) => (keyRename && k.includes(keyRename.from) ? k.split(keyRename.from).join(keyRename.to) : undefined);
    if (keyRename && removed.length > 0 && added.length === removed.length && removed.every((k) => added.includes(renamed(k) ?? ''))) {
      for (const k of removed) compareTrees((a as any)[k], (b as any)[renamed(k)!], `${at}.${renamed(k)}`, problems, keyRename);
      for (const k of ka.filter((x) => !removed.includes(x))) compareTrees((a as any)[k], (b as any)[k], `${at}.${k}`, problems, keyRename);
      return;
    }
    // A label set only when the value is a valid label value (the annotation beside it carries any value).
    if (keyRename && at.endsWith('.labels') && added.every((k) => String((b as any)[k]).includes(keyRename.to)) && removed.every((k) => String((a as any)[k]).includes(keyRename.from))) {
      for (const k of ka.filter((x) => kb.includes(x))) compareTrees((a as any)[k], (b as any)[k], `${at}.${k}`, problems, keyRename);
      return;
    }
    if (added.length || removed.length) {
      problems.push(`${at}: keys ${removed.length ? `-${JSON.stringify(removed.slice(0, 3))}` : ''}${added.length ? ` +${JSON.stringify(added.slice(0, 3))}` : ''}`);
      return;
    }
    for (const k of ka) compareTrees((a as any)[k], (b as any)[k], `${at}.${k}`, problems, keyRename);
    return;
  }
  if (ta === 'string' && a !== b) {
    const e = embedded(a as string);
    if (!e) return;
    let doc: unknown;
    try {
      doc = parseAs(e.kind, b as string);
    } catch (err) {
      problems.push(`${at}: the embedded ${e.kind.toUpperCase()} document no longer parses: ${String((err as Error).message).split('\n')[0]}`);
      return;
    }
    compareTrees(e.doc, doc, `${at}<${e.kind}>`, problems, keyRename);
  }
}

/** Compares two engined syntheses; `templated` lets the hostile one carry more Argo tags or Katib references (a prop that accepts references). */
export function compareEngined(benign: Engined, hostile: Engined, templated: boolean, keyRename?: { from: string; to: string }): string[] {
  const problems: string[] = [];
  if (benign.objects.length !== hostile.objects.length) return [`${benign.objects.length} objects became ${hostile.objects.length}`];
  benign.objects.forEach((o, i) => compareTrees(o, hostile.objects[i], `${(o as any).kind} ${(o as any).metadata?.name}`, problems, keyRename));
  if (hostile.subs.argoTags !== benign.subs.argoTags && !templated) problems.push(`Argo template tags: ${benign.subs.argoTags} became ${hostile.subs.argoTags} (a value reached a templated field)`);
  if (hostile.subs.kubeVars !== benign.subs.kubeVars) problems.push(`$(VAR) expansions by the kubelet: ${benign.subs.kubeVars} became ${hostile.subs.kubeVars}`);
  if (hostile.subs.katibRefs !== benign.subs.katibRefs && !templated) problems.push(`Katib trial-parameter references: ${benign.subs.katibRefs} became ${hostile.subs.katibRefs}`);
  return problems;
}

/**
 * Checks programs in batches: each distinct text once (by hash), all Python texts in one
 * `python3` process (`ast.parse`), all shell texts in one `sh` loop (`sh -n` per file).
 */
export class ProgramBatch {
  private readonly pending = new Map<string, Program>();
  private readonly verdicts = new Map<string, string | null>();
  /** Cases waiting on a program: hash → descriptions of the cases. */
  private readonly waiting = new Map<string, string[]>();
  public checked = 0;

  /** Queues `p` for checking, remembering `caseLabel` as a case that ran it. */
  public add(p: Program, caseLabel: string): void {
    const h = createHash('sha256').update(p.lang).update('\0').update(p.text).digest('hex');
    if (this.verdicts.get(h) === null) return; // parsed before
    (this.waiting.get(h) ?? this.waiting.set(h, []).get(h)!).push(caseLabel);
    if (!this.verdicts.has(h)) this.pending.set(h, p);
  }

  /** Parses what is pending; returns one line per program that does not parse, with the cases that produced it. */
  public flush(): string[] {
    if (this.pending.size) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-programs-'));
      try {
        const py = [...this.pending].filter(([, p]) => p.lang === 'py');
        const sh = [...this.pending].filter(([, p]) => p.lang === 'sh');
        for (const [h, p] of [...py, ...sh]) fs.writeFileSync(path.join(dir, `${h}.${p.lang}`), p.text);
        if (py.length) {
          const r = spawnSync('/usr/bin/python3', ['-c', [
            'import ast, sys, os',
            'for f in sys.argv[1:]:',
            '    try:',
            '        ast.parse(open(f, "rb").read(), f)',
            '    except (SyntaxError, ValueError) as e:',
            '        print(os.path.basename(f)[:-3] + "\\t" + repr(e).replace("\\n", " "))',
          ].join('\n'), ...py.map(([h]) => path.join(dir, `${h}.py`))], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
          this.record(r.stdout);
        }
        if (sh.length) {
          const r = spawnSync('/bin/sh', ['-c', 'for f in "$@"; do e=$(sh -n "$f" 2>&1) || printf "%s\\t%s\\n" "$(basename "$f" .sh)" "$(echo "$e" | tr "\\n" " ")"; done', 'sh',
            ...sh.map(([h]) => path.join(dir, `${h}.sh`))], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          this.record(r.stdout);
        }
        for (const h of this.pending.keys()) if (!this.verdicts.has(h)) this.verdicts.set(h, null);
        this.checked += this.pending.size;
        this.pending.clear();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const out: string[] = [];
    for (const [h, cases] of this.waiting) {
      const v = this.verdicts.get(h);
      if (v) out.push(`program does not parse (${v}); produced by ${cases.length} case(s), e.g. ${cases[0]}`);
    }
    this.waiting.clear();
    return out;
  }

  private record(stdout: string): void {
    for (const line of stdout.split('\n').filter(Boolean)) {
      const [h, ...rest] = line.split('\t');
      this.verdicts.set(h, rest.join('\t'));
    }
  }
}

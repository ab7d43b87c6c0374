import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** What `mermaid.parse` said about one diagram. */
export type MermaidResult =
  | {
    readonly ok: true;
    readonly diagramType: string;
    /**
     * The text of every node, edge and subgraph label as Mermaid shows it (entity codes decoded the way
     * it renders them), one entry per `<br/>` line.
     */
    readonly labels: readonly string[];
  }
  | { readonly ok: false; readonly error: string };

// mermaid is ESM-only and needs a DOM (DOMPurify hooks) even to parse: run it in a child Node process with
// jsdom's window as the global, and parse every diagram given on stdin (a JSON array of strings).
const SCRIPT = `
import { JSDOM } from 'jsdom';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    const r = await mermaid.parse(text);
    const d = await mermaid.mermaidAPI.getDiagramFromText(text);
    const vertices = d.db.getVertices();
    const raw = [
      ...[...(vertices instanceof Map ? vertices.values() : Object.values(vertices))].map((v) => v.text),
      ...d.db.getEdges().map((e) => e.text),
      ...d.db.getSubGraphs().map((g) => g.title),
    ];
    // Mermaid keeps entity codes as placeholders and turns them into HTML entities when it renders.
    const shown = (s) => {
      const t = document.createElement('textarea');
      t.innerHTML = s.replace(/ﬂ°°/g, '&#').replace(/ﬂ°/g, '&').replace(/¶ß/g, ';');
      return t.value;
    };
    out.push({ ok: true, diagramType: r.diagramType, labels: raw.filter((x) => x).flatMap((x) => String(x).split('<br/>').flatMap((y) => y.split('<br>'))).map(shown) });
  } catch (e) {
    out.push({ ok: false, error: String(e && e.message || e) });
  }
}
process.stdout.write(JSON.stringify(out));
`;

/**
 * Parses Mermaid diagrams with the real parser (`mermaid.parse` of the `mermaid` package, under jsdom),
 * all in one child process. Each result says whether Mermaid accepts the text, and its diagram type.
 */
export function parseMermaid(texts: readonly string[]): MermaidResult[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: path.resolve(__dirname, '..', '..'),
    input: JSON.stringify(texts),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out) as MermaidResult[];
}

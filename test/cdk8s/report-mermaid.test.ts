import { Testing } from 'cdk8s';
import { buildExample } from '../../examples/cdk8s-platform/platform';
import { DiagramInput, mermaidText, renderMermaid } from '../../src/cdk8s/private/report-mermaid';
import { platformReport } from '../../src/cdk8s/report';
import { buildFixture } from '../testing/fixture';
import { parseMermaid } from '../testing/mermaid';

// Names a user could give a version, an experiment or a custom pool, with everything Mermaid reads as syntax.
const HOSTILE = ['say "hi"', 'a[0]', 'b]) --> x[', 'team@acme', '100% "done"', '#quot; #35;', 'pipe|x', '<b>bold</b>', 'semi;colon', 'back`tick`', '{curly}', 'end', 'graph', 'line\nbreak', 'ünïcode ×', "it's", 'back\\slash'];

function hostileDiagram(): DiagramInput {
  return {
    pools: HOSTILE.slice(0, 3).map((name, i) => ({ platform: 'p', name, accelerator: HOSTILE[i + 3], instanceType: HOSTILE[i + 6], minNodes: 0, maxNodes: 2, perNode: 1 })),
    tenants: [{ platform: 'p', name: HOSTILE[4], namespace: HOSTILE[5], gpus: { [HOSTILE[0]]: 2, [HOSTILE[12]]: 1 } }],
    pipelines: [{
      name: HOSTILE[6],
      namespace: HOSTILE[5],
      schedule: HOSTILE[7],
      steps: HOSTILE.map((name, i) => ({
        name,
        dependencies: i === 0 ? [] : [HOSTILE[i - 1]],
        when: i % 3 === 0 ? HOSTILE[(i + 4) % HOSTILE.length] : undefined,
        nodes: 1 + (i % 2),
        gpus: i % 2,
        pool: HOSTILE[i % 3],
      })),
    }],
    sweeps: [{ name: HOSTILE[8], namespace: HOSTILE[11], workers: 3, trials: 9, gpusPerTrial: 1, pool: HOSTILE[1] }],
    endpoints: [{
      name: HOSTILE[9],
      namespace: HOSTILE[5],
      stable: HOSTILE[10],
      backends: [{ name: HOSTILE[10], weight: 75 }, { name: HOSTILE[11], weight: 25 }],
      mirrors: [{ name: HOSTILE[12], percent: 12.5 }],
      versions: [HOSTILE[10], HOSTILE[11], HOSTILE[12]].map((name, i) => ({ name, gpus: i, pool: HOSTILE[2], replicas: { min: 1, max: 1 + i } })),
    }],
  };
}

describe('the Mermaid diagram, checked with the mermaid parser (mermaid.parse under jsdom)', () => {
  const fixture = platformReport(buildFixture().app);
  const example = platformReport(buildExample(Testing.app()).chart);
  const hostile = renderMermaid(hostileDiagram());
  // The same diagram without escaping: proves the parser rejects what the escaping prevents.
  const naive = hostile.replace(/"([^"]*)"/g, (_, inner: string) => `"${inner.replace(/#quot;/g, '"').replace(/#(\d+);/g, (__, c: string) => String.fromCharCode(Number(c)))}"`);
  const results = parseMermaid([fixture.mermaid, example.mermaid, hostile, naive, 'flowchart LR\n  a["x"y"] --> b\n']);

  test('the report embeds exactly the diagram it returns, in a mermaid code fence', () => {
    expect(fixture.markdown).toContain('```mermaid\n' + fixture.mermaid.trimEnd() + '\n```\n');
  });

  test('the fixture report and the README example report parse as flowcharts', () => {
    expect(results[0]).toMatchObject({ ok: true, diagramType: 'flowchart-v2' });
    expect(results[1]).toMatchObject({ ok: true, diagramType: 'flowchart-v2' });
  });

  test('names with quotes, brackets, @, %, #, |, <, ;, backticks, newlines and Mermaid keywords parse, and show as given', () => {
    const r = results[2];
    expect(r).toMatchObject({ ok: true, diagramType: 'flowchart-v2' });
    const labels = r.ok ? r.labels : [];
    for (const name of HOSTILE) {
      const shown = name.replace(/\n/g, ' ');
      expect([name, labels.filter((l) => l.includes(shown)).length > 0]).toEqual([name, true]);
    }
    expect(labels).toContain('pool say "hi"');
    expect(labels).toContain('sweep semi;colon');
    expect(labels).toContain('mirror 12.5%');
  });

  test('the parser is a real check: the unescaped diagram and a stray quote are rejected', () => {
    expect(results[3].ok).toBe(false);
    expect(results[4]).toMatchObject({ ok: false, error: expect.stringMatching(/Parse error on line 2/) });
  });

  test('mermaidText turns syntax characters into entity codes and keeps plain and non-ASCII text', () => {
    expect(mermaidText('say "hi"')).toBe('say #quot;hi#quot;');
    expect(mermaidText('a[0] @b 100% #x')).toBe('a#91;0#93; #64;b 100#37; #35;x');
    expect(mermaidText('p|q;r<s>`t`{u}')).toBe('p#124;q#59;r#60;s#62;#96;t#96;#123;u#125;');
    expect(mermaidText('line\nbreak')).toBe('line break');
    expect(mermaidText('resnet-50 v2.1 (a10g) ünïcode ×')).toBe('resnet-50 v2.1 (a10g) ünïcode ×');
  });

  test('the diagram shows the DAG, the traffic split and the GPUs each unit takes on its pool', () => {
    const m = fixture.mermaid;
    expect(m).toMatch(/^flowchart LR\n/);
    expect(m).toContain('step5["prep"]');
    expect(m).toContain('step6["fit<br/>1 GPU"]');
    expect(m).toContain('step5 --> step6');
    expect(m).toContain('traffic9 -->|"80#37;"| version10');
    expect(m).toContain('traffic9 -->|"20#37;"| version11');
    expect(m).toContain('traffic9 -.->|"mirror 5#37;"| version12');
    expect(m).toContain('sweep7 -.->|"2 × 1 GPU"| pool1');
    expect(m).toContain('subgraph ns3["tenant team (namespace team)<br/>GPU quota: a10g 4, h100 16"]');
    expect(m).toContain('pool1["pool a10g<br/>nvidia-a10g (g5.2xlarge)<br/>1–4 nodes × 1"]');
    const shown = results[0].ok ? results[0].labels : [];
    expect(shown).toEqual(expect.arrayContaining(['80%', '20%', 'mirror 5%', 'tenant team (namespace team)', 'GPU quota: a10g 4, h100 16', '2 × 1 GPU']));
  });
});

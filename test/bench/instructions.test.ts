// The reading of callgrind's summary by `npm run bench:instructions` (the counts themselves need
// valgrind and minutes: they are the bench's business, not the suite's), and the child's two options it relies on.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { instructionPart, instructionsByPart, medianCounts, parseCallgrindSummary, subtractCounts } from '../../bench/instructions';

/** The tail of a real log of `valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes --log-file=…` (node, 100 workloads). */
const LOG = [
  '==7180== Callgrind, a call-graph generating cache profiler',
  '==7180== Command: node --single-threaded synth-child.js mlplatform 100',
  '==7180== ',
  '==7180== Events    : Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim',
  '==7180== Collected : 2066784150 564799771 302153952 18436735 9936277 2856756 67708 57503 505816 308266386 20049079 12751054 3957075',
  '==7180== ',
  '==7180== I   refs:      2,066,784,150',
  '==7180== I1  misses:       18,436,735',
].join('\n');

describe('bench:instructions', () => {
  test('reads the totals by event name: instructions, I1 misses, D1 read + write misses, last-level misses, mispredicted branches', () => {
    expect(parseCallgrindSummary(LOG)).toEqual({
      instructions: 2066784150,
      i1Misses: 18436735,
      d1Misses: 9936277 + 2856756,
      llMisses: 67708 + 57503 + 505816,
      mispredicts: 20049079 + 3957075,
    });
  });

  test('finds the events by name, in whatever order callgrind lists them', () => {
    const reordered = LOG
      .replace('Events    : Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim', 'Events    : Bim Bi Bcm Bc DLmw DLmr ILmr D1mw D1mr I1mr Dw Dr Ir')
      .replace('Collected : 2066784150 564799771 302153952 18436735 9936277 2856756 67708 57503 505816 308266386 20049079 12751054 3957075',
        'Collected : 3957075 12751054 20049079 308266386 505816 57503 67708 2856756 9936277 18436735 302153952 564799771 2066784150');
    expect(parseCallgrindSummary(reordered)).toEqual(parseCallgrindSummary(LOG));
  });

  test('refuses a log without the cache and branch simulation, or without totals', () => {
    const noSim = '==1== Events    : Ir\n==1== Collected : 123\n';
    expect(() => parseCallgrindSummary(noSim)).toThrow('callgrind collected no I1mr, D1mr, D1mw, ILmr, DLmr, DLmw, Bcm, Bim: run it with --cache-sim=yes --branch-sim=yes');
    expect(() => parseCallgrindSummary(LOG.split('\n').filter((l) => !l.includes('Collected')).join('\n'))).toThrow('no callgrind totals in the log');
    expect(() => parseCallgrindSummary('==1== Events    : Ir Bcm\n==1== Collected : 12\n')).toThrow('no callgrind totals in the log');
  });

  test('the synthesis is a synthesizing run less the run stopped once loaded, counter by counter', () => {
    const full = { instructions: 1950, i1Misses: 18, d1Misses: 12, llMisses: 1, mispredicts: 24 };
    const loaded = { instructions: 975, i1Misses: 6, d1Misses: 4, llMisses: 0.5, mispredicts: 10 };
    expect(subtractCounts(full, loaded)).toEqual({ instructions: 975, i1Misses: 12, d1Misses: 8, llMisses: 0.5, mispredicts: 14 });
  });

  test('several runs give the median of each counter', () => {
    const run = (n: number) => ({ instructions: n, i1Misses: 10 * n, d1Misses: n + 1, llMisses: 0, mispredicts: 100 - n });
    expect(medianCounts([run(3), run(1), run(2)])).toEqual(run(2));
    expect(medianCounts([run(4), run(2)])).toEqual(run(3));
    expect(() => medianCounts([])).toThrow('no runs');
  });

  test('charges functions to the collector, the compilers or running the code by their C++ names', () => {
    const parts: [string, string][] = [
      ['???:heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(v8::internal::FullHeapObjectSlot, v8::internal::HeapObject) [/usr/bin/node]', 'scavenges'],
      ['???:void v8::internal::MarkingVisitorBase<v8::internal::MainMarkingVisitor<v8::internal::MarkingState>, v8::internal::MarkingState>::ProcessStrongHeapObject [/usr/bin/node]', 'marking'],
      ['???:v8::internal::MarkCompactCollector::ProcessMarkingWorklist(unsigned long) [/usr/bin/node]', 'marking'],
      ['???:v8::internal::Sweeper::RawSweep(v8::internal::Page*) [/usr/bin/node]', 'marking'],
      ['???:v8::internal::Scanner::Next() [/usr/bin/node]', 'compilers'],
      ['???:v8::internal::interpreter::BytecodeArrayWriter::EmitBytecode(v8::internal::interpreter::BytecodeNode const*) [/usr/bin/node]', 'compilers'],
      ['???:v8::internal::compiler::GraphReducer::ReduceTop() [/usr/bin/node]', 'compilers'],
      ['???:Builtins_LoadIC [/usr/bin/node]', 'running'],
      ['./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]', 'running'],
      ["???:0x000000000d083040'2", 'running'],
      ['???:v8::internal::LookupIterator::State v8::internal::LookupIterator::LookupInRegularHolder<false>(v8::internal::Map) [/usr/bin/node]', 'running'],
    ];
    expect(parts.map(([fn]) => [fn, instructionPart(fn)])).toEqual(parts);
  });

  test('sums callgrind_annotate lines per part, the program totals left out', () => {
    const annotated = [
      'Ir                     ',
      '2,066,784,177 (100.0%)  PROGRAM TOTALS',
      'Ir                   file:function',
      '44,217,871 ( 2.14%)  ???:heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(x) [/usr/bin/node]',
      '39,127,242 ( 1.89%)  ./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]',
      '36,097,586 ( 1.75%)  ???:v8::internal::Scanner::Next() [/usr/bin/node]',
      '    1,000 ( 0.00%)  ???:v8::internal::IncrementalMarking::Step() [/usr/bin/node]',
      '   33,000 ( 0.00%)  ???:Builtins_LoadIC [/usr/bin/node]',
    ].join('\n');
    expect(instructionsByPart(annotated)).toEqual({ scavenges: 44217871, running: 39127242 + 33000, compilers: 36097586, marking: 1000 });
  });

  test('the bench child stops once loaded (--stop=loaded) and leaves the YAML out (--no-yaml)', () => {
    const child = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '..', '..', 'bench', 'synth-child.ts'), ...args], {
        encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', 'tsconfig.json') },
      });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const loaded = child('mlplatform', '2', '--stop=loaded');
    expect(Object.keys(loaded).sort()).toEqual(['fixtureMs', 'loadMs', 'mode', 'workloads']);
    expect(loaded.loadMs).toBeGreaterThan(0);
    const synthesized = child('mlplatform', '2', '--no-yaml');
    expect(synthesized.objects).toBeGreaterThan(100);
    expect([synthesized.yamlBytes, synthesized.synthMs > 0]).toEqual([0, true]);
  }, 60_000);
});

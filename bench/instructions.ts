// Reading callgrind's summary (valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes): the
// counters `npm run bench:instructions` compares (bench/instructions-main.ts).
import { median } from './stats';

/** Callgrind's event names: instructions; I1, D1 read and D1 write misses; last-level read and write misses; mispredicted conditional and indirect branches. */
export type CallgrindEvent = 'Ir' | 'I1mr' | 'D1mr' | 'D1mw' | 'ILmr' | 'DLmr' | 'DLmw' | 'Bcm' | 'Bim';

/** The counters reported, derived from callgrind's events. */
export interface CallgrindCounts {
  /** Instructions executed. */
  readonly instructions: number;
  /** Instruction fetches that missed the first-level instruction cache. */
  readonly i1Misses: number;
  /** Data reads and writes that missed the first-level data cache. */
  readonly d1Misses: number;
  /** Instruction fetches and data accesses that missed the last-level cache too. */
  readonly llMisses: number;
  /** Conditional and indirect branches the predictor model got wrong. */
  readonly mispredicts: number;
}

/** The counters in the order printed, with their column labels. */
export const COUNTERS: readonly { readonly key: keyof CallgrindCounts; readonly label: string }[] = [
  { key: 'instructions', label: 'instructions' },
  { key: 'i1Misses', label: 'I1 misses' },
  { key: 'd1Misses', label: 'D1 misses' },
  { key: 'llMisses', label: 'LL misses' },
  { key: 'mispredicts', label: 'mispredicted branches' },
];

const NEEDED: readonly CallgrindEvent[] = ['Ir', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw', 'Bcm', 'Bim'];

/**
 * The counters of one process from callgrind's log: its `Events :` line names the events, its
 * `Collected :` line gives their totals (all threads) in that order. Throws when the log lacks an
 * event (cache or branch simulation off) or has no totals (the run did not end).
 */
export function parseCallgrindSummary(log: string): CallgrindCounts {
  const line = (label: string) => log.split('\n').map((l) => l.replace(/^==\d+==\s*/, '')).find((l) => l.startsWith(label));
  const events = line('Events')?.split(':')[1]?.trim().split(/\s+/);
  const collected = line('Collected')?.split(':')[1]?.trim().split(/\s+/).map(Number);
  if (!events || !collected || events.length !== collected.length || collected.some((n) => !Number.isInteger(n))) {
    throw new Error('no callgrind totals in the log: the run did not finish, or this is not a callgrind log');
  }
  const missing = NEEDED.filter((e) => !events.includes(e));
  if (missing.length) throw new Error(`callgrind collected no ${missing.join(', ')}: run it with --cache-sim=yes --branch-sim=yes`);
  const v = (e: CallgrindEvent) => collected[events.indexOf(e)];
  return {
    instructions: v('Ir'),
    i1Misses: v('I1mr'),
    d1Misses: v('D1mr') + v('D1mw'),
    llMisses: v('ILmr') + v('DLmr') + v('DLmw'),
    mispredicts: v('Bcm') + v('Bim'),
  };
}

/** `a − b` per counter: a synthesizing run less the same process stopped once loaded. */
export function subtractCounts(a: CallgrindCounts, b: CallgrindCounts): CallgrindCounts {
  return {
    instructions: a.instructions - b.instructions,
    i1Misses: a.i1Misses - b.i1Misses,
    d1Misses: a.d1Misses - b.d1Misses,
    llMisses: a.llMisses - b.llMisses,
    mispredicts: a.mispredicts - b.mispredicts,
  };
}

/** The median of each counter over several runs (the mean of the middle two for an even number). */
export function medianCounts(runs: readonly CallgrindCounts[]): CallgrindCounts {
  if (runs.length === 0) throw new Error('no runs to take the median of');
  const m = (key: keyof CallgrindCounts) => median(runs.map((r) => r[key]));
  return { instructions: m('instructions'), i1Misses: m('i1Misses'), d1Misses: m('d1Misses'), llMisses: m('llMisses'), mispredicts: m('mispredicts') };
}

/** Where the instructions went, by the C++ function callgrind charges them to. */
export type InstructionPart = 'scavenges' | 'marking' | 'compilers' | 'running';

/** The parts in the order printed, with their labels. */
export const INSTRUCTION_PARTS: readonly { readonly key: InstructionPart; readonly label: string }[] = [
  { key: 'running', label: 'running the code (interpreter, baseline and optimized code, inline caches, runtime, builtins, allocation)' },
  { key: 'compilers', label: "V8's compilers (parsing, bytecode, Sparkplug, TurboFan)" },
  { key: 'scavenges', label: 'garbage collector: young-generation scavenges' },
  { key: 'marking', label: 'garbage collector: marking, sweeping and compacting the old generation' },
];

const SCAVENGE = /Scaveng|SemiSpace/;
const MARKING = /v8::internal::\S*(Mark|Sweep|Evacuat|Compact|LiveObject|RecordMigrated|WriteBarrier)/;
const COMPILERS = /v8::internal::(interpreter::|compiler::|baseline::|maglev::)|v8::internal::\S*(Parser|Scanner|PreParse|AstValueFactory|AstNodeFactory|Utf16CharacterStream|FuncNameInferrer|DeclarationScope|Scope::|Compiler::|Zone)/;

/** The part an instruction-charged function belongs to, by its name. */
export function instructionPart(fn: string): InstructionPart {
  if (SCAVENGE.test(fn)) return 'scavenges';
  if (MARKING.test(fn)) return 'marking';
  if (COMPILERS.test(fn)) return 'compilers';
  return 'running';
}

/**
 * Instructions per part from `callgrind_annotate --show=Ir --inclusive=no --threshold=100 <file>`
 * (one line per function: `1,234 ( 0.01%)  file:function [object]`); the program totals line is skipped.
 */
export function instructionsByPart(annotated: string): Record<InstructionPart, number> {
  const parts: Record<InstructionPart, number> = { running: 0, compilers: 0, scavenges: 0, marking: 0 };
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+)$/.exec(line);
    if (!m || m[2].startsWith('PROGRAM TOTALS')) continue;
    parts[instructionPart(m[2])] += Number(m[1].replace(/,/g, ''));
  }
  return parts;
}

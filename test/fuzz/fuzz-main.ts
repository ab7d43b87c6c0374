// `npm run fuzz [-- <runs>]`: property-based fuzzing of the four constructs at scale.
// Property 1: valid configurations synthesize objects that pass the strict validator and PSS
// restricted, deterministically. Property 2: one invalid field fails with a ValidationError naming it.
// Runs per property: the first argument, else $FUZZ_RUNS, else 10,000. $FUZZ_SEED fixes the seed.
import * as fc from 'fast-check';
import { mutation } from './arbitraries/mutations';
import { scenario } from './arbitraries/scenario';
import { checkHostile, checkWrong, hostileCase, REACHED, wrongCase } from './hostile-properties';
import { coverageKey } from './inject';
import { allPropPaths } from './prop-paths';
import { checkInvalid, checkValid, sharedValidator } from './properties';
import { ProgramBatch } from './structure';

const runs = Number(process.argv[2] ?? process.env.FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const only = process.env.FUZZ_PROPERTY; // 'valid' | 'invalid' | 'hostile' | 'wrong' to run one

// Capacity warnings of the checks are expected (pools smaller than the peaks); keep the output to figures.
console.warn = () => undefined;
const logError = console.error;
console.error = (...args: unknown[]) => { if (!String(args[0]).startsWith('[mlplatform] warning')) logError(...args); };

interface Tally { runs: number; failures: Map<string, number>; ms: number; objects: number; outcomes: Map<string, number> }

function run(name: string, arb: fc.Arbitrary<unknown>, check: (v: any) => string | undefined, afterBatch?: () => string[]): Tally {
  const t: Tally = { runs: 0, failures: new Map(), ms: 0, objects: 0, outcomes: new Map() };
  const start = Date.now();
  const batch = 250;
  for (let done = 0; done < runs; done += batch) {
    const n = Math.min(batch, runs - done);
    for (const [i, v] of fc.sample(arb, { numRuns: n, seed: seed + done }).entries()) {
      t.runs++;
      let problem: string | undefined;
      try {
        problem = check(v);
      } catch (e) {
        problem = `threw ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).split('\n').slice(0, 3).join(' | ')}`;
      }
      if (problem) {
        const key = problem.slice(0, 400);
        // A new kind of failure is printed at once, with what replays it.
        if (!t.failures.has(key)) process.stdout.write(`\n${name}: FAILURE (replay: fc.sample(arb, { numRuns: ${n}, seed: ${seed + done} })[${i}]): ${key}\n`);
        t.failures.set(key, (t.failures.get(key) ?? 0) + 1);
      }
    }
    for (const problem of afterBatch?.() ?? []) {
      const key = problem.slice(0, 400);
      if (!t.failures.has(key)) process.stdout.write(`\n${name}: FAILURE (seed ${seed + done}): ${key}\n`);
      t.failures.set(key, (t.failures.get(key) ?? 0) + 1);
    }
    process.stdout.write(`\r${name}: ${t.runs}/${runs} configurations, ${[...t.failures.values()].reduce((a, b) => a + b, 0)} failing, ${((Date.now() - start) / 1000).toFixed(0)} s`);
  }
  t.ms = Date.now() - start;
  process.stdout.write('\n');
  return t;
}

function report(name: string, t: Tally): number {
  const failed = [...t.failures.values()].reduce((a, b) => a + b, 0);
  console.log(`${name}: ${t.runs} configurations, ${t.runs - failed} passed, ${failed} failed, ${(t.ms / 1000).toFixed(1)} s (${(t.ms / t.runs).toFixed(1)} ms each)`);
  if (t.outcomes.size) console.log(`  outcomes: ${[...t.outcomes.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const [k, n] of [...t.failures.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${n}× ${k}`);
  return failed;
}

console.log(`fuzz: ${runs} configurations per property, seed ${seed} (FUZZ_SEED=${seed} to replay)`);
const start = Date.now();
sharedValidator();
let failed = 0;
if (!only || only === 'valid') {
  const t = run('property 1 (valid → strict-valid, PSS restricted, deterministic)', scenario(), (s) => {
    const problems = checkValid(s);
    return problems.length ? problems.slice(0, 3).join(' | ') : undefined;
  });
  failed += report('property 1', t);
}
if (!only || only === 'invalid') {
  const t = run('property 2 (one invalid field → ValidationError naming it)', mutation(scenario()), checkInvalid);
  failed += report('property 2', t);
}
if (!only || only === 'hostile') {
  const batch = new ProgramBatch();
  const outcomes = new Map<string, number>();
  const t = run('property A (hostile string at a derived path → named ValidationError or same structure)', hostileCase(), (c) => {
    const o = checkHostile(c, batch);
    outcomes.set(o.result, (outcomes.get(o.result) ?? 0) + 1);
    return o.problem;
  }, () => batch.flush());
  t.outcomes = outcomes;
  console.log(`  programs parsed (sh -n, Python ast), distinct: ${batch.checked}`);
  const derived = allPropPaths().paths.filter((p) => ['string', 'literal', 'key'].includes(p.leaf));
  const cdk8s = derived.filter((p) => !p.entry.startsWith('pulumi.'));
  const reached = cdk8s.filter((p) => REACHED.has(coverageKey(p)));
  const pulumi = derived.filter((p) => p.entry.startsWith('pulumi.'));
  const viaCdk8s = pulumi.filter((p) => REACHED.has(coverageKey(p)));
  console.log(`  derived string paths reached: ${reached.length}/${cdk8s.length} of the cdk8s entry points; ${viaCdk8s.length}/${pulumi.length} of the Pulumi args through the cdk8s props they extend`);
  if (process.env.FUZZ_LIST_UNREACHED) for (const p of cdk8s.filter((x) => !REACHED.has(coverageKey(x)))) console.log(`    unreached: ${p.entry} ${p.text}`);
  failed += report('property A', t);
}
if (!only || only === 'wrong') {
  const outcomes = new Map<string, number>();
  const t = run('property B (wrong JavaScript value at a derived path → ValidationError naming it, nothing else)', wrongCase(), (c) => {
    const o = checkWrong(c);
    outcomes.set(o.result, (outcomes.get(o.result) ?? 0) + 1);
    return o.problem;
  });
  t.outcomes = outcomes;
  failed += report('property B', t);
}
console.log(`total wall time ${((Date.now() - start) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;

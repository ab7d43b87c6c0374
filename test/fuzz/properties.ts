// The two fuzzing properties, shared by the jest suite (few runs) and `npm run fuzz` (many).
import { App, Chart, Testing, Yaml } from 'cdk8s';
import type { Mutation } from './arbitraries/mutations';
import { build, Scenario } from './arbitraries/scenario';
import { ValidationError } from '../../src/core';
import { schemasDir } from '../support/schemas';
import { createValidator, formatFindings, type Validator } from '../support/validate';

let validator: Validator | undefined;

/** One strict validator (schemas compiled once) with Pod Security "restricted", reused by every run. */
export function sharedValidator(): Validator {
  validator ??= createValidator({ schemaDirs: [schemasDir()], strict: true, pss: 'restricted', allowKinds: [] });
  return validator;
}

/**
 * Synthesizes a scenario in a fresh app as `app.synth()` does: the construct validations run first,
 * so the synth-time checks (schedulability, capacity, tenancy, data access) fail it on an error.
 * Returns its objects and their YAML.
 */
export function synthScenario(s: Scenario): { objects: any[]; yaml: string } {
  const app = new App({ outdir: '/dev/null' });
  const chart = new Chart(app, 'fuzz');
  build(chart, s);
  const objects = Testing.synth(chart);
  return { objects, yaml: Yaml.stringify(...objects) };
}

/**
 * Property 1: the scenario synthesizes objects that pass the strict validator and PSS restricted,
 * and two syntheses are byte-equal YAML. Returns the problems found (empty when it holds).
 */
export function checkValid(s: Scenario): string[] {
  const first = synthScenario(s);
  const report = sharedValidator().validateObjects(first.objects);
  const problems = formatFindings(report.errors);
  const second = synthScenario(s);
  if (second.yaml !== first.yaml) problems.push('two syntheses of the same configuration differ');
  return problems;
}

/** Whether an issue path names `field` (the field itself or a part of it). */
export function namesField(issuePath: string, field: string): boolean {
  return issuePath === field || issuePath.startsWith(`${field}.`) || issuePath.startsWith(`${field}[`);
}

/**
 * Property 2: the mutated scenario fails with a ValidationError one of whose issues names the
 * mutated field (and whose message quotes that path) — never another exception, never YAML.
 * Returns the problem found, or undefined when it holds.
 */
export function checkInvalid(m: Mutation): string | undefined {
  let yaml: string | undefined;
  try {
    yaml = synthScenario(m.scenario).yaml;
  } catch (e) {
    if (!(e instanceof ValidationError)) return `${m.construct} \`${m.path}\`: threw ${(e as Error)?.constructor?.name ?? typeof e} instead of a ValidationError: ${String((e as Error)?.message ?? e).split('\n').slice(0, 3).join(' | ')}`;
    const hit = e.issues.find((i) => namesField(i.path, m.path));
    if (!hit) return `${m.construct} \`${m.path}\`: ValidationError names other paths: ${e.issues.map((i) => i.path).join(', ')}`;
    if (!e.message.includes(`\`${hit.path}\``)) return `${m.construct} \`${m.path}\`: message does not quote the path`;
    return undefined;
  }
  return `${m.construct} \`${m.path}\` = ${JSON.stringify(m.value)}: synthesized ${yaml.length} bytes of YAML instead of failing`;
}

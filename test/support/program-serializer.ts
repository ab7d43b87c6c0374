/**
 * Jest snapshot serializer (jest config `snapshotSerializers`): a string equal to the text of a program the pods
 * run (src/programs/) is written as `<program NAME sha256:HEX>` instead of its 2,500–15,000 characters. The programs
 * have their own lint and tests (test/programs/); a snapshot pins which program, by name and digest.
 */
import { program, PROGRAM_NAMES, Program } from '../../src/cdk8s/private/programs';

let byText: Map<string, Program> | undefined;

function programs(): Map<string, Program> {
  byText ??= new Map(PROGRAM_NAMES.map((n) => [program(n).text, program(n)]));
  return byText;
}

/** The marker a snapshot shows for a program's text. */
export function programMarker(p: Program): string {
  return `<program ${p.name} sha256:${p.sha256}>`;
}

/** Whether a value is the text of a program. */
export function test(value: unknown): boolean {
  return typeof value === 'string' && programs().has(value);
}

/** The value's marker (called only for values `test` accepted). */
export function serialize(value: string): string {
  return programMarker(programs().get(value)!);
}
